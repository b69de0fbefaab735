package fill

import (
	"context"

	"github.com/s3cache/s3cache/internal/store"
)

// Flight is a cold fetch whose answer has not arrived: nothing about the
// object is known yet, so other requests for it wait for the answer's
// headers instead of sending their own.
type Flight struct {
	done chan struct{}
}

// Wait blocks until the flight lands or ctx ends; it reports whether it landed.
func (f *Flight) Wait(ctx context.Context) bool {
	select {
	case <-f.done:
		return true
	case <-ctx.Done():
		return false
	}
}

// FlightKey names what a flight fetches: an object (a cold fetch) or an
// object from an offset (a resumed fetch).
type FlightKey struct {
	ID   store.ObjectID
	From int64
}

// Lead returns the flight for key. leader is true when the caller created it
// and must Land it once the answer's fill (if any) is registered.
func (r *Registry) Lead(id FlightKey) (f *Flight, leader bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if f, ok := r.flights[id]; ok {
		return f, false
	}
	f = &Flight{done: make(chan struct{})}
	r.flights[id] = f
	return f, true
}

// Land ends a flight, waking its waiters.
func (r *Registry) Land(id FlightKey, f *Flight) {
	r.mu.Lock()
	if r.flights[id] == f {
		delete(r.flights, id)
	}
	r.mu.Unlock()
	close(f.done)
}
