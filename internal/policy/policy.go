package policy

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"syscall"
)

// Config says which destinations are allowed beyond the defaults.
type Config struct {
	// HostPatterns are extra allowed hosts: exact names ("s3.example.com",
	// "10.0.0.5") or wildcards ("*.example.com"). A bare "*" is refused.
	HostPatterns []string
	// NoDefaultHosts drops DefaultHostPatterns (*.amazonaws.com,
	// *.amazonaws.com.cn) from the allowed hosts.
	NoDefaultHosts bool
	// OriginHosts are the hosts of configured origins (host only, no port).
	// Each is allowed as a host; one that is an IP literal is also allowed as
	// an address, so an origin on 127.0.0.1 works in tests.
	OriginHosts []string
	// AllowedCIDRs exempt address ranges from the internal-address check,
	// e.g. "10.20.0.0/16" for an on-premises S3 endpoint. A bare IP means a
	// single address.
	AllowedCIDRs []string
	// AllowedAddrs exempt single addresses, typically the IPs listed in the
	// resolver's static overrides.
	AllowedAddrs []string
}

// Policy answers whether a host or address may be reached. Safe for
// concurrent use.
type Policy struct {
	hosts   hostPatterns
	allowed []netip.Prefix
}

// New validates cfg and builds a Policy.
func New(cfg Config) (*Policy, error) {
	patterns := append([]string(nil), cfg.HostPatterns...)
	if !cfg.NoDefaultHosts {
		patterns = append(patterns, DefaultHostPatterns...)
	}
	patterns = append(patterns, cfg.OriginHosts...)
	hosts, err := newHostPatterns(patterns)
	if err != nil {
		return nil, fmt.Errorf("policy: %w", err)
	}
	p := &Policy{hosts: hosts}
	for _, c := range cfg.AllowedCIDRs {
		prefix, err := parsePrefixOrAddr(c)
		if err != nil {
			return nil, fmt.Errorf("policy: allowed CIDR %q: %w", c, err)
		}
		p.allowed = append(p.allowed, prefix)
	}
	for _, a := range cfg.AllowedAddrs {
		addr, err := netip.ParseAddr(NormalizeHost(a))
		if err != nil {
			return nil, fmt.Errorf("policy: allowed address %q: %w", a, err)
		}
		p.allowed = append(p.allowed, netip.PrefixFrom(addr.Unmap(), addr.Unmap().BitLen()))
	}
	for _, h := range cfg.OriginHosts {
		if addr, err := netip.ParseAddr(NormalizeHost(h)); err == nil {
			p.allowed = append(p.allowed, netip.PrefixFrom(addr.Unmap(), addr.Unmap().BitLen()))
		}
	}
	return p, nil
}

func parsePrefixOrAddr(s string) (netip.Prefix, error) {
	if prefix, err := netip.ParsePrefix(s); err == nil {
		if prefix.Addr().Is4In6() {
			return netip.PrefixFrom(prefix.Addr().Unmap(), prefix.Bits()-96).Masked(), nil
		}
		return prefix.Masked(), nil
	}
	addr, err := netip.ParseAddr(NormalizeHost(s))
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("neither a CIDR nor an IP address")
	}
	addr = addr.Unmap()
	return netip.PrefixFrom(addr, addr.BitLen()), nil
}

// AllowHost reports, as a nil error, whether clients may ask for host (a
// name or IP literal, without port). The refusal wraps ErrDenied.
func (p *Policy) AllowHost(host string) error {
	h := NormalizeHost(host)
	if p.hosts.match(h) {
		return nil
	}
	return fmt.Errorf("host %q is not an allowed upstream: %w", host, ErrDenied)
}

// AllowAddr reports, as a nil error, whether the proxy may connect to addr.
// Internal addresses are refused unless the configuration allows them. The
// refusal wraps ErrDenied.
func (p *Policy) AllowAddr(addr netip.Addr) error {
	a := addr.WithZone("")
	if !a.IsValid() {
		return fmt.Errorf("invalid address: %w", ErrDenied)
	}
	if _, ok := inAny(a.Unmap(), p.allowed); ok {
		return nil
	}
	if blocked, ok := inAny(a, blockedRanges); ok {
		return fmt.Errorf("address %s is in internal range %s: %w", addr, blocked, ErrDenied)
	}
	if v4, ok := embeddedIPv4(a); ok {
		if _, ok := inAny(v4, p.allowed); ok {
			return nil
		}
		if blocked, ok := inAny(v4, blockedRanges); ok {
			return fmt.Errorf("address %s embeds %s, in internal range %s: %w", addr, v4, blocked, ErrDenied)
		}
	}
	return nil
}

// AllowAddrPort is AllowAddr for an "ip:port" string as net.Dialer hands
// it to its Control functions.
func (p *Policy) AllowAddrPort(address string) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		host, _, splitErr := net.SplitHostPort(address)
		if splitErr != nil {
			return fmt.Errorf("dial address %q: %v: %w", address, splitErr, ErrDenied)
		}
		addr, parseErr := netip.ParseAddr(host)
		if parseErr != nil {
			return fmt.Errorf("dial address %q is not an IP: %w", address, ErrDenied)
		}
		return p.AllowAddr(addr)
	}
	return p.AllowAddr(ap.Addr())
}

// Control has the signature of net.Dialer.ControlContext: it runs after DNS
// resolution, before the connect, for every address tried, and refuses the
// dial when the address is not allowed.
func (p *Policy) Control(_ context.Context, network, address string, _ syscall.RawConn) error {
	if err := p.AllowAddrPort(address); err != nil {
		return fmt.Errorf("policy: %s dial: %w", network, err)
	}
	return nil
}
