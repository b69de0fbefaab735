package proxy

import (
	"log/slog"
	"net/http"

	"github.com/s3cache/s3cache/internal/cache"
	"github.com/s3cache/s3cache/internal/origin"
	"github.com/s3cache/s3cache/internal/relay"
	"github.com/s3cache/s3cache/internal/s3err"
	"github.com/s3cache/s3cache/internal/s3req"
	"github.com/s3cache/s3cache/internal/store"
)

// Config wires the handler to the rest of s3cache.
type Config struct {
	Parse  s3req.Options
	Cache  *cache.Cache
	Store  *store.Store
	Origin *origin.Client
	// Connect tunnels CONNECT requests (forward-proxy clients using
	// HTTPS_PROXY); nil refuses them.
	Connect http.Handler
	// Writes configures write-through caching of uploads.
	Writes WriteCache
	Log    *slog.Logger
}

// Handler serves the caching listener.
type Handler struct {
	parse   s3req.Options
	cache   *cache.Cache
	store   *store.Store
	origin  *origin.Client
	connect http.Handler
	writes  WriteCache
	log     *slog.Logger
}

// New returns the handler for the caching listener.
func New(cfg Config) *Handler {
	return &Handler{parse: cfg.Parse, cache: cfg.Cache, store: cfg.Store, origin: cfg.Origin, connect: cfg.Connect, writes: cfg.Writes, log: cfg.Log}
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodConnect && h.connect != nil {
		h.connect.ServeHTTP(w, r)
		return
	}
	if !validHost(r.Host) {
		s3err.Write(w, r, http.StatusBadRequest, "InvalidArgument", "Invalid Host header.")
		return
	}
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodPut, http.MethodPost, http.MethodDelete, http.MethodOptions:
	default:
		s3err.Write(w, r, http.StatusMethodNotAllowed, "MethodNotAllowed", "The specified method is not allowed against this resource.")
		return
	}
	// Parsed once per request: the observing middleware (same options)
	// has usually done it.
	req := s3req.ParseOnce(r, h.parse)
	if req.Bucket != "" {
		// Hedging is a per-bucket/prefix setting: every origin request
		// made for this one carries it (unless it is the client's own).
		if after := h.cache.Settings(req.Bucket, req.Key).HedgeAfter; after != h.origin.HedgeAfter() {
			r = r.WithContext(origin.WithHedgeAfter(r.Context(), after))
		}
	}
	switch req.Op {
	case s3req.OpGetObject:
		h.cache.ServeGet(w, r, req)
	case s3req.OpHeadObject:
		h.cache.ServeHead(w, r, req)
	case s3req.OpPutObject:
		h.putObject(w, r, req)
	case s3req.OpCreateMultipartUpload:
		h.createUpload(w, r, req)
	case s3req.OpUploadPart:
		h.uploadPart(w, r, req)
	case s3req.OpCompleteMultipartUpload:
		h.completeUpload(w, r, req)
	case s3req.OpAbortMultipartUpload:
		h.abortUpload(w, r, req)
	case s3req.OpOther, s3req.OpUploadPartCopy:
		h.pass(w, r)
	default:
		h.write(w, r, req)
	}
}

// writeCache reports whether uploads of req's object are cached as they
// go to S3 (the write_cache setting, per rule).
func (h *Handler) writeCache(req *s3req.Request) bool {
	return h.cache.Settings(req.Bucket, req.Key).WriteCache
}

// pass forwards a request that neither reads nor changes cached objects.
func (h *Handler) pass(w http.ResponseWriter, r *http.Request) {
	resp, err := h.origin.Send(r.Context(), r, nil)
	if err != nil {
		relay.UpstreamError(w, r, err)
		return
	}
	relay.Stream(w, resp, relay.Bypass)
}
