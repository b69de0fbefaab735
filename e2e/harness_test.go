package e2e

import (
	"net/http"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/s3cache/s3cache/e2e/harness"
)

// TestHarnessSelfCheck runs the harness without s3cache (clients talk to the
// counting proxy) to show that the Counter is transparent — signatures made
// for its address stay valid — and counts right. If this fails, the other
// e2e failures say nothing about s3cache.
func TestHarnessSelfCheck(t *testing.T) {
	for _, tlsOrigin := range []bool{false, true} {
		name := "http"
		if tlsOrigin {
			name = "https"
		}
		t.Run(name, func(t *testing.T) {
			e := harness.NewEnv(t, harness.Options{NoCache: true, TLSOrigin: tlsOrigin})
			const size = MiB + 7
			putPattern(t, e, e.Client, "self/odd key+ü", 1, size)
			e.Counter.Reset()
			wantBody(t, "path-style GET", get(t, e, e.Client, "self/odd key+ü"), 1, size)
			wantBody(t, "virtual-hosted GET", get(t, e, e.VirtualClient(), "self/odd key+ü"), 1, size)
			ps, err := s3.NewPresignClient(e.Client).PresignGetObject(e.Ctx(), &s3.GetObjectInput{Bucket: aws.String(e.Bucket), Key: aws.String("self/odd key+ü")})
			if err != nil {
				t.Fatal(err)
			}
			wantBody(t, "presigned GET", httpGet(t, e, ps.URL, nil), 1, size)
			wantOrigin(t, e, "three GETs", http.MethodGet, 3)
			if b := e.Counter.Bytes(); b != 3*size {
				t.Errorf("counted %d body bytes, want %d", b, 3*size)
			}
			wantErr(t, "GET with a wrong secret", get(t, e, e.NewClient(harness.AccessKey, "nope"), "self/odd key+ü"), 403, "SignatureDoesNotMatch")

			e.Counter.CutNextGET(1000)
			if r := get(t, e, e.Client, "self/odd key+ü"); r.err == nil {
				t.Errorf("CutNextGET: the client read %d bytes without error", r.n)
			}
			wantBody(t, "GET after the cut", get(t, e, e.Client, "self/odd key+ü"), 1, size)
		})
	}
}
