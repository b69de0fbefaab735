package e2e

import (
	"net/http"
	"strings"
	"testing"

	"github.com/s3cache/s3cache/e2e/harness"
)

// TestHTTPSOrigin: s3cache talks to an HTTPS origin with a private CA given
// by --origin-ca; reads are cached, writes go through.
func TestHTTPSOrigin(t *testing.T) {
	e := harness.NewEnv(t, harness.Options{TLSOrigin: true})
	if !strings.HasPrefix(e.Counter.URL, "https://") {
		t.Fatalf("origin is not HTTPS: %s", e.Counter.URL)
	}
	putPattern(t, e, e.Direct, "tls/obj", 95, MiB+3) // behind the cache: the first GET must miss
	e.Counter.Reset()
	r := get(t, e, e.Client, "tls/obj")
	wantBody(t, "first GET", r, 95, MiB+3)
	wantXCache(t, "first GET", r, "MISS")
	wantOrigin(t, e, "first GET", http.MethodGet, 1)
	e.Counter.Reset()
	r = get(t, e, e.Client, "tls/obj")
	wantBody(t, "second GET", r, 95, MiB+3)
	wantXCache(t, "second GET", r, "HIT")
	wantNoOrigin(t, e, "second GET")
}
