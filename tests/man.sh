#!/bin/sh
# man.sh -- the man pages: `mandoc -Tlint` clean, and every option each
# program's --help shows is documented in its page (run by `make check`
# before the suite).
#
# Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
#
# Usage: tests/man.sh [TLSRPT TLSRPT-HTTPD TLSRPT-MILTER [TLSRPT-WEB]]
#        (default bin/*)
#
# Options are taken from each --help: the "usage:" lines and the option
# lines ("  --name ...", " -n, --name ...").  An option of
#   tlsrpt --help             must be marked up (Fl -name) in man/tlsrpt.1;
#   tlsrpt COMMAND --help     in the ".Ss tlsrpt COMMAND" block of
#                             man/tlsrpt.1, or in a block that block refers
#                             to with ".Sx" (e.g. "Window options");
#   tlsrpt-httpd --help       in man/tlsrpt-httpd.8 (OPTIONS);
#   tlsrpt-milter --help      in man/tlsrpt-milter.8 (OPTIONS);
#   tlsrpt-web --help         in man/tlsrpt-web.8 (OPTIONS).
# Every command that tlsrpt --help lists needs its ".Ss tlsrpt COMMAND".
# Each miss is one line naming the program, the option and the page.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
cli=${1:-bin/tlsrpt}
httpd=${2:-bin/tlsrpt-httpd}
milter=${3:-bin/tlsrpt-milter}
web=${4:-bin/tlsrpt-web}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/tlsrpt-man.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM
fails=0

fail() {
	echo "tests/man.sh: FAIL: $*" >&2
	fails=$((fails + 1))
}

# 1. mandoc -Tlint, every level.  A cross-reference to one of our own
# pages is found only once they are installed in the system's manpath,
# so that one message, for our pages only, is not a fault.
for p in man/tlsrpt.1 man/tlsrpt.conf.5 man/tlsrpt-httpd.8 \
    man/tlsrpt-milter.8 man/tlsrpt-web.8; do
	[ -f "$p" ] || fail "$p is missing"
done
mandoc -Tlint man/*.[1-8] > "$tmp/lint" 2>&1 || true
grep -v -E 'STYLE: referenced manual not found: Xr (tlsrpt|tlsrpt-httpd|tlsrpt-milter|tlsrpt-web|tlsrpt\.conf) [158]( \([0-9]+ times\))?$' \
    "$tmp/lint" | grep -v 'outdated mandoc.db' > "$tmp/lint.left" || true
if [ -s "$tmp/lint.left" ]; then
	fail "mandoc -Tlint man/*:"
	sed 's/^/  /' "$tmp/lint.left" >&2
fi

# The options of one --help text (file $1): "--name" and "-x", one a line.
help_opts() {
	awk '
	/^usage:/ { inusage = 1 }
	inusage && /^$/ { inusage = 0 }
	inusage || /^ *(-[A-Za-z], *)?--[a-z]/ { print }
	' "$1" | grep -o -E '(^|[][ (|,])--?[A-Za-z][A-Za-z0-9-]*' |
	    sed 's/^[][ (|,]//' | grep -v -x -e --option | sort -u
}

# The mdoc source of a block: lines from the one matching $2 (an ERE) to
# the next .Ss or .Sh, from page $1.
block() {
	awk -v re="$2" '
	on && /^\.(Ss|Sh) / { on = 0 }
	$0 ~ re { on = 1 }
	on { print }
	' "$1"
}

# Is option $1 marked up with Fl in the text on stdin?
has_opt() {
	case $1 in
	--*)	n=${1#--}; grep -q -E "Fl -$n([^A-Za-z0-9-]|\$)" ;;
	-*)	n=${1#-}; grep -q -E "Fl $n([^A-Za-z0-9-]|\$)" ;;
	esac
}

check_opts() {	# program-label helpfile page text-file where
	for o in $(help_opts "$2"); do
		if ! has_opt "$o" < "$4"; then
			fail "$1: option $o (in its --help) is missing from $3$5"
		fi
	done
}

# 2. tlsrpt and each of its commands.
"$cli" --help > "$tmp/help" || fail "$cli --help failed"
check_opts "tlsrpt" "$tmp/help" man/tlsrpt.1 man/tlsrpt.1 ""
cmds=$(awk '/Commands:/ { on = 1; next } on && /^$/ && n { exit }
    on && /^  [a-z]/ { print $1; n++ }' "$tmp/help")
[ -n "$cmds" ] || fail "no commands found in tlsrpt --help"
for c in $cmds; do
	if ! grep -q -E "^\.Ss \"?tlsrpt $c\"?\$" man/tlsrpt.1; then
		fail "tlsrpt $c: command missing from man/tlsrpt.1 (no \".Ss tlsrpt $c\")"
		continue
	fi
	"$cli" "$c" --help > "$tmp/help.$c" ||
	    fail "tlsrpt $c --help failed"
	block man/tlsrpt.1 "^\\.Ss \"?tlsrpt $c\"?\$" > "$tmp/block.$c"
	# the blocks it refers to: .Sx Name, .Sx "Two words"
	sed -n 's/^\.Sx "\{0,1\}\([^"]*[^" .,;:]\)"\{0,1\}\( [.,;:)]*\)*$/\1/p' \
	    "$tmp/block.$c" | sort -u | while read -r ref; do
		block man/tlsrpt.1 "^\\.S[sh] \"?$ref\"?\$"
	done >> "$tmp/block.$c"
	check_opts "tlsrpt $c" "$tmp/help.$c" man/tlsrpt.1 "$tmp/block.$c" \
	    " (section \"tlsrpt $c\" and the blocks it refers to)"
done

# 3. The daemons.
"$httpd" --help > "$tmp/help.httpd" || fail "$httpd --help failed"
block man/tlsrpt-httpd.8 '^\.Sh OPTIONS' > "$tmp/block.httpd"
check_opts "tlsrpt-httpd" "$tmp/help.httpd" man/tlsrpt-httpd.8 \
    "$tmp/block.httpd" " (OPTIONS)"
"$milter" --help > "$tmp/help.milter" || fail "$milter --help failed"
block man/tlsrpt-milter.8 '^\.Sh OPTIONS' > "$tmp/block.milter"
check_opts "tlsrpt-milter" "$tmp/help.milter" man/tlsrpt-milter.8 \
    "$tmp/block.milter" " (OPTIONS)"

"$web" --help > "$tmp/help.web" || fail "$web --help failed"
block man/tlsrpt-web.8 '^\.Sh OPTIONS' > "$tmp/block.web"
check_opts "tlsrpt-web" "$tmp/help.web" man/tlsrpt-web.8 "$tmp/block.web" \
    " (OPTIONS)"

if [ "$fails" -ne 0 ]; then
	echo "tests/man.sh: $fails failure(s)" >&2
	exit 1
fi
echo "tests/man.sh: man pages lint clean, every --help option documented"
