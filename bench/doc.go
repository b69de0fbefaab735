// Command bench is s3cache's benchmark harness: one command that runs
// s3cache, direct access to S3 and nginx proxy_cache (the do-it-yourself
// peer) side by side on this machine, and writes the ratios we track.
//
//	go run ./bench -mode quick   # CI smoke: small objects, one round (make bench-quick)
//	go run ./bench -mode full    # everything, several rounds (make bench)
//
// What it starts (all on 127.0.0.1, each in a process group of its own,
// stopped on exit or failure):
//
//	client ─┬─────────────────────────▶ link ──▶ versitygw (scripts/s3server.sh)
//	        ├──▶ s3cache ──────────────▶ link
//	        └──▶ nginx (scripts/nginx-peer.conf) ──▶ link
//
// The link (link.go) is an in-process TCP proxy between every contender and
// the origin, direct clients included. It counts the bytes the origin sends
// (how the herd proves one origin fetch per object) and, in setting b,
// shapes the traffic like a site's link to S3: a first-byte delay per
// response, a per-connection cap and a whole-link cap, with token buckets.
// Setting a leaves the link unshaped: it measures CPU efficiency.
//
// Every contender is driven the same way — presigned URLs over plain
// net/http — so client overhead is equal, and nginx, which keys its cache on
// the URI, is not broken by signatures that live in the query. Contenders
// are interleaved within each round (the start rotates) so that the drift
// of a shared machine hits all alike; tables show medians over rounds.
//
// Results go to bench/results/<date>.{json,md,svg} (<date>-quick.* for the
// quick mode); a full run also refreshes the latest-run section of
// bench/README.md. Process logs are kept in bench/work/logs (git-ignored).
package main
