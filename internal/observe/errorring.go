package observe

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"time"
)

// LogEntry is one warning or error kept for the dashboard.
type LogEntry struct {
	Time    time.Time `json:"time"`
	Level   string    `json:"level"`
	Message string    `json:"message"`
	Attrs   string    `json:"attrs,omitempty"`
}

// ErrorRing keeps the most recent warnings and errors logged.
type ErrorRing struct {
	mu      sync.Mutex
	entries []LogEntry
	next    int
	full    bool
}

// NewErrorRing keeps the last size records.
func NewErrorRing(size int) *ErrorRing {
	return &ErrorRing{entries: make([]LogEntry, max(size, 1))}
}

func (r *ErrorRing) add(e LogEntry) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.entries[r.next] = e
	r.next = (r.next + 1) % len(r.entries)
	if r.next == 0 {
		r.full = true
	}
}

// Recent returns the kept records, newest first.
func (r *ErrorRing) Recent() []LogEntry {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := r.next
	if r.full {
		n = len(r.entries)
	}
	out := make([]LogEntry, 0, n)
	for i := 1; i <= n; i++ {
		out = append(out, r.entries[(r.next-i+len(r.entries))%len(r.entries)])
	}
	return out
}

// Handler wraps next so that every record at warn or above is also kept in
// the ring, whatever level next is set to log.
func (r *ErrorRing) Handler(next slog.Handler) slog.Handler {
	return &ringHandler{ring: r, next: next}
}

type ringHandler struct {
	ring   *ErrorRing
	next   slog.Handler
	attrs  []string // "key=value" of WithAttrs, groups applied
	groups string   // "a.b." prefix of WithGroup
}

func (h *ringHandler) Enabled(ctx context.Context, level slog.Level) bool {
	return level >= slog.LevelWarn || h.next.Enabled(ctx, level)
}

func (h *ringHandler) Handle(ctx context.Context, rec slog.Record) error {
	if rec.Level >= slog.LevelWarn {
		attrs := append([]string(nil), h.attrs...)
		rec.Attrs(func(a slog.Attr) bool {
			attrs = appendAttr(attrs, h.groups, a)
			return true
		})
		h.ring.add(LogEntry{Time: rec.Time, Level: rec.Level.String(), Message: rec.Message, Attrs: strings.Join(attrs, " ")})
	}
	if h.next.Enabled(ctx, rec.Level) {
		return h.next.Handle(ctx, rec)
	}
	return nil
}

func (h *ringHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	c := *h
	c.next = h.next.WithAttrs(attrs)
	c.attrs = append([]string(nil), h.attrs...)
	for _, a := range attrs {
		c.attrs = appendAttr(c.attrs, h.groups, a)
	}
	return &c
}

func (h *ringHandler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	c := *h
	c.next = h.next.WithGroup(name)
	c.groups = h.groups + name + "."
	return &c
}

func appendAttr(out []string, prefix string, a slog.Attr) []string {
	v := a.Value.Resolve()
	if v.Kind() == slog.KindGroup {
		for _, g := range v.Group() {
			out = appendAttr(out, prefix+a.Key+".", g)
		}
		return out
	}
	if a.Key == "" {
		return out
	}
	return append(out, prefix+a.Key+"="+v.String())
}
