#!/bin/sh
# run-suite.sh -- run one Criterion suite; when it fails, repeat its failed
# assertions and failed tests after the summary line, so that the tail of a
# long CI log names them.  With --sanitized (the ASan + UBSan build) it also
# fails on any sanitizer report, leaks included: Criterion runs each test in
# a child process and does not turn LeakSanitizer's exit status into a
# failure, so the reports are looked for in the output.
#
# Usage: run-suite.sh [--sanitized] SUITE [CRITERION-OPTIONS...]
#
# Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
set -u
san=0
if [ "${1:-}" = --sanitized ]; then
	san=1
	shift
fi
log=$(mktemp "${TMPDIR:-/tmp}/tlsrpt-suite.XXXXXX")
trap 'rm -f "$log" "$log.rc"' EXIT
{ "$@" 2>&1; echo $? >"$log.rc"; } | tee "$log"
rc=$(cat "$log.rc")

recap() {
	echo "run-suite: $1; the failures of $(basename "$2"):" >&2
	sed 's/\x1b\[[0-9;]*m//g' "$log" |
	    grep -E '^\[(----|FAIL)\]|ERROR: (Address|Leak)Sanitizer|runtime error:' |
	    tail -n 60 >&2
}
set -- "$1" $(sed -n 's/.*Synthesis: .*Failing: \([0-9]*\) | Crashing: \([0-9]*\).*/\1 \2/p' "$log")
if [ $# -ne 3 ]; then
	echo "run-suite: no Criterion summary line: $1 did not run (exit $rc)" >&2
	exit 1
fi
if [ "$2" != 0 ] || [ "$3" != 0 ] || [ "$rc" != 0 ]; then
	recap "$2 failing, $3 crashing, exit $rc" "$1"
	exit 1
fi
if [ $san = 1 ] && grep -Eq "ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:" "$log"; then
	recap "sanitizer reports" "$1"
	exit 1
fi
exit 0
