/*
 * store_put.c -- store parsed reports in batches: the batch transaction.
 *
 * Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
 *
 * What it sends is made elsewhere: the rows of each table by
 * store_rows.c, in the COPY text format of store_copy.c, the rollup
 * rows by rollup_build() (ingest/rollup.c); rejected payloads are
 * store_reject.c.
 *
 * A batch of reports is one transaction of a few set-based statements:
 *
 *  1. one SELECT of the batch's report keys already in tlsrpt.report,
 *     with the digest of their stored content;
 *  2. COPY of the new reports, their policies, failure details, raw
 *     bodies, and of every arrival, straight into their tables;
 *  3. the batch's rollup rows, aggregated by rollup_build() (ingest/
 *     rollup.c, beside the accounting rule): the batch's (domain,
 *     period, reporter) groups are locked (tlsrpt.rollup_lock(), schema
 *     009: the rollup has no unique key, its writers keep it unique),
 *     then one SELECT finds which of them the rollup has already; rows
 *     of new groups are COPYed straight into tlsrpt.rollup, the others
 *     into a temporary table and added with one UPDATE ... INSERT
 *     (rare: a reporter sends one report per domain and day);
 *  4. COMMIT.
 *
 * A copy of a stored identity (issues 8 and 13, see decide()): with the
 * same figures it is a duplicate, and when it knows policy domains the
 * stored copy lacks it fills them in (tlsrpt.report_fill_domains(),
 * after step 3); with other figures a DKIM-trusted copy replaces an
 * untrusted stored one (tlsrpt.report_unstore() before step 2, then it
 * is stored as new), and any other is a conflicting copy, recorded in
 * its arrival's note.  The SQL functions are schema/006_report_identity.sql.
 *
 * A report repeated inside a batch is stored once (its first trusted
 * copy, else its first); the later copies are duplicates.  Should
 * another importer store one of our report keys between our look and
 * our COPY, the COPY fails on the primary key and the batch is tried
 * again (it then sees the row); another importer's rollup groups wait
 * for their locks, and deadlocks are retried the same way.  The new
 * reports' report_no come from tlsrpt.report_no_seq (number()).  When a batch
 * fails for another reason than the connection, each of its reports is
 * tried in a transaction of its own, so one bad report does not take the
 * others down.
 */

#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>
#include <nettle/sha2.h>

#include "ingest.h"
#include "rollup.h"
#include "store.h"
#include "store_copy.h"
#include "store_rows.h"
#include "store_int.h"
#include "util.h"

#define PUT_BATCH_MAX		1000	/* reports per transaction */
#define PUT_BATCH_JSON_BYTES	(64 * 1024 * 1024) /* JSON per transaction */
#define PUT_BATCH_ROWS		(256 * 1024)	/* policies + details */
#define PUT_TRIES		3	/* attempts on conflict or deadlock */

#define NOTE_VARIANT		"same report, different content"
#define NOTE_CONFLICT		"conflicting copy"	/* 006's index */
#define NOTE_REPLACED		"trusted copy replaced an untrusted one"

#define SQL_STAGE							\
	"CREATE TEMPORARY TABLE IF NOT EXISTS pg_temp.tlsrpt_stage_rollup ("\
	" policy_domain text COLLATE \"C\" NOT NULL,"			\
	" period_start timestamptz NOT NULL,"				\
	" reporter text COLLATE \"C\" NOT NULL,"				\
	" policy_type text COLLATE \"C\" NOT NULL,"			\
	" result_type text COLLATE \"C\" NOT NULL,"			\
	" mx_host text COLLATE \"C\" NOT NULL, reports bigint NOT NULL,"	\
	" successful_sessions bigint NOT NULL,"			\
	" failed_sessions bigint NOT NULL) ON COMMIT DELETE ROWS"

#define SQL_EXISTING							\
	"SELECT report_key, sha256, trusted, figures,"			\
	" pg_catalog.date_part('epoch', received_at)::bigint, report_no"\
	" FROM tlsrpt.report WHERE report_key = ANY ($1::bytea[])"

/* The numbers of $1 new reports (schema/009_report_no.sql). */
#define SQL_NUMBERS							\
	"SELECT pg_catalog.nextval('tlsrpt.report_no_seq')"		\
	" FROM pg_catalog.generate_series(1, $1::integer)"

/* schema/006_report_identity.sql */
#define SQL_UNSTORE	"SELECT tlsrpt.report_unstore($1)"
#define SQL_FILL							\
	"SELECT tlsrpt.report_fill_domains($1, $2::integer[], $3::text[],"\
	" $4::text[], $5::text[])"

/*
 * A report seen again with a DKIM verdict: fill in what an arrival
 * without one (HTTPS, import) left NULL, and let a trusted arrival
 * (through the milter) upgrade an untrusted one.  Never downgrade.
 */
#define SQL_PUT_TRUST							\
	"UPDATE tlsrpt.report SET dkim = $2, trusted = $3::boolean"	\
	" WHERE report_key = $1 AND (trusted IS NULL OR"		\
	" (NOT trusted AND $3::boolean))"

#define SQL_PUT_VARIANT							\
	"INSERT INTO tlsrpt.report_raw (report_no, sha256, body)"	\
	" VALUES ($1::bigint, $2, $3)"					\
	" ON CONFLICT (report_no, sha256) DO NOTHING"

#define ROLLUP_COLS							\
	" (policy_domain, period_start, reporter, policy_type,"	\
	" result_type, mx_host, reports, successful_sessions,"		\
	" failed_sessions)"

#define SQL_COPY_ROLLUP_NEW						\
	"COPY tlsrpt.rollup" ROLLUP_COLS " FROM STDIN"

#define SQL_COPY_ROLLUP_OLD						\
	"COPY pg_temp.tlsrpt_stage_rollup" ROLLUP_COLS " FROM STDIN"

/*
 * The groups of $1, $2, $3 the rollup has, in the order of rollup_row_cmp(),
 * looked for under their locks (SQL_LOCK_GROUPS: since schema 009 the
 * rollup has no unique key; its writers keep it unique).  LATERAL ...
 * LIMIT 1 makes it one index probe per group, whatever the statistics of
 * a table that an import is filling say.
 */
#define SQL_LOCK_GROUPS							\
	"SELECT tlsrpt.rollup_lock($1::text[], $2::timestamptz[],"	\
	" $3::text[])"
#define SQL_GROUPS							\
	"SELECT g.d, pg_catalog.date_part('epoch', g.s)::bigint, g.r"	\
	" FROM unnest($1::text[], $2::timestamptz[], $3::text[])"	\
	" AS g(d, s, r) CROSS JOIN LATERAL (SELECT 1 FROM tlsrpt.rollup u"\
	" WHERE u.policy_domain = g.d AND u.period_start = g.s"	\
	" AND u.reporter = g.r LIMIT 1) AS x"				\
	" ORDER BY g.d COLLATE \"C\", g.s, g.r COLLATE \"C\""

/*
 * The staged rows (unique per key, merged here) of groups the rollup has:
 * those it has add up, the others are inserted.  The groups are locked
 * (find_groups()), so no other writer adds the same rows meanwhile.
 */
#define SQL_ROLLUP_KEY_EQ(a, b)						\
	" " a ".policy_domain = " b ".policy_domain"			\
	" AND " a ".period_start = " b ".period_start"		\
	" AND " a ".reporter = " b ".reporter"				\
	" AND " a ".policy_type = " b ".policy_type"			\
	" AND " a ".result_type = " b ".result_type"			\
	" AND " a ".mx_host = " b ".mx_host"

#define SQL_ROLLUP							\
	"WITH s AS MATERIALIZED (SELECT * FROM pg_temp.tlsrpt_stage_rollup),"\
	" u AS (UPDATE tlsrpt.rollup u SET reports = u.reports + s.reports,"\
	" successful_sessions = u.successful_sessions"		\
	"  + s.successful_sessions,"					\
	" failed_sessions = u.failed_sessions + s.failed_sessions"	\
	" FROM s WHERE" SQL_ROLLUP_KEY_EQ("u", "s")			\
	" RETURNING u.policy_domain, u.period_start, u.reporter,"	\
	" u.policy_type, u.result_type, u.mx_host)"			\
	" INSERT INTO tlsrpt.rollup" ROLLUP_COLS			\
	" SELECT policy_domain, period_start, reporter, policy_type,"	\
	" result_type, mx_host, reports, successful_sessions,"		\
	" failed_sessions FROM s WHERE NOT EXISTS (SELECT 1 FROM u"	\
	" WHERE" SQL_ROLLUP_KEY_EQ("u", "s") ")"

/* One report of a batch. */
struct item {
	size_t		 i;		/* index in the caller's array */
	const unsigned char *key;	/* reps[i]->key, for sorting */
	int		 trusted;	/* is_trusted(reps[i]): sorts first */
	int		 dupof;		/* -1, or the item repeated */
	int		 stored;	/* inserted by this transaction */
	int		 haveref;	/* refsha is known */
	unsigned char	 refsha[32];	/* digest of what is stored */
	int		 reftrusted;	/* stored: 1, 0, -1 unknown */
	int		 havefig;	/* reffig known (since 006) */
	unsigned char	 reffig[32];	/* figures digest stored */
	int64_t		 refrecv;	/* its first arrival */
	int64_t		 refno;		/* its report_no */
	int64_t		 no;		/* report_no of the stored copy */
	int		 replace;	/* trusted: replaces stored */
	int		 same;		/* same figures as stored */
	unsigned	 flags;		/* STORE_PUT_* */
	struct store_arrival keep;	/* refrecv (replace) */
};

/* The work area of one store_put_reports() call. */
struct put {
	struct copy	 copy;
	struct item	 items[PUT_BATCH_MAX];
	struct item	*sorted[PUT_BATCH_MAX];
	size_t		 idx[PUT_BATCH_MAX];
	enum store_outcome outs[PUT_BATCH_MAX];
	const struct tlsrpt_report *srep[PUT_BATCH_MAX]; /* the stored */
	struct rollup	 ru;		/* their rollup rows (ingest/) */
	unsigned char	*old;		/* per row: its group is in the
					 * rollup already; grows */
	size_t		 oldcap;
};

static int	put_batch_retry(struct store *, struct put *,
		    struct tlsrpt_report *const *, const struct store_arrival *,
		    const size_t *, size_t, enum store_outcome *);
static int	put_batch(struct store *, struct put *,
		    struct tlsrpt_report *const *, const struct store_arrival *,
		    const size_t *, size_t);
static int	stage_create(struct store *);
static int	check_report(const struct tlsrpt_report *,
		    const struct store_arrival *, const char **);
static size_t	report_rows(const struct tlsrpt_report *);
static void	mark_dups(struct put *, struct tlsrpt_report *const *,
		    size_t);
static int	cmp_item(const void *, const void *);
static char	*key_array(struct put *, size_t,
		    struct tlsrpt_report *const *);
static int	find_existing(struct store *, struct put *, size_t,
		    struct tlsrpt_report *const *);
static int	is_variant(const struct put *, size_t,
		    struct tlsrpt_report *const *);
static const unsigned char *raw_body(struct store *,
		    const struct tlsrpt_report *, size_t *);
static int	put_variants(struct store *, struct put *, size_t,
		    struct tlsrpt_report *const *);
static int	put_rollup(struct store *, struct put *, size_t,
		    struct tlsrpt_report *const *);
static int	cmp_group(const struct rollup_row *, const char *, int64_t,
		    const char *);
static int	find_groups(struct store *, struct put *, size_t);
static int	cmp_key_only(const void *, const void *);


static int	copy_begin(struct copy *, struct store *, const char *,
		    const char *);
static int	copy_end(struct copy *, const char *);
static int	copy_sink(void *, const char *, size_t);

static int		 put_trust(struct store *, const struct tlsrpt_report *);
static int		 number(struct store *, struct put *, size_t);
static int64_t		 item_no(const struct put *, size_t);
static int		 put_unstore(struct store *,
			    const struct tlsrpt_report *);
static int		 put_fill(struct store *, const struct tlsrpt_report *,
			    const struct store_arrival *, int *);
static void		 decide(struct put *, size_t,
			    struct tlsrpt_report *const *);
static int		 is_trusted(const struct tlsrpt_report *);
static int64_t		 be64(const unsigned char *);

int
store_put_reports(struct store *st, struct tlsrpt_report *const *reps,
    const struct store_arrival *arr, size_t n, enum store_outcome *out)
{
	struct put	*p = NULL;
	const char	*why;
	size_t		 b, e, m, bytes, rows, r;
	int		 rc = -1;

	for (b = 0; b < n; b++)
		out[b] = STORE_FAILED;
	store_put_reset(st, n);
	if (n == 0)
		return 0;
	/* lost when out of memory: the outcomes are what matters */
	st->putflags = calloc(n, 1);
	if ((p = calloc(1, sizeof(*p))) == NULL) {
		store_seterrx(st, "store: out of memory");
		goto out;
	}
	rollup_init(&p->ru);
	if (stage_create(st) == -1)
		goto out;
	for (b = 0; b < n; b = e) {
		m = 0;
		bytes = 0;
		rows = 0;
		for (e = b; e < n && m < PUT_BATCH_MAX; e++) {
			if (check_report(reps[e], &arr[e], &why) == -1) {
				store_seterr_report(st, "report not stored: %s",
				    why);
				store_put_fail(st, e);
				continue;
			}
			r = report_rows(reps[e]);
			if (m > 0 && (reps[e]->json_len >
			    PUT_BATCH_JSON_BYTES - bytes ||
			    r > PUT_BATCH_ROWS - rows))
				break;
			bytes += reps[e]->json_len;
			rows += r;
			p->idx[m++] = e;
		}
		if (m > 0 && put_batch_retry(st, p, reps, arr, p->idx, m,
		    out) == -1)
			goto out;
	}
	rc = 0;
 out:
	if (p != NULL) {
		rollup_free(&p->ru);
		free(p->old);
	}
	free(p);
	return rc;
}

/*
 * Store one batch; on conflict or deadlock try again, on another error
 * store its reports one by one.  Returns -1 only when the database is
 * unreachable.
 */
static int
put_batch_retry(struct store *st, struct put *p,
    struct tlsrpt_report *const *reps, const struct store_arrival *arr,
    const size_t *idx, size_t m, enum store_outcome *out)
{
	size_t	j, one;
	int	try;

	for (try = 1; try <= PUT_TRIES; try++) {
		if (put_batch(st, p, reps, arr, idx, m) == 0) {
			for (j = 0; j < m; j++) {
				out[idx[j]] = p->outs[j];
				if (st->putflags != NULL)
					st->putflags[idx[j]] =
					    (unsigned char)p->items[j].flags;
			}
			return 0;
		}
		if (!store_err_retry(st))
			break;
	}
	if (store_err_transient(st))
		return -1;
	if (m == 1) {
		store_put_fail(st, idx[0]);	/* out stays STORE_FAILED */
		return 0;
	}
	for (j = 0; j < m; j++) {
		one = idx[j];
		if (put_batch_retry(st, p, reps, arr, &one, 1, out) == -1)
			return -1;
	}
	return 0;
}

/* One transaction; p->outs[0..m) get the outcomes once it commits. */
static int
put_batch(struct store *st, struct put *p, struct tlsrpt_report *const *reps,
    const struct store_arrival *arr, const size_t *idx, size_t m)
{
	const struct store_table *tb;
	const struct tlsrpt_report *rep;
	const unsigned char *body;
	struct item	*it;
	size_t		 j, t, len;
	int		 nstored = 0, nvar = 0, filled, rc = -1;

	for (j = 0; j < m; j++) {
		p->items[j].i = idx[j];
		p->items[j].dupof = -1;
		p->items[j].stored = 0;
		p->items[j].haveref = 0;
		p->items[j].reftrusted = -1;
		p->items[j].havefig = 0;
		p->items[j].refno = 0;
		p->items[j].no = 0;
		p->items[j].replace = 0;
		p->items[j].same = 1;
		p->items[j].flags = 0;
	}
	mark_dups(p, reps, m);

	/* READ COMMITTED whatever the database's default: the rollup's
	 * group lookup after its advisory lock (find_groups()) must see
	 * what the importer it waited for committed */
	if (store_cmd(st, "cannot store reports",
	    "BEGIN ISOLATION LEVEL READ COMMITTED", 0, NULL) == -1)
		goto out;
	if (find_existing(st, p, m, reps) == -1)
		goto out;
	for (j = 0; j < m; j++)	/* first copies before their repeats */
		if (p->items[j].dupof == -1)
			decide(p, j, reps);
	for (j = 0; j < m; j++)
		if (p->items[j].dupof != -1)
			decide(p, j, reps);
	for (j = 0; j < m; j++) {
		it = &p->items[j];
		nstored += it->stored;
		nvar += is_variant(p, j, reps);
		/* a trusted copy takes the place of the stored figures */
		if (it->replace && put_unstore(st, reps[it->i]) == -1)
			goto out;
	}
	if (number(st, p, m) == -1)
		goto out;

	for (t = 0; nstored > 0 && t < STORE_REPORT_TABLES; t++) {
		tb = &store_report_tables[t];
		if (copy_begin(&p->copy, st, tb->sql, tb->what) == -1)
			goto out;
		for (j = 0; j < m; j++) {
			it = &p->items[j];
			if (!it->stored)
				continue;
			if (tb->body && it->replace)
				continue;	/* put_variants() */
			rep = reps[idx[j]];
			if (tb->body) {
				body = raw_body(st, rep, &len);
				store_row_raw(&p->copy, rep, it->no, body, len);
			} else
				tb->rows(&p->copy, rep, it->replace ?
				    &it->keep : &arr[idx[j]], it->no);
		}
		if (copy_end(&p->copy, tb->what) == -1)
			goto out;
	}
	if (nvar > 0 && put_variants(st, p, m, reps) == -1)
		goto out;

	if (copy_begin(&p->copy, st, STORE_SQL_COPY_ARRIVAL,
	    "cannot record arrivals") == -1)
		goto out;
	for (j = 0; j < m; j++) {
		it = &p->items[j];
		store_row_arrival(&p->copy, reps[it->i], item_no(p, j),
		    &arr[it->i], it->stored,
		    it->replace ? NOTE_REPLACED : !it->same ? NOTE_CONFLICT :
		    is_variant(p, j, reps) ? NOTE_VARIANT : NULL);
	}
	if (copy_end(&p->copy, "cannot record arrivals") == -1)
		goto out;

	if (nstored > 0 && put_rollup(st, p, m, reps) == -1)
		goto out;
	for (j = 0; j < m; j++) {
		it = &p->items[j];
		if (it->stored || !it->same)
			continue;
		/* after the rollup: the stored copy may be this batch's */
		if (put_fill(st, reps[it->i], &arr[it->i], &filled) == -1 ||
		    put_trust(st, reps[it->i]) == -1)
			goto out;
		if (filled)
			it->flags |= STORE_PUT_FILLED;
	}
	if (store_cmd(st, "cannot store reports", "COMMIT", 0, NULL) == -1)
		goto out;
	for (j = 0; j < m; j++)
		p->outs[j] = p->items[j].stored ? STORE_STORED :
		    STORE_DUPLICATE;
	rc = 0;
 out:
	if (rc == -1)
		store_rollback(st);
	return rc;
}

/*
 * Give every first copy the report_no of what it is stored as: a new
 * number from the sequence for a new report, the stored copy's for the
 * others (a trusted copy that replaces one takes its number, so that
 * the raw bodies and arrivals kept stay attached: schema 009).
 */
static int
number(struct store *st, struct put *p, size_t m)
{
	PGresult	*res;
	const char	*pv[1];
	char		 n[24];
	size_t		 j, k, nnew = 0;
	int		 rc = -1;

	for (j = 0; j < m; j++)
		if (p->items[j].dupof == -1 && p->items[j].stored &&
		    !p->items[j].replace)
			nnew++;
	for (j = 0; j < m; j++)
		p->items[j].no = p->items[j].refno;
	if (nnew == 0)
		return 0;
	snprintf(n, sizeof(n), "%zu", nnew);
	pv[0] = n;
	if ((res = store_exec(st, "cannot number reports", SQL_NUMBERS, 1, pv,
	    PGRES_TUPLES_OK)) == NULL)
		return -1;
	if ((size_t)PQntuples(res) != nnew) {
		store_seterrx(st, "cannot number reports: %d numbers for %zu",
		    PQntuples(res), nnew);
		goto out;
	}
	for (j = 0, k = 0; j < m; j++) {
		if (p->items[j].dupof != -1 || !p->items[j].stored ||
		    p->items[j].replace)
			continue;
		if (util_strtoi64(PQgetvalue(res, (int)k, 0), 1, INT64_MAX,
		    &p->items[j].no) == -1) {
			store_seterrx(st, "cannot number reports: \"%.30s\"",
			    PQgetvalue(res, (int)k, 0));
			goto out;
		}
		k++;
	}
	rc = 0;
 out:
	PQclear(res);
	return rc;
}

/* The report_no of the stored copy item j is a copy of. */
static int64_t
item_no(const struct put *p, size_t j)
{
	const struct item	*it = &p->items[j];

	return it->dupof != -1 ? p->items[it->dupof].no : it->no;
}

/* The stored figures of rep's identity go; rep's take their place. */
static int
put_unstore(struct store *st, const struct tlsrpt_report *rep)
{
	const char	*pv[1];
	int		 lens[1], fmts[1] = { 1 };
	PGresult	*res;

	pv[0] = (const char *)rep->key;
	lens[0] = sizeof(rep->key);
	res = PQexecParams(st->conn, SQL_UNSTORE, 1, NULL, pv, lens, fmts, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		store_seterr(st, "cannot replace an untrusted copy", res);
		PQclear(res);
		return -1;
	}
	PQclear(res);
	return 0;
}

/*
 * A copy of a stored report that knows domains the body did not give
 * (TLS-Report-Domain, file name, report-id, ...): the stored policies
 * whose domain is unknown take them (issue 13), with a warning that says
 * where from; tlsrpt.report_fill_domains() moves the figures.  *filled
 * gets 1 when something was filled in.
 */
static int
put_fill(struct store *st, const struct tlsrpt_report *rep,
    const struct store_arrival *arr, int *filled)
{
	const struct tlsrpt_policy	*pol;
	struct sarray			 idxs, doms, srcs, warns;
	const char			*pv[5], *from;
	char				 num[24], w[512];
	int				 lens[5], fmts[5];
	PGresult			*res = NULL;
	size_t				 i, n = 0;
	int				 rc = -1;

	*filled = 0;
	store_sarray_init(&idxs);
	store_sarray_init(&doms);
	store_sarray_init(&srcs);
	store_sarray_init(&warns);
	for (i = 0; i < rep->npolicies; i++) {
		pol = &rep->policies[i];
		if (pol->domain_src == TLSRPT_DS_REPORT ||
		    pol->domain_src == TLSRPT_DS_UNKNOWN ||
		    pol->domain == NULL || *pol->domain == '\0')
			continue;
		from = pol->domain_src == TLSRPT_DS_HEADER ?
		    (rep->hdr_domain != NULL ? "TLS-Report-Domain" :
		    "the receiver's --domain") :
		    pol->domain_src == TLSRPT_DS_FILENAME ? "the file name" :
		    pol->domain_src == TLSRPT_DS_REPORTID ? "the report-id" :
		    "the other policies";
		snprintf(num, sizeof(num), "%zu", i);
		snprintf(w, sizeof(w), "policy-domain-filled: policies[%zu]:"
		    " \"%.255s\" taken from %s of a later copy (%s)", i,
		    pol->domain, from, arr->source != NULL ? arr->source :
		    "unknown");
		if (store_sarray_add(&idxs, num) == -1 ||
		    store_sarray_add(&doms, pol->domain) == -1 ||
		    store_sarray_add(&srcs, tlsrpt_dsrc_str(pol->domain_src)) == -1 ||
		    store_sarray_add(&warns, w) == -1)
			goto nomem;
		n++;
	}
	if (n == 0) {
		rc = 0;
		goto out;
	}
	memset(lens, 0, sizeof(lens));
	memset(fmts, 0, sizeof(fmts));
	pv[0] = (const char *)rep->key;
	lens[0] = sizeof(rep->key);
	fmts[0] = 1;
	if ((pv[1] = store_sarray_end(&idxs)) == NULL ||
	    (pv[2] = store_sarray_end(&doms)) == NULL ||
	    (pv[3] = store_sarray_end(&srcs)) == NULL ||
	    (pv[4] = store_sarray_end(&warns)) == NULL)
		goto nomem;
	res = PQexecParams(st->conn, SQL_FILL, 5, NULL, pv, lens, fmts, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1) {
		store_seterr(st, "cannot fill in policy domains", res);
		goto out;
	}
	*filled = strcmp(PQgetvalue(res, 0, 0), "0") != 0;
	rc = 0;
	goto out;
 nomem:
	store_seterrx(st, "store: out of memory");
 out:
	PQclear(res);
	store_sarray_free(&idxs);
	store_sarray_free(&doms);
	store_sarray_free(&srcs);
	store_sarray_free(&warns);
	return rc;
}

unsigned
store_put_flags(const struct store *st, size_t i)
{
	if (st == NULL || st->putflags == NULL || i >= st->nwhy)
		return 0;
	return st->putflags[i];
}

/* A duplicate that carries a DKIM verdict: see SQL_PUT_TRUST. */
static int
put_trust(struct store *st, const struct tlsrpt_report *rep)
{
	const char	*pv[3];
	int		 lens[3], fmts[3];
	PGresult	*res;

	if (rep->dkim == NULL)
		return 0;
	memset(lens, 0, sizeof(lens));
	memset(fmts, 0, sizeof(fmts));
	pv[0] = (const char *)rep->key;
	lens[0] = sizeof(rep->key);
	fmts[0] = 1;
	pv[1] = rep->dkim;
	pv[2] = rep->trusted ? "true" : "false";
	res = PQexecParams(st->conn, SQL_PUT_TRUST, 3, NULL, pv, lens, fmts,
	    0);
	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		store_seterr(st, "cannot record the DKIM verdict", res);
		PQclear(res);
		return -1;
	}
	PQclear(res);
	return 0;
}

static int
stage_create(struct store *st)
{
	if (st->staged)
		return 0;
	/* Outside any transaction: a rollback must not take it away. */
	if (store_cmd(st, "cannot create the staging table", SQL_STAGE, 0,
	    NULL) == -1)
		return -1;
	st->staged = 1;
	return 0;
}

/*
 * What the database would refuse row by row, refused here with a reason:
 * counts beyond bigint, dates beyond timestamptz as we write them.
 */
static int
check_report(const struct tlsrpt_report *rep,
    const struct store_arrival *arr, const char **why)
{
	const struct tlsrpt_policy	*pol;
	size_t				 i, j;

	if (rep == NULL) {
		*why = "no report";
		return -1;
	}
	if (rep->start < STORE_TIME_MIN || rep->start > STORE_TIME_MAX ||
	    rep->end < STORE_TIME_MIN || rep->end > STORE_TIME_MAX) {
		*why = "date-range out of range (years 1 to 9999)";
		return -1;
	}
	if (arr->received_at < STORE_TIME_MIN ||
	    arr->received_at > STORE_TIME_MAX) {
		*why = "arrival time out of range";
		return -1;
	}
	if (rep->npolicies > INT_MAX) {
		*why = "too many policies";
		return -1;
	}
	for (i = 0; i < rep->npolicies; i++) {
		pol = &rep->policies[i];
		if (pol->successful > INT64_MAX || pol->failed > INT64_MAX) {
			*why = "session count out of range";
			return -1;
		}
		if (pol->ndetails > INT_MAX) {
			*why = "too many failure details";
			return -1;
		}
		for (j = 0; j < pol->ndetails; j++)
			if (pol->details[j].failed_sessions > INT64_MAX) {
				*why = "failed-session-count out of range";
				return -1;
			}
	}
	if (report_rows(rep) > PUT_BATCH_ROWS) {
		*why = "too many policies and failure details";
		return -1;
	}
	if (rep->json == NULL && rep->json_len != 0) {
		*why = "no report body";
		return -1;
	}
	return 0;
}

/* The rollup rows a report can make: one per policy and per detail. */
static size_t
report_rows(const struct tlsrpt_report *rep)
{
	size_t	i, n = 0;

	for (i = 0; i < rep->npolicies && n <= PUT_BATCH_ROWS; i++)
		n += 1 + rep->policies[i].ndetails;
	return n;
}

/* The first copy of a key in the batch is stored (the first trusted one
 * when there is one); later ones repeat it. */
static void
mark_dups(struct put *p, struct tlsrpt_report *const *reps, size_t m)
{
	size_t	j, first = 0;

	for (j = 0; j < m; j++) {
		p->items[j].key = reps[p->items[j].i]->key;
		p->items[j].trusted = is_trusted(reps[p->items[j].i]);
		p->sorted[j] = &p->items[j];
	}
	qsort(p->sorted, m, sizeof(p->sorted[0]), cmp_item);
	for (j = 1; j < m; j++) {
		if (memcmp(p->sorted[j]->key, p->sorted[first]->key, 32) == 0)
			p->sorted[j]->dupof = (int)(p->sorted[first] - p->items);
		else
			first = j;
	}
}

/* By key, then by position in the batch: the first copy sorts first. */
static int
cmp_item(const void *a, const void *b)
{
	const struct item	*x = *(const struct item *const *)a;
	const struct item	*y = *(const struct item *const *)b;
	int			 c;

	if ((c = memcmp(x->key, y->key, 32)) != 0)
		return c;
	if (x->trusted != y->trusted)
		return y->trusted - x->trusted;
	return x < y ? -1 : x > y;
}

/*
 * The keys of the first copies, or of the stored items once known, as a
 * bytea[] literal {"\\x...",...}; NULL when out of memory.
 */
static char *
key_array(struct put *p, size_t m, struct tlsrpt_report *const *reps)
{
	char	*lit, *q;
	size_t	 j;

	if ((lit = malloc(m * 72 + 3)) == NULL)
		return NULL;
	q = lit;
	*q++ = '{';
	for (j = 0; j < m; j++) {
		if (p->items[j].dupof != -1 || p->items[j].haveref)
			continue;
		if (q != lit + 1)
			*q++ = ',';
		memcpy(q, "\"\\\\x", 4);
		q += 4;
		util_hex(reps[p->items[j].i]->key, 32, q);
		q += 64;
		*q++ = '"';
	}
	*q++ = '}';
	*q = '\0';
	return lit;
}

/* Mark the first copies whose key is stored already, with its digest. */
static int
find_existing(struct store *st, struct put *p, size_t m,
    struct tlsrpt_report *const *reps)
{
	struct item	 probe, *pp = &probe, **hit;
	PGresult	*res = NULL;
	char		*lit;
	const char	*pv[1];
	int		 r, rc = -1;

	if ((lit = key_array(p, m, reps)) == NULL) {
		store_seterrx(st, "store: out of memory");
		goto out;
	}
	pv[0] = lit;
	/* binary results: the keys and digests come back as 32 bytes */
	res = PQexecParams(st->conn, SQL_EXISTING, 1, NULL, pv, NULL, NULL, 1);
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		store_seterr(st, "cannot look up reports", res);
		goto out;
	}
	for (r = 0; r < PQntuples(res); r++) {
		if (PQgetlength(res, r, 0) != 32 ||
		    PQgetlength(res, r, 1) != 32 ||
		    PQgetlength(res, r, 4) != 8 ||
		    PQgetlength(res, r, 5) != 8)
			continue;
		probe.key = (const unsigned char *)PQgetvalue(res, r, 0);
		/* sorted by key then position: the first copy is found
		 * or, among equal keys, any; walk back to the first */
		hit = bsearch(&pp, p->sorted, m, sizeof(p->sorted[0]),
		    cmp_key_only);
		if (hit == NULL)
			continue;
		while (hit > p->sorted &&
		    memcmp((*(hit - 1))->key, probe.key, 32) == 0)
			hit--;
		(*hit)->haveref = 1;
		memcpy((*hit)->refsha, PQgetvalue(res, r, 1), 32);
		(*hit)->reftrusted = PQgetisnull(res, r, 2) ? -1 :
		    PQgetlength(res, r, 2) == 1 && *PQgetvalue(res, r, 2) != 0;
		(*hit)->havefig = !PQgetisnull(res, r, 3) &&
		    PQgetlength(res, r, 3) == 32;
		if ((*hit)->havefig)
			memcpy((*hit)->reffig, PQgetvalue(res, r, 3), 32);
		(*hit)->refrecv = be64((const unsigned char *)
		    PQgetvalue(res, r, 4));
		(*hit)->refno = be64((const unsigned char *)
		    PQgetvalue(res, r, 5));
	}
	rc = 0;
 out:
	PQclear(res);
	free(lit);
	return rc;
}

static int64_t
be64(const unsigned char *b)
{
	uint64_t	v = 0;
	int		k;

	for (k = 0; k < 8; k++)
		v = v << 8 | b[k];
	return (int64_t)v;
}

/* A copy with a passing aligned DKIM signature (set by the milter or
 * the importer; meaningless without a verdict). */
static int
is_trusted(const struct tlsrpt_report *rep)
{
	return rep->dkim != NULL && rep->trusted;
}

/*
 * What becomes of item j (issues 8 and 13).  A first copy of a new
 * identity is stored.  A copy of a stored identity is the same report
 * when its figures digest equals the stored one (rows stored before 006
 * have none: then their content digest); otherwise a trusted copy
 * replaces an untrusted stored one, and any other is a conflicting copy
 * (the first stays).  A repeat inside the batch is held against the
 * batch's first copy, which mark_dups() chose trusted first.
 */
static void
decide(struct put *p, size_t j, struct tlsrpt_report *const *reps)
{
	struct item			*it = &p->items[j], *ref;
	const struct tlsrpt_report	*rep = reps[it->i];

	it->stored = 0;
	if (it->dupof == -1 && !it->haveref) {
		it->stored = 1;
		return;
	}
	if (it->dupof == -1) {
		it->same = it->havefig ? memcmp(rep->figures, it->reffig,
		    32) == 0 : memcmp(rep->sha256, it->refsha, 32) == 0;
		if (!it->same && is_trusted(rep) && it->reftrusted != 1) {
			it->replace = 1;
			it->stored = 1;
			it->same = 1;
			it->flags |= STORE_PUT_REPLACED;
			it->keep.source = NULL;
			it->keep.origin = NULL;
			it->keep.received_at = it->refrecv;
			return;
		}
		/* without a figures digest a mere re-encoding cannot be
		 * told from a conflict: not counted as one */
		if (!it->same && !it->havefig) {
			it->same = 1;
			return;
		}
	} else {
		ref = &p->items[it->dupof];	/* decided before */
		if (ref->stored)
			it->same = memcmp(rep->figures, reps[ref->i]->figures,
			    32) == 0;
		else if (ref->havefig)
			it->same = memcmp(rep->figures, ref->reffig, 32) == 0;
		else
			it->same = 1;
	}
	if (!it->same)
		it->flags |= STORE_PUT_CONFLICT;
}

/* 1 when item j is a duplicate whose content differs from the stored. */
static int
is_variant(const struct put *p, size_t j, struct tlsrpt_report *const *reps)
{
	const struct item	*it = &p->items[j], *ref = it;
	const unsigned char	*sha;

	if (it->replace)
		return 1;	/* its body is new: kept as a variant */
	if (it->stored)
		return 0;
	if (it->dupof != -1)
		ref = &p->items[it->dupof];
	sha = ref->haveref && !ref->replace ? ref->refsha :
	    reps[ref->i]->sha256;
	return memcmp(reps[it->i]->sha256, sha, 32) != 0;
}

/* Keep the body of each new content of a known report. */
static int
put_variants(struct store *st, struct put *p, size_t m,
    struct tlsrpt_report *const *reps)
{
	const struct tlsrpt_report	*rep;
	const char			*pv[3];
	int				 lens[3], fmts[3] = { 0, 1, 1 };
	const unsigned char		*body;
	PGresult			*res;
	size_t				 j, len;
	char				 no[24];

	for (j = 0; j < m; j++) {
		if (!is_variant(p, j, reps))
			continue;
		rep = reps[p->items[j].i];
		body = raw_body(st, rep, &len);
		if (len > INT_MAX) {
			store_seterr_report(st, "cannot store a raw report: "
			    "too big");
			return -1;
		}
		snprintf(no, sizeof(no), "%lld", (long long)item_no(p, j));
		pv[0] = no;
		lens[0] = 0;
		pv[1] = (const char *)rep->sha256;
		lens[1] = 32;
		pv[2] = body != NULL ? (const char *)body : "";
		lens[2] = (int)len;
		res = PQexecParams(st->conn, SQL_PUT_VARIANT, 3, NULL, pv,
		    lens, fmts, 0);
		if (PQresultStatus(res) != PGRES_COMMAND_OK) {
			store_seterr(st, "cannot store a raw report", res);
			PQclear(res);
			return -1;
		}
		PQclear(res);
	}
	return 0;
}

/*
 * What tlsrpt.report_raw.body keeps of rep: its JSON packed (a zlib
 * stream with a preset dictionary, ingest_pack(), from schema 009; the
 * gzip of it from 008), *lenp bytes owned by st until the next call;
 * the JSON itself when there is no memory to pack it (a reader tells
 * them apart by the first bytes: JSON never starts with 1f 8b or 78).
 */
static const unsigned char *
raw_body(struct store *st, const struct tlsrpt_report *rep, size_t *lenp)
{
	const unsigned char	*gz;

	if (st->packer == NULL)
		st->packer = ingest_packer_new();
	if (st->packer != NULL && rep->json != NULL &&
	    (gz = ingest_pack(st->packer, rep->json, rep->json_len,
	    lenp)) != NULL)
		return gz;
	*lenp = rep->json_len;
	return rep->json;
}

/* Aggregate the stored reports into rollup rows and add them. */
static int
put_rollup(struct store *st, struct put *p, size_t m,
    struct tlsrpt_report *const *reps)
{
	const struct rollup_row	*rows;
	unsigned char		*nold;
	size_t			 j, n = 0, nrows, old = 0;

	for (j = 0; j < m; j++)
		if (p->items[j].stored)
			p->srep[n++] = reps[p->items[j].i];
	switch (rollup_build(&p->ru, p->srep, n)) {
	case ROLLUP_OK:
		break;
	case ROLLUP_E_RANGE:
		store_seterr_report(st, "cannot update the rollup: session "
		    "counts out of range");
		return -1;
	case ROLLUP_E_NOMEM:
	default:
		store_seterrx(st, "store: out of memory");
		return -1;
	}
	rows = p->ru.rows;
	nrows = p->ru.nrows;
	if (nrows > p->oldcap) {
		if ((nold = realloc(p->old, nrows)) == NULL) {
			store_seterrx(st, "store: out of memory");
			return -1;
		}
		p->old = nold;
		p->oldcap = nrows;
	}
	if (find_groups(st, p, nrows) == -1)
		return -1;
	if (copy_begin(&p->copy, st, SQL_COPY_ROLLUP_NEW,
	    "cannot update the rollup") == -1)
		return -1;
	for (j = 0; j < nrows; j++) {
		if (p->old[j])
			old++;
		else
			store_row_rollup(&p->copy, &rows[j]);
	}
	if (copy_end(&p->copy, "cannot update the rollup") == -1)
		return -1;
	if (old == 0)
		return 0;
	if (copy_begin(&p->copy, st, SQL_COPY_ROLLUP_OLD,
	    "cannot update the rollup") == -1)
		return -1;
	for (j = 0; j < nrows; j++)
		if (p->old[j])
			store_row_rollup(&p->copy, &rows[j]);
	if (copy_end(&p->copy, "cannot update the rollup") == -1)
		return -1;
	return store_cmd(st, "cannot update the rollup", SQL_ROLLUP, 0, NULL);
}

/*
 * Mark the rows whose (domain, period, reporter) group the rollup holds
 * already.  The rows are sorted, so each group is sent once and the
 * answer, in the same order, is merged back in one pass.
 */
static int
find_groups(struct store *st, struct put *p, size_t nrows)
{
	struct sarray	 doms, starts, reporters;
	const struct rollup_row *r, *prev = NULL;
	PGresult	*res = NULL;
	const char	*pv[3], *d, *rp;
	char		 t[UTIL_TIME_BUFSZ];
	int64_t		 s;
	size_t		 j;
	int		 i, c, rc = -1;

	store_sarray_init(&doms);
	store_sarray_init(&starts);
	store_sarray_init(&reporters);
	for (j = 0; j < nrows; j++) {
		r = &p->ru.rows[j];
		p->old[j] = 0;
		if (prev != NULL && cmp_group(prev, r->domain, r->start,
		    r->reporter) == 0)
			continue;
		prev = r;
		util_format_datetime(r->start, t, sizeof(t));
		if (store_sarray_add(&doms, r->domain) == -1 ||
		    store_sarray_add(&starts, t) == -1 ||
		    store_sarray_add(&reporters, r->reporter) == -1) {
			store_seterrx(st, "store: out of memory");
			goto out;
		}
	}
	pv[0] = store_sarray_end(&doms);
	pv[1] = store_sarray_end(&starts);
	pv[2] = store_sarray_end(&reporters);
	if (pv[0] == NULL || pv[1] == NULL || pv[2] == NULL) {
		store_seterrx(st, "store: out of memory");
		goto out;
	}
	if ((res = store_exec(st, "cannot lock rollup groups",
	    SQL_LOCK_GROUPS, 3, pv, PGRES_TUPLES_OK)) == NULL)
		goto out;
	PQclear(res);
	if ((res = store_exec(st, "cannot read the rollup", SQL_GROUPS, 3, pv,
	    PGRES_TUPLES_OK)) == NULL)
		goto out;
	for (i = 0, j = 0; i < PQntuples(res) && j < nrows; ) {
		d = PQgetvalue(res, i, 0);
		rp = PQgetvalue(res, i, 2);
		if (util_strtoi64(PQgetvalue(res, i, 1), INT64_MIN, INT64_MAX,
		    &s) == -1) {
			i++;
			continue;
		}
		c = cmp_group(&p->ru.rows[j], d, s, rp);
		if (c < 0)
			j++;
		else if (c > 0)
			i++;
		else
			p->old[j++] = 1;
	}
	rc = 0;
 out:
	PQclear(res);
	store_sarray_free(&doms);
	store_sarray_free(&starts);
	store_sarray_free(&reporters);
	return rc;
}

/* A row against a (domain, period, reporter) group, in rollup_row_cmp()
 * order. */
static int
cmp_group(const struct rollup_row *x, const char *domain, int64_t start,
    const char *reporter)
{
	int	c;

	if ((c = strcmp(x->domain, domain)) != 0)
		return c;
	if (x->start != start)
		return x->start < start ? -1 : 1;
	return strcmp(x->reporter, reporter);
}

/* bsearch over p->sorted by key alone. */
static int
cmp_key_only(const void *a, const void *b)
{
	const struct item	*x = *(const struct item *const *)a;
	const struct item	*y = *(const struct item *const *)b;

	return memcmp(x->key, y->key, 32);
}

/* --- COPY: the encoder is store_copy.c ------------------------------ */

/* The encoder's sink: the connection of the store at arg. */
static int
copy_sink(void *arg, const char *buf, size_t len)
{
	struct store	*st = arg;

	/* len is at most COPY_BUF_BYTES */
	return PQputCopyData(st->conn, buf, (int)len) == 1 ? 0 : -1;
}

static int
copy_begin(struct copy *c, struct store *st, const char *sql,
    const char *what)
{
	PGresult	*res;

	copy_init(c, copy_sink, st);
	res = PQexecParams(st->conn, sql, 0, NULL, NULL, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_COPY_IN) {
		store_seterr(st, what, res);
		PQclear(res);
		return -1;
	}
	PQclear(res);
	return 0;
}

/* Finish the COPY; returns 0 when the server took every row. */
static int
copy_end(struct copy *c, const char *what)
{
	struct store	*st = c->arg;
	PGresult	*res;
	int		 rc = 0;

	copy_flush(c);
	if (PQputCopyEnd(st->conn, c->failed ? "aborted" : NULL) != 1)
		c->failed = 1;
	while ((res = PQgetResult(st->conn)) != NULL) {
		if (PQresultStatus(res) != PGRES_COMMAND_OK && rc == 0) {
			store_seterr(st, what, res);
			rc = -1;
		}
		PQclear(res);
	}
	if (rc == 0 && c->failed) {
		store_seterr(st, what, NULL);
		rc = -1;
	}
	return rc;
}

