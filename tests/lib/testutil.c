/*
 * testutil.c -- helpers shared by the Criterion tests.
 *
 * Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
 */

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <zlib.h>

#include "testutil.h"

const char *
tu_corpus_dir(void)
{
	const char	*d = getenv("TLSRPT_CORPUS");

	return d != NULL && *d != '\0' ? d : "tests/data/corpus";
}

unsigned char *
tu_load(const char *path, size_t *len)
{
	char		 full[4096];
	unsigned char	*buf;
	FILE		*f;
	long		 n;

	if (path[0] == '/' || strncmp(path, "./", 2) == 0 ||
	    strncmp(path, "tests/", 6) == 0)
		snprintf(full, sizeof(full), "%s", path);
	else
		snprintf(full, sizeof(full), "%s/%s", tu_corpus_dir(), path);
	f = fopen(full, "rb");
	cr_assert_not_null(f, "cannot open %s (run from the repository root, "
	    "or set TLSRPT_CORPUS)", full);
	cr_assert_eq(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	cr_assert_geq(n, 0);
	rewind(f);
	buf = malloc((size_t)n + 1);
	cr_assert_not_null(buf);
	cr_assert_eq(fread(buf, 1, (size_t)n, f), (size_t)n, "short read %s",
	    full);
	buf[n] = '\0';
	fclose(f);
	*len = (size_t)n;
	return buf;
}

unsigned char *
tu_gzip(const void *buf, size_t len, size_t *outlen)
{
	z_stream	 zs;
	unsigned char	*out;
	size_t		 cap;

	memset(&zs, 0, sizeof(zs));
	cr_assert_eq(deflateInit2(&zs, 6, Z_DEFLATED, 15 + 16, 8,
	    Z_DEFAULT_STRATEGY), Z_OK);
	cap = deflateBound(&zs, len) + 64;
	out = malloc(cap);
	cr_assert_not_null(out);
	zs.next_in = buf;
	zs.avail_in = (uInt)len;
	zs.next_out = out;
	zs.avail_out = (uInt)cap;
	cr_assert_eq(deflate(&zs, Z_FINISH), Z_STREAM_END);
	*outlen = cap - zs.avail_out;
	deflateEnd(&zs);
	return out;
}

void
tu_str_add(struct tu_str *s, const char *fmt, ...)
{
	va_list	ap;
	int	n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	cr_assert_geq(n, 0);
	if (s->len + (size_t)n + 1 > s->cap) {
		s->cap = (s->len + (size_t)n + 1) * 2;
		s->s = realloc(s->s, s->cap);
		cr_assert_not_null(s->s);
	}
	va_start(ap, fmt);
	vsnprintf(s->s + s->len, s->cap - s->len, fmt, ap);
	va_end(ap);
	s->len += (size_t)n;
}

enum ingest_status
tu_parse(const char *json, const struct ingest_limits *lim,
    struct tlsrpt_report **rep, struct ingest_err *err)
{
	struct ingest_limits	def;

	if (lim == NULL) {
		ingest_limits_default(&def);
		lim = &def;
	}
	return ingest_payload((const unsigned char *)json, strlen(json), NULL,
	    lim, rep, err);
}

int
tu_has_warning(const struct tlsrpt_report *rep, const char *token)
{
	size_t	i, n = strlen(token);

	for (i = 0; i < rep->nwarnings; i++)
		if (strncmp(rep->warnings[i], token, n) == 0 &&
		    (rep->warnings[i][n] == '\0' || rep->warnings[i][n] == ':'))
			return 1;
	return 0;
}

/* Inflate the one gzip member of gz (asserting it is one, whole);
 * malloc'd, *len bytes. */
unsigned char *
tu_gunzip_all(const unsigned char *gz, size_t gzlen, size_t max, size_t *len)
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

unsigned char *
tu_unpack_all(const unsigned char *z, size_t zlen, const unsigned char *dict,
    size_t dictlen, size_t max, size_t *len)
{
	z_stream	 zs;
	unsigned char	*out;

	memset(&zs, 0, sizeof(zs));
	cr_assert_eq(inflateInit2(&zs, 15), Z_OK);
	cr_assert_not_null(out = malloc(max + 1));
	zs.next_in = z;
	zs.avail_in = (uInt)zlen;
	zs.next_out = out;
	zs.avail_out = (uInt)(max + 1);
	cr_assert_eq(inflate(&zs, Z_FINISH), Z_NEED_DICT, "no dictionary");
	cr_assert_eq(inflateSetDictionary(&zs, dict, (uInt)dictlen), Z_OK);
	cr_assert_eq(inflate(&zs, Z_FINISH), Z_STREAM_END);
	cr_assert_eq(zs.avail_in, 0, "bytes after the zlib stream");
	*len = (size_t)(zs.next_out - out);
	inflateEnd(&zs);
	return out;
}
