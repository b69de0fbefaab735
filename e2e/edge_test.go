package e2e

import (
	"net/http"
	"net/url"
	"path/filepath"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/s3cache/s3cache/e2e/harness"
)

// Edge listeners (issue 9).

// cachedObjects counts object directories in a cache dir.
func cachedObjects(t *testing.T, cacheDir string) int {
	t.Helper()
	metas, _ := filepath.Glob(filepath.Join(cacheDir, "v1", "objects", "*", "*", "*", "meta.json"))
	return len(metas)
}

// HTTPS through the :443 passthrough listener: the SDK talks TLS end to end
// with the S3 server; s3cache only tunnels (it never sees plaintext, so
// nothing is cached).
func TestTLSPassthrough(t *testing.T) {
	port, err := harness.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	tlsAddr := "127.0.0.1:" + port
	e := harness.NewEnv(t, harness.Options{TLSOrigin: true, CacheArgs: []string{"--listen-tls", tlsAddr, "--allow-hosts", "localhost"}})
	// "localhost" so the client sends an SNI (Go sends none for an IP).
	c := harness.NewClient(harness.ClientConfig{Endpoint: "https://localhost:" + port, AccessKey: harness.AccessKey, SecretKey: harness.SecretKey,
		PathStyle: true, DialAddr: tlsAddr, RootCAs: e.RootCAs})
	const size, seed = 3*MiB + 5, 120
	putPattern(t, e, c, "tunnel/obj", seed, size)
	e.Counter.Reset()
	for i := range 2 {
		r := get(t, e, c, "tunnel/obj")
		wantBody(t, "GET through the tunnel", r, seed, size)
		if r.xcache() != "" {
			t.Errorf("GET %d through the tunnel carries X-Cache %q: s3cache saw the plaintext", i, r.xcache())
		}
	}
	wantOrigin(t, e, "GETs through the tunnel", http.MethodGet, 2)
	if n := cachedObjects(t, e.Cache.Dir); n != 0 {
		t.Errorf("%d objects cached from tunnelled traffic", n)
	}
}

// An HTTP_PROXY client sends absolute-form requests to the forward-proxy
// listener; they take the same caching path as direct ones.
func TestForwardProxyCaches(t *testing.T) {
	port, err := harness.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	proxyAddr := "127.0.0.1:" + port
	e := harness.NewEnv(t, harness.Options{CacheArgs: []string{"--listen-proxy", proxyAddr, "--virtual-host-domains", harness.VirtualDomain}})
	proxyURL, _ := url.Parse("http://" + proxyAddr)
	hc := harness.NewHTTPClient("", nil)
	hc.Transport.(*http.Transport).Proxy = http.ProxyURL(proxyURL)
	// The endpoint is a name nothing resolves: only the proxy can reach it.
	c := s3.New(s3.Options{
		Region:       harness.Region,
		Credentials:  credentials.NewStaticCredentialsProvider(harness.AccessKey, harness.SecretKey, ""),
		BaseEndpoint: aws.String("http://s3.local.test:9"),
		UsePathStyle: true,
		HTTPClient:   hc,
		Retryer:      aws.NopRetryer{},
	})
	const size, seed = 2 * MiB, 121
	putPattern(t, e, e.Direct, "fwd/obj", seed, size)
	e.Counter.Reset()
	r := get(t, e, c, "fwd/obj")
	wantBody(t, "first GET via HTTP_PROXY", r, seed, size)
	wantXCache(t, "first GET via HTTP_PROXY", r, "MISS")
	e.Counter.Reset()
	r = get(t, e, c, "fwd/obj")
	wantBody(t, "second GET via HTTP_PROXY", r, seed, size)
	wantXCache(t, "second GET via HTTP_PROXY", r, "HIT")
	wantNoOrigin(t, e, "second GET via HTTP_PROXY")
	// The direct listener shares the entry (the endpoint domain is known,
	// so both name the same object).
	r = get(t, e, e.Client, "fwd/obj")
	wantXCache(t, "GET on the direct listener", r, "HIT")
}
