/*
 * cmd_readiness.c -- tlsrpt readiness --domain D: may this domain move
 * its MTA-STS policy from mode testing to enforce?  A verdict, READY,
 * NOT READY or INSUFFICIENT DATA, with the reasons behind it and what to
 * do next (readiness.c weighs them).
 *
 * Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
 */

#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_reports.h"
#include "cli.h"
#include "ingest.h"
#include "readiness.h"
#include "tlsrpt_limits.h"
#include "util.h"

#define DEFAULT_DAYS		14
#define DEFAULT_MIN_DAYS	7
#define DEFAULT_MIN_REPORTERS	2

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

static void	print_text(const struct query_opts *,
		    const struct store_readiness *, const struct rd_eval *);
static void	print_json(const struct query_opts *,
		    const struct rd_limits *, const struct store_readiness *,
		    const struct rd_eval *);

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
	struct rd_eval		 ev;
	struct store		*st = NULL;
	struct store_readiness	*rd = NULL;
	size_t			 n = 0;
	int			 ch, r, rc = EXIT_NORUN, live = 0;
	int64_t			 now, tmo;
	struct live_opts	 lo;
	char			*end;

	memset(&q, 0, sizeof(q));
	memset(&ev, 0, sizeof(ev));
	memset(&lo, 0, sizeof(lo));
	lo.timeout_ms = LIM_LIVE_TIMEOUT_SEC * 1000;
	lo.smtp = 1;
	lo.smtp_port = 25;
	lim.min_days = DEFAULT_MIN_DAYS;
	lim.min_reporters = DEFAULT_MIN_REPORTERS;
	lim.max_failure_rate = 0.0;
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
		q.days = DEFAULT_DAYS;
	if (cli_now(&now) == -1 || window_finish(&q, now) == -1)
		return EXIT_NORUN;
	lim.window_days = (q.win.until - q.win.since + 86399) / 86400;
	if ((st = cli_open_store(q.db, 1)) == NULL)
		return EXIT_NORUN;
	if (store_readiness(st, &q.win, &rd, &n) == -1) {
		cli_fail("%s", store_errstr(st));
		goto out;
	}
	if (rd_evaluate(&rd[0], &lim, &ev) == -1) {
		cli_fail("readiness: out of memory");
		goto out;
	}
	if (live && q.format == FMT_JSON)
		fputs("{\"readiness\": ", stdout);
	if (q.format == FMT_JSON)
		print_json(&q, &lim, &rd[0], &ev);
	else
		print_text(&q, &rd[0], &ev);
	rc = ev.verdict == RD_READY ? EXIT_OK : ev.verdict ==
	    RD_INSUFFICIENT ? EXIT_WARN : EXIT_CRIT;
	if (live)
		rc = readiness_live(st, &lo, q.win.domains[0], lim.window_days,
		    now, q.format == FMT_JSON, rc);
	if (fflush(stdout) == EOF || ferror(stdout))
		rc = cli_fail("cannot write the verdict to stdout");
 out:
	rd_eval_free(&ev);
	store_readiness_free(rd, n);
	store_close(st);
	return rc;
}

static void
print_problems(FILE *f, unsigned bits)
{
	static const struct {
		unsigned	 bit;
		const char	*name;
	} names[] = {
		{ STS_P_NO_VERSION, "no-version" },
		{ STS_P_NO_MODE, "no-mode" },
		{ STS_P_BAD_MODE, "bad-mode" },
		{ STS_P_NO_MAX_AGE, "no-max-age" },
		{ STS_P_BAD_MAX_AGE, "bad-max-age" },
		{ STS_P_NO_MX, "no-mx" },
		{ STS_P_BAD_LINE, "bad-line" },
		{ STS_P_DUP_FIELD, "duplicate-field" },
	};
	size_t	i, k = 0;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (bits & names[i].bit)
			fprintf(f, "%s\"%s\"", k++ > 0 ? ", " : "",
			    names[i].name);
}

static void
print_text(const struct query_opts *q, const struct store_readiness *d,
    const struct rd_eval *ev)
{
	const struct store_rd_policy	*p;
	const struct store_rd_refusal	*f;
	const struct rd_reason		*r;
	char				 safe[256], safe2[512];
	size_t				 i, j;
	int				 covered;

	printf("MTA-STS readiness of %s: %s\n", out_shown(d->domain, safe,
	    sizeof(safe)), rd_verdict_str(ev->verdict));
	printf("(reports starting from ");
	out_time(stdout, q->win.since);
	printf(" before ");
	out_time(stdout, q->win.until);
	printf(")\n\n");
	for (i = 0; i < ev->nreasons; i++) {
		r = &ev->reasons[i];
		printf("%-12s %-9s %s\n", rd_status_str(r->status),
		    rd_check_str(r->check), r->text);
		printf("%-22s next: %s\n", "", r->next);
	}
	if (d->npolicies > 0)
		printf("\nPolicies senders applied (P1 is the newest):\n");
	for (i = 0; i < d->npolicies; i++) {
		p = &d->policies[i];
		printf("  P%zu  mode %s, max_age %" PRId64 ", mx", i + 1,
		    p->mode[0] != '\0' ? out_shown(p->mode, safe,
		    sizeof(safe)) : "unset", p->max_age);
		for (j = 0; j < p->nmx; j++)
			printf(" %s", out_shown(p->mx[j], safe, sizeof(safe)));
		printf(": %" PRId64 " report%s, %" PRId64 " sessions, ",
		    p->reports, p->reports == 1 ? "" : "s", p->sessions);
		out_day(stdout, p->first_day);
		printf(" to ");
		out_day(stdout, p->last_day);
		printf("\n      seen by:");
		for (j = 0; j < p->nreporters; j++) {
			printf("%s %s (last ", j > 0 ? "," : "",
			    out_shown(p->reporters[j].name, safe,
			    sizeof(safe)));
			out_day(stdout, p->reporters[j].n);
			printf(")");
		}
		printf("\n");
	}
	if (d->nrefusals > 0) {
		printf("\nSessions enforce would refuse (%" PRId64 ", %.2f%%):"
		    "\n", ev->refused, 100.0 * ev->refused_rate);
		for (i = 0; i < d->nrefusals; i++) {
			f = &d->refusals[i];
			printf("  %-30s %-26s %8" PRId64 "  ",
			    out_shown(f->mx, safe, sizeof(safe)),
			    out_shown(f->result_type, safe2, sizeof(safe2)),
			    f->failed);
			for (j = 0; j < f->nreporters; j++)
				printf("%s%s (%" PRId64 ")", j > 0 ? ", " : "",
				    out_shown(f->reporters[j].name, safe,
				    sizeof(safe)), f->reporters[j].n);
			printf("\n");
		}
	}
	if (d->nhosts > 0 && d->npolicies > 0) {
		printf("\nMX hosts in the reports, against P1's mx "
		    "patterns:\n");
		for (i = 0; i < d->nhosts; i++) {
			covered = rd_covered(&d->policies[0],
			    d->hosts[i].name);
			printf("  %-40s %-11s %" PRId64 " failed\n",
			    out_shown(d->hosts[i].name, safe, sizeof(safe)),
			    covered ? "covered" : "NOT COVERED",
			    d->hosts[i].n);
		}
	}
}

static void
print_json(const struct query_opts *q, const struct rd_limits *lim,
    const struct store_readiness *d, const struct rd_eval *ev)
{
	const struct store_rd_policy	*p;
	const struct store_rd_refusal	*f;
	const struct rd_reason		*r;
	size_t				 i, j;

	printf("{\"domain\": ");
	out_json_str(stdout, d->domain);
	printf(", \"since\": \"");
	out_time(stdout, q->win.since);
	printf("\", \"until\": \"");
	out_time(stdout, q->win.until);
	printf("\",\n \"verdict\": \"%s\",\n \"reasons\": [",
	    rd_verdict_str(ev->verdict));
	for (i = 0; i < ev->nreasons; i++) {
		r = &ev->reasons[i];
		printf("%s\n  {\"check\": \"%s\", \"status\": \"%s\", "
		    "\"text\": ", i > 0 ? "," : "", rd_check_str(r->check),
		    rd_status_str(r->status));
		out_json_str(stdout, r->text);
		printf(", \"next\": ");
		out_json_str(stdout, r->next);
		printf("}");
	}
	printf("],\n \"coverage\": {\"days\": %" PRId64 ", \"window_days\": %"
	    PRId64 ", \"reports\": %" PRId64 ", \"min_days\": %" PRId64
	    ", \"min_reporters\": %" PRId64 ", \"reporters\": [", d->days,
	    lim->window_days, d->reports, lim->min_days, lim->min_reporters);
	for (i = 0; i < d->nreporters; i++) {
		printf("%s{\"reporter\": ", i > 0 ? ", " : "");
		out_json_str(stdout, d->reporters[i].name);
		printf(", \"days\": %" PRId64 "}", d->reporters[i].n);
	}
	printf("]},\n \"policies\": [");
	for (i = 0; i < d->npolicies; i++) {
		p = &d->policies[i];
		printf("%s\n  {\"id\": \"P%zu\", \"mode\": ", i > 0 ? "," : "",
		    i + 1);
		out_json_str(stdout, p->mode);
		printf(", \"max_age\": %" PRId64 ", \"mx\": [", p->max_age);
		for (j = 0; j < p->nmx; j++) {
			printf("%s", j > 0 ? ", " : "");
			out_json_str(stdout, p->mx[j]);
		}
		printf("], \"problems\": [");
		print_problems(stdout, p->problems);
		printf("],\n   \"policy_string\": ");
		out_json_str(stdout, p->strings);
		printf(", \"reports\": %" PRId64 ", \"sessions\": %" PRId64
		    ", \"first_day\": \"", p->reports, p->sessions);
		out_day(stdout, p->first_day);
		printf("\", \"last_day\": \"");
		out_day(stdout, p->last_day);
		printf("\",\n   \"reporters\": [");
		for (j = 0; j < p->nreporters; j++) {
			printf("%s{\"reporter\": ", j > 0 ? ", " : "");
			out_json_str(stdout, p->reporters[j].name);
			printf(", \"last_day\": \"");
			out_day(stdout, p->reporters[j].n);
			printf("\"}");
		}
		printf("]}");
	}
	printf("],\n \"reporter_policies\": [");
	for (i = 0; i < ev->nlatest; i++) {
		printf("%s{\"reporter\": ", i > 0 ? ", " : "");
		out_json_str(stdout, ev->latest[i].reporter);
		printf(", \"policy\": \"P%zu\", \"last_day\": \"",
		    ev->latest[i].policy + 1);
		out_day(stdout, ev->latest[i].last_day);
		printf("\"}");
	}
	printf("], \"policies_disagree\": %s,\n \"would_refuse\": "
	    "{\"sessions\": %" PRId64 ", \"sts_sessions\": %" PRId64
	    ", \"rate\": %.6f, \"max_rate\": %.6f, \"rows\": [",
	    ev->disagree ? "true" : "false", ev->refused, d->sts_sessions,
	    ev->refused_rate, lim->max_failure_rate);
	for (i = 0; i < d->nrefusals; i++) {
		f = &d->refusals[i];
		printf("%s\n   {\"mx\": ", i > 0 ? "," : "");
		out_json_str(stdout, f->mx);
		printf(", \"result_type\": ");
		out_json_str(stdout, f->result_type);
		printf(", \"failed_sessions\": %" PRId64 ", \"reporters\": [",
		    f->failed);
		for (j = 0; j < f->nreporters; j++) {
			printf("%s{\"reporter\": ", j > 0 ? ", " : "");
			out_json_str(stdout, f->reporters[j].name);
			printf(", \"failed_sessions\": %" PRId64 "}",
			    f->reporters[j].n);
		}
		printf("]}");
	}
	printf("]},\n \"mx_hosts\": [");
	for (i = 0; i < d->nhosts; i++) {
		printf("%s{\"host\": ", i > 0 ? ", " : "");
		out_json_str(stdout, d->hosts[i].name);
		printf(", \"failed_sessions\": %" PRId64 ", \"covered\": %s}",
		    d->hosts[i].n, d->npolicies > 0 &&
		    rd_covered(&d->policies[0], d->hosts[i].name) ? "true" :
		    "false");
	}
	printf("]}\n");
}
