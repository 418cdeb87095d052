/*
 * cmd_readiness.c -- tlsrpt readiness --domain D: may this domain move
 * its MTA-STS policy from mode testing to enforce?  Its options, and the
 * assembly of the model (model/readiness.c weighs the checks: a verdict,
 * READY, NOT READY or INSUFFICIENT DATA, with the reasons behind it and
 * what to do next) and its writers (readiness_out.c).
 *
 * Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
 */

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_reports.h"
#include "cli.h"
#include "readiness.h"
#include "tlsrpt_limits.h"
#include "util.h"
#include "writers.h"

enum {
	OPT_MIN_DAYS = 1000,
	OPT_MIN_REPORTERS,
	OPT_MAX_RATE,
	OPT_LIVE,
	OPT_RESOLVER,
	OPT_CA_FILE,
	OPT_TRUST_ANCHOR,
	OPT_TIMEOUT,
};

static const char usage_text[] =
"usage: tlsrpt readiness --domain D [--days N (14) | --since WHEN]\n"
"                        [--until WHEN] [--min-days N (7)]\n"
"                        [--min-reporters N (2)] [--max-failure-rate R (0)]\n"
"                        [--format text|json] [--db C]\n"
"\n"
"Whether domain D, in MTA-STS mode testing, can switch to enforce.  In\n"
"testing mode every reported failure is a session that enforce would\n"
"have refused (RFC 8461 §5).  Looks at the reports of the window and\n"
"says READY, NOT READY or INSUFFICIENT DATA, with each reason and what to\n"
"do next:\n"
"  coverage  days with reports and distinct reporters (--min-days,\n"
"            --min-reporters);\n"
"  policy    the policies senders applied (P1 is the newest) and, when\n"
"            reporters disagree (a change in flight), who applied which;\n"
"  refusals  sessions enforce would refuse (starttls-not-supported,\n"
"            certificate-*, validation-failure, sts-webpki-invalid under an\n"
"            sts policy) by MX and result type, against\n"
"            --max-failure-rate (a fraction: 0.001 is 0.1%);\n"
"  mx        MX host names in the reports that the policy's mx patterns\n"
"            do not cover (RFC 8461 §4.1: \"*.\" covers one label);\n"
"  problems  of the policy string: missing fields, max_age out of range,\n"
"            mode none.\n"
"\n"
WINDOW_HELP
"     --min-days N          days with reports wanted (default 7)\n"
"     --min-reporters N     distinct reporters wanted (default 2)\n"
"     --max-failure-rate R  refused sessions allowed, 0 to 1 (default 0)\n"
"     --live                also check the live setup now (tlsrpt check):\n"
"                           READY only when it has no critical finding\n"
"                           and reporters apply the live policy\n"
"     --resolver ADDR[@PORT], --ca-file PEM, --trust-anchor FILE|none,\n"
"     --timeout SEC         for --live, as for tlsrpt check\n"
"\n"
"TLSRPT_NOW (an RFC 3339 date-time) replaces the clock, for tests.\n"
"\n"
"Exit status: 0 READY, 1 INSUFFICIENT DATA, 2 NOT READY, 3 could not run.\n";

int
cmd_readiness(int argc, char **argv)
{
	static const struct option longopts[] = {
		WINDOW_LONGOPTS,
		{ "min-days", required_argument, NULL, OPT_MIN_DAYS },
		{ "min-reporters", required_argument, NULL,
		    OPT_MIN_REPORTERS },
		{ "max-failure-rate", required_argument, NULL, OPT_MAX_RATE },
		{ "live", no_argument, NULL, OPT_LIVE },
		{ "resolver", required_argument, NULL, OPT_RESOLVER },
		{ "ca-file", required_argument, NULL, OPT_CA_FILE },
		{ "trust-anchor", required_argument, NULL, OPT_TRUST_ANCHOR },
		{ "timeout", required_argument, NULL, OPT_TIMEOUT },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct query_opts	 q;
	struct rd_limits	 lim;
	struct readiness	 rd;
	struct store		*st = NULL;
	enum rd_verdict		 v;
	int			 ch, r, rc = EXIT_NORUN, live = 0;
	int64_t			 now, tmo;
	struct live_opts	 lo;
	char			*end;

	memset(&q, 0, sizeof(q));
	memset(&rd, 0, sizeof(rd));
	memset(&lo, 0, sizeof(lo));
	lo.timeout_ms = LIM_LIVE_TIMEOUT_SEC * 1000;
	lo.smtp = 1;
	lo.smtp_port = 25;
	rd_limits_default(&lim);
	while ((ch = getopt_long(argc, argv, WINDOW_OPTSTRING "h", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'h':
			fputs(usage_text, stdout);
			return EXIT_OK;
		case OPT_MIN_DAYS:
			if (util_strtoi64(optarg, 0, 36600, &lim.min_days) ==
			    -1)
				return cli_fail("--min-days: \"%s\" is not a "
				    "number of days", optarg);
			continue;
		case OPT_MIN_REPORTERS:
			if (util_strtoi64(optarg, 0, 1000000,
			    &lim.min_reporters) == -1)
				return cli_fail("--min-reporters: \"%s\" is "
				    "not a number", optarg);
			continue;
		case OPT_MAX_RATE:
			lim.max_failure_rate = strtod(optarg, &end);
			if (*optarg == '\0' || *end != '\0' ||
			    !(lim.max_failure_rate >= 0.0 &&
			    lim.max_failure_rate <= 1.0))
				return cli_fail("--max-failure-rate: \"%s\" is "
				    "not a fraction from 0 to 1 (0.01 is 1%%)",
				    optarg);
			continue;
		case OPT_LIVE:
			live = 1;
			continue;
		case OPT_RESOLVER:
			lo.resolver = optarg;
			continue;
		case OPT_CA_FILE:
			lo.ca_file = optarg;
			continue;
		case OPT_TRUST_ANCHOR:
			lo.trust_anchor = optarg;
			continue;
		case OPT_TIMEOUT:
			if (util_strtoi64(optarg, 1, LIM_LIVE_TIMEOUT_MAX_SEC,
			    &tmo) == -1)
				return cli_fail("--timeout: \"%s\" is not a "
				    "number of seconds from 1 to %d", optarg,
				    LIM_LIVE_TIMEOUT_MAX_SEC);
			lo.timeout_ms = (int)tmo * 1000;
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
		return cli_fail("readiness takes no arguments (\"%s\"); see "
		    "tlsrpt readiness --help", argv[optind]);
	if (q.win.ndomains != 1)
		return cli_fail("readiness needs exactly one --domain");
	if (q.format == FMT_CSV)
		return cli_fail("readiness: --format is text or json");
	if (q.days == 0 && !q.since_set)
		q.days = RD_DEFAULT_DAYS;
	if (cli_now(&now) == -1 || window_finish(&q, now) == -1)
		return EXIT_NORUN;
	if ((st = cli_open_store(q.db, 1)) == NULL)
		return EXIT_NORUN;
	if ((r = readiness_compute(st, &q.win, &lim, &rd)) == -1) {
		cli_fail("%s", store_errstr(st));
		goto out;
	}
	if (r == -2 || rd.ndomains != 1) {
		cli_fail("readiness: out of memory");
		goto out;
	}
	if (live && q.format == FMT_JSON)
		fputs("{\"readiness\": ", stdout);
	if (q.format == FMT_JSON)
		readiness_json(&rd, &rd.domains[0], stdout);
	else
		readiness_text(&rd, &rd.domains[0], stdout);
	v = rd.domains[0].ev.verdict;
	rc = v == RD_READY ? EXIT_OK : v == RD_INSUFFICIENT ? EXIT_WARN :
	    EXIT_CRIT;
	if (live)
		rc = readiness_live(st, &lo, q.win.domains[0],
		    rd.lim.window_days, now, q.format == FMT_JSON, rc);
	if (fflush(stdout) == EOF || ferror(stdout))
		rc = cli_fail("cannot write the verdict to stdout");
 out:
	readiness_free(&rd);
	store_close(st);
	return rc;
}
