package compress

import (
	"path"
	"strings"

	"github.com/pierrec/lz4/v4"
)

// minSaving is the fraction a trial block must shrink by for the object to
// be stored compressed: below it, decompression costs more than the disk
// saves and raw segments keep the sendfile path.
const minSaving = 0.15

// rawTypes are content types whose bytes are already compressed.
var rawTypes = []string{"image/", "video/", "audio/", "application/zip", "application/gzip",
	"application/x-gzip", "application/x-bzip2", "application/x-xz", "application/zstd",
	"application/x-7z-compressed", "application/x-rar", "application/vnd.apache.parquet",
	"application/x-parquet", "application/octet-stream+lz4", "application/pdf"}

// rawExtensions are key suffixes of already-compressed formats.
var rawExtensions = map[string]bool{
	".gz": true, ".tgz": true, ".bz2": true, ".xz": true, ".zst": true, ".zstd": true, ".lz4": true,
	".zip": true, ".7z": true, ".rar": true, ".jpg": true, ".jpeg": true, ".png": true, ".gif": true,
	".webp": true, ".heic": true, ".mp3": true, ".mp4": true, ".m4a": true, ".mov": true, ".mkv": true,
	".avi": true, ".webm": true, ".parquet": true, ".orc": true, ".avro": true, ".snappy": true,
	".bam": true, ".cram": true, ".bcf": true, ".tfrecord": true, ".pdf": true, ".jar": true,
	".whl": true, ".npz": true, ".br": true,
}

// Worth reports whether an object should be stored compressed, from its
// Content-Type, its Content-Encoding, its key and a sample of its first bytes.
func Worth(contentType, contentEncoding, key string, sample []byte) bool {
	if contentEncoding != "" && !strings.EqualFold(contentEncoding, "identity") && !strings.Contains(contentEncoding, "aws-chunked") {
		return false
	}
	ct := strings.ToLower(contentType)
	for _, t := range rawTypes {
		if strings.HasPrefix(ct, t) {
			return false
		}
	}
	if rawExtensions[strings.ToLower(path.Ext(key))] {
		return false
	}
	if len(sample) < 512 {
		return false // too small to be worth a frame
	}
	dst := make([]byte, lz4.CompressBlockBound(len(sample)))
	n, err := lz4.CompressBlock(sample, dst, nil)
	if err != nil || n == 0 {
		return false // incompressible: LZ4 reports 0
	}
	return float64(n) <= float64(len(sample))*(1-minSaving)
}
