/*
 * test_storage.c -- the raw bodies kept as gzip (schema 008_storage.sql):
 * a stored report's body in tlsrpt.report_raw is the gzip of its JSON,
 * byte for byte once inflated, also for a "same report, different
 * content" variant.  The packer alone is tests/unit/test_storage_pack.c.
 *
 * Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
 * */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <zlib.h>

#include "ingest.h"
#include "store.h"
#include "store_testutil.h"
#include "testutil.h"

static struct stu_db	db;
static struct store	*st;

static void
db_setup(void)
{
	stu_db_create(&db, "storage");
	st = stu_open(&db, 1);
}

static void
db_teardown(void)
{
	store_close(st);
	stu_db_drop(&db);
}

static unsigned
hexval(char c)
{
	return c <= '9' ? (unsigned)(c - '0') : (unsigned)(c - 'a' + 10);
}

/* The body of the report_raw row whose content digest is that of json,
 * inflated, must be json. */
static void
expect_body(const char *json)
{
	unsigned char	 sha[32], *gz, *back;
	char		 sql[256], hex[65], *buf;
	size_t		 i, n, blen, bufsz = 64 * 1024;
	struct tlsrpt_report *rep;

	rep = stu_parse(json);
	memcpy(sha, rep->sha256, sizeof(sha));
	tlsrpt_report_free(rep);
	for (i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", sha[i]);
	snprintf(sql, sizeof(sql), "SELECT pg_catalog.encode(body, 'hex') "
	    "FROM tlsrpt.report_raw WHERE sha256 = '\\x%s'", hex);
	cr_assert_not_null(buf = malloc(bufsz));
	stu_text(&db, sql, buf, bufsz);
	n = strlen(buf) / 2;
	cr_assert_gt(n, 0, "no body for %s", hex);
	cr_assert_not_null(gz = malloc(n));
	for (i = 0; i < n; i++)
		gz[i] = (unsigned char)(hexval(buf[2 * i]) << 4 |
		    hexval(buf[2 * i + 1]));
	cr_expect(gz[0] == 0x1f && gz[1] == 0x8b, "body is not gzip");
	cr_expect_lt(n, strlen(json), "the gzip is no smaller");
	back = tu_gunzip_all(gz, n, strlen(json), &blen);
	cr_expect_eq(blen, strlen(json));
	cr_expect(memcmp(back, json, blen) == 0, "the body differs");
	free(back);
	free(gz);
	free(buf);
}

static enum store_outcome
put_one(const char *json)
{
	static const struct store_arrival arr = { "file", "t.json",
	    1704067200 };
	struct tlsrpt_report	*rep;
	enum store_outcome	 out;

	rep = stu_parse(json);
	cr_assert(store_put_reports(st, &rep, &arr, 1, &out) == 0, "%s",
	    store_errstr(st));
	tlsrpt_report_free(rep);
	return out;
}

Test(storage_db, raw_body_is_gzip_of_the_json, .init = db_setup,
    .fini = db_teardown)
{
	char	*a, *b;

	a = stu_report("Org", "r1", "2024-01-01", stu_join(
	    stu_policy("sts", "example.com", 10, 3, stu_join(
	    stu_detail("certificate-expired", "mx1.example.com", 2),
	    stu_detail("starttls-not-supported", "mx2.example.com", 1),
	    NULL)), stu_policy("no-policy-found", "example.net", 4, 0, NULL),
	    NULL));
	/* the same report with other bytes (spaces): a content variant,
	 * stored through the other path (put_variants()) */
	cr_assert_not_null(b = malloc(strlen(a) + 3));
	snprintf(b, strlen(a) + 3, " %s ", a);
	cr_expect_eq(put_one(a), STORE_STORED);
	cr_expect_eq(put_one(b), STORE_DUPLICATE);
	cr_expect_eq(stu_int(&db, "SELECT count(*) FROM tlsrpt.report_raw"),
	    2);
	expect_body(a);
	expect_body(b);
	free(a);
	free(b);
}
