package tunnel

import (
	"context"
	"net"
	"sync"
)

// tracker knows the connections of every live tunnel, so shutdown can wait
// for them and close what is left when its time is up.
type tracker struct {
	mu      sync.Mutex
	conns   map[net.Conn]struct{}
	active  int
	closing bool
	forced  bool          // shutdown's time ran out: connections get closed
	idle    chan struct{} // closed when active drops to 0 while closing
}

func newTracker() *tracker {
	return &tracker{conns: make(map[net.Conn]struct{}), idle: make(chan struct{})}
}

// begin registers a tunnel; false once shutdown has started.
func (t *tracker) begin() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closing {
		return false
	}
	t.active++
	return true
}

// end unregisters a tunnel started with begin.
func (t *tracker) end() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.active--
	if t.closing && t.active == 0 {
		close(t.idle)
	}
}

// add records a connection to close on a forced shutdown. After one, it
// closes c at once and returns false.
func (t *tracker) add(c net.Conn) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.forced {
		c.Close()
		return false
	}
	t.conns[c] = struct{}{}
	return true
}

func (t *tracker) remove(c net.Conn) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.conns, c)
}

// shutdown refuses new tunnels, waits for the live ones until ctx ends,
// then closes their connections and returns ctx's error.
func (t *tracker) shutdown(ctx context.Context) error {
	t.mu.Lock()
	if !t.closing {
		t.closing = true
		if t.active == 0 {
			close(t.idle)
		}
	}
	t.mu.Unlock()

	select {
	case <-t.idle:
		return nil
	case <-ctx.Done():
	}
	t.mu.Lock()
	t.forced = true
	for c := range t.conns {
		c.Close()
	}
	t.mu.Unlock()
	return ctx.Err()
}
