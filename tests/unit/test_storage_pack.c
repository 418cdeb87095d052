/*
 * test_storage_pack.c -- the raw bodies kept as gzip (schema
 * 008_storage.sql, ingest/gzip_pack.c): ingest_pack() round-trips
 * through zlib at the edges (empty, one byte, a typical report,
 * incompressible megabytes, reuse of one packer).  The stored bodies
 * are tests/integration/test_storage.c.
 *
 * Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
 */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <zlib.h>

#include "ingest.h"
#include "testutil.h"

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
	back = tu_gunzip_all(gz, gzlen, len, &blen);
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
