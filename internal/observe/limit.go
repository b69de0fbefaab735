package observe

import (
	"net/http"

	"github.com/s3cache/s3cache/internal/s3err"
)

// Limit serves at most max requests at once; a request beyond that is
// answered at once with S3's 503 SlowDown and Retry-After, which every SDK
// retries with backoff. max <= 0 means no limit. CONNECT tunnels are not
// counted: they are long-lived and carry no S3 request s3cache serves.
func Limit(next http.Handler, max int, m *Metrics) http.Handler {
	if max <= 0 {
		return next
	}
	return &limiter{next: next, slots: make(chan struct{}, max), metrics: m}
}

type limiter struct {
	next    http.Handler
	slots   chan struct{}
	metrics *Metrics
}

func (l *limiter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodConnect {
		l.next.ServeHTTP(w, r)
		return
	}
	select {
	case l.slots <- struct{}{}:
	default:
		l.metrics.Rejected(RejectConcurrency)
		MarkLocalError(r.Context())
		w.Header().Set("Retry-After", "1")
		s3err.Write(w, r, http.StatusServiceUnavailable, "SlowDown", "Please reduce your request rate.")
		return
	}
	defer func() { <-l.slots }()
	l.next.ServeHTTP(w, r)
}
