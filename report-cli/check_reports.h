/*
 * check_reports.h -- tlsrpt check held against the stored reports.
 *
 * Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
 */

#ifndef TLSRPT_CHECK_REPORTS_H
#define TLSRPT_CHECK_REPORTS_H

#include <stdint.h>
#include <stdio.h>

#include "live.h"
#include "store.h"

/*
 * Add to r (a live_check() result) the findings of comparing it with
 * the reports about r->domain whose date range starts at most days days
 * before today (now's day, UTC): each reporter's latest applied policy
 * against the live one (still cached until its max_age ran out, or not
 * fetched again), MX hosts of failure details that are not live MX
 * hosts, reporters with no report in the last two days.  st stays the
 * caller's.  Returns 0, or -1 after printing why.
 */
int	check_reports(struct store *st, int64_t days, int64_t now,
	    struct live_result *r);

/* A check result as text on stdout, or as one JSON object (after a ","
 * when idx > 0) on fp: the object `check --format json` prints for a
 * domain, and the one --store stores (cmd_check.c). */
void	check_print_text(const struct live_result *);
void	check_print_json(FILE *, const struct live_result *, size_t idx);

/*
 * tlsrpt readiness --live: check domain now (o), held against the
 * reports of the last days days of st, print it after the readiness
 * verdict (text, or as "live" of a JSON object that wraps the readiness
 * answer, whose "{" the caller printed), and return the combined exit
 * code: READY (rc 0) stays so only when the live setup has no critical
 * finding and every reporter's latest policy is the live one.  Returns
 * rc, a worse code, or EXIT_NORUN after printing why.
 */
int	readiness_live(struct store *st, const struct live_opts *o,
	    const char *domain, int64_t days, int64_t now, int json, int rc);

#endif
