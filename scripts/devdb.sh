#!/bin/sh
# devdb.sh -- a private PostgreSQL under ./var/pg for trying tlsrpt out.
#
# Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
#
# Usage: scripts/devdb.sh start | stop | status | env
#
# start   initdb on first use (unix socket in ./var/pg, no TCP), start the
#         server, apply the migrations, print the TLSRPT_DB line to export
# stop    stop the server (the data stays in ./var/pg)
# env     print `export TLSRPT_DB=...` for eval
# As root the server runs as the unprivileged user "postgres".
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
dir=$top/var/pg
bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
as=""
[ "$(id -u)" = 0 ] && as="runuser -u postgres --"
conn="host=$dir user=tlsrpt dbname=tlsrpt"

case "${1:-}" in
start)
	[ -x "$bindir/initdb" ] || { echo "devdb: PostgreSQL server not installed: run make" >&2; exit 3; }
	mkdir -p "$dir"
	[ -n "$as" ] && chown postgres "$dir"
	if [ ! -f "$dir/data/PG_VERSION" ]; then
		$as "$bindir/initdb" -D "$dir/data" -U tlsrpt --auth=trust \
		    --no-instructions -E UTF8 --locale=C.UTF-8 >/dev/null
	fi
	if ! $as "$bindir/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
		$as "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -o \
		    "-c listen_addresses='' -c unix_socket_directories='$dir'" \
		    start >/dev/null
	fi
	$as "$bindir/psql" -h "$dir" -U tlsrpt -d postgres -tAc \
	    "SELECT 1 FROM pg_database WHERE datname = 'tlsrpt'" | grep -q 1 ||
	    $as "$bindir/createdb" -h "$dir" -U tlsrpt tlsrpt
	"$top/bin/tlsrpt" migrate --db "$conn" >/dev/null
	echo "PostgreSQL is running in $dir; to use it:"
	echo "    export TLSRPT_DB='$conn'"
	;;
stop)
	$as "$bindir/pg_ctl" -D "$dir/data" -m fast stop
	;;
status)
	$as "$bindir/pg_ctl" -D "$dir/data" status
	;;
env)
	echo "export TLSRPT_DB='$conn'"
	;;
*)
	echo "usage: scripts/devdb.sh start | stop | status | env" >&2
	exit 2
	;;
esac
