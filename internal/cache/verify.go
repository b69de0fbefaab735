package cache

import (
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"hash"
	"hash/crc32"
	"hash/crc64"
	"io"
	"net/http"
	"regexp"
	"strings"

	"github.com/s3cache/s3cache/internal/store"
)

// Before a whole object filled from the origin is committed, its bytes are
// checked against what S3 said about them: the ETag when it is the MD5 of
// the bytes (single-part uploads without SSE-KMS or SSE-C), and full-object
// checksums when S3 sent them. A mismatch is never cached. The check reads
// the finished temp file back (from the page cache) in the fill's own
// goroutine once every reader has its bytes: hashing inline would cap a
// miss at MD5's speed (measured: 256 MiB misses fell from 0.53x to 0.20x
// direct on loopback). The requester gets the bytes as S3 sent them, as it
// would going direct.

var plainMD5ETag = regexp.MustCompile(`^"[0-9a-f]{32}"$`)

// crc64NVME is CRC-64/NVME, S3's default full-object checksum: polynomial
// 0xad93d23594c93659, given here reflected as hash/crc64 wants it.
var crc64NVME = crc64.MakeTable(0x9a6c9329ac4bc9b5)

// checksum is one digest S3 vouched for.
type checksum struct {
	name string
	sum  hash.Hash
	want string // as S3 wrote it: hex for the ETag, base64 for x-amz-checksum-*
	hex  bool
}

// checksumsFor lists the digests that can check a whole object from its
// response headers.
func checksumsFor(h http.Header) digests {
	var out digests
	if etag := h.Get("ETag"); plainMD5ETag.MatchString(etag) &&
		h.Get("X-Amz-Server-Side-Encryption") != "aws:kms" && h.Get("X-Amz-Server-Side-Encryption") != "aws:kms:dsse" {
		out = append(out, checksum{name: "ETag (MD5)", sum: md5.New(), want: strings.Trim(etag, `"`), hex: true})
	}
	if strings.EqualFold(h.Get("X-Amz-Checksum-Type"), "COMPOSITE") {
		return out // a checksum of part checksums: not of these bytes
	}
	for _, c := range []struct {
		header string
		sum    func() hash.Hash
	}{
		{"X-Amz-Checksum-Crc32", func() hash.Hash { return crc32.NewIEEE() }},
		{"X-Amz-Checksum-Crc32c", func() hash.Hash { return crc32.New(crc32.MakeTable(crc32.Castagnoli)) }},
		{"X-Amz-Checksum-Crc64nvme", func() hash.Hash { return crc64.New(crc64NVME) }},
		{"X-Amz-Checksum-Sha1", sha1.New},
		{"X-Amz-Checksum-Sha256", sha256.New},
	} {
		if v := h.Get(c.header); v != "" && !strings.Contains(v, "-") {
			out = append(out, checksum{name: c.header, sum: c.sum(), want: v})
		}
	}
	return out
}

// digests are the checksums of one whole object.
type digests []checksum

// verifyWhole checks the n bytes of a finished whole-object fill.
func verifyWhole(w *store.SegmentWriter, n int64, sums digests) error {
	if len(sums) == 0 {
		return nil
	}
	if _, err := io.Copy(sums.writer(), io.NewSectionReader(w, 0, n)); err != nil {
		return fmt.Errorf("read back the fill: %w", err)
	}
	return sums.check()
}

// writer feeds every digest.
func (d digests) writer() io.Writer {
	writers := make([]io.Writer, len(d))
	for i := range d {
		writers[i] = d[i].sum
	}
	return io.MultiWriter(writers...)
}

// check compares each digest with what S3 said.
func (d digests) check() error {
	for _, c := range d {
		got := c.sum.Sum(nil)
		var gotText string
		if c.hex {
			gotText = hex.EncodeToString(got)
		} else {
			gotText = base64.StdEncoding.EncodeToString(got)
		}
		if gotText != c.want {
			return fmt.Errorf("%s mismatch: S3 said %s, the bytes give %s", c.name, c.want, gotText)
		}
	}
	return nil
}
