package observe

import (
	"context"
	"net/http"
	"time"

	"github.com/s3cache/s3cache/internal/s3req"
)

// Wrap returns a handler that serves next and reports a Record of each
// request to every sink. The response writer it hands to next keeps
// io.ReaderFrom (so hits still reach the socket through sendfile),
// http.Flusher and http.Hijacker, and unwraps for http.ResponseController.
//
// CONNECT requests (forward-proxy tunnels) pass through unrecorded: they are
// not S3 requests, and a tunnel's lifetime would distort the latency figures.
func Wrap(next http.Handler, parse s3req.Options, sinks ...Sink) http.Handler {
	return &middleware{next: next, parse: parse, sinks: sinks, now: time.Now}
}

type middleware struct {
	next  http.Handler
	parse s3req.Options
	sinks []Sink
	now   func() time.Time
}

func (m *middleware) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodConnect {
		m.next.ServeHTTP(w, r)
		return
	}
	rec := &Record{Start: m.now(), Request: r, S3: s3req.Parse(r, m.parse), Header: w.Header()}
	for _, s := range m.sinks {
		s.Started(rec)
	}
	rw := &recordingWriter{ResponseWriter: w, rec: rec, now: m.now}
	completed := false
	defer func() {
		// Runs during a panic too (http.ErrAbortHandler cuts a response
		// short); the panic continues to net/http afterwards.
		m.finish(rec, rw, !completed)
	}()
	ctx := s3req.NewContext(context.WithValue(r.Context(), noteKey{}, rec), rec.S3)
	m.next.ServeHTTP(rw, r.WithContext(ctx))
	completed = true
}

func (m *middleware) finish(rec *Record, rw *recordingWriter, aborted bool) {
	if !rw.wroteHeader && !aborted {
		// net/http sends 200 for a handler that wrote nothing.
		rw.latch(http.StatusOK)
	}
	rec.Aborted = aborted
	rec.Duration = m.now().Sub(rec.Start)
	rec.ErrorCode = errorCode(rw.errBody)
	rec.Outcome = outcomeOf(rec)
	rec.Source = sourceOf(rec.Outcome, rec.noted)
	for _, s := range m.sinks {
		s.Finished(rec)
	}
}
