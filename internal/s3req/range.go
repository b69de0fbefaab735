package s3req

import (
	"errors"
	"strconv"
	"strings"
)

// ByteRange is a single range from a Range header, as the client wrote it.
// Exactly one form is set: First/Last (Last < 0 means "to the end"), or
// Suffix (the last Suffix bytes).
type ByteRange struct {
	First, Last int64
	Suffix      int64
	IsSuffix    bool
}

// ErrRangeNotSingle means the header is not one well-formed byte range. S3
// ignores such headers (multi-range, other units, bad syntax) and answers
// with the whole object, so the proxy forwards these requests untouched.
var ErrRangeNotSingle = errors.New("s3req: not a single byte range")

// ParseRange parses "bytes=a-b", "bytes=a-" or "bytes=-n".
func ParseRange(h string) (ByteRange, error) {
	spec, ok := strings.CutPrefix(strings.TrimSpace(h), "bytes=")
	if !ok || strings.Contains(spec, ",") {
		return ByteRange{}, ErrRangeNotSingle
	}
	first, last, ok := strings.Cut(strings.TrimSpace(spec), "-")
	if !ok {
		return ByteRange{}, ErrRangeNotSingle
	}
	if first == "" {
		n, err := parseOffset(last)
		if err != nil {
			return ByteRange{}, err
		}
		return ByteRange{Suffix: n, IsSuffix: true}, nil
	}
	a, err := parseOffset(first)
	if err != nil {
		return ByteRange{}, err
	}
	if last == "" {
		return ByteRange{First: a, Last: -1}, nil
	}
	b, err := parseOffset(last)
	if err != nil || b < a {
		return ByteRange{}, ErrRangeNotSingle
	}
	return ByteRange{First: a, Last: b}, nil
}

func parseOffset(s string) (int64, error) {
	if s == "" || len(s) > 19 {
		return 0, ErrRangeNotSingle
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return 0, ErrRangeNotSingle
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, ErrRangeNotSingle
	}
	return n, nil
}

// Resolve returns the absolute, inclusive byte span of r within an object of
// size bytes. ok is false when the range is unsatisfiable (S3 answers 416).
func (r ByteRange) Resolve(size int64) (start, end int64, ok bool) {
	if r.IsSuffix {
		if r.Suffix == 0 || size == 0 {
			return 0, 0, false
		}
		if r.Suffix >= size {
			return 0, size - 1, true
		}
		return size - r.Suffix, size - 1, true
	}
	if r.First >= size {
		return 0, 0, false
	}
	end = r.Last
	if end < 0 || end >= size {
		end = size - 1
	}
	return r.First, end, true
}
