/*
 * check_reports.h -- tlsrpt check held against the stored reports.
 *
 * Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
 */

#ifndef TLSRPT_CHECK_REPORTS_H
#define TLSRPT_CHECK_REPORTS_H

#include <stdint.h>

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

#endif
