package awschunked

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"io"
	"strings"
	"testing"
)

// The example of AWS's "Signature Calculation: Transferring Payload in
// Multiple Chunks": 66560 bytes of 'a' in a 64 KiB and a 1 KiB chunk.
func TestDecodeAWSDocumentationExample(t *testing.T) {
	body := "10000;chunk-signature=ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648\r\n" +
		strings.Repeat("a", 65536) + "\r\n" +
		"400;chunk-signature=0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497\r\n" +
		strings.Repeat("a", 1024) + "\r\n" +
		"0;chunk-signature=b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9\r\n" +
		"\r\n"
	got, d, err := decodeWays(t, []byte(body))
	if err != nil {
		t.Fatal(err)
	}
	if want := strings.Repeat("a", 66560); string(got) != want {
		t.Fatalf("decoded %d bytes, want %d", len(got), len(want))
	}
	if err := d.Verify(66560); err != nil {
		t.Fatal(err)
	}
	if d.Trailers() != nil {
		t.Fatalf("trailers %v, want none", d.Trailers())
	}
}

func crc32Base64(b []byte) string {
	var sum [4]byte
	binary.BigEndian.PutUint32(sum[:], crc32.ChecksumIEEE(b))
	return base64.StdEncoding.EncodeToString(sum[:])
}

func TestDecodeVariants(t *testing.T) {
	payload := bytes.Repeat([]byte("0123456789abcdef\r\n"), 5000) // 90000 bytes, CRLFs inside data
	ecdsa := strings.Repeat("3045022100", 14) + "****"            // hex DER padded with '*' to 144
	tests := []struct {
		name string
		enc  encoding
	}{
		{"unsigned with crc32 trailer", encoding{chunkSize: 65536, trailers: []string{"x-amz-checksum-crc32:" + crc32Base64(payload)}}},
		{"signed", encoding{chunkSize: 65536, signature: signature64}},
		{"signed with signed trailer", encoding{chunkSize: 8192, signature: signature64, trailers: []string{
			"x-amz-checksum-crc32:" + crc32Base64(payload), "x-amz-trailer-signature:" + signature64}}},
		{"ecdsa signed", encoding{chunkSize: 65536, signature: ecdsa}},
		{"tiny chunks", encoding{chunkSize: 1}},
		{"one chunk", encoding{chunkSize: len(payload)}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, d, err := decodeWays(t, encode(payload, tc.enc))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, payload) {
				t.Fatalf("decoded %d bytes, want the %d of the payload", len(got), len(payload))
			}
			if err := d.Verify(int64(len(payload))); err != nil {
				t.Fatal(err)
			}
			if err := d.Verify(int64(len(payload)) - 1); !errors.Is(err, ErrLengthMismatch) {
				t.Fatalf("Verify of a wrong length: %v, want ErrLengthMismatch", err)
			}
			if len(tc.enc.trailers) > 0 && d.Trailers().Get("X-Amz-Checksum-Crc32") != crc32Base64(payload) {
				t.Fatalf("trailers %v", d.Trailers())
			}
		})
	}
}

func TestDecodeEmptyObject(t *testing.T) {
	for _, body := range []string{"0\r\n\r\n", "0;chunk-signature=" + signature64 + "\r\n\r\n", "0\r\nx-amz-checksum-crc32:AAAAAA==\r\n\r\n"} {
		got, d, err := decodeWays(t, []byte(body))
		if err != nil || len(got) != 0 || d.Verify(0) != nil {
			t.Errorf("%q: decoded %q, %v", body, got, err)
		}
	}
}

func TestDecodeRejectsMalformed(t *testing.T) {
	long := strings.Repeat("f", maxLineLength)
	var manyTrailers strings.Builder
	for i := range maxTrailers + 1 {
		manyTrailers.WriteString("x-amz-t" + string(rune('a'+i)) + ":1\r\n")
	}
	tests := []struct {
		name, body string
		want       error
	}{
		{"empty input", "", ErrIncomplete},
		{"not hex", "zz\r\nab\r\n0\r\n\r\n", ErrMalformed},
		{"negative size", "-1\r\n", ErrMalformed},
		{"size with space", " 2\r\nab\r\n0\r\n\r\n", ErrMalformed},
		{"size too many digits", "1000000000000000\r\n", ErrMalformed},
		{"huge size, short body", "fffffffffffffff\r\nab", ErrIncomplete},
		{"bare LF", "2\nab\r\n0\r\n\r\n", ErrMalformed},
		{"no size", "\r\nab\r\n", ErrMalformed},
		{"unknown extension", "2;foo=bar\r\nab\r\n0\r\n\r\n", ErrMalformed},
		{"empty signature", "2;chunk-signature=\r\nab\r\n0\r\n\r\n", ErrMalformed},
		{"bad signature byte", "2;chunk-signature=xyz\r\nab\r\n0\r\n\r\n", ErrMalformed},
		{"signature too long", "2;chunk-signature=" + strings.Repeat("a", maxSignatureLength+1) + "\r\nab\r\n0\r\n\r\n", ErrMalformed},
		{"mixed signing", "2;chunk-signature=" + signature64 + "\r\nab\r\n0\r\n\r\n", ErrMalformed},
		{"data longer than size", "2\r\nabc\r\n0\r\n\r\n", ErrMalformed},
		{"data shorter than size", "4\r\nab\r\n0\r\n\r\n", ErrMalformed},
		{"data not followed by CRLF", "2\r\nab0\r\n\r\n", ErrMalformed},
		{"truncated in data", "4\r\nab", ErrIncomplete},
		{"truncated after data", "2\r\nab\r\n", ErrIncomplete},
		{"no final empty line", "2\r\nab\r\n0\r\n", ErrIncomplete},
		{"trailer without colon", "0\r\nx-amz-checksum-crc32\r\n\r\n", ErrMalformed},
		{"trailer empty name", "0\r\n:x\r\n\r\n", ErrMalformed},
		{"trailer bad name", "0\r\nx amz:x\r\n\r\n", ErrMalformed},
		{"trailer control byte", "0\r\nx-a:\x01\r\n\r\n", ErrMalformed},
		{"trailer repeated", "0\r\nx-a:1\r\nX-A:2\r\n\r\n", ErrMalformed},
		{"too many trailers", "0\r\n" + manyTrailers.String() + "\r\n", ErrMalformed},
		{"line too long", long + "\r\n", ErrMalformed},
		{"line too long without LF", long + long, ErrMalformed},
		{"bytes after the end", "2\r\nab\r\n0\r\n\r\nX", ErrMalformed},
		{"second body after the end", "0\r\n\r\n0\r\n\r\n", ErrMalformed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, d, err := decodeWays(t, []byte(tc.body))
			if !errors.Is(err, tc.want) {
				t.Fatalf("error %v, want %v", err, tc.want)
			}
			if d.Verify(int64(len(got))) == nil || d.Done() || d.Trailers() != nil {
				t.Fatal("a rejected body verifies")
			}
			if len(got) > len(tc.body) {
				t.Fatalf("decoded %d bytes from %d", len(got), len(tc.body))
			}
		})
	}
}

// Every proper prefix of a valid body is incomplete, never accepted.
func TestDecodeRejectsEveryTruncation(t *testing.T) {
	body := encode([]byte("hello, world"), encoding{chunkSize: 5, signature: signature64,
		trailers: []string{"x-amz-checksum-crc32:AAAAAA==", "x-amz-trailer-signature:" + signature64}})
	for cut := range len(body) {
		got, err := decodeWithWriter(body[:cut], 3)
		if !errors.Is(err, ErrIncomplete) {
			t.Fatalf("cut at %d of %d: decoded %q, error %v, want ErrIncomplete", cut, len(body), got, err)
		}
	}
}

func TestReaderReportsSourceError(t *testing.T) {
	boom := errors.New("connection reset")
	r := NewReader(io.MultiReader(strings.NewReader("5\r\nab"), errReader{boom}))
	_, err := io.ReadAll(r)
	if !errors.Is(err, boom) {
		t.Fatalf("error %v, want the source's", err)
	}
	if r.Verify(2) == nil {
		t.Fatal("a failed body verifies")
	}
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

func TestWriterReportsDestinationError(t *testing.T) {
	boom := errors.New("disk full")
	w := NewWriter(failWriter{boom})
	if _, err := w.Write([]byte("2\r\nab\r\n0\r\n\r\n")); !errors.Is(err, boom) {
		t.Fatalf("Write error %v, want the destination's", err)
	}
	if err := w.Close(); !errors.Is(err, boom) {
		t.Fatalf("Close error %v, want the destination's", err)
	}
}

type failWriter struct{ err error }

func (f failWriter) Write([]byte) (int, error) { return 0, f.err }

// A source that keeps returning nothing is given up on, not spun on forever.
func TestReaderStopsOnSourceWithoutProgress(t *testing.T) {
	_, err := NewReader(emptyReader{}).Read(make([]byte, 10))
	if !errors.Is(err, io.ErrNoProgress) {
		t.Fatalf("error %v, want io.ErrNoProgress", err)
	}
}

type emptyReader struct{}

func (emptyReader) Read([]byte) (int, error) { return 0, nil }
