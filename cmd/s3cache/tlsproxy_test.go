package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/s3cache/s3cache/internal/config"
)

// writeTestCert writes httptest's certificate (valid for 127.0.0.1) and its
// key as PEM files, and returns a pool that trusts it.
func writeTestCert(t *testing.T, dir string) (certFile, keyFile string, roots *x509.CertPool) {
	t.Helper()
	srv := httptest.NewTLSServer(http.NotFoundHandler())
	defer srv.Close()
	pair := srv.TLS.Certificates[0]
	keyDER, err := x509.MarshalPKCS8PrivateKey(pair.PrivateKey)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: pair.Certificate[0]})
	if err := os.WriteFile(certFile, certPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	roots = x509.NewCertPool()
	roots.AddCert(srv.Certificate())
	return certFile, keyFile, roots
}

func tlsProxyConfig(certFile, keyFile string) config.Config {
	cfg := config.Default()
	cfg.ListenTLSProxy, cfg.TLSProxyCert, cfg.TLSProxyKey = "127.0.0.1:0", certFile, keyFile
	return cfg
}

// startTestTLSProxy serves h on a TLS proxy listener on a free port.
func startTestTLSProxy(t *testing.T, cfg config.Config, h http.Handler) *tlsProxy {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	p, err := listenTLSProxy(ctx, cfg, h, slog.New(slog.DiscardHandler))
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		drain, stop := context.WithTimeout(context.Background(), 5*time.Second)
		defer stop()
		p.shutdown(drain)
		cancel()
	})
	return p
}

func proxyClient(proxyAddr string, roots *x509.CertPool, maxTLS uint16) *http.Client {
	return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		Proxy:           http.ProxyURL(&url.URL{Scheme: "https", Host: proxyAddr}),
		TLSClientConfig: &tls.Config{RootCAs: roots, MaxVersion: maxTLS},
	}}
}

// The decrypted requests reach the handler in absolute form, as on the
// plain forward-proxy listener.
func TestTLSProxyServesDecryptedAbsoluteFormRequests(t *testing.T) {
	certFile, keyFile, roots := writeTestCert(t, t.TempDir())
	seen := make(chan *http.Request, 1)
	p := startTestTLSProxy(t, tlsProxyConfig(certFile, keyFile), http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen <- r
		io.WriteString(w, "cached bytes")
	}))
	resp, err := proxyClient(p.addr.String(), roots, 0).Get("http://bucket.s3.example.test:9000/key?x=1")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != "cached bytes" {
		t.Fatalf("body %q", body)
	}
	r := <-seen
	if r.TLS == nil || r.Host != "bucket.s3.example.test:9000" || r.RequestURI != "http://bucket.s3.example.test:9000/key?x=1" {
		t.Fatalf("handler saw TLS=%v Host=%q RequestURI=%q", r.TLS != nil, r.Host, r.RequestURI)
	}
}

func TestTLSProxyRefusesTLSBelow12(t *testing.T) {
	certFile, keyFile, roots := writeTestCert(t, t.TempDir())
	p := startTestTLSProxy(t, tlsProxyConfig(certFile, keyFile), http.NotFoundHandler())
	if _, err := proxyClient(p.addr.String(), roots, tls.VersionTLS11).Get("http://example.test/k"); err == nil {
		t.Fatal("a TLS 1.1 client was served")
	}
}

// A listener that cannot start is logged and skipped, never fatal.
func TestTLSProxyThatCannotStartIsLoggedAndSkipped(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile, _ := writeTestCert(t, dir)
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	for name, cfg := range map[string]config.Config{
		"missing key":  tlsProxyConfig(certFile, filepath.Join(dir, "absent.pem")),
		"key for cert": tlsProxyConfig(keyFile, keyFile),
		"no files":     tlsProxyConfig("", ""),
		"bad address":  tlsProxyConfig(certFile, keyFile),
	} {
		if name == "bad address" {
			cfg.ListenTLSProxy = "127.0.0.1:notaport"
		}
		logs.Reset()
		shutdown := startTLSProxy(context.Background(), cfg, http.NotFoundHandler(), log)
		shutdown(context.Background())
		if !strings.Contains(logs.String(), "listener not started") {
			t.Errorf("%s: log does not say why: %q", name, logs.String())
		}
	}
	off := config.Default()
	startTLSProxy(context.Background(), off, http.NotFoundHandler(), log)(context.Background())
}

func TestTLSProxyCertificateReloadKeepsPreviousOnError(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile, _ := writeTestCert(t, dir)
	certs, err := loadCertFiles(certFile, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	first, _ := certs.get(nil)
	if err := os.WriteFile(certFile, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := certs.reload(); err == nil {
		t.Fatal("a broken certificate file reloaded")
	}
	if kept, _ := certs.get(nil); kept != first {
		t.Fatal("a failed reload replaced the certificate")
	}
	writeTestCert(t, dir)
	if err := certs.reload(); err != nil {
		t.Fatal(err)
	}
	if next, _ := certs.get(nil); next == first || next == nil {
		t.Fatal("reload did not swap in the new pair")
	}
}
