#!/bin/sh
# run-sanitized.sh -- run the suite built with ASan + UBSan and fail on any
# sanitizer report, leaks included.  Criterion runs each test in a child
# process and does not turn LeakSanitizer's exit status into a failure, so
# the reports are looked for in the output.
#
# Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
set -u
log=$(mktemp "${TMPDIR:-/tmp}/tlsrpt-san.XXXXXX")
trap 'rm -f "$log"' EXIT
"$@" 2>&1 | tee "$log"

set -- $(sed -n 's/.*Synthesis: .*Failing: \([0-9]*\) | Crashing: \([0-9]*\).*/\1 \2/p' "$log")
if [ $# -ne 2 ]; then
	echo "run-sanitized: no Criterion summary line: the suite did not run" >&2
	exit 1
fi
if [ "$1" != 0 ] || [ "$2" != 0 ]; then
	exit 1
fi
if grep -Eq "ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:" "$log"; then
	echo "run-sanitized: sanitizer reports above: failing" >&2
	exit 1
fi
exit 0
