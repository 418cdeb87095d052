#!/bin/sh
# bench_prune.sh -- how long `tlsrpt prune` takes to remove 30 of 100
# days out of 1,000,000 reports, and that summary and failures of the 70
# days kept are the same after it.
#
# Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
#
# Usage (make bench runs it): TLSRPT_DB=... bench_prune.sh TLSRPT_BIN
#
# Generates with SQL, in the shape store_put_reports() writes (as
# tests/bench/bench_query.sh does, plus what prune also removes):
#   - 10,000 domains (BENCH_PRUNE_REPORTS / 100), 100 days from
#     2026-01-01, one report per domain and
#     day from 5 reporters in turn, one counted sts policy each, 1000
#     successful sessions; one report in 5 with 2 failure details and
#     their rollup failure rows;
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
q -q <<SQL
SET synchronous_commit = off;
CREATE TEMPORARY TABLE g AS
SELECT i, i % $ndom AS d,
    pg_catalog.sha256(pg_catalog.convert_to('r' || i, 'UTF8')) AS key,
    pg_catalog.format('d%s.example', pg_catalog.lpad((i % $ndom)::text,
	5, '0')) AS dom,
    (ARRAY['google.com', 'microsoft corporation', 'mail.ru', 'yahoo',
	'comcast'])[1 + ((i % $ndom) + i / $ndom) % 5] AS rep,
    '2026-01-01T00:00:00Z'::timestamptz + (i / $ndom) * interval '1 day'
	AS ds,
    (i % 5 = 0) AS fails
FROM pg_catalog.generate_series(0, $n - 1) AS i;

-- schema 009: the other tables hang off report_no (here i + 1), the IP
-- text is NULL when canonical, sts_mx NULL when it is mx_hosts
INSERT INTO tlsrpt.report (report_no, report_key, sha256, org_name,
    reporter, report_id, contact_info, date_start, date_end, was_gzip,
    received_at)
SELECT i + 1, key, key, rep, rep, 'id' || i, 'tlsrpt@' || rep, ds,
    ds + interval '1 day' - interval '1 second', true,
    ds + interval '1 day' + interval '2 hours'
FROM g;

SELECT pg_catalog.setval('tlsrpt.report_no_seq', $n + 1);

INSERT INTO tlsrpt.policy (report_no, idx, policy_domain, policy_type,
    policy_type_raw, domain_source, policy_strings, mx_hosts,
    sts_version_ok, sts_mode, sts_max_age, sts_mx, sts_problems,
    successful_sessions, failed_sessions, counted)
SELECT i + 1, 0, dom, 'sts', 'sts', 'report',
    ARRAY['version: STSv1', 'mode: enforce', 'mx: *.' || dom,
	'max_age: 604800'], ARRAY['*.' || dom], true, 'enforce', 604800,
    NULL, 0, 1000, CASE WHEN fails THEN 5 ELSE 0 END, true
FROM g;

INSERT INTO tlsrpt.failure_detail (report_no, policy_idx, idx,
    result_type, result_known, sending_ip, sending_ip_inet,
    receiving_ip, receiving_ip_inet, receiving_mx, reason_code,
    failed_sessions)
SELECT i + 1, 0, x.idx, x.rt, true, NULL, x.sip::inet, NULL,
    ('198.51.100.' || (d % 250))::inet, x.mx || '.' || dom,
    x.why, x.n
FROM g CROSS JOIN LATERAL (VALUES
    (0, 'starttls-not-supported', 'mx1', '192.0.2.' || (i % 200), NULL, 3),
    (1, 'certificate-expired', 'mx2', '192.0.2.' || (i % 200),
	'X509_V_ERR_CERT_HAS_EXPIRED', 2)) AS x(idx, rt, mx, sip, why, n)
WHERE fails;

INSERT INTO tlsrpt.rollup (policy_domain, period_start, reporter,
    policy_type, result_type, mx_host, reports, successful_sessions,
    failed_sessions)
SELECT dom, ds, rep, 'sts', '', '', 1, 1000,
    CASE WHEN fails THEN 5 ELSE 0 END FROM g
UNION ALL
SELECT dom, ds, rep, 'sts', 'starttls-not-supported', 'mx1.' || dom, 1, 0,
    3 FROM g WHERE fails
UNION ALL
SELECT dom, ds, rep, 'sts', 'certificate-expired', 'mx2.' || dom, 1, 0, 2
FROM g WHERE fails;

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
