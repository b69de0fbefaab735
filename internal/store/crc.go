package store

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"sync"
)

// Raw segments written since checksums exist carry a CRC32C per block of
// the object bytes in a trailer after them, so that a flipped bit on disk is
// found before it reaches a client, as compressed segments' frame checksums
// find it. A process verifies each block the first time it reads it (one
// hardware-accelerated CRC32C pass) and sends blocks that passed with
// sendfile afterwards (verified.go).
//
// File layout: the n object bytes, then ceil(n/crcBlock) big-endian
// CRC32Cs, then the CRC32C of that table and the 8-byte magic crcMagic.

// crcBlock is the span one checksum covers: the relay's buffer size, so a
// sequential read verifies each block once.
const crcBlock = 256 << 10

const crcMagic = "s3cCRC1\n"

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// ChecksumTrailerSize is the length of the block-checksum trailer that
// follows n bytes in a checked raw segment (see BlockSums).
func ChecksumTrailerSize(n int64) int64 {
	return 4*crcBlocks(n) + 4 + int64(len(crcMagic))
}

func crcBlocks(n int64) int64 { return (n + crcBlock - 1) / crcBlock }

// BlockSums computes the block checksums of bytes written in order, for
// files that become checked raw segments (AdoptedFile.Checked): append
// Trailer after the bytes.
type BlockSums struct {
	sums    []uint32
	cur     uint32
	inBlock int64
}

// Write adds p to the checksummed bytes.
func (b *BlockSums) Write(p []byte) {
	for len(p) > 0 {
		k := min(int64(len(p)), crcBlock-b.inBlock)
		b.cur = crc32.Update(b.cur, castagnoli, p[:k])
		b.inBlock += k
		p = p[k:]
		if b.inBlock == crcBlock {
			b.sums = append(b.sums, b.cur)
			b.cur, b.inBlock = 0, 0
		}
	}
}

// Trailer returns the trailer for the bytes written so far.
func (b *BlockSums) Trailer() []byte {
	sums := b.sums
	if b.inBlock > 0 {
		sums = append(sums[:len(sums):len(sums)], b.cur)
	}
	out := make([]byte, 0, 4*len(sums)+4+len(crcMagic))
	for _, s := range sums {
		out = binary.BigEndian.AppendUint32(out, s)
	}
	out = binary.BigEndian.AppendUint32(out, crc32.Checksum(out, castagnoli))
	return append(out, crcMagic...)
}

// readCRCTable reads and checks the trailer of a checksummed raw segment
// holding n object bytes (the caller has checked the file's size).
func readCRCTable(f *os.File, n int64) ([]uint32, error) {
	raw := make([]byte, ChecksumTrailerSize(n))
	if _, err := f.ReadAt(raw, n); err != nil {
		return nil, fmt.Errorf("%w: trailer: %v", ErrCorrupt, err)
	}
	table, rest := raw[:4*crcBlocks(n)], raw[4*crcBlocks(n):]
	if string(rest[4:]) != crcMagic || binary.BigEndian.Uint32(rest) != crc32.Checksum(table, castagnoli) {
		return nil, fmt.Errorf("%w: bad checksum trailer", ErrCorrupt)
	}
	sums := make([]uint32, len(table)/4)
	for i := range sums {
		sums[i] = binary.BigEndian.Uint32(table[4*i:])
	}
	return sums, nil
}

// blockPool holds the buffers checked reads verify whole blocks in.
var blockPool = sync.Pool{New: func() any { b := make([]byte, crcBlock); return &b }}

// checkedReader reads a checksummed raw segment, verifying every block
// before handing out any of its bytes. It keeps the last block read, so
// sequential reads verify each block once. Not safe for concurrent use.
type checkedReader struct {
	f     *os.File
	n     int64
	sums  []uint32
	seen  *blockBits // blocks that passed, in this process, for this file version
	buf   *[]byte    // the block held, nil until the first read
	block int64      // index of the block in buf
}

func (c *checkedReader) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, fmt.Errorf("read cached segment at %d", off)
	}
	done := 0
	for done < len(p) {
		at := off + int64(done)
		if at >= c.n {
			return done, io.EOF
		}
		b, err := c.load(at / crcBlock)
		if err != nil {
			return done, err
		}
		done += copy(p[done:], b[at%crcBlock:])
	}
	return done, nil
}

// writeTo writes the n bytes at off to w straight from verified blocks,
// without the copy ReadAt makes. It returns how many bytes w took.
func (c *checkedReader) writeTo(w io.Writer, off, n int64) (int64, error) {
	var sent int64
	for sent < n {
		at := off + sent
		b, err := c.load(at / crcBlock)
		if err != nil {
			return sent, err
		}
		b = b[at%crcBlock:]
		b = b[:min(int64(len(b)), n-sent)]
		k, err := w.Write(b)
		sent += int64(k)
		if err != nil {
			return sent, &WriteError{Err: err}
		}
	}
	return sent, nil
}

// WriteError is a failure of the writer a segment was copied to (the
// client), not of the segment.
type WriteError struct{ Err error }

func (e *WriteError) Error() string { return "write: " + e.Err.Error() }
func (e *WriteError) Unwrap() error { return e.Err }

// load returns block i, verified.
func (c *checkedReader) load(i int64) ([]byte, error) {
	size := min(crcBlock, c.n-i*crcBlock)
	if c.buf != nil && c.block == i {
		return (*c.buf)[:size], nil
	}
	if c.buf == nil {
		c.buf = blockPool.Get().(*[]byte)
	}
	c.block = -1
	b := (*c.buf)[:size]
	if _, err := c.f.ReadAt(b, i*crcBlock); err != nil {
		return nil, fmt.Errorf("%w: block %d: %v", ErrCorrupt, i, err)
	}
	if !c.seen.has(i) {
		if got := crc32.Checksum(b, castagnoli); got != c.sums[i] {
			return nil, fmt.Errorf("%w: block %d: checksum %08x, want %08x", ErrCorrupt, i, got, c.sums[i])
		}
		c.seen.set(i)
	}
	c.block = i
	return b, nil
}

// release returns the block buffer to the pool.
func (c *checkedReader) release() {
	if c.buf != nil {
		blockPool.Put(c.buf)
		c.buf = nil
	}
}
