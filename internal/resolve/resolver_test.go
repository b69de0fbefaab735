package resolve

import (
	"bufio"
	"context"
	"errors"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeClock is a settable clock for TTL tests.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func newTestResolver(t *testing.T, dns *testDNS, cfg Config) *Resolver {
	t.Helper()
	if len(cfg.Servers) == 0 {
		cfg.Servers = []string{dns.addr}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.QueryTimeout == 0 {
		cfg.QueryTimeout = time.Second
	}
	r, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return r
}

func testContext(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func addrStrings(addrs []netip.Addr) []string {
	out := make([]string, len(addrs))
	for i, a := range addrs {
		out[i] = a.String()
	}
	return out
}

func wantAddrs(t *testing.T, got []netip.Addr, err error, want ...string) {
	t.Helper()
	if err != nil {
		t.Fatalf("lookup: %v", err)
	}
	if g := addrStrings(got); !slices.Equal(g, want) {
		t.Fatalf("lookup = %v, want %v", g, want)
	}
}

// A name that the machine's hosts file maps somewhere must resolve through
// DNS all the same. The package reads no hosts file at all, so the proof
// uses the real /etc/hosts: the names in it resolve, through Go's own
// resolver, to what the file says, and through this package to what the
// DNS server says.
func TestHostsFileIsNotConsulted(t *testing.T) {
	dns := startTestDNS(t)
	r := newTestResolver(t, dns, Config{})
	ctx := testContext(t)

	name, hostsIP := firstHostsEntry(t, "/etc/hosts")
	if name == "" {
		t.Skip("no usable name in /etc/hosts")
	}
	dns.set(name, "127.0.0.77")

	got, err := r.LookupNetIP(ctx, name)
	wantAddrs(t, got, err, "127.0.0.77")

	// For contrast: Go's own resolver answers from the hosts file.
	if system, err := (&net.Resolver{PreferGo: true}).LookupNetIP(ctx, "ip4", name); err == nil {
		t.Logf("%s: Go's resolver says %v (hosts file: %s); this package says %v", name, system, hostsIP, got)
	}
	if dns.queries.Load() == 0 {
		t.Fatal("the DNS server was never asked")
	}
}

// firstHostsEntry returns a name from a hosts file other than localhost
// names, with its address.
func firstHostsEntry(t *testing.T, path string) (name, ip string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		return "", ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line, _, _ := strings.Cut(sc.Text(), "#")
		fields := strings.Fields(line)
		if len(fields) < 2 {
			continue
		}
		for _, n := range fields[1:] {
			n = strings.ToLower(n)
			if n != "localhost" && !strings.HasSuffix(n, ".localhost") && !strings.HasPrefix(n, "ip6-") && plausibleName(n) {
				return n, fields[0]
			}
		}
	}
	return "", ""
}

func TestOverridesPrecedence(t *testing.T) {
	dns := startTestDNS(t)
	dns.set("example.com", "127.0.0.5")
	r := newTestResolver(t, dns, Config{Overrides: map[string][]string{
		"a.example.com":     {"127.0.0.1"},
		"*.example.com":     {"127.0.0.2"},
		"*.b.example.com":   {"127.0.0.3", "::1"},
		"*.c.b.example.com": {"127.0.0.4"},
	}})
	ctx := testContext(t)
	for host, want := range map[string][]string{
		"a.example.com":        {"127.0.0.1"},
		"A.Example.COM.":       {"127.0.0.1"},
		"x.example.com":        {"127.0.0.2"},
		"x.y.example.com":      {"127.0.0.2"},
		"a.b.example.com":      {"127.0.0.3", "::1"},
		"b.example.com":        {"127.0.0.2"},
		"x.c.b.example.com":    {"127.0.0.4"},
		"deep.x.b.example.com": {"127.0.0.3", "::1"},
	} {
		got, err := r.LookupNetIP(ctx, host)
		if err != nil || !slices.Equal(addrStrings(got), want) {
			t.Errorf("LookupNetIP(%s) = %v, %v; want %v", host, addrStrings(got), err, want)
		}
	}
	if n := dns.queries.Load(); n != 0 {
		t.Errorf("overrides caused %d DNS queries", n)
	}
	got, err := r.LookupNetIP(ctx, "example.com") // the suffix itself is not covered
	wantAddrs(t, got, err, "127.0.0.5")
	if !slices.Contains(addrStrings(r.OverrideAddrs()), "127.0.0.4") {
		t.Errorf("OverrideAddrs = %v, missing 127.0.0.4", r.OverrideAddrs())
	}
}

func TestLiteralsAndLocalhostNeedNoQuery(t *testing.T) {
	dns := startTestDNS(t)
	r := newTestResolver(t, dns, Config{})
	ctx := testContext(t)
	got, err := r.LookupNetIP(ctx, "127.0.0.1")
	wantAddrs(t, got, err, "127.0.0.1")
	got, err = r.LookupNetIP(ctx, "[::1]")
	wantAddrs(t, got, err, "::1")
	got, err = r.LookupNetIP(ctx, "localhost")
	wantAddrs(t, got, err, "127.0.0.1", "::1")
	if n := dns.queries.Load(); n != 0 {
		t.Errorf("%d DNS queries for literals and localhost", n)
	}
}

func TestCachingRespectsClampedTTL(t *testing.T) {
	dns := startTestDNS(t)
	dns.set("s3.amazonaws.com", "127.0.0.10", "::1")
	clock := &fakeClock{now: time.Unix(1_000_000, 0)}
	r := newTestResolver(t, dns, Config{MinTTL: 5 * time.Second, MaxTTL: 60 * time.Second, Now: clock.Now})
	ctx := testContext(t)

	lookup := func() {
		t.Helper()
		got, err := r.LookupNetIP(ctx, "s3.amazonaws.com")
		wantAddrs(t, got, err, "127.0.0.10", "::1")
	}

	dns.setTTL(1) // below MinTTL
	lookup()
	if n := dns.queries.Load(); n != 2 {
		t.Fatalf("first lookup made %d queries, want 2 (A and AAAA)", n)
	}
	lookup()
	clock.advance(4 * time.Second)
	lookup()
	if n := dns.queries.Load(); n != 2 {
		t.Fatalf("cached lookups made queries: %d total, want 2", n)
	}
	clock.advance(2 * time.Second) // past MinTTL
	dns.setTTL(3600)               // above MaxTTL
	lookup()
	if n := dns.queries.Load(); n != 4 {
		t.Fatalf("after MinTTL: %d queries, want 4", n)
	}
	clock.advance(59 * time.Second)
	lookup()
	if n := dns.queries.Load(); n != 4 {
		t.Fatalf("within MaxTTL: %d queries, want 4", n)
	}
	clock.advance(2 * time.Second)
	lookup()
	if n := dns.queries.Load(); n != 6 {
		t.Fatalf("after MaxTTL: %d queries, want 6", n)
	}
}

func TestNegativeAnswersAreCached(t *testing.T) {
	dns := startTestDNS(t)
	r := newTestResolver(t, dns, Config{})
	ctx := testContext(t)
	for range 2 {
		_, err := r.LookupNetIP(ctx, "nope.amazonaws.com")
		if !errors.Is(err, ErrNotFound) {
			t.Fatalf("lookup of a missing name: %v, want ErrNotFound", err)
		}
	}
	if n := dns.queries.Load(); n != 2 {
		t.Fatalf("%d queries, want 2 (the negative answer is cached)", n)
	}
}

func TestStaleAnswerServedWhenDNSFails(t *testing.T) {
	dns := startTestDNS(t)
	dns.set("s3.amazonaws.com", "127.0.0.10")
	clock := &fakeClock{now: time.Unix(1_000_000, 0)}
	r := newTestResolver(t, dns, Config{Network: "ip4", StaleFor: time.Minute, Attempts: 1, Now: clock.Now})
	ctx := testContext(t)
	got, err := r.LookupNetIP(ctx, "s3.amazonaws.com")
	wantAddrs(t, got, err, "127.0.0.10")

	dns.setFailing()
	clock.advance(45 * time.Second) // expired (TTL 30s), within StaleFor
	got, err = r.LookupNetIP(ctx, "s3.amazonaws.com")
	wantAddrs(t, got, err, "127.0.0.10")

	clock.advance(time.Minute) // beyond StaleFor
	if _, err := r.LookupNetIP(ctx, "s3.amazonaws.com"); err == nil || errors.Is(err, ErrNotFound) {
		t.Fatalf("lookup after StaleFor with failing DNS: %v, want a server error", err)
	}
}

func TestTruncatedAnswerRetriedOverTCP(t *testing.T) {
	dns := startTestDNS(t)
	dns.set("big.amazonaws.com", "127.0.0.20", "127.0.0.21")
	dns.setTruncated("big.amazonaws.com")
	r := newTestResolver(t, dns, Config{Network: "ip4"})
	got, err := r.LookupNetIP(testContext(t), "big.amazonaws.com")
	wantAddrs(t, got, err, "127.0.0.20", "127.0.0.21")
	dns.mu.Lock()
	defer dns.mu.Unlock()
	if dns.tcpServed == 0 {
		t.Fatal("no TCP query after a truncated UDP answer")
	}
}

func TestCNAMEIsFollowed(t *testing.T) {
	dns := startTestDNS(t)
	dns.setCNAME("bucket.s3.amazonaws.com", "s3-1-w.amazonaws.com")
	dns.set("s3-1-w.amazonaws.com", "127.0.0.30")
	r := newTestResolver(t, dns, Config{Network: "ip4"})
	got, err := r.LookupNetIP(testContext(t), "bucket.s3.amazonaws.com")
	wantAddrs(t, got, err, "127.0.0.30")
}

func TestNextServerAfterFailure(t *testing.T) {
	dead, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	deadAddr := dead.LocalAddr().String()
	dead.Close() // nothing listens there now: the query is refused or times out

	dns := startTestDNS(t)
	dns.set("s3.amazonaws.com", "127.0.0.40")
	r := newTestResolver(t, dns, Config{
		Servers: []string{deadAddr, dns.addr}, Network: "ip4", QueryTimeout: 300 * time.Millisecond,
	})
	got, err := r.LookupNetIP(testContext(t), "s3.amazonaws.com")
	wantAddrs(t, got, err, "127.0.0.40")
}

func TestConcurrentLookupsShareOneQuery(t *testing.T) {
	dns := startTestDNS(t)
	dns.set("s3.amazonaws.com", "127.0.0.50")
	r := newTestResolver(t, dns, Config{Network: "ip4"})
	ctx := testContext(t)
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for range 20 {
		wg.Go(func() {
			if _, err := r.LookupNetIP(ctx, "s3.amazonaws.com"); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if n := dns.queries.Load(); n != 1 {
		t.Fatalf("%d queries for 20 concurrent lookups, want 1", n)
	}
}

func TestResolvConfServers(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	plain := write("plain", "# comment\nsearch example\nnameserver 192.0.2.1\nnameserver 2001:db8::1\noptions ndots:1\n")
	stub := write("stub", "nameserver 127.0.0.53\n")
	upstream := write("upstream", "nameserver 198.51.100.7\n")
	local := write("local", "nameserver 127.0.0.1\n")

	servers, loopback, err := systemServers(plain, upstream)
	if err != nil || loopback || !slices.Equal(servers, []string{"192.0.2.1:53", "[2001:db8::1]:53"}) {
		t.Errorf("plain: %v %v %v", servers, loopback, err)
	}
	servers, loopback, err = systemServers(stub, upstream)
	if err != nil || loopback || !slices.Equal(servers, []string{"198.51.100.7:53"}) {
		t.Errorf("systemd stub: %v %v %v, want the upstream servers", servers, loopback, err)
	}
	servers, loopback, err = systemServers(local, upstream)
	if err != nil || !loopback || !slices.Equal(servers, []string{"127.0.0.1:53"}) {
		t.Errorf("local: %v %v %v, want loopback flagged", servers, loopback, err)
	}
	if _, _, err := systemServers(filepath.Join(dir, "missing"), upstream); err == nil {
		t.Error("missing resolv.conf accepted")
	}
	r, err := New(Config{ResolvConfPath: plain})
	if err != nil || !slices.Equal(r.Servers(), []string{"192.0.2.1:53", "[2001:db8::1]:53"}) {
		t.Errorf("New with resolv.conf: %v %v", r, err)
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	for _, cfg := range []Config{
		{Servers: []string{"dns.example"}},
		{Servers: []string{"127.0.0.1"}, Network: "tcp"},
		{Servers: []string{"127.0.0.1"}, Overrides: map[string][]string{"*": {"127.0.0.1"}}},
		{Servers: []string{"127.0.0.1"}, Overrides: map[string][]string{"a.example": {"not-an-ip"}}},
		{Servers: []string{"127.0.0.1"}, Overrides: map[string][]string{"a.example": {}}},
	} {
		if _, err := New(cfg); err == nil {
			t.Errorf("New(%+v) accepted a bad config", cfg)
		}
	}
}
