/*
 * util.h -- small pure helpers: time, numbers, hex, text.
 *
 * Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
 */

#ifndef TLSRPT_UTIL_H
#define TLSRPT_UTIL_H

#include <stddef.h>
#include <stdint.h>

/* Days since 1970-01-01 of a proleptic Gregorian date. */
int64_t	util_days_from_civil(int64_t y, unsigned m, unsigned d);

/*
 * Parse an RFC 3339 date-time ("2024-09-03T00:00:00Z", fractional
 * seconds and +hh:mm offsets accepted, 't'/'z' in either case).  A
 * missing zone is read as UTC and reported in *nozone (may be NULL).
 * Returns 0 and Unix seconds in *t, or -1.
 */
int	util_parse_datetime(const char *s, int64_t *t, int *nozone);

/* As util_parse_datetime, also accepting a bare date "2024-09-03". */
int	util_parse_date_or_datetime(const char *s, int64_t *t);

/* Formats t as "2024-09-03T00:00:00Z" into buf (at least 21 bytes). */
#define UTIL_TIME_BUFSZ	32
void	util_format_datetime(int64_t t, char *buf, size_t bufsz);

/* Lower-case hex of len bytes into out (2 * len + 1 bytes). */
void	util_hex(const unsigned char *p, size_t len, char *out);

/* Range-checked decimal: 0 and *v, or -1 (empty, junk, out of range). */
int	util_strtoi64(const char *s, int64_t min, int64_t max, int64_t *v);

#endif
