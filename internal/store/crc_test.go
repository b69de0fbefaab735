package store

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"testing"
	"time"
)

// A raw segment carries block checksums: a flipped byte fails exactly the
// block it is in, every other block still reads, and a sequential read of
// a good file returns the bytes written.
func TestCheckedRawSegmentFindsAFlippedByte(t *testing.T) {
	s := openTest(t)
	id := ObjectID{Bucket: "b", Key: "k"}
	body := make([]byte, 3*crcBlock+1234)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range body {
		body[i] = byte(rng.Uint32())
	}
	if err := fill(t, s, id, `"v"`, string(body), time.Now()); err != nil {
		t.Fatal(err)
	}
	e, err := s.Lookup(id)
	if err != nil || len(e.Segments) != 1 || !e.Segments[0].Checked || e.Segments[0].Compressed {
		t.Fatalf("lookup: %+v %v: want one checked raw segment", e, err)
	}
	seg := e.Segments[0]
	sf, err := s.OpenSegment(seg)
	if err != nil {
		t.Fatal(err)
	}
	if _, raw := sf.Raw(); raw {
		t.Error("a checked segment offered for sendfile: its reads would skip the checksums")
	}
	got, err := io.ReadAll(io.NewSectionReader(sf, 0, int64(len(body))))
	if err != nil || !bytes.Equal(got, body) {
		t.Fatalf("sequential read: %d bytes, %v", len(got), err)
	}
	var out bytes.Buffer
	if n, err := sf.WriteRangeTo(&out, 1000, int64(len(body))-2000); err != nil || !bytes.Equal(out.Bytes(), body[1000:len(body)-1000]) {
		t.Fatalf("WriteRangeTo: %d bytes, %v", n, err)
	}
	sf.Close()

	flip := int64(2*crcBlock + 77)
	f, err := os.OpenFile(seg.path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt([]byte{body[flip] ^ 0x01}, flip); err != nil {
		t.Fatal(err)
	}
	f.Close()
	sf, err = s.OpenSegment(seg)
	if err != nil {
		t.Fatal(err)
	}
	defer sf.Close()
	p := make([]byte, 100)
	if _, err := sf.ReadAt(p, flip-10); !errors.Is(err, ErrCorrupt) {
		t.Errorf("read across the flipped byte: %v, want ErrCorrupt", err)
	}
	out.Reset()
	if n, err := sf.WriteRangeTo(&out, 0, int64(len(body))); !errors.Is(err, ErrCorrupt) || n != 2*crcBlock {
		t.Errorf("WriteRangeTo across the flipped byte: %d bytes, %v; want the 2 good blocks, then ErrCorrupt", n, err)
	}
	for _, off := range []int64{0, crcBlock + 5, 3 * crcBlock} {
		if n, err := sf.ReadAt(p, off); err != nil && !(errors.Is(err, io.EOF) && off+int64(n) == int64(len(body))) || !bytes.Equal(p[:n], body[off:off+int64(n)]) {
			t.Errorf("read at %d (a good block): %d bytes, %v", off, n, err)
		}
	}
}

// A checked segment whose trailer is damaged, or that lost bytes, does
// not open, and is dropped.
func TestCheckedRawSegmentStructure(t *testing.T) {
	for name, damage := range map[string]func(path string, size int64) error{
		"truncated":      func(path string, size int64) error { return os.Truncate(path, size-1) },
		"longer":         func(path string, size int64) error { return os.Truncate(path, size+1) },
		"trailer flip":   func(path string, size int64) error { return flipAt(path, size-14) },
		"magic mangled":  func(path string, size int64) error { return flipAt(path, size-1) },
		"table mismatch": func(path string, size int64) error { return flipAt(path, size-int64(len(crcMagic))-4-1) },
	} {
		t.Run(name, func(t *testing.T) {
			s := openTest(t)
			id := ObjectID{Bucket: "b", Key: "k"}
			if err := fill(t, s, id, `"v"`, "0123456789", time.Now()); err != nil {
				t.Fatal(err)
			}
			e, _ := s.Lookup(id)
			info, err := os.Stat(e.Segments[0].path)
			if err != nil {
				t.Fatal(err)
			}
			if err := damage(e.Segments[0].path, info.Size()); err != nil {
				t.Fatal(err)
			}
			if _, err := s.OpenSegment(e.Segments[0]); !errors.Is(err, ErrCorrupt) {
				t.Fatalf("damaged segment opened: %v", err)
			}
			if e, _ := s.Lookup(id); len(e.Segments) != 0 {
				t.Fatal("corrupt segment still listed")
			}
		})
	}
}

func flipAt(path string, off int64) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	b := make([]byte, 1)
	if _, err := f.ReadAt(b, off); err != nil {
		return err
	}
	b[0] ^= 0x40
	_, err = f.WriteAt(b, off)
	return err
}
