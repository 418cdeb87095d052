#!/bin/sh
# deps.sh -- install the Debian packages the build and the tests need.
#
# Run by make before building.  As root it installs what is missing with
# apt-get; otherwise it prints the exact command and fails.  Quiet when
# everything is present.
set -eu

PKGS="gcc make pkg-config libjson-c-dev zlib1g-dev libpq-dev nettle-dev
libgmime-3.0-dev libcriterion-dev postgresql postgresql-client
clang libclang-rt-14-dev curl
libmicrohttpd-dev libgnutls28-dev gnutls-bin wrk
libmilter-dev postfix miltertest python3
libopendkim-dev libopendkim11 openssl"

missing=""
for p in $PKGS; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
	    grep -q "install ok installed"; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0

cmd="apt-get install -y --no-install-recommends$missing"
if [ "$(id -u)" != 0 ]; then
	echo "deps: missing Debian packages:$missing" >&2
	echo "deps: run as root: apt-get update && $cmd" >&2
	exit 1
fi
echo "deps: installing:$missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >&2 || true
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $missing >&2
