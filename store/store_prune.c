/*
 * store_prune.c -- retention: remove what is older than a cutoff, in
 * short transactions, while ingest goes on.
 *
 * Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
 *
 * A report is removed whole: its rows in tlsrpt.report, policy,
 * failure_detail, report_raw (the body and every content variant) and
 * arrival go in one statement, so one transaction, of at most `batch`
 * reports (the tables hang off report_no, schema/009_report_no.sql, with
 * no foreign keys).  Each statement picks the oldest reports through
 * report_date_start_idx (date_start <= date_end, so a report ended by
 * the cutoff also started before it), locks them and deletes them; the
 * other tables are reached by their report_no indexes.  Then the rollup
 * rows of periods starting before the cutoff (through its two partial
 * indexes on period_start, one pass each), the rejections received
 * before it, and the arrivals before it that belong to no stored report
 * (a rejection's, or one whose report an ingest recorded as a duplicate
 * while this removed it), each in batches of batch * ROWS_PER_REPORT
 * rows.
 *
 * Ingest inserts; prune deletes rows ingest no longer writes, except
 * when a late report for a pruned period arrives: ingest then adds to
 * the rollup rows prune is deleting.  Both lock those rows, so one waits
 * for the other, and a deadlock between them is retried here as it is
 * in store_put.c.  Nothing newer than the cutoff is touched.
 */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "store.h"
#include "store_int.h"
#include "util.h"

#define PRUNE_TRIES	3		/* attempts of a batch on deadlock */

#define SQL_OLD_REPORTS							\
	" SELECT report_no FROM tlsrpt.report"			\
	" WHERE date_start < $1::timestamptz"				\
	" AND date_end <= $1::timestamptz"

#define SQL_OLD_ARRIVALS						\
	" FROM tlsrpt.arrival a WHERE a.received_at < $1::timestamptz"	\
	" AND (a.report_no IS NULL OR NOT EXISTS (SELECT 1"		\
	" FROM tlsrpt.report r WHERE r.report_no = a.report_no))"

/* One batch of whole reports; counts in the order of struct cols. */
#define SQL_PRUNE_REPORTS						\
	"WITH k AS MATERIALIZED (" SQL_OLD_REPORTS			\
	" ORDER BY date_start LIMIT $2::bigint FOR UPDATE),"		\
	" p AS (DELETE FROM tlsrpt.policy WHERE report_no IN"		\
	" (SELECT report_no FROM k) RETURNING 1),"			\
	" d AS (DELETE FROM tlsrpt.failure_detail WHERE report_no IN"	\
	" (SELECT report_no FROM k) RETURNING 1),"			\
	" w AS (DELETE FROM tlsrpt.report_raw WHERE report_no IN"	\
	" (SELECT report_no FROM k) RETURNING 1),"			\
	" a AS (DELETE FROM tlsrpt.arrival WHERE report_no IN"	\
	" (SELECT report_no FROM k) RETURNING 1),"			\
	" r AS (DELETE FROM tlsrpt.report WHERE report_no IN"		\
	" (SELECT report_no FROM k) RETURNING 1)"			\
	" SELECT (SELECT pg_catalog.count(*) FROM r),"			\
	" (SELECT pg_catalog.count(*) FROM p),"			\
	" (SELECT pg_catalog.count(*) FROM d),"			\
	" (SELECT pg_catalog.count(*) FROM w),"			\
	" (SELECT pg_catalog.count(*) FROM a)"

/* Locked rows keep their ctid until we delete them. */
#define SQL_PRUNE_ROLLUP(cond)						\
	"WITH k AS MATERIALIZED (SELECT ctid AS t FROM tlsrpt.rollup"	\
	" WHERE " cond " AND period_start < $1::timestamptz"		\
	" LIMIT $2::bigint FOR UPDATE),"				\
	" x AS (DELETE FROM tlsrpt.rollup WHERE ctid = ANY"		\
	" (ARRAY(SELECT t FROM k)) RETURNING 1)"			\
	" SELECT pg_catalog.count(*) FROM x"

#define SQL_PRUNE_REJECTIONS						\
	"WITH x AS (DELETE FROM tlsrpt.rejection WHERE rejection_id = ANY"\
	" (ARRAY(SELECT rejection_id FROM tlsrpt.rejection"		\
	" WHERE received_at < $1::timestamptz ORDER BY received_at"	\
	" LIMIT $2::bigint)) RETURNING 1)"				\
	" SELECT pg_catalog.count(*) FROM x"

#define SQL_PRUNE_ARRIVALS						\
	"WITH x AS (DELETE FROM tlsrpt.arrival WHERE arrival_id = ANY"	\
	" (ARRAY(SELECT a.arrival_id" SQL_OLD_ARRIVALS			\
	" ORDER BY a.received_at LIMIT $2::bigint)) RETURNING 1)"	\
	" SELECT pg_catalog.count(*) FROM x"

#define SQL_COUNT							\
	"WITH k AS MATERIALIZED (" SQL_OLD_REPORTS ")"			\
	" SELECT (SELECT pg_catalog.count(*) FROM k),"			\
	" (SELECT pg_catalog.count(*) FROM tlsrpt.policy"		\
	" WHERE report_no IN (SELECT report_no FROM k)),"		\
	" (SELECT pg_catalog.count(*) FROM tlsrpt.failure_detail"	\
	" WHERE report_no IN (SELECT report_no FROM k)),"		\
	" (SELECT pg_catalog.count(*) FROM tlsrpt.report_raw"		\
	" WHERE report_no IN (SELECT report_no FROM k)),"		\
	" (SELECT pg_catalog.count(*) FROM tlsrpt.arrival"		\
	" WHERE report_no IN (SELECT report_no FROM k)),"		\
	" (SELECT pg_catalog.count(*) FROM tlsrpt.rollup"		\
	" WHERE period_start < $1::timestamptz),"			\
	" (SELECT pg_catalog.count(*) FROM tlsrpt.rejection"		\
	" WHERE received_at < $1::timestamptz),"			\
	" (SELECT pg_catalog.count(*)" SQL_OLD_ARRIVALS ")"

/* The members of struct store_prune_counts, in SQL_COUNT's order. */
static int64_t *
col(struct store_prune_counts *c, int i)
{
	int64_t	*cols[] = { &c->reports, &c->policies, &c->details,
	    &c->raws, &c->arrivals, &c->rollup, &c->rejections,
	    &c->other_arrivals };

	return cols[i];
}

/* The steps of a prune, in order: each repeated until a batch is empty. */
static const struct step {
	const char	*sql;
	const char	*what;
	int		 first;		/* first column of counts it fills */
	int		 ncols;
	int		 per_report;	/* batch counts reports */
} steps[] = {
	{ SQL_PRUNE_REPORTS, "cannot remove old reports", 0, 5, 1 },
	{ SQL_PRUNE_ROLLUP("result_type = ''"),
	    "cannot remove old rollup rows", 5, 1, 0 },
	{ SQL_PRUNE_ROLLUP("result_type <> ''"),
	    "cannot remove old rollup rows", 5, 1, 0 },
	{ SQL_PRUNE_REJECTIONS, "cannot remove old rejections", 6, 1, 0 },
	{ SQL_PRUNE_ARRIVALS, "cannot remove old arrivals", 7, 1, 0 },
};

static int	get_counts(struct store *, const PGresult *, const char *,
		    struct store_prune_counts *, int, int, int64_t *);

int
store_prune_count(struct store *st, int64_t cutoff,
    struct store_prune_counts *c)
{
	static const char	 what[] = "cannot count old rows";
	PGresult		*res = NULL;
	const char		*pv[1];
	char			 cut[UTIL_TIME_BUFSZ];
	int			 rc = -1;

	memset(c, 0, sizeof(*c));
	util_format_datetime(cutoff, cut, sizeof(cut));
	pv[0] = cut;
	/* One snapshot, so that the figures add up. */
	if (store_cmd(st, what, "BEGIN ISOLATION LEVEL REPEATABLE READ"
	    " READ ONLY", 0, NULL) == -1)
		goto out;
	if ((res = store_exec(st, what, SQL_COUNT, 1, pv,
	    PGRES_TUPLES_OK)) == NULL)
		goto out;
	if (get_counts(st, res, what, c, 0, 8, NULL) == -1)
		goto out;
	rc = 0;
 out:
	PQclear(res);
	store_rollback(st);
	return rc;
}

int
store_prune(struct store *st, int64_t cutoff, size_t batch,
    struct store_prune_counts *c)
{
	const struct step	*s;
	PGresult		*res;
	const char		*pv[2];
	char			 cut[UTIL_TIME_BUFSZ], lim[32];
	int64_t			 limit, n;
	int			 tries;

	memset(c, 0, sizeof(*c));
	if (batch == 0)
		batch = STORE_PRUNE_BATCH;
	if (batch > INT32_MAX / STORE_PRUNE_ROWS_PER_REPORT) {
		store_seterrx(st, "prune: batch %zu is too large", batch);
		return -1;
	}
	util_format_datetime(cutoff, cut, sizeof(cut));
	pv[0] = cut;
	pv[1] = lim;
	for (s = steps; s < steps + sizeof(steps) / sizeof(steps[0]); s++) {
		limit = (int64_t)batch;
		if (!s->per_report)
			limit *= STORE_PRUNE_ROWS_PER_REPORT;
		snprintf(lim, sizeof(lim), "%lld", (long long)limit);
		tries = 0;
		for (;;) {
			res = store_exec(st, s->what, s->sql, 2, pv,
			    PGRES_TUPLES_OK);
			if (res == NULL) {
				if (store_err_retry(st) && ++tries < PRUNE_TRIES)
					continue;
				return -1;
			}
			tries = 0;
			if (get_counts(st, res, s->what, c, s->first, s->ncols,
			    &n) == -1) {
				PQclear(res);
				return -1;
			}
			PQclear(res);
			/*
			 * Not n < limit: a row ingest updated during the
			 * statement is left by it (its new version is not
			 * in the statement's snapshot), and the next
			 * statement takes it.
			 */
			if (n == 0)
				break;
		}
	}
	return 0;
}

/*
 * Add the ncols counts of res's one row to the members of c from first
 * on; *n0 (may be NULL) gets the first of them.
 */
static int
get_counts(struct store *st, const PGresult *res, const char *what,
    struct store_prune_counts *c, int first, int ncols, int64_t *n0)
{
	int64_t	v, *m;
	int	i;

	if (PQntuples(res) != 1 || PQnfields(res) != ncols) {
		store_seterrx(st, "%s: unexpected answer", what);
		return -1;
	}
	for (i = 0; i < ncols; i++) {
		if (util_strtoi64(PQgetvalue(res, 0, i), 0, INT64_MAX,
		    &v) == -1) {
			store_seterrx(st, "%s: bad count \"%s\"", what,
			    PQgetvalue(res, 0, i));
			return -1;
		}
		m = col(c, first + i);
		*m += v;
		if (i == 0 && n0 != NULL)
			*n0 = v;
	}
	return 0;
}
