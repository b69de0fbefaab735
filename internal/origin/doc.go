// Package origin sends a client's request on to S3 exactly as the client
// signed it: the same method, the raw path and query byte for byte, the same
// Host and headers, the body streamed. It never follows redirects (S3's 301
// and 307 go back to the client), never adds Accept-Encoding or User-Agent,
// and keeps a pool of keep-alive connections to each upstream host.
package origin
