package otlp

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Config says where and how often to push.
type Config struct {
	// Endpoint is the OTLP/HTTP metrics URL; "" turns the export off. A URL
	// without a path gets /v1/metrics.
	Endpoint string
	Interval time.Duration     // between pushes (60 s)
	Timeout  time.Duration     // of one push (10 s)
	Headers  map[string]string // sent with every push, e.g. an API key

	// Resource attributes.
	ServiceVersion string
	InstanceID     string
}

// scopeName names the instrumentation scope of every exported metric.
const scopeName = "github.com/s3cache/s3cache"

// Start pushes what g gathers to cfg.Endpoint every cfg.Interval until
// ctx ends or stop is called; stop makes one last push and waits for it.
// With no endpoint, or one that is not an http(s) URL (logged), it does
// nothing and stop is a no-op. log may be nil.
func Start(ctx context.Context, cfg Config, g prometheus.Gatherer, log *slog.Logger) (stop func()) {
	if cfg.Endpoint == "" {
		return func() {}
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	e, err := newExporter(cfg, g, log)
	if err != nil {
		log.Error("otlp: export off", "err", err)
		return func() {}
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		e.run(ctx)
	}()
	log.Info("otlp: pushing metrics", "endpoint", e.url, "interval", e.cfg.Interval)
	return func() {
		cancel()
		<-done
	}
}

// exporter pushes one registry to one endpoint.
type exporter struct {
	cfg     Config
	url     string
	gather  prometheus.Gatherer
	client  *http.Client
	log     *slog.Logger
	started time.Time
}

func newExporter(cfg Config, g prometheus.Gatherer, log *slog.Logger) (*exporter, error) {
	if cfg.Interval <= 0 {
		cfg.Interval = time.Minute
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	endpoint, err := metricsURL(cfg.Endpoint)
	if err != nil {
		return nil, err
	}
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.Proxy = nil
	return &exporter{
		cfg:     cfg,
		url:     endpoint,
		gather:  g,
		client:  &http.Client{Transport: transport, Timeout: cfg.Timeout},
		log:     log,
		started: time.Now(),
	}, nil
}

// metricsURL checks the endpoint and adds the standard path to a bare one.
func metricsURL(endpoint string) (string, error) {
	u, err := url.Parse(endpoint)
	if err != nil {
		return "", fmt.Errorf("otlp endpoint: %w", err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("otlp endpoint %q: want an http(s) URL with a host", endpoint)
	}
	if u.Path == "" || u.Path == "/" {
		u.Path = "/v1/metrics"
	}
	return u.String(), nil
}

// run pushes every interval, and once more when ctx ends.
func (e *exporter) run(ctx context.Context) {
	t := time.NewTicker(e.cfg.Interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			final, cancel := context.WithTimeout(context.Background(), e.cfg.Timeout)
			e.pushLogged(final)
			cancel()
			return
		case <-t.C:
			e.pushLogged(ctx)
		}
	}
}

func (e *exporter) pushLogged(ctx context.Context) {
	if err := e.push(ctx); err != nil {
		e.log.Warn("otlp: push failed", "endpoint", e.url, "err", err)
	}
}

// push gathers the registry and sends it.
func (e *exporter) push(ctx context.Context) error {
	families, err := e.gather.Gather()
	if len(families) == 0 && err != nil {
		return fmt.Errorf("gather: %w", err)
	}
	if err != nil {
		e.log.Debug("otlp: some metrics were not gathered", "err", err)
	}
	body, err := json.Marshal(e.request(newConverter(time.Now(), e.started).metrics(families)))
	if err != nil {
		return fmt.Errorf("encode: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, e.url, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "s3cache/"+e.cfg.ServiceVersion)
	for k, v := range e.cfg.Headers {
		req.Header.Set(k, v)
	}
	resp, err := e.client.Do(req)
	if err != nil {
		return fmt.Errorf("post: %w", err)
	}
	defer resp.Body.Close()
	reply, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<10))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("collector answered %s: %q", resp.Status, reply)
	}
	return nil
}

// request wraps the metrics in the resource and scope.
func (e *exporter) request(metrics []metric) exportRequest {
	attrs := []keyValue{{Key: "service.name", Value: anyValue{StringValue: "s3cache"}}}
	if e.cfg.ServiceVersion != "" {
		attrs = append(attrs, keyValue{Key: "service.version", Value: anyValue{StringValue: e.cfg.ServiceVersion}})
	}
	if e.cfg.InstanceID != "" {
		attrs = append(attrs, keyValue{Key: "service.instance.id", Value: anyValue{StringValue: e.cfg.InstanceID}})
	}
	return exportRequest{ResourceMetrics: []resourceMetrics{{
		Resource:     resource{Attributes: attrs},
		ScopeMetrics: []scopeMetrics{{Scope: scope{Name: scopeName, Version: e.cfg.ServiceVersion}, Metrics: metrics}},
	}}}
}
