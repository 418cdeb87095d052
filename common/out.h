/*
 * out.h -- escapers and time writers shared by every renderer of the
 * models (report-cli/ writers, the web dashboard): no figure is computed
 * here, only text made safe for its destination.
 *
 * Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
 */

#ifndef TLSRPT_OUT_H
#define TLSRPT_OUT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* s (borrowed, NUL-terminated) as a JSON string literal, to f. */
void	out_json_str(FILE *f, const char *s);

/* s (borrowed) as one RFC 4180 field, with a leading ' against formula
 * injection, to f. */
void	out_csv_str(FILE *f, const char *s);

/* HTML text or attribute value: & < > " ' escaped, controls dropped. */
void	out_html_str(FILE *f, const char *s);

/* t as "2026-01-31T00:00:00Z", to f. */
void	out_time(FILE *f, int64_t t);

/* The date of t, "2026-01-31", to f. */
void	out_day(FILE *f, int64_t t);

/*
 * A sender's string for a terminal: "(unknown)" for "", control
 * characters as '?', cut to bufsz - 1 bytes.  Returns buf (the caller's,
 * bufsz > 0) or a constant; s is borrowed.
 */
const char	*out_shown(const char *s, char *buf, size_t bufsz);

#endif
