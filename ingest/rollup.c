/*
 * rollup.c -- the per-day rollup rows of parsed reports, see rollup.h.
 *
 * Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ingest.h"
#include "rollup.h"

static enum rollup_status reserve(struct rollup *,
			    const struct tlsrpt_report *const *, size_t);
static enum rollup_status merge(struct rollup *, size_t);
static const char	*main_type(const struct tlsrpt_report *, const char *);
static int		 cmp_row_rep(const void *, const void *);
static int		 add64(int64_t *, int64_t);

void
rollup_init(struct rollup *r)
{
	memset(r, 0, sizeof(*r));
}

void
rollup_free(struct rollup *r)
{
	free(r->rows);
	free(r->mx);
	rollup_init(r);
}

enum rollup_status
rollup_build(struct rollup *ru, const struct tlsrpt_report *const *reps,
    size_t n)
{
	const struct tlsrpt_report	*rep;
	const struct tlsrpt_policy	*pol;
	const struct tlsrpt_detail	*d;
	struct rollup_row		*r, *w;
	const char			*pt, *c;
	char				*q;
	size_t				 nrows = 0, j, i, k;
	enum rollup_status		 rc;

	ru->nrows = 0;
	if ((rc = reserve(ru, reps, n)) != ROLLUP_OK)
		return rc;
	q = ru->mx;
	for (j = 0; j < n; j++) {
		rep = reps[j];
		for (i = 0; i < rep->npolicies; i++) {
			pol = &rep->policies[i];
			/* one totals row per (report, domain), merged below */
			r = &ru->rows[nrows++];
			r->domain = pol->domain != NULL ? pol->domain : "";
			r->start = rep->start;
			r->reporter = rep->reporter != NULL ? rep->reporter : "";
			r->ptype = main_type(rep, r->domain);
			r->result_type = "";
			r->mx = "";
			r->rep = j;
			r->reports = 1;
			r->successful = pol->counted ?
			    (int64_t)pol->successful : 0;
			r->failed = pol->counted ? (int64_t)pol->failed : 0;
			if (!pol->counted)
				continue;
			pt = tlsrpt_ptype_str(pol->type);
			for (k = 0; k < pol->ndetails; k++) {
				d = &pol->details[k];
				w = &ru->rows[nrows++];
				*w = *r;
				w->ptype = pt;
				w->result_type = d->result_type != NULL &&
				    *d->result_type != '\0' ?
				    d->result_type : "unknown";
				if (d->receiving_mx != NULL) {
					w->mx = q;
					for (c = d->receiving_mx; *c != '\0';
					    c++)
						*q++ = (*c >= 'A' && *c <= 'Z') ?
						    (char)(*c - 'A' + 'a') : *c;
					*q++ = '\0';
				}
				w->successful = 0;
				w->failed = (int64_t)d->failed_sessions;
			}
		}
	}
	return merge(ru, nrows);
}

/*
 * Room for every row reps can make (one per policy and per detail) and
 * for their MX names; checks that each count fits in int64.
 */
static enum rollup_status
reserve(struct rollup *ru, const struct tlsrpt_report *const *reps, size_t n)
{
	const struct tlsrpt_policy	*pol;
	const struct tlsrpt_detail	*d;
	struct rollup_row		*nr;
	char				*nmx;
	size_t				 need = 0, mxlen = 0, j, i, k;

	for (j = 0; j < n; j++) {
		for (i = 0; i < reps[j]->npolicies; i++) {
			pol = &reps[j]->policies[i];
			if (pol->successful > INT64_MAX ||
			    pol->failed > INT64_MAX)
				return ROLLUP_E_RANGE;
			need += 1 + pol->ndetails;
			for (k = 0; k < pol->ndetails; k++) {
				d = &pol->details[k];
				if (d->failed_sessions > INT64_MAX)
					return ROLLUP_E_RANGE;
				if (d->receiving_mx != NULL)
					mxlen += strlen(d->receiving_mx) + 1;
			}
		}
	}
	if (need > ru->rowscap) {
		if ((nr = reallocarray(ru->rows, need, sizeof(*nr))) == NULL)
			return ROLLUP_E_NOMEM;
		ru->rows = nr;
		ru->rowscap = need;
	}
	if (mxlen > ru->mxcap) {
		if ((nmx = realloc(ru->mx, mxlen)) == NULL)
			return ROLLUP_E_NOMEM;
		ru->mx = nmx;
		ru->mxcap = mxlen;
	}
	return ROLLUP_OK;
}

/*
 * Sort rows[0..nrows) and merge equal keys; a report adds 1 to reports
 * once per row (no rows, and ru->rows may be NULL, when every report
 * has `policies: []`).
 */
static enum rollup_status
merge(struct rollup *ru, size_t nrows)
{
	struct rollup_row	*r, *w;
	size_t			 i, k;

	if (nrows > 1)
		qsort(ru->rows, nrows, sizeof(*ru->rows), cmp_row_rep);
	for (i = 0, k = 0; i < nrows; i++) {
		r = &ru->rows[i];
		if (k > 0 && rollup_row_cmp(&ru->rows[k - 1], r) == 0) {
			w = &ru->rows[k - 1];
			if (w->rep != r->rep) {
				w->reports++;
				w->rep = r->rep;
			}
			if (add64(&w->successful, r->successful) == -1 ||
			    add64(&w->failed, r->failed) == -1)
				return ROLLUP_E_RANGE;
			continue;
		}
		ru->rows[k++] = *r;
	}
	ru->nrows = k;
	return ROLLUP_OK;
}

int
rollup_row_cmp(const struct rollup_row *x, const struct rollup_row *y)
{
	int	c;

	if ((c = strcmp(x->domain, y->domain)) != 0)
		return c;
	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	if ((c = strcmp(x->reporter, y->reporter)) != 0)
		return c;
	if ((c = strcmp(x->ptype, y->ptype)) != 0)
		return c;
	if ((c = strcmp(x->result_type, y->result_type)) != 0)
		return c;
	return strcmp(x->mx, y->mx);
}

/* Rows by key, then by report. */
static int
cmp_row_rep(const void *a, const void *b)
{
	const struct rollup_row	*x = a, *y = b;
	int			 c;

	if ((c = rollup_row_cmp(x, y)) != 0)
		return c;
	return x->rep < y->rep ? -1 : x->rep > y->rep;
}

/*
 * The policy type a (report, domain) is counted under: the type the
 * accounting rule chose (sts, tlsa or other), no-policy-found when that
 * is all the report has for the domain, else the first policy's type.
 */
static const char *
main_type(const struct tlsrpt_report *rep, const char *domain)
{
	const struct tlsrpt_policy	*pol;
	const char			*first = NULL;
	size_t				 i;
	int				 npf = 0;

	for (i = 0; i < rep->npolicies; i++) {
		pol = &rep->policies[i];
		if (strcmp(pol->domain != NULL ? pol->domain : "", domain) != 0)
			continue;
		if (first == NULL)
			first = tlsrpt_ptype_str(pol->type);
		if (!pol->counted)
			continue;
		if (pol->type != TLSRPT_PT_NOPOLICY)
			return tlsrpt_ptype_str(pol->type);
		npf = 1;
	}
	if (npf)
		return tlsrpt_ptype_str(TLSRPT_PT_NOPOLICY);
	return first != NULL ? first : "other";
}

/* *a += b, or -1 when the sum leaves int64 (both are >= 0 here). */
static int
add64(int64_t *a, int64_t b)
{
	if (b > 0 && *a > INT64_MAX - b)
		return -1;
	*a += b;
	return 0;
}
