/*
 * rollup.h -- the per-day rollup of parsed reports (ingest/rollup.c):
 * which rows of tlsrpt.rollup a batch of reports adds to, and by how
 * much.  Pure, like the rest of ingest/: store/ only writes the rows.
 *
 * Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
 *
 * DESIGN.md's session accounting lives in ingest/: report.c decides
 * which policies are counted (tlsrpt_policy.counted), this file what a
 * counted policy adds to the rollup.  Per (report, policy domain) one
 * totals row (result type and MX ""), under the type the domain is
 * counted under (rollup_main_type() in rollup.c), with the counted
 * policies' successful and failed sessions; per failure detail of a
 * counted policy one row under the policy's own type, with the
 * detail's failed sessions, its result type ("unknown" when the sender
 * gave none) and its receiving MX in lower case ("" when none).  A
 * policy that is not counted adds only reports = 1 to its domain's
 * totals row.  Rows of equal key are merged; "reports" counts each
 * report once per row.
 */

#ifndef TLSRPT_ROLLUP_H
#define TLSRPT_ROLLUP_H

#include <stddef.h>
#include <stdint.h>

#include "ingest.h"

/* One row of tlsrpt.rollup (schema/001_init.sql); the strings point
 * into the reports or into the struct rollup that holds the row. */
struct rollup_row {
	const char	*domain;	/* "" when unknown */
	int64_t		 start;		/* the report's start: the period */
	const char	*reporter;	/* "" when none */
	const char	*ptype;		/* tlsrpt_ptype_str() */
	const char	*result_type;	/* "" on a totals row */
	const char	*mx;		/* lower case; "" on a totals row */
	int64_t		 reports;
	int64_t		 successful;
	int64_t		 failed;
	size_t		 rep;		/* the last report merged in (the
					 * index in the caller's array) */
};

/*
 * The rows of one batch.  rows[0..nrows) are in the order of the
 * rollup's primary key under COLLATE "C" (rollup_row_cmp()).  The
 * buffers are kept from one rollup_build() to the next.
 */
struct rollup {
	struct rollup_row	*rows;
	size_t			 nrows;
	size_t			 rowscap;
	char			*mx;		/* the lower-cased MX names */
	size_t			 mxcap;
};

enum rollup_status {
	ROLLUP_OK = 0,
	ROLLUP_E_NOMEM,
	ROLLUP_E_RANGE,		/* a sum of sessions beyond int64 */
};

/* An empty struct rollup. */
void	rollup_init(struct rollup *);

/*
 * The merged rows of reps[0..n) (none of them NULL), replacing what r
 * held.  The rows borrow the reports' strings: they are valid while the
 * reports are and until the next rollup_build() or rollup_free().  On
 * an error r->nrows is 0.
 */
enum rollup_status	 rollup_build(struct rollup *r,
			    const struct tlsrpt_report *const *reps, size_t n);

/* Release what r holds (not r); r is empty afterwards. */
void	rollup_free(struct rollup *r);

/* The primary key order: domain, start, reporter, policy type, result
 * type, MX, strings byte-wise.  <0, 0, >0. */
int	rollup_row_cmp(const struct rollup_row *, const struct rollup_row *);

#endif
