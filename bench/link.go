package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// shape describes the network between a site and S3. The zero value is raw
// loopback: no delay, no caps.
type shape struct {
	FirstByteDelay time.Duration `json:"first_byte_delay_ns"`
	PerConnRate    int64         `json:"per_conn_bytes_per_s"` // each direction of each connection
	LinkRate       int64         `json:"link_bytes_per_s"`     // each direction of the whole link
}

func (s shape) String() string {
	if s == (shape{}) {
		return "raw loopback (counting only)"
	}
	return fmt.Sprintf("first byte +%v, %s/connection, %s link", s.FirstByteDelay, rateText(s.PerConnRate), rateText(s.LinkRate))
}

func rateText(r int64) string {
	if r <= 0 {
		return "uncapped"
	}
	return fmt.Sprintf("%d MiB/s", r>>20)
}

const (
	linkChunk      = 64 << 10
	perConnBurst   = 256 << 10
	wholeLinkBurst = 1 << 20
)

// link is the TCP proxy every contender reaches the origin through. It
// forwards bytes untouched (so signatures hold), shapes them as its shape
// says, and counts them: downBytes is everything the origin sent, which is
// how the harness knows the origin bytes a scenario cost.
type link struct {
	addr   string // 127.0.0.1:port to dial instead of the origin
	target string
	shape  shape
	log    *slog.Logger

	ln        net.Listener
	down, up  *tokenBucket // whole-link caps
	downBytes atomic.Int64
	upBytes   atomic.Int64
	conns     atomic.Int64

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// startLink listens on a free 127.0.0.1 port and proxies to target.
func startLink(ctx context.Context, target string, sh shape, log *slog.Logger) (*link, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("link listen: %w", err)
	}
	lctx, cancel := context.WithCancel(ctx)
	l := &link{
		addr: ln.Addr().String(), target: target, shape: sh, log: log, ln: ln,
		down: newTokenBucket(sh.LinkRate, wholeLinkBurst), up: newTokenBucket(sh.LinkRate, wholeLinkBurst),
		ctx: lctx, cancel: cancel,
	}
	l.wg.Add(1)
	go l.accept()
	return l, nil
}

// Close stops accepting, cuts every open connection and waits for them.
func (l *link) Close() {
	l.cancel()
	_ = l.ln.Close()
	l.wg.Wait()
}

func (l *link) accept() {
	defer l.wg.Done()
	for {
		c, err := l.ln.Accept()
		if err != nil {
			if l.ctx.Err() == nil && !errors.Is(err, net.ErrClosed) {
				l.log.Warn("link accept", "err", err)
			}
			return
		}
		l.conns.Add(1)
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			l.serve(c.(*net.TCPConn))
		}()
	}
}

func (l *link) serve(client *net.TCPConn) {
	defer client.Close()
	var d net.Dialer
	oc, err := d.DialContext(l.ctx, "tcp", l.target)
	if err != nil {
		l.log.Warn("link dial origin", "err", err)
		return
	}
	origin := oc.(*net.TCPConn)
	defer origin.Close()
	ctx, cancel := context.WithCancel(l.ctx)
	defer cancel()
	go func() { // cut both sides when the link closes
		<-ctx.Done()
		_ = client.Close()
		_ = origin.Close()
	}()
	var awaitingResponse atomic.Bool
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		p := pump{from: client, to: origin, conn: newTokenBucket(l.shape.PerConnRate, perConnBurst), link: l.up, count: &l.upBytes,
			onData: func() { awaitingResponse.Store(true) }}
		p.run(ctx)
	}()
	go func() {
		defer wg.Done()
		p := pump{from: origin, to: client, conn: newTokenBucket(l.shape.PerConnRate, perConnBurst), link: l.down, count: &l.downBytes,
			beforeData: func() time.Duration {
				if awaitingResponse.Swap(false) {
					return l.shape.FirstByteDelay
				}
				return 0
			}}
		p.run(ctx)
	}()
	wg.Wait()
}

// pump copies one direction of a connection through the rate limits.
type pump struct {
	from, to   *net.TCPConn
	conn, link *tokenBucket
	count      *atomic.Int64
	onData     func()               // as a chunk is forwarded
	beforeData func() time.Duration // delay before forwarding a chunk
}

func (p pump) run(ctx context.Context) {
	defer func() { _ = p.to.CloseWrite() }()
	buf := make([]byte, linkChunk)
	for {
		n, rerr := p.from.Read(buf)
		if n > 0 {
			if p.beforeData != nil {
				if sleep(ctx, p.beforeData()) != nil {
					return
				}
			}
			if p.conn.Take(ctx, n) != nil || p.link.Take(ctx, n) != nil {
				return
			}
			// Counted (and a request marked) before the write, so that the
			// other side never sees bytes or a response before that.
			p.count.Add(int64(n))
			if p.onData != nil {
				p.onData()
			}
			if _, err := p.to.Write(buf[:n]); err != nil {
				_ = p.from.CloseRead()
				return
			}
		}
		if rerr != nil {
			if !errors.Is(rerr, io.EOF) {
				_ = p.to.Close()
			}
			return
		}
	}
}
