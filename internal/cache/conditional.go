package cache

import (
	"strings"

	"github.com/s3cache/s3cache/internal/s3req"
	"github.com/s3cache/s3cache/internal/store"
)

// conditionsAllowCache reports whether the request's conditional headers
// are certain to pass for the cached version m, so that serving m is what
// S3 would do. Only strong ETag comparisons are decided here: If-Match and
// If-Range naming m's ETag. Date conditions and If-None-Match are left to S3
// (the caller forwards them and caches what comes back).
func conditionsAllowCache(req *s3req.Request, m *store.Meta) bool {
	c := req.Conditions
	if c.IfNoneMatch != "" || c.IfModifiedSince != "" || c.IfUnmodifiedSince != "" {
		return false
	}
	if c.IfMatch != "" && !etagListMatches(c.IfMatch, m.ETag) {
		return false
	}
	if c.IfRange != "" && (strings.HasPrefix(c.IfRange, "W/") || c.IfRange != m.ETag) {
		return false
	}
	return true
}

// etagListMatches reports whether an If-Match value ("*" or a list of
// quoted ETags) strongly matches etag.
func etagListMatches(list, etag string) bool {
	if strings.TrimSpace(list) == "*" {
		return true
	}
	for v := range strings.SplitSeq(list, ",") {
		if strings.TrimSpace(v) == etag {
			return true
		}
	}
	return false
}
