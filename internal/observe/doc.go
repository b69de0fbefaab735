// Package observe makes s3cache operable: the health endpoint, Prometheus
// metrics, and the per-request record they are built from.
package observe
