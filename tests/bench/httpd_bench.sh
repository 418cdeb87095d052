#!/bin/sh
# httpd_bench.sh -- tlsrpt-httpd under load on loopback, run by `make bench`
# inside tests/with-pg.sh (TLSRPT_DB is a throw-away server).
#
# Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
#
# 1. keep-alive: CONC senders POST N distinct typical gzip reports, each
#    on one kept connection: reports/s from the first POST to the last row
#    stored in PostgreSQL, request latency p50/p99;
# 2. one new TLS connection per report (as real senders post), beside
# 3. bare TLS handshakes against the same daemon in the same run;
# and the daemon's peak RSS (VmHWM) over all of it.
# Targets (issue 3, 2 cores): >= 3,000 reports/s with p99 < 50 ms; (2) at
# least 70% of (3); RSS < 50 MB.  Prints a table; asserts nothing.
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
B=${B:-build}
N=${HTTPD_BENCH_N:-30000}
NC=${HTTPD_BENCH_NC:-3000}
CONC=${HTTPD_BENCH_CONC:-32}
load=$B/bench/httpd_load
# the daemon and CLI of this build; HTTPD_BENCH_BIN runs another daemon
# (an older build, for an A/B comparison on the same machine)
httpd=${HTTPD_BENCH_BIN:-$B/bin/tlsrpt-httpd}
cli=$B/bin/tlsrpt
tmp=$(mktemp -d "${TMPDIR:-/tmp}/tlsrpt-httpd-bench.XXXXXX")
pid=""
cleanup() {
	[ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

db="$TLSRPT_DB"
$cli migrate --db "$db" >/dev/null
printf 'cn = localhost\nip_address = 127.0.0.1\nexpiration_days = 30\ntls_www_server\nsigning_key\n' >"$tmp/tmpl"
certtool --generate-privkey --key-type=ecdsa --curve=secp256r1 \
    --outfile "$tmp/key.pem" >/dev/null 2>&1
certtool --generate-self-signed --load-privkey "$tmp/key.pem" \
    --template "$tmp/tmpl" --outfile "$tmp/cert.pem" >/dev/null 2>&1
$B/bench/httpd_gen $((N + NC)) "$tmp/all.bin"
# first N for keep-alive, the next NC for one connection per report
python3 - "$tmp/all.bin" "$N" "$tmp/ka.bin" "$tmp/nc.bin" <<'PY'
import sys
data = open(sys.argv[1], 'rb').read()
n = int(sys.argv[2]); recs = []; i = 0
while i < len(data):
    j = data.index(b'\n', i); l = int(data[i:j]); recs.append(data[i:j + 1 + l]); i = j + 1 + l
open(sys.argv[3], 'wb').write(b''.join(recs[:n]))
open(sys.argv[4], 'wb').write(b''.join(recs[n:]))
PY
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$httpd" --listen 127.0.0.1:$port --tls-cert "$tmp/cert.pem" \
    --tls-key "$tmp/key.pem" --spool "$tmp/spool" --db "$db" \
    --max-connections-per-ip 0 2>"$tmp/httpd.log" &
pid=$!
i=0
until curl -sk -o /dev/null "https://127.0.0.1:$port/metrics"; do
	i=$((i + 1)); [ $i -lt 100 ] || { cat "$tmp/httpd.log"; exit 1; }
	sleep 0.1
done
rows() {
	psql "$db" -tAc "SELECT count(*) FROM tlsrpt.report"
}
now() { date +%s.%N; }
# the daemon's CPU time (user + system), in clock ticks
cpu() { awk '{print $14 + $15}' /proc/$pid/stat; }
wait_rows() {	# wait_rows WANT: until stored (at most 120 s)
	k=0
	while [ "$(rows)" -lt "$1" ] && [ $k -lt 2400 ]; do
		sleep 0.05; k=$((k + 1))
	done
}

echo "tlsrpt-httpd bench: $(nproc) cores, $N reports keep-alive, $NC one connection each, $CONC senders"
c0=$(cpu)
t0=$(now)
ka=$($load keepalive 127.0.0.1 $port $CONC $N "$tmp/ka.bin")
t1=$(now)
wait_rows "$N"
t2=$(now)
c1=$(cpu)
stored1=$(rows)
nc=$($load newconn 127.0.0.1 $port $CONC $NC "$tmp/nc.bin")
hs=$($load handshake 127.0.0.1 $port $CONC $NC "$tmp/nc.bin")
nc2=$($load newconn 127.0.0.1 $port $CONC $NC "$tmp/nc.bin")	# 200s now
# handshakes again: the ratios use the mean of both, so that a machine
# getting busier or quieter during the run does not bias them
hs2=$($load handshake 127.0.0.1 $port $CONC $NC "$tmp/nc.bin")
wait_rows $((N + NC))
hwm=$(awk '/VmHWM/ {print $2}' /proc/$pid/status)
kill -TERM "$pid"; wait "$pid" || true; pid=""

f() { echo "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"; }
e2e=$(echo "$N $t0 $t2" | awk '{printf "%.0f", $1 / ($3 - $2)}')
post=$(echo "$N $t0 $t1" | awk '{printf "%.0f", $1 / ($3 - $2)}')
hsr=$(echo "$(f "$hs" rate) $(f "$hs2" rate)" | awk '{printf "%.0f", ($1 + $2) / 2}')
ratio=$(echo "$(f "$nc" rate) $hsr" | awk '{printf "%.0f", 100 * $1 / $2}')
ratio2=$(echo "$(f "$nc2" rate) $hsr" | awk '{printf "%.0f", 100 * $1 / $2}')
printf '\n%-48s %12s\n' "measurement" "value"
printf '%-48s %12s\n' "keep-alive: POSTs answered per second" "$post/s"
printf '%-48s %12s\n' "keep-alive: first POST to last row stored" "$e2e/s"
printf '%-48s %12s\n' "keep-alive: latency p50 / p99 (ms)" "$(f "$ka" p50_ms) / $(f "$ka" p99_ms)"
printf '%-48s %12s\n' "keep-alive: 2xx / other / failed" "$(f "$ka" ok) / $(f "$ka" other) / $(f "$ka" errors)"
printf '%-48s %12s\n' "rows stored after keep-alive" "$stored1"
printf '%-48s %12s\n' "keep-alive: daemon CPU per report stored" "$(echo "$c0 $c1 $N $(getconf CLK_TCK)" | awk '{printf "%.0f us", 1e6 * ($2 - $1) / $4 / $3}')"
printf '%-48s %12s\n' "one connection per report (201)" "$(f "$nc" rate)/s"
printf '%-48s %12s\n' "  latency p50 / p99 (ms)" "$(f "$nc" p50_ms) / $(f "$nc" p99_ms)"
printf '%-48s %12s\n' "bare TLS handshakes (before / after)" "$(f "$hs" rate) / $(f "$hs2" rate)/s"
printf '%-48s %12s\n' "one connection per report / bare handshakes" "$ratio%"
printf '%-48s %12s\n' "same, resubmitted (200, no fsync)" "$(f "$nc2" rate)/s ($ratio2%)"
printf '%-48s %12s\n' "daemon peak RSS (VmHWM)" "$((hwm / 1024)) MB"
