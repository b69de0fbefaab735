package tunnel

import (
	"bufio"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

func startConnectProxy(t *testing.T, cfg Config) (*ConnectHandler, *httptest.Server) {
	t.Helper()
	if cfg.Logger == nil {
		cfg.Logger = quietLogger(t)
	}
	h := NewConnectHandler(cfg)
	srv := httptest.NewServer(h)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = h.Shutdown(ctx)
		srv.Close()
	})
	return h, srv
}

// sendConnect writes a CONNECT for authority (plus extra bytes right behind
// it) and reads the proxy's answer.
func sendConnect(t *testing.T, proxyAddr, authority string, extra []byte) (*net.TCPConn, *bufio.Reader, *http.Response, string) {
	t.Helper()
	conn := dialTest(t, strings.TrimPrefix(proxyAddr, "http://"))
	req := fmt.Sprintf("CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n", authority, authority)
	if _, err := conn.Write(append([]byte(req), extra...)); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, &http.Request{Method: http.MethodConnect})
	if err != nil {
		t.Fatalf("read CONNECT response: %v", err)
	}
	var body string
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		body = string(b)
	}
	return conn, br, resp, body
}

func TestConnectTunnelsHTTPS(t *testing.T) {
	backend := startTLSBackend(t)
	_, proxy := startConnectProxy(t, Config{Allow: allowOnly("example.com"), Target: backend.addr()})
	proxyURL, _ := url.Parse(proxy.URL)
	client := &http.Client{
		Timeout: 10 * time.Second,
		Transport: &http.Transport{
			Proxy:             http.ProxyURL(proxyURL),
			TLSClientConfig:   &tls.Config{RootCAs: backend.roots()},
			DisableKeepAlives: true,
		},
	}
	resp, err := client.Get("https://example.com/bucket/key")
	if err != nil {
		t.Fatalf("GET through CONNECT: %v", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if want := "backend saw example.com /bucket/key"; string(body) != want {
		t.Fatalf("body %q, want %q", body, want)
	}
}

func TestConnectRefusals(t *testing.T) {
	backend := startRawBackend(t, countingEcho)
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	deadAddr := closed.Addr().String()
	closed.Close()

	_, proxy := startConnectProxy(t, Config{Allow: allowOnly("s3.amazonaws.com"), Target: backend.addr()})
	_, deadProxy := startConnectProxy(t, Config{Allow: allowOnly("s3.amazonaws.com"), Target: deadAddr, DialTimeout: 2 * time.Second})

	for _, tc := range []struct {
		name, proxy, authority string
		status                 int
		code                   string
	}{
		{"port 80", proxy.URL, "s3.amazonaws.com:80", http.StatusForbidden, "AccessDenied"},
		{"host not allowed", proxy.URL, "metadata.internal:443", http.StatusForbidden, "AccessDenied"},
		{"IP not allowed", proxy.URL, "169.254.169.254:443", http.StatusForbidden, "AccessDenied"},
		{"upstream down", deadProxy.URL, "s3.amazonaws.com:443", http.StatusBadGateway, "BadGateway"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, resp, body := sendConnect(t, tc.proxy, tc.authority, nil)
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d (body %s)", resp.StatusCode, tc.status, body)
			}
			if !strings.Contains(body, "<Error><Code>"+tc.code+"</Code><Message>") || !strings.Contains(body, "<RequestId>") {
				t.Fatalf("body is not an S3 %s error: %s", tc.code, body)
			}
			if ct := resp.Header.Get("Content-Type"); ct != "application/xml" {
				t.Fatalf("Content-Type %q", ct)
			}
		})
	}
	if n := backend.conns.Load(); n != 0 {
		t.Fatalf("backend saw %d connections from refused CONNECTs", n)
	}
}

func TestConnectForwardsBytesSentWithTheRequest(t *testing.T) {
	backend := startRawBackend(t, countingEcho)
	_, proxy := startConnectProxy(t, Config{Allow: allowOnly("s3.amazonaws.com"), Target: backend.addr()})

	early := []byte("client hello sent without waiting for 200")
	conn, br, resp, _ := sendConnect(t, proxy.URL, "s3.amazonaws.com:443", early)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d", resp.StatusCode)
	}
	reply := sendAndHalfClose(t, conn, br, []byte("more"))
	if want := fmt.Sprintf("got %d bytes", len(early)+len("more")); reply != want {
		t.Fatalf("backend replied %q, want %q", reply, want)
	}
}

func TestConnectRejectsOtherMethods(t *testing.T) {
	_, proxy := startConnectProxy(t, Config{Allow: allowOnly("s3.amazonaws.com")})
	resp, err := http.Get(proxy.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != http.MethodConnect {
		t.Fatalf("GET: status %d, Allow %q", resp.StatusCode, resp.Header.Get("Allow"))
	}
}

func TestConnectShutdown(t *testing.T) {
	backend := startHoldingBackend(t)
	h, proxy := startConnectProxy(t, Config{Allow: allowOnly("s3.amazonaws.com"), Target: backend.addr()})

	conn, _, resp, _ := sendConnect(t, proxy.URL, "s3.amazonaws.com:443", nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d", resp.StatusCode)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if err := h.Shutdown(ctx); err == nil {
		t.Fatal("Shutdown with a live tunnel returned nil before its deadline")
	}
	if n, err := conn.Read(make([]byte, 1)); n != 0 || err == nil {
		t.Fatalf("tunnel still open after a forced shutdown: %d, %v", n, err)
	}
	_, _, resp, _ = sendConnect(t, proxy.URL, "s3.amazonaws.com:443", nil)
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("CONNECT after Shutdown: status %d, want 503", resp.StatusCode)
	}
}

func TestConnectMaxTunnels(t *testing.T) {
	backend := startHoldingBackend(t)
	_, proxy := startConnectProxy(t, Config{Allow: allowOnly("s3.amazonaws.com"), Target: backend.addr(), MaxTunnels: 1})
	_, _, resp, _ := sendConnect(t, proxy.URL, "s3.amazonaws.com:443", nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("first CONNECT: %d", resp.StatusCode)
	}
	_, _, resp, body := sendConnect(t, proxy.URL, "s3.amazonaws.com:443", nil)
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(body, "<Code>SlowDown</Code>") {
		t.Fatalf("second CONNECT over the bound: %d %s", resp.StatusCode, body)
	}
}
