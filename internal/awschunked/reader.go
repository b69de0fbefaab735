package awschunked

import (
	"errors"
	"fmt"
	"io"
)

// readBufferSize is the fixed buffer framing is read through.
const readBufferSize = 32 << 10

// maxEmptyReads bounds how often the source may return nothing and no
// error in a row before the Reader gives up, as bufio does.
const maxEmptyReads = 100

// Reader decodes an aws-chunked body read from a source. Read yields the
// object's bytes and io.EOF only once the final chunk, the trailer and the
// end of the source have been seen; a body cut short or malformed yields an
// error wrapping ErrIncomplete or ErrMalformed instead. Bytes after the end
// of the body are an error too.
type Reader struct {
	decoder
	src        io.Reader
	buf        []byte
	start, end int   // unread bytes of buf
	srcErr     error // what the source returned last with its bytes
}

// NewReader returns a Reader decoding the body read from r.
func NewReader(r io.Reader) *Reader {
	return &Reader{src: r}
}

// Read reads decoded object bytes into p.
func (r *Reader) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, r.err
	}
	for empty := 0; empty < maxEmptyReads; {
		if r.err != nil {
			return 0, r.err
		}
		if r.start < r.end {
			data, n, err := r.next(r.buf[r.start:r.end], len(p))
			r.start += n
			if err != nil {
				return 0, err
			}
			if len(data) > 0 {
				return copy(p, data), nil
			}
			continue
		}
		if r.srcErr != nil {
			return 0, r.sourceEnded()
		}
		if n, err := r.readDataDirect(p); n > 0 || err != nil {
			return n, err
		}
		if r.buf == nil {
			r.buf = make([]byte, readBufferSize)
		}
		n, err := r.src.Read(r.buf)
		r.start, r.end, r.srcErr = 0, n, err
		if n == 0 && err == nil {
			empty++
		} else {
			empty = 0
		}
	}
	return 0, r.fail(fmt.Errorf("awschunked: read body: %w", io.ErrNoProgress))
}

// readDataDirect reads chunk data straight into p when nothing is buffered,
// saving a copy for large reads.
func (r *Reader) readDataDirect(p []byte) (int, error) {
	if r.state != stateChunkData || len(p) < readBufferSize {
		return 0, nil
	}
	n, err := r.src.Read(p[:min(int64(len(p)), r.remaining)])
	r.srcErr = err
	if n > 0 {
		data, _, _ := r.next(p[:n], n)
		return len(data), nil
	}
	return 0, nil
}

// sourceEnded turns the source's final error into the Reader's.
func (r *Reader) sourceEnded() error {
	if errors.Is(r.srcErr, io.EOF) {
		if err := r.endOfInput(); err != nil {
			return err
		}
		return io.EOF
	}
	return r.fail(fmt.Errorf("awschunked: read body: %w", r.srcErr))
}
