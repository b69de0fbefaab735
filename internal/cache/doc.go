// Package cache is the read path: it answers GetObject and HeadObject from
// the store when it may, and otherwise forwards the client's own request,
// streaming the answer to the client while it fills the store.
//
// Whether an answer "may" come from the cache is the product's safety rule:
// a cached answer is only given when S3 would have given the same bytes and
// headers to that request, within the configured TTLs. Requests the cache
// cannot judge (SSE-C, expired signatures, conditions S3 must evaluate,
// unusual Range headers) go to S3.
package cache
