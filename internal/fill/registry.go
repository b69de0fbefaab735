package fill

import (
	"sync"

	"github.com/s3cache/s3cache/internal/store"
)

// Registry tracks the fills in flight in this process, per object.
type Registry struct {
	mu      sync.Mutex
	fills   map[store.ObjectID][]*Fill
	flights map[FlightKey]*Flight
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry {
	return &Registry{fills: map[store.ObjectID][]*Fill{}, flights: map[FlightKey]*Flight{}}
}

// Add lists f as in flight.
func (r *Registry) Add(f *Fill) {
	r.mu.Lock()
	r.fills[f.ID] = append(r.fills[f.ID], f)
	r.mu.Unlock()
}

// Remove drops f once it is done.
func (r *Registry) Remove(f *Fill) {
	r.mu.Lock()
	defer r.mu.Unlock()
	list := r.fills[f.ID]
	for i, g := range list {
		if g == f {
			list = append(list[:i], list[i+1:]...)
			break
		}
	}
	if len(list) == 0 {
		delete(r.fills, f.ID)
	} else {
		r.fills[f.ID] = list
	}
}

// Join returns a fill of the object version etag that will deliver the byte
// at off, already acquired for the caller, or nil. Among several it takes
// the one reaching furthest.
func (r *Registry) Join(id store.ObjectID, etag string, off int64) *Fill {
	r.mu.Lock()
	defer r.mu.Unlock()
	var best *Fill
	for _, f := range r.fills[id] {
		if f.ETag == etag && f.Start <= off && off < f.End && (best == nil || f.End > best.End) {
			if _, stopped := f.Stopped(); !stopped {
				best = f
			}
		}
	}
	if best != nil && !best.Acquire() {
		return nil
	}
	return best
}

// InFlight is the number of fills running, for metrics.
func (r *Registry) InFlight() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, l := range r.fills {
		n += len(l)
	}
	return n
}

// Meta returns the metadata of the newest fill of the object in flight, so
// requests arriving while it runs can plan against it before it is stored.
func (r *Registry) Meta(id store.ObjectID) *store.Meta {
	r.mu.Lock()
	defer r.mu.Unlock()
	list := r.fills[id]
	for i := len(list) - 1; i >= 0; i-- {
		if list[i].Meta != nil {
			return list[i].Meta
		}
	}
	return nil
}
