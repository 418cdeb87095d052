/*
 * store_put.c -- store parsed reports in batches, and rejected payloads.
 *
 * Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
 *
 * A batch of reports is one transaction of a few set-based statements:
 *
 *  1. one SELECT of the batch's report keys already in tlsrpt.report,
 *     with the digest of their stored content;
 *  2. COPY of the new reports, their policies, failure details, raw
 *     bodies, and of every arrival, straight into their tables;
 *  3. the batch's rollup rows, aggregated here: one SELECT finds which
 *     (domain, period, reporter) groups the rollup has already; rows of
 *     new groups are COPYed straight into tlsrpt.rollup, the others into
 *     a temporary table and added with one INSERT ... ON CONFLICT DO
 *     UPDATE (rare: a reporter sends one report per domain and day);
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
 * another importer store one of our report keys or rollup groups
 * between our look and our COPY, the COPY fails on the
 * primary key and the batch is tried again (it then sees the row);
 * deadlocks on rollup rows are retried the same way.  When a batch
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
#include "store.h"
#include "store_int.h"
#include "util.h"

#define PUT_BATCH_MAX		1000	/* reports per transaction */
#define PUT_BATCH_JSON_BYTES	(64 * 1024 * 1024) /* JSON per transaction */
#define PUT_BATCH_ROWS		(256 * 1024)	/* policies + details */
#define PUT_TRIES		3	/* attempts on conflict or deadlock */
#define COPY_BUF_BYTES		(128 * 1024)	/* sent when full */

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
	" pg_catalog.date_part('epoch', received_at)::bigint"		\
	" FROM tlsrpt.report WHERE report_key = ANY ($1::bytea[])"

/* schema/006_report_identity.sql */
#define SQL_UNSTORE	"SELECT tlsrpt.report_unstore($1)"
#define SQL_FILL							\
	"SELECT tlsrpt.report_fill_domains($1, $2::integer[], $3::text[],"\
	" $4::text[], $5::text[])"

#define SQL_COPY_REPORT							\
	"COPY tlsrpt.report (report_key, sha256, org_name, reporter,"	\
	" report_id, contact_info, date_start, date_end, warnings,"	\
	" was_gzip, filename, hdr_domain, hdr_submitter, subject,"	\
	" received_at, dkim, trusted, figures) FROM STDIN"

/*
 * A report seen again with a DKIM verdict: fill in what an arrival
 * without one (HTTPS, import) left NULL, and let a trusted arrival
 * (through the milter) upgrade an untrusted one.  Never downgrade.
 */
#define SQL_PUT_TRUST							\
	"UPDATE tlsrpt.report SET dkim = $2, trusted = $3::boolean"	\
	" WHERE report_key = $1 AND (trusted IS NULL OR"		\
	" (NOT trusted AND $3::boolean))"

#define SQL_COPY_POLICY							\
	"COPY tlsrpt.policy (report_key, idx, policy_domain, policy_type,"\
	" policy_type_raw, domain_source, policy_strings, mx_hosts,"	\
	" sts_version_ok, sts_mode, sts_max_age, sts_mx, sts_problems,"	\
	" successful_sessions, failed_sessions, counted) FROM STDIN"

#define SQL_COPY_DETAIL							\
	"COPY tlsrpt.failure_detail (report_key, policy_idx, idx,"	\
	" policy_domain, result_type, result_known, sending_ip,"	\
	" sending_ip_inet, receiving_ip, receiving_ip_inet, receiving_mx,"\
	" receiving_helo, additional_info, reason_code, failed_sessions)"\
	" FROM STDIN"

#define SQL_COPY_RAW							\
	"COPY tlsrpt.report_raw (report_key, sha256, body) FROM STDIN"

#define SQL_COPY_ARRIVAL						\
	"COPY tlsrpt.arrival (received_at, source, origin, outcome,"	\
	" report_key, sha256, reason, note) FROM STDIN"

#define SQL_PUT_VARIANT							\
	"INSERT INTO tlsrpt.report_raw (report_key, sha256, body)"	\
	" VALUES ($1, $2, $3) ON CONFLICT (report_key, sha256) DO NOTHING"

#define ROLLUP_COLS							\
	" (policy_domain, period_start, reporter, policy_type,"	\
	" result_type, mx_host, reports, successful_sessions,"		\
	" failed_sessions)"

#define SQL_COPY_ROLLUP_NEW						\
	"COPY tlsrpt.rollup" ROLLUP_COLS " FROM STDIN"

#define SQL_COPY_ROLLUP_OLD						\
	"COPY pg_temp.tlsrpt_stage_rollup" ROLLUP_COLS " FROM STDIN"

/*
 * The groups of $1, $2, $3 the rollup has, in the order of cmp_rrow.
 * LATERAL ... LIMIT 1 makes it one primary-key probe per group, whatever
 * the statistics of a table that an import is filling say.
 */
#define SQL_GROUPS							\
	"SELECT g.d, pg_catalog.date_part('epoch', g.s)::bigint, g.r"	\
	" FROM unnest($1::text[], $2::timestamptz[], $3::text[])"	\
	" AS g(d, s, r) CROSS JOIN LATERAL (SELECT 1 FROM tlsrpt.rollup u"\
	" WHERE u.policy_domain = g.d AND u.period_start = g.s"	\
	" AND u.reporter = g.r LIMIT 1) AS x"				\
	" ORDER BY g.d COLLATE \"C\", g.s, g.r COLLATE \"C\""

/*
 * Rows go in key order so that two importers lock rollup rows in the
 * same order; the staged rows are unique per key (merged here).
 */
#define SQL_ROLLUP							\
	"INSERT INTO tlsrpt.rollup AS u" ROLLUP_COLS			\
	" SELECT policy_domain, period_start, reporter, policy_type,"	\
	" result_type, mx_host, reports, successful_sessions,"		\
	" failed_sessions FROM pg_temp.tlsrpt_stage_rollup"		\
	" ORDER BY policy_domain, period_start, reporter, policy_type,"	\
	" result_type, mx_host"					\
	" ON CONFLICT (policy_domain, period_start, reporter, policy_type,"\
	" result_type, mx_host) DO UPDATE SET"			\
	" reports = u.reports + EXCLUDED.reports,"			\
	" successful_sessions = u.successful_sessions"		\
	"  + EXCLUDED.successful_sessions,"				\
	" failed_sessions = u.failed_sessions + EXCLUDED.failed_sessions"

#define SQL_PUT_REJECTION						\
	"WITH a AS (INSERT INTO tlsrpt.arrival (received_at, source,"	\
	" origin, outcome, sha256, reason) VALUES ($1::timestamptz, $2,"	\
	" $3, 'rejected', $5, $4))"					\
	" INSERT INTO tlsrpt.rejection (received_at, source, origin,"	\
	" reason, sha256, raw, raw_len) VALUES ($1::timestamptz, $2, $3,"\
	" $4, $5, $6, $7::bigint)"

/* COPY text format, built in a fixed buffer that is sent when full. */
struct copy {
	struct store	*st;
	int		 failed;	/* PQputCopyData failed */
	size_t		 len;
	char		 buf[COPY_BUF_BYTES];
};

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
	int		 replace;	/* trusted: replaces stored */
	int		 same;		/* same figures as stored */
	unsigned	 flags;		/* STORE_PUT_* */
	struct store_arrival keep;	/* refrecv (replace) */
};

/*
 * One row of tlsrpt.rollup, see schema/001_init.sql.  Built per counted
 * policy and failure detail, then sorted and merged: rep tells the
 * reports apart, so that reports counts each report once per row.
 */
struct rrow {
	const char	*domain;
	int64_t		 start;
	const char	*reporter;
	const char	*ptype;
	const char	*rt;		/* "" for totals */
	const char	*mx;		/* lower case; "" for totals */
	size_t		 rep;		/* item index */
	int		 old;		/* its group is in the rollup */
	int64_t		 reports;
	int64_t		 ok;
	int64_t		 failed;
};

/* The work area of one store_put_reports() call. */
struct put {
	struct copy	 copy;
	struct item	 items[PUT_BATCH_MAX];
	struct item	*sorted[PUT_BATCH_MAX];
	size_t		 idx[PUT_BATCH_MAX];
	enum store_outcome outs[PUT_BATCH_MAX];
	struct rrow	*rows;		/* grows to the largest batch */
	size_t		 rowscap;
	char		*mx;		/* lower-cased mx host names */
	size_t		 mxcap;
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
static int	put_variants(struct store *, struct put *, size_t,
		    struct tlsrpt_report *const *);
static int	put_rollup(struct store *, struct put *, size_t,
		    struct tlsrpt_report *const *);
static int	rollup_build(struct store *, struct put *, size_t,
		    struct tlsrpt_report *const *, size_t *);
static int	cmp_rrow(const void *, const void *);
static int	cmp_rrow_key(const struct rrow *, const struct rrow *);
static int	cmp_group(const struct rrow *, const char *, int64_t,
		    const char *);
static int	find_groups(struct store *, struct put *, size_t);
static const char *main_type(const struct tlsrpt_report *, const char *);
static int	cmp_key_only(const void *, const void *);
static int	add64(int64_t *, int64_t);

static void	report_row(struct copy *, const struct tlsrpt_report *,
		    const struct store_arrival *);
static void	policy_rows(struct copy *, const struct tlsrpt_report *,
		    const struct store_arrival *);
static void	detail_rows(struct copy *, const struct tlsrpt_report *,
		    const struct store_arrival *);
static const unsigned char *raw_body(struct store *,
		    const struct tlsrpt_report *, size_t *);
static void	raw_row(struct copy *, const struct tlsrpt_report *,
		    const struct store_arrival *);

/* The tables a new report fills, in order, each by COPY. */
static const struct report_table {
	const char	*sql;
	void		(*rows)(struct copy *, const struct tlsrpt_report *,
			    const struct store_arrival *);
	const char	*what;		/* for the error message */
} report_tables[] = {
	{ SQL_COPY_REPORT, report_row, "cannot store reports" },
	{ SQL_COPY_POLICY, policy_rows, "cannot store policies" },
	{ SQL_COPY_DETAIL, detail_rows, "cannot store failure details" },
	{ SQL_COPY_RAW, raw_row, "cannot store raw reports" },
};
static void	arrival_row(struct copy *, const struct tlsrpt_report *,
		    const struct store_arrival *, int, const char *);
static void	rollup_row(struct copy *, const struct rrow *);

static int	copy_begin(struct copy *, struct store *, const char *,
		    const char *);
static int	copy_end(struct copy *, const char *);
static void	copy_flush(struct copy *);
static void	put_mem(struct copy *, const void *, size_t);
static void	put_ch(struct copy *, char);
static void	put_tab(struct copy *);
static void	put_eol(struct copy *);
static void	put_null(struct copy *);
static void	put_text(struct copy *, const char *);
static void	put_text0(struct copy *, const char *);
static void	put_int(struct copy *, int64_t);
static void	put_bool(struct copy *, int);
static void	put_time(struct copy *, int64_t);
static void	put_key(struct copy *, const unsigned char *);
static void	put_bytea(struct copy *, const unsigned char *, size_t);
static void	put_array(struct copy *, const char *const *, size_t);

static int		 put_trust(struct store *, const struct tlsrpt_report *);
static int		 put_unstore(struct store *,
			    const struct tlsrpt_report *);
static int		 put_fill(struct store *, const struct tlsrpt_report *,
			    const struct store_arrival *, int *);
static void		 decide(struct put *, size_t,
			    struct tlsrpt_report *const *);
static int		 is_trusted(const struct tlsrpt_report *);
static int64_t		 be64(const unsigned char *);
static const char	*ptype_str(enum tlsrpt_ptype);
static const char	*dsrc_str(enum tlsrpt_dsrc);
static const char	*mode_str(enum sts_mode);

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
		free(p->rows);
		free(p->mx);
	}
	free(p);
	return rc;
}

int
store_put_rejection(struct store *st, const struct store_arrival *arr,
    const char *reason, const unsigned char *raw, size_t len,
    size_t keep_max)
{
	struct sha256_ctx	 ctx;
	unsigned char		 sha[SHA256_DIGEST_SIZE];
	char			 when[UTIL_TIME_BUFSZ], lenbuf[32];
	const char		*pv[7];
	int			 lens[7], fmts[7];
	PGresult		*res = NULL;
	size_t			 keep;
	int			 rc = -1;

	if (arr->received_at < STORE_TIME_MIN ||
	    arr->received_at > STORE_TIME_MAX) {
		store_seterr_report(st, "rejection not recorded: arrival "
		    "time out of range");
		goto out;
	}
	if (raw == NULL)
		len = 0;
	sha256_init(&ctx);
	sha256_update(&ctx, len, raw);
	sha256_digest(&ctx, sizeof(sha), sha);
	util_format_datetime(arr->received_at, when, sizeof(when));
	snprintf(lenbuf, sizeof(lenbuf), "%zu", len);
	keep = len < keep_max ? len : keep_max;
	if (keep > INT_MAX)
		keep = INT_MAX;

	memset(lens, 0, sizeof(lens));
	memset(fmts, 0, sizeof(fmts));
	pv[0] = when;
	pv[1] = arr->source != NULL ? arr->source : "unknown";
	pv[2] = arr->origin;
	pv[3] = reason != NULL && *reason != '\0' ? reason : "unknown";
	pv[4] = (const char *)sha;
	lens[4] = sizeof(sha);
	fmts[4] = 1;
	pv[5] = raw != NULL ? (const char *)raw : "";
	lens[5] = (int)keep;
	fmts[5] = 1;
	pv[6] = lenbuf;
	res = PQexecParams(st->conn, SQL_PUT_REJECTION, 7, NULL, pv, lens,
	    fmts, 0);
	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		store_seterr(st, "cannot record a rejected payload", res);
		goto out;
	}
	rc = 0;
 out:
	PQclear(res);
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
	const struct report_table *tb;
	struct item	*it;
	size_t		 j, t;
	int		 nstored = 0, nvar = 0, filled, rc = -1;

	for (j = 0; j < m; j++) {
		p->items[j].i = idx[j];
		p->items[j].dupof = -1;
		p->items[j].stored = 0;
		p->items[j].haveref = 0;
		p->items[j].reftrusted = -1;
		p->items[j].havefig = 0;
		p->items[j].replace = 0;
		p->items[j].same = 1;
		p->items[j].flags = 0;
	}
	mark_dups(p, reps, m);

	if (store_cmd(st, "cannot store reports", "BEGIN", 0, NULL) == -1)
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

	for (t = 0; nstored > 0 && t < sizeof(report_tables) /
	    sizeof(report_tables[0]); t++) {
		tb = &report_tables[t];
		if (copy_begin(&p->copy, st, tb->sql, tb->what) == -1)
			goto out;
		for (j = 0; j < m; j++) {
			it = &p->items[j];
			if (!it->stored)
				continue;
			if (!it->replace)
				tb->rows(&p->copy, reps[idx[j]], &arr[idx[j]]);
			else if (tb->rows != raw_row) /* put_variants() */
				tb->rows(&p->copy, reps[idx[j]], &it->keep);
		}
		if (copy_end(&p->copy, tb->what) == -1)
			goto out;
	}
	if (nvar > 0 && put_variants(st, p, m, reps) == -1)
		goto out;

	if (copy_begin(&p->copy, st, SQL_COPY_ARRIVAL,
	    "cannot record arrivals") == -1)
		goto out;
	for (j = 0; j < m; j++) {
		it = &p->items[j];
		arrival_row(&p->copy, reps[it->i], &arr[it->i], it->stored,
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
		    store_sarray_add(&srcs, dsrc_str(pol->domain_src)) == -1 ||
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
		    PQgetlength(res, r, 4) != 8)
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
	int				 lens[3], fmts[3] = { 1, 1, 1 };
	const unsigned char		*body;
	PGresult			*res;
	size_t				 j, len;

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
		pv[0] = (const char *)rep->key;
		lens[0] = 32;
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

/* Aggregate the stored reports into rollup rows and add them. */
static int
put_rollup(struct store *st, struct put *p, size_t m,
    struct tlsrpt_report *const *reps)
{
	size_t	j, nrows, nold = 0;

	if (rollup_build(st, p, m, reps, &nrows) == -1)
		return -1;
	if (find_groups(st, p, nrows) == -1)
		return -1;
	if (copy_begin(&p->copy, st, SQL_COPY_ROLLUP_NEW,
	    "cannot update the rollup") == -1)
		return -1;
	for (j = 0; j < nrows; j++) {
		if (p->rows[j].old)
			nold++;
		else
			rollup_row(&p->copy, &p->rows[j]);
	}
	if (copy_end(&p->copy, "cannot update the rollup") == -1)
		return -1;
	if (nold == 0)
		return 0;
	if (copy_begin(&p->copy, st, SQL_COPY_ROLLUP_OLD,
	    "cannot update the rollup") == -1)
		return -1;
	for (j = 0; j < nrows; j++)
		if (p->rows[j].old)
			rollup_row(&p->copy, &p->rows[j]);
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
	struct rrow	*r;
	const struct rrow *prev = NULL;
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
		r = &p->rows[j];
		r->old = 0;
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
		c = cmp_group(&p->rows[j], d, s, rp);
		if (c < 0)
			j++;
		else if (c > 0)
			i++;
		else
			p->rows[j++].old = 1;
	}
	rc = 0;
 out:
	PQclear(res);
	store_sarray_free(&doms);
	store_sarray_free(&starts);
	store_sarray_free(&reporters);
	return rc;
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
			first = ptype_str(pol->type);
		if (!pol->counted)
			continue;
		if (pol->type != TLSRPT_PT_NOPOLICY)
			return ptype_str(pol->type);
		npf = 1;
	}
	if (npf)
		return ptype_str(TLSRPT_PT_NOPOLICY);
	return first != NULL ? first : "other";
}

/* p->rows[0..*np) get the merged rollup rows of the stored items. */
static int
rollup_build(struct store *st, struct put *p, size_t m,
    struct tlsrpt_report *const *reps, size_t *np)
{
	const struct tlsrpt_report	*rep;
	const struct tlsrpt_policy	*pol;
	const struct tlsrpt_detail	*d;
	struct rrow			*r, *w, *nr;
	const char			*pt, *c;
	char				*nmx, *q;
	size_t				 need = 0, mxlen = 0, n = 0;
	size_t				 j, i, k;

	for (j = 0; j < m; j++) {
		if (!p->items[j].stored)
			continue;
		rep = reps[p->items[j].i];
		need += report_rows(rep);
		for (i = 0; i < rep->npolicies; i++)
			for (k = 0; k < rep->policies[i].ndetails; k++) {
				d = &rep->policies[i].details[k];
				if (d->receiving_mx != NULL)
					mxlen += strlen(d->receiving_mx) + 1;
			}
	}
	if (need > p->rowscap) {
		if ((nr = reallocarray(p->rows, need, sizeof(*nr))) == NULL)
			goto nomem;
		p->rows = nr;
		p->rowscap = need;
	}
	if (mxlen > p->mxcap) {
		if ((nmx = realloc(p->mx, mxlen)) == NULL)
			goto nomem;
		p->mx = nmx;
		p->mxcap = mxlen;
	}

	q = p->mx;
	for (j = 0; j < m; j++) {
		if (!p->items[j].stored)
			continue;
		rep = reps[p->items[j].i];
		for (i = 0; i < rep->npolicies; i++) {
			pol = &rep->policies[i];
			/* one totals row per (report, domain), merged below */
			r = &p->rows[n++];
			r->domain = pol->domain != NULL ? pol->domain : "";
			r->start = rep->start;
			r->reporter = rep->reporter != NULL ? rep->reporter : "";
			r->ptype = main_type(rep, r->domain);
			r->rt = "";
			r->mx = "";
			r->rep = j;
			r->reports = 1;
			r->ok = pol->counted ? (int64_t)pol->successful : 0;
			r->failed = pol->counted ? (int64_t)pol->failed : 0;
			if (!pol->counted)
				continue;
			pt = ptype_str(pol->type);
			for (k = 0; k < pol->ndetails; k++) {
				d = &pol->details[k];
				w = &p->rows[n++];
				*w = *r;
				w->ptype = pt;
				w->rt = d->result_type != NULL &&
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
				w->ok = 0;
				w->failed = (int64_t)d->failed_sessions;
			}
		}
	}

	/* merge equal keys; a report adds 1 to reports once per row (no
	 * rows, and p->rows may be NULL, when every report has
	 * `policies: []`) */
	if (n > 1)
		qsort(p->rows, n, sizeof(*p->rows), cmp_rrow);
	for (i = 0, k = 0; i < n; i++) {
		r = &p->rows[i];
		if (k > 0 && cmp_rrow_key(&p->rows[k - 1], r) == 0) {
			w = &p->rows[k - 1];
			if (w->rep != r->rep) {
				w->reports++;
				w->rep = r->rep;
			}
			if (add64(&w->ok, r->ok) == -1 ||
			    add64(&w->failed, r->failed) == -1) {
				store_seterr_report(st, "cannot update the "
				    "rollup: session counts out of range");
				return -1;
			}
			continue;
		}
		p->rows[k++] = *r;
	}
	*np = k;
	return 0;
 nomem:
	store_seterrx(st, "store: out of memory");
	return -1;
}

/* Rollup rows by key, then by report. */
static int
cmp_rrow(const void *a, const void *b)
{
	const struct rrow	*x = a, *y = b;
	int			 c;

	if ((c = cmp_rrow_key(x, y)) != 0)
		return c;
	return x->rep < y->rep ? -1 : x->rep > y->rep;
}

/* The order of the rollup's primary key under COLLATE "C". */
static int
cmp_rrow_key(const struct rrow *x, const struct rrow *y)
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
	if ((c = strcmp(x->rt, y->rt)) != 0)
		return c;
	return strcmp(x->mx, y->mx);
}

/* A row against a (domain, period, reporter) group, in cmp_rrow order. */
static int
cmp_group(const struct rrow *x, const char *domain, int64_t start,
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

/* *a += b, or -1 when the sum leaves int64 (both are >= 0 here). */
static int
add64(int64_t *a, int64_t b)
{
	if (b > 0 && *a > INT64_MAX - b)
		return -1;
	*a += b;
	return 0;
}

/* --- rows ------------------------------------------------------------ */

static void
report_row(struct copy *c, const struct tlsrpt_report *rep,
    const struct store_arrival *arr)
{
	put_key(c, rep->key);
	put_tab(c);
	put_key(c, rep->sha256);
	put_tab(c);
	put_text0(c, rep->org_name);
	put_tab(c);
	put_text0(c, rep->reporter);
	put_tab(c);
	put_text0(c, rep->report_id);
	put_tab(c);
	put_text(c, rep->contact_info);
	put_tab(c);
	put_time(c, rep->start);
	put_tab(c);
	put_time(c, rep->end);
	put_tab(c);
	put_array(c, rep->warnings, rep->nwarnings);
	put_tab(c);
	put_bool(c, rep->was_gzip);
	put_tab(c);
	put_text(c, rep->filename);
	put_tab(c);
	put_text(c, rep->hdr_domain);
	put_tab(c);
	put_text(c, rep->hdr_submitter);
	put_tab(c);
	put_text(c, rep->subject);
	put_tab(c);
	put_time(c, arr->received_at);
	put_tab(c);
	put_text(c, rep->dkim);
	put_tab(c);
	if (rep->dkim != NULL)
		put_bool(c, rep->trusted);
	else
		put_null(c);
	put_tab(c);
	put_key(c, rep->figures);
	put_eol(c);
}

static void
policy_rows(struct copy *c, const struct tlsrpt_report *rep,
    const struct store_arrival *arr)
{
	const struct tlsrpt_policy	*pol;
	const struct sts_policy		*sts;
	size_t				 i;

	for (i = 0; i < rep->npolicies; i++) {
		pol = &rep->policies[i];
		sts = &pol->sts;
		put_key(c, rep->key);
		put_tab(c);
		put_int(c, (int64_t)i);
		put_tab(c);
		put_text0(c, pol->domain);
		put_tab(c);
		put_text(c, ptype_str(pol->type));
		put_tab(c);
		put_text(c, pol->type_raw);
		put_tab(c);
		put_text(c, dsrc_str(pol->domain_src));
		put_tab(c);
		put_array(c, pol->strings, pol->nstrings);
		put_tab(c);
		put_array(c, pol->mx_hosts, pol->nmx_hosts);
		put_tab(c);
		if (sts->present) {
			put_bool(c, sts->version_ok);
			put_tab(c);
			put_text(c, mode_str(sts->mode));
			put_tab(c);
			if (sts->max_age >= 0)
				put_int(c, sts->max_age);
			else
				put_null(c);
			put_tab(c);
			put_array(c, (const char *const *)sts->mx, sts->nmx);
			put_tab(c);
			put_int(c, sts->problems);
		} else {
			put_null(c);
			put_tab(c);
			put_null(c);
			put_tab(c);
			put_null(c);
			put_tab(c);
			put_null(c);
			put_tab(c);
			put_null(c);
		}
		put_tab(c);
		put_int(c, (int64_t)pol->successful);
		put_tab(c);
		put_int(c, (int64_t)pol->failed);
		put_tab(c);
		put_bool(c, pol->counted);
		put_eol(c);
	}
}

static void
detail_rows(struct copy *c, const struct tlsrpt_report *rep,
    const struct store_arrival *arr)
{
	const struct tlsrpt_policy	*pol;
	const struct tlsrpt_detail	*d;
	size_t				 i, j;

	for (i = 0; i < rep->npolicies; i++) {
		pol = &rep->policies[i];
		for (j = 0; j < pol->ndetails; j++) {
			d = &pol->details[j];
			put_key(c, rep->key);
			put_tab(c);
			put_int(c, (int64_t)i);
			put_tab(c);
			put_int(c, (int64_t)j);
			put_tab(c);
			put_text0(c, pol->domain);
			put_tab(c);
			/* never '': that marks the rollup's totals rows */
			put_text(c, d->result_type != NULL &&
			    *d->result_type != '\0' ? d->result_type :
			    "unknown");
			put_tab(c);
			put_bool(c, d->result_known);
			put_tab(c);
			put_text(c, d->sending_ip);
			put_tab(c);
			put_text(c, d->sending_ip_norm);
			put_tab(c);
			put_text(c, d->receiving_ip);
			put_tab(c);
			put_text(c, d->receiving_ip_norm);
			put_tab(c);
			put_text(c, d->receiving_mx);
			put_tab(c);
			put_text(c, d->receiving_helo);
			put_tab(c);
			put_text(c, d->additional_info);
			put_tab(c);
			put_text(c, d->reason_code);
			put_tab(c);
			put_int(c, (int64_t)d->failed_sessions);
			put_eol(c);
		}
	}
}

/*
 * What tlsrpt.report_raw.body keeps of rep (schema 007_storage.sql): the
 * gzip of its JSON, *lenp bytes owned by st until the next call; the
 * JSON itself when there is no memory to pack it (a reader tells them
 * apart by the gzip magic: JSON never starts with 1f 8b).
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

static void
raw_row(struct copy *c, const struct tlsrpt_report *rep,
    const struct store_arrival *arr)
{
	const unsigned char	*body;
	size_t			 len;

	body = raw_body(c->st, rep, &len);
	put_key(c, rep->key);
	put_tab(c);
	put_key(c, rep->sha256);
	put_tab(c);
	put_bytea(c, body, len);
	put_eol(c);
}

static void
arrival_row(struct copy *c, const struct tlsrpt_report *rep,
    const struct store_arrival *arr, int stored, const char *note)
{
	put_time(c, arr->received_at);
	put_tab(c);
	put_text(c, arr->source != NULL ? arr->source : "unknown");
	put_tab(c);
	put_text(c, arr->origin);
	put_tab(c);
	put_text(c, stored ? "stored" : "duplicate");
	put_tab(c);
	put_key(c, rep->key);
	put_tab(c);
	put_key(c, rep->sha256);
	put_tab(c);
	put_null(c);
	put_tab(c);
	put_text(c, note);
	put_eol(c);
}

static void
rollup_row(struct copy *c, const struct rrow *r)
{
	put_text(c, r->domain);
	put_tab(c);
	put_time(c, r->start);
	put_tab(c);
	put_text(c, r->reporter);
	put_tab(c);
	put_text(c, r->ptype);
	put_tab(c);
	put_text(c, r->rt);
	put_tab(c);
	put_text(c, r->mx);
	put_tab(c);
	put_int(c, r->reports);
	put_tab(c);
	put_int(c, r->ok);
	put_tab(c);
	put_int(c, r->failed);
	put_eol(c);
}

/* --- COPY text format ------------------------------------------------- */

static int
copy_begin(struct copy *c, struct store *st, const char *sql,
    const char *what)
{
	PGresult	*res;

	c->st = st;
	c->failed = 0;
	c->len = 0;
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
	PGresult	*res;
	int		 rc = 0;

	copy_flush(c);
	if (PQputCopyEnd(c->st->conn, c->failed ? "aborted" : NULL) != 1)
		c->failed = 1;
	while ((res = PQgetResult(c->st->conn)) != NULL) {
		if (PQresultStatus(res) != PGRES_COMMAND_OK && rc == 0) {
			store_seterr(c->st, what, res);
			rc = -1;
		}
		PQclear(res);
	}
	if (rc == 0 && c->failed) {
		store_seterr(c->st, what, NULL);
		rc = -1;
	}
	return rc;
}

static void
copy_flush(struct copy *c)
{
	if (c->len > 0 && !c->failed &&
	    PQputCopyData(c->st->conn, c->buf, (int)c->len) != 1)
		c->failed = 1;
	c->len = 0;
}

static void
put_mem(struct copy *c, const void *v, size_t n)
{
	const char	*s = v;
	size_t		 k;

	while (n > 0) {
		if (c->len == sizeof(c->buf))
			copy_flush(c);
		k = sizeof(c->buf) - c->len;
		if (k > n)
			k = n;
		memcpy(c->buf + c->len, s, k);
		c->len += k;
		s += k;
		n -= k;
	}
}

static inline void
put_ch(struct copy *c, char ch)
{
	if (c->len == sizeof(c->buf))
		copy_flush(c);
	c->buf[c->len++] = ch;
}

static void
put_tab(struct copy *c)
{
	put_ch(c, '\t');
}

static void
put_eol(struct copy *c)
{
	put_ch(c, '\n');
}

static void
put_null(struct copy *c)
{
	put_mem(c, "\\N", 2);
}

/* A text field; NULL is SQL NULL. */
static void
put_text(struct copy *c, const char *s)
{
	if (s == NULL) {
		put_null(c);
		return;
	}
	for (; *s != '\0'; s++) {
		switch (*s) {
		case '\\':
			put_mem(c, "\\\\", 2);
			break;
		case '\n':
			put_mem(c, "\\n", 2);
			break;
		case '\r':
			put_mem(c, "\\r", 2);
			break;
		case '\t':
			put_mem(c, "\\t", 2);
			break;
		default:
			put_ch(c, *s);
			break;
		}
	}
}

/* A text field of a NOT NULL column: NULL is ''. */
static void
put_text0(struct copy *c, const char *s)
{
	put_text(c, s != NULL ? s : "");
}

static void
put_int(struct copy *c, int64_t v)
{
	char		 tmp[24];
	size_t		 n = sizeof(tmp);
	uint64_t	 u;

	u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
	do {
		tmp[--n] = (char)('0' + u % 10);
		u /= 10;
	} while (u != 0);
	if (v < 0)
		tmp[--n] = '-';
	put_mem(c, tmp + n, sizeof(tmp) - n);
}

static void
put_bool(struct copy *c, int v)
{
	put_ch(c, v ? 't' : 'f');
}

static void
put_time(struct copy *c, int64_t t)
{
	char	buf[UTIL_TIME_BUFSZ];

	util_format_datetime(t, buf, sizeof(buf));
	put_mem(c, buf, strlen(buf));
}

/* 32 bytes as bytea hex: \x..., the backslash doubled for COPY. */
static void
put_key(struct copy *c, const unsigned char *k)
{
	char	hex[65];

	util_hex(k, 32, hex);
	put_mem(c, "\\\\x", 3);
	put_mem(c, hex, 64);
}

/*
 * Any bytes as bytea in the escape format: JSON is mostly printable
 * ASCII, which goes as is; every other byte as \ooo, a backslash as \\,
 * and each backslash doubled again for COPY.
 */
static void
put_bytea(struct copy *c, const unsigned char *p, size_t n)
{
	char	oct[5];
	size_t	i;

	for (i = 0; i < n; i++) {
		if (p[i] == '\\')
			put_mem(c, "\\\\\\\\", 4);
		else if (p[i] >= 0x20 && p[i] < 0x7f)
			put_ch(c, (char)p[i]);
		else {
			oct[0] = '\\';
			oct[1] = '\\';
			oct[2] = (char)('0' + (p[i] >> 6));
			oct[3] = (char)('0' + ((p[i] >> 3) & 7));
			oct[4] = (char)('0' + (p[i] & 7));
			put_mem(c, oct, 5);
		}
	}
}

/*
 * A text[] literal: {"a","b"}, each element quoted with \" and \\ for the
 * array parser, then escaped again for COPY.
 */
static void
put_array(struct copy *c, const char *const *v, size_t n)
{
	const char	*s;
	size_t		 i;

	put_ch(c, '{');
	for (i = 0; i < n; i++) {
		if (i > 0)
			put_ch(c, ',');
		if (v[i] == NULL) {
			put_mem(c, "NULL", 4);
			continue;
		}
		put_ch(c, '"');
		for (s = v[i]; *s != '\0'; s++) {
			switch (*s) {
			case '"':
				put_mem(c, "\\\\\"", 3);
				break;
			case '\\':
				put_mem(c, "\\\\\\\\", 4);
				break;
			case '\n':
				put_mem(c, "\\n", 2);
				break;
			case '\r':
				put_mem(c, "\\r", 2);
				break;
			case '\t':
				put_mem(c, "\\t", 2);
				break;
			default:
				put_ch(c, *s);
				break;
			}
		}
		put_ch(c, '"');
	}
	put_ch(c, '}');
}

/* --- names --------------------------------------------------------- */

static const char *
ptype_str(enum tlsrpt_ptype t)
{
	switch (t) {
	case TLSRPT_PT_STS:
		return "sts";
	case TLSRPT_PT_TLSA:
		return "tlsa";
	case TLSRPT_PT_NOPOLICY:
		return "no-policy-found";
	default:
		return "other";
	}
}

static const char *
dsrc_str(enum tlsrpt_dsrc d)
{
	switch (d) {
	case TLSRPT_DS_REPORT:
		return "report";
	case TLSRPT_DS_HEADER:
		return "header";
	case TLSRPT_DS_FILENAME:
		return "filename";
	case TLSRPT_DS_SIBLING:
		return "sibling";
	case TLSRPT_DS_REPORTID:
		return "report-id";
	default:
		return "unknown";
	}
}

static const char *
mode_str(enum sts_mode m)
{
	switch (m) {
	case STS_MODE_ENFORCE:
		return "enforce";
	case STS_MODE_TESTING:
		return "testing";
	case STS_MODE_NONE:
		return "none";
	case STS_MODE_INVALID:
		return "invalid";
	default:
		return NULL;
	}
}
