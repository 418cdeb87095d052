/*
 * web_cache.h -- the overview of a window kept between requests: the
 * digest model over every domain is the dashboard's one expensive
 * answer, and it depends only on the window and the data.
 *
 * Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
 */

#ifndef TLSRPT_WEB_CACHE_H
#define TLSRPT_WEB_CACHE_H

#include <stdint.h>

#include "overview.h"
#include "store.h"
#include "store_series.h"
#include "web_html.h"

struct web_cache_ref;

/* The MTA-STS modes of one overview row (overview_modes()). */
struct web_row_modes {
	const struct store_sts_mode	*v;	/* most reports first */
	size_t				 n;
	int				 known;
};
/* The bytes the modes of a domain take, for the bound: about two. */
#define WEB_CACHE_MODE_BYTES	(2 * (sizeof(struct store_sts_mode) + 8))

/*
 * The overview of every domain over [since, until), computed from st
 * (overview_compute()) or a kept copy that is still good: made less than
 * LIM_WEB_CACHE_MAX_AGE_SEC ago, and from the same data
 * (store_data_stamp() unchanged) or less than the hold ago
 * (web_cache_set_hold(), --cache-hold: at a steady arrival of reports
 * the copy is made again at most once per hold).  One overview is
 * computed at a time, each logged with its time; a request that waited
 * for another's takes the copy it made.  At most LIM_WEB_CACHE_WINDOWS windows
 * and LIM_WEB_CACHE_BYTES are kept, the least recently used dropped
 * first.  The answer is shared and read only; the caller gives it back
 * with web_cache_put(*ref) (a copy dropped meanwhile lives until then).
 * Returns 0 with *ov set, -1 with store_errstr(st) saying why, or -2
 * when out of memory.  Thread safe.
 */
int	web_cache_overview(struct store *st, int64_t since, int64_t until,
	    const struct overview **ov, struct web_cache_ref **ref);
void	web_cache_put(struct web_cache_ref *);

/*
 * The MTA-STS modes of rows[0..n) (rows of the overview ref holds) into
 * out[0..n): those not asked for before are read from st
 * (store_sts_modes() over the overview's window, for just those
 * domains) and kept with the overview.  out points into ref, valid until
 * web_cache_put(ref).  0, -1 (store_errstr(st)), -2 out of memory.
 */
int	web_cache_modes(struct web_cache_ref *ref, struct store *st,
	    const struct overview_row *const *rows, size_t n,
	    struct web_row_modes *out);

/*
 * Whole answers kept under key (which names the user, the page and its
 * every parameter): web_cache_page_get() appends the body of the answer
 * kept for key and still good (as above: the stamp, the hold, the age)
 * to p (and sets its type) and returns 1,
 * or returns 0; web_cache_page_put() keeps a copy of p when it is a
 * whole 200 answer.  At most LIM_WEB_CACHE_PAGES answers and
 * LIM_WEB_CACHE_PAGE_BYTES, the least recently used dropped first.
 * web_cache_pages_clear() drops them all: the users changed (SIGHUP).
 */
int	web_cache_page_get(const char *key, const struct store_stamp *stamp,
	    struct page *p);
void	web_cache_page_put(const char *key, const struct store_stamp *stamp,
	    const struct page *p);
void	web_cache_pages_clear(void);

/*
 * Compute again, from st, the kept overviews that requests will soon find
 * stale: those asked for within LIM_WEB_CACHE_MAX_AGE_SEC whose data
 * changed half a hold ago or more, or that near that age; and keep the
 * overview's default window (the last LIM_WEB_WINDOW_DAYS_DEFAULT days
 * to the end of today, wall the time(NULL) of now) ready whether asked
 * for or not: made when missing (at start, at midnight UTC), made again
 * a hold after its data changed.  tlsrpt-web's refresher thread calls it
 * every LIM_WEB_CACHE_REFRESH_SEC, so that a window in use is recomputed
 * before its hold ends instead of in the request that finds it stale.
 * Nothing with a hold of 0 (every answer on demand).  Returns the
 * windows computed, or -1 (store_errstr(st)), -2 out of memory.
 */
int	web_cache_refresh(struct store *st, int64_t wall);

/* --cache-hold: seconds a kept answer is used after new data landed
 * (at most LIM_WEB_CACHE_MAX_AGE_SEC; default LIM_WEB_CACHE_HOLD_SEC). */
void	web_cache_set_hold(unsigned sec);

/* Drop every kept copy (at exit, for the leak checker). */
void	web_cache_clear(void);

/* For tests and /metrics: overviews computed, and answered kept. */
void	web_cache_counts(uint64_t *computed, uint64_t *hits);

#endif
