package resolve

import (
	"bufio"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strings"
)

const systemdStub = "127.0.0.53"

// serverAddrs turns configured servers ("ip" or "ip:port") into
// "ip:port" strings.
func serverAddrs(servers []string) ([]string, error) {
	out := make([]string, 0, len(servers))
	for _, s := range servers {
		s = strings.TrimSpace(s)
		if addr, err := netip.ParseAddr(strings.Trim(s, "[]")); err == nil {
			out = append(out, net.JoinHostPort(addr.String(), "53"))
			continue
		}
		ap, err := netip.ParseAddrPort(s)
		if err != nil {
			return nil, fmt.Errorf("DNS server %q: want ip or ip:port", s)
		}
		out = append(out, ap.String())
	}
	return out, nil
}

// readNameservers returns the nameserver addresses of a resolv.conf file.
func readNameservers(path string) ([]netip.Addr, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read nameservers: %w", err)
	}
	defer f.Close()
	var out []netip.Addr
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 2 || fields[0] != "nameserver" {
			continue
		}
		addr, err := netip.ParseAddr(fields[1])
		if err != nil {
			continue // e.g. a scoped address we cannot use; resolv.conf readers skip them too
		}
		out = append(out, addr)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read nameservers from %s: %w", path, err)
	}
	return out, nil
}

// systemServers picks the DNS servers from resolv.conf, looking past the
// systemd-resolved stub, and says whether the result is loopback only.
func systemServers(resolvConf, systemdResolvConf string) (servers []string, loopbackOnly bool, err error) {
	addrs, err := readNameservers(resolvConf)
	if err != nil {
		return nil, false, err
	}
	if len(addrs) == 1 && addrs[0].String() == systemdStub {
		if upstream, err := readNameservers(systemdResolvConf); err == nil && len(upstream) > 0 && !allLoopback(upstream) {
			addrs = upstream
		}
	}
	if len(addrs) == 0 {
		return nil, false, fmt.Errorf("no nameserver in %s", resolvConf)
	}
	for _, a := range addrs {
		servers = append(servers, netip.AddrPortFrom(a, 53).String())
	}
	return servers, allLoopback(addrs), nil
}

func allLoopback(addrs []netip.Addr) bool {
	for _, a := range addrs {
		if !a.Unmap().IsLoopback() {
			return false
		}
	}
	return true
}
