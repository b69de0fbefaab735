package tunnel

import (
	"errors"
	"io"
	"net"
	"os"
	"sync/atomic"
	"time"
)

const relayBufferSize = 32 << 10

// relayStats counts the bytes a tunnel carried.
type relayStats struct {
	ClientToUpstream int64
	UpstreamToClient int64
}

// relay copies client → upstream and upstream → client until both
// directions end. An EOF on one side is passed on as a half-close
// (CloseWrite) so the other direction can finish; an error on either side
// closes both. With idle > 0 the tunnel ends once neither direction has
// moved a byte for idle. relay closes both connections before returning.
func relay(client, upstream net.Conn, idle time.Duration) relayStats {
	var lastActive atomic.Int64
	lastActive.Store(time.Now().UnixNano())

	type result struct {
		n   int64
		err error
		up  bool
	}
	results := make(chan result, 2)
	go func() {
		n, err := copyHalf(upstream, client, idle, &lastActive)
		results <- result{n, err, true}
	}()
	go func() {
		n, err := copyHalf(client, upstream, idle, &lastActive)
		results <- result{n, err, false}
	}()

	var stats relayStats
	for i := range 2 {
		r := <-results
		if r.up {
			stats.ClientToUpstream = r.n
		} else {
			stats.UpstreamToClient = r.n
		}
		if r.err != nil && i == 0 {
			// Abort: unblock the other direction.
			client.Close()
			upstream.Close()
		}
	}
	client.Close()
	upstream.Close()
	return stats
}

// copyHalf copies src to dst until EOF (then half-closes dst) or an error.
// Reads that time out are retried while the other direction is active.
func copyHalf(dst, src net.Conn, idle time.Duration, lastActive *atomic.Int64) (int64, error) {
	buf := make([]byte, relayBufferSize)
	var total int64
	for {
		if idle > 0 {
			_ = src.SetReadDeadline(time.Now().Add(idle))
		}
		n, err := src.Read(buf)
		if n > 0 {
			lastActive.Store(time.Now().UnixNano())
			if idle > 0 {
				_ = dst.SetWriteDeadline(time.Now().Add(idle))
			}
			written, werr := dst.Write(buf[:n])
			total += int64(written)
			if werr != nil {
				return total, werr
			}
		}
		switch {
		case err == nil:
		case errors.Is(err, io.EOF):
			return total, closeWrite(dst)
		case errors.Is(err, os.ErrDeadlineExceeded) && idle > 0 &&
			time.Since(time.Unix(0, lastActive.Load())) < idle:
			// This direction is quiet but the other one is not.
		default:
			return total, err
		}
	}
}

// closeWrite half-closes conn when it can (TCP, TLS, Unix); otherwise it
// leaves it open for relay to close.
func closeWrite(conn net.Conn) error {
	if cw, ok := conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}
