package awschunked

import (
	"bytes"
	"fmt"
	"io"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"
)

// encoding describes how a test body is framed.
type encoding struct {
	chunkSize int
	signature string   // "" for unsigned chunks, else the chunk-signature value
	trailers  []string // "name:value" lines, written after the final chunk
}

// encode frames payload as aws-chunked, the way SDKs do: full chunks of
// chunkSize, a short last one, a zero chunk, trailers, an empty line.
func encode(payload []byte, e encoding) []byte {
	var b bytes.Buffer
	header := func(n int) {
		b.WriteString(strconv.FormatInt(int64(n), 16))
		if e.signature != "" {
			b.WriteString(";chunk-signature=" + e.signature)
		}
		b.WriteString("\r\n")
	}
	for rest := payload; len(rest) > 0; {
		n := min(len(rest), e.chunkSize)
		header(n)
		b.Write(rest[:n])
		b.WriteString("\r\n")
		rest = rest[n:]
	}
	header(0)
	for _, t := range e.trailers {
		b.WriteString(t + "\r\n")
	}
	b.WriteString("\r\n")
	return b.Bytes()
}

// decodeWays decodes body through Reader with several read patterns and
// through Writer fed in several slice sizes, and checks they all agree. It
// returns the decoded bytes, the decoder state and the error.
func decodeWays(t *testing.T, body []byte) ([]byte, *decoder, error) {
	t.Helper()
	want, d, wantErr := decodeWithReader(NewReader(bytes.NewReader(body)))
	sources := map[string]io.Reader{
		"one byte": iotest.OneByteReader(bytes.NewReader(body)),
		"half":     iotest.HalfReader(bytes.NewReader(body)),
		"data+EOF": iotest.DataErrReader(bytes.NewReader(body)),
	}
	for name, src := range sources {
		got, _, err := decodeWithReader(NewReader(src))
		compareOutcome(t, "Reader/"+name, got, err, want, wantErr)
	}
	for _, step := range []int{1, 2, 7, 4096, len(body) + 1} {
		got, err := decodeWithWriter(body, step)
		compareOutcome(t, fmt.Sprintf("Writer/step %d", step), got, err, want, wantErr)
	}
	return want, d, wantErr
}

func decodeWithReader(r *Reader) ([]byte, *decoder, error) {
	var out bytes.Buffer
	_, err := io.Copy(&out, r)
	return out.Bytes(), &r.decoder, err
}

func decodeWithWriter(body []byte, step int) ([]byte, error) {
	var out bytes.Buffer
	w := NewWriter(&out)
	for rest := body; len(rest) > 0; {
		n := min(step, len(rest))
		if _, err := w.Write(rest[:n]); err != nil {
			return out.Bytes(), err
		}
		rest = rest[n:]
	}
	return out.Bytes(), w.Close()
}

func compareOutcome(t *testing.T, how string, got []byte, err error, want []byte, wantErr error) {
	t.Helper()
	if (err == nil) != (wantErr == nil) {
		t.Errorf("%s: error %v, plain Reader: %v", how, err, wantErr)
	}
	if wantErr == nil && !bytes.Equal(got, want) {
		t.Errorf("%s: decoded %d bytes, plain Reader %d", how, len(got), len(want))
	}
}

// signature64 is a SigV4 chunk signature's shape.
var signature64 = strings.Repeat("ad80c730", 8)
