package tunnel

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/xml"
	"net/http"
	"strings"
)

// writeS3Error answers with an S3-style XML error, as S3 clients expect
// from anything that stands in for S3.
func writeS3Error(w http.ResponseWriter, status int, code, message string) {
	requestID := newRequestID()
	var body strings.Builder
	body.WriteString(xml.Header)
	body.WriteString("<Error><Code>")
	_ = xml.EscapeText(&body, []byte(code))
	body.WriteString("</Code><Message>")
	_ = xml.EscapeText(&body, []byte(message))
	body.WriteString("</Message><RequestId>")
	body.WriteString(requestID)
	body.WriteString("</RequestId></Error>")

	h := w.Header()
	h.Set("Content-Type", "application/xml")
	h.Set("X-Amz-Request-Id", requestID)
	h.Set("Connection", "close")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(body.String()))
}

func newRequestID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return strings.ToUpper(hex.EncodeToString(b[:]))
}
