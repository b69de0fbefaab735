package awschunked

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

// Values of x-amz-content-sha256 that announce an aws-chunked body.
const (
	StreamingSigned             = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
	StreamingSignedTrailer      = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"
	StreamingUnsignedTrailer    = "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
	StreamingECDSASigned        = "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD"
	StreamingECDSASignedTrailer = "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD-TRAILER"
)

// contentEncodingToken is the Content-Encoding token of the format.
const contentEncodingToken = "aws-chunked"

// Detect reports whether a request body is aws-chunked, judging by its
// headers only (the body is never sniffed): Content-Encoding lists
// aws-chunked, or x-amz-content-sha256 starts with STREAMING-. It errs on the
// side of yes, which at worst makes a body undecodable and so uncached.
func Detect(h http.Header) bool {
	for _, v := range h.Values("Content-Encoding") {
		for tok := range strings.SplitSeq(v, ",") {
			if strings.EqualFold(strings.TrimSpace(tok), contentEncodingToken) {
				return true
			}
		}
	}
	for _, v := range h.Values("X-Amz-Content-Sha256") {
		if len(v) >= len("STREAMING-") && strings.EqualFold(v[:len("STREAMING-")], "STREAMING-") {
			return true
		}
	}
	return false
}

// ErrNoDecodedLength means the request has no x-amz-decoded-content-length,
// so the decoded size cannot be known before the body ends.
var ErrNoDecodedLength = errors.New("awschunked: no x-amz-decoded-content-length header")

// maxDecodedLength bounds x-amz-decoded-content-length: S3's largest object
// is 5 TiB.
const maxDecodedLength = 5 << 40

// DecodedContentLength returns the x-amz-decoded-content-length of the
// request: the size of the object once the body is decoded. It fails with
// ErrNoDecodedLength when the header is absent, and with an error when it
// is not a single decimal number within S3's object size limit.
func DecodedContentLength(h http.Header) (int64, error) {
	values := h.Values("X-Amz-Decoded-Content-Length")
	if len(values) == 0 {
		return 0, ErrNoDecodedLength
	}
	if len(values) > 1 {
		return 0, fmt.Errorf("awschunked: %d x-amz-decoded-content-length headers", len(values))
	}
	v := values[0]
	if v == "" || len(v) > 16 || strings.TrimLeft(v, "0123456789") != "" {
		return 0, fmt.Errorf("awschunked: x-amz-decoded-content-length %q is not a decimal size", v)
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n > maxDecodedLength {
		return 0, fmt.Errorf("awschunked: x-amz-decoded-content-length %q is out of range", v)
	}
	return n, nil
}

// ObjectContentEncoding returns the Content-Encoding S3 stores for an
// object uploaded with these request headers: the request's value without
// the aws-chunked token, "" when nothing else remains.
func ObjectContentEncoding(h http.Header) string {
	var kept []string
	for _, v := range h.Values("Content-Encoding") {
		for tok := range strings.SplitSeq(v, ",") {
			tok = strings.TrimSpace(tok)
			if tok != "" && !strings.EqualFold(tok, contentEncodingToken) {
				kept = append(kept, tok)
			}
		}
	}
	return strings.Join(kept, ",")
}
