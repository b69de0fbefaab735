#!/usr/bin/env bash
# Installs the S3 clients of the e2e client matrix (e2e/clients_test.go):
# the AWS CLI, boto3, s3cmd and rclone from Debian's packages (only those
# missing: an AWS CLI or boto3 already on PATH is used as it is), and
# @aws-sdk/client-s3 from npm into e2e/clients/node_modules (git-ignored, at
# the versions of e2e/clients/package-lock.json). Idempotent; instant when
# everything is there.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

pkgs=()
command -v aws >/dev/null 2>&1 && aws --version >/dev/null 2>&1 || pkgs+=(awscli)
python3 -c 'import boto3' >/dev/null 2>&1 || /usr/bin/python3 -c 'import boto3' >/dev/null 2>&1 || pkgs+=(python3-boto3)
command -v s3cmd >/dev/null 2>&1 || pkgs+=(s3cmd)
command -v rclone >/dev/null 2>&1 || pkgs+=(rclone)
if [ ${#pkgs[@]} -gt 0 ]; then
	if ! command -v apt-get >/dev/null; then
		echo "client-deps: no apt-get; install ${pkgs[*]} yourself" >&2
		exit 1
	fi
	SUDO=""
	if [ "$(id -u)" != 0 ]; then SUDO=sudo; fi
	echo "client-deps: installing ${pkgs[*]} (Debian packages) for the client matrix"
	$SUDO apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >/dev/null
fi

dir=e2e/clients
if [ ! -d "$dir/node_modules/@aws-sdk/client-s3" ] || [ "$dir/package-lock.json" -nt "$dir/node_modules/.package-lock.json" ]; then
	if ! command -v npm >/dev/null; then
		echo "client-deps: no npm; install Node.js and npm for the @aws-sdk/client-s3 test" >&2
		exit 1
	fi
	echo "client-deps: installing @aws-sdk/client-s3 (npm) into $dir/node_modules"
	(cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
fi
