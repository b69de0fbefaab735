package origin

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// rawServer accepts one connection and returns the request head it received
// verbatim, answering with a redirect that must not be followed.
func rawServer(t *testing.T) (addr string, heads <-chan string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	ch := make(chan string, 1)
	go func() {
		conn, err := ln.Accept()
		if err != nil {
			return
		}
		defer conn.Close()
		br := bufio.NewReader(conn)
		var head strings.Builder
		for {
			line, err := br.ReadString('\n')
			head.WriteString(line)
			if err != nil || line == "\r\n" {
				break
			}
		}
		ch <- head.String()
		io.WriteString(conn, "HTTP/1.1 307 Temporary Redirect\r\nLocation: http://elsewhere.invalid/\r\nContent-Length: 0\r\n\r\n")
	}()
	return ln.Addr().String(), ch
}

func TestForwardsRequestByteForByte(t *testing.T) {
	addr, heads := rawServer(t)
	c, err := New(Config{URL: "http://" + addr, ConnectTimeout: time.Second, FirstByteTimeout: 5 * time.Second, MaxIdleConnsPerHost: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	// A request as the server side of s3cache sees it.
	in, err := http.ReadRequest(bufio.NewReader(strings.NewReader(
		"GET /bkt/a%2Fb%20c+d%21?x-id=GetObject&z=%2a&a=1 HTTP/1.1\r\n" +
			"Host: bkt.s3.local:18080\r\n" +
			"Authorization: AWS4-HMAC-SHA256 Credential=x, SignedHeaders=host, Signature=y\r\n" +
			"X-Amz-Date: 20261126T000000Z\r\n" +
			"Connection: keep-alive\r\n\r\n")))
	if err != nil {
		t.Fatal(err)
	}
	out, err := c.NewRequest(t.Context(), in)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := c.RoundTrip(out)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusTemporaryRedirect {
		t.Errorf("status %d: redirect was followed", resp.StatusCode)
	}
	head := <-heads
	for _, want := range []string{
		"GET /bkt/a%2Fb%20c+d%21?x-id=GetObject&z=%2a&a=1 HTTP/1.1\r\n",
		"Host: bkt.s3.local:18080\r\n",
		"Authorization: AWS4-HMAC-SHA256 Credential=x, SignedHeaders=host, Signature=y\r\n",
	} {
		if !strings.Contains(head, want) {
			t.Errorf("upstream request lacks %q:\n%s", want, head)
		}
	}
	for _, banned := range []string{"User-Agent", "Accept-Encoding", "X-Forwarded-For", "Connection: keep-alive"} {
		if strings.Contains(head, banned) {
			t.Errorf("upstream request carries %q:\n%s", banned, head)
		}
	}
}

func TestRequestTarget(t *testing.T) {
	for _, tc := range []struct{ uri, path, query string }{
		{"/b/k?a=1", "/b/k", "a=1"},
		{"http://bkt.s3.amazonaws.com/k%20x?versionId=3", "/k%20x", "versionId=3"},
		{"http://s3.amazonaws.com", "/", ""},
		{"http://s3.amazonaws.com?x", "/", "x"},
		{"//double//slash", "//double//slash", ""},
	} {
		r := &http.Request{RequestURI: tc.uri}
		p, q := requestTarget(r)
		if p != tc.path || q != tc.query {
			t.Errorf("%q: got %q %q, want %q %q", tc.uri, p, q, tc.path, tc.query)
		}
	}
}
