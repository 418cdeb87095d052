/*
 * store_rows.h -- the rows a stored report makes in each table, as COPY
 * text (store_rows.c); internal to store/.  The batch transaction that
 * sends them is store_put.c.
 *
 * Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
 */

#ifndef TLSRPT_STORE_ROWS_H
#define TLSRPT_STORE_ROWS_H

#include <stdint.h>

#include "ingest.h"
#include "rollup.h"
#include "store.h"
#include "store_copy.h"

/* A table a new report fills: its COPY statement and its rows. */
struct store_table {
	const char	*sql;		/* COPY ... FROM STDIN */
	void		(*rows)(struct copy *, const struct tlsrpt_report *,
			    const struct store_arrival *, int64_t report_no);
					/* NULL: body */
	const char	*what;		/* for the error message */
	int		 body;		/* the raw body, store_row_raw(): a
					 * replacing copy's goes in as a
					 * variant instead */
};

/* report, policy, failure_detail, report_raw: in this order. */
#define STORE_REPORT_TABLES	4
extern const struct store_table store_report_tables[STORE_REPORT_TABLES];

/* One arrival of rep: "stored" or "duplicate", note may be NULL. */
#define STORE_SQL_COPY_ARRIVAL						\
	"COPY tlsrpt.arrival (received_at, source, origin, outcome,"	\
	" report_no, sha256, reason, note) FROM STDIN"
void	store_row_arrival(struct copy *, const struct tlsrpt_report *rep,
	    int64_t report_no, const struct store_arrival *, int stored,
	    const char *note);

/* The raw body row of rep: body is what tlsrpt.report_raw keeps (the
 * gzip of the JSON, schema 008_storage.sql), len bytes, borrowed. */
void	store_row_raw(struct copy *, const struct tlsrpt_report *rep,
	    int64_t report_no, const unsigned char *body, size_t len);

/*
 * Schema 009's two rules of what is left out, for every writer of these
 * rows (and tests/bench/bench.c's bare COPY): the text of an IP address
 * as sent, NULL when PostgreSQL's text of the inet beside it (host(),
 * which readers take instead) is the same (norm: ingest's canonical
 * text); and 1 when a policy's sts_mx is its mx_hosts, stored NULL.
 */
const char	*store_ip_as_sent(const char *ip, const char *norm);
int		 store_sts_mx_is_mx_hosts(const struct tlsrpt_policy *);

/* One rollup row, in the column order of store_put.c's ROLLUP_COLS. */
void	store_row_rollup(struct copy *, const struct rollup_row *);

#endif
