/*
 * cmd_summary.c -- tlsrpt summary: its options, and the assembly of the
 * model (model/summary.c: per policy domain over a window, reports,
 * reporters, sessions, failure rate, failed sessions per result type,
 * flags with severity and meaning) and its writers (summary_out.c).
 *
 * Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
 */

#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "summary.h"
#include "writers.h"

static const char usage_text[] =
"usage: tlsrpt summary [--days N | --since WHEN] [--until WHEN]\n"
"                      [--domain D ...] [--format text|json|csv] [--db C]\n"
"                      [--trusted-only]\n"
"\n"
"For each policy domain: the reports received over the window (a report\n"
"belongs to it when its date-range starts in [since, until)), distinct\n"
"reporters, successful and failed sessions, the failure rate, the failed\n"
"sessions per result type, and flags.  Sessions follow the accounting rule\n"
"of RFC 8460 as senders apply it: policies of the same type add up, an sts\n"
"and a tlsa entry for the same domain describe the same sessions once.\n"
"\n"
"Flags: critical for what refuses or endangers mail under an enforced\n"
"policy or signals an attack (starttls-not-supported, certificate-*,\n"
"validation-failure, sts-webpki-invalid, tlsa-invalid, dnssec-invalid,\n"
"dane-required); warning for sts-policy-fetch-error, sts-policy-invalid\n"
"and result types RFC 8460 does not name.\n"
"\n"
WINDOW_HELP
"     --trusted-only only reports that came by mail with a passing DKIM\n"
"                    signature of the reporting domain (tlsrpt-milter;\n"
"                    RFC 8460 section 3)\n"
"\n"
"Exit status: 0 nothing to flag, 1 warning flags, 2 critical flags,\n"
"3 could not run.\n";

int
cmd_summary(int argc, char **argv)
{
	static const struct option longopts[] = {
		WINDOW_LONGOPTS,
		{ "trusted-only", no_argument, NULL, 'T' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct query_opts	 q;
	struct store		*st = NULL;
	struct summary		 sm;
	int			 ch, r, rc = EXIT_NORUN;
	int			 trusted_only = 0;
	int64_t			 now;

	memset(&q, 0, sizeof(q));
	memset(&sm, 0, sizeof(sm));
	while ((ch = getopt_long(argc, argv, WINDOW_OPTSTRING "h", longopts,
	    NULL)) != -1) {
		if (ch == 'h') {
			fputs(usage_text, stdout);
			return EXIT_OK;
		}
		if (ch == 'T') {
			trusted_only = 1;
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
		return cli_fail("summary takes no arguments (\"%s\"); see "
		    "tlsrpt summary --help", argv[optind]);
	if (cli_now(&now) == -1 || window_finish(&q, now) == -1)
		return EXIT_NORUN;
	q.win.trusted_only = trusted_only;
	if ((st = cli_open_store(q.db, 1)) == NULL)
		return EXIT_NORUN;
	if ((r = summary_compute(st, &q.win, &sm)) == -1) {
		cli_fail("summary failed: %s", store_errstr(st));
		goto out;
	}
	if (r == -2) {
		cli_fail("out of memory");
		goto out;
	}
	if (q.format == FMT_JSON)
		summary_json(&sm, stdout);
	else if (q.format == FMT_CSV)
		summary_csv(&sm, stdout);
	else
		summary_text(&sm, stdout);
	rc = (int)sm.worst;		/* EXIT_OK, EXIT_WARN, EXIT_CRIT */
	if (fflush(stdout) == EOF || ferror(stdout))
		rc = cli_fail("cannot write the summary to stdout");
 out:
	summary_free(&sm);
	store_close(st);
	return rc;
}
