package config

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// validateExtras checks the bandwidth-sharing and OTLP settings. The TLS
// proxy's files are not checked here: a listener that cannot start is
// logged and left off, the others run (see cmd/s3cache/tlsproxy.go).
func (c *Config) validateExtras() error {
	if c.DownloadMaxBytesPerSec < 0 {
		return errors.New("config: download_max_bytes_per_sec cannot be negative")
	}
	switch c.QoSFairness {
	case "bucket", "user-agent":
	default:
		return fmt.Errorf("config: qos_fairness %q: want bucket or user-agent", c.QoSFairness)
	}
	if c.OTLPEndpoint == "" {
		return nil
	}
	u, err := url.Parse(c.OTLPEndpoint)
	if err != nil {
		return fmt.Errorf("config: otlp_endpoint: %w", err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("config: otlp_endpoint %q: want an http(s) URL with a host", c.OTLPEndpoint)
	}
	if c.OTLPInterval <= 0 {
		return errors.New("config: otlp_interval must be positive")
	}
	if _, err := c.OTLPHeaderMap(); err != nil {
		return err
	}
	return nil
}

// OTLPHeaderMap parses otlp_headers ("Name=Value" entries).
func (c *Config) OTLPHeaderMap() (map[string]string, error) {
	out := make(map[string]string, len(c.OTLPHeaders))
	for _, h := range c.OTLPHeaders {
		name, value, ok := strings.Cut(h, "=")
		name = strings.TrimSpace(name)
		if !ok || name == "" {
			return nil, fmt.Errorf("config: otlp_headers entry %q: want Name=Value", h)
		}
		out[name] = strings.TrimSpace(value)
	}
	return out, nil
}
