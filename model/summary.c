/*
 * summary.c -- the model of `tlsrpt summary` (summary.h): the store's
 * rows per domain, with sessions, the failure rate, the flags and the
 * status worked out once, and the order of the text table.
 *
 * Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
 */

#include <stdlib.h>
#include <string.h>

#include "ingest.h"
#include "model.h"
#include "summary.h"

static int	summary_build(struct summary *);

/* A domain in the text table's order: its status, then store order. */
struct rank {
	size_t			i;
	enum model_level	status;
};

static int
cmp_rank(const void *a, const void *b)
{
	const struct rank	*x = a, *y = b;

	if (x->status != y->status)
		return x->status > y->status ? -1 : 1;	/* critical first */
	return x->i < y->i ? -1 : x->i > y->i;		/* then by domain */
}

int
summary_compute(struct store *st, const struct store_window *win,
    struct summary *out)
{
	memset(out, 0, sizeof(*out));
	out->since = win->since;
	out->until = win->until;
	out->trusted_only = win->trusted_only;
	if (store_summary(st, win, &out->rows_, &out->nrows_) == -1 ||
	    store_totals(st, win, &out->totals) == -1)
		return -1;
	return summary_build(out) == -1 ? -2 : 0;
}

static int
summary_build(struct summary *sm)
{
	const struct store_domain_summary *r;
	struct summary_domain	*d;
	struct summary_flag	*fl;
	struct rank		*rank = NULL;
	size_t			 i, j;
	int			 rc = -1;

	if (sm->nrows_ == 0)
		return 0;
	if ((sm->domains = calloc(sm->nrows_, sizeof(*sm->domains))) ==
	    NULL || (sm->by_status = calloc(sm->nrows_,
	    sizeof(*sm->by_status))) == NULL ||
	    (rank = calloc(sm->nrows_, sizeof(*rank))) == NULL)
		goto out;
	for (i = 0; i < sm->nrows_; i++) {
		r = &sm->rows_[i];
		d = &sm->domains[sm->ndomains++];
		d->domain = r->domain;
		d->reports = r->reports;
		d->reporters = r->reporters;
		d->successful = r->successful;
		d->failed = r->failed;
		d->sessions = model_sessions(r);
		d->failure_rate = model_failure_rate(r);
		d->status = model_rts_level(r->rts, r->nrts);
		if (d->status > sm->worst)
			sm->worst = d->status;
		if (r->nrts > 0 && (d->flags = calloc(r->nrts,
		    sizeof(*d->flags))) == NULL)
			goto out;
		for (j = 0; j < r->nrts; j++) {
			fl = &d->flags[d->nflags++];
			fl->type = r->rts[j].result_type;
			fl->severity = tlsrpt_result_severity(fl->type);
			fl->meaning = tlsrpt_result_meaning(fl->type);
			fl->failed_sessions = r->rts[j].failed_sessions;
			fl->level = model_rt_level(fl->type);
		}
		rank[i].i = i;
		rank[i].status = d->status;
	}
	qsort(rank, sm->ndomains, sizeof(*rank), cmp_rank);
	for (i = 0; i < sm->ndomains; i++)
		sm->by_status[i] = rank[i].i;
	rc = 0;
 out:
	free(rank);
	return rc;
}

void
summary_free(struct summary *sm)
{
	size_t	i;

	for (i = 0; i < sm->ndomains; i++)
		free(sm->domains[i].flags);
	free(sm->domains);
	free(sm->by_status);
	store_summary_free(sm->rows_, sm->nrows_);
	memset(sm, 0, sizeof(*sm));
}
