package policy

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"
)

func mustNew(t *testing.T, cfg Config) *Policy {
	t.Helper()
	p, err := New(cfg)
	if err != nil {
		t.Fatalf("New(%+v): %v", cfg, err)
	}
	return p
}

func TestAllowAddrRejectsInternalAddresses(t *testing.T) {
	p := mustNew(t, Config{})
	for _, s := range []string{
		"127.0.0.1", "127.8.9.10", "10.1.2.3", "172.16.0.1", "172.31.255.255",
		"192.168.1.1", "169.254.169.254", "169.254.0.1", "100.64.0.1", "100.127.255.254",
		"0.0.0.0", "0.1.2.3", "224.0.0.1", "255.255.255.255",
		"::", "::1", "fe80::1", "fe80::1%eth0", "fc00::1", "fd12:3456::1", "ff02::1",
		"::ffff:10.0.0.1", "::ffff:127.0.0.1", "::ffff:169.254.169.254",
		"64:ff9b::a9fe:a9fe", // NAT64 form of 169.254.169.254
		"2002:7f00:1::1",     // 6to4 form of 127.0.0.1
	} {
		err := p.AllowAddr(netip.MustParseAddr(s))
		if !errors.Is(err, ErrDenied) {
			t.Errorf("AllowAddr(%s) = %v, want ErrDenied", s, err)
		}
	}
}

func TestAllowAddrAcceptsPublicAddresses(t *testing.T) {
	p := mustNew(t, Config{})
	for _, s := range []string{
		"52.216.1.2", "3.5.1.1", "8.8.8.8", "172.32.0.1", "100.128.0.1", "169.253.0.1",
		"2600:1f18::1", "::ffff:52.216.1.2", "64:ff9b::3405:101",
	} {
		if err := p.AllowAddr(netip.MustParseAddr(s)); err != nil {
			t.Errorf("AllowAddr(%s) = %v, want nil", s, err)
		}
	}
}

func TestConfiguredExemptions(t *testing.T) {
	p := mustNew(t, Config{
		OriginHosts:  []string{"127.0.0.1", "minio.internal"},
		AllowedCIDRs: []string{"10.20.0.0/16", "::ffff:192.168.7.0/120", "fd00::5"},
		AllowedAddrs: []string{"169.254.10.10", "[fe80::7]"},
	})
	for _, s := range []string{
		"127.0.0.1", "::ffff:127.0.0.1", "10.20.3.4", "192.168.7.9", "fd00::5",
		"169.254.10.10", "fe80::7",
	} {
		if err := p.AllowAddr(netip.MustParseAddr(s)); err != nil {
			t.Errorf("AllowAddr(%s) = %v, want nil (configured)", s, err)
		}
	}
	for _, s := range []string{"127.0.0.2", "10.21.0.1", "192.168.8.1", "fd00::6", "169.254.169.254"} {
		if err := p.AllowAddr(netip.MustParseAddr(s)); !errors.Is(err, ErrDenied) {
			t.Errorf("AllowAddr(%s) = %v, want ErrDenied", s, err)
		}
	}
	for _, h := range []string{"127.0.0.1", "minio.internal", "MINIO.internal."} {
		if err := p.AllowHost(h); err != nil {
			t.Errorf("AllowHost(%q) = %v, want nil (origin)", h, err)
		}
	}
}

func TestAllowHostPatterns(t *testing.T) {
	p := mustNew(t, Config{HostPatterns: []string{"*.s3.example.net", "exact.example.org"}})
	allowed := []string{
		"s3.amazonaws.com", "bucket.s3.us-east-1.amazonaws.com", "S3.EU-WEST-1.AMAZONAWS.COM.",
		"bucket.s3.cn-north-1.amazonaws.com.cn", "a.s3.example.net", "a.b.s3.example.net",
		"exact.example.org",
	}
	for _, h := range allowed {
		if err := p.AllowHost(h); err != nil {
			t.Errorf("AllowHost(%q) = %v, want nil", h, err)
		}
	}
	denied := []string{
		"amazonaws.com", "evilamazonaws.com", "amazonaws.com.evil.net", "s3.example.net",
		"sub.exact.example.org", "localhost", "127.0.0.1", "169.254.169.254", "", ".amazonaws.com",
	}
	for _, h := range denied {
		if err := p.AllowHost(h); !errors.Is(err, ErrDenied) {
			t.Errorf("AllowHost(%q) = %v, want ErrDenied", h, err)
		}
	}
}

func TestNoDefaultHosts(t *testing.T) {
	p := mustNew(t, Config{NoDefaultHosts: true, OriginHosts: []string{"s3.local"}})
	if err := p.AllowHost("s3.amazonaws.com"); !errors.Is(err, ErrDenied) {
		t.Errorf("AllowHost(s3.amazonaws.com) = %v, want ErrDenied without defaults", err)
	}
	if err := p.AllowHost("s3.local"); err != nil {
		t.Errorf("AllowHost(s3.local) = %v", err)
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	for _, cfg := range []Config{
		{HostPatterns: []string{"*"}},
		{HostPatterns: []string{"a.*.com"}},
		{HostPatterns: []string{"*."}},
		{HostPatterns: []string{"bad host"}},
		{AllowedCIDRs: []string{"10.0.0.0/33"}},
		{AllowedCIDRs: []string{"nonsense"}},
		{AllowedAddrs: []string{"example.com"}},
	} {
		if _, err := New(cfg); err == nil {
			t.Errorf("New(%+v) accepted a bad config", cfg)
		}
	}
}

func TestControlRefusesDialAfterResolution(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()

	denying := &net.Dialer{ControlContext: mustNew(t, Config{}).Control}
	conn, err := denying.DialContext(ctx, "tcp", ln.Addr().String())
	if err == nil {
		conn.Close()
		t.Fatal("dial to 127.0.0.1 succeeded through a default policy")
	}
	if !errors.Is(err, ErrDenied) {
		t.Fatalf("dial error = %v, want one wrapping ErrDenied", err)
	}

	allowing := &net.Dialer{ControlContext: mustNew(t, Config{OriginHosts: []string{"127.0.0.1"}}).Control}
	conn, err = allowing.DialContext(ctx, "tcp", ln.Addr().String())
	if err != nil {
		t.Fatalf("dial to configured origin 127.0.0.1: %v", err)
	}
	conn.Close()
}

func TestAllowAddrPort(t *testing.T) {
	p := mustNew(t, Config{})
	for _, s := range []string{"127.0.0.1:443", "[::1]:443", "[::ffff:10.0.0.1]:80", "nonsense", "host.example:443"} {
		if err := p.AllowAddrPort(s); !errors.Is(err, ErrDenied) {
			t.Errorf("AllowAddrPort(%q) = %v, want ErrDenied", s, err)
		}
	}
	if err := p.AllowAddrPort("52.216.1.2:443"); err != nil {
		t.Errorf("AllowAddrPort(public) = %v", err)
	}
}

func TestValidHostname(t *testing.T) {
	long := strings.Repeat("a", 63)
	for _, s := range []string{"a", "s3.amazonaws.com", "x_y.example", long + ".com"} {
		if !ValidHostname(s) {
			t.Errorf("ValidHostname(%q) = false", s)
		}
	}
	for _, s := range []string{"", ".", "a..b", "-a.com", "a-.com", long + "a.com", "a b", "a/b", strings.Repeat("a.", 127) + "ab"} {
		if ValidHostname(s) {
			t.Errorf("ValidHostname(%q) = true", s)
		}
	}
}
