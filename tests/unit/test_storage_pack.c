/*
 * test_storage_pack.c -- the raw bodies kept packed (schema
 * 009_report_no.sql, ingest/gzip_pack.c: a zlib stream with a preset
 * dictionary): ingest_pack() round-trips through zlib itself and through
 * ingest_unpack() at the edges (empty, one byte, a typical report,
 * incompressible megabytes, reuse of one packer); the stream header
 * names the dictionary by its Adler-32; ingest_unpack() stops at its
 * buffer's max and refuses gzip, JSON and damaged streams.  The stored
 * bodies are tests/integration/test_storage.c.
 *
 * Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
 */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <zlib.h>

#include "bbuf.h"
#include "ingest.h"
#include "testutil.h"

static void
round_trip(struct ingest_packer *pk, const unsigned char *in, size_t len)
{
	const unsigned char	*gz, *dict;
	unsigned char		*back;
	size_t			 gzlen, blen, dlen;
	struct bbuf		 bb;
	struct ingest_err	 ie;
	uLong			 id;

	gz = ingest_pack(pk, in, len, &gzlen);
	cr_assert_not_null(gz, "ingest_pack of %zu bytes", len);
	/* RFC 1950: CMF FLG DICTID ... ADLER32 */
	cr_assert_geq(gzlen, 2 + 4 + 4, "no room for a zlib header and trailer");
	cr_expect_eq(gz[0], 0x78, "not deflate with a 32K window");
	cr_expect_eq(((unsigned)gz[0] << 8 | gz[1]) % 31, 0, "bad FCHECK");
	cr_expect(gz[1] & 0x20, "no FDICT");
	dict = ingest_pack_dict(&dlen);
	cr_assert_gt(dlen, 0);
	id = adler32(adler32(0L, Z_NULL, 0), dict, (uInt)dlen);
	cr_expect_eq((uLong)gz[2] << 24 | (uLong)gz[3] << 16 |
	    (uLong)gz[4] << 8 | gz[5], id, "DICTID is not the dictionary's");
	cr_expect(ingest_is_packed(gz, gzlen));
	back = tu_unpack_all(gz, gzlen, dict, dlen, len, &blen);
	cr_expect_eq(blen, len);
	cr_expect(len == 0 || memcmp(back, in, len) == 0, "bytes differ");
	free(back);
	/* ingest_unpack(): the same bytes; one byte short of room fails */
	bbuf_init(&bb, len);
	cr_expect_eq(ingest_unpack(gz, gzlen, &bb, &ie), INGEST_OK, "%s",
	    ie.msg);
	cr_expect_eq(bb.len, len);
	cr_expect(len == 0 || memcmp(bb.data, in, len) == 0);
	bbuf_reset(&bb);
	if (len > 0) {
		bbuf_init(&bb, len - 1);
		cr_expect_eq(ingest_unpack(gz, gzlen, &bb, &ie),
		    INGEST_E_TOOBIG);
		bbuf_reset(&bb);
	}
}

Test(storage_pack, unpack_refuses_what_is_not_packed)
{
	struct ingest_packer	*pk;
	const unsigned char	*z;
	unsigned char		*gz, *bad;
	const char		*json = "{\"policies\": []}";
	size_t			 n, gzlen;
	struct bbuf		 bb;
	struct ingest_err	 ie;

	gz = tu_gzip(json, strlen(json), &gzlen);
	cr_expect(!ingest_is_packed(gz, gzlen), "gzip taken as packed");
	cr_expect(!ingest_is_packed((const unsigned char *)json,
	    strlen(json)), "JSON taken as packed");
	bbuf_init(&bb, 1024);
	cr_expect_eq(ingest_unpack(gz, gzlen, &bb, &ie), INGEST_E_FORMAT);
	free(gz);
	/* a plain zlib stream (no dictionary) is not ours either */
	cr_assert_not_null(bad = malloc(64));
	n = 64;
	cr_assert_eq(compress2(bad, &n, (const Bytef *)json, strlen(json),
	    1), Z_OK);
	cr_expect(!ingest_is_packed(bad, n), "zlib without FDICT");
	/* ours, truncated and damaged */
	cr_assert_not_null(pk = ingest_packer_new());
	cr_assert_not_null(z = ingest_pack(pk, (const unsigned char *)json,
	    strlen(json), &n));
	cr_assert_leq(n, 64);
	memcpy(bad, z, n);
	cr_expect_neq(ingest_unpack(bad, n - 3, &bb, &ie), INGEST_OK,
	    "truncated");
	bb.len = 0;
	bad[n - 1] ^= 0xff;	/* the Adler-32 of the JSON */
	cr_expect_eq(ingest_unpack(bad, n, &bb, &ie), INGEST_E_GZIP,
	    "checksum");
	bbuf_reset(&bb);
	free(bad);
	ingest_packer_free(pk);
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
