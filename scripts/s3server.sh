#!/usr/bin/env bash
# s3server.sh — the local S3 server used by the e2e tests, the demo and by hand:
# versitygw (Apache-2.0) with its posix backend, listening on 127.0.0.1 only.
#
#   scripts/s3server.sh install                 install versitygw $VGW_VERSION into .tools/bin (idempotent)
#   scripts/s3server.sh cert [DIR]              self-signed cert.pem/key.pem for 127.0.0.1/localhost (Go only)
#   scripts/s3server.sh start [--http PORT | --https PORT] [--dir DIR]
#                                               start in the background, wait until it answers
#   scripts/s3server.sh stop [--dir DIR]        stop what start started
#   scripts/s3server.sh run   [same as start]   run in the foreground (exec; used by the e2e harness)
#
# Defaults: --http 7070, --dir .tools/s3server. Environment:
#   S3SERVER_ACCESS_KEY / S3SERVER_SECRET_KEY   root credentials (default s3cacheadmin / s3cachesecret)
#   S3SERVER_VIRTUAL_DOMAIN                     base domain for virtual-hosted-style buckets (default s3.local.test)
#   VERSITYGW                                   use this binary instead of .tools/bin/versitygw
set -euo pipefail

VGW_MODULE=github.com/versity/versitygw
VGW_VERSION=v1.8.0
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BIN=${VERSITYGW:-$ROOT/.tools/bin/versitygw}
ACCESS=${S3SERVER_ACCESS_KEY:-s3cacheadmin}
SECRET=${S3SERVER_SECRET_KEY:-s3cachesecret}
VDOMAIN=${S3SERVER_VIRTUAL_DOMAIN:-s3.local.test}

say() { echo "s3server: $*" >&2; }
die() { say "$*"; exit 1; }

installed() { [ -x "$BIN" ] && go version -m "$BIN" 2>/dev/null | grep -Eq "^[[:space:]]+mod[[:space:]]+${VGW_MODULE}[[:space:]]+${VGW_VERSION}[[:space:]]"; }

cmd_install() {
	if installed; then say "versitygw $VGW_VERSION already at $BIN"; return; fi
	[ -z "${VERSITYGW:-}" ] || die "VERSITYGW=$BIN is not versitygw $VGW_VERSION"
	say "installing $VGW_MODULE/cmd/versitygw@$VGW_VERSION into $ROOT/.tools/bin (takes a few minutes the first time)"
	mkdir -p "$ROOT/.tools/bin"
	GOBIN="$ROOT/.tools/bin" GOFLAGS=-buildvcs=false go install "$VGW_MODULE/cmd/versitygw@$VGW_VERSION"
	installed || die "install finished but $BIN is not $VGW_VERSION"
	say "installed $BIN"
}

cmd_cert() {
	local dir=${1:-$ROOT/.tools/s3server/tls}
	if [ -s "$dir/cert.pem" ] && [ -s "$dir/key.pem" ]; then say "cert exists: $dir/cert.pem"; return; fi
	(cd "$ROOT" && go run ./scripts/gencert -out "$dir")
	say "wrote $dir/cert.pem and $dir/key.pem"
}

# parse_opts sets SCHEME, PORT and DIR from --http/--https/--dir.
parse_opts() {
	SCHEME=http PORT=7070 DIR=$ROOT/.tools/s3server
	while [ $# -gt 0 ]; do
		case $1 in
		--http) SCHEME=http PORT=${2:?--http needs a port}; shift 2 ;;
		--https) SCHEME=https PORT=${2:?--https needs a port}; shift 2 ;;
		--dir) DIR=${2:?--dir needs a directory}; shift 2 ;;
		*) die "unknown option $1" ;;
		esac
	done
	mkdir -p "$DIR"
	DIR=$(cd "$DIR" && pwd) # versitygw wants absolute paths
}

cmd_run() {
	parse_opts "$@"
	installed || die "versitygw $VGW_VERSION missing: run $0 install"
	mkdir -p "$DIR/data" "$DIR/iam" "$DIR/versions"
	local tls=()
	if [ "$SCHEME" = https ]; then
		cmd_cert "$DIR/tls" 2>/dev/null
		tls=(--cert "$DIR/tls/cert.pem" --key "$DIR/tls/key.pem")
	fi
	exec "$BIN" --port "127.0.0.1:$PORT" -a "$ACCESS" -s "$SECRET" --iam-dir "$DIR/iam" \
		--virtual-domain "$VDOMAIN" --health /health --keep-alive "${tls[@]}" \
		posix --versioning-dir "$DIR/versions" "$DIR/data"
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

cmd_start() {
	parse_opts "$@"
	if [ -f "$DIR/versitygw.pid" ] && kill -0 "$(cat "$DIR/versitygw.pid")" 2>/dev/null; then
		die "already running (pid $(cat "$DIR/versitygw.pid")); stop it first"
	fi
	port_open "$PORT" && die "127.0.0.1:$PORT is already in use"
	"$0" run "$@" >"$DIR/versitygw.log" 2>&1 &
	echo $! >"$DIR/versitygw.pid"
	for _ in $(seq 100); do
		port_open "$PORT" && break
		kill -0 "$(cat "$DIR/versitygw.pid")" 2>/dev/null || { cat "$DIR/versitygw.log" >&2; die "versitygw exited"; }
		sleep 0.1
	done
	port_open "$PORT" || die "versitygw did not listen on 127.0.0.1:$PORT within 10s (log: $DIR/versitygw.log)"
	say "versitygw pid $(cat "$DIR/versitygw.pid") on $SCHEME://127.0.0.1:$PORT (data $DIR/data, log $DIR/versitygw.log)"
	say "credentials: access key $ACCESS, secret $SECRET, region us-east-1, virtual-host domain $VDOMAIN"
	[ "$SCHEME" = http ] || say "CA for clients: $DIR/tls/cert.pem"
}

cmd_stop() {
	parse_opts "$@"
	local pidf=$DIR/versitygw.pid
	if [ ! -f "$pidf" ]; then say "not running (no $pidf)"; return; fi
	local pid
	pid=$(cat "$pidf")
	if kill "$pid" 2>/dev/null; then
		for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
		kill -0 "$pid" 2>/dev/null && kill -9 "$pid" 2>/dev/null
		say "stopped versitygw pid $pid"
	else
		say "pid $pid was not running"
	fi
	rm -f "$pidf"
}

case ${1:-} in
install | cert | start | stop | run)
	c=$1
	shift
	"cmd_$c" "$@"
	;;
*) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
