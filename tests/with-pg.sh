#!/bin/sh
# with-pg.sh -- run a command against a throw-away PostgreSQL server.
#
# Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
#
# Usage: tests/with-pg.sh COMMAND [ARG...]
#
# Creates a cluster with initdb in a fresh temporary directory (fsync off,
# unix socket only, no TCP), starts it with pg_ctl, exports TLSRPT_DB and
# TLSRPT_TEST_DB for COMMAND (and TLSRPT_PG_*, see below), and removes everything when COMMAND ends,
# also when it fails or the script is interrupted.  initdb refuses to run
# as root, so as root the server runs as the unprivileged user "postgres".
set -eu

bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
if [ -z "$bindir" ] || [ ! -x "$bindir/initdb" ]; then
	echo "with-pg: PostgreSQL server binaries not found; run scripts/deps.sh" >&2
	exit 3
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/tlsrpt-pg.XXXXXX")
as=""
if [ "$(id -u)" = 0 ]; then
	chown postgres "$tmp"
	as="runuser -u postgres --"
fi

cleanup() {
	$as "$bindir/pg_ctl" -D "$tmp/data" -m immediate stop >/dev/null 2>&1 || true
	# servers a test started and could not stop (TLSRPT_PG_TMP/*/data)
	for d in "$tmp"/*/data; do
		[ -f "$d/postmaster.pid" ] || continue
		$as "$bindir/pg_ctl" -D "$d" -m immediate stop >/dev/null 2>&1 || true
	done
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

$as "$bindir/initdb" -D "$tmp/data" -U tlsrpt --auth=trust \
    --no-instructions -E UTF8 --locale=C.UTF-8 >"$tmp/initdb.log" 2>&1 || {
	cat "$tmp/initdb.log" >&2
	exit 3
}
# a pristine copy for the tests that need a server of their own, to stop,
# restart or reconfigure (tests/integration/test_faults.c): cheaper than initdb
cp -a "$tmp/data" "$tmp/template"
$as "$bindir/pg_ctl" -D "$tmp/data" -l "$tmp/server.log" -w -o \
    "-c listen_addresses='' -c unix_socket_directories='$tmp' -c fsync=off \
     -c synchronous_commit=off -c full_page_writes=off" start >/dev/null || {
	cat "$tmp/server.log" >&2
	exit 3
}
TLSRPT_DB="host=$tmp user=tlsrpt dbname=postgres"
TLSRPT_TEST_DB=$TLSRPT_DB
export TLSRPT_DB TLSRPT_TEST_DB
# What a test needs to run a PostgreSQL of its own: the server programs,
# the command prefix that runs them as the server's user ("" when not
# root), a directory that user can write, the template cluster to copy
# (superuser tlsrpt, trust), and the data directory of the shared server.
TLSRPT_PG_BINDIR=$bindir
TLSRPT_PG_AS=$as
TLSRPT_PG_TMP=$tmp
TLSRPT_PG_TEMPLATE=$tmp/template
TLSRPT_PG_DATA=$tmp/data
export TLSRPT_PG_BINDIR TLSRPT_PG_AS TLSRPT_PG_TMP TLSRPT_PG_TEMPLATE \
    TLSRPT_PG_DATA
"$@"
