#!/usr/bin/env bash
# nginx-peer.sh — install nginx (Debian package) for the benchmark's
# do-it-yourself S3 cache. The configuration is scripts/nginx-peer.conf; bench/
# renders it and runs nginx itself, in the foreground, on 127.0.0.1.
#
#   scripts/nginx-peer.sh install   apt-get install nginx if it is missing (idempotent)
#   scripts/nginx-peer.sh version   print the nginx version and whether it has the slice module
set -euo pipefail

say() { echo "nginx-peer: $*" >&2; }
die() { say "$*"; exit 1; }

has_nginx() { command -v nginx >/dev/null 2>&1; }

cmd_install() {
	if has_nginx; then say "$(nginx -v 2>&1) already installed"; return; fi
	command -v apt-get >/dev/null 2>&1 || die "nginx missing and no apt-get to install it"
	local sudo=()
	[ "$(id -u)" = 0 ] || sudo=(sudo)
	say "installing nginx from Debian packages"
	"${sudo[@]}" apt-get update -qq
	# policy-rc.d may refuse to start the packaged service; that is fine, bench runs its own.
	DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq nginx >/dev/null
	has_nginx || die "apt-get finished but nginx is not on PATH"
	cmd_version
}

cmd_version() {
	has_nginx || die "nginx not installed: run $0 install"
	nginx -v 2>&1
	if nginx -V 2>&1 | grep -q -- --with-http_slice_module; then echo "slice module: yes"; else echo "slice module: no"; fi
}

case ${1:-} in
install | version)
	c=$1
	shift
	"cmd_$c" "$@"
	;;
*) sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
