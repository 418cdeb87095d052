/*
 * store_series.c -- the dashboard's queries (store_series.h).
 *
 * Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
 */

#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "arena.h"
#include "bbuf.h"
#include "ingest.h"
#include "store.h"
#include "store_int.h"
#include "store_series.h"
#include "util.h"

#define DAY	"(pg_catalog.floor(EXTRACT(epoch FROM period_start) / 86400)" \
		" * 86400)::bigint"
#define SQL_W							\
	" period_start >= $1::timestamptz AND period_start < $2::timestamptz"\
	" AND policy_domain = ANY ($3::text[])"

#define SQL_DOMAINS							\
	"SELECT policy_domain FROM tlsrpt.rollup"			\
	" WHERE result_type = '' AND period_start >= $1::timestamptz"	\
	" AND period_start < $2::timestamptz"				\
	" GROUP BY policy_domain ORDER BY policy_domain COLLATE \"C\""

#define SQL_DAYS							\
	"SELECT policy_domain, " DAY " AS d,"				\
	" pg_catalog.sum(reports)::bigint,"				\
	" pg_catalog.sum(successful_sessions)::bigint,"		\
	" pg_catalog.sum(failed_sessions)::bigint"			\
	" FROM tlsrpt.rollup WHERE result_type = '' AND" SQL_W		\
	" GROUP BY policy_domain, d ORDER BY policy_domain COLLATE \"C\", d"

#define SQL_RTS								\
	"SELECT policy_domain, " DAY " AS d, result_type,"		\
	" pg_catalog.sum(failed_sessions)::bigint"			\
	" FROM tlsrpt.rollup WHERE result_type <> '' AND" SQL_W	\
	" GROUP BY policy_domain, d, result_type"			\
	" ORDER BY policy_domain COLLATE \"C\", d, result_type COLLATE \"C\""

#define SQL_MX								\
	"SELECT policy_domain, mx_host, result_type,"			\
	" pg_catalog.sum(failed_sessions)::bigint AS f,"		\
	" pg_catalog.count(DISTINCT reporter),"			\
	" pg_catalog.min(" DAY "), pg_catalog.max(" DAY ")"		\
	" FROM tlsrpt.rollup WHERE result_type <> '' AND" SQL_W	\
	" GROUP BY policy_domain, mx_host, result_type"		\
	" ORDER BY policy_domain COLLATE \"C\", f DESC,"		\
	" mx_host COLLATE \"C\", result_type COLLATE \"C\""

#define SQL_COVER							\
	"SELECT policy_domain, reporter, " DAY " AS d,"		\
	" pg_catalog.sum(reports)::bigint"				\
	" FROM tlsrpt.rollup WHERE result_type = '' AND" SQL_W		\
	" GROUP BY policy_domain, reporter, d"				\
	" ORDER BY policy_domain COLLATE \"C\", reporter COLLATE \"C\", d"

#define SQL_RLIST							\
	"SELECT pg_catalog.encode(r.report_key, 'hex'), r.org_name,"	\
	" EXTRACT(epoch FROM r.date_start)::bigint,"			\
	" EXTRACT(epoch FROM r.date_end)::bigint, p.policy_domain,"	\
	" pg_catalog.sum(p.successful_sessions) FILTER (WHERE p.counted),"\
	" pg_catalog.sum(p.failed_sessions) FILTER (WHERE p.counted)"	\
	" FROM tlsrpt.report r JOIN tlsrpt.policy p"			\
	"  ON p.report_no = r.report_no"				\
	" WHERE r.date_start >= $1::timestamptz"			\
	" AND r.date_start < $2::timestamptz"				\
	" AND p.policy_domain = ANY ($3::text[])"			\
	" AND (($5::text IS NULL AND $6::text IS NULL) OR EXISTS"	\
	"  (SELECT 1 FROM tlsrpt.failure_detail f"			\
	"  WHERE f.report_no = r.report_no AND f.policy_idx = p.idx"	\
	"  AND ($5::text IS NULL OR f.result_type = $5::text)"		\
	"  AND ($6::text IS NULL OR pg_catalog.lower(COALESCE("	\
	"  f.receiving_mx, '') COLLATE \"C\") = $6::text)))"		\
	" GROUP BY r.report_key, p.policy_domain"			\
	" ORDER BY r.date_start DESC, r.org_name, r.report_key LIMIT $4"

#define SQL_RMETA							\
	"SELECT r.org_name, r.report_id, COALESCE(r.contact_info, ''),"\
	" COALESCE(r.filename, ''), COALESCE(r.dkim, ''),"		\
	" EXTRACT(epoch FROM r.date_start)::bigint,"			\
	" EXTRACT(epoch FROM r.date_end)::bigint,"			\
	" EXTRACT(epoch FROM r.received_at)::bigint,"			\
	" pg_catalog.array_to_string(r.warnings, E'\\n'),"		\
	" pg_catalog.cardinality(r.warnings)"				\
	" FROM tlsrpt.report r WHERE r.report_key = $1::bytea"

/* The report_no of report key $1 (schema/009_report_no.sql). */
#define SQL_NO_OF(k)							\
	" (SELECT report_no FROM tlsrpt.report WHERE report_key = " k ")"

#define SQL_RPOL							\
	"SELECT idx, policy_domain, policy_type, COALESCE(sts_mode, ''),"\
	" pg_catalog.array_to_string(policy_strings, E'\\n'),"		\
	" pg_catalog.array_to_string(mx_hosts, E'\\n'),"		\
	" successful_sessions, failed_sessions, counted::int"		\
	" FROM tlsrpt.policy WHERE report_no =" SQL_NO_OF("$1::bytea")	\
	" ORDER BY idx"

#define SQL_RDET							\
	"SELECT policy_idx, result_type, COALESCE(sending_ip,"		\
	" pg_catalog.host(sending_ip_inet), ''), COALESCE(receiving_ip,"\
	" pg_catalog.host(receiving_ip_inet), ''),"			\
	" COALESCE(receiving_mx, ''),"					\
	" COALESCE(receiving_helo, ''), COALESCE(additional_info, ''),"\
	" COALESCE(reason_code, ''), failed_sessions"			\
	" FROM tlsrpt.failure_detail WHERE report_no ="		\
	SQL_NO_OF("$1::bytea")						\
	" ORDER BY policy_idx, idx"

#define SQL_RARR							\
	"SELECT EXTRACT(epoch FROM received_at)::bigint, source,"	\
	" COALESCE(origin, ''), outcome, COALESCE(note, '')"		\
	" FROM tlsrpt.arrival WHERE report_no =" SQL_NO_OF("$1::bytea")	\
	" ORDER BY received_at, arrival_id"

#define SQL_RVAR							\
	"SELECT pg_catalog.encode(sha256, 'hex') FROM tlsrpt.report_raw"\
	" WHERE report_no =" SQL_NO_OF("$1::bytea") " ORDER BY sha256"

#define SQL_RAW								\
	"SELECT body FROM tlsrpt.report_raw WHERE report_no ="		\
	SQL_NO_OF("pg_catalog.decode($1, 'hex')") " AND sha256 ="	\
	" pg_catalog.decode($2, 'hex')"

#define SQL_REJ								\
	"SELECT rejection_id, EXTRACT(epoch FROM received_at)::bigint,"\
	" raw_len, source, COALESCE(origin, ''), reason"		\
	" FROM tlsrpt.rejection ORDER BY received_at DESC,"		\
	" rejection_id DESC LIMIT $1"

static int64_t
gi(const PGresult *r, int row, int col)
{
	int64_t	v = 0;

	if (PQgetisnull(r, row, col) ||
	    util_strtoi64(PQgetvalue(r, row, col), INT64_MIN, INT64_MAX,
	    &v) == -1)
		return 0;
	return v;
}

/* A copy of the cell in a; NULL when out of memory. */
static const char *
gs(struct arena *a, const PGresult *r, int row, int col)
{
	return arena_strndup(a, PQgetvalue(r, row, col),
	    (size_t)PQgetlength(r, row, col));
}

static void *
rows(struct arena *a, const PGresult *r, size_t sz)
{
	size_t	n = (size_t)PQntuples(r);

	return arena_alloc(a, (n ? n : 1) * sz);
}

static int64_t
clamp(int64_t t)
{
	return t < STORE_TIME_MIN ? STORE_TIME_MIN : t > STORE_TIME_MAX ?
	    STORE_TIME_MAX : t;
}

/* The window's parameters $1..$3; -1 when out of memory. */
struct wparams {
	char		 since[UTIL_TIME_BUFSZ], until[UTIL_TIME_BUFSZ];
	struct sarray	 doms;
	const char	*pv[6];
};

static int
wparams(struct store *st, const struct store_window *w, struct wparams *p)
{
	size_t	k;

	store_sarray_init(&p->doms);
	util_format_datetime(clamp(w->since), p->since, sizeof(p->since));
	util_format_datetime(clamp(w->until), p->until, sizeof(p->until));
	p->pv[0] = p->since;
	p->pv[1] = p->until;
	p->pv[3] = NULL;
	/* never all domains: the caller names those it may show */
	for (k = 0; k < w->ndomains; k++)
		store_sarray_add(&p->doms, w->domains[k]);
	if ((p->pv[2] = store_sarray_end(&p->doms)) == NULL) {
		store_seterrx(st, "out of memory");
		return -1;
	}
	return 0;
}

void
store_series_free(struct arena *a)
{
	arena_free(a);
}

int
store_readonly(struct store *st)
{
	return store_cmd(st, "read-only", "SET default_transaction_read_only"
	    " = on", 0, NULL);
}

#define OOM(x)	do { if ((x) == NULL) goto nomem; } while (0)

int
store_domains(struct store *st, const struct store_window *w,
    struct store_domain_list *out)
{
	struct wparams	 p;
	PGresult	*r = NULL;
	int		 i, rc = -1;

	memset(out, 0, sizeof(*out));
	if (wparams(st, w, &p) == -1)
		goto out;
	if ((r = store_exec(st, "domains", SQL_DOMAINS, 2, p.pv,
	    PGRES_TUPLES_OK)) == NULL)
		goto out;
	OOM(out->v = rows(&out->a, r, sizeof(*out->v)));
	for (i = 0; i < PQntuples(r); i++)
		OOM(out->v[i] = arena_strndup(&out->a, PQgetvalue(r, i, 0),
		    (size_t)PQgetlength(r, i, 0)));
	out->n = (size_t)PQntuples(r);
	rc = 0;
	goto out;
 nomem:
	store_seterrx(st, "domains: out of memory");
 out:
	PQclear(r);
	store_sarray_free(&p.doms);
	return rc;
}

int
store_series(struct store *st, const struct store_window *w, unsigned want,
    struct store_series *out)
{
	struct wparams	 p;
	PGresult	*r = NULL;
	struct arena	*a = &out->a;
	int		 i, intx = 0, rc = -1;

	memset(out, 0, sizeof(*out));
	if (wparams(st, w, &p) == -1)
		goto out;
	if (store_cmd(st, "series", "BEGIN ISOLATION LEVEL REPEATABLE READ"
	    " READ ONLY", 0, NULL) == -1)
		goto out;
	intx = 1;
	if (want & STORE_SERIES_DAYS) {
		if ((r = store_exec(st, "series", SQL_DAYS, 3, p.pv,
		    PGRES_TUPLES_OK)) == NULL)
			goto out;
		OOM(out->days = rows(a, r, sizeof(*out->days)));
		for (i = 0; i < PQntuples(r); i++) {
			struct store_day *d = &out->days[i];

			OOM(d->domain = gs(a, r, i, 0));
			d->day = gi(r, i, 1);
			d->reports = gi(r, i, 2);
			d->successful = gi(r, i, 3);
			d->failed = gi(r, i, 4);
		}
		out->ndays = (size_t)PQntuples(r);
		PQclear(r);
		r = NULL;
	}
	if (want & STORE_SERIES_RTS) {
		if ((r = store_exec(st, "series", SQL_RTS, 3, p.pv,
		    PGRES_TUPLES_OK)) == NULL)
			goto out;
		OOM(out->rts = rows(a, r, sizeof(*out->rts)));
		for (i = 0; i < PQntuples(r); i++) {
			struct store_day_rt *d = &out->rts[i];

			OOM(d->domain = gs(a, r, i, 0));
			d->day = gi(r, i, 1);
			OOM(d->result_type = gs(a, r, i, 2));
			d->failed = gi(r, i, 3);
		}
		out->nrts = (size_t)PQntuples(r);
		PQclear(r);
		r = NULL;
	}
	if (want & STORE_SERIES_MX) {
		if ((r = store_exec(st, "series", SQL_MX, 3, p.pv,
		    PGRES_TUPLES_OK)) == NULL)
			goto out;
		OOM(out->mx = rows(a, r, sizeof(*out->mx)));
		for (i = 0; i < PQntuples(r); i++) {
			struct store_mx_row *m = &out->mx[i];

			OOM(m->domain = gs(a, r, i, 0));
			OOM(m->mx = gs(a, r, i, 1));
			OOM(m->result_type = gs(a, r, i, 2));
			m->failed = gi(r, i, 3);
			m->reporters = gi(r, i, 4);
			m->first_day = gi(r, i, 5);
			m->last_day = gi(r, i, 6);
		}
		out->nmx = (size_t)PQntuples(r);
		PQclear(r);
		r = NULL;
	}
	if (want & STORE_SERIES_COVER) {
		if ((r = store_exec(st, "series", SQL_COVER, 3, p.pv,
		    PGRES_TUPLES_OK)) == NULL)
			goto out;
		OOM(out->cover = rows(a, r, sizeof(*out->cover)));
		for (i = 0; i < PQntuples(r); i++) {
			struct store_cover *c = &out->cover[i];

			OOM(c->domain = gs(a, r, i, 0));
			OOM(c->reporter = gs(a, r, i, 1));
			c->day = gi(r, i, 2);
			c->reports = gi(r, i, 3);
		}
		out->ncover = (size_t)PQntuples(r);
		PQclear(r);
		r = NULL;
	}
	if (store_cmd(st, "series", "COMMIT", 0, NULL) == -1)
		goto out;
	intx = 0;
	rc = 0;
	goto out;
 nomem:
	store_seterrx(st, "series: out of memory");
 out:
	PQclear(r);
	if (intx)
		store_rollback(st);
	store_sarray_free(&p.doms);
	return rc;
}

int
store_report_list(struct store *st, const struct store_window *w,
    size_t max, const char *result_type, const char *mx,
    struct store_report_list *out)
{
	struct wparams	 p;
	PGresult	*r = NULL;
	char		 lim[24];
	int		 i, rc = -1;

	memset(out, 0, sizeof(*out));
	if (wparams(st, w, &p) == -1)
		goto out;
	snprintf(lim, sizeof(lim), "%zu", max);
	p.pv[3] = lim;
	p.pv[4] = result_type;
	p.pv[5] = mx;
	if ((r = store_exec(st, "reports", SQL_RLIST, 6, p.pv,
	    PGRES_TUPLES_OK)) == NULL)
		goto out;
	OOM(out->v = rows(&out->a, r, sizeof(*out->v)));
	for (i = 0; i < PQntuples(r); i++) {
		struct store_report_row *x = &out->v[i];

		snprintf(x->key, sizeof(x->key), "%s", PQgetvalue(r, i, 0));
		OOM(x->org = gs(&out->a, r, i, 1));
		x->start = gi(r, i, 2);
		x->end = gi(r, i, 3);
		OOM(x->domain = gs(&out->a, r, i, 4));
		x->successful = gi(r, i, 5);
		x->failed = gi(r, i, 6);
	}
	out->n = (size_t)PQntuples(r);
	rc = 0;
	goto out;
 nomem:
	store_seterrx(st, "reports: out of memory");
 out:
	PQclear(r);
	store_sarray_free(&p.doms);
	return rc;
}

/* 1 when s is 64 hex digits. */
static int
is_key(const char *s)
{
	size_t	n = strspn(s, "0123456789abcdef");

	return n == 64 && s[n] == '\0';
}

int
store_report_get(struct store *st, const char *keyhex,
    struct store_report_info *out)
{
	PGresult	*r = NULL;
	struct arena	*a = &out->a;
	char		 bkey[70];
	const char	*pv[1];
	const char	*w;
	size_t		 k, nw;
	int		 i, intx = 0, rc = -1;

	memset(out, 0, sizeof(*out));
	if (!is_key(keyhex))
		return 1;
	snprintf(out->key, sizeof(out->key), "%s", keyhex);
	snprintf(bkey, sizeof(bkey), "\\x%s", keyhex);
	pv[0] = bkey;
	if (store_cmd(st, "report", "BEGIN ISOLATION LEVEL REPEATABLE READ"
	    " READ ONLY", 0, NULL) == -1)
		goto out;
	intx = 1;
	if ((r = store_exec(st, "report", SQL_RMETA, 1, pv,
	    PGRES_TUPLES_OK)) == NULL)
		goto out;
	if (PQntuples(r) != 1) {
		rc = 1;
		goto out;
	}
	OOM(out->org = gs(a, r, 0, 0));
	OOM(out->report_id = gs(a, r, 0, 1));
	OOM(out->contact = gs(a, r, 0, 2));
	OOM(out->filename = gs(a, r, 0, 3));
	OOM(out->dkim = gs(a, r, 0, 4));
	out->start = gi(r, 0, 5);
	out->end = gi(r, 0, 6);
	out->received = gi(r, 0, 7);
	nw = (size_t)gi(r, 0, 9);
	OOM(out->warnings = arena_alloc(a, (nw ? nw : 1) *
	    sizeof(*out->warnings)));
	/* the warnings are ours (ingest's sentences): no newline inside */
	for (w = PQgetvalue(r, 0, 8), k = 0; k < nw && *w != '\0'; k++) {
		size_t	l = strcspn(w, "\n");

		OOM(out->warnings[k] = arena_strndup(a, w, l));
		w += l + (w[l] == '\n');
	}
	out->nwarnings = k;
	PQclear(r);

	if ((r = store_exec(st, "report", SQL_RPOL, 1, pv,
	    PGRES_TUPLES_OK)) == NULL)
		goto out;
	OOM(out->pol = rows(a, r, sizeof(*out->pol)));
	for (i = 0; i < PQntuples(r); i++) {
		struct store_policy_row *x = &out->pol[i];

		x->idx = (int)gi(r, i, 0);
		OOM(x->domain = gs(a, r, i, 1));
		OOM(x->type = gs(a, r, i, 2));
		OOM(x->mode = gs(a, r, i, 3));
		OOM(x->strings = gs(a, r, i, 4));
		OOM(x->mx_hosts = gs(a, r, i, 5));
		x->successful = gi(r, i, 6);
		x->failed = gi(r, i, 7);
		x->counted = (int)gi(r, i, 8);
	}
	out->npol = (size_t)PQntuples(r);
	PQclear(r);

	if ((r = store_exec(st, "report", SQL_RDET, 1, pv,
	    PGRES_TUPLES_OK)) == NULL)
		goto out;
	OOM(out->det = rows(a, r, sizeof(*out->det)));
	for (i = 0; i < PQntuples(r); i++) {
		struct store_detail_row *x = &out->det[i];

		x->policy_idx = (int)gi(r, i, 0);
		OOM(x->result_type = gs(a, r, i, 1));
		OOM(x->sending_ip = gs(a, r, i, 2));
		OOM(x->receiving_ip = gs(a, r, i, 3));
		OOM(x->mx = gs(a, r, i, 4));
		OOM(x->helo = gs(a, r, i, 5));
		OOM(x->info = gs(a, r, i, 6));
		OOM(x->reason = gs(a, r, i, 7));
		x->failed = gi(r, i, 8);
	}
	out->ndet = (size_t)PQntuples(r);
	PQclear(r);

	if ((r = store_exec(st, "report", SQL_RARR, 1, pv,
	    PGRES_TUPLES_OK)) == NULL)
		goto out;
	OOM(out->arr = rows(a, r, sizeof(*out->arr)));
	for (i = 0; i < PQntuples(r); i++) {
		struct store_arrival_row *x = &out->arr[i];

		x->at = gi(r, i, 0);
		OOM(x->source = gs(a, r, i, 1));
		OOM(x->origin = gs(a, r, i, 2));
		OOM(x->outcome = gs(a, r, i, 3));
		OOM(x->note = gs(a, r, i, 4));
		x->dkim = "";
	}
	out->narr = (size_t)PQntuples(r);
	PQclear(r);

	if ((r = store_exec(st, "report", SQL_RVAR, 1, pv,
	    PGRES_TUPLES_OK)) == NULL)
		goto out;
	OOM(out->variants = rows(a, r, sizeof(*out->variants)));
	for (i = 0; i < PQntuples(r); i++)
		snprintf(out->variants[i], sizeof(out->variants[i]), "%s",
		    PQgetvalue(r, i, 0));
	out->nvariants = (size_t)PQntuples(r);
	PQclear(r);
	r = NULL;
	if (store_cmd(st, "report", "COMMIT", 0, NULL) == -1)
		goto out;
	intx = 0;
	rc = 0;
	goto out;
 nomem:
	store_seterrx(st, "report: out of memory");
 out:
	PQclear(r);
	if (intx)
		store_rollback(st);
	return rc;
}

int
store_report_raw(struct store *st, const char *keyhex, const char *shahex,
    struct store_raw *out)
{
	PGresult		*r;
	const char		*pv[2];
	const unsigned char	*v;
	size_t			 n;
	struct ingest_limits	 lim;
	struct ingest_err	 ie;
	int			 rc = -1;

	memset(out, 0, sizeof(*out));
	ingest_limits_default(&lim);
	bbuf_init(&out->buf, lim.json_max);
	if (!is_key(keyhex) || !is_key(shahex))
		return 1;
	pv[0] = keyhex;
	pv[1] = shahex;
	/* bytea as binary: the body as stored, no hex text in between */
	r = PQexecParams(st->conn, SQL_RAW, 2, NULL, pv, NULL, NULL, 1);
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		store_seterr(st, "raw", r);
		goto out;
	}
	if (PQntuples(r) != 1) {
		rc = 1;
		goto out;
	}
	n = (size_t)PQgetlength(r, 0, 0);
	v = (const unsigned char *)PQgetvalue(r, 0, 0);
	/* schema 009 keeps the packed zlib of the JSON (store_put.c
	 * raw_body()), 008 its gzip, bodies stored before it the JSON: the
	 * JSON either way, as big as ingest lets a report be; the ratio is
	 * ours, not a sender's.  One copy, in out->buf, which the caller may
	 * take over. */
	if (ingest_is_gzip(v, n)) {
		lim.compressed_max = SIZE_MAX;
		lim.ratio_max = UINT_MAX;
		if (ingest_gunzip(v, n, &lim, &out->buf, NULL, &ie) !=
		    INGEST_OK) {
			store_seterrx(st, "raw: a stored body does not "
			    "inflate: %s", ie.msg);
			goto out;
		}
	} else if (ingest_is_packed(v, n)) {	/* from schema 009 */
		if (ingest_unpack(v, n, &out->buf, &ie) != INGEST_OK) {
			store_seterrx(st, "raw: a stored body does not "
			    "unpack: %s", ie.msg);
			goto out;
		}
	} else if (n > 0 && bbuf_append(&out->buf, v, n) == -1) {
		store_seterrx(st, "raw: a stored body of %zu bytes: out of "
		    "memory or over %zu", n, lim.json_max);
		goto out;
	}
	out->body = (const char *)out->buf.data;
	out->len = out->buf.len;
	rc = 0;
 out:
	if (rc != 0)
		store_raw_free(out);
	PQclear(r);
	return rc;
}

void
store_raw_free(struct store_raw *raw)
{
	bbuf_reset(&raw->buf);
	arena_free(&raw->a);
	raw->body = NULL;
	raw->len = 0;
}

int
store_rejections(struct store *st, size_t max, struct store_reject_list *out)
{
	PGresult	*r = NULL;
	char		 lim[24];
	const char	*pv[1];
	int		 i, rc = -1;

	memset(out, 0, sizeof(*out));
	snprintf(lim, sizeof(lim), "%zu", max);
	pv[0] = lim;
	if ((r = store_exec(st, "rejections", SQL_REJ, 1, pv,
	    PGRES_TUPLES_OK)) == NULL)
		goto out;
	OOM(out->v = rows(&out->a, r, sizeof(*out->v)));
	for (i = 0; i < PQntuples(r); i++) {
		struct store_reject_row *x = &out->v[i];

		x->id = gi(r, i, 0);
		x->at = gi(r, i, 1);
		x->len = gi(r, i, 2);
		OOM(x->source = gs(&out->a, r, i, 3));
		OOM(x->origin = gs(&out->a, r, i, 4));
		OOM(x->reason = gs(&out->a, r, i, 5));
	}
	out->n = (size_t)PQntuples(r);
	rc = 0;
	goto out;
 nomem:
	store_seterrx(st, "rejections: out of memory");
 out:
	PQclear(r);
	return rc;
}

/* --- the web's cache stamp and the overview's MTA-STS modes ---------- */

/*
 * The first two from an index: arrival's primary key, rollup_totals_idx.
 * The last arrival alone misses an import that took a lower arrival_id
 * and committed after a higher one (two importers at once: identities
 * are handed out in order, commits are not); the server's count of the
 * table's rows written moves when that one commits too (once its backend
 * reports its statistics: at the end of a transaction, at most a few
 * seconds late).
 */
#define SQL_STAMP							\
	"SELECT COALESCE((SELECT pg_catalog.max(arrival_id)"		\
	" FROM tlsrpt.arrival), 0), (SELECT EXTRACT(epoch FROM"	\
	" pg_catalog.min(period_start))::bigint FROM tlsrpt.rollup"	\
	" WHERE result_type = ''), COALESCE((SELECT n_tup_ins +"	\
	" n_tup_upd + n_tup_del FROM pg_catalog.pg_stat_all_tables"	\
	" WHERE relid = 'tlsrpt.arrival'::pg_catalog.regclass), 0)"

/* The page's domains' policies through policy_domain_no_idx, each
 * one's report by its report_no (OFFSET 0 keeps the planner from
 * hashing every report of the window instead: it cannot know how few
 * policies the domains have). */
#define SQL_MODES							\
	"SELECT p.policy_domain, COALESCE(p.sts_mode, '') AS m,"	\
	" pg_catalog.count(DISTINCT p.report_no) AS n,"		\
	" pg_catalog.count(DISTINCT r.reporter)"			\
	" FROM tlsrpt.policy p CROSS JOIN LATERAL (SELECT r.reporter"	\
	"  FROM tlsrpt.report r WHERE r.report_no = p.report_no"	\
	"  AND r.date_start >= $1::timestamptz"				\
	"  AND r.date_start < $2::timestamptz OFFSET 0) AS r"		\
	" WHERE p.policy_type = 'sts'"					\
	" AND p.policy_domain = ANY ($3::text[])"			\
	" GROUP BY 1, 2 ORDER BY p.policy_domain COLLATE \"C\", n DESC,"	\
	" COALESCE(p.sts_mode, '') COLLATE \"C\""

int
store_data_stamp(struct store *st, struct store_stamp *out)
{
	PGresult	*r;

	memset(out, 0, sizeof(*out));
	if ((r = store_exec(st, "stamp", SQL_STAMP, 0, NULL,
	    PGRES_TUPLES_OK)) == NULL)
		return -1;
	if (PQntuples(r) != 1) {
		PQclear(r);
		store_seterrx(st, "stamp: no answer");
		return -1;
	}
	out->last_arrival = gi(r, 0, 0);
	out->first_day = PQgetisnull(r, 0, 1) ? INT64_MIN : gi(r, 0, 1);
	out->writes = gi(r, 0, 2);
	PQclear(r);
	return 0;
}

int
store_sts_modes(struct store *st, const struct store_window *w,
    struct store_sts_modes *out)
{
	struct wparams	 p;
	PGresult	*r = NULL;
	int		 i, rc = -1;

	memset(out, 0, sizeof(*out));
	if (wparams(st, w, &p) == -1)
		goto out;
	if ((r = store_exec(st, "modes", SQL_MODES, 3, p.pv,
	    PGRES_TUPLES_OK)) == NULL)
		goto out;
	OOM(out->v = rows(&out->a, r, sizeof(*out->v)));
	for (i = 0; i < PQntuples(r); i++) {
		struct store_sts_mode *m = &out->v[i];

		OOM(m->domain = gs(&out->a, r, i, 0));
		OOM(m->mode = gs(&out->a, r, i, 1));
		m->reports = gi(r, i, 2);
		m->reporters = gi(r, i, 3);
	}
	out->n = (size_t)PQntuples(r);
	rc = 0;
	goto out;
 nomem:
	store_seterrx(st, "modes: out of memory");
 out:
	PQclear(r);
	store_sarray_free(&p.doms);
	return rc;
}
