/*
 * store_query.c -- the queries the CLI needs, answered from the rollup.
 *
 * Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
 */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "store.h"
#include "store_int.h"
#include "util.h"

/*
 * Both queries read the rollup, which holds the counted set of the
 * session accounting rule (schema/001_init.sql): the totals rows, one
 * per (report, domain), and the failure rows.  Domains sort byte-wise
 * (COLLATE "C"), as strcmp does.
 */
#define SQL_WINDOW							\
	" period_start >= $1::timestamptz AND period_start < $2::timestamptz"\
	" AND ($3::text[] IS NULL OR policy_domain = ANY ($3::text[]))"

#define SQL_TOTALS							\
	"SELECT policy_domain, pg_catalog.sum(reports)::bigint,"	\
	" pg_catalog.count(DISTINCT reporter),"			\
	" pg_catalog.sum(successful_sessions)::bigint,"		\
	" pg_catalog.sum(failed_sessions)::bigint"			\
	" FROM tlsrpt.rollup"						\
	" WHERE result_type = '' AND" SQL_WINDOW	\
	" GROUP BY policy_domain ORDER BY policy_domain COLLATE \"C\""

#define SQL_RESULTS							\
	"SELECT policy_domain, result_type,"				\
	" pg_catalog.sum(failed_sessions)::bigint AS failed"		\
	" FROM tlsrpt.rollup"						\
	" WHERE result_type <> '' AND" SQL_WINDOW		\
	" GROUP BY policy_domain, result_type"				\
	" ORDER BY policy_domain COLLATE \"C\", failed DESC,"		\
	" result_type COLLATE \"C\""

/*
 * --trusted-only: the rollup has no trust column (a trusted report and
 * an untrusted one of the same reporter, day and domain add up in one
 * row), so the same figures are computed from the base tables of the
 * trusted reports, following the rollup's rules (schema/001_init.sql):
 * reports per (report, domain), sessions of the counted policies,
 * failure details of the counted policies by result type.  Slower than
 * the rollup, but the trusted reports are a small set found by a partial
 * index (schema/002_report_dkim.sql).
 */
#define SQL_TWINDOW							\
	" r.trusted AND r.date_start >= $1::timestamptz"		\
	" AND r.date_start < $2::timestamptz"				\
	" AND ($3::text[] IS NULL OR p.policy_domain = ANY ($3::text[]))"

#define SQL_TTOTALS							\
	"SELECT p.policy_domain,"					\
	" pg_catalog.count(DISTINCT p.report_no),"			\
	" pg_catalog.count(DISTINCT r.reporter),"			\
	" COALESCE(pg_catalog.sum(p.successful_sessions)"		\
	"  FILTER (WHERE p.counted), 0)::bigint,"			\
	" COALESCE(pg_catalog.sum(p.failed_sessions)"			\
	"  FILTER (WHERE p.counted), 0)::bigint"			\
	" FROM tlsrpt.report r JOIN tlsrpt.policy p"			\
	"  ON p.report_no = r.report_no"				\
	" WHERE" SQL_TWINDOW						\
	" GROUP BY p.policy_domain ORDER BY p.policy_domain COLLATE \"C\""

#define SQL_TRESULTS							\
	"SELECT p.policy_domain, f.result_type,"			\
	" pg_catalog.sum(f.failed_sessions)::bigint AS failed"		\
	" FROM tlsrpt.report r JOIN tlsrpt.policy p"			\
	"  ON p.report_no = r.report_no"				\
	" JOIN tlsrpt.failure_detail f ON f.report_no = p.report_no"	\
	"  AND f.policy_idx = p.idx"					\
	" WHERE p.counted AND" SQL_TWINDOW				\
	" GROUP BY p.policy_domain, f.result_type"			\
	" ORDER BY p.policy_domain COLLATE \"C\", failed DESC,"	\
	" f.result_type COLLATE \"C\""

/*
 * Totals from the base tables: a report with several domains counts
 * once, one with `policies: []` counts too.  report_date_start_idx finds
 * the window; the conflicting copies are few (006's partial index).
 */
#define SQL_RWINDOW							\
	" r.date_start >= $1::timestamptz AND r.date_start < $2::timestamptz"\
	" AND ($4::boolean IS NOT TRUE OR r.trusted)"			\
	" AND ($3::text[] IS NULL OR EXISTS (SELECT 1 FROM tlsrpt.policy p"\
	"  WHERE p.report_no = r.report_no"				\
	"  AND p.policy_domain = ANY ($3::text[])))"

#define SQL_TOTAL_REPORTS						\
	"SELECT pg_catalog.count(*) FROM tlsrpt.report r WHERE" SQL_RWINDOW

#define SQL_TOTAL_DOMAINS						\
	"SELECT pg_catalog.count(DISTINCT p.policy_domain)"		\
	" FROM tlsrpt.report r JOIN tlsrpt.policy p"			\
	"  ON p.report_no = r.report_no WHERE" SQL_RWINDOW		\
	" AND ($3::text[] IS NULL OR p.policy_domain = ANY ($3::text[]))"

#define SQL_TOTAL_CONFLICTS						\
	"SELECT pg_catalog.count(*) FROM tlsrpt.arrival a"		\
	" JOIN tlsrpt.report r ON r.report_no = a.report_no"		\
	" WHERE a.note = 'conflicting copy' AND" SQL_RWINDOW

static int64_t	 clamp_time(int64_t);

int
store_summary(struct store *st, const struct store_window *w,
    struct store_domain_summary **out, size_t *n)
{
	struct store_domain_summary	*ds = NULL, *d;
	PGresult			*tot = NULL, *rt = NULL;
	char				 since[UTIL_TIME_BUFSZ];
	char				 until[UTIL_TIME_BUFSZ];
	struct sarray			 doms;
	const char			*pv[3], *name;
	size_t				 nd = 0, k;
	int				 r, intx = 0, rc = -1;

	*out = NULL;
	*n = 0;
	store_sarray_init(&doms);
	util_format_datetime(clamp_time(w->since), since, sizeof(since));
	util_format_datetime(clamp_time(w->until), until, sizeof(until));
	pv[0] = since;
	pv[1] = until;
	pv[2] = NULL;			/* all domains */
	if (w->domains != NULL && w->ndomains > 0) {
		for (k = 0; k < w->ndomains; k++)
			store_sarray_add(&doms, w->domains[k]);
		if ((pv[2] = store_sarray_end(&doms)) == NULL) {
			store_seterrx(st, "summary: out of memory");
			goto out;
		}
	}

	/* One snapshot for both queries: an import between them would
	 * make the result types disagree with the totals. */
	if (store_cmd(st, "summary failed", "BEGIN ISOLATION LEVEL"
	    " REPEATABLE READ READ ONLY", 0, NULL) == -1)
		goto out;
	intx = 1;
	if ((tot = store_exec(st, "summary failed", w->trusted_only ?
	    SQL_TTOTALS : SQL_TOTALS, 3, pv, PGRES_TUPLES_OK)) == NULL)
		goto out;
	if ((rt = store_exec(st, "summary failed", w->trusted_only ?
	    SQL_TRESULTS : SQL_RESULTS, 3, pv, PGRES_TUPLES_OK)) == NULL)
		goto out;
	if (store_cmd(st, "summary failed", "COMMIT", 0, NULL) == -1)
		goto out;
	intx = 0;

	nd = (size_t)PQntuples(tot);
	if (nd > 0 && (ds = calloc(nd, sizeof(*ds))) == NULL) {
		store_seterrx(st, "summary: out of memory");
		goto out;
	}
	for (k = 0; k < nd; k++) {
		d = &ds[k];
		if ((d->domain = strdup(PQgetvalue(tot, (int)k, 0))) == NULL) {
			store_seterrx(st, "summary: out of memory");
			goto out;
		}
		d->reports = store_getint(tot, (int)k, 1);
		d->reporters = store_getint(tot, (int)k, 2);
		d->successful = store_getint(tot, (int)k, 3);
		d->failed = store_getint(tot, (int)k, 4);
	}

	/* Both results are in domain order: count, then fill. */
	for (k = 0, r = 0; r < PQntuples(rt); r++) {
		name = PQgetvalue(rt, r, 0);
		while (k < nd && strcmp(ds[k].domain, name) < 0)
			k++;
		if (k < nd && strcmp(ds[k].domain, name) == 0)
			ds[k].nrts++;
	}
	for (k = 0; k < nd; k++) {
		if (ds[k].nrts == 0)
			continue;
		if ((ds[k].rts = calloc(ds[k].nrts, sizeof(*ds[k].rts))) ==
		    NULL) {
			store_seterrx(st, "summary: out of memory");
			goto out;
		}
		ds[k].nrts = 0;
	}
	for (k = 0, r = 0; r < PQntuples(rt); r++) {
		name = PQgetvalue(rt, r, 0);
		while (k < nd && strcmp(ds[k].domain, name) < 0)
			k++;
		if (k == nd || strcmp(ds[k].domain, name) != 0)
			continue;
		d = &ds[k];
		if ((d->rts[d->nrts].result_type =
		    strdup(PQgetvalue(rt, r, 1))) == NULL) {
			store_seterrx(st, "summary: out of memory");
			goto out;
		}
		d->rts[d->nrts].failed_sessions = store_getint(rt, r, 2);
		d->nrts++;
	}
	*out = ds;
	*n = nd;
	ds = NULL;
	rc = 0;
 out:
	if (intx)
		store_rollback(st);
	store_summary_free(ds, nd);
	PQclear(tot);
	PQclear(rt);
	store_sarray_free(&doms);
	return rc;
}

void
store_summary_free(struct store_domain_summary *ds, size_t n)
{
	size_t	i, j;

	if (ds == NULL)
		return;
	for (i = 0; i < n; i++) {
		free(ds[i].domain);
		for (j = 0; j < ds[i].nrts; j++)
			free(ds[i].rts[j].result_type);
		free(ds[i].rts);
	}
	free(ds);
}

/* Open-ended windows (0, INT64_MAX) become the range timestamptz takes. */
static int64_t
clamp_time(int64_t t)
{
	if (t < STORE_TIME_MIN)
		return STORE_TIME_MIN;
	if (t > STORE_TIME_MAX)
		return STORE_TIME_MAX;
	return t;
}

int
store_totals(struct store *st, const struct store_window *w,
    struct store_totals *t)
{
	static const char *const sql[] = { SQL_TOTAL_REPORTS,
	    SQL_TOTAL_DOMAINS, SQL_TOTAL_CONFLICTS };
	int64_t		*dst[3];
	PGresult	*res;
	char		 since[UTIL_TIME_BUFSZ], until[UTIL_TIME_BUFSZ];
	struct sarray	 doms;
	const char	*pv[4];
	size_t		 k;
	int		 intx = 0, rc = -1;

	memset(t, 0, sizeof(*t));
	dst[0] = &t->reports;
	dst[1] = &t->domains;
	dst[2] = &t->conflicting;
	store_sarray_init(&doms);
	util_format_datetime(clamp_time(w->since), since, sizeof(since));
	util_format_datetime(clamp_time(w->until), until, sizeof(until));
	pv[0] = since;
	pv[1] = until;
	pv[2] = NULL;
	pv[3] = w->trusted_only ? "true" : "false";
	if (w->domains != NULL && w->ndomains > 0) {
		for (k = 0; k < w->ndomains; k++)
			store_sarray_add(&doms, w->domains[k]);
		if ((pv[2] = store_sarray_end(&doms)) == NULL) {
			store_seterrx(st, "totals: out of memory");
			goto out;
		}
	}
	if (store_cmd(st, "totals failed", "BEGIN ISOLATION LEVEL"
	    " REPEATABLE READ READ ONLY", 0, NULL) == -1)
		goto out;
	intx = 1;
	for (k = 0; k < 3; k++) {
		if ((res = store_exec(st, "totals failed", sql[k], 4, pv,
		    PGRES_TUPLES_OK)) == NULL)
			goto out;
		*dst[k] = PQntuples(res) == 1 ? store_getint(res, 0, 0) : 0;
		PQclear(res);
	}
	if (store_cmd(st, "totals failed", "COMMIT", 0, NULL) == -1)
		goto out;
	intx = 0;
	rc = 0;
 out:
	if (intx)
		store_rollback(st);
	store_sarray_free(&doms);
	return rc;
}
