package tunnel

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"time"
)

// ConnectHandler answers forward-proxy CONNECT requests with a raw TLS
// tunnel to port 443 of an allowed host. Mount it for method CONNECT on the
// HTTP listener(s). http.Server.Shutdown does not wait for hijacked
// connections: call ConnectHandler.Shutdown as well.
type ConnectHandler struct {
	cfg     Config
	tunnels *tracker
	inUse   atomic.Int64
}

// NewConnectHandler builds a ConnectHandler; fields of cfg left zero take
// their defaults. HelloTimeout is not used.
func NewConnectHandler(cfg Config) *ConnectHandler {
	return &ConnectHandler{cfg: cfg.withDefaults(), tunnels: newTracker()}
}

// ServeHTTP handles one CONNECT request.
func (h *ConnectHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	log := h.cfg.Logger.With("remote", r.RemoteAddr, "authority", r.Host)
	if r.Method != http.MethodConnect {
		w.Header().Set("Allow", http.MethodConnect)
		writeS3Error(w, http.StatusMethodNotAllowed, "MethodNotAllowed", "This endpoint accepts only CONNECT.")
		return
	}
	if r.ProtoMajor != 1 {
		writeS3Error(w, http.StatusHTTPVersionNotSupported, "NotImplemented", "CONNECT is supported over HTTP/1.1 only.")
		return
	}
	host, port, err := net.SplitHostPort(r.Host)
	if err != nil {
		writeS3Error(w, http.StatusBadRequest, "InvalidRequest", "CONNECT needs a host:port authority.")
		return
	}
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	if port != UpstreamPort {
		log.Info("connect: refused: port not allowed")
		writeS3Error(w, http.StatusForbidden, "AccessDenied", "CONNECT is allowed to port 443 only.")
		return
	}
	if !h.cfg.Allow(host) {
		log.Info("connect: refused: host not allowed")
		writeS3Error(w, http.StatusForbidden, "AccessDenied", fmt.Sprintf("CONNECT to %s is not allowed by this proxy.", host))
		return
	}
	if !h.tunnels.begin() {
		writeS3Error(w, http.StatusServiceUnavailable, "ServiceUnavailable", "The proxy is shutting down.")
		return
	}
	defer h.tunnels.end()
	if h.cfg.MaxTunnels > 0 {
		if h.inUse.Add(1) > int64(h.cfg.MaxTunnels) {
			h.inUse.Add(-1)
			log.Warn("connect: refused: too many tunnels", "max", h.cfg.MaxTunnels)
			writeS3Error(w, http.StatusServiceUnavailable, "SlowDown", "Too many tunnels are open; retry later.")
			return
		}
		defer h.inUse.Add(-1)
	}

	upstream, err := h.cfg.dialUpstream(r.Context(), host)
	if err != nil {
		log.Warn("connect: upstream unreachable", "target", h.cfg.target(host), "err", err)
		writeS3Error(w, http.StatusBadGateway, "BadGateway", fmt.Sprintf("Could not reach %s.", host))
		return
	}
	defer upstream.Close()
	if !h.tunnels.add(upstream) {
		writeS3Error(w, http.StatusServiceUnavailable, "ServiceUnavailable", "The proxy is shutting down.")
		return
	}
	defer h.tunnels.remove(upstream)

	client, err := h.hijack(w)
	if err != nil {
		log.Error("connect: cannot take over the connection", "err", err)
		writeS3Error(w, http.StatusInternalServerError, "InternalError", "The connection cannot be tunnelled.")
		return
	}
	defer client.Close()
	if !h.tunnels.add(client) {
		return
	}
	defer h.tunnels.remove(client)

	start := time.Now()
	stats := relay(client, upstream, h.cfg.IdleTimeout)
	log.Debug("connect: tunnel closed", "bytes_up", stats.ClientToUpstream, "bytes_down", stats.UpstreamToClient,
		"duration", time.Since(start).Round(time.Millisecond))
}

// hijack takes the client connection from net/http, answers 200 on it and
// returns it, with any bytes the client already sent past the request
// (often the ClientHello) put back in front.
func (h *ConnectHandler) hijack(w http.ResponseWriter) (net.Conn, error) {
	conn, rw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		return nil, fmt.Errorf("hijack: %w", err)
	}
	_ = conn.SetDeadline(time.Time{})
	_ = conn.SetWriteDeadline(time.Now().Add(h.cfg.DialTimeout))
	if _, err := rw.WriteString("HTTP/1.1 200 Connection Established\r\n\r\n"); err != nil {
		conn.Close()
		return nil, fmt.Errorf("answer CONNECT: %w", err)
	}
	if err := rw.Flush(); err != nil {
		conn.Close()
		return nil, fmt.Errorf("answer CONNECT: %w", err)
	}
	_ = conn.SetWriteDeadline(time.Time{})
	if n := rw.Reader.Buffered(); n > 0 {
		early, _ := rw.Reader.Peek(n)
		return &prefixedConn{Conn: conn, prefix: append([]byte(nil), early...)}, nil
	}
	return conn, nil
}

// Shutdown refuses new CONNECTs with 503, waits for live tunnels until ctx
// ends, then closes those left and returns ctx's error.
func (h *ConnectHandler) Shutdown(ctx context.Context) error {
	if err := h.tunnels.shutdown(ctx); err != nil {
		return fmt.Errorf("tunnel: connect shutdown: %w", err)
	}
	return nil
}

// prefixedConn is a connection whose first reads return prefix.
type prefixedConn struct {
	net.Conn
	prefix []byte
}

func (c *prefixedConn) Read(p []byte) (int, error) {
	if len(c.prefix) > 0 {
		n := copy(p, c.prefix)
		c.prefix = c.prefix[n:]
		return n, nil
	}
	return c.Conn.Read(p)
}

// CloseWrite passes a half-close through to the underlying connection.
func (c *prefixedConn) CloseWrite() error { return closeWrite(c.Conn) }
