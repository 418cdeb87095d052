/*
 * store_check.c -- the stored live checks (store_check.h,
 * schema/010_live_check.sql): store one with its retention, read the
 * newest of a domain, prune the old ones.
 *
 * Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
 *
 * A check is one row whose findings and MX hosts stay in its jsonb; the
 * reader takes them apart in SQL (jsonb_array_elements), so no JSON is
 * parsed in C here and the dashboard receives plain strings.  Every
 * member read from the JSON is tested for its type first: a row written
 * by hand (psql) with another shape reads as empty strings, not as an
 * error.
 */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "arena.h"
#include "store.h"
#include "store_check.h"
#include "store_int.h"
#include "util.h"

/* The advisory lock class of the writers of one domain's checks. */
#define CHECK_LOCK_CLASS	0x746c7363	/* "tlsc" */
#define CHECK_PRUNE_BATCH	10000

#define SQL_LOCK							\
	"SELECT pg_catalog.pg_advisory_xact_lock($1::integer,"		\
	" pg_catalog.hashtext($2::text))"

#define SQL_PUT								\
	"INSERT INTO tlsrpt.live_check (domain, checked_at, result,"	\
	" critical, warnings, report_days, check_json) VALUES ($1,"	\
	" $2::timestamptz, $3, $4::integer, $5::integer, $6::integer,"	\
	" $7::jsonb)"

/* The checks of $1 beyond the newest $2. */
#define SQL_TRIM							\
	"WITH x AS (DELETE FROM tlsrpt.live_check WHERE domain = $1"	\
	" AND check_id = ANY (ARRAY(SELECT check_id"			\
	" FROM tlsrpt.live_check WHERE domain = $1"			\
	" ORDER BY checked_at DESC, check_id DESC OFFSET $2::bigint))"	\
	" RETURNING 1) SELECT pg_catalog.count(*) FROM x"

/* A text member of jsonb j, "" when absent or not a string. */
#define JS(j, k)							\
	"CASE WHEN pg_catalog.jsonb_typeof(" j "->'" k "') = 'string'"	\
	" THEN " j "->>'" k "' ELSE '' END"
/* A number member, as bigint text, or NULL. */
#define JN(j, k)							\
	"CASE WHEN pg_catalog.jsonb_typeof(" j "->'" k "') = 'number'"	\
	" THEN pg_catalog.trunc((" j "->>'" k "')::numeric)::bigint END"
/* A boolean member as 1, 0, or -1 when absent. */
#define JB(j, k)							\
	"CASE pg_catalog.jsonb_typeof(" j "->'" k "') WHEN 'boolean'"	\
	" THEN (" j "->>'" k "')::boolean::integer ELSE -1 END"
/* The elements of array member k of c.check_json, with their order. */
#define JARRAY(k)							\
	" FROM tlsrpt.live_check c, pg_catalog.jsonb_array_elements("	\
	" CASE WHEN pg_catalog.jsonb_typeof(c.check_json->'" k "')"	\
	" = 'array' THEN c.check_json->'" k "' ELSE '[]'::jsonb END)"	\
	" WITH ORDINALITY AS e(v, n)"					\
	" WHERE c.domain = $1 AND c.check_id = $2::bigint ORDER BY e.n"

#define SQL_LAST							\
	"SELECT c.check_id, EXTRACT(epoch FROM c.checked_at)::bigint,"	\
	" c.result, c.critical, c.warnings, COALESCE(c.report_days, 0),"\
	" " JS("c.check_json", "sts_id") ","				\
	" CASE WHEN pg_catalog.jsonb_typeof(c.check_json->'policy')"	\
	" = 'object' THEN " JS("(c.check_json->'policy')", "mode")	\
	" ELSE '' END, c.check_json::text,"				\
	" (SELECT pg_catalog.count(*) FROM tlsrpt.live_check k"	\
	" WHERE k.domain = $1)"					\
	" FROM tlsrpt.live_check c WHERE c.domain = $1"		\
	" ORDER BY c.checked_at DESC, c.check_id DESC LIMIT 1"

#define SQL_FINDINGS							\
	"SELECT " JS("e.v", "severity") ", " JS("e.v", "code") ","	\
	" " JS("e.v", "what") ", " JS("e.v", "rfc") ","		\
	" " JS("e.v", "next") JARRAY("findings")

#define SQL_MX								\
	"SELECT " JS("e.v", "host") ", " JN("e.v", "preference") ","	\
	" " JB("e.v", "covered") ", " JB("e.v", "starttls") ","	\
	" " JS("e.v", "tls_version") ", " JB("e.v", "certificate_valid")\
	", " JN("e.v", "certificate_days") ", " JS("e.v", "dane")	\
	JARRAY("mx")

#define SQL_PRUNE							\
	"WITH x AS (DELETE FROM tlsrpt.live_check WHERE check_id = ANY"\
	" (ARRAY(SELECT check_id FROM tlsrpt.live_check"		\
	" WHERE checked_at < $1::timestamptz ORDER BY checked_at"	\
	" LIMIT $2::bigint)) RETURNING 1)"				\
	" SELECT pg_catalog.count(*) FROM x"

#define SQL_PRUNE_COUNT							\
	"SELECT pg_catalog.count(*) FROM tlsrpt.live_check"		\
	" WHERE checked_at < $1::timestamptz"

static int	one_count(struct store *, const PGresult *, const char *,
		    int64_t *);

static int64_t
clamp(int64_t t)
{
	return t < STORE_TIME_MIN ? STORE_TIME_MIN : t > STORE_TIME_MAX ?
	    STORE_TIME_MAX : t;
}

int
store_check_put(struct store *st, const struct store_check_in *c,
    size_t keep, int64_t *removed)
{
	static const char	 what[] = "cannot store the check";
	PGresult		*res = NULL;
	const char		*pv[7];
	char			 at[UTIL_TIME_BUFSZ], cls[16], crit[16];
	char			 warn[16], days[16], kbuf[32];
	int64_t			 n = 0;
	int			 rc = -1;

	if (removed != NULL)
		*removed = 0;
	if (c->domain == NULL || *c->domain == '\0' || c->json == NULL ||
	    c->result == NULL || keep == 0 || c->checked_at < STORE_TIME_MIN ||
	    c->checked_at > STORE_TIME_MAX) {
		store_seterrx(st, "%s: bad arguments", what);
		return -1;
	}
	snprintf(cls, sizeof(cls), "%d", CHECK_LOCK_CLASS);
	util_format_datetime(c->checked_at, at, sizeof(at));
	snprintf(crit, sizeof(crit), "%d", c->critical);
	snprintf(warn, sizeof(warn), "%d", c->warnings);
	snprintf(days, sizeof(days), "%d", c->report_days);
	snprintf(kbuf, sizeof(kbuf), "%zu", keep);

	if (store_cmd(st, what, "BEGIN", 0, NULL) == -1)
		goto out;
	pv[0] = cls;
	pv[1] = c->domain;
	if ((res = store_exec(st, what, SQL_LOCK, 2, pv, PGRES_TUPLES_OK)) ==
	    NULL)
		goto out;
	PQclear(res);
	res = NULL;
	pv[0] = c->domain;
	pv[1] = at;
	pv[2] = c->result;
	pv[3] = crit;
	pv[4] = warn;
	pv[5] = c->report_days > 0 ? days : NULL;
	pv[6] = c->json;
	if (store_cmd(st, what, SQL_PUT, 7, pv) == -1)
		goto out;
	pv[1] = kbuf;
	if ((res = store_exec(st, what, SQL_TRIM, 2, pv, PGRES_TUPLES_OK)) ==
	    NULL || one_count(st, res, what, &n) == -1)
		goto out;
	if (store_cmd(st, what, "COMMIT", 0, NULL) == -1)
		goto out;
	if (removed != NULL)
		*removed = n;
	rc = 0;
 out:
	PQclear(res);
	if (rc == -1)
		store_rollback(st);
	return rc;
}

static int64_t
gi(const PGresult *r, int row, int col, int64_t null)
{
	int64_t	v;

	if (PQgetisnull(r, row, col) ||
	    util_strtoi64(PQgetvalue(r, row, col), INT64_MIN, INT64_MAX,
	    &v) == -1)
		return null;
	return v;
}

static const char *
gs(struct arena *a, const PGresult *r, int row, int col)
{
	return arena_strndup(a, PQgetvalue(r, row, col),
	    (size_t)PQgetlength(r, row, col));
}

#define OOM(x)	do { if ((x) == NULL) goto nomem; } while (0)

int
store_check_last(struct store *st, const char *domain,
    struct store_check *out)
{
	static const char	 what[] = "cannot read the stored check";
	PGresult		*r = NULL;
	struct arena		*a = &out->a;
	const char		*pv[2];
	char			 id[32];
	int			 i, n, intx = 0, rc = -1;

	memset(out, 0, sizeof(*out));
	pv[0] = domain;
	/* one snapshot: the row and its elements */
	if (store_cmd(st, what, "BEGIN ISOLATION LEVEL REPEATABLE READ"
	    " READ ONLY", 0, NULL) == -1)
		goto out;
	intx = 1;
	if ((r = store_exec(st, what, SQL_LAST, 1, pv, PGRES_TUPLES_OK)) ==
	    NULL)
		goto out;
	if (PQntuples(r) == 0) {
		rc = 1;
		goto out;
	}
	snprintf(id, sizeof(id), "%lld", (long long)gi(r, 0, 0, 0));
	out->checked_at = gi(r, 0, 1, 0);
	OOM(out->result = gs(a, r, 0, 2));
	out->critical = (int)gi(r, 0, 3, 0);
	out->warnings = (int)gi(r, 0, 4, 0);
	out->report_days = (int)gi(r, 0, 5, 0);
	OOM(out->sts_id = gs(a, r, 0, 6));
	OOM(out->mode = gs(a, r, 0, 7));
	OOM(out->json = gs(a, r, 0, 8));
	out->stored = gi(r, 0, 9, 0);
	PQclear(r);
	pv[1] = id;

	if ((r = store_exec(st, what, SQL_FINDINGS, 2, pv,
	    PGRES_TUPLES_OK)) == NULL)
		goto out;
	n = PQntuples(r);
	OOM(out->f = arena_alloc(a, (size_t)(n ? n : 1) * sizeof(*out->f)));
	for (i = 0; i < n; i++) {
		struct store_check_finding *f = &out->f[i];

		OOM(f->severity = gs(a, r, i, 0));
		OOM(f->code = gs(a, r, i, 1));
		OOM(f->what = gs(a, r, i, 2));
		OOM(f->rfc = gs(a, r, i, 3));
		OOM(f->next = gs(a, r, i, 4));
	}
	out->nf = (size_t)n;
	PQclear(r);

	if ((r = store_exec(st, what, SQL_MX, 2, pv, PGRES_TUPLES_OK)) ==
	    NULL)
		goto out;
	n = PQntuples(r);
	OOM(out->mx = arena_alloc(a, (size_t)(n ? n : 1) *
	    sizeof(*out->mx)));
	for (i = 0; i < n; i++) {
		struct store_check_mx *m = &out->mx[i];

		OOM(m->host = gs(a, r, i, 0));
		m->preference = gi(r, i, 1, 0);
		m->covered = gi(r, i, 2, -1) == 1;
		m->starttls = (int)gi(r, i, 3, -1);
		m->probed = m->starttls != -1;
		if (m->starttls == -1)
			m->starttls = 0;
		OOM(m->tls_version = gs(a, r, i, 4));
		m->cert_valid = (int)gi(r, i, 5, -1);
		m->cert_days = gi(r, i, 6, INT64_MIN);
		OOM(m->dane = gs(a, r, i, 7));
	}
	out->nmx = (size_t)n;
	PQclear(r);
	r = NULL;
	if (store_cmd(st, what, "COMMIT", 0, NULL) == -1)
		goto out;
	intx = 0;
	rc = 0;
	goto out;
 nomem:
	store_seterrx(st, "%s: out of memory", what);
 out:
	PQclear(r);
	if (intx)
		store_rollback(st);
	if (rc != 0) {
		arena_free(a);
		memset(out, 0, sizeof(*out));
	}
	return rc;
}

int
store_check_prune(struct store *st, int64_t cutoff, size_t batch,
    int64_t *n)
{
	static const char	 what[] = "cannot remove old live checks";
	PGresult		*res;
	const char		*pv[2];
	char			 cut[UTIL_TIME_BUFSZ], lim[32];
	int64_t			 k;

	*n = 0;
	if (batch == 0)
		batch = CHECK_PRUNE_BATCH;
	util_format_datetime(clamp(cutoff), cut, sizeof(cut));
	snprintf(lim, sizeof(lim), "%zu", batch);
	pv[0] = cut;
	pv[1] = lim;
	do {
		if ((res = store_exec(st, what, SQL_PRUNE, 2, pv,
		    PGRES_TUPLES_OK)) == NULL)
			return -1;
		if (one_count(st, res, what, &k) == -1) {
			PQclear(res);
			return -1;
		}
		PQclear(res);
		*n += k;
	} while (k > 0);
	return 0;
}

int
store_check_prune_count(struct store *st, int64_t cutoff, int64_t *n)
{
	static const char	 what[] = "cannot count old live checks";
	PGresult		*res;
	const char		*pv[1];
	char			 cut[UTIL_TIME_BUFSZ];
	int			 rc;

	*n = 0;
	util_format_datetime(clamp(cutoff), cut, sizeof(cut));
	pv[0] = cut;
	if ((res = store_exec(st, what, SQL_PRUNE_COUNT, 1, pv,
	    PGRES_TUPLES_OK)) == NULL)
		return -1;
	rc = one_count(st, res, what, n);
	PQclear(res);
	return rc;
}

/* The one bigint of res into *n. */
static int
one_count(struct store *st, const PGresult *res, const char *what,
    int64_t *n)
{
	if (PQntuples(res) != 1 || PQnfields(res) != 1 ||
	    util_strtoi64(PQgetvalue(res, 0, 0), 0, INT64_MAX, n) == -1) {
		store_seterrx(st, "%s: unexpected answer", what);
		return -1;
	}
	return 0;
}
