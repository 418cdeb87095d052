/*
 * store_report.c -- the queries of `tlsrpt failures`, `tlsrpt readiness`
 * and `tlsrpt digest`.
 *
 * Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
 *
 * Each function reads in one REPEATABLE READ READ ONLY transaction, so
 * that an import running meanwhile cannot make its figures disagree.
 * Failure breakdowns by IP address and reason code need the failure
 * details themselves (tlsrpt.failure_detail, joined to the report for
 * its date and reporter); what the rollup holds is read from the rollup.
 */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "store.h"
#include "store_int.h"
#include "util.h"

#define DAY_SECONDS	86400

/* $1 since, $2 until, $3 domains (NULL: all) on the rollup. */
#define SQL_RWINDOW							\
	" period_start >= $1::timestamptz AND period_start < $2::timestamptz"\
	" AND ($3::text[] IS NULL OR policy_domain = ANY ($3::text[]))"

/* The same on tlsrpt.report r and tlsrpt.policy p. */
#define SQL_PWINDOW							\
	" r.date_start >= $1::timestamptz AND r.date_start < $2::timestamptz"\
	" AND ($3::text[] IS NULL OR p.policy_domain = ANY ($3::text[]))"

#define SQL_DAY(col)							\
	" ((" col ") AT TIME ZONE 'UTC')::date"

#define SQL_EPOCH(e)	" pg_catalog.date_part('epoch', " e ")::bigint"

#define SQL_KEYS	"dom, rt, mx, rep, sip, rip"

/*
 * A page of the groups ($10 of them, NULL for all, from the $11th) in
 * the order store_failures() returns them (cmp_failure()), and how many
 * groups there are before it (total).
 */
#define SQL_FAIL_PAGE							\
	" ORDER BY dom COLLATE \"C\", n DESC, rt COLLATE \"C\","	\
	" mx COLLATE \"C\", rep COLLATE \"C\", sip COLLATE \"C\","	\
	" rip COLLATE \"C\" LIMIT $10::bigint OFFSET $11::bigint"

/*
 * Failures.  $4..$8 say which keys group (result type, MX, reporter,
 * sending IP, receiving IP); a key not grouped by is '' for every row.
 * $9 is how many reason codes and reporters to list per group.  The
 * answer interleaves, in key order, a group row (kind 0: failed, distinct
 * reporters, first and last day, the domain's sessions) with its lists
 * (kind 1 result types, 2 reason codes, 3 reporters: name and failed
 * sessions, most first).
 */
#define SQL_FAILURES							\
	"WITH d AS MATERIALIZED (SELECT p.policy_domain AS dom,"	\
	" CASE WHEN $4::boolean THEN f.result_type ELSE '' END AS rt,"	\
	" CASE WHEN $5::boolean THEN pg_catalog.rtrim(pg_catalog.lower(" \
	"  COALESCE(f.receiving_mx, '')), '.') ELSE '' END AS mx,"	\
	" CASE WHEN $6::boolean THEN r.reporter ELSE '' END AS rep,"	\
	" CASE WHEN $7::boolean THEN COALESCE(f.sending_ip,"		\
	"  pg_catalog.host(f.sending_ip_inet), '')"			\
	"  ELSE '' END AS sip,"						\
	" CASE WHEN $8::boolean THEN COALESCE(f.receiving_ip,"		\
	"  pg_catalog.host(f.receiving_ip_inet), '')"			\
	"  ELSE '' END AS rip,"						\
	" r.reporter AS who, r.date_start AS ds, f.result_type AS t,"	\
	" f.reason_code AS why, f.failed_sessions AS n"			\
	" FROM tlsrpt.report r"						\
	" JOIN tlsrpt.policy p ON p.report_no = r.report_no AND p.counted"\
	" JOIN tlsrpt.failure_detail f ON f.report_no = p.report_no"	\
	"  AND f.policy_idx = p.idx"					\
	" WHERE" SQL_PWINDOW "),"					\
	" tot AS (SELECT policy_domain AS dom,"			\
	"  pg_catalog.sum(successful_sessions + failed_sessions)::bigint"\
	"  AS sessions FROM tlsrpt.rollup"				\
	"  WHERE result_type = '' AND" SQL_RWINDOW			\
	"  AND policy_domain IN (SELECT dom FROM d) GROUP BY 1),"	\
	" g AS (SELECT " SQL_KEYS ", 0 AS kind, ''::text AS name,"	\
	"  pg_catalog.sum(n)::bigint AS n,"				\
	"  pg_catalog.count(DISTINCT who) AS nrep,"			\
	"  " SQL_EPOCH("pg_catalog.min(ds)") " AS first,"		\
	"  " SQL_EPOCH("pg_catalog.max(ds)") " AS last,"		\
	"  pg_catalog.count(*) OVER () AS total"			\
	"  FROM d GROUP BY " SQL_KEYS SQL_FAIL_PAGE "),"		\
	" s AS (SELECT " SQL_KEYS ", 1 AS kind, t AS name,"		\
	"  pg_catalog.sum(n)::bigint AS n FROM d GROUP BY " SQL_KEYS ", t"\
	"  UNION ALL SELECT " SQL_KEYS ", 2, why, pg_catalog.sum(n)::bigint"\
	"  FROM d WHERE why IS NOT NULL AND why <> ''"			\
	"  GROUP BY " SQL_KEYS ", why"					\
	"  UNION ALL SELECT " SQL_KEYS ", 3, who, pg_catalog.sum(n)::bigint"\
	"  FROM d GROUP BY " SQL_KEYS ", who),"				\
	" sr AS (SELECT *, pg_catalog.row_number() OVER (PARTITION BY "	\
	"  " SQL_KEYS ", kind ORDER BY n DESC, name COLLATE \"C\") AS rn" \
	"  FROM s)"							\
	" SELECT g.dom, g.rt, g.mx, g.rep, g.sip, g.rip, g.kind, g.name,"\
	"  g.n, g.nrep, g.first, g.last, COALESCE(tot.sessions, 0), g.total"\
	"  FROM g LEFT JOIN tot ON tot.dom = g.dom"			\
	" UNION ALL SELECT " SQL_KEYS ", kind, name, n, 0, 0, 0, 0, 0"	\
	"  FROM sr WHERE (kind = 1 OR rn <= $9::bigint)"		\
	"  AND ($10::bigint IS NULL OR (" SQL_KEYS ") IN"		\
	"  (SELECT " SQL_KEYS " FROM g))"				\
	" ORDER BY 1, 2, 3,"	\
	" 4, 5, 6, 7,"	\
	" 9 DESC, 8"

/* Readiness: days with reports and reports per domain (rollup). */
#define SQL_RD_DAYS							\
	"SELECT policy_domain, pg_catalog.count(DISTINCT"		\
	SQL_DAY("period_start") "), pg_catalog.sum(reports)::bigint"	\
	" FROM tlsrpt.rollup WHERE result_type = '' AND" SQL_RWINDOW	\
	" GROUP BY 1"

/* ... and per reporter. */
#define SQL_RD_REPORTERS						\
	"SELECT policy_domain, reporter, pg_catalog.count(DISTINCT"	\
	SQL_DAY("period_start") ") FROM tlsrpt.rollup"			\
	" WHERE result_type = '' AND" SQL_RWINDOW			\
	" GROUP BY 1, 2 ORDER BY 1, 2"

/*
 * The policies and failure details of the window's reports for the
 * domains, in one statement.  A domain's history is long and its
 * policies are wide: k finds the window's (domain, report key) pairs
 * from the index on (policy_domain, report_no) alone (schema/009) and
 * the report's date index, pr then reads just those policies through
 * the same index, in its order (the digest asks for a thousand domains:
 * their index pages are read once each, where the primary key's, in
 * the random order of the keys, were read once per policy), and fd
 * their failure details (OFFSET 0 keeps the planner, which cannot know
 * how few rows k has, from hashing whole tables instead).  Three
 * answers are read from pr, told apart by the first column and in this
 * order:
 *  1  the sts and no-policy-found entries, by the policy their strings
 *     say (mode, max_age, mx, problems: two senders that format one
 *     policy differently saw the same policy) and reporter: domain, type,
 *     strings, mode, max_age, mx, problems, reporter, reports, sessions,
 *     failed, first, last;
 *  2  failure details under sts policies that an enforced policy refuses:
 *     domain, MX, result type, reporter, failed sessions;
 *  3  MX host names of failure details and of tlsa entries' mx-host:
 *     domain, host, failed sessions.
 */
#define SQL_RD_ALL							\
	"WITH k AS MATERIALIZED (SELECT DISTINCT p.policy_domain AS dom,"\
	"  p.report_no, r.reporter, r.date_start FROM tlsrpt.policy p"	\
	"  JOIN tlsrpt.report r ON r.report_no = p.report_no"		\
	"  WHERE" SQL_PWINDOW " ORDER BY 1, 2),"			\
	" pr AS MATERIALIZED (SELECT p.report_no, p.idx,"		\
	"  p.policy_domain AS dom, p.policy_type, p.policy_strings,"	\
	"  p.sts_mode, p.sts_max_age, COALESCE(p.sts_mx, CASE WHEN"	\
	"  p.sts_version_ok IS NOT NULL THEN p.mx_hosts END) AS sts_mx,"	\
	"  p.sts_problems, p.mx_hosts,"					\
	"  p.successful_sessions, p.failed_sessions, k.reporter,"	\
	"  k.date_start"						\
	" FROM k CROSS JOIN LATERAL (SELECT * FROM tlsrpt.policy p"	\
	"  WHERE p.policy_domain = k.dom AND p.report_no = k.report_no"\
	"  OFFSET 0) AS p),"						\
	" fd AS MATERIALIZED (SELECT pr.dom, pr.policy_type, pr.reporter,"\
	"  pg_catalog.rtrim(pg_catalog.lower(COALESCE(f.receiving_mx, '')),"\
	"  '.') AS mx, f.result_type, f.failed_sessions"		\
	" FROM pr CROSS JOIN LATERAL (SELECT * FROM tlsrpt.failure_detail f"\
	"  WHERE f.report_no = pr.report_no AND f.policy_idx = pr.idx" \
	"  OFFSET 0) AS f)"						\
	" SELECT 1 AS kind, dom, policy_type,"				\
	"  COALESCE(sts_mode, ''), COALESCE(sts_max_age, -1)::text,"	\
	"  pg_catalog.array_to_string(COALESCE(sts_mx, '{}'), E'\\n'),"	\
	"  COALESCE(sts_problems, 0)::text, reporter,"			\
	"  pg_catalog.count(*),"					\
	"  pg_catalog.sum(successful_sessions + failed_sessions)::bigint,"\
	"  pg_catalog.sum(failed_sessions)::bigint,"			\
	SQL_EPOCH("pg_catalog.min(date_start)") ","			\
	SQL_EPOCH("pg_catalog.max(date_start)") ","			\
	"  pg_catalog.min(pg_catalog.array_to_string(policy_strings,"	\
	"  E'\\n'))"							\
	" FROM pr WHERE policy_type IN ('sts', 'no-policy-found')"	\
	" GROUP BY 2, 3, 4, 5, 6, 7, 8"					\
	" UNION ALL SELECT 2, dom, mx, result_type, reporter, NULL, NULL,"\
	"  NULL, pg_catalog.sum(failed_sessions)::bigint, NULL, NULL, NULL,"\
	"  NULL, NULL FROM fd WHERE policy_type = 'sts' AND (result_type IN"\
	"  ('starttls-not-supported', 'validation-failure',"		\
	"  'sts-webpki-invalid') OR result_type LIKE 'certificate-%')"	\
	" GROUP BY 2, 3, 4, 5"						\
	" UNION ALL SELECT 3, dom, host, NULL, NULL, NULL, NULL, NULL,"	\
	"  pg_catalog.sum(n)::bigint, NULL, NULL, NULL, NULL, NULL FROM (" \
	"  SELECT dom, mx AS host, failed_sessions AS n FROM fd"	\
	"  UNION ALL SELECT dom, pg_catalog.rtrim(pg_catalog.lower(h.h)," \
	"  '.'), 0 FROM pr CROSS JOIN LATERAL pg_catalog.unnest(pr.mx_hosts)"\
	"  AS h(h) WHERE pr.policy_type = 'tlsa'"			\
	"  AND pg_catalog.strpos(h.h, '*') = 0) AS x"			\
	" WHERE host <> '' GROUP BY 2, 3"				\
	" ORDER BY 1, 2, 3, 4, 5, 6, 7, 8"

/* Digest: the rollup's failure rows by (domain, result type, MX). */
#define SQL_DG_FAILS							\
	"SELECT policy_domain, result_type, mx_host,"			\
	" pg_catalog.sum(failed_sessions)::bigint AS n,"		\
	" pg_catalog.count(DISTINCT reporter)"				\
	" FROM tlsrpt.rollup WHERE result_type <> '' AND" SQL_RWINDOW	\
	" GROUP BY 1, 2, 3"						\
	" ORDER BY 1, 4 DESC, 2, 3"

/* The domains some sender saw in mode testing (policy_testing_domain_idx
 * of schema/004 gives the policies to hash, few, from the index alone). */
#define SQL_DG_TESTING							\
	"SELECT DISTINCT p.policy_domain FROM tlsrpt.report r"		\
	" JOIN tlsrpt.policy p ON p.report_no = r.report_no"		\
	" WHERE p.sts_mode = 'testing' AND" SQL_PWINDOW		\
	" ORDER BY 1"

/* The parameters of a window: since, until, domains. */
struct wparams {
	char		 since[UTIL_TIME_BUFSZ];
	char		 until[UTIL_TIME_BUFSZ];
	struct sarray	 doms;
	const char	*pv[11];
};

static int	 wparams_init(struct store *, struct wparams *,
		    const struct store_window *, const char *what);
static int	 begin_ro(struct store *, const char *what);
static char	*getstr(struct store *, const PGresult *, int, int, int *);
static int64_t	 day_of(int64_t);
static int	 count_add(struct store *, struct store_count **, size_t *,
		    const char *, int64_t);
static void	 counts_free(struct store_count *, size_t);
static int64_t	 clamp_time(int64_t);

/* --- failures --------------------------------------------------------- */

static int
cmp_failure(const void *a, const void *b)
{
	const struct store_failure_row	*x = a, *y = b;
	int				 c;

	if ((c = strcmp(x->domain, y->domain)) != 0)
		return c;
	if (x->failed != y->failed)
		return x->failed > y->failed ? -1 : 1;
	if ((c = strcmp(x->result_type, y->result_type)) != 0)
		return c;
	if ((c = strcmp(x->mx, y->mx)) != 0)
		return c;
	if ((c = strcmp(x->reporter, y->reporter)) != 0)
		return c;
	if ((c = strcmp(x->sending_ip, y->sending_ip)) != 0)
		return c;
	return strcmp(x->receiving_ip, y->receiving_ip);
}

int
store_failures(struct store *st, const struct store_window *w, unsigned by,
    size_t reasons_max, struct store_failure_row **out, size_t *n)
{
	return store_failures_page(st, w, by, reasons_max, 0, 0, out, n,
	    NULL);
}

int
store_failures_page(struct store *st, const struct store_window *w,
    unsigned by, size_t reasons_max, size_t offset, size_t max,
    struct store_failure_row **out, size_t *n, int64_t *total)
{
	static const char		*what = "failures query failed";
	struct store_failure_row	*rows = NULL, *f = NULL;
	struct wparams			 wp;
	PGresult			*res = NULL;
	char				 rmax[32], lim[32], off[32];
	size_t				 nrows = 0, k;
	int				 r, kind, oom = 0, rc = -1;

	*out = NULL;
	*n = 0;
	if (wparams_init(st, &wp, w, what) == -1)
		goto out;
	wp.pv[3] = by & STORE_BY_RESULT_TYPE ? "t" : "f";
	wp.pv[4] = by & STORE_BY_MX ? "t" : "f";
	wp.pv[5] = by & STORE_BY_REPORTER ? "t" : "f";
	wp.pv[6] = by & STORE_BY_SENDING_IP ? "t" : "f";
	wp.pv[7] = by & STORE_BY_RECEIVING_IP ? "t" : "f";
	snprintf(rmax, sizeof(rmax), "%zu", reasons_max);
	wp.pv[8] = rmax;
	snprintf(lim, sizeof(lim), "%zu", max);
	snprintf(off, sizeof(off), "%zu", offset);
	wp.pv[9] = max > 0 ? lim : NULL;
	wp.pv[10] = off;
	if (total != NULL)
		*total = 0;
	if (begin_ro(st, what) == -1)
		goto out;
	res = store_exec(st, what, SQL_FAILURES, 11, wp.pv, PGRES_TUPLES_OK);
	store_rollback(st);
	if (res == NULL)
		goto out;

	for (r = 0; r < PQntuples(res); r++)
		if (store_getint(res, r, 6) == 0)
			nrows++;
	if (nrows > 0 && (rows = calloc(nrows, sizeof(*rows))) == NULL) {
		store_seterrx(st, "%s: out of memory", what);
		goto out;
	}
	for (k = 0, r = 0; r < PQntuples(res); r++) {
		kind = (int)store_getint(res, r, 6);
		if (kind == 0) {
			f = &rows[k++];
			f->domain = getstr(st, res, r, 0, &oom);
			f->result_type = getstr(st, res, r, 1, &oom);
			f->mx = getstr(st, res, r, 2, &oom);
			f->reporter = getstr(st, res, r, 3, &oom);
			f->sending_ip = getstr(st, res, r, 4, &oom);
			f->receiving_ip = getstr(st, res, r, 5, &oom);
			f->failed = store_getint(res, r, 8);
			f->nreporters = store_getint(res, r, 9);
			f->first_day = day_of(store_getint(res, r, 10));
			f->last_day = day_of(store_getint(res, r, 11));
			f->domain_sessions = store_getint(res, r, 12);
			if (total != NULL)
				*total = store_getint(res, r, 13);
			if (oom)
				goto nomem;
			continue;
		}
		if (f == NULL)
			continue;
		if (count_add(st, kind == 1 ? &f->rts : kind == 2 ?
		    &f->reasons : &f->reporters, kind == 1 ? &f->nrts :
		    kind == 2 ? &f->nreasons : &f->nreporters_l,
		    PQgetvalue(res, r, 7), store_getint(res, r, 8)) == -1)
			goto out;
	}
	if (nrows > 1)
		qsort(rows, nrows, sizeof(*rows), cmp_failure);
	*out = rows;
	*n = nrows;
	rows = NULL;
	rc = 0;
	goto out;
 nomem:
	store_seterrx(st, "%s: out of memory", what);
 out:
	store_failures_free(rows, nrows);
	PQclear(res);
	store_sarray_free(&wp.doms);
	return rc;
}

void
store_failures_free(struct store_failure_row *rows, size_t n)
{
	size_t	i;

	if (rows == NULL)
		return;
	for (i = 0; i < n; i++) {
		free(rows[i].domain);
		free(rows[i].result_type);
		free(rows[i].mx);
		free(rows[i].reporter);
		free(rows[i].sending_ip);
		free(rows[i].receiving_ip);
		counts_free(rows[i].rts, rows[i].nrts);
		counts_free(rows[i].reasons, rows[i].nreasons);
		counts_free(rows[i].reporters, rows[i].nreporters_l);
	}
	free(rows);
}

/* --- readiness -------------------------------------------------------- */

/* The entry of rd[0..n) for domain, or NULL.  Rows come grouped by
 * domain: the entry found last is tried first. */
static struct store_readiness *
rd_find(struct store_readiness *rd, size_t n, const char *domain,
    size_t *hint)
{
	size_t	i;

	if (*hint < n && strcmp(rd[*hint].domain, domain) == 0)
		return &rd[*hint];
	if (*hint + 1 < n && strcmp(rd[*hint + 1].domain, domain) == 0)
		return &rd[++*hint];
	for (i = 0; i < n; i++)
		if (strcmp(rd[i].domain, domain) == 0) {
			*hint = i;
			return &rd[i];
		}
	return NULL;
}

/* Split s at newlines into a new array; "" gives none. */
static int
split_lines(const char *s, char ***out, size_t *n)
{
	const char	*p, *e;
	char		**v = NULL;
	size_t		 cnt = 1, i = 0;

	*out = NULL;
	*n = 0;
	if (*s == '\0')
		return 0;
	for (p = s; *p != '\0'; p++)
		if (*p == '\n')
			cnt++;
	if ((v = calloc(cnt, sizeof(*v))) == NULL)
		return -1;
	for (p = s; i < cnt; i++) {
		e = strchr(p, '\n');
		if (e == NULL)
			e = p + strlen(p);
		if ((v[i] = strndup(p, (size_t)(e - p))) == NULL)
			goto fail;
		p = *e != '\0' ? e + 1 : e;
	}
	*out = v;
	*n = cnt;
	return 0;
 fail:
	while (i > 0)
		free(v[--i]);
	free(v);
	return -1;
}

static int
cmp_policy(const void *a, const void *b)
{
	const struct store_rd_policy	*x = a, *y = b;

	/* the newest policy is the one senders began to apply last */
	if (x->first_day != y->first_day)
		return x->first_day > y->first_day ? -1 : 1;
	if (x->last_day != y->last_day)
		return x->last_day > y->last_day ? -1 : 1;
	if (x->reports != y->reports)
		return x->reports > y->reports ? -1 : 1;
	return strcmp(x->strings, y->strings);
}

static int
cmp_refusal(const void *a, const void *b)
{
	const struct store_rd_refusal	*x = a, *y = b;
	int				 c;

	if (x->failed != y->failed)
		return x->failed > y->failed ? -1 : 1;
	if ((c = strcmp(x->mx, y->mx)) != 0)
		return c;
	return strcmp(x->result_type, y->result_type);
}

/* The kind of row r of SQL_RD_ALL. */
static int
rd_kind(const PGresult *res, int r)
{
	return (int)store_getint(res, r, 0);
}

/* 1 when row r of SQL_RD_ALL is of the policy of row r - 1: the same
 * domain, type, mode, max_age, mx and problems. */
static int
same_policy(const PGresult *res, int r)
{
	int	c;

	if (r == 0 || rd_kind(res, r - 1) != 1)
		return 0;
	for (c = 1; c <= 6; c++)
		if (strcmp(PQgetvalue(res, r, c), PQgetvalue(res, r - 1, c)) !=
		    0)
			return 0;
	return 1;
}

/* Rows of kind 1 of SQL_RD_ALL into the entries' policies. */
static int
rd_policies(struct store *st, struct store_readiness *rd, size_t nrd,
    const PGresult *res)
{
	struct store_readiness	*d;
	struct store_rd_policy	*pol, *np;
	const char		*dom;
	size_t			 i, hint = 0;
	int			 r, oom = 0;
	int64_t			 first, last;

	for (r = 0; r < PQntuples(res); r++) {
		if (rd_kind(res, r) != 1)
			continue;
		dom = PQgetvalue(res, r, 1);
		if ((d = rd_find(rd, nrd, dom, &hint)) == NULL)
			continue;
		if (strcmp(PQgetvalue(res, r, 2), "no-policy-found") == 0) {
			d->nopolicy_sessions += store_getint(res, r, 9);
			continue;
		}
		d->sts_sessions += store_getint(res, r, 9);
		d->sts_failed += store_getint(res, r, 10);
		first = day_of(store_getint(res, r, 11));
		last = day_of(store_getint(res, r, 12));
		/* the rows of one policy are consecutive */
		pol = d->npolicies > 0 ? &d->policies[d->npolicies - 1] : NULL;
		if (pol == NULL || !same_policy(res, r)) {
			np = reallocarray(d->policies, d->npolicies + 1,
			    sizeof(*d->policies));
			if (np == NULL)
				goto nomem;
			d->policies = np;
			pol = &d->policies[d->npolicies++];
			memset(pol, 0, sizeof(*pol));
			pol->first_day = first;
			pol->last_day = last;
			pol->strings = getstr(st, res, r, 13, &oom);
			pol->mode = getstr(st, res, r, 3, &oom);
			pol->max_age = store_getint(res, r, 4);
			pol->problems = (unsigned)store_getint(res, r, 6);
			if (oom || split_lines(PQgetvalue(res, r, 5), &pol->mx,
			    &pol->nmx) == -1)
				goto nomem;
		}
		pol->reports += store_getint(res, r, 8);
		pol->sessions += store_getint(res, r, 9);
		if (first < pol->first_day)
			pol->first_day = first;
		if (last > pol->last_day)
			pol->last_day = last;
		if (count_add(st, &pol->reporters, &pol->nreporters,
		    PQgetvalue(res, r, 7), last) == -1)
			return -1;
	}
	for (i = 0; i < nrd; i++)
		if (rd[i].npolicies > 1)
			qsort(rd[i].policies, rd[i].npolicies,
			    sizeof(*rd[i].policies), cmp_policy);
	return 0;
 nomem:
	store_seterrx(st, "readiness: out of memory");
	return -1;
}

/* Rows of kind 2 of SQL_RD_ALL, one per reporter, into (MX, type)
 * groups. */
static int
rd_refusals(struct store *st, struct store_readiness *rd, size_t nrd,
    const PGresult *res)
{
	struct store_readiness	*d;
	struct store_rd_refusal	*f, *nf;
	const char		*mx, *rt;
	size_t			 i, hint = 0;
	int			 r, oom = 0;

	for (r = 0; r < PQntuples(res); r++) {
		if (rd_kind(res, r) != 2 || (d = rd_find(rd, nrd,
		    PQgetvalue(res, r, 1), &hint)) == NULL)
			continue;
		mx = PQgetvalue(res, r, 2);
		rt = PQgetvalue(res, r, 3);
		f = d->nrefusals > 0 ? &d->refusals[d->nrefusals - 1] : NULL;
		if (f == NULL || strcmp(f->mx, mx) != 0 ||
		    strcmp(f->result_type, rt) != 0) {
			nf = reallocarray(d->refusals, d->nrefusals + 1,
			    sizeof(*d->refusals));
			if (nf == NULL)
				goto nomem;
			d->refusals = nf;
			f = &d->refusals[d->nrefusals++];
			memset(f, 0, sizeof(*f));
			f->mx = getstr(st, res, r, 2, &oom);
			f->result_type = getstr(st, res, r, 3, &oom);
			if (oom)
				goto nomem;
		}
		f->failed += store_getint(res, r, 8);
		if (count_add(st, &f->reporters, &f->nreporters,
		    PQgetvalue(res, r, 4), store_getint(res, r, 8)) == -1)
			return -1;
	}
	for (i = 0; i < nrd; i++)
		if (rd[i].nrefusals > 1)
			qsort(rd[i].refusals, rd[i].nrefusals,
			    sizeof(*rd[i].refusals), cmp_refusal);
	return 0;
 nomem:
	store_seterrx(st, "readiness: out of memory");
	return -1;
}

int
store_readiness(struct store *st, const struct store_window *w,
    struct store_readiness **out, size_t *n)
{
	static const char	*what = "readiness query failed";
	struct store_readiness	*rd = NULL, *d;
	struct wparams		 wp;
	PGresult		*days = NULL, *reps = NULL, *all = NULL;
	size_t			 nrd = 0, hint = 0;
	int			 r, rc = -1;

	*out = NULL;
	*n = 0;
	if (w->domains == NULL || w->ndomains == 0) {
		store_seterrx(st, "readiness: no domain given");
		return -1;
	}
	if (wparams_init(st, &wp, w, what) == -1)
		goto out;
	if ((rd = calloc(w->ndomains, sizeof(*rd))) == NULL)
		goto nomem;
	for (nrd = 0; nrd < w->ndomains; nrd++)
		if ((rd[nrd].domain = strdup(w->domains[nrd])) == NULL)
			goto nomem;
	if (begin_ro(st, what) == -1)
		goto out;
	if ((days = store_exec(st, what, SQL_RD_DAYS, 3, wp.pv,
	    PGRES_TUPLES_OK)) == NULL ||
	    (reps = store_exec(st, what, SQL_RD_REPORTERS, 3, wp.pv,
	    PGRES_TUPLES_OK)) == NULL ||
	    (all = store_exec(st, what, SQL_RD_ALL, 3, wp.pv,
	    PGRES_TUPLES_OK)) == NULL) {
		store_rollback(st);
		goto out;
	}
	store_rollback(st);

	for (r = 0; r < PQntuples(days); r++) {
		if ((d = rd_find(rd, nrd, PQgetvalue(days, r, 0), &hint)) ==
		    NULL)
			continue;
		d->days = store_getint(days, r, 1);
		d->reports = store_getint(days, r, 2);
	}
	for (r = 0; r < PQntuples(reps); r++) {
		if ((d = rd_find(rd, nrd, PQgetvalue(reps, r, 0), &hint)) ==
		    NULL)
			continue;
		if (count_add(st, &d->reporters, &d->nreporters,
		    PQgetvalue(reps, r, 1), store_getint(reps, r, 2)) == -1)
			goto out;
	}
	if (rd_policies(st, rd, nrd, all) == -1 ||
	    rd_refusals(st, rd, nrd, all) == -1)
		goto out;
	for (r = 0; r < PQntuples(all); r++) {
		if (rd_kind(all, r) != 3 || (d = rd_find(rd, nrd,
		    PQgetvalue(all, r, 1), &hint)) == NULL)
			continue;
		if (count_add(st, &d->hosts, &d->nhosts,
		    PQgetvalue(all, r, 2), store_getint(all, r, 8)) == -1)
			goto out;
	}
	*out = rd;
	*n = nrd;
	rd = NULL;
	rc = 0;
	goto out;
 nomem:
	store_seterrx(st, "readiness: out of memory");
 out:
	store_readiness_free(rd, rd != NULL ? w->ndomains : 0);
	PQclear(days);
	PQclear(reps);
	PQclear(all);
	store_sarray_free(&wp.doms);
	return rc;
}

void
store_readiness_free(struct store_readiness *rd, size_t n)
{
	struct store_rd_policy	*p;
	size_t			 i, j, k;

	if (rd == NULL)
		return;
	for (i = 0; i < n; i++) {
		free(rd[i].domain);
		counts_free(rd[i].reporters, rd[i].nreporters);
		for (j = 0; j < rd[i].npolicies; j++) {
			p = &rd[i].policies[j];
			free(p->strings);
			free(p->mode);
			for (k = 0; k < p->nmx; k++)
				free(p->mx[k]);
			free(p->mx);
			counts_free(p->reporters, p->nreporters);
		}
		free(rd[i].policies);
		for (j = 0; j < rd[i].nrefusals; j++) {
			free(rd[i].refusals[j].mx);
			free(rd[i].refusals[j].result_type);
			counts_free(rd[i].refusals[j].reporters,
			    rd[i].refusals[j].nreporters);
		}
		free(rd[i].refusals);
		counts_free(rd[i].hosts, rd[i].nhosts);
	}
	free(rd);
}

/* --- digest ----------------------------------------------------------- */

int
store_digest_data(struct store *st, const struct store_window *w,
    int want_testing, struct store_digest_data *out)
{
	static const char	*what = "digest query failed";
	struct wparams		 wp;
	PGresult		*fails = NULL, *rdays = NULL, *testing = NULL;
	int			 r, oom = 0, rc = -1;

	memset(out, 0, sizeof(*out));
	if (wparams_init(st, &wp, w, what) == -1)
		goto out;
	if (begin_ro(st, what) == -1)
		goto out;
	if ((fails = store_exec(st, what, SQL_DG_FAILS, 3, wp.pv,
	    PGRES_TUPLES_OK)) == NULL ||
	    (rdays = store_exec(st, what, SQL_RD_REPORTERS, 3, wp.pv,
	    PGRES_TUPLES_OK)) == NULL ||
	    (want_testing && (testing = store_exec(st, what, SQL_DG_TESTING,
	    3, wp.pv, PGRES_TUPLES_OK)) == NULL)) {
		store_rollback(st);
		goto out;
	}
	store_rollback(st);

	if (PQntuples(fails) > 0 && (out->fails = calloc(
	    (size_t)PQntuples(fails), sizeof(*out->fails))) == NULL)
		goto nomem;
	for (r = 0; r < PQntuples(fails); r++, out->nfails++) {
		out->fails[r].domain = getstr(st, fails, r, 0, &oom);
		out->fails[r].result_type = getstr(st, fails, r, 1, &oom);
		out->fails[r].mx = getstr(st, fails, r, 2, &oom);
		out->fails[r].failed = store_getint(fails, r, 3);
		out->fails[r].reporters = store_getint(fails, r, 4);
	}
	if (PQntuples(rdays) > 0 && (out->rdays = calloc(
	    (size_t)PQntuples(rdays), sizeof(*out->rdays))) == NULL)
		goto nomem;
	for (r = 0; r < PQntuples(rdays); r++, out->nrdays++) {
		out->rdays[r].domain = getstr(st, rdays, r, 0, &oom);
		out->rdays[r].reporter = getstr(st, rdays, r, 1, &oom);
		out->rdays[r].days = store_getint(rdays, r, 2);
	}
	if (testing != NULL && PQntuples(testing) > 0 && (out->testing =
	    calloc((size_t)PQntuples(testing), sizeof(*out->testing))) ==
	    NULL)
		goto nomem;
	for (r = 0; testing != NULL && r < PQntuples(testing); r++,
	    out->ntesting++)
		out->testing[r] = getstr(st, testing, r, 0, &oom);
	if (oom)
		goto nomem;
	rc = 0;
	goto out;
 nomem:
	store_seterrx(st, "%s: out of memory", what);
 out:
	if (rc == -1)
		store_digest_data_free(out);
	PQclear(fails);
	PQclear(rdays);
	PQclear(testing);
	store_sarray_free(&wp.doms);
	return rc;
}

void
store_digest_data_free(struct store_digest_data *dd)
{
	size_t	i;

	for (i = 0; i < dd->nfails; i++) {
		free(dd->fails[i].domain);
		free(dd->fails[i].result_type);
		free(dd->fails[i].mx);
	}
	free(dd->fails);
	for (i = 0; i < dd->nrdays; i++) {
		free(dd->rdays[i].domain);
		free(dd->rdays[i].reporter);
	}
	free(dd->rdays);
	for (i = 0; i < dd->ntesting; i++)
		free(dd->testing[i]);
	free(dd->testing);
	memset(dd, 0, sizeof(*dd));
}

/* --- helpers ---------------------------------------------------------- */

static int
wparams_init(struct store *st, struct wparams *wp,
    const struct store_window *w, const char *what)
{
	size_t	k;

	memset(wp, 0, sizeof(*wp));
	store_sarray_init(&wp->doms);
	util_format_datetime(clamp_time(w->since), wp->since,
	    sizeof(wp->since));
	util_format_datetime(clamp_time(w->until), wp->until,
	    sizeof(wp->until));
	wp->pv[0] = wp->since;
	wp->pv[1] = wp->until;
	wp->pv[2] = NULL;			/* all domains */
	if (w->domains != NULL && w->ndomains > 0) {
		for (k = 0; k < w->ndomains; k++)
			store_sarray_add(&wp->doms, w->domains[k]);
		if ((wp->pv[2] = store_sarray_end(&wp->doms)) == NULL) {
			store_seterrx(st, "%s: out of memory", what);
			return -1;
		}
	}
	return 0;
}

/*
 * A read-only snapshot.  JIT compilation is off for it: these queries
 * touch thousands of rows, not millions, and compiling them costs more
 * (40 ms and up) than it saves.
 */
static int
begin_ro(struct store *st, const char *what)
{
	if (store_cmd(st, what, "BEGIN ISOLATION LEVEL REPEATABLE READ"
	    " READ ONLY", 0, NULL) == -1)
		return -1;
	if (store_cmd(st, what, "SET LOCAL jit = off", 0, NULL) == -1) {
		store_rollback(st);
		return -1;
	}
	return 0;
}

/* A copy of a value ("" for NULL); sets *oom and returns NULL when out
 * of memory. */
static char *
getstr(struct store *st, const PGresult *res, int row, int col, int *oom)
{
	char	*s;

	(void)st;
	if ((s = strdup(PQgetvalue(res, row, col))) == NULL)
		*oom = 1;
	return s;
}

static int64_t
day_of(int64_t t)
{
	int64_t	r = t % DAY_SECONDS;

	return t - (r < 0 ? r + DAY_SECONDS : r);
}

/* Append (name, v) to *v; -1 with the error set when out of memory. */
static int
count_add(struct store *st, struct store_count **v, size_t *n,
    const char *name, int64_t val)
{
	struct store_count	*nv;
	char			*s;

	if ((s = strdup(name)) == NULL ||
	    (nv = reallocarray(*v, *n + 1, sizeof(**v))) == NULL) {
		free(s);
		store_seterrx(st, "out of memory");
		return -1;
	}
	*v = nv;
	nv[*n].name = s;
	nv[*n].n = val;
	(*n)++;
	return 0;
}

static void
counts_free(struct store_count *v, size_t n)
{
	size_t	i;

	if (v == NULL)
		return;
	for (i = 0; i < n; i++)
		free(v[i].name);
	free(v);
}

static int64_t
clamp_time(int64_t t)
{
	if (t < STORE_TIME_MIN)
		return STORE_TIME_MIN;
	if (t > STORE_TIME_MAX)
		return STORE_TIME_MAX;
	return t;
}
