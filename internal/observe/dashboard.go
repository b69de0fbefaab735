package observe

import (
	"context"
	_ "embed"
	"encoding/json"
	"log/slog"
	"net/http"
	"sync"
	"time"
)

//go:embed dashboard.html
var dashboardPage []byte

// DashboardConfig is what the dashboard reads from.
type DashboardConfig struct {
	Version string
	Started time.Time
	Metrics *Metrics
	Buckets *BucketStats // nil: no top buckets
	Errors  *ErrorRing   // nil: no recent errors
	// CacheInfo reports the cache directory's state; it is called at most
	// once per CacheInfoEvery. Sizes it leaves zero come from the metrics.
	CacheInfo      func() CacheInfo
	CacheInfoEvery time.Duration
	// SampleEvery is the throughput sampling interval (default 1s);
	// History is how many samples are kept (default 300).
	SampleEvery time.Duration
	History     int
	Log         *slog.Logger
}

// Dashboard serves the page and its JSON API.
type Dashboard struct {
	cfg DashboardConfig

	mu        sync.Mutex
	samples   []totals
	cacheInfo CacheInfo
	cacheAt   time.Time
}

// NewDashboard returns a dashboard; call Run to sample throughput.
func NewDashboard(cfg DashboardConfig) *Dashboard {
	if cfg.SampleEvery <= 0 {
		cfg.SampleEvery = time.Second
	}
	if cfg.History <= 0 {
		cfg.History = 300
	}
	if cfg.CacheInfoEvery <= 0 {
		cfg.CacheInfoEvery = 10 * time.Second
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	return &Dashboard{cfg: cfg}
}

// Run samples the traffic counters until ctx ends.
func (d *Dashboard) Run(ctx context.Context) {
	t := time.NewTicker(d.cfg.SampleEvery)
	defer t.Stop()
	d.sample(time.Now())
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			d.sample(now)
		}
	}
}

func (d *Dashboard) sample(now time.Time) {
	g, err := d.cfg.Metrics.gather()
	if err != nil {
		d.cfg.Log.Warn("dashboard cannot read metrics", "err", err)
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.samples = append(d.samples, totalsFrom(g, now))
	if over := len(d.samples) - d.cfg.History - 1; over > 0 {
		d.samples = append(d.samples[:0], d.samples[over:]...)
	}
}

// Stats gathers everything the page shows.
func (d *Dashboard) Stats() (DashboardStats, error) {
	g, err := d.cfg.Metrics.gather()
	if err != nil {
		return DashboardStats{}, err
	}
	now := time.Now()
	s := statsFrom(g)
	s.Version, s.Now, s.UptimeSeconds = d.cfg.Version, now, now.Sub(d.cfg.Started).Seconds()
	if d.cfg.Buckets != nil {
		s.TopBuckets, s.TopPrefixes = d.cfg.Buckets.Top(10)
	}
	if d.cfg.Errors != nil {
		s.RecentErrors = d.cfg.Errors.Recent()
	}
	info := d.cachedInfo(now)
	info.SizeBytes, info.CapacityBytes, info.Instances = s.Cache.SizeBytes, s.Cache.CapacityBytes, s.Cache.Instances
	s.Cache = info
	d.mu.Lock()
	s.Throughput = throughput(d.samples)
	d.mu.Unlock()
	return s, nil
}

func (d *Dashboard) cachedInfo(now time.Time) CacheInfo {
	if d.cfg.CacheInfo == nil {
		return CacheInfo{}
	}
	d.mu.Lock()
	stale := d.cacheAt.IsZero() || now.Sub(d.cacheAt) >= d.cfg.CacheInfoEvery
	d.mu.Unlock()
	if stale {
		info := d.cfg.CacheInfo()
		d.mu.Lock()
		d.cacheInfo, d.cacheAt = info, now
		d.mu.Unlock()
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.cacheInfo
}

// Handler serves the page at / and the JSON at /api/stats.
func (d *Dashboard) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-cache")
		w.Header().Set("Content-Security-Policy", "default-src 'self'; style-src 'self' 'unsafe-inline'; script-src 'self' 'unsafe-inline'")
		w.Write(dashboardPage)
	})
	mux.HandleFunc("GET /api/stats", func(w http.ResponseWriter, r *http.Request) {
		s, err := d.Stats()
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		json.NewEncoder(w).Encode(s)
	})
	return mux
}
