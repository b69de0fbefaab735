#!/usr/bin/env bash
# demo.sh (make demo) — s3cache in front of a local S3 server, showing a MISS then a HIT.
#
# Starts versitygw on 127.0.0.1, puts demo/hello.txt straight into it, builds and
# starts s3cache in front of it, and fetches a presigned URL through s3cache
# twice. Then s3cache keeps running until Ctrl-C (DEMO_EXIT=1: stop at once).
# Everything listens on 127.0.0.1 only; state and logs are in .tools/demo/.
#
# Ports (the next free one is taken if busy): DEMO_S3_PORT (19000),
# DEMO_PORT (18080, the caching listener), DEMO_HEALTH_PORT (18081).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
WORK=$ROOT/.tools/demo
S3SERVER=$ROOT/scripts/s3server.sh

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
free_port() { # free_port START: the first port from START on that nothing listens on
	local p=$1
	for _ in $(seq 50); do
		port_open "$p" || { echo "$p"; return; }
		p=$((p + 1))
	done
	echo "demo: no free port from $1" >&2
	exit 1
}

CACHE_PID=
cleanup() {
	trap - EXIT INT TERM
	if [ -n "$CACHE_PID" ] && kill -0 "$CACHE_PID" 2>/dev/null; then
		kill "$CACHE_PID" 2>/dev/null || true
		wait "$CACHE_PID" 2>/dev/null || true
		echo "demo: stopped s3cache"
	fi
	"$S3SERVER" stop --dir "$WORK/s3server" 2>&1 | sed 's/^/demo: /' || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM

"$S3SERVER" install
rm -rf "$WORK"
mkdir -p "$WORK"
S3_PORT=$(free_port "${DEMO_S3_PORT:-19000}")
PORT=$(free_port "${DEMO_PORT:-18080}")
HEALTH_PORT=$(free_port "${DEMO_HEALTH_PORT:-18081}")
[ "$HEALTH_PORT" != "$PORT" ] || HEALTH_PORT=$(free_port $((PORT + 1)))

say "local S3 server (versitygw) on 127.0.0.1:$S3_PORT"
"$S3SERVER" start --http "$S3_PORT" --dir "$WORK/s3server"

say "building s3cache and the demo client"
go build -o "$WORK/s3cache" ./cmd/s3cache
go build -o "$WORK/democlient" ./scripts/democlient
"$WORK/democlient" put -origin "http://127.0.0.1:$S3_PORT" -bucket demo -key hello.txt

say "s3cache on 127.0.0.1:$PORT -> origin http://127.0.0.1:$S3_PORT (log: $WORK/s3cache.log)"
"$WORK/s3cache" --listen "127.0.0.1:$PORT" --listen-tls= --health "127.0.0.1:$HEALTH_PORT" --metrics= --dashboard= \
	--cache-dir "$WORK/cache" --origin "http://127.0.0.1:$S3_PORT" --log-level info >"$WORK/s3cache.log" 2>&1 &
CACHE_PID=$!
for _ in $(seq 100); do
	port_open "$HEALTH_PORT" && port_open "$PORT" && break
	kill -0 "$CACHE_PID" 2>/dev/null || { cat "$WORK/s3cache.log"; echo "demo: s3cache exited" >&2; exit 1; }
	sleep 0.1
done

URL=$("$WORK/democlient" presign -proxy "http://127.0.0.1:$PORT" -bucket demo -key hello.txt)
echo "presigned URL (valid 1 hour, signed for the proxy's address):"
echo "  $URL"
fetch() {
	if command -v curl >/dev/null; then
		echo "\$ curl -s -D - -o /dev/null '<presigned URL>'"
		curl -s -D - -o /dev/null "$URL" | tr -d '\r' | grep -iE '^(HTTP/|(x-cache|content-length|etag):)'
	else
		"$WORK/democlient" get "$URL"
	fi
}
say "first GET through s3cache: fetched from S3"
fetch
say "second GET through s3cache: served from the cache"
fetch

if [ -n "${DEMO_EXIT:-}" ]; then
	say "DEMO_EXIT is set: stopping"
	exit 0
fi
say "s3cache keeps running at http://127.0.0.1:$PORT (health: http://127.0.0.1:$HEALTH_PORT/health). Ctrl-C stops it."
echo "Try:  curl -sI '$URL'"
wait "$CACHE_PID"
