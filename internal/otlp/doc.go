// Package otlp pushes s3cache's Prometheus metrics to an OpenTelemetry
// collector over OTLP/HTTP, alongside the /metrics endpoint, with the same
// instrument names. It is off unless an endpoint is configured.
//
// Every interval (and once more on shutdown) the registry is gathered and
// each family becomes one OTLP metric: counters a cumulative monotonic
// sum, gauges and untyped metrics a gauge, classic histograms an explicit-
// bucket histogram (Prometheus's cumulative buckets turned into per-bucket
// counts), summaries a summary. Labels become data point attributes; the
// resource carries service.name, service.version and service.instance.id.
// The request is ExportMetricsServiceRequest in OTLP's JSON encoding
// (Content-Type application/json), POSTed to the endpoint; a bare
// http(s)://host:port gets the standard path /v1/metrics. Proxy settings
// from the environment are ignored: on an s3cache host HTTP_PROXY may
// point at s3cache itself.
//
// Why not the OpenTelemetry SDK with its Prometheus bridge and
// otlpmetrichttp exporter: they build fine, but link gRPC, grpc-gateway
// and the generated OTLP service stubs into the binary (13 more modules;
// the s3cache binary grows from about 23 MB to 39 MB) to send one JSON
// POST a minute for a feature that is off by default. This package needs
// nothing beyond the Prometheus client model s3cache already has.
package otlp
