/*
 * cmd_failures.c -- tlsrpt failures: its options, and the assembly of the
 * model (model/failures.c: failed sessions grouped by result type, MX,
 * reporter, sending or receiving IP, any combination, with their share of
 * the domain's sessions, reporters, first and last day seen and the most
 * frequent failure-reason-codes) and its writers (failures_out.c).
 *
 * Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
 */

#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "failures.h"
#include "writers.h"

static const char usage_text[] =
"usage: tlsrpt failures [--by KEY[,KEY...]] [--days N | --since WHEN]\n"
"                       [--until WHEN] [--domain D ...]\n"
"                       [--format text|json|csv] [--db C]\n"
"\n"
"Failed sessions per policy domain, grouped by KEYs (default result-type):\n"
"  result-type   the RFC 8460 result type\n"
"  mx            the receiving MX host name\n"
"  reporter      the organization that sent the report\n"
"  sending-ip    the sending MTA's address\n"
"  receiving-ip  the receiving MX's address\n"
"Each row: failed sessions, their share of all the domain's sessions in\n"
"the window, how many reporters saw them (and which, most first), the\n"
"first and last day they were seen, and the most frequent\n"
"failure-reason-codes.  Figures come from the failure details of the\n"
"policies the session accounting rule counts.\n"
"\n"
WINDOW_HELP
"     --by KEYS      comma-separated keys, or repeat --by\n"
"\n"
"Exit status: 0 no failures, 1 only warning-level result types shown,\n"
"2 critical result types shown, 3 could not run.\n";

/* --by ARG into by; -1 after saying which key is wrong. */
static int
parse_by(const char *arg, struct failures_by *by)
{
	const char	*bad;
	size_t		 len;

	if (failures_parse_by(by, arg, &bad, &len) == 0)
		return 0;
	cli_fail("--by: \"%.*s\" is not result-type, mx, reporter, sending-ip "
	    "or receiving-ip", (int)len, bad);
	return -1;
}

int
cmd_failures(int argc, char **argv)
{
	static const struct option longopts[] = {
		WINDOW_LONGOPTS,
		{ "by", required_argument, NULL, 'b' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct query_opts	 q;
	struct store		*st = NULL;
	struct failures_by	 by;
	struct failures		 fs;
	int			 ch, r, rc = EXIT_NORUN;
	int64_t			 now;

	memset(&q, 0, sizeof(q));
	memset(&by, 0, sizeof(by));
	memset(&fs, 0, sizeof(fs));
	while ((ch = getopt_long(argc, argv, WINDOW_OPTSTRING "b:h", longopts,
	    NULL)) != -1) {
		if (ch == 'h') {
			fputs(usage_text, stdout);
			return EXIT_OK;
		}
		if (ch == 'b') {
			if (parse_by(optarg, &by) == -1)
				return EXIT_NORUN;
			continue;
		}
		if ((r = window_option(&q, ch, optarg)) == -1)
			return EXIT_NORUN;
		if (r == 0) {
			fputs(usage_text, stderr);
			return EXIT_NORUN;
		}
	}
	if (optind != argc)
		return cli_fail("failures takes no arguments (\"%s\"); see "
		    "tlsrpt failures --help", argv[optind]);
	if (by.nkeys == 0 && parse_by("result-type", &by) == -1)
		return EXIT_NORUN;		/* not reached */
	if (cli_now(&now) == -1 || window_finish(&q, now) == -1)
		return EXIT_NORUN;
	if ((st = cli_open_store(q.db, 1)) == NULL)
		return EXIT_NORUN;
	if ((r = failures_compute(st, &q.win, &by, FAILURES_REASONS_MAX,
	    &fs)) == -1) {
		cli_fail("%s", store_errstr(st));
		goto out;
	}
	if (r == -2) {
		cli_fail("out of memory");
		goto out;
	}
	if (q.format == FMT_JSON)
		failures_json(&fs, stdout);
	else if (q.format == FMT_CSV)
		failures_csv(&fs, stdout);
	else
		failures_text(&fs, stdout);
	rc = (int)fs.worst;		/* EXIT_OK, EXIT_WARN, EXIT_CRIT */
	if (fflush(stdout) == EOF || ferror(stdout))
		rc = cli_fail("cannot write the failures to stdout");
 out:
	failures_free(&fs);
	store_close(st);
	return rc;
}
