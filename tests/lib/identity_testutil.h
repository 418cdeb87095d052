/*
 * identity_testutil.h -- reports in the shapes of the identity tests
 * (issue 13; no database): the sys4 tlsrpt-reporter JSON and mail byte
 * for byte as its tlsrpt_reporter/tlsrpt.py writes them, parsed by
 * ingest, and the identity key computed apart from ingest/report.c.
 * Shared by tests/unit/test_identity_key.c and
 * tests/integration/test_identity.c.  Strings and reports returned are
 * the caller's to free; the tests fail (cr_assert) when a parse does.
 *
 * Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
 */

#ifndef TLSRPT_IDENTITY_TESTUTIL_H
#define TLSRPT_IDENTITY_TESTUTIL_H

#include <stddef.h>
#include <stdint.h>

#include "ingest.h"

#define DAY0		1795996800	/* 2026-11-30T00:00:00Z */
#define SUBMITTER	"mx.sender.test"
#define DOMAIN		"nopol.test"

/* stu_policy() and stu_report() that free what they are given. */
char	*pol(const char *type, const char *domain, long ok, long failed,
	    char *details);
char	*report(const char *org, const char *id, const char *day,
	    char *policies);

/* The report as reportd renders it (json.dumps, default separators). */
char	*sys4_json(const char *report_id, long ok);

/* s gzipped (deflate level 9, a gzip header); *len its length. */
unsigned char	*gzip_of(const char *s, size_t *len);

/* The reportd mail of json (send_out_report_to_mail). */
char	*sys4_mail(const char *json, const char *report_id,
	    const char *domain);

/* ingest_payload() and ingest_message(), asserting INGEST_OK. */
struct tlsrpt_report	*parse_json(const char *json,
			    const struct ingest_meta *meta);
struct tlsrpt_report	*parse_mail(const char *mail);

/* 1 when a warning of rep starts with token. */
int	has_warning(const struct tlsrpt_report *rep, const char *token);

/*
 * The identity as documented in ingest/report.c, computed here apart:
 * sha256(org NUL id NUL be64(start) be64(end) (domain NUL)*), domains
 * distinct and sorted (the callers pass them so).
 */
void	expect_key(unsigned char key[32], const char *org, const char *id,
	    int64_t start, int64_t end, const char *const *doms, size_t n);

#endif
