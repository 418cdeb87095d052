#!/bin/sh
# postfix.sh -- a private Postfix instance on loopback for the milter
# tests and the bench: its own config, queue and data directories under
# DIR, smtpd on 127.0.0.1:PORT with smtpd_milters = MILTER, delivery of
# the domain tlsrpt.test to one Maildir per recipient under DIR/mail.
#
# Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
#
# Usage: tests/milter/postfix.sh start DIR PORT MILTER [ACTION]
#        tests/milter/postfix.sh stop DIR
#        tests/milter/postfix.sh flush DIR	(retry the deferred mail now)
#
# MILTER is in Postfix syntax: inet:127.0.0.1:8895 or unix:/path.
# Recipients: tlsrpt@tlsrpt.test, user@tlsrpt.test, other@tlsrpt.test.
# Needs root (Postfix's master runs as root; children as "postfix").
# Exit 3 when Postfix is not installed.  The system's own Postfix is not
# touched and need not run.
set -eu

cmd=${1:-}
dir=${2:-}
[ -n "$cmd" ] && [ -n "$dir" ] || {
	echo "usage: $0 start|stop|flush DIR [PORT MILTER]" >&2
	exit 2
}
command -v postfix >/dev/null 2>&1 || [ -x /usr/sbin/postfix ] || {
	echo "postfix.sh: postfix is not installed" >&2
	exit 3
}
PATH=/usr/sbin:/usr/bin:/sbin:/bin:$PATH
conf=$dir/etc

case $cmd in
stop)
	[ -f "$conf/main.cf" ] || exit 0
	postfix -c "$conf" stop >/dev/null 2>&1 || true
	# master's children go with it; wait for the pid file to clear
	i=0
	while [ -f "$dir/queue/pid/master.pid" ] && [ $i -lt 50 ]; do
		pid=$(tr -d ' ' < "$dir/queue/pid/master.pid" 2>/dev/null || true)
		[ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
		i=$((i + 1))
	done
	if [ -f "$dir/queue/pid/master.pid" ]; then
		pid=$(tr -d ' ' < "$dir/queue/pid/master.pid" 2>/dev/null || true)
		[ -n "$pid" ] && kill -9 "$pid" 2>/dev/null || true
	fi
	exit 0
	;;
flush)
	postqueue -c "$conf" -f
	exit 0
	;;
start)
	;;
*)
	echo "postfix.sh: unknown command $cmd" >&2
	exit 2
	;;
esac

port=${3:?port}
milter=${4:?milter}
mkdir -p "$conf" "$dir/queue" "$dir/data" "$dir/mail"
chown postfix "$dir/data"
chown nobody:nogroup "$dir/mail"
printf 'tlsrpt@tlsrpt.test tlsrpt/\nuser@tlsrpt.test user/\nother@tlsrpt.test other/\n' \
    > "$conf/vmailbox"

cat > "$conf/main.cf" <<EOT
compatibility_level = 3.6
config_directory = $conf
queue_directory = $dir/queue
data_directory = $dir/data
mail_owner = postfix
setgid_group = postdrop
myhostname = mx.tlsrpt.test
mydomain = tlsrpt.test
myorigin = tlsrpt.test
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
smtpd_peername_lookup = no
smtp_host_lookup = native
disable_dns_lookups = yes
relayhost =
local_recipient_maps =
alias_maps =
alias_database =
virtual_mailbox_domains = tlsrpt.test
virtual_mailbox_base = $dir/mail
virtual_mailbox_maps = texthash:$conf/vmailbox
virtual_uid_maps = static:$(id -u nobody)
virtual_gid_maps = static:$(id -g nobody)
virtual_minimum_uid = 1
smtpd_milters = $milter
non_smtpd_milters =
milter_default_action = tempfail
milter_protocol = 6
milter_connect_timeout = 5s
milter_command_timeout = 30s
milter_content_timeout = 60s
message_size_limit = 52428800
virtual_mailbox_limit = 0
smtpd_client_connection_count_limit = 0
smtpd_client_connection_rate_limit = 0
default_process_limit = 100
maillog_file_prefixes = $dir
maillog_file = $dir/maillog
in_flow_delay = 0
queue_run_delay = 300s
minimal_backoff_time = 300s
maximal_backoff_time = 600s
smtputf8_enable = no
biff = no
EOT

cat > "$conf/master.cf" <<EOT
127.0.0.1:$port inet n - n - - smtpd
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
EOT

postfix -c "$conf" check >"$dir/check.log" 2>&1 || {
	cat "$dir/check.log" >&2
	exit 1
}
postfix -c "$conf" start >"$dir/start.log" 2>&1 || {
	cat "$dir/start.log" >&2
	exit 1
}
# wait for smtpd to answer
i=0
while [ $i -lt 300 ]; do	# 30 s: a loaded machine
	if python3 -c "import socket,sys; s=socket.create_connection(('127.0.0.1', $port), 1); sys.exit(0 if s.recv(64).startswith(b'220') else 1)" 2>/dev/null; then
		exit 0
	fi
	sleep 0.1
	i=$((i + 1))
done
echo "postfix.sh: no 220 on 127.0.0.1:$port; see $dir/maillog" >&2
exit 1
