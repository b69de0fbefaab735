package awschunked

import (
	"bytes"
	"fmt"
	"net/http"
)

const (
	// maxSizeDigits bounds the hex chunk size: 15 digits stay below 2^60,
	// so sizes never overflow.
	maxSizeDigits = 15
	// maxSignatureLength bounds a chunk signature: 64 hex digits for
	// SigV4, a hex DER signature padded with '*' for SigV4A.
	maxSignatureLength = 256
	// maxTrailerName bounds a trailer's name.
	maxTrailerName = 128
)

var signatureExtension = []byte("chunk-signature=")

// parseChunkHeader reads a chunk header line without its CRLF:
// hex size, optionally followed by ";chunk-signature=SIG". No other
// extension, and no white space, is accepted.
func parseChunkHeader(line []byte) (size int64, signed bool, err error) {
	sizeField, ext, hasExt := bytes.Cut(line, []byte(";"))
	if len(sizeField) == 0 || len(sizeField) > maxSizeDigits {
		return 0, false, fmt.Errorf("%w: chunk size %q", ErrMalformed, clip(sizeField))
	}
	for _, c := range sizeField {
		v, ok := hexValue(c)
		if !ok {
			return 0, false, fmt.Errorf("%w: chunk size %q is not hex", ErrMalformed, clip(sizeField))
		}
		size = size<<4 | int64(v)
	}
	if !hasExt {
		return size, false, nil
	}
	sig, ok := bytes.CutPrefix(ext, signatureExtension)
	if !ok {
		return 0, false, fmt.Errorf("%w: chunk extension %q", ErrMalformed, clip(ext))
	}
	if len(sig) == 0 || len(sig) > maxSignatureLength {
		return 0, false, fmt.Errorf("%w: chunk signature of %d bytes", ErrMalformed, len(sig))
	}
	for _, c := range sig {
		if _, ok := hexValue(c); !ok && c != '*' {
			return 0, false, fmt.Errorf("%w: chunk signature %q", ErrMalformed, clip(sig))
		}
	}
	return size, true, nil
}

// parseTrailer reads "name:value" (CRLF removed). The name is a header
// token of letters, digits and '-'; the value is printable ASCII, with
// surrounding blanks trimmed.
func parseTrailer(line []byte) (name, value string, err error) {
	rawName, rawValue, ok := bytes.Cut(line, []byte(":"))
	if !ok {
		return "", "", fmt.Errorf("%w: trailer %q has no colon", ErrMalformed, clip(line))
	}
	if len(rawName) == 0 || len(rawName) > maxTrailerName {
		return "", "", fmt.Errorf("%w: trailer name %q", ErrMalformed, clip(rawName))
	}
	for _, c := range rawName {
		if !isNameByte(c) {
			return "", "", fmt.Errorf("%w: trailer name %q", ErrMalformed, clip(rawName))
		}
	}
	rawValue = bytes.Trim(rawValue, " \t")
	for _, c := range rawValue {
		if (c < 0x20 || c > 0x7e) && c != '\t' {
			return "", "", fmt.Errorf("%w: trailer %s has a control or non-ASCII byte", ErrMalformed, rawName)
		}
	}
	return http.CanonicalHeaderKey(string(rawName)), string(rawValue), nil
}

func hexValue(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

func isNameByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-'
}

// clip shortens hostile input quoted in an error message.
func clip(b []byte) []byte {
	const most = 40
	if len(b) > most {
		return b[:most]
	}
	return b
}
