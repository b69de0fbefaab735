package proxy

import (
	"net"
	"net/netip"
	"strconv"
	"strings"
)

// validHost reports whether a Host header is a well-formed host name, IPv4
// address or bracketed IPv6 address, with an optional port 1-65535. Anything
// else is refused before it can reach a cache key or an upstream request.
func validHost(hostport string) bool {
	host, port := hostport, ""
	if h, p, err := net.SplitHostPort(hostport); err == nil {
		host, port = h, p
		if port == "" {
			return false
		}
	} else if strings.HasPrefix(hostport, "[") && strings.HasSuffix(hostport, "]") {
		host = hostport[1 : len(hostport)-1]
	} else if strings.ContainsAny(hostport, ":[]") {
		return false // a bracket or colon without a valid port split
	}
	if port != "" {
		n, err := strconv.Atoi(port)
		if err != nil || n < 1 || n > 65535 || port[0] == '+' {
			return false
		}
	}
	if strings.Contains(hostport, "[") {
		a, err := netip.ParseAddr(host)
		return err == nil && a.Is6()
	}
	if _, err := netip.ParseAddr(host); err == nil {
		return true
	}
	return validHostname(host)
}

func validHostname(h string) bool {
	h = strings.TrimSuffix(h, ".")
	if h == "" || len(h) > 253 {
		return false
	}
	for label := range strings.SplitSeq(h, ".") {
		if label == "" || len(label) > 63 {
			return false
		}
		for _, c := range label {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return false
			}
		}
	}
	return true
}
