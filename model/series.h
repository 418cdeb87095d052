/*
 * series.h -- the dashboard's day-by-day models over the store's series
 * (store/store_series.h): one row per day of the window for a domain,
 * with the sessions and failure rate of the digest model's rule
 * (digest_sessions(), digest_frate()), failed sessions by result type
 * per day, and the reporters x days coverage grid.
 *
 * Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
 */

#ifndef TLSRPT_SERIES_H
#define TLSRPT_SERIES_H

#include <stddef.h>
#include <stdint.h>

#include "store_series.h"

#define SERIES_DAY_SECONDS	86400

struct series_day {
	int64_t		 day;		/* 00:00 UTC */
	int64_t		 reports;
	int64_t		 successful;
	int64_t		 failed;
	int64_t		 sessions;	/* digest_sessions() */
	double		 frate;		/* digest_frate() */
};

/* Failed sessions of one result type, per day of the window. */
struct series_rt {
	const char	*result_type;	/* borrowed from the store answer */
	int64_t		*failed;	/* ndays */
	int64_t		 total;
};

/* Reports of one reporter, per day of the window. */
struct series_reporter {
	const char	*reporter;	/* borrowed */
	int64_t		*reports;	/* ndays */
	int64_t		 days;		/* days with a report */
	int64_t		 last_day;	/* -1: none */
};

struct series {
	int64_t			 since;		/* first day, 00:00 UTC */
	size_t			 ndays;
	struct series_day	*days;
	struct series_rt	*rts;		/* most failed first */
	size_t			 nrts;
	struct series_reporter	*reps;		/* by name */
	size_t			 nreps;
};

/* The number of days of [since, until) counted from since's day. */
size_t	series_ndays(int64_t since, int64_t until);

/*
 * The series of domain over [since, until) from s (borrowed: the strings
 * stay its).  out is the caller's, released with series_free() also on
 * failure.  Returns 0, or -1 when out of memory.
 */
int	series_build(const struct store_series *s, const char *domain,
	    int64_t since, int64_t until, struct series *out);
void	series_free(struct series *);

#endif
