package resolve

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"sync"
	"time"
)

// DialContext resolves the host of address ("host:port") and connects to
// one of its addresses through Config.Dial: round-robin across calls,
// addresses that failed within FailureBackoff last, the next address on
// error, at most MaxDialAttempts tries. Plug it into
// http.Transport.DialContext.
func (r *Resolver) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	host, port, err := net.SplitHostPort(address)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", address, err)
	}
	if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		return nil, fmt.Errorf("dial %s: invalid port %q", address, port)
	}
	addrs, err := r.LookupNetIP(ctx, host)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", address, err)
	}
	addrs = matchNetwork(addrs, network)
	if len(addrs) == 0 {
		return nil, fmt.Errorf("dial %s: no address for network %s: %w", address, network, ErrNotFound)
	}
	order := r.spread.order(normalizeHost(host), addrs, r.cfg.Now())
	var errs []error
	for _, addr := range order[:min(len(order), r.cfg.MaxDialAttempts)] {
		target := net.JoinHostPort(addr.String(), port)
		conn, err := r.cfg.Dial(ctx, network, target)
		if err == nil {
			r.spread.succeeded(addr)
			return conn, nil
		}
		errs = append(errs, err)
		if ctx.Err() != nil {
			break
		}
		r.spread.failed(addr, r.cfg.Now())
	}
	return nil, fmt.Errorf("dial %s (%s): %w", address, host, errors.Join(errs...))
}

// matchNetwork keeps the addresses a "tcp4"/"tcp6"/"udp4"/"udp6" dial can
// use, IPv4 before IPv6 for the plain networks.
func matchNetwork(addrs []netip.Addr, network string) []netip.Addr {
	v4 := slices.DeleteFunc(slices.Clone(addrs), func(a netip.Addr) bool { return !a.Is4() })
	v6 := slices.DeleteFunc(slices.Clone(addrs), func(a netip.Addr) bool { return a.Is4() })
	switch network {
	case "tcp4", "udp4":
		return v4
	case "tcp6", "udp6":
		return v6
	}
	return append(v4, v6...)
}

// spreader remembers, per host, where the last round-robin turn stopped
// and, per address, when a dial to it last failed.
type spreader struct {
	mu      sync.Mutex
	next    map[string]uint32
	failure map[netip.Addr]time.Time
	backoff time.Duration
	max     int
}

func newSpreader(backoff time.Duration, max int) *spreader {
	return &spreader{
		next:    make(map[string]uint32),
		failure: make(map[netip.Addr]time.Time),
		backoff: backoff,
		max:     max,
	}
}

// order returns addrs (IPv4 first) with each family rotated one step
// further than last time for host, and the addresses that failed recently
// moved to the end.
func (s *spreader) order(host string, addrs []netip.Addr, now time.Time) []netip.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.next) >= s.max {
		clear(s.next)
	}
	turn := s.next[host]
	s.next[host] = turn + 1

	rotated := rotateFamilies(addrs, int(turn))
	healthy := make([]netip.Addr, 0, len(rotated))
	var failing []netip.Addr
	for _, a := range rotated {
		if at, ok := s.failure[a]; ok && now.Sub(at) < s.backoff {
			failing = append(failing, a)
			continue
		}
		healthy = append(healthy, a)
	}
	return append(healthy, failing...)
}

// rotateFamilies rotates the IPv4 run and the IPv6 run of addrs (IPv4
// first, as matchNetwork orders them) each by turn.
func rotateFamilies(addrs []netip.Addr, turn int) []netip.Addr {
	split := 0
	for split < len(addrs) && addrs[split].Is4() {
		split++
	}
	out := make([]netip.Addr, 0, len(addrs))
	for _, run := range [][]netip.Addr{addrs[:split], addrs[split:]} {
		if len(run) == 0 {
			continue
		}
		k := turn % len(run)
		out = append(out, run[k:]...)
		out = append(out, run[:k]...)
	}
	return out
}

func (s *spreader) failed(a netip.Addr, now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.failure) >= s.max {
		for addr, at := range s.failure {
			if now.Sub(at) >= s.backoff {
				delete(s.failure, addr)
			}
		}
	}
	if len(s.failure) < s.max {
		s.failure[a] = now
	}
}

func (s *spreader) succeeded(a netip.Addr) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.failure, a)
}
