package store

import (
	"os"
	"sync/atomic"

	"github.com/maypok86/otter/v2"
)

// Checked raw segments are verified block by block the first time this
// process reads them; the blocks that passed are remembered per file
// version (path, inode, size, modification time), and later reads of only
// such blocks go out with sendfile again. A write to the file changes its
// version, so a modified segment is checked afresh; decay of the medium
// under an unchanged file is caught by the next process that reads it
// (a restart), not by this one. Segments this process wrote are recorded as
// verified when published: their checksums were computed from those bytes.

// maxVerifiedFiles bounds the file versions remembered (a few hundred bytes
// each at most: one bit per 256 KiB block).
const maxVerifiedFiles = 1 << 16

// fileVersion identifies one version of a segment file.
type fileVersion struct {
	path  string
	ino   uint64
	size  int64
	mtime int64
}

func versionOf(path string, info os.FileInfo) fileVersion {
	return fileVersion{path: path, ino: inode(info), size: info.Size(), mtime: info.ModTime().UnixNano()}
}

// blockBits has one bit per block of a segment: set once the block passed
// its checksum.
type blockBits struct{ words []atomic.Uint64 }

func newBlockBits(blocks int64) *blockBits {
	return &blockBits{words: make([]atomic.Uint64, (blocks+63)/64)}
}

func (b *blockBits) has(i int64) bool { return b.words[i/64].Load()&(1<<(i%64)) != 0 }

func (b *blockBits) set(i int64) { b.words[i/64].Or(1 << (i % 64)) }

// all reports whether blocks [from, to) all passed.
func (b *blockBits) all(from, to int64) bool {
	for i := from; i < to; i++ {
		if !b.has(i) {
			return false
		}
	}
	return true
}

// verifiedFiles maps file versions to their verified blocks.
type verifiedFiles struct {
	c *otter.Cache[fileVersion, *blockBits]
}

func newVerifiedFiles() verifiedFiles {
	c, err := otter.New(&otter.Options[fileVersion, *blockBits]{MaximumSize: maxVerifiedFiles})
	if err != nil {
		panic(err) // only for invalid options
	}
	return verifiedFiles{c: c}
}

// bits returns the verified blocks of the file version holding n bytes.
func (v verifiedFiles) bits(ver fileVersion, n int64) *blockBits {
	if b, ok := v.c.GetIfPresent(ver); ok {
		return b
	}
	b, _ := v.c.SetIfAbsent(ver, newBlockBits(crcBlocks(n)))
	return b
}

// markWritten records every block of a segment this process just published
// as verified.
func (v verifiedFiles) markWritten(path string, n int64) {
	info, err := os.Stat(path)
	if err != nil {
		return
	}
	b := v.bits(versionOf(path, info), n)
	for i := range crcBlocks(n) {
		b.set(i)
	}
}
