/*
 * failures_out.c -- the text, JSON and CSV writers of the failures model
 * (model/failures.h).  Nothing is computed here: every figure comes from
 * the model; these only choose the words, the column widths and the
 * escaping.
 *
 * Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
 */

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "failures.h"
#include "out.h"
#include "writers.h"

static const char	*severity_name[] = { "none", "warning", "critical" };

#define KEY(fs, k)	(&failures_keys[(fs)->by.key[k]])

void
failures_text(const struct failures *fs, FILE *f)
{
	const struct failures_row	*r;
	char				 safe[256];
	size_t				 i, k, j, wd = 6, w[FAILURES_NKEYS];

	for (k = 0; k < fs->by.nkeys; k++)
		w[k] = strlen(KEY(fs, k)->head);
	for (i = 0; i < fs->nrows; i++) {
		r = &fs->rows[i];
		if (strlen(out_shown(r->domain, safe, sizeof(safe))) > wd)
			wd = strlen(out_shown(r->domain, safe, sizeof(safe)));
		for (k = 0; k < fs->by.nkeys; k++) {
			j = strlen(out_shown(r->key[k], safe, sizeof(safe)));
			if (j > w[k])
				w[k] = j;
		}
	}
	fprintf(f, "Failed sessions by ");
	for (k = 0; k < fs->by.nkeys; k++)
		fprintf(f, "%s%s", k > 0 ? ", " : "", KEY(fs, k)->name);
	if (fs->since == WINDOW_START_OF_TIME &&
	    fs->until == WINDOW_END_OF_TIME)
		fprintf(f, ", every stored report");
	else {
		fprintf(f, ", reports starting from ");
		out_time(f, fs->since);
		fprintf(f, " before ");
		out_time(f, fs->until);
	}
	fprintf(f, ": %" PRId64 " failed session%s\n\n", fs->failed,
	    fs->failed == 1 ? "" : "s");
	out_conflicts(f, fs->totals.conflicting);
	if (fs->nrows == 0) {
		fprintf(f, "No failures in this window.\n");
		return;
	}
	fprintf(f, "%-*s", (int)wd, "DOMAIN");
	for (k = 0; k < fs->by.nkeys; k++)
		fprintf(f, "  %-*s", (int)w[k], KEY(fs, k)->head);
	fprintf(f, "  %8s %7s %9s  %-10s  %-10s  %s\n", "FAILED", "SHARE",
	    "REPORTERS", "FIRST", "LAST", "REASON CODES");
	for (i = 0; i < fs->nrows; i++) {
		r = &fs->rows[i];
		fprintf(f, "%-*s", (int)wd, out_shown(r->domain, safe,
		    sizeof(safe)));
		for (k = 0; k < fs->by.nkeys; k++)
			fprintf(f, "  %-*s", (int)w[k], out_shown(r->key[k],
			    safe, sizeof(safe)));
		fprintf(f, "  %8" PRId64 " %6.2f%% %9" PRId64 "  ", r->failed,
		    100.0 * r->share, r->reporters);
		out_day(f, r->first_day);
		fprintf(f, "  ");
		out_day(f, r->last_day);
		fprintf(f, " ");
		for (j = 0; j < r->nreasons; j++)
			fprintf(f, "%s %s (%" PRId64 ")", j > 0 ? "," : "",
			    out_shown(r->reasons[j].name, safe, sizeof(safe)),
			    r->reasons[j].n);
		if (r->nreasons == 0)
			fprintf(f, " -");
		putc('\n', f);
	}
}

static void
json_counts(FILE *f, const char *key, const char *name,
    const struct store_count *c, size_t n)
{
	size_t	i;

	fprintf(f, ", ");
	out_json_str(f, key);
	fprintf(f, ": [");
	for (i = 0; i < n; i++) {
		fprintf(f, "%s{", i > 0 ? ", " : "");
		out_json_str(f, name);
		fprintf(f, ": ");
		out_json_str(f, c[i].name);
		fprintf(f, ", \"failed_sessions\": %" PRId64 "}", c[i].n);
	}
	fprintf(f, "]");
}

void
failures_json(const struct failures *fs, FILE *f)
{
	const struct failures_row	*r;
	size_t				 i, k;

	fputc('{', f);
	out_json_window(f, fs->since, fs->until);
	fprintf(f, ", \"by\": [");
	for (k = 0; k < fs->by.nkeys; k++)
		fprintf(f, "%s\"%s\"", k > 0 ? ", " : "", KEY(fs, k)->name);
	fprintf(f, "], \"conflicting_copies\": %" PRId64 ",\n \"rows\": [",
	    fs->totals.conflicting);
	for (i = 0; i < fs->nrows; i++) {
		r = &fs->rows[i];
		fprintf(f, "%s\n  {\"domain\": ", i > 0 ? "," : "");
		out_json_str(f, r->domain);
		for (k = 0; k < fs->by.nkeys; k++) {
			fprintf(f, ", \"%s\": ", KEY(fs, k)->json);
			out_json_str(f, r->key[k]);
		}
		fprintf(f, ", \"failed_sessions\": %" PRId64
		    ", \"domain_sessions\": %" PRId64 ", \"share\": %.4f,"
		    "\n   \"severity\": \"%s\", \"reporters\": %" PRId64
		    ", \"first_day\": \"", r->failed, r->domain_sessions,
		    r->share, severity_name[r->severity], r->reporters);
		out_day(f, r->first_day);
		fprintf(f, "\", \"last_day\": \"");
		out_day(f, r->last_day);
		fprintf(f, "\",\n   ");
		fprintf(f, "\"result_types\": {");
		for (k = 0; k < r->nrts; k++) {
			fprintf(f, "%s", k > 0 ? ", " : "");
			out_json_str(f, r->rts[k].name);
			fprintf(f, ": %" PRId64, r->rts[k].n);
		}
		fprintf(f, "}");
		json_counts(f, "reason_codes", "code", r->reasons,
		    r->nreasons);
		json_counts(f, "top_reporters", "reporter", r->top_reporters,
		    r->ntop_reporters);
		fprintf(f, "}");
	}
	fprintf(f, "]}\n");
}

void
failures_csv(const struct failures *fs, FILE *f)
{
	const struct failures_row	*r;
	FILE				*m;
	char				*buf;
	size_t				 i, k, len;

	fprintf(f, "domain");
	for (k = 0; k < fs->by.nkeys; k++)
		fprintf(f, ",%s", KEY(fs, k)->json);
	fprintf(f, ",failed_sessions,domain_sessions,share,severity,"
	    "reporters,first_day,last_day,reason_codes\n");
	for (i = 0; i < fs->nrows; i++) {
		r = &fs->rows[i];
		out_csv_str(f, r->domain);
		for (k = 0; k < fs->by.nkeys; k++) {
			putc(',', f);
			out_csv_str(f, r->key[k]);
		}
		fprintf(f, ",%" PRId64 ",%" PRId64 ",%.4f,%s,%" PRId64 ",",
		    r->failed, r->domain_sessions, r->share,
		    severity_name[r->severity], r->reporters);
		out_day(f, r->first_day);
		putc(',', f);
		out_day(f, r->last_day);
		putc(',', f);
		/* code=count pairs separated by spaces: one field */
		buf = NULL;
		len = 0;
		if ((m = open_memstream(&buf, &len)) != NULL) {
			for (k = 0; k < r->nreasons; k++)
				fprintf(m, "%s%s=%" PRId64, k > 0 ? " " : "",
				    r->reasons[k].name, r->reasons[k].n);
			if (fclose(m) == 0)
				out_csv_str(f, buf);
		}
		free(buf);
		putc('\n', f);
	}
}
