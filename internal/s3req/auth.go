package s3req

import (
	"net/url"
	"strconv"
	"strings"
	"time"
)

// AuthKind says how a request proves who sent it.
type AuthKind int

const (
	AuthAnonymous   AuthKind = iota
	AuthHeaderV4             // Authorization: AWS4-HMAC-SHA256 or AWS4-ECDSA-P256-SHA256 (SigV4A)
	AuthPresignedV4          // X-Amz-Algorithm=… in the query string
	AuthV2                   // legacy "AWS AKID:signature" or ?Signature=
	AuthUnknown              // an Authorization header we don't understand
)

func (k AuthKind) String() string {
	return [...]string{"anonymous", "sigv4-header", "sigv4-presigned", "sigv2", "unknown"}[k]
}

// Auth describes a request's signature.
type Auth struct {
	Kind AuthKind
	// SignedHeaders are the lowercase header names the signature covers (SigV4 only).
	SignedHeaders []string
	// Date is when the request was signed, zero when unknown.
	Date time.Time
	// Expires is the presigned URL's lifetime, zero when not presigned.
	Expires time.Duration
}

// Signs reports whether header (any case) is covered by the signature. For
// signatures we cannot inspect it answers true, the safe assumption.
func (a Auth) Signs(header string) bool {
	switch a.Kind {
	case AuthAnonymous:
		return false
	case AuthHeaderV4, AuthPresignedV4:
		header = strings.ToLower(header)
		for _, h := range a.SignedHeaders {
			if h == header {
				return true
			}
		}
		return false
	default:
		return true
	}
}

// maxClockSkew is how far S3 lets a header-signed request's date drift.
const maxClockSkew = 15 * time.Minute

// ExpiredAt reports whether S3 would reject the signature as too old at now:
// a presigned URL past its expiry, or a header signature outside S3's
// 15-minute skew window. Such requests must reach S3 so the client gets S3's
// own error instead of a cached answer.
func (a Auth) ExpiredAt(now time.Time) bool {
	if a.Date.IsZero() {
		return false
	}
	switch a.Kind {
	case AuthPresignedV4:
		return now.After(a.Date.Add(a.Expires)) || a.Date.After(now.Add(maxClockSkew))
	case AuthHeaderV4:
		d := now.Sub(a.Date)
		return d > maxClockSkew || d < -maxClockSkew
	}
	return false
}

const amzDateLayout = "20060102T150405Z"

func parseAuth(header map[string][]string, query url.Values) Auth {
	if alg := query.Get("X-Amz-Algorithm"); alg != "" {
		a := Auth{Kind: AuthPresignedV4, SignedHeaders: splitSignedHeaders(query.Get("X-Amz-SignedHeaders"))}
		a.Date, _ = time.Parse(amzDateLayout, query.Get("X-Amz-Date"))
		if secs, err := strconv.ParseInt(query.Get("X-Amz-Expires"), 10, 64); err == nil && secs > 0 && secs <= 7*24*3600 {
			a.Expires = time.Duration(secs) * time.Second
		}
		if alg != "AWS4-HMAC-SHA256" && alg != "AWS4-ECDSA-P256-SHA256" {
			a.Kind = AuthUnknown
		}
		return a
	}
	if query.Has("Signature") && query.Has("AWSAccessKeyId") {
		return Auth{Kind: AuthV2}
	}
	values := header["Authorization"]
	if len(values) == 0 {
		return Auth{Kind: AuthAnonymous}
	}
	h := values[0]
	alg, rest, _ := strings.Cut(h, " ")
	switch alg {
	case "AWS4-HMAC-SHA256", "AWS4-ECDSA-P256-SHA256":
		a := Auth{Kind: AuthHeaderV4}
		for part := range strings.SplitSeq(rest, ",") {
			if v, ok := strings.CutPrefix(strings.TrimSpace(part), "SignedHeaders="); ok {
				a.SignedHeaders = splitSignedHeaders(v)
			}
		}
		if d := firstHeader(header, "X-Amz-Date"); d != "" {
			a.Date, _ = time.Parse(amzDateLayout, d)
		}
		return a
	case "AWS":
		return Auth{Kind: AuthV2}
	}
	return Auth{Kind: AuthUnknown}
}

func splitSignedHeaders(s string) []string {
	if s == "" {
		return nil
	}
	parts := strings.Split(strings.ToLower(s), ";")
	return parts
}

func firstHeader(h map[string][]string, name string) string {
	if v := h[name]; len(v) > 0 {
		return v[0]
	}
	return ""
}
