#!/bin/sh
# with-pg.sh -- run a command against a throw-away PostgreSQL server.
#
# Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
#
# Usage: tests/with-pg.sh COMMAND [ARG...]
#
# Creates a cluster with initdb in a fresh temporary directory (fsync off,
# unix socket only, no TCP), starts it with pg_ctl, exports TLSRPT_DB and
# TLSRPT_TEST_DB for COMMAND, and removes everything when COMMAND ends,
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
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

$as "$bindir/initdb" -D "$tmp/data" -U tlsrpt --auth=trust \
    --no-instructions -E UTF8 --locale=C.UTF-8 >"$tmp/initdb.log" 2>&1 || {
	cat "$tmp/initdb.log" >&2
	exit 3
}
$as "$bindir/pg_ctl" -D "$tmp/data" -l "$tmp/server.log" -w -o \
    "-c listen_addresses='' -c unix_socket_directories='$tmp' -c fsync=off \
     -c synchronous_commit=off -c full_page_writes=off" start >/dev/null || {
	cat "$tmp/server.log" >&2
	exit 3
}
TLSRPT_DB="host=$tmp user=tlsrpt dbname=postgres"
TLSRPT_TEST_DB=$TLSRPT_DB
export TLSRPT_DB TLSRPT_TEST_DB
"$@"
