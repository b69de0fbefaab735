package harness

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"io"
	"math/rand/v2"
)

const patternBlock = 64 << 10

// Pattern is a deterministic pseudo-random byte stream of a given size that
// can be regenerated from (seed, size) at any offset: tests upload and compare
// large objects without holding them in memory. Every 64 KiB block differs,
// so bytes served from the wrong offset are caught. It is an io.ReadSeeker,
// which lets the SDK hash the payload and rewind.
type Pattern struct {
	seed, size, off int64
	blk             int64
	buf             []byte
}

// NewPattern returns a reader of size bytes for seed, positioned at 0.
func NewPattern(seed, size int64) *Pattern {
	return &Pattern{seed: seed, size: size, blk: -1}
}

func (p *Pattern) block(k int64) []byte {
	if p.blk != k {
		if p.buf == nil {
			p.buf = make([]byte, patternBlock)
		}
		var s [32]byte
		binary.LittleEndian.PutUint64(s[0:], uint64(p.seed))
		binary.LittleEndian.PutUint64(s[8:], uint64(k))
		_, _ = rand.NewChaCha8(s).Read(p.buf)
		p.blk = k
	}
	return p.buf
}

// Read implements io.Reader.
func (p *Pattern) Read(b []byte) (int, error) {
	if p.off >= p.size {
		return 0, io.EOF
	}
	n := 0
	for n < len(b) && p.off < p.size {
		k, in := p.off/patternBlock, p.off%patternBlock
		c := copy(b[n:], p.block(k)[in:])
		if rest := p.size - p.off; int64(c) > rest {
			c = int(rest)
		}
		n += c
		p.off += int64(c)
	}
	return n, nil
}

// Seek implements io.Seeker.
func (p *Pattern) Seek(offset int64, whence int) (int64, error) {
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		offset += p.off
	case io.SeekEnd:
		offset += p.size
	}
	if offset < 0 {
		return 0, errors.New("pattern: negative position")
	}
	p.off = offset
	return offset, nil
}

// PatternBytes returns the whole pattern (small sizes only).
func PatternBytes(seed, size int64) []byte {
	b, _ := io.ReadAll(NewPattern(seed, size))
	return b
}

// PatternRange returns bytes [start, end] inclusive of the pattern.
func PatternRange(seed, size, start, end int64) []byte {
	p := NewPattern(seed, size)
	_, _ = p.Seek(start, io.SeekStart)
	b, _ := io.ReadAll(io.LimitReader(p, end-start+1))
	return b
}

// PatternSHA256 returns the hex SHA-256 of the pattern, streaming.
func PatternSHA256(seed, size int64) string {
	h := sha256.New()
	_, _ = io.Copy(h, NewPattern(seed, size))
	return hex.EncodeToString(h.Sum(nil))
}

// SHA256 reads r to the end and returns its hex SHA-256 and length.
func SHA256(r io.Reader) (string, int64, error) {
	h := sha256.New()
	n, err := io.Copy(h, r)
	return hex.EncodeToString(h.Sum(nil)), n, err
}
