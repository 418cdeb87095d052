#!/bin/sh
# deb.sh -- the Debian package installed, used and purged on this machine
# (make check-deb: builds the package first, runs this under
# tests/with-pg.sh; needs root, and tlsrpt-collector not installed).
#
# Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
#
# Installs ./tlsrpt-collector_VERSION_ARCH.deb with apt, checks the system
# user, the spools and their modes, the conffiles, the man pages and the
# units (systemd-analyze verify); edits the installed tlsrpt-httpd.conf to
# listen on a free port with a test certificate and the test PostgreSQL,
# runs the installed tlsrpt-httpd as _tlsrpt with it, posts a corpus
# report, and sees it with the installed `tlsrpt summary`; then purges
# the package and checks that nothing it installed or made is left (files,
# configs, /var/lib/tlsrpt, the user) while the database still holds the
# report.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
deb=$(ls tlsrpt-collector_*_*.deb 2>/dev/null | grep -v dbgsym | head -n 1)
fails=0
pid=""
tmp=$(mktemp -d "${TMPDIR:-/tmp}/tlsrpt-deb.XXXXXX")

fail() {
	echo "tests/deb.sh: FAIL: $*" >&2
	fails=$((fails + 1))
}
die() {
	echo "tests/deb.sh: $*" >&2
	exit 1
}
cleanup() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null || true
	if dpkg-query -W -f='${Status}' tlsrpt-collector 2>/dev/null |
	    grep -q installed; then
		apt-get purge -y -q tlsrpt-collector >/dev/null 2>&1 || true
	fi
	rm -rf "$tmp"
}

[ "$(id -u)" = 0 ] || die "needs root (it installs the package)"
[ -n "$deb" ] || die "no tlsrpt-collector_*.deb here: make deb first"
: "${TLSRPT_TEST_DB:?run under tests/with-pg.sh}"
if dpkg-query -W -f='${Status}' tlsrpt-collector 2>/dev/null |
    grep -q "install ok installed"; then
	die "tlsrpt-collector is installed on this machine; not touching it"
fi
getent passwd _tlsrpt >/dev/null && die "user _tlsrpt exists already"
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- install ---------------------------------------------------------------
DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
    "./$deb" > "$tmp/apt.log" 2>&1 || { cat "$tmp/apt.log" >&2; die "apt install failed"; }
dpkg-query -L tlsrpt-collector > "$tmp/files"

getent passwd _tlsrpt > "$tmp/pw" || fail "no user _tlsrpt"
uid=$(cut -d: -f3 "$tmp/pw")
[ "${uid:-0}" -gt 0 ] && [ "${uid:-1000}" -lt 1000 ] ||
    fail "_tlsrpt is not a system user (uid $uid)"
case $(cut -d: -f7 "$tmp/pw") in
*/nologin|*/false) ;;
*) fail "_tlsrpt has a login shell: $(cut -d: -f7 "$tmp/pw")" ;;
esac
for d in /var/lib/tlsrpt /var/lib/tlsrpt/spool /var/lib/tlsrpt/milter-spool; do
	got=$(stat -c '%a %U %G' "$d" 2>/dev/null || echo missing)
	[ "$got" = "750 _tlsrpt _tlsrpt" ] || fail "$d: $got, want 750 _tlsrpt _tlsrpt"
done
for c in tlsrpt-httpd.conf tlsrpt-milter.conf; do
	got=$(stat -c '%a %U %G' "/etc/tlsrpt/$c" 2>/dev/null || echo missing)
	[ "$got" = "640 root _tlsrpt" ] ||
	    fail "/etc/tlsrpt/$c: $got, want 640 root _tlsrpt"
	grep -q "^/etc/tlsrpt/$c\$" /var/lib/dpkg/info/tlsrpt-collector.conffiles ||
	    fail "/etc/tlsrpt/$c is not a conffile"
done
for m in tlsrpt.1 tlsrpt.conf.5 tlsrpt-httpd.8 tlsrpt-milter.8; do
	s=${m##*.}
	[ -f "/usr/share/man/man$s/$m.gz" ] || fail "no man page $m"
done
for x in /usr/bin/tlsrpt /usr/sbin/tlsrpt-httpd /usr/sbin/tlsrpt-milter; do
	[ -x "$x" ] || fail "$x is not installed"
done
[ -f /usr/share/doc/tlsrpt-collector/README.Debian ] || fail "no README.Debian"
for u in tlsrpt-httpd.service tlsrpt-milter.service tlsrpt-prune.service \
    tlsrpt-prune.timer; do
	[ -f "/lib/systemd/system/$u" ] || { fail "no /lib/systemd/system/$u"; continue; }
	systemd-analyze verify "/lib/systemd/system/$u" > "$tmp/verify" 2>&1 ||
	    { fail "systemd-analyze verify $u:"; cat "$tmp/verify" >&2; }
	grep -q "^User=_tlsrpt$" "/lib/systemd/system/$u" ||
	    [ "$u" = tlsrpt-prune.timer ] || fail "$u does not run as _tlsrpt"
done

# --- the installed tlsrpt-httpd as _tlsrpt, the installed config -----------
db=tlsrpt_deb_test
PGOPTIONS="-c client_min_messages=warning" \
    psql -q -X -v ON_ERROR_STOP=1 -d "$TLSRPT_TEST_DB" \
    -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db" >/dev/null
conn=$(echo "$TLSRPT_TEST_DB" | sed "s/dbname=[^ ]*/dbname=$db/")
sock=$(echo "$TLSRPT_TEST_DB" | sed -n 's/.*host=\([^ ]*\).*/\1/p')
chmod 711 "$sock"		# _tlsrpt reaches the socket (trust auth)
/usr/bin/tlsrpt migrate --db "$conn" >/dev/null || fail "installed tlsrpt migrate"

chmod 755 "$tmp"
printf 'cn = localhost\nip_address = 127.0.0.1\nexpiration_days = 2\ntls_www_server\nsigning_key\n' > "$tmp/tmpl"
certtool --generate-privkey --key-type=ecdsa --outfile "$tmp/tls.key" >/dev/null 2>&1
certtool --generate-self-signed --load-privkey "$tmp/tls.key" \
    --template "$tmp/tmpl" --outfile "$tmp/tls.crt" >/dev/null 2>&1
chgrp _tlsrpt "$tmp/tls.key" && chmod 640 "$tmp/tls.key"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
c=/etc/tlsrpt/tlsrpt-httpd.conf
sed -i -e '/^listen /d' -e "s|^tls-cert .*|tls-cert $tmp/tls.crt|" \
    -e "s|^tls-key .*|tls-key $tmp/tls.key|" -e "s|^db .*|db $conn|" "$c"
echo "listen 127.0.0.1:$port" >> "$c"
grep -q "^spool /var/lib/tlsrpt/spool$" "$c" ||
    fail "the installed config does not spool to /var/lib/tlsrpt/spool"

setpriv --reuid=_tlsrpt --regid=_tlsrpt --init-groups \
    /usr/sbin/tlsrpt-httpd --config "$c" \
    > "$tmp/httpd.log" 2>&1 &
pid=$!
up=0
for i in $(seq 1 100); do
	if [ "$(curl -sk -o /dev/null -w '%{http_code}' \
	    "https://127.0.0.1:$port/healthz")" = 200 ]; then
		up=1
		break
	fi
	kill -0 "$pid" 2>/dev/null || break
	sleep 0.1
done
[ "$up" = 1 ] || { cat "$tmp/httpd.log" >&2; die "installed tlsrpt-httpd does not answer"; }
[ "$(ps -o user= -p "$pid")" = _tlsrpt ] || fail "tlsrpt-httpd does not run as _tlsrpt"
code=$(curl -sk -o /dev/null -w '%{http_code}' --data-binary \
    @tests/data/corpus/microsoft_tls-rpt-monitor_1.json.gz \
    -H 'Content-Type: application/tlsrpt+gzip' "https://127.0.0.1:$port/v1/report")
[ "$code" = 201 ] || fail "POST answered $code, want 201"
# The report (tests/data/corpus/INDEX.md): josh.scot, 1 report, 2
# successful sessions, none failed.
want='"domain": "josh.scot", "reports": 1, "reporters": 1,'
seen=0
for i in $(seq 1 100); do
	/usr/bin/tlsrpt summary --format json --db "$conn" > "$tmp/sum" 2>&1 || true
	if grep -qF "$want" "$tmp/sum"; then seen=1; break; fi
	sleep 0.1
done
[ "$seen" = 1 ] || { cat "$tmp/sum" >&2; fail "tlsrpt summary does not show the report"; }
grep -q '"successful_sessions": 2, "failed_sessions": 0' "$tmp/sum" ||
    fail "summary figures: $(cat "$tmp/sum")"
kill -TERM "$pid"
wait "$pid" || fail "tlsrpt-httpd exit status $? after SIGTERM"
pid=""

# --- purge -----------------------------------------------------------------
DEBIAN_FRONTEND=noninteractive apt-get purge -y -q tlsrpt-collector \
    > "$tmp/apt.log" 2>&1 || { cat "$tmp/apt.log" >&2; fail "apt purge failed"; }
dpkg-query -W -f='${Status}' tlsrpt-collector 2>/dev/null |
    grep -q "install ok" && fail "still installed after purge"
while read -r f; do
	[ -d "$f" ] && continue		# shared directories (/usr/bin, ...)
	[ -e "$f" ] && fail "left after purge: $f"
done < "$tmp/files"
for f in /etc/tlsrpt /var/lib/tlsrpt; do
	[ -e "$f" ] && fail "left after purge: $f"
done
getent passwd _tlsrpt >/dev/null && fail "user _tlsrpt left after purge"
getent group _tlsrpt >/dev/null && fail "group _tlsrpt left after purge"
n=$(psql -X -A -t -d "$conn" -c "SELECT count(*) FROM tlsrpt.report")
[ "$n" = 1 ] || fail "the database lost the report at purge: $n reports"
psql -q -X -d "$TLSRPT_TEST_DB" -c "DROP DATABASE $db" >/dev/null || true

if [ "$fails" -ne 0 ]; then
	echo "tests/deb.sh: $fails failure(s)" >&2
	exit 1
fi
echo "tests/deb.sh: installed, stored a report as _tlsrpt, purged clean: ok"
