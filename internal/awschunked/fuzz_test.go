package awschunked

import (
	"bytes"
	"io"
	"testing"
	"testing/iotest"
)

// FuzzReader feeds arbitrary bodies to the decoder: it must never panic,
// never yield more bytes than it was given, and decode the same way whether
// pulled (Reader, whole or one byte at a time) or pushed (Writer).
func FuzzReader(f *testing.F) {
	f.Add([]byte("0\r\n\r\n"))
	f.Add([]byte("5\r\nhello\r\n0\r\n\r\n"))
	f.Add(encode([]byte("hello, world"), encoding{chunkSize: 4, signature: signature64,
		trailers: []string{"x-amz-checksum-crc32:AAAAAA==", "x-amz-trailer-signature:" + signature64}}))
	f.Add(encode(bytes.Repeat([]byte{0xff}, 300), encoding{chunkSize: 100, trailers: []string{"x-amz-checksum-crc64nvme:AAAAAAAAAAA="}}))
	f.Add([]byte("fffffffffffffff\r\nab"))
	f.Add([]byte("2;chunk-signature=**\r\nab\r\n0;chunk-signature=**\r\n\r\n"))
	f.Fuzz(func(t *testing.T, body []byte) {
		r := NewReader(bytes.NewReader(body))
		whole, err := io.ReadAll(r)
		if len(whole) > len(body) {
			t.Fatalf("decoded %d bytes from %d", len(whole), len(body))
		}
		if err == nil {
			if !r.Done() || r.Verify(int64(len(whole))) != nil {
				t.Fatal("Reader ended without error but the body is not complete")
			}
		} else if r.Done() || r.Verify(int64(len(whole))) == nil {
			t.Fatalf("Reader failed (%v) but reports a complete body", err)
		}
		bytewise, err2 := io.ReadAll(NewReader(iotest.OneByteReader(bytes.NewReader(body))))
		pushed, err3 := decodeWithWriter(body, 3)
		if (err == nil) != (err2 == nil) || (err == nil) != (err3 == nil) {
			t.Fatalf("outcomes differ: whole %v, one byte at a time %v, Writer %v", err, err2, err3)
		}
		if err == nil && (!bytes.Equal(whole, bytewise) || !bytes.Equal(whole, pushed)) {
			t.Fatal("decoded bytes differ between read patterns")
		}
	})
}

// FuzzRoundTrip encodes arbitrary payloads the way SDKs do and checks they
// decode back to themselves.
func FuzzRoundTrip(f *testing.F) {
	f.Add([]byte("hello, world"), uint16(4), true, true)
	f.Add([]byte{}, uint16(1), false, false)
	f.Add(bytes.Repeat([]byte("\r\n0\r\n"), 100), uint16(7), false, true)
	f.Fuzz(func(t *testing.T, payload []byte, chunkSize uint16, signed, trailer bool) {
		enc := encoding{chunkSize: int(chunkSize)%8192 + 1}
		if signed {
			enc.signature = signature64
		}
		if trailer {
			enc.trailers = []string{"x-amz-checksum-crc32:" + crc32Base64(payload)}
		}
		got, err := decodeWithWriter(encode(payload, enc), int(chunkSize)%97+1)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, payload) {
			t.Fatalf("decoded %d bytes, encoded %d", len(got), len(payload))
		}
	})
}
