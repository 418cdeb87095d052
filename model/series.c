/*
 * series.c -- the dashboard's day-by-day models (series.h).
 *
 * Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
 */

#include <stdlib.h>
#include <string.h>

#include "digest.h"
#include "model.h"
#include "series.h"

static int64_t
day_of(int64_t t)
{
	int64_t	d = t / SERIES_DAY_SECONDS;

	if (t < 0 && t % SERIES_DAY_SECONDS != 0)
		d--;
	return d * SERIES_DAY_SECONDS;
}

size_t
series_ndays(int64_t since, int64_t until)
{
	int64_t	a = day_of(since), b;

	if (until <= since)
		return 0;
	b = day_of(until - 1);
	return (size_t)((b - a) / SERIES_DAY_SECONDS + 1);
}

/* The index of day in the window, or -1 outside. */
static long
slot(const struct series *x, int64_t day)
{
	int64_t	i = (day_of(day) - x->since) / SERIES_DAY_SECONDS;

	return i >= 0 && (size_t)i < x->ndays ? (long)i : -1;
}

static int
cmp_rt(const void *a, const void *b)
{
	const struct series_rt	*x = a, *y = b;

	if (x->total != y->total)
		return x->total > y->total ? -1 : 1;
	return strcmp(x->result_type, y->result_type);
}

int
series_build(const struct store_series *s, const char *domain, int64_t since,
    int64_t until, struct series *out)
{
	struct store_domain_summary	 sum;
	size_t				 i, j;
	long				 k;

	memset(out, 0, sizeof(*out));
	out->since = day_of(since);
	out->ndays = series_ndays(since, until);
	if ((out->days = calloc(out->ndays ? out->ndays : 1,
	    sizeof(*out->days))) == NULL)
		return -1;
	for (i = 0; i < out->ndays; i++)
		out->days[i].day = out->since + (int64_t)i * SERIES_DAY_SECONDS;
	for (i = 0; i < s->ndays; i++) {
		if (strcmp(s->days[i].domain, domain) != 0 ||
		    (k = slot(out, s->days[i].day)) == -1)
			continue;
		out->days[k].reports += s->days[i].reports;
		out->days[k].successful += s->days[i].successful;
		out->days[k].failed += s->days[i].failed;
	}
	for (i = 0; i < out->ndays; i++) {
		/* the digest model's rule, not a second one */
		memset(&sum, 0, sizeof(sum));
		sum.successful = out->days[i].successful;
		sum.failed = out->days[i].failed;
		out->days[i].sessions = model_sessions(&sum);
		out->days[i].frate = model_failure_rate(&sum);
	}

	for (i = 0; i < s->nrts; i++) {
		const struct store_day_rt *r = &s->rts[i];

		if (strcmp(r->domain, domain) != 0 ||
		    (k = slot(out, r->day)) == -1)
			continue;
		for (j = 0; j < out->nrts; j++)
			if (strcmp(out->rts[j].result_type,
			    r->result_type) == 0)
				break;
		if (j == out->nrts) {
			struct series_rt *n;

			if ((n = realloc(out->rts, (out->nrts + 1) *
			    sizeof(*n))) == NULL)
				return -1;
			out->rts = n;
			memset(&n[j], 0, sizeof(n[j]));
			n[j].result_type = r->result_type;
			out->nrts++;
			if ((n[j].failed = calloc(out->ndays ? out->ndays : 1,
			    sizeof(int64_t))) == NULL)
				return -1;
		}
		out->rts[j].failed[k] += r->failed;
		out->rts[j].total += r->failed;
	}
	if (out->nrts > 1)
		qsort(out->rts, out->nrts, sizeof(*out->rts), cmp_rt);

	/* s->cover is sorted by domain, reporter, day */
	for (i = 0; i < s->ncover; i++) {
		const struct store_cover *c = &s->cover[i];
		struct series_reporter	 *rp;

		if (strcmp(c->domain, domain) != 0 ||
		    (k = slot(out, c->day)) == -1)
			continue;
		if (out->nreps == 0 || strcmp(out->reps[out->nreps -
		    1].reporter, c->reporter) != 0) {
			if ((rp = realloc(out->reps, (out->nreps + 1) *
			    sizeof(*rp))) == NULL)
				return -1;
			out->reps = rp;
			rp = &rp[out->nreps++];
			memset(rp, 0, sizeof(*rp));
			rp->reporter = c->reporter;
			rp->last_day = -1;
			if ((rp->reports = calloc(out->ndays ? out->ndays : 1,
			    sizeof(int64_t))) == NULL)
				return -1;
		}
		rp = &out->reps[out->nreps - 1];
		if (rp->reports[k] == 0)
			rp->days++;
		rp->reports[k] += c->reports;
		if (out->days[k].day > rp->last_day)
			rp->last_day = out->days[k].day;
	}
	return 0;
}

void
series_free(struct series *x)
{
	size_t	i;

	for (i = 0; i < x->nrts; i++)
		free(x->rts[i].failed);
	for (i = 0; i < x->nreps; i++)
		free(x->reps[i].reports);
	free(x->rts);
	free(x->reps);
	free(x->days);
	memset(x, 0, sizeof(*x));
}
