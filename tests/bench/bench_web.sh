#!/bin/sh
# bench_web.sh -- how fast tlsrpt-web answers over the query bench's
# database (1,000,000 reports, 10,000 domains, 100 days: bench_query.sh
# makes it and times the CLI first).
#
# Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
#
# Usage (make bench runs it): TLSRPT_DB=... bench_web.sh TLSRPT TLSRPT-WEB
#
# Times each page and API answer RUNS times (default 20) with curl on
# loopback (time_total: the server's time and one local round trip),
# prints the first time (an answer not kept yet: web_cache.c), the
# median and p95 against the targets of issue 10 (every answer under
# 200 ms p95, the overview's first page under 100 ms, at most 300 KB),
# and the daemon's peak RSS (VmHWM) against 50 MB.  Asserts nothing.
# BENCH_QUERY_REPORTS scales the data (bench_query.sh); BENCH_WEB_REUSE=1
# times over the database a BENCH_QUERY_KEEP=1 run left, without making
# it again.
set -eu

bin=${1:-bin/tlsrpt}
web=${2:-bin/tlsrpt-web}
runs=${BENCH_WEB_RUNS:-20}
here=$(cd "$(dirname "$0")" && pwd)

# its figures are printed; a SLOW one is not this script's failure
[ -n "${BENCH_WEB_REUSE:-}" ] ||
    BENCH_QUERY_KEEP=1 "$here/bench_query.sh" "$bin" || true
conn="${TLSRPT_DB:?run under tests/with-pg.sh} dbname=tlsrpt_bench_query"
conn=$(echo "$conn" | sed 's/dbname=[^ ]* \(.*dbname=\)/\1/')
key=$(psql -X -A -t -d "$conn" -c "SELECT encode(report_key, 'hex') FROM \
    tlsrpt.report r JOIN tlsrpt.policy p USING (report_no) WHERE \
    p.policy_domain = 'd00040.example' ORDER BY date_start DESC LIMIT 1")
last=$(psql -X -A -t -d "$conn" -c "SELECT to_char(max(date_start), \
    'YYYY-MM-DD') FROM tlsrpt.report")
first7=$(psql -X -A -t -d "$conn" -c "SELECT to_char(max(date_start) - \
    interval '6 days', 'YYYY-MM-DD') FROM tlsrpt.report")
first30=$(psql -X -A -t -d "$conn" -c "SELECT to_char(max(date_start) - \
    interval '29 days', 'YYYY-MM-DD') FROM tlsrpt.report")
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$web" --listen "127.0.0.1:$port" --db "$conn" 2>/dev/null &
pid=$!
trap 'kill "$pid" 2>/dev/null || true' EXIT
i=0
until curl -s -o /dev/null "http://127.0.0.1:$port/style.css"; do
	i=$((i + 1))
	[ "$i" -lt 100 ] || { echo "bench_web: tlsrpt-web does not answer"; exit 1; }
	sleep 0.1
done

w7="since=$first7&until=$last"
w30="since=$first30&until=$last"
echo
echo "web bench: tlsrpt-web over the database above, $runs runs each," \
    "curl on loopback"
printf '%-52s %8s %8s %8s %8s %s\n' "answer" "first" "median" \
    "p95 (ms)" "bytes" "target"
page() {	# path target-ms
	t=$(for r in $(seq "$runs"); do
		curl -s -o /dev/null -w '%{time_total} %{size_download}\n' \
		    "http://127.0.0.1:$port$1"
	done)
	first=$(echo "$t" | awk 'NR == 1 { printf "%.1f", $1 * 1000 }')
	t=$(echo "$t" | sort -n)
	med=$(echo "$t" | awk -v n="$runs" 'NR == int((n + 1) / 2) { printf "%.1f", $1 * 1000 }')
	p95=$(echo "$t" | awk -v n="$runs" 'NR == int(n * 0.95 + 0.999) { printf "%.1f", $1 * 1000 }')
	size=$(echo "$t" | awk 'NR == 1 { print $2 }')
	ok=$(awk -v p="$p95" -v t="$2" -v s="$size" 'BEGIN { print (p < t && s <= 300000) ? "ok" : "OVER" }')
	printf '%-52s %8s %8s %8s %8s < %s ms, 300 KB: %s\n' "$1" "$first" \
	    "$med" "$p95" "$size" "$2" "$ok"
}
page "/?$w7" 100
page "/?$w30" 200
page "/?$w30&page=50&sort=name" 200
page "/api/overview?$w7" 200
page "/domain/d00040.example?$w30" 200
page "/api/domain/d00040.example?$w30" 200
page "/domain/d00041.example?$w7" 200
page "/failures?by=result-type,mx&$w7" 200
page "/api/failures?by=reporter,sending-ip&$w7" 200
page "/report/$key" 200
page "/rejections" 200
rss=$(awk '/^VmHWM/ { print $2 }' "/proc/$pid/status")
echo "tlsrpt-web peak RSS: $((rss / 1024)) MB (target 50 MB)"
