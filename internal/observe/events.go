package observe

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// CacheScope says whose bytes a cache size or capacity figure counts.
type CacheScope string

const (
	// ScopeShared is the whole cache directory, all instances together.
	ScopeShared CacheScope = "shared"
	// ScopeInstance is what this instance holds or is allowed to hold.
	ScopeInstance CacheScope = "instance"
	// ScopeRAM is this instance's RAM tier.
	ScopeRAM CacheScope = "ram"
)

var cacheScopes = []CacheScope{ScopeShared, ScopeInstance, ScopeRAM}

// eventMetrics are reported by subsystems rather than by requests.
type eventMetrics struct {
	fills         prometheus.Counter
	fetchesSaved  prometheus.Counter
	fillWaiters   prometheus.Gauge
	evictions     prometheus.Counter
	evictedBytes  prometheus.Counter
	cacheSize     *prometheus.GaugeVec // scope
	cacheCapacity *prometheus.GaugeVec // scope
	instances     prometheus.Gauge
	revalidations *prometheus.CounterVec // result
	reloads       *prometheus.CounterVec // result
	lastReload    prometheus.Gauge
}

func newEventMetrics(reg *prometheus.Registry) eventMetrics {
	counter := func(name, help string) prometheus.Counter {
		return prometheus.NewCounter(prometheus.CounterOpts{Namespace: namespace, Name: name, Help: help})
	}
	gauge := func(name, help string) prometheus.Gauge {
		return prometheus.NewGauge(prometheus.GaugeOpts{Namespace: namespace, Name: name, Help: help})
	}
	e := eventMetrics{
		fills:        counter("fills_total", "Origin fetches started to fill the cache."),
		fetchesSaved: counter("fill_fetches_saved_total", "Requests that joined a fill already in progress instead of fetching from the origin themselves."),
		fillWaiters:  gauge("fill_waiters", "Requests currently streaming from a fill another request started."),
		evictions:    counter("evictions_total", "Cached objects (or segments) removed to make room."),
		evictedBytes: counter("evicted_bytes_total", "Bytes removed from the cache to make room."),
		cacheSize: prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: namespace, Name: "cache_size_bytes",
			Help: "Bytes held in the cache: shared (the whole directory), instance (this instance's share) or ram."}, []string{"scope"}),
		cacheCapacity: prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: namespace, Name: "cache_capacity_bytes",
			Help: "Configured cache capacity by scope; 0 means unlimited or not known."}, []string{"scope"}),
		instances: gauge("instances", "s3cache instances sharing the cache directory, this one included; 0 when not known."),
		revalidations: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace, Name: "revalidations_total",
			Help: "Conditional requests sent to S3 for stale cached objects, by result (not_modified is a 304)."}, []string{"result"}),
		reloads: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace, Name: "config_reloads_total",
			Help: "Configuration and rule reloads, by result."}, []string{"result"}),
		lastReload: gauge("config_last_reload_success_timestamp_seconds", "When the configuration was last loaded successfully (Unix time)."),
	}
	reg.MustRegister(e.fills, e.fetchesSaved, e.fillWaiters, e.evictions, e.evictedBytes, e.cacheSize,
		e.cacheCapacity, e.instances, e.revalidations, e.reloads, e.lastReload)
	for _, s := range cacheScopes {
		e.cacheSize.WithLabelValues(string(s))
		e.cacheCapacity.WithLabelValues(string(s))
	}
	for _, r := range []string{"not_modified", "changed"} {
		e.revalidations.WithLabelValues(r)
	}
	for _, r := range []string{"success", "failure"} {
		e.reloads.WithLabelValues(r)
	}
	e.lastReload.SetToCurrentTime()
	return e
}

// FillStarted counts an origin fetch started to fill the cache.
func (m *Metrics) FillStarted() {
	if m != nil {
		m.events.fills.Inc()
	}
}

// FillJoined counts a request served by a fill another request started:
// one origin fetch saved.
func (m *Metrics) FillJoined() {
	if m != nil {
		m.events.fetchesSaved.Inc()
	}
}

// FillWaiters moves the gauge of requests streaming from someone else's
// fill by delta (+1 when one joins, -1 when it is done).
func (m *Metrics) FillWaiters(delta int) {
	if m != nil {
		m.events.fillWaiters.Add(float64(delta))
	}
}

// Evicted counts objects (or segments) and bytes removed to make room.
func (m *Metrics) Evicted(objects int, bytes int64) {
	if m != nil {
		m.events.evictions.Add(float64(objects))
		m.events.evictedBytes.Add(float64(bytes))
	}
}

// SetCacheSize reports how many bytes the cache holds in scope.
func (m *Metrics) SetCacheSize(scope CacheScope, bytes int64) {
	if m != nil {
		m.events.cacheSize.WithLabelValues(string(scope)).Set(float64(bytes))
	}
}

// SetCacheCapacity reports the configured capacity of scope (0: unlimited
// or unknown).
func (m *Metrics) SetCacheCapacity(scope CacheScope, bytes int64) {
	if m != nil {
		m.events.cacheCapacity.WithLabelValues(string(scope)).Set(float64(bytes))
	}
}

// SetInstances reports how many instances share the cache directory.
func (m *Metrics) SetInstances(n int) {
	if m != nil {
		m.events.instances.Set(float64(n))
	}
}

// Revalidated counts a conditional request for a stale cached object:
// notModified when S3 answered 304 and the cached bytes stay.
func (m *Metrics) Revalidated(notModified bool) {
	if m == nil {
		return
	}
	result := "changed"
	if notModified {
		result = "not_modified"
	}
	m.events.revalidations.WithLabelValues(result).Inc()
}

// ConfigReloaded counts a reload of the configuration or rules; err is
// its failure, nil on success.
func (m *Metrics) ConfigReloaded(err error) {
	if m == nil {
		return
	}
	if err != nil {
		m.events.reloads.WithLabelValues("failure").Inc()
		return
	}
	m.events.reloads.WithLabelValues("success").Inc()
	m.events.lastReload.Set(float64(time.Now().UnixNano()) / 1e9)
}
