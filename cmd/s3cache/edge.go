package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"net/url"
	"time"

	"github.com/s3cache/s3cache/internal/config"
	"github.com/s3cache/s3cache/internal/policy"
	"github.com/s3cache/s3cache/internal/resolve"
	"github.com/s3cache/s3cache/internal/tunnel"
)

// edge is how s3cache reaches upstream: its own DNS (never the hosts file,
// which in production points S3's names at s3cache), the destination
// policy, and the tunnels for HTTPS traffic it does not cache.
type edge struct {
	policy   *policy.Policy
	resolver *resolve.Resolver
	// dial reaches an upstream address through the resolver, refusing
	// addresses the policy forbids.
	dial    func(ctx context.Context, network, addr string) (net.Conn, error)
	tls     *tunnel.Server         // SNI passthrough listener
	connect *tunnel.ConnectHandler // CONNECT on the forward-proxy listener
}

func newEdge(cfg config.Config, log *slog.Logger) (*edge, error) {
	var originHosts []string
	tunnelTarget := ""
	if cfg.Origin != "" {
		u, err := url.Parse(cfg.Origin)
		if err != nil {
			return nil, fmt.Errorf("origin: %w", err)
		}
		originHosts = append(originHosts, u.Hostname())
		if u.Scheme == "https" {
			// Tests and single-endpoint sites: tunnels go to the origin too.
			tunnelTarget = u.Host
		}
	}
	var overrideAddrs []string
	for _, ips := range cfg.EndpointOverrides {
		for _, ip := range ips {
			if _, err := netip.ParseAddr(ip); err == nil {
				overrideAddrs = append(overrideAddrs, ip)
			}
		}
	}
	pol, err := policy.New(policy.Config{
		HostPatterns: cfg.AllowHosts,
		OriginHosts:  originHosts,
		AllowedCIDRs: cfg.AllowCIDRs,
		AllowedAddrs: overrideAddrs,
	})
	if err != nil {
		return nil, fmt.Errorf("destination policy: %w", err)
	}
	dialer := &net.Dialer{Timeout: cfg.ConnectTimeout.D(), KeepAlive: 15 * time.Second, ControlContext: pol.Control}
	res, err := resolve.New(resolve.Config{
		Servers:   cfg.DNSServers,
		Overrides: cfg.EndpointOverrides,
		Dial:      dialer.DialContext,
		Logger:    log,
	})
	if err != nil {
		return nil, fmt.Errorf("upstream DNS: %w", err)
	}
	tcfg := tunnel.Config{
		Allow:  func(host string) bool { return pol.AllowHost(host) == nil },
		Dial:   res.DialContext,
		Target: tunnelTarget,
		Logger: log,
	}
	return &edge{
		policy:   pol,
		resolver: res,
		dial:     res.DialContext,
		tls:      tunnel.NewServer(tcfg),
		connect:  tunnel.NewConnectHandler(tcfg),
	}, nil
}

// serveTLS runs the HTTPS passthrough listener until ctx ends.
func (e *edge) serveTLS(ctx context.Context, addr string, log *slog.Logger) error {
	if addr == "" {
		return nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("tls passthrough listener: %w", err)
	}
	log.Info("listening", "listener", "tls passthrough", "addr", ln.Addr().String())
	go func() {
		if err := e.tls.Serve(ctx, ln); err != nil && err != tunnel.ErrServerClosed {
			log.Error("tls passthrough listener failed", "err", err)
		}
	}()
	return nil
}

// shutdown closes tunnels, which net/http's drain does not track.
func (e *edge) shutdown(ctx context.Context) {
	e.tls.Shutdown(ctx)
	e.connect.Shutdown(ctx)
}
