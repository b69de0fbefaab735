package s3req

import (
	"context"
	"net/http"
)

// parsedKey carries a parsed request in a context.
type parsedKey struct{}

// NewContext returns ctx carrying req, parsed from the request ctx belongs
// to, so that handlers further down the chain do not parse it again.
// Whoever parses must use the Options those handlers would.
func NewContext(ctx context.Context, req *Request) context.Context {
	return context.WithValue(ctx, parsedKey{}, req)
}

// ParseOnce returns the request parsed earlier for r (NewContext), else
// parses it. The result is shared: treat it as read-only.
func ParseOnce(r *http.Request, opt Options) *Request {
	if req, ok := r.Context().Value(parsedKey{}).(*Request); ok {
		return req
	}
	return Parse(r, opt)
}
