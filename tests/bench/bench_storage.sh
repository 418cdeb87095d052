#!/bin/sh
# bench_storage.sh -- the bytes PostgreSQL keeps per typical report, table
# by table with its indexes (issue 12 item 9), run by `make bench`.
#
# Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
#
# Usage: TLSRPT_DB=... bench_storage.sh BENCH TLSRPT_BIN
#
# BENCH -g writes N typical reports of the bench's corpus (2 policies, 5
# failure details, about 1.9 KB of JSON, 0.5 KB gzip; distinct domains,
# dates and report-ids), `tlsrpt import` stores them in a fresh database
# (one arrival each, as by HTTPS), then VACUUM (the free space and
# visibility maps as a live database has them) and per table:
# pg_total_relation_size (heap, TOAST, maps and indexes),
# pg_indexes_size, divided by N.  Prints a table; asserts nothing.
# BENCH_STORAGE_REPORTS sets N (default 10000).
set -eu

bench=${1:?usage: bench_storage.sh BENCH TLSRPT_BIN}
bin=${2:?usage: bench_storage.sh BENCH TLSRPT_BIN}
n=${BENCH_STORAGE_REPORTS:-10000}
db=tlsrpt_bench_storage
base=${TLSRPT_DB:?run under tests/with-pg.sh}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/tlsrpt-bench-storage.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM

psql -q -X -v ON_ERROR_STOP=1 -d "$base" \
    -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db" >/dev/null
conn="$base dbname=$db"
conn=$(echo "$conn" | sed 's/dbname=[^ ]* \(.*dbname=\)/\1/')
"$bin" migrate --db "$conn" >/dev/null
"$bench" -g "$tmp/r" -n "$n" -l 0 >/dev/null
"$bin" import --db "$conn" "$tmp/r" >/dev/null
gz=$(cat "$tmp"/r/* | wc -c)
json=$(cat "$tmp"/r/* | gzip -dc | wc -c)

psql -q -X -v ON_ERROR_STOP=1 -d "$conn" -c "VACUUM" >/dev/null
echo "storage per report: $n typical reports, $(psql -X -tA -d "$conn" \
    -c "SELECT current_setting('server_version')") (PostgreSQL)"
psql -X -v ON_ERROR_STOP=1 -d "$conn" -v n="$n" -v gz="$gz" -v json="$json" <<'SQL'
\pset footer off
WITH t AS (
	SELECT c.relname AS "table",
	    pg_catalog.pg_total_relation_size(c.oid) AS total,
	    pg_catalog.pg_indexes_size(c.oid) AS idx
	FROM pg_catalog.pg_class c
	JOIN pg_catalog.pg_namespace s ON s.oid = c.relnamespace
	WHERE s.nspname = 'tlsrpt' AND c.relkind IN ('r', 'p')
	    AND c.relname <> 'schema_migration'
)
SELECT "table", pg_catalog.round(total::numeric / :n) AS "bytes/report",
    pg_catalog.round((total - idx)::numeric / :n) AS "of it data",
    pg_catalog.round(idx::numeric / :n) AS "indexes"
FROM t
UNION ALL
SELECT 'all', pg_catalog.round(sum(total)::numeric / :n),
    pg_catalog.round(sum(total - idx)::numeric / :n),
    pg_catalog.round(sum(idx)::numeric / :n)
FROM t
ORDER BY 2 DESC;

SELECT t.relname AS "table", i.relname AS "index",
    pg_catalog.round(pg_catalog.pg_relation_size(i.oid)::numeric / :n)
	AS "bytes/report"
FROM pg_catalog.pg_index x
JOIN pg_catalog.pg_class i ON i.oid = x.indexrelid
JOIN pg_catalog.pg_class t ON t.oid = x.indrelid
JOIN pg_catalog.pg_namespace s ON s.oid = t.relnamespace
WHERE s.nspname = 'tlsrpt' AND t.relname <> 'schema_migration'
ORDER BY 3 DESC, 1, 2;

SELECT 'rows/report' AS "per report", pg_catalog.round((SELECT count(*) FROM
	tlsrpt.policy)::numeric / :n, 2) AS policy,
    pg_catalog.round((SELECT count(*) FROM tlsrpt.failure_detail)::numeric
	/ :n, 2) AS failure_detail,
    pg_catalog.round((SELECT count(*) FROM tlsrpt.rollup)::numeric / :n, 2)
	AS rollup;

SELECT pg_catalog.round(:json::numeric / :n) AS "JSON bytes/report",
    pg_catalog.round(:gz::numeric / :n) AS "gzip bytes/report",
    pg_catalog.round(sum(pg_catalog.pg_total_relation_size(c.oid))::numeric
	/ :json, 2) AS "stored / JSON"
FROM pg_catalog.pg_class c
JOIN pg_catalog.pg_namespace s ON s.oid = c.relnamespace
WHERE s.nspname = 'tlsrpt' AND c.relkind IN ('r', 'p')
    AND c.relname <> 'schema_migration';
SQL
psql -q -X -d "$base" -c "DROP DATABASE $db" >/dev/null
