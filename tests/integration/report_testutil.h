/*
 * report_testutil.h -- helpers for the failures, readiness and digest
 * tests: report JSON with chosen policy strings, IPs and reason codes,
 * storing reports through store_put_reports(), and running bin/tlsrpt.
 *
 * Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
 */

#ifndef TLSRPT_REPORT_TESTUTIL_H
#define TLSRPT_REPORT_TESTUTIL_H

#include <stddef.h>

#include "store_testutil.h"

/* An sts policy entry.  lines: the policy-string lines joined with '|'
 * ("version: STSv1|mode: testing|mx: *.a.example|max_age: 86400"), or
 * NULL for none.  details: the failure-details contents or NULL. */
char	*rtu_sts(const char *domain, const char *lines, long ok, long failed,
	    const char *details);

/* A tlsa or no-policy-found entry; mx: an mx-host name or NULL. */
char	*rtu_other(const char *type, const char *domain, const char *mx,
	    long ok, long failed, const char *details);

/* A failure detail; any string may be NULL (left out). */
char	*rtu_detail(const char *result_type, const char *mx,
	    const char *sending_ip, const char *receiving_ip,
	    const char *reason, long failed);

/* Policy lines "version: STSv1|mode: M|mx: P|max_age: 86400" for one
 * mode and one mx pattern; static buffer, valid until the next call. */
const char	*rtu_lines(const char *mode, const char *mx);

/* Store one report (stu_report(org, id, day, policies)) in db, freeing
 * policies; asserts it was stored. */
void	rtu_put(struct store *, const char *org, const char *id,
	    const char *day, char *policies);

/* "2026-03-01" plus n days, into a static buffer. */
const char	*rtu_day(const char *day, int n);

struct rtu_run {
	int	 status;	/* exit code */
	char	*out;		/* stdout (stderr too unless split), malloc'd */
};

/* Run `[ENV] tlsrpt ARGS --db DB`; env may be NULL ("TLSRPT_NOW=..."). */
struct rtu_run	rtu_tlsrpt(const struct stu_db *, const char *env,
		    const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
