/*
 * test_storage.c -- the raw bodies kept packed (schema 009_report_no.sql:
 * a zlib stream with a preset dictionary; 008 kept gzip): a stored
 * report's body in tlsrpt.report_raw is its JSON packed, byte for byte
 * once inflated, also for a "same report, different content" variant;
 * store_report_raw() (the web's raw report) gives the JSON back from a
 * packed body, from a gzip body as 008 stored it and from the JSON as
 * stored before 008.  The packer alone is tests/unit/test_storage_pack.c.
 *
 * Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
 * */

#define _GNU_SOURCE	/* asprintf */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <zlib.h>

#include "ingest.h"
#include "store.h"
#include "store_series.h"
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
	const unsigned char *dict;
	char		 sql[256], hex[65], *buf;
	size_t		 i, n, blen, dlen, bufsz = 64 * 1024;
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
	cr_expect(gz[0] == 0x78 && (gz[1] & 0x20) != 0,
	    "body is not zlib with a dictionary");
	cr_expect_lt(n, strlen(json), "the packed body is no smaller");
	dict = ingest_pack_dict(&dlen);
	back = tu_unpack_all(gz, n, dict, dlen, strlen(json), &blen);
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

/* The web's raw report: the JSON whatever the body's form. */
static void
expect_raw(const char *json)
{
	struct store_raw	 raw;
	struct tlsrpt_report	*rep;
	char			 key[65], sha[65];
	size_t			 i;

	rep = stu_parse(json);
	for (i = 0; i < 32; i++) {
		snprintf(key + 2 * i, 3, "%02x", rep->key[i]);
		snprintf(sha + 2 * i, 3, "%02x", rep->sha256[i]);
	}
	tlsrpt_report_free(rep);
	cr_assert_eq(store_report_raw(st, key, sha, &raw), 0, "%s",
	    store_errstr(st));
	/* the body is raw.len bytes, not a C string */
	cr_expect_eq(raw.len, strlen(json));
	cr_expect(raw.len == strlen(json) &&
	    memcmp(raw.body, json, raw.len) == 0, "%.*s", (int)raw.len,
	    raw.body);
	store_raw_free(&raw);
}

Test(storage_db, raw_report_from_every_stored_form, .init = db_setup,
    .fini = db_teardown)
{
	unsigned char	*gz;
	char		*json, *sql, *hex;
	size_t		 gzlen, i;

	json = stu_report("Org", "r2", "2024-01-02", stu_policy("sts",
	    "example.com", 10, 0, NULL));
	cr_expect_eq(put_one(json), STORE_STORED);
	expect_raw(json);		/* packed, as stored now */
	/* a body as 008 stored it: the gzip of the JSON */
	gz = tu_gzip(json, strlen(json), &gzlen);
	cr_assert_not_null(hex = malloc(2 * gzlen + 1));
	for (i = 0; i < gzlen; i++)
		snprintf(hex + 2 * i, 3, "%02x", gz[i]);
	cr_assert_geq(asprintf(&sql, "UPDATE tlsrpt.report_raw SET body ="
	    " '\\x%s'", hex), 0);
	stu_exec(&db, sql);
	free(sql);
	expect_raw(json);
	/* and as stored before 008: the JSON */
	cr_assert_geq(asprintf(&sql, "UPDATE tlsrpt.report_raw SET body ="
	    " pg_catalog.convert_to('%s', 'UTF8')", json), 0);
	stu_exec(&db, sql);
	free(sql);
	expect_raw(json);
	free(hex);
	free(gz);
	free(json);
}
