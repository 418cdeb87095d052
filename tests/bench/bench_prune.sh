#!/bin/sh
# bench_prune.sh -- how long `tlsrpt prune` takes to remove 30 of 100
# days out of 1,000,000 reports, and that summary and failures of the 70
# days kept are the same after it.
#
# Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
#
# Usage (make bench runs it): TLSRPT_DB=... bench_prune.sh TLSRPT_BIN
#
# Generates with SQL (tests/bench/gen_reports.sql, as bench_query.sh
# does, plus what prune also removes):
#   - 10,000 domains (BENCH_PRUNE_REPORTS / 100), 100 days from
#     2026-01-01, one report per domain and day, one in 5 with 2 failure
#     details;
#   - per report its raw body (1,900 bytes of JSON, the typical size) and
#     one arrival; one rejection a day per 1,000 reports.
# Then, with TLSRPT_NOW the day after the last one, `prune --older-than
# 70` removes the first 30 days (cutoff 2026-01-31): timed, with summary
# and failures over the 70 days kept compared byte for byte before and
# after.  Prints the figures; fails only when prune fails or the figures
# of the days kept changed.  BENCH_PRUNE_REPORTS scales the data.
set -eu

bin=${1:-bin/tlsrpt}
n=${BENCH_PRUNE_REPORTS:-1000000}
ndays=100
ndom=$((n / ndays))
[ "$ndom" -ge 1 ] || { echo "bench_prune: at least 100 reports" >&2; exit 2; }
n=$((ndom * ndays))
db=tlsrpt_bench_prune
base=${TLSRPT_DB:?run under tests/with-pg.sh}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/tlsrpt-bench-prune.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

q() { psql -X -A -t -v ON_ERROR_STOP=1 -d "$conn" "$@"; }

PGOPTIONS='-c client_min_messages=warning' \
    psql -q -X -v ON_ERROR_STOP=1 -d "$base" \
    -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db" >/dev/null
conn="$base dbname=$db"
conn=$(echo "$conn" | sed 's/dbname=[^ ]* \(.*dbname=\)/\1/')
"$bin" migrate --db "$conn" >/dev/null

t0=$(date +%s.%N)
q -q -v n="$n" -v ndom="$ndom" -f "$(dirname "$0")/gen_reports.sql" -f - <<SQL
-- 1,900 bytes of JSON each, distinct (the id), as stored: uncompressed
-- under the TOAST threshold.
INSERT INTO tlsrpt.report_raw (report_no, sha256, body)
SELECT i + 1, key, pg_catalog.convert_to(pg_catalog.rpad('{"report-id":"id'
    || i || '","policies":[', 1898, ' ') || ']}', 'UTF8')
FROM g;

INSERT INTO tlsrpt.arrival (received_at, source, origin, outcome,
    report_no, sha256)
SELECT ds + interval '1 day' + interval '2 hours', 'https', '192.0.2.1',
    'stored', i + 1, key
FROM g;

INSERT INTO tlsrpt.rejection (received_at, source, origin, reason,
    sha256, raw, raw_len)
SELECT ds + interval '1 day', 'https', '192.0.2.2', 'not a report',
    key, '\x6a756e6b'::bytea, 4
FROM g WHERE i % 1000 = 0;
INSERT INTO tlsrpt.arrival (received_at, source, origin, outcome, sha256,
    reason)
SELECT received_at, source, origin, 'rejected', sha256, reason
FROM tlsrpt.rejection;
SQL
q -q -c "CHECKPOINT" -c "VACUUM" -c "ANALYZE" >/dev/null
t1=$(date +%s.%N)

counts() {
	q -c "SELECT (SELECT count(*) FROM tlsrpt.report) || ' ' ||
	    (SELECT count(*) FROM tlsrpt.policy) || ' ' ||
	    (SELECT count(*) FROM tlsrpt.failure_detail) || ' ' ||
	    (SELECT count(*) FROM tlsrpt.report_raw) || ' ' ||
	    (SELECT count(*) FROM tlsrpt.arrival) || ' ' ||
	    (SELECT count(*) FROM tlsrpt.rollup) || ' ' ||
	    (SELECT count(*) FROM tlsrpt.rejection)"
}
size() {
	q -c "SELECT pg_size_pretty(pg_database_size(current_database()))"
}

now=$(q -c "SELECT to_char('2026-01-01'::date + $ndays, 'YYYY-MM-DD') ||
    'T06:00:00Z'")
kept=$((ndays - 30))
since=$(q -c "SELECT to_char('2026-01-01'::date + 30, 'YYYY-MM-DD')")
before=$(counts)
size0=$(size)

views() {	# suffix
	TLSRPT_NOW=$now "$bin" summary --since "$since" --format json \
	    --db "$conn" > "$tmp/summary.$1" || [ $? -le 2 ]
	TLSRPT_NOW=$now "$bin" failures --since "$since" --by mx,result-type \
	    --format json --db "$conn" > "$tmp/failures.$1" || [ $? -le 2 ]
}
views before

s=$(date +%s.%N)
TLSRPT_NOW=$now "$bin" prune --older-than "$kept" --db "$conn" \
    > "$tmp/prune.out"
e=$(date +%s.%N)
after=$(counts)
size1=$(size)
views after

echo
echo "prune bench: $n reports, $ndom domains, $ndays days from 2026-01-01" \
    "($size0); generated in $(echo "$t1 - $t0" | bc) s"
echo "machine: $(nproc) CPUs, $(uname -sr); TLSRPT_NOW=$now"
echo "tlsrpt prune --older-than $kept (the first 30 days, batches of 1000):" \
    "$(echo "$e - $s" | bc) s"
sed 's/^/  /' "$tmp/prune.out"
printf '  %-8s %s\n' "tables" "report policy failure_detail report_raw arrival rollup rejection"
printf '  %-8s %s\n' "before" "$before" "after" "$after"
echo "  database size $size0 before, $size1 after (deleted rows are" \
    "reused by new ones once autovacuum has run; files do not shrink)"
fail=0
for v in summary failures; do
	if cmp -s "$tmp/$v.before" "$tmp/$v.after"; then
		echo "  $v --since $since: unchanged" \
		    "($(wc -c < "$tmp/$v.after") bytes of JSON)"
	else
		echo "  $v --since $since: CHANGED" >&2
		fail=1
	fi
done
[ -n "${BENCH_PRUNE_KEEP:-}" ] || \
    psql -q -X -d "$base" -c "DROP DATABASE $db" >/dev/null
exit $fail
