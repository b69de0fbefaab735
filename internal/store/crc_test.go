package store

import (
	"bytes"
	"errors"
	"io"
	"log/slog"
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
	if _, raw := sf.RawRange(0, int64(len(body))); !raw {
		t.Error("a segment this process just wrote is not offered for sendfile")
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
	if _, raw := sf.RawRange(0, crcBlock); raw {
		t.Error("a segment changed since it was verified is offered for sendfile")
	}
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

// Another process's segment is checked on first read, block by block, and
// the blocks that passed go out with sendfile afterwards.
func TestCheckedSegmentIsVerifiedOnceThenSentRaw(t *testing.T) {
	dir := t.TempDir()
	writer, reader := openAt(t, dir), openAt(t, dir)
	id := ObjectID{Bucket: "b", Key: "k"}
	body := bytes.Repeat([]byte("0123456789abcdef"), 3*crcBlock/16)
	if err := fill(t, writer, id, `"v"`, string(body), time.Now()); err != nil {
		t.Fatal(err)
	}
	e, err := reader.Lookup(id)
	if err != nil {
		t.Fatal(err)
	}
	open := func() *SegmentFile {
		sf, err := reader.OpenSegment(e.Segments[0])
		if err != nil {
			t.Fatal(err)
		}
		return sf
	}
	sf := open()
	if _, raw := sf.RawRange(0, 1); raw {
		t.Fatal("an unread segment of another process offered for sendfile")
	}
	var out bytes.Buffer
	if _, err := sf.WriteRangeTo(&out, 0, crcBlock+1); err != nil {
		t.Fatal(err)
	}
	sf.Close()
	sf = open()
	defer sf.Close()
	if _, raw := sf.RawRange(10, crcBlock); !raw {
		t.Error("blocks 0-1 passed but are not offered for sendfile")
	}
	if _, raw := sf.RawRange(0, 3*crcBlock); raw {
		t.Error("block 2 was never read but is offered for sendfile")
	}
}

func openAt(t *testing.T, dir string) *Store {
	t.Helper()
	s, err := Open(dir, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	return s
}
