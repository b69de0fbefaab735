// Package s3err writes the errors s3cache makes itself in S3's own XML
// format, so SDKs parse and retry them as they would S3's.
package s3err

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/xml"
	"net/http"
	"strings"
)

type body struct {
	XMLName   xml.Name `xml:"Error"`
	Code      string   `xml:"Code"`
	Message   string   `xml:"Message"`
	Resource  string   `xml:"Resource,omitempty"`
	RequestID string   `xml:"RequestId"`
}

// Write sends an S3-style error response.
func Write(w http.ResponseWriter, r *http.Request, status int, code, message string) {
	id := NewRequestID()
	b, _ := xml.Marshal(body{Code: code, Message: message, Resource: r.URL.Path, RequestID: id})
	h := w.Header()
	h.Set("Content-Type", "application/xml")
	h.Set("X-Amz-Request-Id", id)
	if h.Get("X-Cache") == "" {
		h.Set("X-Cache", "BYPASS") // a contract: every response says how it was served
	}
	if status == http.StatusServiceUnavailable && h.Get("Retry-After") == "" {
		h.Set("Retry-After", "1")
	}
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		w.Write([]byte(xml.Header))
		w.Write(b)
	}
}

// NewRequestID returns a request id in the style of S3's (16 upper-case hex digits).
func NewRequestID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return strings.ToUpper(hex.EncodeToString(b[:]))
}
