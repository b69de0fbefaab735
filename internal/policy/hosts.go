package policy

import (
	"fmt"
	"net/netip"
	"strings"
)

// DefaultHostPatterns are the S3 endpoints every Policy allows unless
// Config.NoDefaultHosts is set.
var DefaultHostPatterns = []string{"*.amazonaws.com", "*.amazonaws.com.cn"}

// hostPatterns matches host names against exact names and "*.suffix"
// wildcards. A wildcard matches any name below the suffix (one or more
// labels), not the suffix itself.
type hostPatterns struct {
	exact    map[string]bool
	suffixes []string // each with its leading dot, e.g. ".amazonaws.com"
}

func newHostPatterns(patterns []string) (hostPatterns, error) {
	hp := hostPatterns{exact: make(map[string]bool)}
	for _, raw := range patterns {
		p := NormalizeHost(raw)
		switch {
		case p == "" || p == "*":
			return hostPatterns{}, fmt.Errorf("host pattern %q: must name a host or *.suffix", raw)
		case strings.HasPrefix(p, "*."):
			suffix := p[1:]
			if !ValidHostname(suffix[1:]) {
				return hostPatterns{}, fmt.Errorf("host pattern %q: invalid suffix", raw)
			}
			hp.suffixes = append(hp.suffixes, suffix)
		case strings.Contains(p, "*"):
			return hostPatterns{}, fmt.Errorf("host pattern %q: a wildcard is allowed only as a leading \"*.\"", raw)
		default:
			if _, err := netip.ParseAddr(p); err != nil && !ValidHostname(p) {
				return hostPatterns{}, fmt.Errorf("host pattern %q: not a host name or IP address", raw)
			}
			hp.exact[p] = true
		}
	}
	return hp, nil
}

func (hp hostPatterns) match(host string) bool {
	if hp.exact[host] {
		return true
	}
	for _, s := range hp.suffixes {
		if len(host) > len(s) && strings.HasSuffix(host, s) {
			return true
		}
	}
	return false
}

// NormalizeHost lower-cases a host name, strips IPv6 brackets and one
// trailing dot, so that equal names compare equal. It does not strip a port.
func NormalizeHost(host string) string {
	host = strings.TrimSpace(host)
	if strings.HasPrefix(host, "[") && strings.HasSuffix(host, "]") {
		host = host[1 : len(host)-1]
	}
	host = strings.TrimSuffix(host, ".")
	return strings.ToLower(host)
}

// ValidHostname reports whether s is a syntactically valid DNS host name:
// at most 253 characters, labels of 1 to 63 letters, digits, hyphens or
// underscores (S3 bucket-style names never need more), not starting or
// ending with a hyphen.
func ValidHostname(s string) bool {
	if len(s) == 0 || len(s) > 253 {
		return false
	}
	for label := range strings.SplitSeq(s, ".") {
		if len(label) == 0 || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_'
			if !ok {
				return false
			}
		}
	}
	return true
}
