/*
 * overview.c -- the model of the dashboard's overview (overview.h): the
 * digest's figures per domain, copied out into rows that outlive the
 * digest, and the MTA-STS modes of a domain's reports.
 *
 * Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
 */

#include <stdlib.h>
#include <string.h>

#include "digest.h"
#include "model.h"
#include "overview.h"
#include "readiness.h"

int
overview_compute(struct overview *ov, struct store *st,
    const struct store_window *win)
{
	struct digest		 dg;
	struct overview_row	*o;
	const struct digest_domain *d;
	size_t			 i;
	int			 rc;

	memset(ov, 0, sizeof(*ov));
	ov->since = win->since;
	ov->until = win->until;
	if ((rc = digest_compute(&dg, st, win)) != 0)
		goto out;
	rc = -2;
	if ((ov->rows = arena_alloc(&ov->a, (dg.ndoms + 1) *
	    sizeof(*ov->rows))) == NULL)
		goto out;
	for (i = 0; i < dg.ndoms; i++) {
		d = &dg.doms[i];
		o = &ov->rows[i];
		memset(o, 0, sizeof(*o));
		if ((o->name = arena_strndup(&ov->a, d->name,
		    strlen(d->name))) == NULL)
			goto out;
		o->status = d->status;
		o->verdict = d->rd != NULL ? (int)d->ev.verdict : -1;
		o->reports = d->cur != NULL ? d->cur->reports : 0;
		o->reporters = d->cur != NULL ? d->cur->reporters : 0;
		o->sessions = model_sessions(d->cur);
		o->successful = d->cur != NULL ? d->cur->successful : 0;
		o->failed = d->cur != NULL ? d->cur->failed : 0;
		o->frate = model_failure_rate(d->cur);
	}
	ov->n = dg.ndoms;
	rc = 0;
 out:
	digest_free(&dg);
	return rc;
}

void
overview_free(struct overview *ov)
{
	arena_free(&ov->a);
	memset(ov, 0, sizeof(*ov));
}

size_t
overview_bytes(const struct overview *ov)
{
	return ov->a.used;
}

const struct store_sts_mode *
overview_modes(const struct store_sts_modes *m, const char *domain,
    size_t *n)
{
	size_t	lo = 0, hi = m->n, mid, e;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (strcmp(m->v[mid].domain, domain) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (e = lo; e < m->n && strcmp(m->v[e].domain, domain) == 0; e++)
		;
	*n = e - lo;
	return *n > 0 ? &m->v[lo] : NULL;
}

const char *
overview_mode_str(const char *mode)
{
	return *mode != '\0' ? mode : "(none)";
}
