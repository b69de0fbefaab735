package e2e

import (
	"crypto/md5"
	"encoding/base64"
	"net/http"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/s3cache/s3cache/e2e/harness"
)

// TestWrongSecretNotCached: a request with a bad signature gets the origin's
// 403 SignatureDoesNotMatch, and nothing is cached from it.
func TestWrongSecretNotCached(t *testing.T) {
	e := harness.NewEnv(t)
	putPattern(t, e, e.Direct, "auth", 80, 1000)
	bad := e.NewClient(harness.AccessKey, "not-the-secret")
	e.Counter.Reset()
	for i := 0; i < 2; i++ {
		r := get(t, e, bad, "auth")
		wantErr(t, "GET with a wrong secret", r, 403, "SignatureDoesNotMatch")
		wantNotHit(t, "GET with a wrong secret", r)
		r = head(t, e, bad, "auth")
		wantErr(t, "HEAD with a wrong secret", r, 403, "")
		wantNotHit(t, "HEAD with a wrong secret", r)
	}
	wantOrigin(t, e, "two GETs with a wrong secret", http.MethodGet, 2)
	wantOrigin(t, e, "two HEADs with a wrong secret", http.MethodHead, 2)

	e.Counter.Reset()
	r := get(t, e, e.Client, "auth")
	wantBody(t, "GET with the right secret", r, 80, 1000)
	wantXCache(t, "GET with the right secret", r, "MISS")
	wantOrigin(t, e, "GET with the right secret", http.MethodGet, 1)
}

func ssecInput(key string) *s3.GetObjectInput {
	k := []byte("0123456789abcdef0123456789abcdef")
	sum := md5.Sum(k)
	return &s3.GetObjectInput{Key: aws.String(key),
		SSECustomerAlgorithm: aws.String("AES256"),
		SSECustomerKey:       aws.String(base64.StdEncoding.EncodeToString(k)),
		SSECustomerKeyMD5:    aws.String(base64.StdEncoding.EncodeToString(sum[:])),
	}
}

// TestSSECBypass: a GET with SSE-C headers is forwarded (X-Cache: BYPASS)
// whatever the origin answers, and nothing is cached from it.
func TestSSECBypass(t *testing.T) {
	e := harness.NewEnv(t)
	putPattern(t, e, e.Direct, "ssec", 81, 4000)
	e.Counter.Reset()
	for i := 0; i < 2; i++ {
		r := getObject(t, e, e.Client, ssecInput("ssec"))
		t.Logf("SSE-C GET #%d: status %d, err %v", i+1, r.status, r.err)
		wantXCache(t, "SSE-C GET", r, "BYPASS")
	}
	wantOrigin(t, e, "two SSE-C GETs", http.MethodGet, 2)

	e.Counter.Reset()
	r := get(t, e, e.Client, "ssec")
	wantBody(t, "plain GET after SSE-C GETs", r, 81, 4000)
	wantXCache(t, "plain GET after SSE-C GETs", r, "MISS")

	// And an SSE-C request is not answered from the plain cached entry either.
	e.Counter.Reset()
	r = getObject(t, e, e.Client, ssecInput("ssec"))
	wantXCache(t, "SSE-C GET of a cached key", r, "BYPASS")
	wantOrigin(t, e, "SSE-C GET of a cached key", http.MethodGet, 1)
}
