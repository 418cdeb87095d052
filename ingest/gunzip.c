/*
 * gunzip.c -- bounded gzip decompression of report payloads.
 *
 * Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
 *
 * Output is bounded by the buffer's max (a bomb stops there), input by
 * compressed_max, and the ratio between them by ratio_max.  Every member
 * of a multi-member stream is inflated (RFC 1952 allows several).
 */

#include <limits.h>
#include <stdio.h>
#include <string.h>

#include <zlib.h>

#include "ingest_int.h"

#define GZ_WINDOW_GZIP	(15 + 16)	/* accept the gzip wrapper only */
#define GZ_STEP_BYTES	(64 * 1024)	/* output room added per round */

static size_t	isize_hint(const unsigned char *, size_t, size_t);

int
ingest_is_gzip(const unsigned char *buf, size_t len)
{
	return len >= 2 && buf[0] == 0x1f && buf[1] == 0x8b;
}

enum ingest_status
ingest_gunzip(const unsigned char *in, size_t inlen,
    const struct ingest_limits *lim, struct bbuf *out, int *trailing,
    struct ingest_err *err)
{
	z_stream		zs;
	enum ingest_status	st;

	memset(&zs, 0, sizeof(zs));
	if (inflateInit2(&zs, GZ_WINDOW_GZIP) != Z_OK) {
		snprintf(err->msg, sizeof(err->msg), "out of memory (zlib)");
		return INGEST_E_NOMEM;
	}
	st = gunzip_with(&zs, in, inlen, lim, out, trailing, err);
	inflateEnd(&zs);			/* pairs with inflateInit2 */
	return st;
}

enum ingest_status
gunzip_with(z_stream *zs, const unsigned char *in, size_t inlen,
    const struct ingest_limits *lim, struct bbuf *out, int *trailing,
    struct ingest_err *err)
{
	enum ingest_status	 st = INGEST_E_GZIP;
	unsigned char		 probe[1];
	size_t			 start = out->len, room;
	int			 zr;

	if (trailing != NULL)
		*trailing = 0;
	if (!ingest_is_gzip(in, inlen)) {
		snprintf(err->msg, sizeof(err->msg), "not a gzip stream");
		return INGEST_E_FORMAT;
	}
	if (inlen > lim->compressed_max || inlen > UINT_MAX) {
		snprintf(err->msg, sizeof(err->msg),
		    "compressed size %zu bytes over the limit of %zu", inlen,
		    lim->compressed_max);
		return INGEST_E_TOOBIG;
	}
	if (inflateReset(zs) != Z_OK) {
		snprintf(err->msg, sizeof(err->msg), "zlib stream unusable");
		return INGEST_E_NOMEM;
	}
	zs->next_in = in;			/* const: built with -DZLIB_CONST */
	zs->avail_in = (uInt)inlen;
	room = isize_hint(in, inlen, out->max - out->len);
	for (;;) {
		if (room > out->max - out->len)
			room = out->max - out->len;
		if (room == 0) {
			/* at the cap: fine only if the stream ends here */
			zs->next_out = probe;
			zs->avail_out = sizeof(probe);
			zr = inflate(zs, Z_NO_FLUSH);
			if (zs->avail_out == 0 || (zr == Z_STREAM_END &&
			    ingest_is_gzip(zs->next_in, zs->avail_in))) {
				snprintf(err->msg, sizeof(err->msg),
				    "decompressed size over the limit of %zu "
				    "bytes", out->max);
				st = INGEST_E_TOOBIG;
				goto out;
			}
		} else {
			if (bbuf_reserve(out, room) == -1) {
				snprintf(err->msg, sizeof(err->msg),
				    "out of memory");
				st = INGEST_E_NOMEM;
				goto out;
			}
			room = out->cap - out->len;
			if (room > UINT_MAX)
				room = UINT_MAX;
			zs->next_out = out->data + out->len;
			zs->avail_out = (uInt)room;
			zr = inflate(zs, Z_NO_FLUSH);
			out->len += room - zs->avail_out;
		}
		if (out->len - start > lim->ratio_floor &&
		    out->len - start > (size_t)lim->ratio_max * inlen) {
			snprintf(err->msg, sizeof(err->msg),
			    "compression ratio over %u:1 (a gzip bomb?)",
			    lim->ratio_max);
			st = INGEST_E_TOOBIG;
			goto out;
		}
		if (zr == Z_STREAM_END) {
			/* another member, padding, or garbage? */
			if (zs->avail_in == 0)
				break;
			if (!ingest_is_gzip(zs->next_in, zs->avail_in)) {
				if (trailing != NULL)
					*trailing = 1;
				break;
			}
			if (inflateReset(zs) != Z_OK)
				goto corrupt;
		} else if (zr == Z_BUF_ERROR && zs->avail_in == 0) {
			snprintf(err->msg, sizeof(err->msg),
			    "truncated gzip stream (%zu bytes in)", inlen);
			goto out;
		} else if (zr != Z_OK && zr != Z_BUF_ERROR) {
			goto corrupt;
		}
		room = GZ_STEP_BYTES;
	}
	st = INGEST_OK;
	goto out;
 corrupt:
	snprintf(err->msg, sizeof(err->msg), "corrupt gzip stream: %s",
	    zs->msg != NULL ? zs->msg : "inflate failed");
	st = INGEST_E_GZIP;
 out:
	if (st != INGEST_OK)
		out->len = start;
	return st;
}

/*
 * The gzip trailer holds the size of the last member mod 2^32: a good
 * first guess for single-member reports, never trusted beyond the cap.
 */
static size_t
isize_hint(const unsigned char *in, size_t inlen, size_t cap)
{
	size_t	n;

	if (inlen < 18)
		return 4096;
	n = (size_t)in[inlen - 4] | (size_t)in[inlen - 3] << 8 |
	    (size_t)in[inlen - 2] << 16 | (size_t)in[inlen - 1] << 24;
	n += 1;		/* room to see Z_STREAM_END without another round */
	if (n > cap)
		n = cap;
	if (n > 4 * 1024 * 1024)
		n = 4 * 1024 * 1024;	/* a hint, not a promise */
	return n < 256 ? 256 : n;
}
