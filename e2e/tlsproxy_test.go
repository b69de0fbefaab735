package e2e

import (
	"bufio"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/s3cache/s3cache/e2e/harness"
)

// tlsProxyEnv is an Env whose s3cache also runs the TLS-terminating proxy
// listener, with a certificate made for the test.
type tlsProxyEnv struct {
	*harness.Env
	proxyAddr string
	roots     *x509.CertPool
}

func newTLSProxyEnv(t *testing.T) tlsProxyEnv {
	t.Helper()
	root, err := harness.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	certDir := t.TempDir()
	gencert := exec.Command("go", "run", "./scripts/gencert", "-out", certDir)
	gencert.Dir = root
	if out, err := gencert.CombinedOutput(); err != nil {
		t.Fatalf("gencert: %v\n%s", err, out)
	}
	roots, err := harness.CertPool(filepath.Join(certDir, "cert.pem"))
	if err != nil {
		t.Fatal(err)
	}
	port, err := harness.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	addr := "127.0.0.1:" + port
	e := harness.NewEnv(t, harness.Options{CacheArgs: []string{
		"--listen-tls-proxy", addr,
		"--tls-proxy-cert", filepath.Join(certDir, "cert.pem"),
		"--tls-proxy-key", filepath.Join(certDir, "key.pem"),
	}})
	waitTLS(t, addr, roots)
	return tlsProxyEnv{Env: e, proxyAddr: addr, roots: roots}
}

// waitTLS waits until a TLS handshake with addr succeeds (the listener
// starts after the health endpoint the harness waits for).
func waitTLS(t *testing.T, addr string, roots *x509.CertPool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		conn, err := tls.DialWithDialer(&net.Dialer{Timeout: time.Second}, "tcp", addr, &tls.Config{RootCAs: roots})
		if err == nil {
			conn.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("TLS proxy listener %s not up: %v", addr, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// httpClient talks to everything through the TLS proxy: Go's transport
// speaks TLS to an https proxy URL and sends http:// requests inside it.
func (p tlsProxyEnv) httpClient() *http.Client {
	return &http.Client{
		Transport: &http.Transport{
			Proxy:              http.ProxyURL(&url.URL{Scheme: "https", Host: p.proxyAddr}),
			TLSClientConfig:    &tls.Config{RootCAs: p.roots},
			DisableCompression: true,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Timeout:       time.Minute,
	}
}

// s3Client is an SDK client for http://127.0.0.1:PORT (any port: the
// proxy, not the URL, decides where requests go) through the TLS proxy.
func (p tlsProxyEnv) s3Client(endpointPort string) *s3.Client {
	opts := p.Client.Options()
	opts.BaseEndpoint = aws.String("http://127.0.0.1:" + endpointPort)
	opts.HTTPClient = p.httpClient()
	return s3.New(opts)
}

// TestTLSProxyCachesSDKRequests: an SDK whose HTTP proxy is
// https://s3cache:PORT reads through the TLS listener; the second GET is a
// HIT with no origin request, and the bytes are equal. A PUT through it
// reaches the origin and reads back equal.
func TestTLSProxyCachesSDKRequests(t *testing.T) {
	p := newTLSProxyEnv(t)
	port, err := harness.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	c := p.s3Client(port)
	const size = 3*MiB + 5
	putPattern(t, p.Env, p.Direct, "tlsproxy/obj", 41, size)

	p.Counter.Reset()
	r := get(t, p.Env, c, "tlsproxy/obj")
	wantBody(t, "first GET", r, 41, size)
	wantXCache(t, "first GET", r, "MISS")
	wantOrigin(t, p.Env, "first GET", http.MethodGet, 1)

	p.Counter.Reset()
	r = get(t, p.Env, c, "tlsproxy/obj")
	wantBody(t, "second GET", r, 41, size)
	wantXCache(t, "second GET", r, "HIT")
	wantNoOrigin(t, p.Env, "second GET")

	// The plain listener shares the cache: the same object is a HIT there too.
	p.Counter.Reset()
	r = get(t, p.Env, p.Client, "tlsproxy/obj")
	wantBody(t, "GET on the plain listener", r, 41, size)
	wantXCache(t, "GET on the plain listener", r, "HIT")
	wantNoOrigin(t, p.Env, "GET on the plain listener")

	p.Counter.Reset()
	putPattern(t, p.Env, c, "tlsproxy/written", 44, MiB)
	wantOrigin(t, p.Env, "PUT", http.MethodPut, 1)
	p.Counter.Reset()
	r = get(t, p.Env, c, "tlsproxy/written")
	wantBody(t, "GET after PUT", r, 44, MiB)
}

// TestTLSProxyPresignedGets: plain presigned GETs through the TLS proxy
// are cached the same way.
func TestTLSProxyPresignedGets(t *testing.T) {
	p := newTLSProxyEnv(t)
	putPattern(t, p.Env, p.Direct, "tlsproxy/presigned", 42, MiB+1)
	port, err := harness.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	signed, err := s3.NewPresignClient(p.s3Client(port)).PresignGetObject(p.Ctx(),
		&s3.GetObjectInput{Bucket: aws.String(p.Bucket), Key: aws.String("tlsproxy/presigned")})
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []string{"MISS", "HIT"} {
		p.Counter.Reset()
		resp, err := p.httpClient().Get(signed.URL)
		if err != nil {
			t.Fatalf("GET %d: %v", i+1, err)
		}
		sum, n, err := harness.SHA256(resp.Body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK || n != MiB+1 || sum != harness.PatternSHA256(42, MiB+1) {
			t.Fatalf("GET %d: status %d, %d bytes, err %v, sha %s", i+1, resp.StatusCode, n, err, sum)
		}
		if got := resp.Header.Get("X-Cache"); got != want {
			t.Errorf("GET %d: X-Cache %q, want %q", i+1, got, want)
		}
	}
	wantNoOrigin(t, p.Env, "second presigned GET")
}

// TestTLSProxyConnectPolicy: CONNECT inside the TLS listener reaches the
// tunnel handler, which allows port 443 only.
func TestTLSProxyConnectPolicy(t *testing.T) {
	p := newTLSProxyEnv(t)
	conn, err := tls.Dial("tcp", p.proxyAddr, &tls.Config{RootCAs: p.roots})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	fmt.Fprintf(conn, "CONNECT 127.0.0.1:22 HTTP/1.1\r\nHost: 127.0.0.1:22\r\n\r\n")
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("CONNECT to port 22: %s, want 403", resp.Status)
	}
}

// TestTLSProxyBadCertificateLeavesOthersRunning: a TLS proxy listener whose
// certificate does not load is skipped with a log line; the caching
// listener serves as usual.
func TestTLSProxyBadCertificateLeavesOthersRunning(t *testing.T) {
	port, err := harness.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(t.TempDir(), "absent.pem")
	e := harness.NewEnv(t, harness.Options{CacheArgs: []string{
		"--listen-tls-proxy", "127.0.0.1:" + port, "--tls-proxy-cert", missing, "--tls-proxy-key", missing,
	}})
	putPattern(t, e, e.Direct, "plain", 43, 1000)
	r := get(t, e, e.Client, "plain")
	wantBody(t, "GET on the plain listener", r, 43, 1000)
	deadline := time.Now().Add(5 * time.Second)
	for !e.Cache.Proc().LogContains("listener not started") {
		if time.Now().After(deadline) {
			t.Fatal("the log does not say why the TLS proxy listener did not start")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if conn, err := net.DialTimeout("tcp", "127.0.0.1:"+port, time.Second); err == nil {
		conn.Close()
		t.Fatal("something listens on the TLS proxy port")
	} else if !strings.Contains(err.Error(), "refused") {
		t.Logf("dial: %v", err)
	}
}
