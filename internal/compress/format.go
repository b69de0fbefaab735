package compress

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"

	"github.com/pierrec/lz4/v4"
)

// FrameSize is how many original bytes each LZ4 frame holds.
const FrameSize = 1 << 20

// footer: raw size (8), frame size (4), frame count (4), index CRC-32 (4), magic (4).
const footerSize = 24

var magic = [4]byte{'S', '3', 'C', 'Z'}

// ErrCorrupt means a compressed segment failed a structural or checksum check.
var ErrCorrupt = errors.New("compress: corrupt segment")

// Write compresses the first n bytes of src into dst in the segment layout.
// It returns the bytes written to dst.
func Write(dst io.Writer, src io.ReaderAt, n int64) (int64, error) {
	cw := &countingWriter{w: dst}
	zw := lz4.NewWriter(cw)
	raw := make([]byte, FrameSize)
	var ends []uint64
	for off := int64(0); off < n; off += FrameSize {
		chunk := raw[:min(FrameSize, n-off)]
		if _, err := src.ReadAt(chunk, off); err != nil && !(errors.Is(err, io.EOF) && off+int64(len(chunk)) <= n) {
			return cw.n, fmt.Errorf("read raw bytes: %w", err)
		}
		zw.Reset(cw)
		if err := zw.Apply(lz4.ChecksumOption(true), lz4.BlockSizeOption(lz4.Block1Mb), lz4.SizeOption(uint64(len(chunk)))); err != nil {
			return cw.n, err
		}
		if _, err := zw.Write(chunk); err != nil {
			return cw.n, fmt.Errorf("compress: %w", err)
		}
		if err := zw.Close(); err != nil {
			return cw.n, fmt.Errorf("compress: %w", err)
		}
		ends = append(ends, uint64(cw.n))
	}
	index := make([]byte, 8*len(ends))
	for i, e := range ends {
		binary.LittleEndian.PutUint64(index[8*i:], e)
	}
	var foot [footerSize]byte
	binary.LittleEndian.PutUint64(foot[0:], uint64(n))
	binary.LittleEndian.PutUint32(foot[8:], FrameSize)
	binary.LittleEndian.PutUint32(foot[12:], uint32(len(ends)))
	binary.LittleEndian.PutUint32(foot[16:], crc32.ChecksumIEEE(index))
	copy(foot[20:], magic[:])
	if _, err := cw.Write(index); err != nil {
		return cw.n, err
	}
	if _, err := cw.Write(foot[:]); err != nil {
		return cw.n, err
	}
	return cw.n, nil
}

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// Reader reads original bytes out of a compressed segment.
type Reader struct {
	f     *os.File
	size  int64
	ends  []uint64 // end offset in f of each frame
	zr    *lz4.Reader
	frame []byte // the decoded frame cur, or nil
	cur   int
}

// Open checks f's footer and index and returns a reader of rawSize original
// bytes. It does not take ownership of f.
func Open(f *os.File, rawSize int64) (*Reader, error) {
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if st.Size() < footerSize {
		return nil, fmt.Errorf("%w: %d bytes", ErrCorrupt, st.Size())
	}
	var foot [footerSize]byte
	if _, err := f.ReadAt(foot[:], st.Size()-footerSize); err != nil {
		return nil, fmt.Errorf("%w: footer: %v", ErrCorrupt, err)
	}
	size := int64(binary.LittleEndian.Uint64(foot[0:]))
	frameSize := binary.LittleEndian.Uint32(foot[8:])
	count := int64(binary.LittleEndian.Uint32(foot[12:]))
	if !bytes.Equal(foot[20:], magic[:]) || frameSize != FrameSize || size != rawSize ||
		count != (size+FrameSize-1)/FrameSize || st.Size() < footerSize+8*count {
		return nil, fmt.Errorf("%w: bad footer", ErrCorrupt)
	}
	index := make([]byte, 8*count)
	indexAt := st.Size() - footerSize - 8*count
	if _, err := f.ReadAt(index, indexAt); err != nil || crc32.ChecksumIEEE(index) != binary.LittleEndian.Uint32(foot[16:]) {
		return nil, fmt.Errorf("%w: bad index", ErrCorrupt)
	}
	ends := make([]uint64, count)
	prev := uint64(0)
	for i := range ends {
		ends[i] = binary.LittleEndian.Uint64(index[8*i:])
		if ends[i] <= prev && i > 0 || ends[i] > uint64(indexAt) {
			return nil, fmt.Errorf("%w: bad index", ErrCorrupt)
		}
		prev = ends[i]
	}
	if count > 0 && ends[count-1] != uint64(indexAt) {
		return nil, fmt.Errorf("%w: index does not meet the frames", ErrCorrupt)
	}
	return &Reader{f: f, size: size, ends: ends, cur: -1}, nil
}

// ReadAt reads original bytes at off, decoding (and checking) the frames it
// touches.
func (r *Reader) ReadAt(p []byte, off int64) (int, error) {
	n := 0
	for n < len(p) {
		if off >= r.size {
			return n, io.EOF
		}
		i := int(off / FrameSize)
		if err := r.load(i); err != nil {
			return n, err
		}
		c := copy(p[n:], r.frame[off-int64(i)*FrameSize:])
		n += c
		off += int64(c)
	}
	return n, nil
}

func (r *Reader) load(i int) error {
	if r.cur == i {
		return nil
	}
	start := uint64(0)
	if i > 0 {
		start = r.ends[i-1]
	}
	want := min(int64(FrameSize), r.size-int64(i)*FrameSize)
	sec := io.NewSectionReader(r.f, int64(start), int64(r.ends[i]-start))
	if r.zr == nil {
		r.zr = lz4.NewReader(sec)
	} else {
		r.zr.Reset(sec)
	}
	if cap(r.frame) < FrameSize {
		r.frame = make([]byte, FrameSize)
	}
	r.frame = r.frame[:want]
	r.cur = -1
	if _, err := io.ReadFull(r.zr, r.frame); err != nil {
		return fmt.Errorf("%w: frame %d: %v", ErrCorrupt, i, err)
	}
	// Reading past the frame's end makes the reader check the content
	// checksum in its trailer.
	if m, err := r.zr.Read(make([]byte, 1)); m != 0 || (err != nil && err != io.EOF) {
		return fmt.Errorf("%w: frame %d trailer: %v", ErrCorrupt, i, err)
	}
	r.cur = i
	return nil
}
