package tunnel

import (
	"context"
	"log/slog"
	"net"
	"time"
)

// UpstreamPort is the only port tunnels lead to: S3's HTTPS port.
const UpstreamPort = "443"

// Config is shared by Server and ConnectHandler.
type Config struct {
	// Allow says whether a host (SNI or CONNECT host, lower case, no port)
	// may be tunnelled to. Nil refuses everything. Typically
	// func(h string) bool { return pol.AllowHost(h) == nil }.
	Allow func(host string) bool
	// Dial opens the upstream connection, e.g. resolve.Resolver.DialContext
	// with the destination policy on the resolved address. Default a plain
	// net.Dialer.
	Dial func(ctx context.Context, network, address string) (net.Conn, error)
	// Target, when set, is the "host:port" every tunnel goes to instead of
	// "<host>:443" (tests, or an S3-compatible origin). The policy still
	// applies to the requested host.
	Target string

	// HelloTimeout bounds reading the ClientHello. Default 10s.
	HelloTimeout time.Duration
	// DialTimeout bounds connecting upstream. Default 10s.
	DialTimeout time.Duration
	// IdleTimeout ends a tunnel in which no byte has moved either way for
	// this long. Default 5m.
	IdleTimeout time.Duration
	// MaxTunnels bounds concurrent connections (including those still
	// sending their ClientHello). Server stops accepting while at the
	// bound, leaving further clients in the listen backlog; ConnectHandler
	// answers 503. 0 means no bound.
	MaxTunnels int

	// Logger receives one line per refused or failed connection.
	// Default slog.Default().
	Logger *slog.Logger
}

func (c Config) withDefaults() Config {
	if c.Allow == nil {
		c.Allow = func(string) bool { return false }
	}
	if c.Dial == nil {
		c.Dial = (&net.Dialer{}).DialContext
	}
	if c.HelloTimeout <= 0 {
		c.HelloTimeout = 10 * time.Second
	}
	if c.DialTimeout <= 0 {
		c.DialTimeout = 10 * time.Second
	}
	if c.IdleTimeout <= 0 {
		c.IdleTimeout = 5 * time.Minute
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c
}

// target returns where a tunnel for host goes.
func (c Config) target(host string) string {
	if c.Target != "" {
		return c.Target
	}
	return net.JoinHostPort(host, UpstreamPort)
}

// dialUpstream connects to the target for host within DialTimeout.
func (c Config) dialUpstream(ctx context.Context, host string) (net.Conn, error) {
	ctx, cancel := context.WithTimeout(ctx, c.DialTimeout)
	defer cancel()
	return c.Dial(ctx, "tcp", c.target(host))
}
