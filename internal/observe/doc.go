// Package observe makes s3cache operable: the health endpoint, Prometheus
// metrics, the S3-format access log, the dashboard, the concurrency limit
// and the logger whose level can be changed while running.
//
// Everything about one request is collected once, by the middleware Wrap,
// into a Record: the S3 operation (from s3req), the cache outcome (the
// X-Cache header the read path set), status, bytes sent, time to first byte
// and total time. Sinks consume records: Metrics turns them into counters
// and histograms, AccessLog into S3 server-access-log lines, BucketStats
// into the dashboard's top-bucket table. The dashboard reads its figures
// back from the Prometheus registry, so the page and /metrics can never
// disagree.
//
// Subsystems that are not requests (origin round trips, coalesced fills,
// eviction, cache size, revalidation, config reloads) report through plain
// methods on *Metrics, which are safe on a nil *Metrics so callers need no
// checks in tests.
package observe
