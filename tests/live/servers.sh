#!/bin/sh
# servers.sh -- the setup tlsrpt check is tested against (tests/unit/
# test_live.c): a test CA and certificates (certtool), the zone "example."
# for nsd, and the policy files and server blocks for nginx, all under
# DIR, every server on the loopback address IP.  Writes the files only;
# the test starts "nsd -d -c DIR/nsd.conf" and
# "nginx -p DIR -c DIR/nginx.conf" itself.
#
# Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
#
# Usage: tests/live/servers.sh DIR IP
#
# The scenario domains (what each one gets wrong is in its comment; the
# findings expected are in test_live.c):
#   good.example       all right: one record, policy mode testing, mx lines
#                   mx1.good.example and *.backup.good.example for the MX hosts
#                   mx1.good.example and mx2.backup.good.example; _smtp._tls
#                   with rua=mailto:tlsrpt@collector.example first
#   nosts.example      no _mta-sts record
#   tworec.example     two v=STSv1 records
#   badid.example      id=2026-01-01 (a '-' is not a letter or digit)
#   hostile.example    id=<script>alert(1)</script>: markup in a finding,
#                   for the dashboard's stored check (test_live.c)
#   latin.example      id=caf\233 (the byte 0xe9, Latin-1 for e-acute, not
#                   UTF-8): a finding that is not UTF-8, stored all the same
#   p404.example       the policy URL answers 404
#   redir.example      the policy URL answers 301 to another URL
#   ctype.example      the policy is served as text/html
#   big.example        the policy is 65537 bytes, one over 64 KiB
#   exact.example      the policy is 65536 bytes: at the limit, fine
#   wrongcert.example  mta-sts.wrongcert.example presents a certificate for
#                   mta-sts.other.example
#   nulsts.example     v=STSv1; id=1 then a NUL byte and "x" in its TXT record
#   nulrpt.example     its v=TLSRPTv1 record holds a NUL byte before ",https:..."
#   comma.example      rua=mailto:tlsrpt@collector.example,b@comma.example: the
#                   comma is not percent-encoded, so "b@comma.example" is a
#                   URI of its own, and not one
#   notfirst.example   rua=mailto:other@notfirst.example,mailto:tlsrpt@...:
#                   this collector's URI is second
#   uncovered.example  mode enforce, mx: mx1.uncovered.example, but MX hosts
#                   mx1 and mx2.uncovered.example
#   stale.example      mx lines mx1.stale.example and old.stale.example, MX mx1
#   mxgood.example     its MX mx1.mxgood.example (on 127.81.X.Y, X.Y of IP)
#                   offers STARTTLS with a certificate for its name from
#                   the test CA, valid 20 days
#   mxexpired.example  (127.82.X.Y) a certificate that expired in 2020
#   mxnotls.example    (127.83.X.Y) no STARTTLS offered
#   mxname.example     (127.84.X.Y) a certificate for mx1.other.example
#   mxsoon.example     (127.85.X.Y) a certificate valid 5 more days
#   mxuntrusted.example (127.86.X.Y) a self-signed certificate
#   mxexpself.example  (127.94.X.Y) a self-signed certificate that expired
#                   in 2020: untrusted and expired, two findings
#   mxday14.example, mxday13.example, mxday2.example  (127.87, 88, 89)
#                   certificates valid 15, 14 and 3 more days: 14, 13
#                   and 2 whole days left, at and over the bounds of
#                   LIM_LIVE_EXPIRY_WARN_DAYS and _CRIT_DAYS
#   danematch.example  (127.90.X.Y) TLSA 3 1 1 of its MX's key: DANE
#                   matches
#   danemismatch.example  (127.91.X.Y) TLSA 3 1 1 of another key
#   danebogus.example  (127.92.X.Y) the right TLSA, altered after signing:
#                   its signature does not validate
#   daneee.example  (127.93.X.Y) TLSA 3 1 1 of its MX's key, the
#                   certificate (from the test CA) for mx1.other.example
#                   and valid 2 more days: with DNSSEC, DANE-EE waives
#                   the name and the expiry (RFC 7672 §3.1.1)
#   The zone is DNSSEC-signed (ldns-signzone, ECDSA P-256); its key
#   signing key is the trust anchor DIR/ta.key.
#   The MX servers are one private Postfix (tests/live/smtp.sh), one
#   smtpd per address as DIR/smtp.listen lists them.
#   (not .test: libunbound answers the RFC 6761 names test., invalid.
#   itself, NXDOMAIN, whatever the forwarder says)
#   bulk01.example .. bulk40.example  like good.example with one MX, for
#                   tlsrpt check of many domains at once; those whose
#                   number is a multiple of 4 publish no _smtp._tls
#                   record.  nginx serves their policies at 100 bytes a
#                   second (limit_rate; a few seconds each), and logs
#                   each fetch to DIR/bulk.log with the connections it
#                   had open then ($connections_active).
#   deep.example       mx: *.deep.example, MX a.b.deep.example: "*." covers one
#                   label only (RFC 8461 §4.1), so the MX is not covered
#                   and the pattern matches nothing
set -eu
dir=$1
ip=$2
mkdir -p "$dir/www" "$dir/tmp"
cd "$dir"

# --- a test CA and the certificates ---------------------------------
certtool --generate-privkey --key-type=ecdsa --outfile ca.key 2>/dev/null
cat > ca.tmpl <<EOF
cn = "tlsrpt test CA"
ca
cert_signing_key
expiration_days = 30
EOF
certtool --generate-self-signed --load-privkey ca.key --template ca.tmpl \
    --outfile ca.pem 2>/dev/null

DOMAINS="good nosts tworec badid hostile latin p404 redir ctype big exact wrongcert comma
notfirst uncovered stale deep nulsts nulrpt"
MXDOMAINS="mxgood mxexpired mxnotls mxname mxsoon mxuntrusted mxday14
mxday13 mxday2 danematch danemismatch danebogus daneee mxexpself"
BULK=$(seq -f 'bulk%02g' 1 40)
DOMAINS="$DOMAINS $MXDOMAINS $BULK"
rest=${ip#127.*.}
mxip() {	# mxip DOMAIN: its MX's address, or IP
	k=81
	for m in $MXDOMAINS; do
		[ "$m" = "$1" ] && echo "127.$k.$rest" && return
		k=$((k + 1))
	done
	echo "$ip"
}

leaf() {	# leaf NAME "dns_name lines" [validity lines [self]]
	certtool --generate-privkey --key-type=ecdsa --outfile "$1.key" \
	    2>/dev/null
	{
		echo "cn = \"$1\""
		printf '%s\n' "$2"
		echo "tls_www_server"
		echo "encryption_key"
		echo "signing_key"
		printf '%s\n' "${3:-expiration_days = 20}"
	} > "$1.tmpl"
	if [ "${4:-}" = self ]; then
		certtool --generate-self-signed --load-privkey "$1.key" \
		    --template "$1.tmpl" --outfile "$1.pem" 2>/dev/null
	else
		certtool --generate-certificate --load-privkey "$1.key" \
		    --load-ca-certificate ca.pem --load-ca-privkey ca.key \
		    --template "$1.tmpl" --outfile "$1.pem" 2>/dev/null
	fi
}
names=""
for d in $DOMAINS; do
	[ "$d" = wrongcert ] && continue
	names="$names
dns_name = \"mta-sts.$d.example\""
done
leaf sts "$names"
leaf other 'dns_name = "mta-sts.other.example"'
leaf mxgood 'dns_name = "mx1.mxgood.example"'
leaf mxexpired 'dns_name = "mx1.mxexpired.example"' \
    'activation_date = "2020-01-01 00:00:00"
expiration_date = "2020-06-01 00:00:00"'
leaf mxname 'dns_name = "mx1.other.example"'
leaf mxsoon 'dns_name = "mx1.mxsoon.example"' 'expiration_days = 5'
leaf mxuntrusted 'dns_name = "mx1.mxuntrusted.example"' \
    'expiration_days = 20' self
leaf mxexpself 'dns_name = "mx1.mxexpself.example"' \
    'activation_date = "2020-01-01 00:00:00"
expiration_date = "2020-06-01 00:00:00"' self
leaf mxday14 'dns_name = "mx1.mxday14.example"' 'expiration_days = 15'
leaf mxday13 'dns_name = "mx1.mxday13.example"' 'expiration_days = 14'
leaf mxday2 'dns_name = "mx1.mxday2.example"' 'expiration_days = 3'
for d in danematch danemismatch danebogus; do
	leaf $d "dns_name = \"mx1.$d.example\""
done
leaf daneee 'dns_name = "mx1.other.example"' 'expiration_days = 2'
tlsa() {	# tlsa DOMAIN CERT: the TLSA 3 1 1 record of CERT for DOMAIN's MX
	danetool --tlsa-rr --load-certificate "$2.pem" \
	    --host "mx1.$1.example" --port 25 2>/dev/null
}
: > smtp.listen
for m in $MXDOMAINS; do
	if [ "$m" = mxnotls ]; then
		echo "$(mxip $m) none" >> smtp.listen
	else
		echo "$(mxip $m) $m" >> smtp.listen
	fi
done

# --- the policies ----------------------------------------------------
policy() {	# policy DOMAIN MODE MX...
	d=$1
	mode=$2
	shift 2
	mkdir -p "www/$d/.well-known"
	{
		printf 'version: STSv1\r\nmode: %s\r\n' "$mode"
		for m in "$@"; do
			printf 'mx: %s\r\n' "$m"
		done
		printf 'max_age: 86400\r\n'
	} > "www/$d/.well-known/mta-sts.txt"
}
for d in $DOMAINS; do
	policy "$d" testing "mx1.$d.example"
done
policy good testing mx1.good.example '*.backup.good.example'
policy uncovered enforce mx1.uncovered.example
policy stale testing mx1.stale.example old.stale.example
policy deep testing '*.deep.example'
rm -r www/p404/.well-known
# padded with extension lines (RFC 8461 §3.2: ignored) to a size
pad() {		# pad FILE SIZE
	f=$1
	want=$2
	have=$(wc -c < "$f")
	while [ $((want - have)) -gt 1000 ]; do
		printf 'x-pad: %0990d\r\n' 0 >> "$f"
		have=$(wc -c < "$f")
	done
	left=$((want - have - 9))	# "x-pad: " and CRLF
	printf 'x-pad: %s\r\n' "$(printf '%*s' "$left" '' | tr ' ' p)" \
	    >> "$f"
	[ "$(wc -c < "$f")" = "$want" ] || {
		echo "servers.sh: $f is not $want bytes" >&2
		exit 1
	}
}
pad www/big/.well-known/mta-sts.txt 65537
pad www/exact/.well-known/mta-sts.txt 65536

# --- nginx: one server block per mta-sts.D.example (SNI) ----------------
{
	cat <<EOF
daemon off;
master_process off;
pid $dir/nginx.pid;
error_log $dir/nginx.err info;
events { worker_connections 64; }
http {
	access_log off;
	client_body_temp_path $dir/tmp/body;
	proxy_temp_path $dir/tmp/proxy;
	fastcgi_temp_path $dir/tmp/fastcgi;
	uwsgi_temp_path $dir/tmp/uwsgi;
	scgi_temp_path $dir/tmp/scgi;
	types { }
	default_type text/plain;
	ssl_protocols TLSv1.2 TLSv1.3;
	log_format bulk '\$host \$connections_active';
EOF
	for d in $DOMAINS; do
		cert=sts
		[ "$d" = wrongcert ] && cert=other
		echo "	server {"
		echo "		listen $ip:443 ssl;"
		echo "		server_name mta-sts.$d.example;"
		echo "		ssl_certificate $dir/$cert.pem;"
		echo "		ssl_certificate_key $dir/$cert.key;"
		echo "		root $dir/www/$d;"
		case $d in
		redir)	echo "		location / { return 301" \
			    "https://www.redir.example/mta-sts.txt; }" ;;
		ctype)	echo "		default_type text/html;" ;;
		bulk*)	echo "		access_log $dir/bulk.log bulk;"
			echo "		limit_rate_after 0;"
			echo "		limit_rate 100;" ;;
		esac
		echo "	}"
	done
	echo "}"
} > nginx.conf

# --- nsd: the zone example. ----------------------------------------------
cat > nsd.conf <<EOF
server:
	ip-address: $ip
	port: 53
	username: ""
	chroot: ""
	zonesdir: "$dir"
	zonelistfile: "$dir/zone.list"
	database: ""
	xfrdfile: "$dir/xfrd.state"
	pidfile: "$dir/nsd.pid"
	logfile: "$dir/nsd.log"
	server-count: 1
	verbosity: 1
	hide-version: yes
remote-control:
	control-enable: no
zone:
	name: "example"
	zonefile: "example.zone.signed"
EOF

RUA="mailto:tlsrpt@collector.example"
{
	echo "\$ORIGIN example."
	echo "\$TTL 300"
	echo "@ IN SOA ns.example. admin.example. 1 3600 600 86400 300"
	echo "@ IN NS ns.example."
	echo "ns IN A $ip"
	for d in $DOMAINS; do
		echo "mta-sts.$d IN A $ip"
		echo "$d IN MX 10 mx1.$d.example."
		echo "mx1.$d IN A $(mxip "$d")"
		case $d in
		nosts)	;;
		tworec)	echo "_mta-sts.$d IN TXT \"v=STSv1; id=1\""
			echo "_mta-sts.$d IN TXT \"v=STSv1; id=2\"" ;;
		badid)	echo "_mta-sts.$d IN TXT \"v=STSv1; id=2026-01-01\"" ;;
		nulsts)	printf '%s\n' "_mta-sts.$d IN TXT \"v=STSv1; id=1\\000x\"" ;;
		hostile) echo "_mta-sts.$d IN TXT \"v=STSv1; id=<script>alert(1)</script>\"" ;;
		latin)	printf '%s\n' "_mta-sts.$d IN TXT \"v=STSv1; id=caf\\233\"" ;;
		*)	echo "_mta-sts.$d IN TXT \"v=STSv1; \" \"id=20260101T01\"" ;;
		esac
		case $d in
		comma)	echo "_smtp._tls.$d IN TXT \"v=TLSRPTv1; rua=$RUA,b@comma.example\"" ;;
		nulrpt)	printf '%s\n' "_smtp._tls.$d IN TXT \"v=TLSRPTv1; rua=$RUA\\000,https://x.example/\"" ;;
		notfirst) echo "_smtp._tls.$d IN TXT \"v=TLSRPTv1;rua=mailto:other@notfirst.example, $RUA\"" ;;
		bulk[02468][048] | bulk[13579][26])	;;
		*)	echo "_smtp._tls.$d IN TXT \"v=TLSRPTv1; rua=$RUA,https://tlsrpt.$d.example/v1/report\"" ;;
		esac
	done
	echo "good IN MX 20 mx2.backup.good.example."
	echo "mx2.backup.good IN A $ip"
	echo "uncovered IN MX 20 mx2.uncovered.example."
	echo "mx2.uncovered IN A $ip"
	echo "deep IN MX 5 a.b.deep.example."
	echo "a.b.deep IN A $ip"
	tlsa danematch danematch
	tlsa danemismatch other
	tlsa danebogus danebogus
	tlsa daneee daneee
} > example.zone

# --- DNSSEC: sign the zone; break the signature of danebogus's TLSA ---
ksk=$(ldns-keygen -a ECDSAP256SHA256 -k example.)
zsk=$(ldns-keygen -a ECDSAP256SHA256 example.)
cp "$ksk.key" ta.key
ldns-signzone -o example. -f example.zone.signed example.zone "$ksk" "$zsk"
awk '$1 == "_25._tcp.mx1.danebogus.example." && $4 == "TLSA" {
	h = $NF
	$NF = (substr(h, 1, 1) == "0" ? "1" : "0") substr(h, 2)
} { print }' example.zone.signed > example.zone.bogus
mv example.zone.bogus example.zone.signed
grep -q '^_25._tcp.mx1.danebogus.example.' example.zone.signed || {
	echo "servers.sh: no TLSA of danebogus in the signed zone" >&2
	exit 1
}
