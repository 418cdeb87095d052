/*
 * json_testutil.h -- report JSON written in the tests (no database):
 * reports, policies and failure details built from their figures, and
 * parsed with ingest.  Strings are malloc'd, owned by the caller.
 *
 * Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
 */

#ifndef TLSRPT_JSON_TESTUTIL_H
#define TLSRPT_JSON_TESTUTIL_H

#include "ingest.h"

/* ingest_payload of a NUL-terminated JSON text, asserting INGEST_OK.
 * The report is owned by the caller. */
struct tlsrpt_report	*stu_parse(const char *json);

/* A report JSON: org, report-id, start day "YYYY-MM-DD" (the range is
 * that day), and the policies array's contents.  malloc'd. */
char	*stu_report(const char *org, const char *id, const char *day,
	    const char *policies);

/* One policy entry; details is the failure-details contents or NULL. */
char	*stu_policy(const char *type, const char *domain, long ok,
	    long failed, const char *details);

/* One failure-details entry. */
char	*stu_detail(const char *result_type, const char *mx, long failed);

/* Concatenates a NULL-terminated list of strings with "," between them,
 * freeing them; malloc'd. */
char	*stu_join(char *first, ...);

#endif
