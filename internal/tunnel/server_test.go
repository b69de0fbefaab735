package tunnel

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

func TestServerTunnelsAllowedSNI(t *testing.T) {
	backend := startTLSBackend(t)
	_, addr := startServer(t, Config{Allow: allowOnly("example.com"), Target: backend.addr()})

	resp, err := httpsClientVia(addr, backend.roots()).Get("https://example.com/bucket/key")
	if err != nil {
		t.Fatalf("GET through the tunnel: %v", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if want := "backend saw example.com /bucket/key"; string(body) != want {
		t.Fatalf("body %q, want %q", body, want)
	}
}

func TestServerClosesRefusedConnections(t *testing.T) {
	backend := startTLSBackend(t)
	_, addr := startServer(t, Config{Allow: allowOnly("example.com"), Target: backend.addr()})

	for _, tc := range []struct {
		name string
		cfg  *tls.Config
	}{
		{"SNI not allowed", &tls.Config{ServerName: "other.example", InsecureSkipVerify: true}},
		{"no SNI", &tls.Config{InsecureSkipVerify: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			conn := dialTest(t, addr)
			if err := tls.Client(conn, tc.cfg).Handshake(); err == nil {
				t.Fatal("handshake succeeded through a refused tunnel")
			}
		})
	}
	t.Run("plain HTTP", func(t *testing.T) {
		conn := dialTest(t, addr)
		fmt.Fprintf(conn, "GET / HTTP/1.1\r\nHost: example.com\r\n\r\n")
		if n, err := conn.Read(make([]byte, 1)); n != 0 || err == nil {
			t.Fatalf("read %d bytes, %v; want the connection closed", n, err)
		}
	})
	if n := backend.conns.Load(); n != 0 {
		t.Fatalf("backend saw %d connections from refused clients", n)
	}
}

func TestServerDefaultTargetIsSNIOnPort443(t *testing.T) {
	dialed := make(chan string, 1)
	_, addr := startServer(t, Config{
		Allow: allowOnly("bucket.s3.amazonaws.com"),
		Dial: func(_ context.Context, _, address string) (net.Conn, error) {
			dialed <- address
			return nil, errors.New("test dialer refuses")
		},
	})
	conn := dialTest(t, addr)
	_, _ = conn.Write(toRecords(buildClientHello(helloSpec{serverNames: []string{"bucket.s3.amazonaws.com"}}), 1000))
	select {
	case got := <-dialed:
		if got != "bucket.s3.amazonaws.com:443" {
			t.Fatalf("dialled %q, want bucket.s3.amazonaws.com:443", got)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no dial")
	}
	if n, err := conn.Read(make([]byte, 1)); n != 0 || err == nil {
		t.Fatalf("read %d, %v after a failed dial; want the connection closed", n, err)
	}
}

func TestServerReplaysHelloAndPropagatesHalfClose(t *testing.T) {
	backend := startRawBackend(t, countingEcho)
	_, addr := startServer(t, Config{Allow: allowOnly("s3.amazonaws.com"), Target: backend.addr()})

	hello := toRecords(buildClientHello(helloSpec{serverNames: []string{"s3.amazonaws.com"}}), 50)
	conn := dialTest(t, addr)
	reply := sendAndHalfClose(t, conn, conn, append(hello, "payload"...))
	if want := fmt.Sprintf("got %d bytes", len(hello)+len("payload")); reply != want {
		t.Fatalf("backend replied %q, want %q", reply, want)
	}
}

func TestServerIdleTimeout(t *testing.T) {
	backend := startHoldingBackend(t)
	_, addr := startServer(t, Config{Allow: allowOnly("s3.amazonaws.com"), Target: backend.addr(), IdleTimeout: 200 * time.Millisecond})

	conn := dialTest(t, addr)
	_, _ = conn.Write(toRecords(buildClientHello(helloSpec{serverNames: []string{"s3.amazonaws.com"}}), 1000))
	start := time.Now()
	_, err := conn.Read(make([]byte, 1))
	elapsed := time.Since(start)
	if err == nil {
		t.Fatal("read data from a silent backend")
	}
	if elapsed < 150*time.Millisecond || elapsed > 5*time.Second {
		t.Fatalf("idle tunnel closed after %v, want about 200ms", elapsed)
	}
}

func TestServerIdleTimeoutSparesOneWayTraffic(t *testing.T) {
	// The backend streams for a while after the client has gone quiet: the
	// client's silence alone must not end the tunnel.
	backend := startRawBackend(t, func(c net.Conn) {
		for range 8 {
			time.Sleep(50 * time.Millisecond)
			if _, err := c.Write([]byte("tick")); err != nil {
				return
			}
		}
	})
	_, addr := startServer(t, Config{Allow: allowOnly("s3.amazonaws.com"), Target: backend.addr(), IdleTimeout: 150 * time.Millisecond})
	conn := dialTest(t, addr)
	_, _ = conn.Write(toRecords(buildClientHello(helloSpec{serverNames: []string{"s3.amazonaws.com"}}), 1000))
	got, _ := io.ReadAll(conn)
	if want := strings.Repeat("tick", 8); string(got) != want {
		t.Fatalf("got %q, want %q", got, want)
	}
}

func TestServerShutdownWaitsThenCloses(t *testing.T) {
	backend := startHoldingBackend(t)
	s, addr := startServer(t, Config{Allow: allowOnly("s3.amazonaws.com"), Target: backend.addr()})

	conn := dialTest(t, addr)
	_, _ = conn.Write(toRecords(buildClientHello(helloSpec{serverNames: []string{"s3.amazonaws.com"}}), 1000))
	waitFor(t, "the tunnel to reach the backend", func() bool { return backend.conns.Load() == 1 })

	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := s.Shutdown(ctx)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Shutdown with a live tunnel: %v, want DeadlineExceeded", err)
	}
	if elapsed := time.Since(start); elapsed < 150*time.Millisecond {
		t.Fatalf("Shutdown returned after %v without waiting", elapsed)
	}
	if n, err := conn.Read(make([]byte, 1)); n != 0 || err == nil {
		t.Fatalf("tunnel still open after a forced shutdown: %d, %v", n, err)
	}
	if _, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		t.Fatal("listener still accepting after Shutdown")
	}
}

func TestServerShutdownWithoutTunnelsIsImmediate(t *testing.T) {
	s, _ := startServer(t, Config{Allow: allowOnly("s3.amazonaws.com")})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Serve(ctx, ln); !errors.Is(err, ErrServerClosed) {
		t.Fatalf("Serve after Shutdown: %v", err)
	}
}

func TestServeStopsWhenContextEnds(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := NewServer(Config{Logger: quietLogger(t)})
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- s.Serve(ctx, ln) }()
	cancel()
	select {
	case err := <-served:
		if !errors.Is(err, ErrServerClosed) {
			t.Fatalf("Serve: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not return after its context ended")
	}
}

func TestServerMaxTunnels(t *testing.T) {
	backend := startRawBackend(t, countingEcho)
	_, addr := startServer(t, Config{Allow: allowOnly("s3.amazonaws.com"), Target: backend.addr(), MaxTunnels: 1})
	hello := toRecords(buildClientHello(helloSpec{serverNames: []string{"s3.amazonaws.com"}}), 1000)

	first := dialTest(t, addr)
	_, _ = first.Write(hello)
	waitFor(t, "the first tunnel", func() bool { return backend.conns.Load() == 1 })

	second := dialTest(t, addr) // sits in the backlog
	_, _ = second.Write(hello)
	time.Sleep(200 * time.Millisecond)
	if n := backend.conns.Load(); n != 1 {
		t.Fatalf("%d upstream connections with MaxTunnels 1", n)
	}

	_ = first.CloseWrite()
	_, _ = io.ReadAll(first)
	_ = second.CloseWrite()
	reply, err := io.ReadAll(second)
	if err != nil || !strings.HasPrefix(string(reply), "got ") {
		t.Fatalf("second tunnel after the first ended: %q, %v", reply, err)
	}
}
