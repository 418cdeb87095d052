/*
 * store_reject.c -- record a payload that is not a report, within the
 * day's caps.
 *
 * Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
 *
 * A rejection is a row of tlsrpt.rejection (reason, sha256, the first
 * keep_max bytes) and an arrival 'rejected'.  Each UTC day keeps at most
 * tlsrpt.rejection_cap's rows and excerpt bytes; beyond, the rejection
 * is only counted in tlsrpt.rejection_day.  The decision is taken by
 * the database, in tlsrpt.rejection_put() (schema/007_rejection_cap.sql)
 * under the lock of the day's counter row, so that several collector
 * nodes sharing one PostgreSQL respect the caps together.
 */

#include <limits.h>
#include <stdio.h>
#include <string.h>

#include <libpq-fe.h>
#include <nettle/sha2.h>

#include "store.h"
#include "store_int.h"
#include "util.h"

/* schema/007_rejection_cap.sql: true when recorded, false when counted */
#define SQL_PUT_REJECTION						\
	"SELECT tlsrpt.rejection_put($1::timestamptz, $2, $3, $4, $5, $6,"\
	" $7::bigint)"

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
	if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1) {
		store_seterr(st, "cannot record a rejected payload", res);
		goto out;
	}
	st->rejkept = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
	rc = 0;
 out:
	PQclear(res);
	return rc;
}

int
store_rejection_kept(const struct store *st)
{
	return st->rejkept;
}
