/*
 * web_cache.c -- the overviews kept between requests (web_cache.h).
 *
 * A list, most recently used first, under one mutex; each entry counts
 * the requests using it, so that one dropped (stale, or pushed out) while
 * a page prints it is freed by the last web_cache_put().  The data stamp
 * is read before the overview is computed: data landing in between makes
 * the next stamp differ, so a copy is never newer than its stamp says.
 *
 * Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
 */

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "overview.h"
#include "store.h"
#include "store_series.h"
#include "tlsrpt_limits.h"
#include "web_cache.h"

struct web_cache_ref {
	struct web_cache_ref	*next;
	int64_t			 since, until;
	struct store_stamp	 stamp;
	int64_t			 made;		/* monotonic seconds */
	size_t			 bytes;
	unsigned		 refs;		/* requests, and the list */
	int			 listed;
	struct overview		 ov;
};

static pthread_mutex_t		 cache_lock = PTHREAD_MUTEX_INITIALIZER;
static struct web_cache_ref	*head;
static size_t			 nentries, nbytes;
static uint64_t			 ncomputed, nhits;

static int64_t
mono(void)
{
	struct timespec	ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) == -1)
		return 0;
	return (int64_t)ts.tv_sec;
}

/* Under the lock: one reference less; the last frees it. */
static void
unref(struct web_cache_ref *e)
{
	if (--e->refs > 0)
		return;
	overview_free(&e->ov);
	free(e);
}

/* Under the lock: take e off the list (pp points at the link to it). */
static void
unlist(struct web_cache_ref **pp)
{
	struct web_cache_ref	*e = *pp;

	*pp = e->next;
	e->next = NULL;
	e->listed = 0;
	nentries--;
	nbytes -= e->bytes;
	unref(e);
}

/* Under the lock: drop the least recently used while over a bound. */
static void
trim(void)
{
	struct web_cache_ref	**pp, **last;

	while (nentries > LIM_WEB_CACHE_WINDOWS ||
	    nbytes > LIM_WEB_CACHE_BYTES) {
		last = NULL;
		for (pp = &head; *pp != NULL; pp = &(*pp)->next)
			last = pp;
		if (last == NULL)
			break;
		unlist(last);
	}
}

static int
same_stamp(const struct store_stamp *a, const struct store_stamp *b)
{
	return a->last_arrival == b->last_arrival &&
	    a->first_day == b->first_day;
}

int
web_cache_overview(struct store *st, int64_t since, int64_t until,
    const struct overview **ov, struct web_cache_ref **ref)
{
	struct web_cache_ref	**pp, *e;
	struct store_stamp	 stamp;
	struct store_window	 w;
	int64_t			 now = mono();
	int			 rc;

	*ref = NULL;
	*ov = NULL;
	if (store_data_stamp(st, &stamp) == -1)
		return -1;
	pthread_mutex_lock(&cache_lock);
	for (pp = &head; *pp != NULL; pp = &(*pp)->next) {
		e = *pp;
		if (e->since != since || e->until != until)
			continue;
		if (!same_stamp(&e->stamp, &stamp) ||
		    now - e->made >= LIM_WEB_CACHE_MAX_AGE_SEC) {
			unlist(pp);
			break;
		}
		/* to the front */
		*pp = e->next;
		e->next = head;
		head = e;
		e->refs++;
		nhits++;
		pthread_mutex_unlock(&cache_lock);
		*ref = e;
		*ov = &e->ov;
		return 0;
	}
	pthread_mutex_unlock(&cache_lock);

	if ((e = calloc(1, sizeof(*e))) == NULL)
		return -2;
	memset(&w, 0, sizeof(w));
	w.since = since;
	w.until = until;
	if ((rc = overview_compute(&e->ov, st, &w)) != 0) {
		overview_free(&e->ov);
		free(e);
		return rc;
	}
	e->since = since;
	e->until = until;
	e->stamp = stamp;
	e->made = now;
	e->bytes = overview_bytes(&e->ov) + sizeof(*e);
	e->refs = 1;			/* the caller's */

	pthread_mutex_lock(&cache_lock);
	ncomputed++;
	/* another request may have kept this window meanwhile */
	for (pp = &head; *pp != NULL; pp = &(*pp)->next)
		if ((*pp)->since == since && (*pp)->until == until) {
			unlist(pp);
			break;
		}
	if (e->bytes <= LIM_WEB_CACHE_BYTES) {
		e->refs++;		/* the list's */
		e->listed = 1;
		e->next = head;
		head = e;
		nentries++;
		nbytes += e->bytes;
		trim();
	}
	pthread_mutex_unlock(&cache_lock);
	*ref = e;
	*ov = &e->ov;
	return 0;
}

void
web_cache_put(struct web_cache_ref *e)
{
	if (e == NULL)
		return;
	pthread_mutex_lock(&cache_lock);
	unref(e);
	pthread_mutex_unlock(&cache_lock);
}

void
web_cache_clear(void)
{
	pthread_mutex_lock(&cache_lock);
	while (head != NULL)
		unlist(&head);
	pthread_mutex_unlock(&cache_lock);
}

void
web_cache_counts(uint64_t *computed, uint64_t *hits)
{
	pthread_mutex_lock(&cache_lock);
	*computed = ncomputed;
	*hits = nhits;
	pthread_mutex_unlock(&cache_lock);
}
