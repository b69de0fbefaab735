package cache

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/s3cache/s3cache/internal/s3err"
)

// perResponse headers describe one response, not the object: they are not
// stored, and a hit gets fresh ones.
var perResponse = map[string]bool{
	"X-Amz-Request-Id": true, "X-Amz-Id-2": true, "Date": true, "Server": true,
	"Connection": true, "Keep-Alive": true, "Transfer-Encoding": true, "Content-Length": true,
	"Content-Range": true, "X-Cache": true, "Accept-Ranges": true, "Set-Cookie": true,
	"Proxy-Connection": true, "Trailer": true, "Upgrade": true, "Te": true,
	// Only a partNumber answer carries it; it is added back for those.
	"X-Amz-Mp-Parts-Count": true,
}

// storableHeader keeps the object's headers from an S3 response.
func storableHeader(h http.Header) http.Header {
	out := make(http.Header, len(h))
	for k, v := range h {
		if !perResponse[http.CanonicalHeaderKey(k)] {
			out[k] = append([]string(nil), v...)
		}
	}
	return out
}

// replayHeader writes a cached object's headers for a hit.
func replayHeader(w http.ResponseWriter, stored, overrides http.Header, outcome string, wholeObject bool) {
	h := w.Header()
	for k, v := range stored {
		if !wholeObject && strings.HasPrefix(k, "X-Amz-Checksum-") {
			// S3 sends whole-object checksums only with whole objects.
			continue
		}
		h[k] = v
	}
	for k, v := range overrides {
		h[k] = v
	}
	h.Set("Accept-Ranges", "bytes")
	h.Set("X-Amz-Request-Id", s3err.NewRequestID())
	h.Set("X-Cache", outcome)
}

func contentRange(start, end, size int64) string {
	return "bytes " + strconv.FormatInt(start, 10) + "-" + strconv.FormatInt(end, 10) + "/" + strconv.FormatInt(size, 10)
}
