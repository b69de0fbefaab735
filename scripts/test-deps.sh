#!/usr/bin/env bash
# Installs what the test suite needs beyond Go: headless Chromium (the
# dashboard test) from Debian's packages. Idempotent and quick when present.
set -euo pipefail

if [ -x /usr/bin/chromium ]; then
	exit 0
fi
if ! command -v apt-get >/dev/null; then
	echo "test-deps: no apt-get; install chromium yourself" >&2
	exit 1
fi
SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO=sudo; fi
echo "test-deps: installing chromium (Debian package) for the dashboard test"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null
