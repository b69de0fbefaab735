package compress

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// csv returns n bytes of text that compresses the way real CSV does.
func csv(n int) []byte {
	var b bytes.Buffer
	for i := 0; b.Len() < n; i++ {
		fmt.Fprintf(&b, "%d,sample-%d,chr%d,%d,%.3f,PASS\n", i, i%97, i%23, i*7919%1000003, float64(i%1000)/7)
	}
	return b.Bytes()[:n]
}

func writeSegment(t *testing.T, data []byte) (*os.File, int64) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "seg.lz4")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	n, err := Write(f, bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f, n
}

func TestRoundTripRanges(t *testing.T) {
	data := csv(3*FrameSize + 12345)
	f, stored := writeSegment(t, data)
	if ratio := float64(len(data)) / float64(stored); ratio < 2 {
		t.Errorf("CSV compressed only %.2fx, want >= 2x", ratio)
	}
	r, err := Open(f, int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	for _, span := range [][2]int{{0, 10}, {FrameSize - 5, FrameSize + 5}, {0, len(data)}, {len(data) - 1, len(data)}, {2*FrameSize + 7, 3*FrameSize + 100}} {
		got := make([]byte, span[1]-span[0])
		if _, err := r.ReadAt(got, int64(span[0])); err != nil {
			t.Fatalf("read %v: %v", span, err)
		}
		if !bytes.Equal(got, data[span[0]:span[1]]) {
			t.Fatalf("read %v: wrong bytes", span)
		}
	}
}

func TestEmptyAndSmall(t *testing.T) {
	for _, n := range []int{0, 1, 100} {
		data := csv(n)
		f, _ := writeSegment(t, data)
		r, err := Open(f, int64(n))
		if err != nil {
			t.Fatalf("size %d: %v", n, err)
		}
		got := make([]byte, n)
		if _, err := r.ReadAt(got, 0); err != nil && n > 0 {
			t.Fatalf("size %d: %v", n, err)
		}
		if !bytes.Equal(got, data) {
			t.Fatalf("size %d: wrong bytes", n)
		}
	}
}

func TestCorruptionIsDetected(t *testing.T) {
	data := csv(2 * FrameSize)
	f, stored := writeSegment(t, data)
	// Flip one byte inside the first frame's payload.
	b := make([]byte, 1)
	f.ReadAt(b, 100)
	b[0] ^= 0xff
	f.WriteAt(b, 100)
	r, err := Open(f, int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.ReadAt(make([]byte, 10), 0); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("flipped byte not detected: %v", err)
	}
	// Truncation breaks the footer.
	f.Truncate(stored - 3)
	if _, err := Open(f, int64(len(data))); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("truncation not detected: %v", err)
	}
}

func TestWorth(t *testing.T) {
	random := make([]byte, 64<<10)
	rand.Read(random)
	text := csv(64 << 10)
	cases := []struct {
		name, ct, ce, key string
		sample            []byte
		want              bool
	}{
		{"csv", "text/csv", "", "a/b.csv", text, true},
		{"json by trial", "application/octet-stream", "", "x", []byte(strings.Repeat(`{"k":"v","n":1}`, 5000)), true},
		{"random bytes", "application/octet-stream", "", "x.bin", random, false},
		{"jpeg type", "image/jpeg", "", "x", text, false},
		{"gz extension", "application/octet-stream", "", "logs/x.gz", text, false},
		{"parquet", "", "", "t/part-0.parquet", text, false},
		{"gzip encoding", "text/plain", "gzip", "x.txt", text, false},
		{"tiny", "text/plain", "", "x.txt", text[:100], false},
	}
	for _, tc := range cases {
		if got := Worth(tc.ct, tc.ce, tc.key, tc.sample); got != tc.want {
			t.Errorf("%s: Worth = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func FuzzOpen(f *testing.F) {
	f.Add([]byte("S3CZ"), int64(4))
	f.Fuzz(func(t *testing.T, data []byte, size int64) {
		path := filepath.Join(t.TempDir(), "x")
		os.WriteFile(path, data, 0o600)
		fh, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		defer fh.Close()
		if size < 0 || size > 1<<30 {
			return
		}
		r, err := Open(fh, size)
		if err != nil {
			return
		}
		r.ReadAt(make([]byte, min(size, 4096)), 0)
	})
}
