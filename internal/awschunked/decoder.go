package awschunked

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
)

// Limits that keep a hostile body from costing memory.
const (
	// maxLineLength bounds a framing line (chunk header or trailer),
	// CRLF included. The longest legitimate one is a chunk header with a
	// padded ECDSA signature, under 300 bytes.
	maxLineLength = 1024
	// maxTrailers bounds the number of trailer lines.
	maxTrailers = 16
)

// ErrMalformed means the body does not follow the aws-chunked format.
var ErrMalformed = errors.New("awschunked: malformed body")

// ErrIncomplete means the body ended, or was checked, before its final
// chunk and trailer were read.
var ErrIncomplete = errors.New("awschunked: body incomplete")

// ErrLengthMismatch means the decoded length disagrees with
// x-amz-decoded-content-length.
var ErrLengthMismatch = errors.New("awschunked: decoded length mismatch")

// state is where the decoder stands in the body.
type state int

const (
	stateChunkHeader  state = iota // reading "size[;chunk-signature=...]\r\n"
	stateChunkData                 // passing through chunk data
	stateChunkDataEnd              // expecting the CRLF after chunk data
	stateTrailer                   // reading trailer lines up to an empty line
	stateDone                      // the body is complete
)

// decoder is the aws-chunked state machine shared by Reader and Writer. It
// consumes encoded bytes in slices of any size and hands back chunk data as
// sub-slices of its input, never copying or buffering it.
type decoder struct {
	state     state
	line      []byte // the framing line read so far; at most maxLineLength
	remaining int64  // chunk data bytes still to come
	crlfSeen  int    // bytes of the CRLF after chunk data already matched
	signed    int    // 0 before the first chunk, then 1 signed or -1 unsigned
	decoded   int64
	trailers  http.Header
	err       error // sticky
}

// next consumes a prefix of src. In chunk data it returns up to max bytes of
// it as data; otherwise it consumes framing and returns no data. It consumes
// at least one byte of a non-empty src unless it fails.
func (d *decoder) next(src []byte, max int) (data []byte, consumed int, err error) {
	if d.err != nil {
		return nil, 0, d.err
	}
	if len(src) == 0 {
		return nil, 0, nil
	}
	switch d.state {
	case stateChunkData:
		n := min(int64(len(src)), int64(max), d.remaining)
		d.remaining -= n
		d.decoded += n
		if d.remaining == 0 {
			d.state = stateChunkDataEnd
		}
		return src[:n], int(n), nil
	case stateChunkDataEnd:
		for consumed < len(src) && d.crlfSeen < 2 {
			if src[consumed] != "\r\n"[d.crlfSeen] {
				return nil, consumed, d.fail(fmt.Errorf("%w: chunk data not followed by CRLF", ErrMalformed))
			}
			consumed++
			d.crlfSeen++
		}
		if d.crlfSeen == 2 {
			d.crlfSeen = 0
			d.state = stateChunkHeader
		}
		return nil, consumed, nil
	case stateChunkHeader, stateTrailer:
		n, err := d.collectLine(src)
		return nil, n, err
	default:
		return nil, 0, d.fail(fmt.Errorf("%w: %d bytes after the end of the body", ErrMalformed, len(src)))
	}
}

// collectLine adds src up to and including the next LF to the current line
// and handles the line once it is whole.
func (d *decoder) collectLine(src []byte) (int, error) {
	end := bytes.IndexByte(src, '\n')
	take := end + 1
	if end < 0 {
		take = len(src)
	}
	if len(d.line)+take > maxLineLength {
		return 0, d.fail(fmt.Errorf("%w: line longer than %d bytes", ErrMalformed, maxLineLength))
	}
	if d.line == nil {
		d.line = make([]byte, 0, maxLineLength)
	}
	d.line = append(d.line, src[:take]...)
	if end < 0 {
		return take, nil
	}
	line, ok := bytes.CutSuffix(d.line, []byte("\r\n"))
	d.line = d.line[:0]
	if !ok {
		return take, d.fail(fmt.Errorf("%w: line not ended by CRLF", ErrMalformed))
	}
	var err error
	if d.state == stateChunkHeader {
		err = d.chunkHeader(line)
	} else {
		err = d.trailerLine(line)
	}
	return take, err
}

// chunkHeader handles "size[;chunk-signature=SIG]".
func (d *decoder) chunkHeader(line []byte) error {
	size, signature, err := parseChunkHeader(line)
	if err != nil {
		return d.fail(err)
	}
	signed := -1
	if signature {
		signed = 1
	}
	if d.signed != 0 && d.signed != signed {
		return d.fail(fmt.Errorf("%w: signed and unsigned chunks mixed", ErrMalformed))
	}
	d.signed = signed
	if size == 0 {
		d.state = stateTrailer
		return nil
	}
	d.remaining = size
	d.state = stateChunkData
	return nil
}

// trailerLine handles one "name:value" trailer, or the empty line that ends
// the body.
func (d *decoder) trailerLine(line []byte) error {
	if len(line) == 0 {
		d.state = stateDone
		d.line = nil
		return nil
	}
	name, value, err := parseTrailer(line)
	if err != nil {
		return d.fail(err)
	}
	if d.trailers == nil {
		d.trailers = http.Header{}
	}
	if len(d.trailers) == maxTrailers {
		return d.fail(fmt.Errorf("%w: more than %d trailers", ErrMalformed, maxTrailers))
	}
	if _, dup := d.trailers[name]; dup {
		return d.fail(fmt.Errorf("%w: trailer %s repeated", ErrMalformed, name))
	}
	d.trailers[name] = []string{value}
	return nil
}

// endOfInput records that no more encoded bytes will come.
func (d *decoder) endOfInput() error {
	if d.err != nil {
		return d.err
	}
	if d.state != stateDone {
		return d.fail(fmt.Errorf("%w: %w in %s", ErrIncomplete, io.ErrUnexpectedEOF, d.state))
	}
	return nil
}

func (d *decoder) fail(err error) error {
	if d.err == nil {
		d.err = err
	}
	return d.err
}

func (s state) String() string {
	switch s {
	case stateChunkHeader:
		return "chunk header"
	case stateChunkData:
		return "chunk data"
	case stateChunkDataEnd:
		return "chunk end"
	case stateTrailer:
		return "trailer"
	default:
		return "end of body"
	}
}

// Decoded is the number of object bytes decoded so far.
func (d *decoder) Decoded() int64 { return d.decoded }

// Done reports whether the whole body, final chunk and trailer included,
// has been decoded without error.
func (d *decoder) Done() bool { return d.state == stateDone && d.err == nil }

// Err is the error that stopped decoding, if any.
func (d *decoder) Err() error { return d.err }

// Trailers returns the trailer lines (such as X-Amz-Checksum-Crc32 and
// X-Amz-Trailer-Signature) under canonical names, once Done; nil before, or
// when the body had none.
func (d *decoder) Trailers() http.Header {
	if !d.Done() {
		return nil
	}
	return d.trailers
}

// Verify reports whether the body decoded completely to exactly want bytes,
// want being the request's x-amz-decoded-content-length (see
// DecodedContentLength). Only then may the decoded bytes be cached.
func (d *decoder) Verify(want int64) error {
	if d.err != nil {
		return d.err
	}
	if d.state != stateDone {
		return fmt.Errorf("%w: stopped in %s after %d bytes", ErrIncomplete, d.state, d.decoded)
	}
	if d.decoded != want {
		return fmt.Errorf("%w: decoded %d bytes, x-amz-decoded-content-length is %d", ErrLengthMismatch, d.decoded, want)
	}
	return nil
}
