package tunnel

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"
)

// ErrServerClosed is returned by Serve after Shutdown or after its context
// ends.
var ErrServerClosed = errors.New("tunnel: server closed")

// Server is the HTTPS passthrough listener: it accepts TLS connections,
// reads their SNI and tunnels the allowed ones to the real endpoint.
type Server struct {
	cfg     Config
	tunnels *tracker
	slots   chan struct{} // nil when MaxTunnels is 0

	mu        sync.Mutex
	listeners map[net.Listener]struct{}
	closed    bool
	done      chan struct{} // closed by Shutdown
}

// NewServer builds a Server; fields of cfg left zero take their defaults.
func NewServer(cfg Config) *Server {
	cfg = cfg.withDefaults()
	s := &Server{
		cfg:       cfg,
		tunnels:   newTracker(),
		listeners: make(map[net.Listener]struct{}),
		done:      make(chan struct{}),
	}
	if cfg.MaxTunnels > 0 {
		s.slots = make(chan struct{}, cfg.MaxTunnels)
	}
	return s
}

// Serve accepts connections on ln until Shutdown is called or ctx ends,
// then closes ln and returns ErrServerClosed (any other error means
// accepting failed). Ending ctx stops accepting and aborts connections
// still in their handshake; established tunnels run on until they end or
// Shutdown's deadline passes.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	if !s.track(ln) {
		ln.Close()
		return ErrServerClosed
	}
	defer s.untrack(ln)
	stop := context.AfterFunc(ctx, func() { ln.Close() })
	defer stop()

	var backoff time.Duration
	for {
		if !s.acquireSlot(ctx) {
			return ErrServerClosed
		}
		conn, err := ln.Accept()
		if err != nil {
			s.releaseSlot()
			if s.isClosed() || ctx.Err() != nil {
				return ErrServerClosed
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() || isTemporaryAcceptError(err) {
				backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
				s.cfg.Logger.Warn("tls passthrough: accept failed; retrying", "err", err, "retry_in", backoff)
				if !sleepCtx(ctx, backoff) {
					return ErrServerClosed
				}
				continue
			}
			return fmt.Errorf("tunnel: accept on %s: %w", ln.Addr(), err)
		}
		backoff = 0
		if !s.tunnels.begin() {
			conn.Close()
			s.releaseSlot()
			return ErrServerClosed
		}
		go func() {
			defer s.releaseSlot()
			defer s.tunnels.end()
			s.handle(ctx, conn)
		}()
	}
}

// handle peeks the SNI of one connection, checks it and tunnels it.
func (s *Server) handle(ctx context.Context, client net.Conn) {
	defer client.Close()
	if !s.tunnels.add(client) {
		return
	}
	defer s.tunnels.remove(client)
	log := s.cfg.Logger.With("remote", client.RemoteAddr().String())

	helloCtx, cancel := context.WithTimeout(ctx, s.cfg.HelloTimeout)
	host, hello, err := PeekClientHello(helloCtx, client)
	cancel()
	switch {
	case err != nil:
		log.Info("tls passthrough: closing connection without a usable ClientHello", "err", err)
		return
	case host == "":
		log.Info("tls passthrough: closing connection without SNI")
		return
	case !s.cfg.Allow(host):
		log.Info("tls passthrough: closing connection: SNI not allowed", "sni", host)
		return
	}

	upstream, err := s.cfg.dialUpstream(ctx, host)
	if err != nil {
		log.Warn("tls passthrough: upstream unreachable", "sni", host, "target", s.cfg.target(host), "err", err)
		return
	}
	defer upstream.Close()
	if !s.tunnels.add(upstream) {
		return
	}
	defer s.tunnels.remove(upstream)

	_ = upstream.SetWriteDeadline(time.Now().Add(s.cfg.IdleTimeout))
	if _, err := upstream.Write(hello); err != nil {
		log.Warn("tls passthrough: sending ClientHello upstream failed", "sni", host, "err", err)
		return
	}
	start := time.Now()
	stats := relay(client, upstream, s.cfg.IdleTimeout)
	log.Debug("tls passthrough: tunnel closed", "sni", host,
		"bytes_up", stats.ClientToUpstream+int64(len(hello)), "bytes_down", stats.UpstreamToClient,
		"duration", time.Since(start).Round(time.Millisecond))
}

// Shutdown stops accepting on every listener, waits for live tunnels until
// ctx ends, then closes those left and returns ctx's error.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	if !s.closed {
		s.closed = true
		close(s.done)
	}
	for ln := range s.listeners {
		ln.Close()
	}
	s.mu.Unlock()
	if err := s.tunnels.shutdown(ctx); err != nil {
		return fmt.Errorf("tunnel: shutdown: %w", err)
	}
	return nil
}

func (s *Server) track(ln net.Listener) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.listeners[ln] = struct{}{}
	return true
}

func (s *Server) untrack(ln net.Listener) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.listeners, ln)
	ln.Close()
}

func (s *Server) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

// acquireSlot waits for room under MaxTunnels; false when the server is
// closing.
func (s *Server) acquireSlot(ctx context.Context) bool {
	if s.slots == nil {
		return !s.isClosed() && ctx.Err() == nil
	}
	select {
	case s.slots <- struct{}{}:
		return true
	case <-s.done:
		return false
	case <-ctx.Done():
		return false
	}
}

func (s *Server) releaseSlot() {
	if s.slots != nil {
		<-s.slots
	}
}

func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
