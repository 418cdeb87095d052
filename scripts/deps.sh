#!/bin/sh
# deps.sh -- install the Debian packages one step of the build needs.
#
# Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
#
# Usage: scripts/deps.sh SET...   where SET is
#   build   compilers and -dev libraries: what `make` needs, nothing else
#   run     what `make run` needs: the PostgreSQL server, certtool
#   test    what `make check` needs: PostgreSQL, Criterion, curl, Postfix,
#           miltertest, clang and its sanitizer runtime, python3, mandoc
#           (the man page checks), chromium, chromium-driver and
#           python3-selenium (the dashboard's browser test)
#   bench   what `make bench` needs besides test: wrk
#   deb     what `make deb` needs besides build: debhelper, devscripts,
#           lintian, fakeroot, dpkg-dev
#
# Run by make before each step.  As root it installs what is missing with
# apt-get; otherwise it prints the exact command and fails.  Quiet when
# everything is present.  A plain `make` never installs a server or an MTA.
set -eu

BUILD="gcc make pkg-config libjson-c-dev zlib1g-dev libpq-dev nettle-dev
libgmime-3.0-dev libmicrohttpd-dev libgnutls28-dev libmilter-dev
libopendkim-dev"
BUILD="$BUILD libunbound-dev"
BUILD="$BUILD libcrypt-dev"
RUN="postgresql postgresql-client gnutls-bin curl"
TEST="$RUN libcriterion-dev clang libclang-rt-14-dev postfix miltertest
python3 openssl"
TEST="$TEST mandoc"
TEST="$TEST nsd nginx-light ldnsutils"
TEST="$TEST chromium chromium-driver python3-selenium"
BENCH="$TEST wrk"
DEB="debhelper devscripts lintian fakeroot dpkg-dev"

want=""
for set in "${@:-build}"; do
	case $set in
	build)	want="$want $BUILD" ;;
	run)	want="$want $RUN" ;;
	test)	want="$want $TEST" ;;
	bench)	want="$want $BENCH" ;;
	deb)	want="$want $DEB" ;;
	*)	echo "deps: unknown set '$set' (build, run, test, bench, deb)" >&2
		exit 2 ;;
	esac
done

missing=""
for p in $want; do
	case " $missing " in *" $p "*) continue ;; esac
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
