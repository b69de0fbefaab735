package config

import (
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"time"

	"go.yaml.in/yaml/v3"
)

// Config is every setting of s3cache. The `usage` tag is the flag's help text.
type Config struct {
	// Listeners. An empty address disables the listener.
	Listen    string `yaml:"listen" usage:"address of the HTTP caching listener"`
	ListenTLS string `yaml:"listen_tls" usage:"address of the HTTPS passthrough listener (SNI tunnel, no caching)"`
	Health    string `yaml:"health" usage:"address serving GET /health"`
	Metrics   string `yaml:"metrics" usage:"address serving GET /metrics (Prometheus)"`
	Dashboard string `yaml:"dashboard" usage:"address of the dashboard"`

	Pprof string `yaml:"pprof" usage:"address serving Go's profiler at /debug/pprof/ (off by default)"`

	// Upstream.
	Origin           string   `yaml:"origin" usage:"S3 endpoint URL for all upstream traffic (empty: the request's Host over HTTPS :443)"`
	OriginCA         string   `yaml:"origin_ca" usage:"PEM file with extra CA certificates trusted for the origin"`
	ConnectTimeout   Duration `yaml:"connect_timeout" usage:"upstream TCP+TLS connect timeout"`
	FirstByteTimeout Duration `yaml:"first_byte_timeout" usage:"time to wait for upstream response headers"`
	HedgeAfter       Duration `yaml:"hedge_after" usage:"send a second copy of a GET/HEAD with no answer after this long (0 disables hedging)"`
	HedgeFraction    float64  `yaml:"hedge_fraction" usage:"largest share of upstream requests that may be hedged"`
	IdleTimeout      Duration `yaml:"upstream_idle_timeout" usage:"abort an upstream body that sends nothing for this long"`
	UpstreamRetries  int      `yaml:"upstream_retries" usage:"retries of a GET/HEAD whose connection failed before any answer"`
	MaxIdleConns     int      `yaml:"max_idle_conns_per_host" usage:"pooled keep-alive connections kept per upstream host"`
	// VirtualHostDomains are the S3 endpoint domains, besides AWS's own, under
	// which a request's Host names the bucket (bucket.DOMAIN).
	VirtualHostDomains []string `yaml:"virtual_host_domains" usage:"comma-separated endpoint domains whose subdomains are bucket names (AWS domains are built in)"`

	// Edge: forward proxy, upstream DNS and the destination policy.
	ListenProxy       string        `yaml:"listen_proxy" usage:"address of the forward-proxy listener (HTTP_PROXY clients; CONNECT is tunnelled); empty disables"`
	DNSServers        []string      `yaml:"dns_servers" usage:"comma-separated DNS servers for upstream names (default: resolv.conf); the hosts file is never used"`
	EndpointOverrides HostOverrides `yaml:"endpoint_overrides" usage:"static upstream addresses: host=ip,ip;*.suffix=ip"`
	AllowHosts        []string      `yaml:"allow_hosts" usage:"extra upstream host patterns (host or *.suffix) besides *.amazonaws.com and the origin"`
	AllowCIDRs        []string      `yaml:"allow_cidrs" usage:"private or loopback networks upstream connections may reach"`

	// TLS proxy: a forward-proxy listener that clients reach over TLS
	// (HTTP_PROXY=https://host:port); the requests inside go through the
	// caching path. A bad certificate or bind error only disables it.
	ListenTLSProxy string `yaml:"listen_tls_proxy" usage:"address of the TLS-terminating forward-proxy listener (HTTP_PROXY=https://…; requests inside are cached, CONNECT is tunnelled); empty disables"`
	TLSProxyCert   string `yaml:"tls_proxy_cert" usage:"PEM certificate (chain) of the TLS proxy listener; reloaded on SIGHUP"`
	TLSProxyKey    string `yaml:"tls_proxy_key" usage:"PEM private key of the TLS proxy listener; reloaded on SIGHUP"`

	// Bandwidth sharing of cache misses (origin downloads that feed fills).
	DownloadMaxBytesPerSec ByteSize `yaml:"download_max_bytes_per_sec" usage:"origin download ceiling for all instances sharing cache_dir together, bytes/s (0: off); hits are never throttled"`
	QoSFairness            string   `yaml:"qos_fairness" usage:"how the download ceiling is shared: bucket or user-agent (the application named in User-Agent)"`

	// OTLP: push the Prometheus metrics to an OTLP/HTTP (JSON) receiver.
	OTLPEndpoint string   `yaml:"otlp_endpoint" usage:"OTLP/HTTP metrics URL, e.g. http://collector:4318 (/v1/metrics is added to a bare host); empty disables"`
	OTLPInterval Duration `yaml:"otlp_interval" usage:"how often metrics are pushed to otlp_endpoint"`
	OTLPHeaders  []string `yaml:"otlp_headers" usage:"comma-separated Name=Value headers sent with each OTLP push (e.g. an API key)"`

	// Cache.
	CacheDir                string   `yaml:"cache_dir" usage:"cache directory (may be shared by several instances over NFS)"`
	WriteCache              bool     `yaml:"write_cache" usage:"cache objects uploaded through the proxy (PUT and multipart) as they go to S3"`
	WriteCacheMaxObjectSize ByteSize `yaml:"write_cache_max_object_size" usage:"largest uploaded object cached"`
	PutTTL                  Duration `yaml:"put_ttl" usage:"how long an object cached from an upload is served before S3 confirms it"`
	IncompleteUploadTTL     Duration `yaml:"incomplete_upload_ttl" usage:"age after which staged parts of an unfinished multipart upload are removed"`
	ReadAheadPage           ByteSize `yaml:"readahead_page_size" usage:"widen small unsigned range misses to aligned pages of this size, e.g. 8MiB for Parquet/ORC readers (0 disables; at most 64MiB)"`
	MaxRAMCacheSize         ByteSize `yaml:"max_ram_cache_size" usage:"memory for hot small segments (0 disables the byte tier)"`
	RAMMaxSegment           ByteSize `yaml:"ram_max_segment" usage:"largest segment kept in memory"`
	Compression             bool     `yaml:"compression" usage:"store compressible objects as checksummed LZ4 frames (already-compressed data stays raw)"`
	GetTTL                  Duration `yaml:"get_ttl" usage:"how long cached object data is served without asking S3"`
	HeadTTL                 Duration `yaml:"head_ttl" usage:"how long cached HEAD metadata is served without asking S3"`

	// Capacity: the whole shared cache directory, all instances together.
	MaxCacheSize           ByteSize `yaml:"max_cache_size" usage:"disk space the cache directory may use across all instances sharing it (0: unlimited)"`
	EvictionTriggerPercent int      `yaml:"eviction_trigger_percent" usage:"evict when the cache directory passes this percentage of max_cache_size (50-100)"`
	EvictionTargetPercent  int      `yaml:"eviction_target_percent" usage:"evict down to this percentage of max_cache_size (50-99, below the trigger)"`
	EvictionPolicy         string   `yaml:"eviction_policy" usage:"tinylfu (access count halved per idle hour) or lru"`
	ActiveExpiry           bool     `yaml:"active_expiry" usage:"delete objects whose data is older than get_ttl in the background (default: keep them until revalidated or evicted)"`

	// Rules.
	RulesFile string `yaml:"rules_file" usage:"JSON rules file of per-bucket/per-key settings, reloaded on change (empty: <cache_dir>/rules.json; a missing file means no rules)"`

	// Logging.
	LogLevel  string `yaml:"log_level" usage:"debug, info, warn or error"`
	LogFormat string `yaml:"log_format" usage:"text or json"`

	// Operations.
	MaxConcurrentRequests int      `yaml:"max_concurrent_requests" usage:"requests served at once on the caching listener; more get 503 SlowDown (0: no limit)"`
	AccessLogDir          string   `yaml:"access_log_dir" usage:"directory for the S3-format access log (empty: no access log)"`
	AccessLogMaxSize      ByteSize `yaml:"access_log_max_size" usage:"rotate the access log when it reaches this size (0: no size limit)"`
	AccessLogRotateEvery  Duration `yaml:"access_log_rotate_every" usage:"rotate the access log at each multiple of this interval, UTC (0: no time rotation)"`
	AccessLogRetention    Duration `yaml:"access_log_retention" usage:"remove rotated access logs older than this (0: keep by age)"`
	AccessLogMaxFiles     int      `yaml:"access_log_max_files" usage:"keep at most this many rotated access logs (0: no limit)"`
	AccessLogFlushEvery   Duration `yaml:"access_log_flush_every" usage:"how often buffered access log lines are written out"`
	MetricsBucketLabels   int      `yaml:"metrics_bucket_labels" usage:"per-bucket metrics for up to this many buckets, the rest as \"other\" (0: off)"`
}

// Default returns the settings used when neither file nor flag says otherwise.
func Default() Config {
	return Config{
		Listen:                  ":80",
		ListenTLS:               ":443",
		Health:                  ":8080",
		Metrics:                 ":9090",
		Dashboard:               "127.0.0.1:8081",
		ConnectTimeout:          Duration(10 * time.Second),
		FirstByteTimeout:        Duration(30 * time.Second),
		MaxIdleConns:            100,
		HedgeFraction:           0.1,
		IdleTimeout:             Duration(30 * time.Second),
		UpstreamRetries:         2,
		CacheDir:                "/var/cache/s3cache",
		Compression:             true,
		MaxRAMCacheSize:         512 << 20,
		WriteCache:              true,
		WriteCacheMaxObjectSize: 1 << 30,
		PutTTL:                  Duration(time.Hour),
		IncompleteUploadTTL:     Duration(24 * time.Hour),
		RAMMaxSegment:           1 << 20,

		EvictionTriggerPercent: 95,
		EvictionTargetPercent:  80,
		EvictionPolicy:         "tinylfu",

		// Ten years: S3 objects are immutable per ETag, so "forever" is the
		// natural default; overwrites through the proxy invalidate.
		GetTTL:    Duration(10 * 365 * 24 * time.Hour),
		HeadTTL:   Duration(60 * time.Second),
		LogLevel:  "info",
		LogFormat: "text",

		QoSFairness:  "bucket",
		OTLPInterval: Duration(60 * time.Second),

		MaxConcurrentRequests: 1000,
		AccessLogMaxSize:      ByteSize(256 << 20),
		AccessLogRotateEvery:  Duration(24 * time.Hour),
		AccessLogRetention:    Duration(7 * 24 * time.Hour),
		AccessLogMaxFiles:     30,
		AccessLogFlushEvery:   Duration(time.Second),
	}
}

// LoadFile merges the YAML file at path into c. Unknown keys are an error, so
// a typo does not silently leave a default in place.
func (c *Config) LoadFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("open config: %w", err)
	}
	defer f.Close()
	dec := yaml.NewDecoder(f)
	dec.KnownFields(true)
	// An empty file decodes to io.EOF: it simply sets nothing.
	if err := dec.Decode(c); err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("parse config %s: %w", path, err)
	}
	return nil
}

// Validate reports the first setting that cannot work.
func (c *Config) Validate() error {
	if c.Listen == "" && c.ListenTLS == "" {
		return errors.New("config: no listener enabled (listen and listen_tls are both empty)")
	}
	if c.CacheDir == "" {
		return errors.New("config: cache_dir is required")
	}
	if c.Origin != "" {
		u, err := url.Parse(c.Origin)
		if err != nil {
			return fmt.Errorf("config: origin: %w", err)
		}
		if u.Scheme != "http" && u.Scheme != "https" {
			return fmt.Errorf("config: origin %q: scheme must be http or https", c.Origin)
		}
		if u.Host == "" {
			return fmt.Errorf("config: origin %q has no host", c.Origin)
		}
		if u.Path != "" && u.Path != "/" {
			return fmt.Errorf("config: origin %q: a path is not supported", c.Origin)
		}
	}
	if c.GetTTL < 0 || c.HeadTTL < 0 {
		return errors.New("config: TTLs cannot be negative")
	}
	if c.ConnectTimeout <= 0 || c.FirstByteTimeout <= 0 {
		return errors.New("config: timeouts must be positive")
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		return fmt.Errorf("config: log_level %q: want debug, info, warn or error", c.LogLevel)
	}
	switch c.LogFormat {
	case "text", "json":
	default:
		return fmt.Errorf("config: log_format %q: want text or json", c.LogFormat)
	}
	if err := c.validateExtras(); err != nil {
		return err
	}
	return c.validateCapacity()
}

func (c *Config) validateCapacity() error {
	switch {
	case c.MaxCacheSize < 0:
		return errors.New("config: max_cache_size cannot be negative")
	case c.EvictionTriggerPercent < 50 || c.EvictionTriggerPercent > 100:
		return fmt.Errorf("config: eviction_trigger_percent %d: want 50 to 100", c.EvictionTriggerPercent)
	case c.EvictionTargetPercent < 50 || c.EvictionTargetPercent >= c.EvictionTriggerPercent:
		return fmt.Errorf("config: eviction_target_percent %d: want 50 to below eviction_trigger_percent (%d)",
			c.EvictionTargetPercent, c.EvictionTriggerPercent)
	case c.EvictionPolicy != "tinylfu" && c.EvictionPolicy != "lru":
		return fmt.Errorf("config: eviction_policy %q: want tinylfu or lru", c.EvictionPolicy)
	case c.ActiveExpiry && c.GetTTL <= 0:
		return errors.New("config: active_expiry needs a positive get_ttl")
	}
	return nil
}
