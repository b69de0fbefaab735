package observe

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/s3cache/s3cache/internal/s3req"
)

// Outcome labels: the X-Cache values in lower case, plus error for error
// responses s3cache made itself (see MarkLocalError) and none for the rare
// success that carries no X-Cache.
const (
	OutcomeHit         = "hit"
	OutcomeMiss        = "miss"
	OutcomePartial     = "partial"
	OutcomeRevalidated = "revalidated"
	OutcomeBypass      = "bypass"
	OutcomeError       = "error"
	OutcomeNone        = "none"
)

// Outcomes lists every outcome label, in display order.
var Outcomes = []string{OutcomeHit, OutcomeMiss, OutcomePartial, OutcomeRevalidated, OutcomeBypass, OutcomeError, OutcomeNone}

// Source labels: where the bytes sent to a client came from.
const (
	SourceCache   = "cache"   // served from the cache (a more precise tier may be noted: ram, disk)
	SourceRAM     = "ram"     // served from the RAM tier (set with NoteSource)
	SourceDisk    = "disk"    // served from the disk tier (set with NoteSource)
	SourceOrigin  = "origin"  // relayed from S3
	SourceMixed   = "mixed"   // partly cached, partly fetched
	SourceS3cache = "s3cache" // made by s3cache itself (errors)
)

// Sources lists every source label.
var Sources = []string{SourceCache, SourceRAM, SourceDisk, SourceOrigin, SourceMixed, SourceS3cache}

// cacheSources are the sources whose bytes the user did not pay S3 to send.
var cacheSources = []string{SourceCache, SourceRAM, SourceDisk}

// Record is everything observed about one request on the caching listener.
type Record struct {
	Start   time.Time
	Request *http.Request
	S3      *s3req.Request
	// Header is the response header as sent (read it only once Finished).
	Header http.Header

	Status    int    // 0 until the response head is written
	XCache    string // the X-Cache header as sent
	Outcome   string // one of Outcomes
	Source    string // one of Sources
	BytesSent int64
	// FirstByte is the time from Start to the response head; 0 if none was sent.
	FirstByte time.Duration
	Duration  time.Duration
	// Aborted is set when the handler gave up on the connection (a panic
	// such as http.ErrAbortHandler), so the client got a cut response.
	Aborted bool
	// ErrorCode is the <Code> of an S3 error response body, "" otherwise.
	ErrorCode string

	noted string // source noted by the handler through the context
	local bool   // the handler said it made this error response itself
}

// Sink consumes request records. Started is called when a request arrives,
// Finished when its response is complete; both run on the request's
// goroutine and must be quick.
type Sink interface {
	Started(*Record)
	Finished(*Record)
}

// localErrorCodes are error codes S3 never sends: a response carrying one
// was made by s3cache (relay's answers when the origin cannot be reached).
var localErrorCodes = map[string]bool{"BadGateway": true, "GatewayTimeout": true}

// outcomeOf maps the response to an outcome label. An error response is
// s3cache's own when the handler marked it, when it has no X-Cache, or when
// its code is one S3 never sends.
func outcomeOf(rec *Record) string {
	if rec.Status >= 400 || rec.Status == 0 {
		if rec.local || rec.XCache == "" || localErrorCodes[rec.ErrorCode] {
			return OutcomeError
		}
	}
	switch strings.ToUpper(strings.TrimSpace(rec.XCache)) {
	case "HIT":
		return OutcomeHit
	case "MISS":
		return OutcomeMiss
	case "PARTIAL":
		return OutcomePartial
	case "REVALIDATED":
		return OutcomeRevalidated
	case "BYPASS":
		return OutcomeBypass
	}
	return OutcomeNone
}

// sourceOf says where an outcome's bytes came from.
func sourceOf(outcome, noted string) string {
	switch outcome {
	case OutcomeHit, OutcomeRevalidated:
		if noted == SourceRAM || noted == SourceDisk {
			return noted
		}
		return SourceCache
	case OutcomeMiss, OutcomeBypass:
		return SourceOrigin
	case OutcomePartial:
		return SourceMixed
	}
	return SourceS3cache
}

// statusClass is "2xx" … "5xx", or "none" when no response was sent.
func statusClass(status int) string {
	if status < 100 || status > 599 {
		return "none"
	}
	return string(rune('0'+status/100)) + "xx"
}

type noteKey struct{}

// NoteSource lets the read path say which tier served a hit (SourceRAM or
// SourceDisk); without a note a hit counts as SourceCache. It does nothing
// outside a request wrapped by Wrap.
func NoteSource(ctx context.Context, source string) {
	if rec, ok := ctx.Value(noteKey{}).(*Record); ok {
		rec.noted = source
	}
}

// MarkLocalError says the error response being written was made by s3cache
// itself (not relayed from S3), so it counts as outcome "error" whatever
// X-Cache it carries. Call it from the request's goroutine; it does nothing
// outside a request wrapped by Wrap.
func MarkLocalError(ctx context.Context) {
	if rec, ok := ctx.Value(noteKey{}).(*Record); ok {
		rec.local = true
	}
}
