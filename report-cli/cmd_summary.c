/*
 * cmd_summary.c -- tlsrpt summary: per policy domain over a window,
 * reports, reporters, sessions, failure rate, failed sessions per result
 * type, and flags with severity and meaning.
 *
 * Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
 */

#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "ingest.h"

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

static int	domain_level(const struct store_domain_summary *);
static void	print_text(const struct query_opts *,
		    const struct store_domain_summary *, size_t,
		    const struct store_totals *);
static void	print_json(const struct query_opts *,
		    const struct store_domain_summary *, size_t,
		    const struct store_totals *);
static void	print_csv(const struct store_domain_summary *, size_t);

static double
rate(const struct store_domain_summary *d)
{
	int64_t	total = d->successful + d->failed;

	return total > 0 ? (double)d->failed / (double)total : 0.0;
}

#define shown(s)	out_shown((s), safe, sizeof(safe))

int
cmd_summary(int argc, char **argv)
{
	static const struct option longopts[] = {
		WINDOW_LONGOPTS,
		{ "trusted-only", no_argument, NULL, 'T' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct query_opts		 q;
	struct store			*st = NULL;
	struct store_domain_summary	*ds = NULL;
	struct store_totals		 tot;
	size_t				 n = 0, i;
	int				 ch, r, lvl, rc = EXIT_NORUN;
	int				 trusted_only = 0;
	int64_t				 now;

	memset(&q, 0, sizeof(q));
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
	if (store_summary(st, &q.win, &ds, &n) == -1) {
		cli_fail("summary failed: %s", store_errstr(st));
		goto out;
	}
	if (store_totals(st, &q.win, &tot) == -1) {
		cli_fail("summary failed: %s", store_errstr(st));
		goto out;
	}
	if (q.format == FMT_JSON)
		print_json(&q, ds, n, &tot);
	else if (q.format == FMT_CSV)
		print_csv(ds, n);
	else
		print_text(&q, ds, n, &tot);
	rc = EXIT_OK;
	for (i = 0; i < n; i++)
		if ((lvl = domain_level(&ds[i])) > rc)
			rc = lvl;
	if (fflush(stdout) == EOF || ferror(stdout))
		rc = cli_fail("cannot write the summary to stdout");
 out:
	store_summary_free(ds, n);
	store_close(st);
	return rc;
}

/* 0 nothing flagged, 1 warning, 2 critical. */
static int
domain_level(const struct store_domain_summary *d)
{
	size_t	i;
	int	lvl = 0;

	for (i = 0; i < d->nrts; i++)
		if (d->rts[i].failed_sessions > 0 &&
		    out_rt_level(d->rts[i].result_type) > lvl)
			lvl = out_rt_level(d->rts[i].result_type);
	return lvl;
}

static void
print_window(FILE *f, const struct query_opts *q)
{
	if (q->win.since == WINDOW_START_OF_TIME &&
	    q->win.until == WINDOW_END_OF_TIME) {
		fputs("every stored report", f);
		return;
	}
	fputs("reports starting ", f);
	if (q->win.since != WINDOW_START_OF_TIME) {
		fputs("from ", f);
		out_time(f, q->win.since);
	}
	if (q->win.until != WINDOW_END_OF_TIME) {
		fputs(q->win.since != WINDOW_START_OF_TIME ? " " : "", f);
		fputs("before ", f);
		out_time(f, q->win.until);
	}
}

/* A domain in the text table's order: its level, then store order. */
struct row {
	size_t	i;
	int	lvl;
};

static int
cmp_row(const void *a, const void *b)
{
	const struct row	*x = a, *y = b;

	if (x->lvl != y->lvl)
		return y->lvl - x->lvl;		/* critical first */
	return x->i < y->i ? -1 : x->i > y->i;	/* then by domain */
}

static void
print_text(const struct query_opts *q, const struct store_domain_summary *ds,
    size_t n, const struct store_totals *tot)
{
	static const char	*status[] = { "ok", "WARNING", "CRITICAL" };
	const struct store_domain_summary *d;
	const struct store_rt_count *rt;
	struct row		*rows;
	char			 safe[256], safe2[256];
	size_t			 i, j, w = 6, nflags = 0;

	for (i = 0; i < n; i++)
		if (strlen(shown(ds[i].domain)) > w)
			w = strlen(shown(ds[i].domain));
	/* distinct reports and domains (issue 13): a report covering k
	 * domains is k REPORTS in the table but one here */
	printf("TLS reports: ");
	print_window(stdout, q);
	printf(" (UTC): %" PRId64 " report%s, %" PRId64 " domain%s\n\n",
	    tot->reports, tot->reports == 1 ? "" : "s", tot->domains,
	    tot->domains == 1 ? "" : "s");
	if (tot->conflicting > 0)
		printf("%" PRId64 " conflicting cop%s: a report arrived again"
		    " with other figures and no trusted signature; the first"
		    " copy is counted (arrival note \"conflicting copy\")\n\n",
		    tot->conflicting, tot->conflicting == 1 ? "y" : "ies");
	if (n == 0) {
		printf("No reports in this window.\n");
		return;
	}
	if ((rows = calloc(n, sizeof(*rows))) == NULL) {
		cli_fail("out of memory");
		return;
	}
	for (i = 0; i < n; i++) {
		rows[i].i = i;
		rows[i].lvl = domain_level(&ds[i]);
	}
	qsort(rows, n, sizeof(*rows), cmp_row);
	printf("%-*s %8s %9s %12s %10s %8s  %s\n", (int)w, "DOMAIN",
	    "REPORTS", "REPORTERS", "SUCCESSFUL", "FAILED", "FAILED%",
	    "STATUS");
	for (i = 0; i < n; i++) {
		d = &ds[rows[i].i];
		printf("%-*s %8" PRId64 " %9" PRId64 " %12" PRId64 " %10" PRId64
		    " %7.2f%%  %s\n", (int)w, shown(d->domain), d->reports,
		    d->reporters, d->successful, d->failed, 100.0 * rate(d),
		    status[rows[i].lvl]);
	}
	for (i = 0; i < n; i++) {
		d = &ds[rows[i].i];
		for (j = 0; j < d->nrts; j++) {
			rt = &d->rts[j];
			if (nflags++ == 0)
				printf("\nFailed sessions by result type:\n");
			printf("  %-*s %-8s %-26s %8" PRId64 "  %s\n", (int)w,
			    shown(d->domain),
			    tlsrpt_result_severity(rt->result_type),
			    out_shown(rt->result_type, safe2, sizeof(safe2)),
			    rt->failed_sessions,
			    tlsrpt_result_meaning(rt->result_type));
		}
	}
	free(rows);
}

static void
print_json(const struct query_opts *q, const struct store_domain_summary *ds,
    size_t n, const struct store_totals *tot)
{
	const struct store_rt_count *rt;
	size_t			 i, j;

	printf("{\"since\": \"");
	out_time(stdout, q->win.since);
	printf("\", \"until\": \"");
	out_time(stdout, q->win.until);
	printf("\",\n \"totals\": {\"reports\": %" PRId64 ", \"domains\": %"
	    PRId64 ", \"conflicting_copies\": %" PRId64 "},"
	    "\n \"conflicting_copies\": %" PRId64 ",\n \"domains\": [",
	    tot->reports, tot->domains, tot->conflicting, tot->conflicting);
	for (i = 0; i < n; i++) {
		printf("%s\n  {\"domain\": ", i > 0 ? "," : "");
		out_json_str(stdout, ds[i].domain);
		printf(", \"reports\": %" PRId64 ", \"reporters\": %" PRId64
		    ",\n   \"successful_sessions\": %" PRId64
		    ", \"failed_sessions\": %" PRId64
		    ", \"failure_rate\": %.4f,\n   \"result_types\": {",
		    ds[i].reports, ds[i].reporters, ds[i].successful,
		    ds[i].failed, rate(&ds[i]));
		for (j = 0; j < ds[i].nrts; j++) {
			rt = &ds[i].rts[j];
			printf("%s", j > 0 ? ", " : "");
			out_json_str(stdout, rt->result_type);
			printf(": %" PRId64, rt->failed_sessions);
		}
		printf("},\n   \"flags\": [");
		for (j = 0; j < ds[i].nrts; j++) {
			rt = &ds[i].rts[j];
			printf("%s{\"type\": ", j > 0 ? ",\n             " : "");
			out_json_str(stdout, rt->result_type);
			printf(", \"severity\": ");
			out_json_str(stdout,
			    tlsrpt_result_severity(rt->result_type));
			printf(", \"failed_sessions\": %" PRId64
			    ", \"meaning\": ", rt->failed_sessions);
			out_json_str(stdout,
			    tlsrpt_result_meaning(rt->result_type));
			printf("}");
		}
		printf("]}");
	}
	printf("]}\n");
}

static void
print_csv(const struct store_domain_summary *ds, size_t n)
{
	static const char	*status[] = { "ok", "warning", "critical" };
	FILE			*m;
	char			*buf;
	size_t			 i, j, len;

	printf("domain,reports,reporters,successful_sessions,failed_sessions,"
	    "failure_rate,status,result_types\n");
	for (i = 0; i < n; i++) {
		out_csv_str(stdout, ds[i].domain);
		printf(",%" PRId64 ",%" PRId64 ",%" PRId64 ",%" PRId64
		    ",%.4f,%s,", ds[i].reports, ds[i].reporters,
		    ds[i].successful, ds[i].failed, rate(&ds[i]),
		    status[domain_level(&ds[i])]);
		/* type=count pairs separated by spaces: one field */
		buf = NULL;
		len = 0;
		if ((m = open_memstream(&buf, &len)) != NULL) {
			for (j = 0; j < ds[i].nrts; j++)
				fprintf(m, "%s%s=%" PRId64, j > 0 ? " " : "",
				    ds[i].rts[j].result_type,
				    ds[i].rts[j].failed_sessions);
			if (fclose(m) == 0)
				out_csv_str(stdout, buf);
		}
		free(buf);
		putchar('\n');
	}
}
