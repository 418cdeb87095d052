/*
 * overview.h -- the model of the dashboard's overview: one row per
 * domain with the digest model's figures (status, reports, reporters,
 * sessions, failure rate, readiness verdict), compact enough to be kept
 * between requests (web/web_cache.c), and the MTA-STS modes the
 * reporters applied.  Computed here from digest_compute(); the page only
 * prints it.
 *
 * Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
 */

#ifndef TLSRPT_OVERVIEW_H
#define TLSRPT_OVERVIEW_H

#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "store.h"
#include "store_series.h"

struct overview_row {
	const char	*name;		/* "" for unknown */
	int		 status;	/* digest_status */
	int		 verdict;	/* enum rd_verdict, -1: not testing */
	int64_t		 reports;
	int64_t		 reporters;
	int64_t		 sessions;	/* model_sessions() */
	int64_t		 successful;
	int64_t		 failed;
	double		 frate;		/* model_failure_rate() */
};

struct overview {
	struct arena		 a;	/* the names and the rows */
	int64_t			 since, until;
	struct overview_row	*rows;	/* as the digest orders them */
	size_t			 n;
};

/*
 * The overview of win (every domain, or those of win->domains) from st
 * into ov (the caller's, released with overview_free() also on failure).
 * Each row is the digest's (digest_compute()) for the domain, which does
 * not depend on what other domains are asked for.  Returns 0, -1 with
 * store_errstr(st) saying why, or -2 when out of memory.
 */
int	overview_compute(struct overview *ov, struct store *st,
	    const struct store_window *win);
void	overview_free(struct overview *);

/* The bytes ov holds (for a cache's bound). */
size_t	overview_bytes(const struct overview *);

/*
 * The MTA-STS modes the reports of domain applied: the run of m (from
 * store_sts_modes() over the window, sorted by domain) that is domain's,
 * most reports first; *n is 0 when its reports carried no sts policy.
 */
const struct store_sts_mode *overview_modes(const struct store_sts_modes *m,
	    const char *domain, size_t *n);

/* A mode as shown: "enforce", "testing", "none", "(none)" for a policy
 * without a mode. */
const char	*overview_mode_str(const char *mode);

#endif
