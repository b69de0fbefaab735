package main

import (
	"io"
	"math/rand/v2"
)

// randomBlock is the pseudo-random material object bodies are cut from. It
// is far longer than LZ4's 64 KiB window, so bodies built by repeating it do
// not compress: a compressing cache gains nothing it would not on real,
// already-compressed data.
type randomBlock []byte

func newRandomBlock(size int) randomBlock {
	b := make([]byte, size)
	var seed [32]byte
	copy(seed[:], "s3cache bench object material!!")
	_, _ = rand.NewChaCha8(seed).Read(b)
	return b
}

// reader returns size bytes of the block repeated, starting at offset
// start (mod the block), so objects with different starts differ.
func (b randomBlock) reader(start, size int64) io.Reader {
	return &blockReader{block: b, off: start % int64(len(b)), left: size}
}

type blockReader struct {
	block []byte
	off   int64
	left  int64
}

func (r *blockReader) Read(p []byte) (int, error) {
	if r.left <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > r.left {
		p = p[:r.left]
	}
	n := copy(p, r.block[r.off:])
	r.off = (r.off + int64(n)) % int64(len(r.block))
	r.left -= int64(n)
	return n, nil
}
