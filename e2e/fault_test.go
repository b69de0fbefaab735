package e2e

import (
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/s3cache/s3cache/e2e/harness"
)

// TestClientDisconnectMidBody: a client that hangs up halfway through a miss
// leaves no entry that is later served short.
func TestClientDisconnectMidBody(t *testing.T) {
	e := harness.NewEnv(t)
	const size = 24 * MiB
	putPattern(t, e, e.Direct, "cut", 90, size)
	ps, err := s3.NewPresignClient(e.Client).PresignGetObject(e.Ctx(), &s3.GetObjectInput{Bucket: aws.String(e.Bucket), Key: aws.String("cut")})
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequestWithContext(e.Ctx(), http.MethodGet, ps.URL, nil)
	hc := e.HTTP()
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 {
		t.Fatalf("GET: %s", resp.Status)
	}
	if x := resp.Header.Get("X-Cache"); x != "MISS" {
		t.Errorf("first GET: X-Cache %q, want MISS", x)
	}
	if _, err := io.CopyN(io.Discard, resp.Body, MiB); err != nil {
		t.Fatalf("reading the first MiB: %v", err)
	}
	resp.Body.Close() // closes the connection: the body was not read to the end
	hc.CloseIdleConnections()

	time.Sleep(200 * time.Millisecond)
	for i := 1; i <= 3; i++ {
		r := get(t, e, e.Client, "cut")
		wantBody(t, "GET after a client hung up", r, 90, size)
		t.Logf("GET #%d after the hang-up: X-Cache %s", i, r.xcache())
	}
	e.Counter.Reset()
	r := get(t, e, e.Client, "cut")
	wantBody(t, "GET once settled", r, 90, size)
	wantXCache(t, "GET once settled", r, "HIT")
}

// TestOriginCutMidBody: the origin resets the connection halfway through a
// miss. The client must not get a short body that looks complete, and no
// partial entry may be served later.
func TestOriginCutMidBody(t *testing.T) {
	e := harness.NewEnv(t)
	const size = 8 * MiB
	putPattern(t, e, e.Direct, "ocut", 91, size)
	e.Counter.CutNextGET(3 * MiB)
	r := get(t, e, e.Client, "ocut")
	switch {
	case r.err == nil && r.n != size:
		t.Errorf("GET cut at the origin: client got %d of %d bytes and no error: a truncated body that looks complete", r.n, size)
	case r.err == nil:
		wantBody(t, "GET cut at the origin (recovered by the proxy)", r, 91, size)
	default:
		t.Logf("GET cut at the origin: client saw %v after %d bytes (expected)", r.err, r.n)
	}
	for i := 1; i <= 2; i++ {
		r = get(t, e, e.Client, "ocut")
		wantBody(t, "GET after the origin cut", r, 91, size)
		t.Logf("GET #%d after the origin cut: X-Cache %s", i, r.xcache())
	}
	e.Counter.Reset()
	r = get(t, e, e.Client, "ocut")
	wantBody(t, "GET once settled", r, 91, size)
	wantXCache(t, "GET once settled", r, "HIT")
}
