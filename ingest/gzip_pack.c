/*
 * gzip_pack.c -- gzip a report's JSON for tlsrpt.report_raw (schema
 * 008_storage.sql): a typical report of 1.9 KB keeps 0.7 KB.
 *
 * Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
 *
 * One z_stream per packer, reset between bodies: deflateInit2() costs a
 * quarter of a megabyte of allocation that a body of two kilobytes
 * would pay each time.  Level 1 (Z_BEST_SPEED): on the bench's corpus
 * it keeps 35% of the JSON, level 6 33%, for a third of the CPU.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "ingest.h"

#define PACK_WINDOW_GZIP	(15 + 16)	/* the gzip wrapper */
#define PACK_MEMLEVEL		8
#define PACK_IN_MAX		(1U << 30)	/* avail_in is a uInt */

struct ingest_packer {
	z_stream	 zs;
	unsigned char	*buf;		/* owned; the last body packed */
	size_t		 cap;
};

struct ingest_packer *
ingest_packer_new(void)
{
	struct ingest_packer	*pk;

	if ((pk = calloc(1, sizeof(*pk))) == NULL)
		return NULL;
	if (deflateInit2(&pk->zs, Z_BEST_SPEED, Z_DEFLATED, PACK_WINDOW_GZIP,
	    PACK_MEMLEVEL, Z_DEFAULT_STRATEGY) != Z_OK) {
		free(pk);
		return NULL;
	}
	return pk;
}

void
ingest_packer_free(struct ingest_packer *pk)
{
	if (pk == NULL)
		return;
	deflateEnd(&pk->zs);
	free(pk->buf);
	free(pk);
}

const unsigned char *
ingest_pack(struct ingest_packer *pk, const unsigned char *in, size_t len,
    size_t *outlen)
{
	unsigned char	*nb;
	size_t		 need;

	*outlen = 0;
	if (len > PACK_IN_MAX || deflateReset(&pk->zs) != Z_OK)
		return NULL;
	need = (size_t)deflateBound(&pk->zs, (uLong)len);
	if (need > pk->cap) {
		if ((nb = realloc(pk->buf, need)) == NULL)
			return NULL;
		pk->buf = nb;
		pk->cap = need;
	}
	pk->zs.next_in = (const Bytef *)in;
	pk->zs.avail_in = (uInt)len;
	pk->zs.next_out = pk->buf;
	pk->zs.avail_out = (uInt)need;
	/* the whole bound as room: one call finishes */
	if (deflate(&pk->zs, Z_FINISH) != Z_STREAM_END)
		return NULL;
	*outlen = need - pk->zs.avail_out;
	return pk->buf;
}
