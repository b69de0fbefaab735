package awschunked

import (
	"fmt"
	"io"
)

// Writer decodes an aws-chunked body written to it and writes the object's
// bytes to a destination: the push form of Reader, for teeing a body that
// is being forwarded. Write fails, and keeps failing, once the body turns
// out malformed or the destination fails; a caller whose forwarding must
// not depend on the cache copy should stop writing then rather than pass
// the error on. Close reports whether the body was complete.
type Writer struct {
	decoder
	dst io.Writer
}

// NewWriter returns a Writer that writes the decoded object bytes to dst.
func NewWriter(dst io.Writer) *Writer {
	return &Writer{dst: dst}
}

// Write decodes p, an arbitrary slice of the encoded body.
func (w *Writer) Write(p []byte) (int, error) {
	done := 0
	for done < len(p) {
		data, n, err := w.next(p[done:], len(p)-done)
		done += n
		if err != nil {
			return done, err
		}
		if len(data) > 0 {
			if _, err := w.dst.Write(data); err != nil {
				return done, w.fail(fmt.Errorf("awschunked: write decoded bytes: %w", err))
			}
		}
	}
	return done, nil
}

// Close records the end of the encoded body: it fails with ErrIncomplete
// when the final chunk or trailer never came, or with the error that
// stopped decoding. It does not close the destination.
func (w *Writer) Close() error { return w.endOfInput() }
