package tunnel

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/s3cache/s3cache/internal/policy"
)

func TestParseRealClientHellos(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  *tls.Config
		want string
	}{
		{"default", &tls.Config{ServerName: "bucket.s3.us-east-1.amazonaws.com"}, "bucket.s3.us-east-1.amazonaws.com"},
		{"tls12 only", &tls.Config{ServerName: "s3.amazonaws.com", MaxVersion: tls.VersionTLS12}, "s3.amazonaws.com"},
		{"tls13 only", &tls.Config{ServerName: "s3.amazonaws.com", MinVersion: tls.VersionTLS13}, "s3.amazonaws.com"},
		{"upper case", &tls.Config{ServerName: "My-Bucket.S3.AmazonAWS.com"}, "my-bucket.s3.amazonaws.com"},
		{"trailing dot", &tls.Config{ServerName: "s3.amazonaws.com."}, "s3.amazonaws.com"},
		{"alpn h2", &tls.Config{ServerName: "s3.amazonaws.com", NextProtos: []string{"h2", "http/1.1"}}, "s3.amazonaws.com"},
		{"no SNI", &tls.Config{InsecureSkipVerify: true}, ""},
		{"IP server name sends no SNI", &tls.Config{ServerName: "127.0.0.1"}, ""},
		{"long name", &tls.Config{ServerName: strings.Repeat("a", 63) + "." + strings.Repeat("b", 63) + ".s3.amazonaws.com"},
			strings.Repeat("a", 63) + "." + strings.Repeat("b", 63) + ".s3.amazonaws.com"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hello := captureClientHello(t, tc.cfg)
			got, err := ParseClientHello(hello)
			if err != nil || got != tc.want {
				t.Fatalf("ParseClientHello = %q, %v; want %q", got, err, tc.want)
			}
			// Bytes after the ClientHello do not matter.
			got, err = ParseClientHello(append(hello, "trailing application bytes"...))
			if err != nil || got != tc.want {
				t.Fatalf("with trailing bytes: %q, %v", got, err)
			}
			// Every proper prefix asks for more.
			for n := 0; n < len(hello); n++ {
				if _, err := ParseClientHello(hello[:n]); !errors.Is(err, ErrIncomplete) {
					t.Fatalf("prefix of %d/%d bytes: %v, want ErrIncomplete", n, len(hello), err)
				}
			}
		})
	}
}

func TestParseClientHelloAcrossRecords(t *testing.T) {
	msg := recordsToMessage(captureClientHello(t, &tls.Config{ServerName: "bucket.s3.amazonaws.com"}))
	for _, size := range []int{1, 3, 4, 5, 100, 512, len(msg) - 1} {
		got, err := ParseClientHello(toRecords(msg, size))
		if err != nil || got != "bucket.s3.amazonaws.com" {
			t.Errorf("records of %d bytes: %q, %v", size, got, err)
		}
	}
}

func TestParseLargeClientHello(t *testing.T) {
	// A padded ClientHello larger than one record must be accepted...
	msg := buildClientHello(helloSpec{serverNames: []string{"big.s3.amazonaws.com"}, paddingBytes: 20 << 10})
	records := toRecords(msg, maxRecordPayload)
	if got, err := ParseClientHello(records); err != nil || got != "big.s3.amazonaws.com" {
		t.Fatalf("%d-byte ClientHello over %d bytes of records: %q, %v", len(msg), len(records), got, err)
	}
	// ...up to MaxClientHelloSize, and refused beyond it as soon as the
	// handshake header shows the length.
	huge := buildClientHello(helloSpec{serverNames: []string{"big.s3.amazonaws.com"}, paddingBytes: MaxClientHelloSize})
	if _, err := ParseClientHello(toRecords(huge, maxRecordPayload)[:64]); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("oversized ClientHello: %v, want ErrTooLarge", err)
	}
}

func TestParseClientHelloRejectsGarbage(t *testing.T) {
	valid := buildClientHello(helloSpec{serverNames: []string{"s3.amazonaws.com"}})
	withRecordLen := func(n int) []byte { return append([]byte{22, 3, 1, byte(n >> 8), byte(n)}, valid...) }
	corruptExtLen := toRecords(valid, 1000)
	corruptExtLen[recordHeaderLen+4+2+32+1+4+2] ^= 0xff // extensions length high byte

	for _, tc := range []struct {
		name  string
		input []byte
		want  error
	}{
		{"plain HTTP", []byte("GET / HTTP/1.1\r\nHost: s3.amazonaws.com\r\n\r\n"), ErrNotTLS},
		{"one HTTP byte", []byte("G"), ErrNotTLS},
		{"SSLv2 hello", []byte{0x80, 0x2e, 0x01, 0x03, 0x01}, ErrNotTLS},
		{"alert record", []byte{21, 3, 3, 0, 2, 2, 40}, ErrNotTLS},
		{"wrong major version", []byte{22, 2, 0, 0, 4}, ErrNotTLS},
		{"ServerHello", toRecords([]byte{2, 0, 0, 0}, 100), ErrNotTLS},
		{"empty record", withRecordLen(0), ErrMalformed},
		{"record too long", withRecordLen(maxRecordPayload + 1), ErrMalformed},
		{"alert inside hello", append(toRecords(valid[:10], 10), 21, 3, 3, 0, 2, 2, 40), ErrMalformed},
		{"body too short", toRecords([]byte{1, 0, 0, 3, 3, 3, 0}, 100), ErrMalformed},
		{"extensions length wrong", corruptExtLen, ErrMalformed},
		{"server_name twice", toRecords(buildClientHello(helloSpec{serverNames: []string{"a.example"}, sniTwice: true}), 1000), ErrMalformed},
		{"two host names", toRecords(buildClientHello(helloSpec{serverNames: []string{"a.example", "b.example"}}), 1000), ErrMalformed},
		{"empty name list", toRecords(buildClientHello(helloSpec{serverNames: []string{}}), 1000), ErrMalformed},
		{"bad host chars", toRecords(buildClientHello(helloSpec{serverNames: []string{"a b/../c"}}), 1000), ErrMalformed},
		{"IP literal", toRecords(buildClientHello(helloSpec{serverNames: []string{"169.254.169.254"}}), 1000), ErrMalformed},
		{"empty host", toRecords(buildClientHello(helloSpec{serverNames: []string{""}}), 1000), ErrMalformed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseClientHello(tc.input)
			if !errors.Is(err, tc.want) {
				t.Fatalf("ParseClientHello = %q, %v; want %v", got, err, tc.want)
			}
		})
	}
	if got, err := ParseClientHello(toRecords(buildClientHello(helloSpec{noExtensions: true}), 1000)); err != nil || got != "" {
		t.Fatalf("hello without extensions: %q, %v; want no SNI and no error", got, err)
	}
}

func TestPeekClientHelloReturnsEveryByteRead(t *testing.T) {
	records := toRecords(buildClientHello(helloSpec{serverNames: []string{"s3.amazonaws.com"}}), 7)
	sent := append(append([]byte(nil), records...), "early data"...)
	clientEnd, proxyEnd := net.Pipe()
	defer proxyEnd.Close()
	go func() {
		defer clientEnd.Close()
		for chunk := range slices.Chunk(sent, 5) { // dribble
			if _, err := clientEnd.Write(chunk); err != nil {
				return
			}
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	host, got, err := PeekClientHello(ctx, proxyEnd)
	if err != nil || host != "s3.amazonaws.com" {
		t.Fatalf("PeekClientHello = %q, %v", host, err)
	}
	rest, _ := io.ReadAll(proxyEnd)
	if !bytes.Equal(append(got, rest...), sent) {
		t.Fatalf("peeked %d + read %d bytes, not the %d sent", len(got), len(rest), len(sent))
	}
}

func TestPeekClientHelloTimesOut(t *testing.T) {
	clientEnd, proxyEnd := net.Pipe()
	defer clientEnd.Close()
	defer proxyEnd.Close()
	go func() { _, _ = clientEnd.Write([]byte{22, 3, 1}) }() // then silence
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, _, err := PeekClientHello(ctx, proxyEnd)
	if err == nil || !(errors.Is(err, os.ErrDeadlineExceeded) || errors.Is(err, context.DeadlineExceeded)) {
		t.Fatalf("PeekClientHello on a silent client: %v, want a deadline error", err)
	}
	if elapsed := time.Since(start); elapsed > 3*time.Second {
		t.Fatalf("took %v to time out", elapsed)
	}
}

func TestPeekClientHelloStopsOnEOF(t *testing.T) {
	clientEnd, proxyEnd := net.Pipe()
	defer proxyEnd.Close()
	go func() {
		_, _ = clientEnd.Write([]byte{22, 3, 1, 0, 50, 1})
		clientEnd.Close()
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, _, err := PeekClientHello(ctx, proxyEnd); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("PeekClientHello on a truncated hello: %v, want ErrUnexpectedEOF", err)
	}
}

func FuzzParseClientHello(f *testing.F) {
	for _, cfg := range []*tls.Config{
		{ServerName: "bucket.s3.amazonaws.com"},
		{ServerName: "s3.amazonaws.com", MaxVersion: tls.VersionTLS12},
		{InsecureSkipVerify: true},
	} {
		hello := captureClientHello(f, cfg)
		f.Add(hello)
		f.Add(toRecords(recordsToMessage(hello), 17))
	}
	f.Add(toRecords(buildClientHello(helloSpec{serverNames: []string{"a.example", "b.example"}}), 1000))
	f.Add(toRecords(buildClientHello(helloSpec{serverNames: []string{"x.example"}, paddingBytes: 300}), 100))
	f.Add(toRecords(buildClientHello(helloSpec{noExtensions: true}), 1000))
	f.Add([]byte("GET / HTTP/1.1\r\n\r\n"))
	f.Add([]byte{22, 3, 1, 0, 4, 1, 0, 0, 0})

	f.Fuzz(func(t *testing.T, data []byte) {
		host, err := ParseClientHello(data)
		if err != nil {
			if host != "" {
				t.Fatalf("error %v with host %q", err, host)
			}
			if !errors.Is(err, ErrIncomplete) && !errors.Is(err, ErrNotTLS) && !errors.Is(err, ErrTooLarge) && !errors.Is(err, ErrMalformed) {
				t.Fatalf("unclassified error %v", err)
			}
			return
		}
		if host != "" && (!policy.ValidHostname(host) || host != strings.ToLower(host)) {
			t.Fatalf("accepted host %q is not a lower-case host name", host)
		}
		again, err := ParseClientHello(append(append([]byte(nil), data...), 0xde, 0xad))
		if err != nil || again != host {
			t.Fatalf("trailing bytes changed the result: %q, %v vs %q", again, err, host)
		}
	})
}
