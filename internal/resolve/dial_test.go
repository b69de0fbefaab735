package resolve

import (
	"context"
	"errors"
	"net"
	"sync"
	"testing"
)

// recordingDialer records dial targets, fails those in failing, and
// otherwise returns one end of a pipe.
type recordingDialer struct {
	mu      sync.Mutex
	targets []string
	failing map[string]bool
}

func (d *recordingDialer) dial(_ context.Context, network, address string) (net.Conn, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.targets = append(d.targets, address)
	if d.failing[address] {
		return nil, errors.New("connection refused (test)")
	}
	a, b := net.Pipe()
	b.Close()
	return a, nil
}

func (d *recordingDialer) counts() map[string]int {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := map[string]int{}
	for _, t := range d.targets {
		out[t]++
	}
	return out
}

// overrideResolver resolves s3.amazonaws.com to ips by static override and
// dials through d.
func overrideResolver(t *testing.T, d *recordingDialer, ips ...string) *Resolver {
	t.Helper()
	return newTestResolver(t, startTestDNS(t), Config{
		Overrides: map[string][]string{"s3.amazonaws.com": ips},
		Dial:      d.dial,
	})
}

// dialRepeatedly dials s3.amazonaws.com:443 n times, each expected to
// succeed.
func dialRepeatedly(t *testing.T, r *Resolver, n int) {
	t.Helper()
	ctx := testContext(t)
	for range n {
		conn, err := r.DialContext(ctx, "tcp", "s3.amazonaws.com:443")
		if err != nil {
			t.Fatal(err)
		}
		conn.Close()
	}
}

func TestDialSpreadsOverAddresses(t *testing.T) {
	d := &recordingDialer{}
	dialRepeatedly(t, overrideResolver(t, d, "127.0.0.1", "127.0.0.2", "127.0.0.3"), 6)
	for _, ip := range []string{"127.0.0.1:443", "127.0.0.2:443", "127.0.0.3:443"} {
		if n := d.counts()[ip]; n != 2 {
			t.Errorf("%s dialled %d times, want 2 (counts %v)", ip, n, d.counts())
		}
	}
}

func TestDialSkipsAFailedAddress(t *testing.T) {
	d := &recordingDialer{failing: map[string]bool{"127.0.0.1:443": true}}
	dialRepeatedly(t, overrideResolver(t, d, "127.0.0.1", "127.0.0.2", "127.0.0.3"), 6)
	c := d.counts()
	if c["127.0.0.1:443"] != 1 {
		t.Errorf("failed address tried %d times, want once then skipped (counts %v)", c["127.0.0.1:443"], c)
	}
	if c["127.0.0.2:443"]+c["127.0.0.3:443"] != 6 || c["127.0.0.2:443"] < 2 || c["127.0.0.3:443"] < 2 {
		t.Errorf("healthy addresses not shared: %v", c)
	}
}

func TestDialGivesUpAfterMaxAttempts(t *testing.T) {
	d := &recordingDialer{failing: map[string]bool{
		"127.0.0.1:443": true, "127.0.0.2:443": true, "127.0.0.3:443": true, "127.0.0.4:443": true,
	}}
	r := newTestResolver(t, startTestDNS(t), Config{
		Overrides:       map[string][]string{"s3.amazonaws.com": {"127.0.0.1", "127.0.0.2", "127.0.0.3", "127.0.0.4"}},
		Dial:            d.dial,
		MaxDialAttempts: 2,
	})
	if _, err := r.DialContext(testContext(t), "tcp", "s3.amazonaws.com:443"); err == nil {
		t.Fatal("dial succeeded with every address failing")
	}
	if n := len(d.targets); n != 2 {
		t.Fatalf("%d attempts, want 2", n)
	}
}

func TestDialFiltersByNetwork(t *testing.T) {
	d := &recordingDialer{}
	r := newTestResolver(t, startTestDNS(t), Config{
		Overrides: map[string][]string{"s3.amazonaws.com": {"127.0.0.1", "::1"}},
		Dial:      d.dial,
	})
	conn, err := r.DialContext(testContext(t), "tcp6", "s3.amazonaws.com:443")
	if err != nil {
		t.Fatal(err)
	}
	conn.Close()
	if got := d.targets; len(got) != 1 || got[0] != "[::1]:443" {
		t.Fatalf("tcp6 dial went to %v", got)
	}
}

func TestDialResolvesThroughDNSAndConnects(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan struct{})
	go func() {
		conn, err := ln.Accept()
		if err == nil {
			conn.Close()
		}
		close(accepted)
	}()

	dns := startTestDNS(t)
	dns.set("bucket.s3.amazonaws.com", "127.0.0.1")
	r := newTestResolver(t, dns, Config{Network: "ip4"})
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	conn, err := r.DialContext(testContext(t), "tcp", net.JoinHostPort("bucket.s3.amazonaws.com", port))
	if err != nil {
		t.Fatal(err)
	}
	conn.Close()
	<-accepted
}
