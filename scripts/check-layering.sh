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
	report-cli)	echo "common ingest store dkim report-cli" ;;
	# model/ and web/ see report-cli/ for the digest and readiness
	# models only, until they move to model/ (issue 9)
	model)		echo "common ingest store model report-cli" ;;
	web)		echo "common ingest store model collector web report-cli" ;;
	*)		echo "" ;;
	esac
}

# The library headers a file may include: "prefix:who" pairs, where who
# is a shell pattern over the file's path.  A library not listed here is
# free for every layer (libc, POSIX).
LIBS="
libpq-fe.h:store/*
microhttpd.h:collector/http*|web/*
gnutls/:collector/http*|web/*
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

for dir in common ingest store dkim collector report-cli model web; do
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
				    report-cli model web; do
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
done > "${TMPDIR:-/tmp}/check-layering.$$" 2>&1
if [ -s "${TMPDIR:-/tmp}/check-layering.$$" ]; then
	while read -r msg; do
		complain "$msg"
	done < "${TMPDIR:-/tmp}/check-layering.$$"
fi
rm -f "${TMPDIR:-/tmp}/check-layering.$$"
# web/ and model/: of collector/ the option engine and the daemon helpers
# only (not the spool or the worker), of report-cli/ the two models only.
for f in web/*.[ch] model/*.[ch]; do
	[ -f "$f" ] || continue
	grep -n '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' "$f" |
	    sed 's/^\([0-9]*\):[^"]*"\([^"]*\)".*/\1 \2/' |
	    while read -r line hdr; do
		if [ -f "collector/$hdr" ]; then
			case $hdr in
			core_conf.h|core_daemon.h) ;;
			*) echo "$f:$line: web/ may include collector/core_conf.h and core_daemon.h only, not $hdr" ;;
			esac
		fi
		if [ -f "report-cli/$hdr" ]; then
			case $hdr in
			digest.h|readiness.h) ;;
			*) echo "$f:$line: $hdr is report-cli's, not a model" ;;
			esac
		fi
	done
done > "${TMPDIR:-/tmp}/check-layering.$$" 2>&1
while read -r msg; do
	complain "$msg"
done < "${TMPDIR:-/tmp}/check-layering.$$"
rm -f "${TMPDIR:-/tmp}/check-layering.$$"
[ "$fail" = 0 ] && echo "check-layering: every include is within its layer"
exit "$fail"
