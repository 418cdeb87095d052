/*
 * digest.h -- the model of `tlsrpt digest`: per policy domain, this
 * period against the previous one of the same length, with a status.
 * Computed once here (digest.c); rendered by digest_text.c and
 * digest_html.c, and put in a mail message by digest_mime.c.
 *
 * Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
 */

#ifndef TLSRPT_DIGEST_H
#define TLSRPT_DIGEST_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "readiness.h"
#include "store.h"

#define DIGEST_DAY_SECONDS	86400
#define DIGEST_TOP_MAX		5	/* top failures per domain */
#define DIGEST_OK_LIST_MAX	500	/* quiet OK domains listed */
#define DIGEST_READY_DAYS	14	/* window of the readiness verdict */

enum digest_status { DG_OK = 0, DG_WARNING, DG_CRITICAL };

/* Everything the digest says about one domain; pointers are borrowed
 * from the struct digest that holds it. */
struct digest_domain {
	const char				*name;
	const struct store_domain_summary	*cur;	/* NULL: no reports */
	const struct store_domain_summary	*prev;
	const struct store_fail_mx		*fails;	/* this period */
	size_t					 nfails;
	const struct store_fail_mx		*pfails; /* previous */
	size_t					 npfails;
	const struct store_reporter_days	*rdays;
	size_t					 nrdays;
	const struct store_reporter_days	*prdays;
	size_t					 nprdays;
	const struct store_readiness		*rd;	/* NULL: no testing */
	struct rd_eval				 ev;
	int					 status;	/* digest_status */
	int					 notable; /* more than a row */
};

struct digest {
	int64_t				 since, until;	/* this period */
	int64_t				 prev_since;	/* [prev_since, since) */
	struct store_domain_summary	*cur, *prev;
	size_t				 ncur, nprev;
	struct store_digest_data	 dcur, dprev;
	struct store_readiness		*rd;
	size_t				 nrd;
	struct digest_domain		*doms;	/* worst status first */
	size_t				 ndoms;
	int				 worst;		/* digest_status */
	size_t				 count[3];	/* domains per status */
};

/*
 * Load and compute the digest of win (a window of known length) from st
 * into dg, which the caller owns and releases with digest_free() also on
 * failure.  Returns 0, -1 with store_errstr(st) saying why, or -2 when
 * out of memory.
 */
int	digest_compute(struct digest *dg, struct store *st,
	    const struct store_window *win);
void	digest_free(struct digest *);

/* "OK", "WARNING", "CRITICAL". */
const char	*digest_status_str(int);

/* Sessions and failure rate of a summary; 0 for NULL. */
int64_t	digest_sessions(const struct store_domain_summary *);
double	digest_frate(const struct store_domain_summary *);

/* 1 when reporter d->prdays[i] went silent: it reported on more than
 * half the previous period's days and on none of this one. */
int	digest_silent(const struct digest *, const struct digest_domain *d,
	    size_t i);

/* 1 when d->cur->rts[i] failed now and not in the previous period. */
int	digest_new_rt(const struct digest_domain *d, size_t i);

/* 1 when d->fails[i].mx fails now, in no row before i, nor before. */
int	digest_new_mx(const struct digest_domain *d, size_t i);

/* "2026-03-08" or "2026-03-02 to 2026-03-08": the days of [since, until). */
void	digest_period(FILE *, int64_t since, int64_t until);

/* The two views, written to f. */
void	digest_text(const struct digest *, FILE *f);
void	digest_html(const struct digest *, FILE *f);

/* What the mail message says besides the digest. */
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

#endif
