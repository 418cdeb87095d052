/*
 * digest.c -- the model of `tlsrpt digest` (digest.h): the figures per
 * domain for this period and the previous one, what is new, who went
 * silent, the readiness verdict of testing domains, and a status each.
 * Nothing here prints; report-cli/digest_text.c and digest_html.c render
 * it.
 *
 * Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
 */

#include <stdlib.h>
#include <string.h>

#include "digest.h"
#include "model.h"
#include "readiness.h"

static const char	*status_name[] = { "OK", "WARNING", "CRITICAL" };

static int	digest_load(struct digest *, struct store *,
		    const struct store_window *);
static int	digest_build(struct digest *);

const char *
digest_status_str(int s)
{
	return status_name[s];
}

int
digest_compute(struct digest *dg, struct store *st,
    const struct store_window *win)
{
	memset(dg, 0, sizeof(*dg));
	dg->since = win->since;
	dg->until = win->until;
	dg->prev_since = win->since - (win->until - win->since);
	if (digest_load(dg, st, win) == -1)
		return -1;
	return digest_build(dg) == -1 ? -2 : 0;
}

static int
digest_load(struct digest *dg, struct store *st,
    const struct store_window *win)
{
	struct store_window	 pw, rw;

	pw = *win;
	pw.until = win->since;
	pw.since = dg->prev_since;
	if (store_summary(st, win, &dg->cur, &dg->ncur) == -1 ||
	    store_summary(st, &pw, &dg->prev, &dg->nprev) == -1 ||
	    store_digest_data(st, win, 1, &dg->dcur) == -1 ||
	    store_digest_data(st, &pw, 0, &dg->dprev) == -1)
		return -1;
	if (dg->dcur.ntesting == 0)
		return 0;
	rw = *win;
	rw.since = win->until - DIGEST_READY_DAYS * MODEL_DAY_SECONDS;
	rw.domains = (const char *const *)dg->dcur.testing;
	rw.ndomains = dg->dcur.ntesting;
	return store_readiness(st, &rw, &dg->rd, &dg->nrd);
}

/* --- the figures per domain ------------------------------------------- */

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int
cmp_ddomain(const void *a, const void *b)
{
	const struct digest_domain	*x = a, *y = b;

	if (x->status != y->status)
		return x->status > y->status ? -1 : 1;
	if (x->notable != y->notable)
		return x->notable > y->notable ? -1 : 1;
	return strcmp(x->name, y->name);
}

/* The summary of name in s[0..n) (sorted by domain), or NULL. */
static const struct store_domain_summary *
find_summary(const struct store_domain_summary *s, size_t n, const char *name)
{
	size_t	lo = 0, hi = n, mid;
	int	c;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if ((c = strcmp(s[mid].domain, name)) == 0)
			return &s[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* The run of rows of domain name in an array sorted by domain. */
#define FIND_RUN(arr, n, name, outp, outn) do {				\
	size_t	lo_ = 0, hi_ = (n), mid_;				\
									\
	while (lo_ < hi_) {						\
		mid_ = lo_ + (hi_ - lo_) / 2;				\
		if (strcmp((arr)[mid_].domain, (name)) < 0)		\
			lo_ = mid_ + 1;					\
		else							\
			hi_ = mid_;					\
	}								\
	(outp) = &(arr)[lo_];						\
	for (hi_ = lo_; hi_ < (n) && strcmp((arr)[hi_].domain,		\
	    (name)) == 0; hi_++)					\
		;							\
	(outn) = hi_ - lo_;						\
} while (0)

/* 1 when reporter d->prdays[i] went silent: it reported on more than
 * half the previous period's days and on none of this one. */
static int
digest_silent(const struct digest *dg, const struct digest_domain *d, size_t i)
{
	int64_t	pdays = model_window_days(dg->prev_since, dg->since);
	size_t	j;

	if (2 * d->prdays[i].days <= pdays)
		return 0;
	for (j = 0; j < d->nrdays; j++)
		if (strcmp(d->rdays[j].reporter, d->prdays[i].reporter) == 0)
			return 0;
	return 1;
}

static int
has_rt(const struct store_domain_summary *s, const char *rt)
{
	size_t	i;

	for (i = 0; s != NULL && i < s->nrts; i++)
		if (strcmp(s->rts[i].result_type, rt) == 0 &&
		    s->rts[i].failed_sessions > 0)
			return 1;
	return 0;
}

static int
has_mx(const struct store_fail_mx *f, size_t n, const char *mx)
{
	size_t	i;

	for (i = 0; i < n; i++)
		if (strcmp(f[i].mx, mx) == 0)
			return 1;
	return 0;
}

/* 1 when d->fails[i].mx fails now, in no row before i, nor before. */
static int
digest_new_mx(const struct digest_domain *d, size_t i)
{
	const char	*mx = d->fails[i].mx;

	return mx[0] != '\0' && !has_mx(d->fails, i, mx) &&
	    !has_mx(d->pfails, d->npfails, mx);
}

/* 1 when d->cur->rts[i] failed now and not in the previous period. */
static int
digest_new_rt(const struct digest_domain *d, size_t i)
{
	return d->cur->rts[i].failed_sessions > 0 &&
	    !has_rt(d->prev, d->cur->rts[i].result_type);
}

static int
digest_build(struct digest *dg)
{
	struct digest_domain		*d;
	const char			**names = NULL;
	size_t				 i, n = 0, k, nrts;
	int				 lvl, rc = -1;

	/* this period's domains, and the previous one's with a reporter
	 * gone silent (perhaps every one: no reports now at all) */
	if ((names = calloc(dg->ncur + dg->nprev + 1, sizeof(*names))) == NULL)
		return -1;
	for (i = 0; i < dg->ncur; i++)
		names[n++] = dg->cur[i].domain;
	for (i = 0; i < dg->nprev; i++)
		if (find_summary(dg->cur, dg->ncur, dg->prev[i].domain) ==
		    NULL)
			names[n++] = dg->prev[i].domain;
	if (n > 1)
		qsort(names, n, sizeof(*names), cmp_str);
	if (n > 0 && (dg->doms = calloc(n, sizeof(*dg->doms))) == NULL)
		goto out;
	for (i = 0; i < n; i++) {
		d = &dg->doms[dg->ndoms];
		d->name = names[i];
		d->cur = find_summary(dg->cur, dg->ncur, d->name);
		d->prev = find_summary(dg->prev, dg->nprev, d->name);
		FIND_RUN(dg->dcur.fails, dg->dcur.nfails, d->name, d->fails,
		    d->nfails);
		FIND_RUN(dg->dprev.fails, dg->dprev.nfails, d->name, d->pfails,
		    d->npfails);
		FIND_RUN(dg->dcur.rdays, dg->dcur.nrdays, d->name, d->rdays,
		    d->nrdays);
		FIND_RUN(dg->dprev.rdays, dg->dprev.nrdays, d->name,
		    d->prdays, d->nprdays);
		nrts = d->cur != NULL ? d->cur->nrts : 0;
		if ((d->silent = calloc(nrts + d->nfails + d->nprdays + 1,
		    sizeof(*d->silent))) == NULL)
			goto out;
		d->new_rts = d->silent + d->nprdays;
		d->new_mxs = d->new_rts + nrts;
		for (k = 0; k < d->nprdays; k++)
			if (digest_silent(dg, d, k)) {
				d->silent[d->nsilent++] = k;
				d->status = DG_WARNING;
				d->notable = 1;
			}
		if (d->cur == NULL && !d->notable) {
			free(d->silent);	/* nothing now, nobody missing */
			memset(d, 0, sizeof(*d));
			continue;
		}
		for (k = 0; k < nrts; k++)
			if (digest_new_rt(d, k))
				d->new_rts[d->nnew_rts++] = k;
		for (k = 0; k < d->nfails; k++)
			if (digest_new_mx(d, k))
				d->new_mxs[d->nnew_mxs++] = k;
		d->sessions = model_sessions(d->cur);
		d->prev_sessions = model_sessions(d->prev);
		d->frate = model_failure_rate(d->cur);
		d->prev_frate = model_failure_rate(d->prev);
		if ((lvl = (int)model_rts_level(d->cur != NULL ? d->cur->rts :
		    NULL, nrts)) > d->status)
			d->status = lvl;
		dg->ndoms++;		/* digest_free() frees it from here */
		FIND_RUN(dg->rd, dg->nrd, d->name, d->rd, k);
		if (k == 0)
			d->rd = NULL;
		if (d->rd != NULL) {
			struct rd_limits lim;

			rd_limits_default(&lim);
			if (rd_evaluate(d->rd, &lim, &d->ev) == -1)
				goto out;
			d->notable = 1;
		}
		if (d->status != DG_OK || d->nfails > 0)
			d->notable = 1;
		dg->count[d->status]++;
		if (d->status > dg->worst)
			dg->worst = d->status;
	}
	if (dg->ndoms > 1)
		qsort(dg->doms, dg->ndoms, sizeof(*dg->doms), cmp_ddomain);
	rc = 0;
 out:
	free(names);
	return rc;
}

void
digest_join_live(struct digest *dg, const struct digest_live *const *live)
{
	struct digest_domain	*d;
	size_t			 i;

	dg->worst = DG_OK;
	memset(dg->count, 0, sizeof(dg->count));
	for (i = 0; i < dg->ndoms; i++) {
		d = &dg->doms[i];
		if (live[i] != NULL && live[i]->nitems > 0) {
			d->live = live[i];
			if (live[i]->level > d->status)
				d->status = live[i]->level;
			d->notable = 1;
		}
		dg->count[d->status]++;
		if (d->status > dg->worst)
			dg->worst = d->status;
	}
	if (dg->ndoms > 1)
		qsort(dg->doms, dg->ndoms, sizeof(*dg->doms), cmp_ddomain);
}

void
digest_free(struct digest *dg)
{
	size_t	i;

	for (i = 0; i < dg->ndoms; i++) {
		rd_eval_free(&dg->doms[i].ev);
		free(dg->doms[i].silent);	/* and the other indices */
	}
	free(dg->doms);
	store_summary_free(dg->cur, dg->ncur);
	store_summary_free(dg->prev, dg->nprev);
	store_digest_data_free(&dg->dcur);
	store_digest_data_free(&dg->dprev);
	store_readiness_free(dg->rd, dg->nrd);
	memset(dg, 0, sizeof(*dg));
}
