#!/bin/sh
# smtp.sh -- the MX hosts tlsrpt check is tested against (tests/unit/
# test_live.c): one private Postfix, one smtpd per line of
# DIR/smtp.listen ("ADDRESS NAME": STARTTLS with DIR/NAME.key and
# DIR/NAME.pem, or "ADDRESS none": no STARTTLS), port 25.  It never
# accepts mail (no domain is local), it only answers EHLO and STARTTLS.
#
# Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
#
# Usage: tests/live/smtp.sh start|stop DIR   (root; DIR from servers.sh)
set -eu
cmd=$1
dir=$2
PATH=/usr/sbin:/usr/bin:/sbin:/bin:$PATH
conf=$dir/pf/etc
q=$dir/pf/queue

case $cmd in
stop)
	[ -f "$conf/main.cf" ] || exit 0
	postfix -c "$conf" stop >/dev/null 2>&1 || true
	i=0
	while [ -f "$q/pid/master.pid" ] && [ $i -lt 50 ]; do
		pid=$(tr -d ' ' < "$q/pid/master.pid" 2>/dev/null || true)
		[ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
		i=$((i + 1))
	done
	exit 0
	;;
start)
	;;
*)
	echo "usage: $0 start|stop DIR" >&2
	exit 2
	;;
esac

mkdir -p "$conf" "$q" "$dir/pf/data"
chmod 755 "$dir" "$dir/pf"
chown postfix "$dir/pf/data"
cat > "$conf/main.cf" <<EOT
compatibility_level = 3.6
config_directory = $conf
queue_directory = $q
data_directory = $dir/pf/data
mail_owner = postfix
setgid_group = postdrop
myhostname = mx.live.example
mydestination =
inet_interfaces = loopback-only
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
smtpd_peername_lookup = no
disable_dns_lookups = yes
alias_maps =
alias_database =
local_recipient_maps =
smtpd_tls_security_level = may
smtpd_client_connection_count_limit = 0
smtpd_client_connection_rate_limit = 0
maillog_file_prefixes = $dir
maillog_file = $dir/pf/maillog
smtputf8_enable = no
biff = no
EOT
{
	while read -r a name; do
		if [ "$name" = none ]; then
			echo "$a:25 inet n - n - - smtpd" \
			    "-o smtpd_tls_security_level=none"
		else
			echo "$a:25 inet n - n - - smtpd" \
			    "-o smtpd_tls_chain_files=$dir/$name.key,$dir/$name.pem"
		fi
	done < "$dir/smtp.listen"
	cat <<EOT
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
local     unix  -       n       n       -       -       local
virtual   unix  -       n       n       -       -       virtual
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
EOT
} > "$conf/master.cf"

postfix -c "$conf" check >"$dir/pf/check.log" 2>&1 || {
	cat "$dir/pf/check.log" >&2
	exit 1
}
postfix -c "$conf" start >"$dir/pf/start.log" 2>&1 || {
	cat "$dir/pf/start.log" >&2
	exit 1
}
# every smtpd answers 220
while read -r a name; do
	i=0
	until python3 -c "import socket,sys; s=socket.create_connection(('$a', 25), 1); sys.exit(0 if s.recv(64).startswith(b'220') else 1)" 2>/dev/null; do
		i=$((i + 1))
		[ $i -lt 100 ] || {
			echo "smtp.sh: no 220 on $a:25; see $dir/pf/maillog" >&2
			exit 1
		}
		sleep 0.1
	done
done < "$dir/smtp.listen"
