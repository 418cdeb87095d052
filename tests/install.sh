#!/bin/sh
# install.sh -- `make install` and `make uninstall` into a temporary
# DESTDIR, checked file by file (run by `make check` before the suite).
#
# Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
#
# Checks, for PREFIX=/usr SYSCONFDIR=/etc (a packager's) and for the
# defaults (PREFIX=/usr/local): the exact tree (no file missing, none
# extra), the modes, that the installed programs run, that the installed
# units start the installed binaries with the installed configs, that a
# second install keeps an edited config, and that uninstall leaves
# nothing but an edited config behind.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/tlsrpt-install.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM
fails=0
MK="make --no-print-directory -s"

fail() {
	echo "tests/install.sh: FAIL: $*" >&2
	fails=$((fails + 1))
}

# The files an install must hold, relative to DESTDIR, with their modes.
expected() {	# prefix sysconfdir
	p=$1 e=$2
	echo "755 $p/bin/tlsrpt"
	echo "755 $p/sbin/tlsrpt-httpd"
	echo "755 $p/sbin/tlsrpt-milter"
	echo "755 $p/sbin/tlsrpt-web"
	echo "644 $p/share/man/man1/tlsrpt.1"
	echo "644 $p/share/man/man5/tlsrpt.conf.5"
	echo "644 $p/share/man/man8/tlsrpt-httpd.8"
	echo "644 $p/share/man/man8/tlsrpt-milter.8"
	echo "644 $p/share/man/man8/tlsrpt-web.8"
	echo "644 $p/share/doc/tlsrpt-collector/README.md"
	echo "644 $p/share/doc/tlsrpt-collector/LICENSE"
	for f in contrib/*; do
		echo "644 $p/share/doc/tlsrpt-collector/$f"
	done
	for f in contrib/*.service contrib/*.timer; do
		[ -e "$f" ] || continue
		echo "644 $p/lib/systemd/system/${f#contrib/}"
	done
	echo "640 $e/tlsrpt/tlsrpt-httpd.conf"
	echo "640 $e/tlsrpt/tlsrpt-milter.conf"
	echo "640 $e/tlsrpt/tlsrpt-web.conf"
}

tree() {	# destdir
	(cd "$1" && find . -type f -printf '%m %p\n' | sed 's|^\([0-7]*\) \./|\1 /|' |
	    sort)
}

check_tree() {	# destdir prefix sysconfdir what
	expected "$2" "$3" | sed 's|//*|/|g' | sort > "$tmp/want"
	tree "$1" > "$tmp/got"
	if ! cmp -s "$tmp/want" "$tmp/got"; then
		fail "$4: installed tree differs (- expected, + installed):"
		diff "$tmp/want" "$tmp/got" | sed -n 's/^[<>]/  &/p' >&2
	fi
}

check_units() {	# destdir prefix sysconfdir
	for u in "$1$2"/lib/systemd/system/tlsrpt-httpd.service \
	    "$1$2"/lib/systemd/system/tlsrpt-milter.service \
	    "$1$2"/lib/systemd/system/tlsrpt-web.service; do
		n=$(basename "$u" .service)
		want="ExecStart=$2/sbin/$n --config $3/tlsrpt/$n.conf"
		if ! grep -q "^$want" "$u"; then
			fail "$u: no line starting '$want':"
			grep '^ExecStart' "$u" >&2 || true
		fi
		if grep -v '^#' "$u" | grep -q /usr/local &&
		    [ "$2" != /usr/local ]; then
			fail "$u still names /usr/local outside comments"
		fi
	done
	for u in "$1$2"/lib/systemd/system/*.service; do
		x=$(sed -n 's/^ExecStart=\([^ ]*\).*/\1/p' "$u")
		[ -n "$x" ] || { fail "$u: no ExecStart"; continue; }
		[ -x "$1$x" ] || fail "$u: ExecStart $x is not installed"
	done
	c="$1$3/tlsrpt/tlsrpt-httpd.conf"
	cmp -s "$c" contrib/tlsrpt-httpd.conf.example ||
	    [ "$3" != /etc ] || fail "$c is not contrib's example"
}

check_runs() {	# destdir prefix
	v=$("$1$2/bin/tlsrpt" --version) || fail "installed tlsrpt --version"
	case $v in "tlsrpt "*) ;; *) fail "tlsrpt --version said '$v'" ;; esac
	"$1$2/sbin/tlsrpt-httpd" --help >/dev/null ||
	    fail "installed tlsrpt-httpd --help"
	"$1$2/sbin/tlsrpt-milter" --help >/dev/null ||
	    fail "installed tlsrpt-milter --help"
	"$1$2/sbin/tlsrpt-web" --help >/dev/null ||
	    fail "installed tlsrpt-web --help"
}

# 1. A packager's layout.
d="$tmp/pkg"
$MK install DESTDIR="$d" PREFIX=/usr SYSCONFDIR=/etc > "$tmp/log" 2>&1 ||
    { cat "$tmp/log" >&2; fail "make install PREFIX=/usr failed"; }
check_tree "$d" /usr /etc "PREFIX=/usr SYSCONFDIR=/etc"
check_units "$d" /usr /etc
check_runs "$d" /usr

# An edited config survives a second install and the uninstall.
echo "# edited by the operator" >> "$d/etc/tlsrpt/tlsrpt-milter.conf"
cp "$d/etc/tlsrpt/tlsrpt-milter.conf" "$tmp/edited"
$MK install DESTDIR="$d" PREFIX=/usr SYSCONFDIR=/etc > "$tmp/log" 2>&1 ||
    { cat "$tmp/log" >&2; fail "second make install failed"; }
cmp -s "$tmp/edited" "$d/etc/tlsrpt/tlsrpt-milter.conf" ||
    fail "a second make install overwrote an edited config"
grep -q "tlsrpt-milter.conf exists, kept" "$tmp/log" ||
    fail "make install did not say it kept the edited config"
$MK uninstall DESTDIR="$d" PREFIX=/usr SYSCONFDIR=/etc > "$tmp/log" 2>&1 ||
    { cat "$tmp/log" >&2; fail "make uninstall failed"; }
left=$(tree "$d")
[ "$left" = "640 /etc/tlsrpt/tlsrpt-milter.conf" ] ||
    fail "after uninstall, expected only the edited config, found: $left"
cmp -s "$tmp/edited" "$d/etc/tlsrpt/tlsrpt-milter.conf" ||
    fail "make uninstall changed an edited config"

# 2. The defaults: PREFIX=/usr/local, SYSCONFDIR=/usr/local/etc.
d="$tmp/default"
$MK install DESTDIR="$d" > "$tmp/log" 2>&1 ||
    { cat "$tmp/log" >&2; fail "make install (defaults) failed"; }
check_tree "$d" /usr/local /usr/local/etc "defaults"
check_units "$d" /usr/local /usr/local/etc
check_runs "$d" /usr/local
$MK uninstall DESTDIR="$d" > "$tmp/log" 2>&1 ||
    { cat "$tmp/log" >&2; fail "make uninstall (defaults) failed"; }
left=$(tree "$d")
[ -z "$left" ] || fail "after uninstall (defaults), files left: $left"

if [ "$fails" -ne 0 ]; then
	echo "tests/install.sh: $fails failure(s)" >&2
	exit 1
fi
echo "tests/install.sh: make install and uninstall: ok"
