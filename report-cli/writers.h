/*
 * writers.h -- the CLI's renderers of the models (model/): one function
 * per answer and format, each writing one model to f and computing
 * nothing.  A new format is a new function here beside the others; the
 * cmd_*.c files only pick one.
 *
 * Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
 *
 * Each writer borrows its model and writes to f (the caller checks
 * ferror(f)); none keeps a pointer after it returns.
 */

#ifndef TLSRPT_WRITERS_H
#define TLSRPT_WRITERS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "digest.h"
#include "failures.h"
#include "readiness.h"
#include "summary.h"

/* summary_out.c */
void	summary_text(const struct summary *, FILE *f);
void	summary_json(const struct summary *, FILE *f);
void	summary_csv(const struct summary *, FILE *f);

/* failures_out.c */
void	failures_text(const struct failures *, FILE *f);
void	failures_json(const struct failures *, FILE *f);
void	failures_csv(const struct failures *, FILE *f);

/* readiness_out.c: domain d of rd (no CSV: DESIGN.md) */
void	readiness_text(const struct readiness *rd,
	    const struct readiness_domain *d, FILE *f);
void	readiness_json(const struct readiness *rd,
	    const struct readiness_domain *d, FILE *f);

/* digest_text.c, digest_html.c: the two views of the digest */
void	digest_text(const struct digest *, FILE *f);
void	digest_html(const struct digest *, FILE *f);

/* What the mail message says besides the digest (digest_mime.c). */
struct digest_envelope {
	const char *const	*to;	/* nto addresses; none: root@host */
	size_t			 nto;
	const char		*from;	/* NULL: tlsrpt@host */
	const char		*subject; /* NULL: the default */
	const char		*host;
	int64_t			 now;	/* Date */
};

/*
 * The whole RFC 5322 message (multipart/alternative: text/plain and
 * text/html, quoted-printable UTF-8) written to f, built with GMime.
 * Returns 0, or -1 when out of memory or f fails.
 */
int	digest_write_message(const struct digest *, const struct
	    digest_envelope *, FILE *f);

/* writers.c: pieces more than one writer prints */

/* "2026-03-08" or "2026-03-02 to 2026-03-08": the days of [since, until). */
void	digest_period(FILE *f, int64_t since, int64_t until);

/* "since": "2026-01-01T00:00:00Z", "until": "..." (JSON members). */
void	out_json_window(FILE *f, int64_t since, int64_t until);

/* The text paragraph on conflicting copies (issue 8); nothing for 0. */
void	out_conflicts(FILE *f, int64_t conflicting);

#endif
