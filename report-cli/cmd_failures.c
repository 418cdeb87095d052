/*
 * cmd_failures.c -- tlsrpt failures: failed sessions grouped by result
 * type, MX, reporter, sending or receiving IP (any combination), with
 * their share of the domain's sessions, reporters, first and last day
 * seen and the most frequent failure-reason-codes.
 *
 * Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
 */

#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "ingest.h"

#define REASONS_MAX	3	/* reason codes and reporters listed */

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

static const struct {
	const char	*name;		/* on the command line */
	const char	*json;		/* key in json and csv */
	const char	*head;		/* text column heading */
	unsigned	 bit;
} keys[] = {
	{ "result-type", "result_type", "RESULT TYPE", STORE_BY_RESULT_TYPE },
	{ "mx", "mx", "MX", STORE_BY_MX },
	{ "reporter", "reporter", "REPORTER", STORE_BY_REPORTER },
	{ "sending-ip", "sending_ip", "SENDING IP", STORE_BY_SENDING_IP },
	{ "receiving-ip", "receiving_ip", "RECEIVING IP",
	    STORE_BY_RECEIVING_IP },
};
#define NKEYS	(sizeof(keys) / sizeof(keys[0]))

static int	parse_by(const char *, unsigned *, size_t *, size_t *);
static void	print_conflicts(const struct store_totals *);
static void	print_text(const struct query_opts *, const size_t *, size_t,
		    const struct store_failure_row *, size_t,
		    const struct store_totals *);
static void	print_json(const struct query_opts *, const size_t *, size_t,
		    const struct store_failure_row *, size_t,
		    const struct store_totals *);
static void	print_csv(const size_t *, size_t,
		    const struct store_failure_row *, size_t);

static const char *
key_value(const struct store_failure_row *f, size_t k)
{
	switch (keys[k].bit) {
	case STORE_BY_RESULT_TYPE:
		return f->result_type;
	case STORE_BY_MX:
		return f->mx;
	case STORE_BY_REPORTER:
		return f->reporter;
	case STORE_BY_SENDING_IP:
		return f->sending_ip;
	default:
		return f->receiving_ip;
	}
}

static double
share(const struct store_failure_row *f)
{
	return f->domain_sessions > 0 ?
	    (double)f->failed / (double)f->domain_sessions : 0.0;
}

/* 0 no failed sessions, 1 warning, 2 critical: the worst result type. */
static int
row_level(const struct store_failure_row *f)
{
	size_t	i;
	int	lvl = 0, l;

	for (i = 0; i < f->nrts; i++)
		if (f->rts[i].n > 0 && (l = out_rt_level(f->rts[i].name)) >
		    lvl)
			lvl = l;
	return lvl;
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
	struct query_opts		 q;
	struct store			*st = NULL;
	struct store_failure_row	*rows = NULL;
	struct store_totals		 tot;
	size_t				 order[NKEYS], norder = 0, n = 0, i;
	unsigned			 by = 0;
	int				 ch, r, lvl, rc = EXIT_NORUN;
	int64_t				 now;

	memset(&q, 0, sizeof(q));
	while ((ch = getopt_long(argc, argv, WINDOW_OPTSTRING "b:h", longopts,
	    NULL)) != -1) {
		if (ch == 'h') {
			fputs(usage_text, stdout);
			return EXIT_OK;
		}
		if (ch == 'b') {
			if (parse_by(optarg, &by, order, &norder) == -1)
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
	if (norder == 0)
		parse_by("result-type", &by, order, &norder);
	if (cli_now(&now) == -1 || window_finish(&q, now) == -1)
		return EXIT_NORUN;
	if ((st = cli_open_store(q.db, 1)) == NULL)
		return EXIT_NORUN;
	if (store_failures(st, &q.win, by, REASONS_MAX, &rows, &n) == -1) {
		cli_fail("%s", store_errstr(st));
		goto out;
	}
	if (store_totals(st, &q.win, &tot) == -1) {
		cli_fail("%s", store_errstr(st));
		goto out;
	}
	if (q.format == FMT_JSON)
		print_json(&q, order, norder, rows, n, &tot);
	else if (q.format == FMT_CSV)
		print_csv(order, norder, rows, n);
	else
		print_text(&q, order, norder, rows, n, &tot);
	rc = EXIT_OK;
	for (i = 0; i < n; i++)
		if ((lvl = row_level(&rows[i])) > rc)
			rc = lvl;
	if (fflush(stdout) == EOF || ferror(stdout))
		rc = cli_fail("cannot write the failures to stdout");
 out:
	store_failures_free(rows, n);
	store_close(st);
	return rc;
}

/* "mx,result-type": the keys in the order given, each once. */
static int
parse_by(const char *arg, unsigned *by, size_t *order, size_t *norder)
{
	const char	*p = arg, *e;
	size_t		 len, k;

	for (;;) {
		e = strchr(p, ',');
		len = e != NULL ? (size_t)(e - p) : strlen(p);
		for (k = 0; k < NKEYS; k++)
			if (strlen(keys[k].name) == len &&
			    strncmp(keys[k].name, p, len) == 0)
				break;
		if (k == NKEYS) {
			cli_fail("--by: \"%.*s\" is not result-type, mx, "
			    "reporter, sending-ip or receiving-ip", (int)len,
			    p);
			return -1;
		}
		if ((*by & keys[k].bit) == 0) {
			*by |= keys[k].bit;
			order[(*norder)++] = k;
		}
		if (e == NULL)
			return 0;
		p = e + 1;
	}
}

/* A line for people when copies of a report disagreed (issue 8). */
static void
print_conflicts(const struct store_totals *tot)
{
	if (tot->conflicting == 0)
		return;
	printf("%" PRId64 " conflicting cop%s: a report arrived again with"
	    " other figures and no trusted signature; the first copy is"
	    " counted (arrival note \"conflicting copy\")\n\n",
	    tot->conflicting, tot->conflicting == 1 ? "y" : "ies");
}

static void
print_text(const struct query_opts *q, const size_t *order, size_t norder,
    const struct store_failure_row *rows, size_t n,
    const struct store_totals *tot)
{
	const struct store_failure_row	*f;
	char				 safe[256];
	size_t				 i, k, j, wd = 6, w[NKEYS];
	int64_t				 failed = 0;

	for (k = 0; k < norder; k++)
		w[k] = strlen(keys[order[k]].head);
	for (i = 0; i < n; i++) {
		f = &rows[i];
		failed += f->failed;
		if (strlen(out_shown(f->domain, safe, sizeof(safe))) > wd)
			wd = strlen(out_shown(f->domain, safe, sizeof(safe)));
		for (k = 0; k < norder; k++) {
			j = strlen(out_shown(key_value(f, order[k]), safe,
			    sizeof(safe)));
			if (j > w[k])
				w[k] = j;
		}
	}
	printf("Failed sessions by ");
	for (k = 0; k < norder; k++)
		printf("%s%s", k > 0 ? ", " : "", keys[order[k]].name);
	if (q->win.since == WINDOW_START_OF_TIME &&
	    q->win.until == WINDOW_END_OF_TIME)
		printf(", every stored report");
	else {
		printf(", reports starting from ");
		out_time(stdout, q->win.since);
		printf(" before ");
		out_time(stdout, q->win.until);
	}
	printf(": %" PRId64 " failed session%s\n\n", failed,
	    failed == 1 ? "" : "s");
	print_conflicts(tot);
	if (n == 0) {
		printf("No failures in this window.\n");
		return;
	}
	printf("%-*s", (int)wd, "DOMAIN");
	for (k = 0; k < norder; k++)
		printf("  %-*s", (int)w[k], keys[order[k]].head);
	printf("  %8s %7s %9s  %-10s  %-10s  %s\n", "FAILED", "SHARE",
	    "REPORTERS", "FIRST", "LAST", "REASON CODES");
	for (i = 0; i < n; i++) {
		f = &rows[i];
		printf("%-*s", (int)wd, out_shown(f->domain, safe,
		    sizeof(safe)));
		for (k = 0; k < norder; k++)
			printf("  %-*s", (int)w[k], out_shown(key_value(f,
			    order[k]), safe, sizeof(safe)));
		printf("  %8" PRId64 " %6.2f%% %9" PRId64 "  ", f->failed,
		    100.0 * share(f), f->nreporters);
		out_day(stdout, f->first_day);
		printf("  ");
		out_day(stdout, f->last_day);
		printf(" ");
		for (j = 0; j < f->nreasons; j++)
			printf("%s %s (%" PRId64 ")", j > 0 ? "," : "",
			    out_shown(f->reasons[j].name, safe, sizeof(safe)),
			    f->reasons[j].n);
		if (f->nreasons == 0)
			printf(" -");
		putchar('\n');
	}
}

static void
json_counts(const char *key, const char *name, const struct store_count *c,
    size_t n)
{
	size_t	i;

	printf(", ");
	out_json_str(stdout, key);
	printf(": [");
	for (i = 0; i < n; i++) {
		printf("%s{", i > 0 ? ", " : "");
		out_json_str(stdout, name);
		printf(": ");
		out_json_str(stdout, c[i].name);
		printf(", \"failed_sessions\": %" PRId64 "}", c[i].n);
	}
	printf("]");
}

static void
print_json(const struct query_opts *q, const size_t *order, size_t norder,
    const struct store_failure_row *rows, size_t n,
    const struct store_totals *tot)
{
	static const char		*sev[] = { "none", "warning",
					    "critical" };
	const struct store_failure_row	*f;
	size_t				 i, k;

	printf("{\"since\": \"");
	out_time(stdout, q->win.since);
	printf("\", \"until\": \"");
	out_time(stdout, q->win.until);
	printf("\", \"by\": [");
	for (k = 0; k < norder; k++)
		printf("%s\"%s\"", k > 0 ? ", " : "", keys[order[k]].name);
	printf("], \"conflicting_copies\": %" PRId64 ",\n \"rows\": [",
	    tot->conflicting);
	for (i = 0; i < n; i++) {
		f = &rows[i];
		printf("%s\n  {\"domain\": ", i > 0 ? "," : "");
		out_json_str(stdout, f->domain);
		for (k = 0; k < norder; k++) {
			printf(", \"%s\": ", keys[order[k]].json);
			out_json_str(stdout, key_value(f, order[k]));
		}
		printf(", \"failed_sessions\": %" PRId64
		    ", \"domain_sessions\": %" PRId64 ", \"share\": %.4f,"
		    "\n   \"severity\": \"%s\", \"reporters\": %" PRId64
		    ", \"first_day\": \"", f->failed, f->domain_sessions,
		    share(f), sev[row_level(f)], f->nreporters);
		out_day(stdout, f->first_day);
		printf("\", \"last_day\": \"");
		out_day(stdout, f->last_day);
		printf("\",\n   ");
		printf("\"result_types\": {");
		for (k = 0; k < f->nrts; k++) {
			printf("%s", k > 0 ? ", " : "");
			out_json_str(stdout, f->rts[k].name);
			printf(": %" PRId64, f->rts[k].n);
		}
		printf("}");
		json_counts("reason_codes", "code", f->reasons, f->nreasons);
		json_counts("top_reporters", "reporter", f->reporters,
		    f->nreporters_l);
		printf("}");
	}
	printf("]}\n");
}

static void
print_csv(const size_t *order, size_t norder,
    const struct store_failure_row *rows, size_t n)
{
	static const char		*sev[] = { "none", "warning",
					    "critical" };
	const struct store_failure_row	*f;
	FILE				*m;
	char				*buf;
	size_t				 i, k, len;

	printf("domain");
	for (k = 0; k < norder; k++)
		printf(",%s", keys[order[k]].json);
	printf(",failed_sessions,domain_sessions,share,severity,reporters,"
	    "first_day,last_day,reason_codes\n");
	for (i = 0; i < n; i++) {
		f = &rows[i];
		out_csv_str(stdout, f->domain);
		for (k = 0; k < norder; k++) {
			putchar(',');
			out_csv_str(stdout, key_value(f, order[k]));
		}
		printf(",%" PRId64 ",%" PRId64 ",%.4f,%s,%" PRId64 ",",
		    f->failed, f->domain_sessions, share(f),
		    sev[row_level(f)], f->nreporters);
		out_day(stdout, f->first_day);
		putchar(',');
		out_day(stdout, f->last_day);
		putchar(',');
		/* code=count pairs separated by spaces: one field */
		buf = NULL;
		len = 0;
		if ((m = open_memstream(&buf, &len)) != NULL) {
			for (k = 0; k < f->nreasons; k++)
				fprintf(m, "%s%s=%" PRId64, k > 0 ? " " : "",
				    f->reasons[k].name, f->reasons[k].n);
			if (fclose(m) == 0)
				out_csv_str(stdout, buf);
		}
		free(buf);
		putchar('\n');
	}
}
