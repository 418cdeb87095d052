/*
 * testutil.h -- helpers shared by the Criterion tests: corpus files,
 * gzip, report JSON builders.
 *
 * Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
 */

#ifndef TLSRPT_TESTUTIL_H
#define TLSRPT_TESTUTIL_H

#include <stddef.h>

#include "ingest.h"

/* The shared corpus: $TLSRPT_CORPUS, else tests/data/corpus. */
const char	*tu_corpus_dir(void);

/* Reads a whole file (corpus-relative when not absolute) into a new
 * malloc'd buffer, NUL-terminated; aborts the test when it cannot. */
unsigned char	*tu_load(const char *path, size_t *len);

/* gzip of buf into a new malloc'd buffer (level 6, one member). */
unsigned char	*tu_gzip(const void *buf, size_t len, size_t *outlen);

/* Inflates the one whole gzip member of gz (asserted), at most max bytes;
 * malloc'd, *len bytes. */
unsigned char	*tu_gunzip_all(const unsigned char *gz, size_t gzlen,
		    size_t max, size_t *len);

/* The same for a zlib stream with the preset dictionary dict (RFC 1950
 * FDICT), as tlsrpt.report_raw keeps bodies from schema 009. */
unsigned char	*tu_unpack_all(const unsigned char *z, size_t zlen,
		    const unsigned char *dict, size_t dictlen, size_t max,
		    size_t *len);

/* A growing malloc'd string; tu_str_add appends printf-style. */
struct tu_str {
	char	*s;
	size_t	 len, cap;
};
void	tu_str_add(struct tu_str *, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));

/* Parse with default limits (or lim when not NULL). */
enum ingest_status	 tu_parse(const char *json, const struct ingest_limits *,
			    struct tlsrpt_report **, struct ingest_err *);

/* 1 when the report has a warning starting with token. */
int	tu_has_warning(const struct tlsrpt_report *, const char *token);

#endif
