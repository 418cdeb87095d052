/*
 * digest_live.c -- `tlsrpt digest --live` (digest_live.h): runs the live
 * check of each domain of the digest here, in report-cli, and hands its
 * findings and MX certificate expiry to the model (digest_join_live()),
 * which never calls the network.
 *
 * Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
 */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "digest_live.h"
#include "tlsrpt_limits.h"

/* What live_check_many() hands each domain to. */
struct dl_run {
	struct digest_lives	*ls;
	const size_t		*dom;	/* the digest domain of name i */
};

static int	dl_each(void *, size_t, struct live_result *);
static char	*dl_str(struct arena *, const char *);

int
digest_live_run(struct digest *dg, const struct live_opts *o,
    struct digest_lives *ls)
{
	struct dl_run	 run;
	const char	**names = NULL;
	size_t		*dom = NULL, i, n = 0;
	char		 err[512];
	int		 ret = -1;

	memset(ls, 0, sizeof(*ls));
	if (dg->ndoms == 0)
		return 0;
	if ((ls->lv = calloc(dg->ndoms, sizeof(*ls->lv))) == NULL ||
	    (ls->ptr = calloc(dg->ndoms, sizeof(*ls->ptr))) == NULL ||
	    (names = calloc(dg->ndoms, sizeof(*names))) == NULL ||
	    (dom = calloc(dg->ndoms, sizeof(*dom))) == NULL) {
		cli_fail("digest --live: out of memory");
		goto out;
	}
	ls->n = dg->ndoms;
	/* the domains with a name (reports without one are not checked),
	 * the first LIM_LIVE_DOMAINS_MAX of them, worst first */
	for (i = 0; i < dg->ndoms && n < LIM_LIVE_DOMAINS_MAX; i++)
		if (dg->doms[i].name != NULL && dg->doms[i].name[0] != '\0') {
			names[n] = dg->doms[i].name;
			dom[n++] = i;
		}
	run.ls = ls;
	run.dom = dom;
	if (live_check_many(o, names, n, dl_each, &run, err,
	    sizeof(err)) == -1) {
		cli_fail("digest --live: %s", err[0] != '\0' ? err :
		    "out of memory");
		goto out;
	}
	digest_join_live(dg, ls->ptr);
	ret = 0;
out:
	free(names);
	free(dom);
	return ret;
}

/* One domain checked: its findings and MX certificates copied. */
static int
dl_each(void *arg, size_t i, struct live_result *r)
{
	struct dl_run		*run = arg;
	struct digest_lives	*ls = run->ls;
	struct digest_live	*l = &ls->lv[run->dom[i]];
	struct digest_live_item	*it;
	struct digest_live_cert	*c;
	size_t			 k;

	if (r->nf == 0)
		return 0;
	if ((it = arena_alloc(&ls->a, r->nf * sizeof(*it))) == NULL ||
	    (c = arena_alloc(&ls->a, (r->nmx + 1) * sizeof(*c))) == NULL)
		return -1;
	for (k = 0; k < r->nf; k++) {
		it[k].level = r->f[k].sev == LIVE_CRIT ? DG_CRITICAL :
		    r->f[k].sev == LIVE_WARN ? DG_WARNING : DG_OK;
		if ((it[k].code = dl_str(&ls->a, r->f[k].code)) == NULL ||
		    (it[k].what = dl_str(&ls->a, r->f[k].what)) == NULL ||
		    (it[k].next = dl_str(&ls->a, r->f[k].next)) == NULL)
			return -1;
		if (it[k].level > l->level)
			l->level = it[k].level;
	}
	l->items = it;
	l->nitems = r->nf;
	l->certs = c;
	for (k = 0; k < r->nmx; k++) {
		if (!r->mx[k].starttls || r->mx[k].cert_days == INT64_MIN)
			continue;
		if ((c[l->ncerts].mx = dl_str(&ls->a, r->mx[k].host)) == NULL)
			return -1;
		c[l->ncerts++].days = r->mx[k].cert_days;
	}
	ls->ptr[run->dom[i]] = l;
	return 0;
}

static char *
dl_str(struct arena *a, const char *s)
{
	return arena_strndup(a, s, strlen(s));
}

void
digest_lives_free(struct digest_lives *ls)
{
	if (ls == NULL)
		return;
	free(ls->lv);
	free(ls->ptr);
	arena_free(&ls->a);
	memset(ls, 0, sizeof(*ls));
}
