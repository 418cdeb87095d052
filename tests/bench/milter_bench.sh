#!/bin/sh
# milter_bench.sh -- report mails through a real Postfix and tlsrpt-milter
# into PostgreSQL, run by `make bench` inside tests/with-pg.sh (TLSRPT_DB
# is a throw-away server).  Needs root and Postfix (skips otherwise).
#
# Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
#
# N distinct RFC 8460 report mails (gzip attachment, ~2 KB each, DKIM
# signed by tests/bench/dkim_sign with a key made at run time) are sent
# by CONC parallel SMTP sessions (tests/milter/smtp_send.py, one session
# per mail, as real senders do) to a private Postfix on loopback
# (tests/milter/postfix.sh) whose smtpd_milters is tlsrpt-milter.
# Prints: mails/s accepted at SMTP (each answered only after the milter
# spooled it durably), mails/s from the first SMTP connection to the last
# report row in PostgreSQL, and the milter's RSS (VmRSS at the end, VmHWM
# the peak).  Asserts nothing.
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
B=${B:-build}
N=${MILTER_BENCH_N:-2000}
CONC=${MILTER_BENCH_CONC:-20}
milter=${MILTER_BENCH_BIN:-$B/bin/tlsrpt-milter}
cli=$B/bin/tlsrpt

if [ "$(id -u)" != 0 ] || ! command -v postfix >/dev/null 2>&1 &&
    [ ! -x /usr/sbin/postfix ]; then
	echo "milter bench: needs root and Postfix; skipped"
	exit 0
fi
tmp=$(mktemp -d "${TMPDIR:-/tmp}/tlsrpt-milter-bench.XXXXXX")
chmod 755 "$tmp"
pid=""
cleanup() {
	tests/milter/postfix.sh stop "$tmp/pf" >/dev/null 2>&1 || true
	[ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

db="$TLSRPT_DB"
$cli migrate --db "$db" >/dev/null
python3 - "$tmp/mails" "$N" <<'PY'
import base64, gzip, json, os, sys
out, n = sys.argv[1], int(sys.argv[2])
os.makedirs(out)
for i in range(n):
    dom = "d%05d.example" % i
    rep = {"organization-name": "Bench Reporter",
           "date-range": {"start-datetime": "2026-01-01T00:00:00Z",
                          "end-datetime": "2026-01-01T23:59:59Z"},
           "contact-info": "tlsrpt@reporter.test",
           "report-id": "bench-%d" % i,
           "policies": [{"policy": {"policy-type": "sts",
               "policy-string": ["version: STSv1", "mode: enforce",
                                 "mx: mx.%s" % dom, "max_age: 86400"],
               "policy-domain": dom, "mx-host": ["mx.%s" % dom]},
               "summary": {"total-successful-session-count": 1000 + i,
                           "total-failure-session-count": i % 7},
               "failure-details": [{"result-type": "certificate-expired",
                   "sending-mta-ip": "192.0.2.%d" % (i % 250 + 1),
                   "receiving-mx-hostname": "mx.%s" % dom,
                   "failed-session-count": i % 7}] if i % 7 else []}]}
    gz = base64.encodebytes(gzip.compress(json.dumps(rep).encode())).decode()
    fn = "reporter.test!%s!1767225600!1767311999!%d.json.gz" % (dom, i)
    msg = ("From: tlsrpt@reporter.test\r\nTo: tlsrpt@tlsrpt.test\r\n"
           "Subject: Report Domain: %s Submitter: reporter.test "
           "Report-ID: <bench-%d@reporter.test>\r\n"
           "TLS-Report-Domain: %s\r\nTLS-Report-Submitter: reporter.test\r\n"
           "MIME-Version: 1.0\r\nContent-Type: multipart/report; "
           "report-type=tlsrpt; boundary=\"b\"\r\n\r\n--b\r\n"
           "Content-Type: text/plain\r\n\r\nA report.\r\n--b\r\n"
           "Content-Type: application/tlsrpt+gzip\r\n"
           "Content-Transfer-Encoding: base64\r\n"
           "Content-Disposition: attachment; filename=\"%s\"\r\n\r\n"
           "%s\r\n--b--\r\n") % (dom, i, dom, fn, gz.replace("\n", "\r\n"))
    open(os.path.join(out, "m%05d.eml" % i), "w").write(msg)
PY
# signed by reporter.test with a key made now; the milter reads it from
# a key file (--dkim-keys) instead of DNS and verifies every mail
openssl genrsa -out "$tmp/dkim.pem" 2048 2>/dev/null
printf 's1._domainkey.reporter.test v=DKIM1;k=rsa;p=%s\n' \
    "$(openssl rsa -in "$tmp/dkim.pem" -pubout -outform DER 2>/dev/null |
    base64 -w0)" > "$tmp/dkim-keys"
(cd "$tmp/mails" && ls | xargs "$top/$B/bench/dkim_sign" "$tmp/dkim.pem" \
    reporter.test s1)
mport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
sport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$milter" --socket inet:$mport@127.0.0.1 --rcpt tlsrpt@tlsrpt.test \
    --spool "$tmp/spool" --db "$db" --dkim-keys "$tmp/dkim-keys" \
    --action discard 2>"$tmp/milter.log" &
pid=$!
tests/milter/postfix.sh start "$tmp/pf" $sport inet:127.0.0.1:$mport

t0=$(date +%s.%N)
python3 tests/milter/smtp_send.py -j "$CONC" $sport tlsrpt@tlsrpt.test \
    "$tmp"/mails/*.eml > "$tmp/codes"
t1=$(date +%s.%N)
ok=$(grep -c '^250 ' "$tmp/codes" || true)
i=0
while :; do
	n=$(psql -Atq "$db" -c "SELECT count(*) FROM tlsrpt.report")
	[ "$n" -ge "$ok" ] && break
	i=$((i + 1))
	[ $i -lt 1200 ] || break
	sleep 0.1
done
t2=$(date +%s.%N)
rss=$(awk '/^VmRSS/ {print $2}' /proc/$pid/status)
hwm=$(awk '/^VmHWM/ {print $2}' /proc/$pid/status)
cpu=$(awk -v hz="$(getconf CLK_TCK)" '{printf "%.2f", ($14 + $15) / hz}' \
    /proc/$pid/stat)
trusted=$(psql -Atq "$db" -c "SELECT count(*) FROM tlsrpt.report WHERE trusted")

echo
echo "milter bench: $N report mails, $CONC parallel SMTP sessions, Postfix $(postconf -h mail_version) + tlsrpt-milter, --action discard"
awk -v n="$N" -v ok="$ok" -v st="$n" -v tr="$trusted" -v t0="$t0" -v t1="$t1" \
    -v t2="$t2" -v rss="$rss" -v hwm="$hwm" -v cpu="$cpu" 'BEGIN {
	printf "  accepted at SMTP (250 after spool fsync) %6d of %d  %8.0f mails/s\n", ok, n, ok / (t1 - t0)
	printf "  stored in PostgreSQL (first SMTP connection to last row) %6d  %8.0f mails/s\n", st, st / (t2 - t0)
	printf "  trusted (dkim pass aligned)               %6d\n", tr
	printf "  milter CPU %.2f s (%.2f ms per mail, its worker included)\n", cpu, cpu * 1000 / n
	printf "  milter RSS at end %.1f MB, peak (VmHWM) %.1f MB\n", rss / 1024, hwm / 1024
}'
