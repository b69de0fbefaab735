package harness

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httputil"
	"strings"
	"sync"
	"time"
)

// Request is what the counting proxy saw of one request on its way to the
// origin.
type Request struct {
	Method string
	Host   string
	URI    string // request-target as received (path?query, not re-encoded)
	Header http.Header
	Status int
}

func (r Request) String() string {
	return fmt.Sprintf("%s %s%s -> %d", r.Method, r.Host, r.URI, r.Status)
}

// Counter is a transparent reverse proxy between s3cache and the origin. It
// forwards the request line, Host and headers untouched (so SigV4 signatures
// stay valid) and streams bodies both ways, while counting requests by method
// and the bytes of response bodies. Tests Reset it and then prove that a hit
// made no origin request at all.
type Counter struct {
	URL string // http(s)://127.0.0.1:port, to pass as s3cache's --origin

	srv *http.Server
	rp  *httputil.ReverseProxy

	mu       sync.Mutex
	reqs     []Request
	bytes    int64
	cutAfter int64 // >= 0: abort the next 2xx GET response body after this many bytes
}

// StartCounter starts a counting proxy on 127.0.0.1 in front of target
// ("http://127.0.0.1:port" or https). If tlsCert is non-nil it serves HTTPS
// with that certificate. transport carries the upstream connections.
func StartCounter(target string, tlsCert *tls.Certificate, transport *http.Transport, errLog io.Writer) (*Counter, error) {
	scheme, host, ok := strings.Cut(target, "://")
	if !ok {
		return nil, errors.New("counter: target needs a scheme: " + target)
	}
	c := &Counter{cutAfter: -1}
	c.rp = &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.Out.URL.Scheme = scheme
			pr.Out.URL.Host = host
			pr.Out.Host = pr.In.Host
			// Send the request-target exactly as received: no re-encoding.
			if path, _, _ := strings.Cut(pr.In.RequestURI, "?"); !strings.HasPrefix(path, "//") {
				pr.Out.URL.Opaque = path
			}
		},
		Transport:      transport,
		FlushInterval:  -1,
		ErrorLog:       log.New(errLog, "counter: ", log.LstdFlags),
		ModifyResponse: c.modifyResponse,
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	c.URL = "http://" + ln.Addr().String()
	if tlsCert != nil {
		ln = tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{*tlsCert}})
		c.URL = "https://" + ln.Addr().String()
	}
	c.srv = &http.Server{Handler: c, ErrorLog: log.New(errLog, "counter: ", log.LstdFlags), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = c.srv.Serve(ln) }()
	return c, nil
}

type ctxKey struct{}

func (c *Counter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c.mu.Lock()
	c.reqs = append(c.reqs, Request{Method: r.Method, Host: r.Host, URI: r.RequestURI, Header: r.Header.Clone()})
	idx := len(c.reqs) - 1
	c.mu.Unlock()
	c.rp.ServeHTTP(w, r.WithContext(contextWithIndex(r, idx)))
}

func (c *Counter) modifyResponse(resp *http.Response) error {
	idx, _ := resp.Request.Context().Value(ctxKey{}).(int)
	c.mu.Lock()
	if idx < len(c.reqs) {
		c.reqs[idx].Status = resp.StatusCode
	}
	cut := int64(-1)
	if c.cutAfter >= 0 && resp.Request.Method == http.MethodGet && resp.StatusCode/100 == 2 {
		cut, c.cutAfter = c.cutAfter, -1
	}
	c.mu.Unlock()
	resp.Body = &countingBody{ReadCloser: resp.Body, c: c, cut: cut}
	return nil
}

// Close stops the proxy.
func (c *Counter) Close() {
	_ = c.srv.Close()
	if tr, ok := c.rp.Transport.(*http.Transport); ok {
		tr.CloseIdleConnections()
	}
}

// Reset forgets every count and recorded request.
func (c *Counter) Reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.reqs, c.bytes = nil, 0
}

// Count returns the number of requests with the method ("" = all).
func (c *Counter) Count(method string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, r := range c.reqs {
		if method == "" || r.Method == method {
			n++
		}
	}
	return n
}

// Total returns the number of requests of any method.
func (c *Counter) Total() int { return c.Count("") }

// Bytes returns the response body bytes sent from the origin.
func (c *Counter) Bytes() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.bytes
}

// Requests returns a copy of the recorded requests, oldest first.
func (c *Counter) Requests() []Request {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]Request(nil), c.reqs...)
}

// Summary is a one-line description for failure messages.
func (c *Counter) Summary() string {
	var b strings.Builder
	rs := c.Requests()
	fmt.Fprintf(&b, "%d origin request(s), %d body bytes", len(rs), c.Bytes())
	for _, r := range rs {
		b.WriteString("; ")
		b.WriteString(r.String())
	}
	return b.String()
}

// CutNextGET makes the next successful GET response from the origin stop
// after n body bytes, with the connection aborted (a reset mid-body).
func (c *Counter) CutNextGET(n int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.cutAfter = n
}

type countingBody struct {
	io.ReadCloser
	c    *Counter
	cut  int64
	seen int64
}

var errCut = errors.New("counter: body cut by fault injection")

func (b *countingBody) Read(p []byte) (int, error) {
	if b.cut >= 0 {
		left := b.cut - b.seen
		if left <= 0 {
			return 0, errCut
		}
		if int64(len(p)) > left {
			p = p[:left]
		}
	}
	n, err := b.ReadCloser.Read(p)
	b.seen += int64(n)
	b.c.mu.Lock()
	b.c.bytes += int64(n)
	b.c.mu.Unlock()
	return n, err
}

func contextWithIndex(r *http.Request, idx int) context.Context {
	return context.WithValue(r.Context(), ctxKey{}, idx)
}
