package origin

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"
)

// Config tells the client where S3 is and how patient to be.
type Config struct {
	// URL is a fixed S3 endpoint ("https://127.0.0.1:9000"). Empty means each
	// request goes to its own Host over HTTPS on port 443.
	URL string
	// CAFile is a PEM bundle trusted in addition to the system roots.
	CAFile              string
	ConnectTimeout      time.Duration
	FirstByteTimeout    time.Duration
	MaxIdleConnsPerHost int
	// DialContext, when set, replaces the default dialer (custom DNS,
	// destination policy).
	DialContext func(ctx context.Context, network, addr string) (net.Conn, error)
	// AllowHost, when set, vets the Host of requests sent to their own
	// Host (no URL): S3 endpoints yes, anything else no (SSRF).
	AllowHost func(host string) error
	// WrapTransport, when set, wraps the pooled transport (metrics).
	WrapTransport func(http.RoundTripper) http.RoundTripper
	Resilience
}

// Client forwards requests to the origin.
type Client struct {
	base      *url.URL // nil: use the request's Host
	transport *http.Transport
	rt        http.RoundTripper // transport, possibly wrapped
	allowHost func(host string) error
	res       Resilience
	budget    hedgeBudget
}

// New builds a client with a pooled transport.
func New(cfg Config) (*Client, error) {
	c := &Client{allowHost: cfg.AllowHost, res: cfg.Resilience}
	if cfg.URL != "" {
		u, err := url.Parse(cfg.URL)
		if err != nil {
			return nil, fmt.Errorf("origin URL: %w", err)
		}
		c.base = u
	}
	roots, err := x509.SystemCertPool()
	if err != nil || roots == nil {
		roots = x509.NewCertPool()
	}
	if cfg.CAFile != "" {
		pem, err := os.ReadFile(cfg.CAFile)
		if err != nil {
			return nil, fmt.Errorf("origin CA: %w", err)
		}
		if !roots.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("origin CA %s: no PEM certificates found", cfg.CAFile)
		}
	}
	dial := cfg.DialContext
	if dial == nil {
		dial = (&net.Dialer{Timeout: cfg.ConnectTimeout, KeepAlive: 30 * time.Second}).DialContext
	}
	c.transport = &http.Transport{
		Proxy:                 nil, // HTTP_PROXY may well point at s3cache itself
		DialContext:           dial,
		TLSClientConfig:       &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12},
		TLSHandshakeTimeout:   cfg.ConnectTimeout,
		ResponseHeaderTimeout: cfg.FirstByteTimeout,
		ExpectContinueTimeout: time.Second,
		MaxIdleConns:          4 * cfg.MaxIdleConnsPerHost,
		MaxIdleConnsPerHost:   cfg.MaxIdleConnsPerHost,
		IdleConnTimeout:       55 * time.Second,
		DisableCompression:    true, // Accept-Encoding would be unsigned and change the bytes
		WriteBufferSize:       256 << 10,
		ReadBufferSize:        256 << 10,
	}
	c.rt = c.transport
	if cfg.WrapTransport != nil {
		c.rt = cfg.WrapTransport(c.rt)
	}
	return c, nil
}

// Close drops idle upstream connections.
func (c *Client) Close() { c.transport.CloseIdleConnections() }

// hopHeaders apply to one connection only and are never forwarded.
var hopHeaders = []string{"Connection", "Keep-Alive", "Proxy-Connection", "Proxy-Authorization",
	"Proxy-Authenticate", "Te", "Trailer", "Transfer-Encoding", "Upgrade"}

// RemoveHopHeaders deletes hop-by-hop headers, including those that
// Connection names.
func RemoveHopHeaders(h http.Header) {
	for _, v := range h.Values("Connection") {
		for name := range strings.SplitSeq(v, ",") {
			if name = strings.TrimSpace(name); name != "" {
				h.Del(name)
			}
		}
	}
	for _, name := range hopHeaders {
		h.Del(name)
	}
}

// NewRequest builds the upstream copy of r under ctx. The body is r's, so
// it streams; the caller may add headers the client did not sign.
func (c *Client) NewRequest(ctx context.Context, r *http.Request) (*http.Request, error) {
	path, query := requestTarget(r)
	u := &url.URL{RawQuery: query}
	if c.base != nil {
		u.Scheme, u.Host = c.base.Scheme, c.base.Host
	} else {
		host := r.Host
		if h, _, err := net.SplitHostPort(host); err == nil {
			host = h
		}
		if host == "" {
			return nil, errors.New("request has no Host")
		}
		if c.allowHost != nil {
			if err := c.allowHost(strings.Trim(host, "[]")); err != nil {
				return nil, err
			}
		}
		u.Scheme, u.Host = "https", net.JoinHostPort(strings.Trim(host, "[]"), "443")
	}
	if err := setRawPath(u, path); err != nil {
		return nil, err
	}
	out := r.Clone(ctx)
	out.URL = u
	out.Host = r.Host
	out.RequestURI = ""
	out.Close = false
	RemoveHopHeaders(out.Header)
	if _, ok := out.Header["User-Agent"]; !ok {
		out.Header["User-Agent"] = []string{""} // Go's default would be an unsigned addition
	}
	if r.ContentLength == 0 {
		out.Body = nil
	}
	return out, nil
}

// ErrNotSent marks a failure before anything reached the origin.
var ErrNotSent = errors.New("origin: request not sent")

// Send forwards the client's request under ctx, with extra headers the
// client did not sign (a Range of its own, validators). Errors from before
// the request left wrap ErrNotSent.
func (c *Client) Send(ctx context.Context, r *http.Request, extra http.Header) (*http.Response, error) {
	out, err := c.NewRequest(ctx, r)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrNotSent, err)
	}
	for k, v := range extra {
		out.Header[k] = v
	}
	return c.RoundTrip(out)
}

// RoundTrip sends one request upstream without following redirects, with
// the configured retries, hedging and idle watchdog.
func (c *Client) RoundTrip(req *http.Request) (*http.Response, error) {
	return c.roundTripResilient(req)
}

// requestTarget returns the raw path and raw query exactly as the client
// sent them, also for absolute-form targets (forward-proxy clients).
func requestTarget(r *http.Request) (path, query string) {
	target := r.RequestURI
	if target == "" {
		return r.URL.EscapedPath(), r.URL.RawQuery
	}
	if i := strings.Index(target, "://"); i > 0 && !strings.HasPrefix(target, "/") {
		rest := target[i+3:]
		if j := strings.IndexAny(rest, "/?"); j >= 0 {
			target = rest[j:]
		} else {
			target = "/"
		}
		if strings.HasPrefix(target, "?") {
			target = "/" + target
		}
	}
	path, query, _ = strings.Cut(target, "?")
	return path, query
}

// setRawPath makes u's request line carry path byte for byte. Opaque does
// that, except for paths starting with "//", which Go would read as an
// authority; for those the escaped form must round-trip through Path.
func setRawPath(u *url.URL, path string) error {
	if !strings.HasPrefix(path, "//") {
		u.Opaque = path
		return nil
	}
	decoded, err := url.PathUnescape(path)
	if err != nil {
		return fmt.Errorf("request path: %w", err)
	}
	u.Path, u.RawPath = decoded, path
	if u.EscapedPath() != path {
		return fmt.Errorf("request path %q cannot be forwarded byte for byte", path)
	}
	return nil
}
