package resolve

import (
	"fmt"
	"net/netip"
	"sort"
	"strings"
)

// overrides are the static host → addresses entries that bypass DNS.
type overrides struct {
	exact    map[string][]netip.Addr
	suffixes []suffixOverride // longest suffix first
}

type suffixOverride struct {
	suffix string // with leading dot
	addrs  []netip.Addr
}

func newOverrides(in map[string][]string) (overrides, error) {
	o := overrides{exact: make(map[string][]netip.Addr)}
	for pattern, ips := range in {
		if len(ips) == 0 {
			return overrides{}, fmt.Errorf("override %q: no addresses", pattern)
		}
		addrs := make([]netip.Addr, 0, len(ips))
		for _, ip := range ips {
			a, err := netip.ParseAddr(strings.Trim(strings.TrimSpace(ip), "[]"))
			if err != nil {
				return overrides{}, fmt.Errorf("override %q: address %q: %w", pattern, ip, err)
			}
			addrs = append(addrs, a.Unmap())
		}
		p := normalizeHost(pattern)
		switch {
		case strings.HasPrefix(p, "*.") && len(p) > 2 && !strings.Contains(p[2:], "*"):
			o.suffixes = append(o.suffixes, suffixOverride{suffix: p[1:], addrs: addrs})
		case p == "" || strings.Contains(p, "*"):
			return overrides{}, fmt.Errorf("override %q: want a host name or *.suffix", pattern)
		default:
			o.exact[p] = addrs
		}
	}
	sort.Slice(o.suffixes, func(i, j int) bool {
		if len(o.suffixes[i].suffix) != len(o.suffixes[j].suffix) {
			return len(o.suffixes[i].suffix) > len(o.suffixes[j].suffix)
		}
		return o.suffixes[i].suffix < o.suffixes[j].suffix
	})
	return o, nil
}

// lookup returns the override addresses for a normalized host name.
func (o overrides) lookup(host string) ([]netip.Addr, bool) {
	if addrs, ok := o.exact[host]; ok {
		return addrs, true
	}
	for _, s := range o.suffixes {
		if len(host) > len(s.suffix) && strings.HasSuffix(host, s.suffix) {
			return s.addrs, true
		}
	}
	return nil, false
}

// all returns every address named by the overrides, for the destination
// policy's allowlist.
func (o overrides) all() []netip.Addr {
	var out []netip.Addr
	for _, addrs := range o.exact {
		out = append(out, addrs...)
	}
	for _, s := range o.suffixes {
		out = append(out, s.addrs...)
	}
	return out
}

func normalizeHost(host string) string {
	return strings.ToLower(strings.TrimSuffix(strings.TrimSpace(host), "."))
}
