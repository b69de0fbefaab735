package resolve

import (
	"context"
	"log/slog"
	"net"
	"time"
)

// DialFunc opens a connection, like net.Dialer.DialContext.
type DialFunc func(ctx context.Context, network, address string) (net.Conn, error)

// Config configures a Resolver. The zero value is usable: it reads the
// nameservers from /etc/resolv.conf and queries both A and AAAA.
type Config struct {
	// Servers are the DNS servers to query, "ip" or "ip:port" (port 53 when
	// omitted), tried in order. Empty means the nameservers of
	// ResolvConfPath.
	Servers []string
	// ResolvConfPath is read when Servers is empty. Default /etc/resolv.conf.
	ResolvConfPath string
	// SystemdResolvConfPath lists the real upstream servers of
	// systemd-resolved; it is used when ResolvConfPath names only the
	// 127.0.0.53 stub. Default /run/systemd/resolve/resolv.conf.
	SystemdResolvConfPath string
	// Overrides map a host name ("s3.example.com") or a suffix wildcard
	// ("*.example.com", which matches names below example.com) to fixed IP
	// addresses. Exact names beat wildcards; the longest suffix wins.
	Overrides map[string][]string
	// Network selects the record types: "ip" (A and AAAA, the default),
	// "ip4" (A only) or "ip6" (AAAA only).
	Network string

	// MinTTL and MaxTTL clamp the record TTL used for caching. Defaults 5s
	// and 60s.
	MinTTL, MaxTTL time.Duration
	// NegativeTTL is how long a name that does not exist stays cached.
	// Default 5s.
	NegativeTTL time.Duration
	// StaleFor is how long past its expiry an answer is still served when a
	// refresh fails. Default 5m; negative disables.
	StaleFor time.Duration
	// QueryTimeout bounds one query to one server. Default 2s.
	QueryTimeout time.Duration
	// Attempts is how many rounds over all servers a query makes. Default 2.
	Attempts int
	// MaxEntries bounds the answer cache. Default 10000.
	MaxEntries int

	// Dial opens upstream connections to resolved addresses. Default a
	// net.Dialer with a 10s timeout and 15s keep-alive. Plug the destination
	// policy in here (net.Dialer.ControlContext).
	Dial DialFunc
	// DNSDial reaches the DNS servers. Default a plain net.Dialer. Do not
	// route it through the destination policy: resolvers are often on
	// loopback or private addresses.
	DNSDial DialFunc
	// MaxDialAttempts is how many addresses DialContext tries before giving
	// up. Default 3.
	MaxDialAttempts int
	// FailureBackoff is how long an address whose dial failed is tried only
	// after the others. Default 30s.
	FailureBackoff time.Duration

	// Logger receives warnings. Default slog.Default().
	Logger *slog.Logger
	// Now is the clock, for tests. Default time.Now.
	Now func() time.Time
}

func (c Config) withDefaults() Config {
	if c.ResolvConfPath == "" {
		c.ResolvConfPath = "/etc/resolv.conf"
	}
	if c.SystemdResolvConfPath == "" {
		c.SystemdResolvConfPath = "/run/systemd/resolve/resolv.conf"
	}
	if c.Network == "" {
		c.Network = "ip"
	}
	if c.MinTTL <= 0 {
		c.MinTTL = 5 * time.Second
	}
	if c.MaxTTL <= 0 {
		c.MaxTTL = 60 * time.Second
	}
	if c.MaxTTL < c.MinTTL {
		c.MaxTTL = c.MinTTL
	}
	if c.NegativeTTL <= 0 {
		c.NegativeTTL = 5 * time.Second
	}
	if c.StaleFor == 0 {
		c.StaleFor = 5 * time.Minute
	}
	if c.QueryTimeout <= 0 {
		c.QueryTimeout = 2 * time.Second
	}
	if c.Attempts <= 0 {
		c.Attempts = 2
	}
	if c.MaxEntries <= 0 {
		c.MaxEntries = 10000
	}
	if c.Dial == nil {
		c.Dial = (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 15 * time.Second}).DialContext
	}
	if c.DNSDial == nil {
		c.DNSDial = (&net.Dialer{}).DialContext
	}
	if c.MaxDialAttempts <= 0 {
		c.MaxDialAttempts = 3
	}
	if c.FailureBackoff <= 0 {
		c.FailureBackoff = 30 * time.Second
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c
}
