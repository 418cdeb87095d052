#!/bin/sh
# check-layering.sh -- `make check-layering`: fail when a file includes a
# header its layer may not see (DESIGN.md, "Layout").
#
# The compiler enforces most of it already (each directory is compiled
# with the include paths of its own libraries only, see the Makefile);
# this names the offending line, and also catches what an include path
# cannot: a private *_int.h used outside its directory, or a library
# header that a system include path makes visible to everyone.
#
# Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
set -eu
cd "$(dirname "$0")/.."

# The project headers each layer may include, by directory.
layer_dirs() {
	case $1 in
	common)		echo "common" ;;
	ingest)		echo "common ingest" ;;
	store)		echo "common ingest store" ;;
	dkim)		echo "common ingest dkim" ;;
	collector)	echo "common ingest store dkim collector" ;;
	model)		echo "common ingest store model" ;;
	live)		echo "common ingest live" ;;
	report-cli)	echo "common ingest store dkim model live report-cli" ;;
	web)		echo "common ingest store model collector web" ;;
	*)		echo "" ;;
	esac
}

# The library headers a file may include: "prefix:who" pairs, where who
# is a shell pattern over the file's path.  A library not listed here is
# free for every layer (libc, POSIX).
LIBS="
libpq-fe.h:store/*
microhttpd.h:collector/http*|web/*
gnutls/:collector/http*|live/*|web/*
unbound.h:live/*
crypt.h:web/web_auth.c
libmilter/:collector/milter*
opendkim/:dkim/*
criterion/:tests/*
json-c/:ingest/*
zlib.h:ingest/*
gmime/:ingest/*|report-cli/digest_mime.c
glib.h:ingest/*|report-cli/digest_mime.c
nettle/:ingest/*|store/*|collector/*|dkim/*
"

fail=0
complain() {
	echo "check-layering: $1" >&2
	fail=1
}

{
for dir in common ingest store dkim collector model live report-cli web; do
	[ -d "$dir" ] || continue
	allowed=$(layer_dirs "$dir")
	for f in "$dir"/*.c "$dir"/*.h; do
		[ -f "$f" ] || continue
		grep -n '^[[:space:]]*#[[:space:]]*include' "$f" |
		    sed 's/^\([0-9]*\):[^"<]*\([<"]\)\([^">]*\)[">].*/\1 \2 \3/' |
		    while read -r line kind hdr; do
			if [ "$kind" = '"' ]; then
				# a header of ours: whose directory is it?
				owner=""
				for d in common ingest store dkim collector \
				    model live report-cli web; do
					[ -f "$d/$hdr" ] && owner=$d && break
				done
				[ -n "$owner" ] || continue	# generated
				case " $allowed " in
				*" $owner "*) ;;
				*) echo "$f:$line: $dir/ may not include" \
				    "$owner/$hdr" ;;
				esac
				case $hdr in
				*_int.h)
					[ "$owner" = "$dir" ] ||
					    echo "$f:$line: $hdr is private" \
						"to $owner/" ;;
				esac
				continue
			fi
			for rule in $LIBS; do
				prefix=${rule%%:*}
				who=${rule#*:}
				case $hdr in
				"$prefix"*) ;;
				*) continue ;;
				esac
				ok=0
				oldifs=$IFS
				IFS='|'
				for pat in $who; do
					# shellcheck disable=SC2254
					case $f in $pat) ok=1 ;; esac
				done
				IFS=$oldifs
				[ "$ok" = 1 ] ||
				    echo "$f:$line: <$hdr> is for $who only"
			done
		done
	done
done

	# tests/unit/ and tests/lib/ need no database, no network, no daemon:
	# not libpq, libmicrohttpd or GnuTLS, not the helpers of
	# tests/integration/ (PostgreSQL, the daemons)
	for f in tests/unit/*.c tests/unit/*.h tests/lib/*.c tests/lib/*.h; do
		[ -f "$f" ] || continue
		grep -n '^[[:space:]]*#[[:space:]]*include' "$f" |
		    sed 's/^\([0-9]*\):[^"<]*\([<"]\)\([^">]*\)[">].*/\1 \3/' |
		    while read -r line hdr; do
			case $hdr in
			libpq-fe.h|microhttpd.h|gnutls/*)
				echo "$f:$line: <$hdr> is for" \
				    "tests/integration/ only" ;;
			*)
				if [ "${hdr#*/}" = "$hdr" ] &&
				    [ -f "tests/integration/$hdr" ]; then
					echo "$f:$line: $hdr is for" \
					    "tests/integration/ only"
				fi ;;
			esac
		done
	done
} > "${TMPDIR:-/tmp}/check-layering.$$" 2>&1
if [ -s "${TMPDIR:-/tmp}/check-layering.$$" ]; then
	while read -r msg; do
		complain "$msg"
	done < "${TMPDIR:-/tmp}/check-layering.$$"
fi
rm -f "${TMPDIR:-/tmp}/check-layering.$$"
# web/: of collector/ the option engine and the daemon helpers only (not
# the spool, the worker or a front)
for f in web/*.[ch]; do
	[ -f "$f" ] || continue
	grep -n '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' "$f" |
	    sed 's/^\([0-9]*\):[^"]*"\([^"]*\)".*/\1 \2/' |
	    while read -r line hdr; do
		[ -f "collector/$hdr" ] || continue
		case $hdr in
		core_conf.h|core_daemon.h) ;;
		*) echo "$f:$line: web/ may include collector/core_conf.h" \
		    "and core_daemon.h only, not $hdr" ;;
		esac
	done
done > "${TMPDIR:-/tmp}/check-layering.$$" 2>&1
while read -r msg; do
	complain "$msg"
done < "${TMPDIR:-/tmp}/check-layering.$$"
rm -f "${TMPDIR:-/tmp}/check-layering.$$"
[ "$fail" = 0 ] && echo "check-layering: every include is within its layer"
exit "$fail"
