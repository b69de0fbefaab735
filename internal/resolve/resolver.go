package resolve

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/net/dns/dnsmessage"
	"golang.org/x/sync/singleflight"
)

// ErrNotFound is wrapped by lookups of names that do not exist or have no
// address of the wanted family.
var ErrNotFound = errors.New("no such host")

// Resolver looks up upstream host names without the hosts file and dials
// them. Safe for concurrent use.
type Resolver struct {
	cfg       Config
	servers   []string
	overrides overrides
	cache     *answerCache
	group     singleflight.Group
	spread    *spreader
}

// New checks cfg and builds a Resolver. It reads resolv.conf when no
// servers are configured.
func New(cfg Config) (*Resolver, error) {
	cfg = cfg.withDefaults()
	switch cfg.Network {
	case "ip", "ip4", "ip6":
	default:
		return nil, fmt.Errorf("resolve: network %q: want ip, ip4 or ip6", cfg.Network)
	}
	ov, err := newOverrides(cfg.Overrides)
	if err != nil {
		return nil, fmt.Errorf("resolve: %w", err)
	}
	r := &Resolver{
		cfg:       cfg,
		overrides: ov,
		cache:     newAnswerCache(cfg.MaxEntries, cfg.StaleFor),
		spread:    newSpreader(cfg.FailureBackoff, cfg.MaxEntries),
	}
	if len(cfg.Servers) > 0 {
		r.servers, err = serverAddrs(cfg.Servers)
		if err != nil {
			return nil, fmt.Errorf("resolve: %w", err)
		}
		return r, nil
	}
	servers, loopbackOnly, err := systemServers(cfg.ResolvConfPath, cfg.SystemdResolvConfPath)
	if err != nil {
		return nil, fmt.Errorf("resolve: no DNS servers configured and %w", err)
	}
	if loopbackOnly {
		cfg.Logger.Warn("upstream DNS uses only loopback nameservers; a local resolver (systemd-resolved, dnsmasq) may answer from the hosts file and send S3 traffic back to s3cache: configure DNS servers explicitly",
			"servers", servers, "resolv_conf", cfg.ResolvConfPath)
	}
	r.servers = servers
	return r, nil
}

// Servers returns the DNS servers queried, as "ip:port".
func (r *Resolver) Servers() []string { return slices.Clone(r.servers) }

// OverrideAddrs returns every address named by the static overrides, to
// exempt them in the destination policy.
func (r *Resolver) OverrideAddrs() []netip.Addr { return r.overrides.all() }

// LookupNetIP returns the addresses of host: an IP literal as itself, a
// static override, loopback for localhost, else the DNS answer, cached.
func (r *Resolver) LookupNetIP(ctx context.Context, host string) ([]netip.Addr, error) {
	h := normalizeHost(strings.Trim(host, "[]"))
	if addr, err := netip.ParseAddr(h); err == nil {
		return []netip.Addr{addr.Unmap()}, nil
	}
	if addrs, ok := r.overrides.lookup(h); ok {
		return r.filterFamily(slices.Clone(addrs), host)
	}
	if h == "localhost" || strings.HasSuffix(h, ".localhost") {
		return r.filterFamily([]netip.Addr{netip.MustParseAddr("127.0.0.1"), netip.IPv6Loopback()}, host)
	}
	if !plausibleName(h) {
		return nil, fmt.Errorf("lookup %q: invalid host name: %w", host, ErrNotFound)
	}
	now := r.cfg.Now()
	if e, ok := r.cache.get(h); ok && now.Before(e.expires) {
		return slices.Clone(e.addrs), e.err
	}
	// The shared query must not die with the first caller's context: every
	// caller waits on its own, and the query is bounded by QueryTimeout.
	shared := context.WithoutCancel(ctx)
	ch := r.group.DoChan(h, func() (any, error) {
		// A flight that ended between our cache check and DoChan has
		// cached its answer already: use it rather than ask again.
		if e, ok := r.cache.get(h); ok && r.cfg.Now().Before(e.expires) {
			return slices.Clone(e.addrs), e.err
		}
		return r.refresh(shared, h)
	})
	select {
	case res := <-ch:
		if res.Err != nil {
			return nil, res.Err
		}
		return r.filterFamily(slices.Clone(res.Val.([]netip.Addr)), host)
	case <-ctx.Done():
		return nil, fmt.Errorf("lookup %s: %w", host, ctx.Err())
	}
}

// refresh queries DNS for host and caches the result. When the servers
// fail it falls back to a stale answer within StaleFor.
func (r *Resolver) refresh(ctx context.Context, host string) ([]netip.Addr, error) {
	addrs, ttl, err := r.query(ctx, host)
	now := r.cfg.Now()
	switch {
	case err == nil:
		r.cache.put(host, cacheEntry{addrs: addrs, expires: now.Add(r.clampTTL(ttl))}, now)
		return addrs, nil
	case errors.Is(err, ErrNotFound):
		r.cache.put(host, cacheEntry{err: err, expires: now.Add(r.cfg.NegativeTTL)}, now)
		return nil, err
	}
	if e, ok := r.cache.get(host); ok && e.err == nil && r.cfg.StaleFor > 0 && now.Before(e.expires.Add(r.cfg.StaleFor)) {
		r.cfg.Logger.Warn("upstream DNS failed; using the last answer", "host", host, "err", err, "expired_ago", now.Sub(e.expires).Round(time.Second))
		return e.addrs, nil
	}
	return nil, err
}

func (r *Resolver) clampTTL(ttl time.Duration) time.Duration {
	return min(max(ttl, r.cfg.MinTTL), r.cfg.MaxTTL)
}

// query asks for the record types of cfg.Network in parallel and merges
// the answers: IPv4 first. It fails only when no type yields an address.
func (r *Resolver) query(ctx context.Context, host string) ([]netip.Addr, time.Duration, error) {
	var types []dnsmessage.Type
	if r.cfg.Network != "ip6" {
		types = append(types, dnsmessage.TypeA)
	}
	if r.cfg.Network != "ip4" {
		types = append(types, dnsmessage.TypeAAAA)
	}
	type result struct {
		addrs []netip.Addr
		ttl   uint32
		err   error
	}
	results := make([]result, len(types))
	var wg sync.WaitGroup
	for i, t := range types {
		wg.Go(func() {
			addrs, ttl, err := r.queryType(ctx, host, t)
			results[i] = result{addrs, ttl, err}
		})
	}
	wg.Wait()

	var addrs []netip.Addr
	var errs []error
	ttl := ^uint32(0)
	for _, res := range results {
		if res.err != nil {
			errs = append(errs, res.err)
			continue
		}
		if len(res.addrs) > 0 {
			addrs = append(addrs, res.addrs...)
			ttl = min(ttl, res.ttl)
		}
	}
	if len(addrs) > 0 {
		return addrs, time.Duration(ttl) * time.Second, nil
	}
	if len(errs) == 0 || allNotFound(errs) {
		return nil, 0, fmt.Errorf("lookup %s: %w", host, ErrNotFound)
	}
	return nil, 0, fmt.Errorf("lookup %s: %w", host, errors.Join(errs...))
}

func allNotFound(errs []error) bool {
	for _, err := range errs {
		if !errors.Is(err, ErrNotFound) {
			return false
		}
	}
	return true
}

// queryType resolves one record type, following a CNAME the server did not
// chase itself.
func (r *Resolver) queryType(ctx context.Context, host string, qtype dnsmessage.Type) ([]netip.Addr, uint32, error) {
	target := host
	for range maxCNAMEChain {
		name, err := dnsmessage.NewName(target + ".")
		if err != nil {
			return nil, 0, fmt.Errorf("%s: %v: %w", target, err, ErrNotFound)
		}
		ans, err := r.ask(ctx, name, qtype)
		if err != nil {
			return nil, 0, err
		}
		if ans.cname == "" {
			return ans.addrs, ans.ttl, nil
		}
		target = strings.TrimSuffix(ans.cname, ".")
	}
	return nil, 0, fmt.Errorf("%s: CNAME chain longer than %d: %w", host, maxCNAMEChain, ErrNotFound)
}

// ask sends one question to the servers in order, for cfg.Attempts
// rounds, until one answers.
func (r *Resolver) ask(ctx context.Context, name dnsmessage.Name, qtype dnsmessage.Type) (answer, error) {
	var errs []error
	for range r.cfg.Attempts {
		for _, server := range r.servers {
			ans, err := r.exchange(ctx, server, name, qtype)
			switch {
			case err == nil:
				return ans, nil
			case errors.Is(err, errNoSuchHost):
				return answer{}, fmt.Errorf("%s %s: %w", qtype, name, ErrNotFound)
			case ctx.Err() != nil:
				return answer{}, fmt.Errorf("%s %s: %w", qtype, name, ctx.Err())
			}
			errs = append(errs, err)
		}
	}
	return answer{}, fmt.Errorf("%s %s: all DNS servers failed: %w", qtype, name, errors.Join(errs...))
}

func (r *Resolver) filterFamily(addrs []netip.Addr, host string) ([]netip.Addr, error) {
	switch r.cfg.Network {
	case "ip4":
		addrs = slices.DeleteFunc(addrs, func(a netip.Addr) bool { return !a.Is4() })
	case "ip6":
		addrs = slices.DeleteFunc(addrs, func(a netip.Addr) bool { return !a.Is6() })
	}
	if len(addrs) == 0 {
		return nil, fmt.Errorf("lookup %s: no %s address: %w", host, r.cfg.Network, ErrNotFound)
	}
	return addrs, nil
}

// plausibleName rejects names no DNS server could answer, so they cost no
// query.
func plausibleName(h string) bool {
	if h == "" || len(h) > 253 || strings.HasPrefix(h, ".") || strings.Contains(h, "..") {
		return false
	}
	for i := 0; i < len(h); i++ {
		if c := h[i]; c <= ' ' || c >= 0x7f {
			return false
		}
	}
	return true
}
