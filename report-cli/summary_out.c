/*
 * summary_out.c -- the text, JSON and CSV writers of the summary model
 * (model/summary.h).  Nothing is computed here: every figure comes from
 * the model; these only choose the words, the order of the columns and
 * the escaping.
 *
 * Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
 */

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "out.h"
#include "summary.h"
#include "writers.h"

#define shown(s)	out_shown((s), safe, sizeof(safe))

static void
print_window(FILE *f, const struct summary *sm)
{
	if (sm->since == WINDOW_START_OF_TIME &&
	    sm->until == WINDOW_END_OF_TIME) {
		fputs("every stored report", f);
		return;
	}
	fputs("reports starting ", f);
	if (sm->since != WINDOW_START_OF_TIME) {
		fputs("from ", f);
		out_time(f, sm->since);
	}
	if (sm->until != WINDOW_END_OF_TIME) {
		fputs(sm->since != WINDOW_START_OF_TIME ? " " : "", f);
		fputs("before ", f);
		out_time(f, sm->until);
	}
}

void
summary_text(const struct summary *sm, FILE *f)
{
	static const char		*status[] = { "ok", "WARNING",
					    "CRITICAL" };
	const struct summary_domain	*d;
	const struct summary_flag	*fl;
	char				 safe[256], safe2[256];
	size_t				 i, j, w = 6, nflags = 0;

	for (i = 0; i < sm->ndomains; i++)
		if (strlen(shown(sm->domains[i].domain)) > w)
			w = strlen(shown(sm->domains[i].domain));
	/* distinct reports and domains (issue 13): a report covering k
	 * domains is k REPORTS in the table but one here */
	fprintf(f, "TLS reports: ");
	print_window(f, sm);
	fprintf(f, " (UTC): %" PRId64 " report%s, %" PRId64 " domain%s\n\n",
	    sm->totals.reports, sm->totals.reports == 1 ? "" : "s",
	    sm->totals.domains, sm->totals.domains == 1 ? "" : "s");
	out_conflicts(f, sm->totals.conflicting);
	if (sm->ndomains == 0) {
		fprintf(f, "No reports in this window.\n");
		return;
	}
	fprintf(f, "%-*s %8s %9s %12s %10s %8s  %s\n", (int)w, "DOMAIN",
	    "REPORTS", "REPORTERS", "SUCCESSFUL", "FAILED", "FAILED%",
	    "STATUS");
	for (i = 0; i < sm->ndomains; i++) {
		d = &sm->domains[sm->by_status[i]];
		fprintf(f, "%-*s %8" PRId64 " %9" PRId64 " %12" PRId64 " %10"
		    PRId64 " %7.2f%%  %s\n", (int)w, shown(d->domain),
		    d->reports, d->reporters, d->successful, d->failed,
		    100.0 * d->failure_rate, status[d->status]);
	}
	for (i = 0; i < sm->ndomains; i++) {
		d = &sm->domains[sm->by_status[i]];
		for (j = 0; j < d->nflags; j++) {
			fl = &d->flags[j];
			if (nflags++ == 0)
				fprintf(f, "\nFailed sessions by result type:"
				    "\n");
			fprintf(f, "  %-*s %-8s %-26s %8" PRId64 "  %s\n",
			    (int)w, shown(d->domain), fl->severity,
			    out_shown(fl->type, safe2, sizeof(safe2)),
			    fl->failed_sessions, fl->meaning);
		}
	}
}

void
summary_json(const struct summary *sm, FILE *f)
{
	const struct summary_domain	*d;
	const struct summary_flag	*fl;
	size_t				 i, j;

	fputc('{', f);
	out_json_window(f, sm->since, sm->until);
	fprintf(f, ",\n \"totals\": {\"reports\": %" PRId64 ", \"domains\": %"
	    PRId64 ", \"conflicting_copies\": %" PRId64 "},"
	    "\n \"conflicting_copies\": %" PRId64 ",\n \"domains\": [",
	    sm->totals.reports, sm->totals.domains, sm->totals.conflicting,
	    sm->totals.conflicting);
	for (i = 0; i < sm->ndomains; i++) {
		d = &sm->domains[i];
		fprintf(f, "%s\n  {\"domain\": ", i > 0 ? "," : "");
		out_json_str(f, d->domain);
		fprintf(f, ", \"reports\": %" PRId64 ", \"reporters\": %" PRId64
		    ",\n   \"successful_sessions\": %" PRId64
		    ", \"failed_sessions\": %" PRId64
		    ", \"failure_rate\": %.4f,\n   \"result_types\": {",
		    d->reports, d->reporters, d->successful, d->failed,
		    d->failure_rate);
		for (j = 0; j < d->nflags; j++) {
			fprintf(f, "%s", j > 0 ? ", " : "");
			out_json_str(f, d->flags[j].type);
			fprintf(f, ": %" PRId64, d->flags[j].failed_sessions);
		}
		fprintf(f, "},\n   \"flags\": [");
		for (j = 0; j < d->nflags; j++) {
			fl = &d->flags[j];
			fprintf(f, "%s{\"type\": ", j > 0 ?
			    ",\n             " : "");
			out_json_str(f, fl->type);
			fprintf(f, ", \"severity\": ");
			out_json_str(f, fl->severity);
			fprintf(f, ", \"failed_sessions\": %" PRId64
			    ", \"meaning\": ", fl->failed_sessions);
			out_json_str(f, fl->meaning);
			fprintf(f, "}");
		}
		fprintf(f, "]}");
	}
	fprintf(f, "]}\n");
}

void
summary_csv(const struct summary *sm, FILE *f)
{
	static const char		*status[] = { "ok", "warning",
					    "critical" };
	const struct summary_domain	*d;
	FILE				*m;
	char				*buf;
	size_t				 i, j, len;

	fprintf(f, "domain,reports,reporters,successful_sessions,"
	    "failed_sessions,failure_rate,status,result_types\n");
	for (i = 0; i < sm->ndomains; i++) {
		d = &sm->domains[i];
		out_csv_str(f, d->domain);
		fprintf(f, ",%" PRId64 ",%" PRId64 ",%" PRId64 ",%" PRId64
		    ",%.4f,%s,", d->reports, d->reporters, d->successful,
		    d->failed, d->failure_rate, status[d->status]);
		/* type=count pairs separated by spaces: one field */
		buf = NULL;
		len = 0;
		if ((m = open_memstream(&buf, &len)) != NULL) {
			for (j = 0; j < d->nflags; j++)
				fprintf(m, "%s%s=%" PRId64, j > 0 ? " " : "",
				    d->flags[j].type,
				    d->flags[j].failed_sessions);
			if (fclose(m) == 0)
				out_csv_str(f, buf);
		}
		free(buf);
		putc('\n', f);
	}
}
