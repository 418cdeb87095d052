#!/bin/sh
# run.sh -- `make run`: try tlsrpt-httpd on this machine.
#
# Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
#
# Starts the private PostgreSQL under ./var/pg (scripts/devdb.sh: initdb on
# first use, migrations applied), makes a self-signed certificate in
# ./var/tls on first use, then runs tlsrpt-httpd on https://127.0.0.1:8443
# in the foreground with the spool in ./var/spool.  Ctrl-C stops the
# daemon, and PostgreSQL too when this script started it.
#
# tlsrpt-milter runs beside it on the unix socket ./var/milter.sock (spool
# ./var/milter-spool, rua address tlsrpt@tlsrpt.test), for an MTA on this
# machine or for miltertest (the command is printed).
#
# TLSRPT_RUN_LISTEN=ADDR:PORT listens elsewhere; extra arguments go to
# tlsrpt-httpd (e.g. scripts/run.sh --domain example.com).
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
listen=${TLSRPT_RUN_LISTEN:-127.0.0.1:8443}
pid=""
mpid=""
wpid=""
web_listen=${TLSRPT_RUN_WEB_LISTEN:-127.0.0.1:8080}
pg_started=0

cleanup() {
	trap - EXIT INT TERM
	if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
		kill -TERM "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	fi
	if [ -n "$mpid" ] && kill -0 "$mpid" 2>/dev/null; then
		kill -TERM "$mpid" 2>/dev/null || true
		wait "$mpid" 2>/dev/null || true
	fi
	if [ -n "$wpid" ] && kill -0 "$wpid" 2>/dev/null; then
		kill -TERM "$wpid" 2>/dev/null || true
		wait "$wpid" 2>/dev/null || true
	fi
	if [ "$pg_started" = 1 ]; then
		echo "run: stopping PostgreSQL"
		scripts/devdb.sh stop >/dev/null 2>&1 || true
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

scripts/devdb.sh status >/dev/null 2>&1 || pg_started=1
scripts/devdb.sh start >/dev/null
eval "$(scripts/devdb.sh env)"

mkdir -p var/tls var/spool
if [ ! -s var/tls/cert.pem ] || [ ! -s var/tls/key.pem ]; then
	echo "run: making a self-signed certificate in var/tls"
	if command -v certtool >/dev/null 2>&1; then
		printf 'cn = "localhost"\ndns_name = "localhost"\nip_address = "127.0.0.1"\nip_address = "::1"\nexpiration_days = 365\ntls_www_server\nsigning_key\n' \
		    > var/tls/template
		certtool --generate-privkey --key-type=ecdsa --curve=secp256r1 \
		    --outfile var/tls/key.pem >/dev/null 2>&1
		certtool --generate-self-signed --load-privkey var/tls/key.pem \
		    --template var/tls/template --outfile var/tls/cert.pem \
		    >/dev/null 2>&1
	else
		openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
		    -nodes -days 365 -subj /CN=localhost \
		    -addext subjectAltName=DNS:localhost,IP:127.0.0.1 \
		    -keyout var/tls/key.pem -out var/tls/cert.pem 2>/dev/null
	fi
	chmod 600 var/tls/key.pem
fi

bin/tlsrpt-milter --socket "unix:$top/var/milter.sock" \
    --rcpt tlsrpt@tlsrpt.test --spool var/milter-spool --db "$TLSRPT_DB" \
    --authserv-id mx.tlsrpt.test &
mpid=$!
# the dashboard: plain HTTP on loopback, every domain (no --users)
bin/tlsrpt-web --listen "$web_listen" --db "$TLSRPT_DB" &
wpid=$!
bin/tlsrpt-httpd --listen "$listen" --tls-cert var/tls/cert.pem \
    --tls-key var/tls/key.pem --spool var/spool --db "$TLSRPT_DB" "$@" &
pid=$!
sleep 0.5
kill -0 "$pid" 2>/dev/null || { wait "$pid" || true; pid=""; exit 1; }
host=${listen%:*}
port=${listen##*:}
case $host in *:*) host="[$host]" ;; esac
cat <<EOT

tlsrpt-httpd is listening on https://$host:$port/v1/report (Ctrl-C stops it).
Post a report from another terminal:

    curl -k --data-binary @tests/data/corpus/microsoft_tls-rpt-monitor_1.json.gz -H 'Content-Type: application/tlsrpt+gzip' https://$host:$port/v1/report

See it stored:

    bin/tlsrpt summary --since 2000-01-01 --db '$TLSRPT_DB'

Health and metrics: curl -k https://$host:$port/healthz, curl -k https://$host:$port/metrics

tlsrpt-milter is on unix:$top/var/milter.sock (rua tlsrpt@tlsrpt.test).
Play an MTA delivering a report mail to it:

    MILTER_SOCK=unix:$top/var/milter.sock REPORT_EML=tests/data/corpus/google_mox_1.eml miltertest -s tests/milter/protocol.lua

The dashboard (tlsrpt-web) is on http://$web_listen/ (loopback only).

EOT
wait "$pid"
