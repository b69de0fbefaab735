// Package proxy is s3cache's HTTP handler: it classifies each request,
// sends reads through the cache, forwards writes and invalidates what they
// change, and passes everything else to S3 untouched.
package proxy
