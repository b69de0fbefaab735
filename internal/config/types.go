package config

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Duration is a time.Duration written as "90s", "5m" or "24h" in YAML and flags.
// A bare number means seconds.
type Duration time.Duration

// D returns the value as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

func (d Duration) String() string { return time.Duration(d).String() }

// Set parses s; it makes Duration a flag.Value.
func (d *Duration) Set(s string) error {
	s = strings.TrimSpace(s)
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		*d = Duration(time.Duration(n) * time.Second)
		return nil
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("duration %q: %w", s, err)
	}
	*d = Duration(v)
	return nil
}

// UnmarshalYAML accepts the same forms as Set.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error { return d.Set(n.Value) }

// ByteSize is a size in bytes written as "512MiB", "10GB", "4096" …
type ByteSize int64

var byteUnits = []struct {
	suffix string
	mult   int64
}{
	{"KIB", 1 << 10}, {"MIB", 1 << 20}, {"GIB", 1 << 30}, {"TIB", 1 << 40},
	{"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"TB", 1e12},
	{"K", 1 << 10}, {"M", 1 << 20}, {"G", 1 << 30}, {"T", 1 << 40},
	{"B", 1},
}

func (b ByteSize) String() string { return strconv.FormatInt(int64(b), 10) }

// Set parses s; it makes ByteSize a flag.Value.
func (b *ByteSize) Set(s string) error {
	t := strings.ToUpper(strings.TrimSpace(s))
	mult := int64(1)
	for _, u := range byteUnits {
		if strings.HasSuffix(t, u.suffix) {
			t, mult = strings.TrimSpace(strings.TrimSuffix(t, u.suffix)), u.mult
			break
		}
	}
	n, err := strconv.ParseFloat(t, 64)
	if err != nil || n < 0 {
		return fmt.Errorf("size %q: want a number with an optional unit such as MiB or GB", s)
	}
	*b = ByteSize(n * float64(mult))
	return nil
}

// UnmarshalYAML accepts the same forms as Set.
func (b *ByteSize) UnmarshalYAML(n *yaml.Node) error { return b.Set(n.Value) }

// HostOverrides maps upstream host names (or "*.suffix") to fixed IPs. As a
// flag it is written "host=ip,ip;*.suffix=ip".
type HostOverrides map[string][]string

func (o HostOverrides) String() string {
	var parts []string
	for host, ips := range o {
		parts = append(parts, host+"="+strings.Join(ips, ","))
	}
	return strings.Join(parts, ";")
}

// Set parses the flag form.
func (o *HostOverrides) Set(s string) error {
	m := HostOverrides{}
	for entry := range strings.SplitSeq(s, ";") {
		if entry = strings.TrimSpace(entry); entry == "" {
			continue
		}
		host, ips, ok := strings.Cut(entry, "=")
		if !ok || host == "" || ips == "" {
			return fmt.Errorf("endpoint override %q: want host=ip[,ip]", entry)
		}
		for ip := range strings.SplitSeq(ips, ",") {
			m[host] = append(m[host], strings.TrimSpace(ip))
		}
	}
	*o = m
	return nil
}
