/*
 * test_storage.c -- the raw bodies kept as gzip (schema 007_storage.sql,
 * ingest/gzip_pack.c): ingest_pack() round-trips through zlib at the
 * edges (empty, one byte, a typical report, incompressible megabytes,
 * reuse of one packer), and a stored report's body in tlsrpt.report_raw
 * is the gzip of its JSON, byte for byte once inflated, also for a
 * "same report, different content" variant.
 *
 * Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
 *
 * The "storage_pack" suite needs nothing; "storage_db" needs PostgreSQL.
 */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <zlib.h>

#include "ingest.h"
#include "store.h"
#include "store_testutil.h"

/* Inflate the one gzip member of gz (asserting it is one, whole);
 * malloc'd, *len bytes. */
static unsigned char *
gunzip_all(const unsigned char *gz, size_t gzlen, size_t max, size_t *len)
{
	z_stream	 zs;
	unsigned char	*out;

	memset(&zs, 0, sizeof(zs));
	cr_assert_eq(inflateInit2(&zs, 15 + 16), Z_OK);
	cr_assert_not_null(out = malloc(max + 1));
	zs.next_in = gz;
	zs.avail_in = (uInt)gzlen;
	zs.next_out = out;
	zs.avail_out = (uInt)(max + 1);
	cr_assert_eq(inflate(&zs, Z_FINISH), Z_STREAM_END);
	cr_assert_eq(zs.avail_in, 0, "bytes after the gzip member");
	*len = (size_t)(zs.next_out - out);
	inflateEnd(&zs);
	return out;
}

static void
round_trip(struct ingest_packer *pk, const unsigned char *in, size_t len)
{
	const unsigned char	*gz;
	unsigned char		*back;
	size_t			 gzlen, blen;

	gz = ingest_pack(pk, in, len, &gzlen);
	cr_assert_not_null(gz, "ingest_pack of %zu bytes", len);
	cr_assert_geq(gzlen, 18, "no room for a gzip header and trailer");
	cr_expect(gz[0] == 0x1f && gz[1] == 0x8b, "no gzip magic");
	back = gunzip_all(gz, gzlen, len, &blen);
	cr_expect_eq(blen, len);
	cr_expect(len == 0 || memcmp(back, in, len) == 0, "bytes differ");
	free(back);
}

Test(storage_pack, edges_and_reuse)
{
	struct ingest_packer	*pk;
	unsigned char		*big;
	const char		*json = "{\"organization-name\": \"Org\", "
	    "\"report-id\": \"r1\", \"policies\": []}";
	uint32_t		 x = 2463534242u;
	size_t			 i, n = 3 * 1024 * 1024;

	cr_assert_not_null(pk = ingest_packer_new());
	round_trip(pk, (const unsigned char *)"", 0);
	round_trip(pk, (const unsigned char *)"{", 1);
	round_trip(pk, (const unsigned char *)json, strlen(json));
	/* incompressible: the output is bigger than the input */
	cr_assert_not_null(big = malloc(n));
	for (i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		big[i] = (unsigned char)x;
	}
	round_trip(pk, big, n);
	/* the same packer again, smaller after bigger */
	round_trip(pk, (const unsigned char *)json, strlen(json));
	free(big);
	ingest_packer_free(pk);
	ingest_packer_free(NULL);
}

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
	back = gunzip_all(gz, n, strlen(json), &blen);
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
