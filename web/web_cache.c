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

#include "log.h"
#include "overview.h"
#include "store.h"
#include "store_series.h"
#include "tlsrpt_limits.h"
#include "util.h"
#include "web_cache.h"
#include "web.h"
#include "web_html.h"

struct web_cache_ref {
	struct web_cache_ref	*next;
	int64_t			 since, until;
	struct store_stamp	 stamp;
	int64_t			 made;		/* monotonic seconds */
	int64_t			 used;		/* last asked for, the same */
	size_t			 bytes;
	unsigned		 refs;		/* requests, and the list */
	int			 listed;
	struct overview		 ov;
	/* the MTA-STS modes of the rows asked for so far (a page's), by
	 * row, under mlock: a row's, once known, never changes */
	pthread_mutex_t		 mlock;
	struct arena		 ma;
	struct web_row_modes	*rm;		/* ov.n */
};

struct body;

static pthread_mutex_t		 cache_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t		 compute_lock = PTHREAD_MUTEX_INITIALIZER;
static struct web_cache_ref	*head;
static size_t			 nentries, nbytes;
static uint64_t			 ncomputed, nhits;
static int64_t			 hold = LIM_WEB_CACHE_HOLD_SEC;
static struct body		*bhead;
static void			 body_unlist(struct body **);

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
	arena_free(&e->ma);
	free(e->rm);
	pthread_mutex_destroy(&e->mlock);
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
	return a->last_arrival == b->last_arrival && a->writes == b->writes &&
	    a->first_day == b->first_day;
}

/* The kept overview of the window that is still good, with a reference
 * for the caller, or NULL (a stale one is dropped). */
static struct web_cache_ref *
find_kept(int64_t since, int64_t until, const struct store_stamp *stamp)
{
	struct web_cache_ref	**pp, *e;
	int64_t			 now = mono();

	pthread_mutex_lock(&cache_lock);
	for (pp = &head; *pp != NULL; pp = &(*pp)->next) {
		e = *pp;
		if (e->since != since || e->until != until)
			continue;
		if ((!same_stamp(&e->stamp, stamp) && now - e->made >= hold) ||
		    now - e->made >= LIM_WEB_CACHE_MAX_AGE_SEC) {
			unlist(pp);
			break;
		}
		/* to the front */
		*pp = e->next;
		e->next = head;
		head = e;
		e->refs++;
		e->used = now;
		nhits++;
		pthread_mutex_unlock(&cache_lock);
		return e;
	}
	pthread_mutex_unlock(&cache_lock);
	return NULL;
}

/* Under compute_lock: the overview of the window from st, kept when it
 * fits, with the caller's reference. */
static int
compute(struct store *st, int64_t since, int64_t until,
    const struct store_stamp *stamp, const char *why,
    struct web_cache_ref **out)
{
	struct web_cache_ref	**pp, *e;
	struct store_window	 w;
	struct timespec		 t0, t1;
	char			 d1[UTIL_TIME_BUFSZ], d2[UTIL_TIME_BUFSZ];
	int			 rc;

	*out = NULL;
	if ((e = calloc(1, sizeof(*e))) == NULL)
		return -2;
	memset(&w, 0, sizeof(w));
	w.since = since;
	w.until = until;
	(void)clock_gettime(CLOCK_MONOTONIC, &t0);
	if ((rc = overview_compute(&e->ov, st, &w)) != 0 ||
	    (e->rm = calloc(e->ov.n + 1, sizeof(*e->rm))) == NULL) {
		overview_free(&e->ov);
		free(e);
		return rc != 0 ? rc : -2;
	}
	(void)clock_gettime(CLOCK_MONOTONIC, &t1);
	pthread_mutex_init(&e->mlock, NULL);
	e->since = since;
	e->until = until;
	e->stamp = *stamp;
	e->made = e->used = mono();
	/* and the modes, when every row's is known: a few per domain */
	e->bytes = overview_bytes(&e->ov) + sizeof(*e) + (e->ov.n + 1) *
	    (sizeof(*e->rm) + WEB_CACHE_MODE_BYTES);
	e->refs = 1;			/* the caller's */
	util_format_datetime(since, d1, sizeof(d1));
	util_format_datetime(until, d2, sizeof(d2));
	log_info("overview %s to %s: %zu domains computed in %lld ms%s", d1,
	    d2, e->ov.n, (long long)((t1.tv_sec - t0.tv_sec) * 1000 +
	    (t1.tv_nsec - t0.tv_nsec) / 1000000), why);

	pthread_mutex_lock(&cache_lock);
	ncomputed++;
	/* a stale copy of this window may still be listed */
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
	*out = e;
	return 0;
}

int
web_cache_overview(struct store *st, int64_t since, int64_t until,
    const struct overview **ov, struct web_cache_ref **ref)
{
	struct web_cache_ref	*e;
	struct store_stamp	 stamp;
	int			 rc;

	*ref = NULL;
	*ov = NULL;
	if (store_data_stamp(st, &stamp) == -1)
		return -1;
	if ((e = find_kept(since, until, &stamp)) == NULL) {
		/*
		 * One overview is computed at a time: the memory of one
		 * digest over every domain, however many windows are asked
		 * for at once; and a window many ask for at once is computed
		 * once (the others find it kept when their turn comes).
		 */
		pthread_mutex_lock(&compute_lock);
		if ((e = find_kept(since, until, &stamp)) == NULL &&
		    (rc = compute(st, since, until, &stamp, "", &e)) != 0) {
			pthread_mutex_unlock(&compute_lock);
			return rc;
		}
		pthread_mutex_unlock(&compute_lock);
	}
	*ref = e;
	*ov = &e->ov;
	return 0;
}

int
web_cache_modes(struct web_cache_ref *e, struct store *st,
    const struct overview_row *const *rows, size_t n,
    struct web_row_modes *out)
{
	struct store_sts_modes	 sm;
	struct store_window	 w;
	struct store_sts_mode	*v;
	const struct store_sts_mode *m;
	const char		**names = NULL;
	size_t			 i, k, nn = 0, idx, nm;
	int			 rc = -1;

	memset(&sm, 0, sizeof(sm));
	if ((names = calloc(n + 1, sizeof(*names))) == NULL)
		return -2;
	pthread_mutex_lock(&e->mlock);
	for (i = 0; i < n; i++)
		if (!e->rm[rows[i] - e->ov.rows].known)
			names[nn++] = rows[i]->name;
	pthread_mutex_unlock(&e->mlock);
	if (nn > 0) {
		memset(&w, 0, sizeof(w));
		w.since = e->since;
		w.until = e->until;
		w.domains = names;
		w.ndomains = nn;
		if (store_sts_modes(st, &w, &sm) == -1)
			goto out;
	}
	rc = -2;
	pthread_mutex_lock(&e->mlock);
	for (i = 0; i < n; i++) {
		idx = (size_t)(rows[i] - e->ov.rows);
		if (!e->rm[idx].known) {
			/* asked for above (or by another request meanwhile,
			 * which found the same) */
			m = overview_modes(&sm, rows[i]->name, &nm);
			v = NULL;
			if (nm > 0 && (v = arena_alloc(&e->ma, nm *
			    sizeof(*v))) == NULL) {
				pthread_mutex_unlock(&e->mlock);
				goto out;
			}
			for (k = 0; k < nm; k++) {
				v[k] = m[k];
				v[k].domain = rows[i]->name;
				if ((v[k].mode = arena_strndup(&e->ma,
				    m[k].mode, strlen(m[k].mode))) == NULL) {
					pthread_mutex_unlock(&e->mlock);
					goto out;
				}
			}
			e->rm[idx].v = v;
			e->rm[idx].n = nm;
			e->rm[idx].known = 1;
		}
		out[i] = e->rm[idx];
	}
	pthread_mutex_unlock(&e->mlock);
	rc = 0;
 out:
	store_series_free(&sm.a);
	free(names);
	return rc;
}

/*
 * Under the lock: a kept window to compute again ahead of the requests
 * that use it: asked for within the longest age, and either from older
 * data for half the hold already (so the new copy lands about when the
 * hold would end) or near the longest age.
 */
static int
due(const struct web_cache_ref *e, const struct store_stamp *stamp,
    int64_t now)
{
	int64_t	age = now - e->made;

	if (now - e->used >= LIM_WEB_CACHE_MAX_AGE_SEC)
		return 0;
	if (!same_stamp(&e->stamp, stamp) && age >= hold / 2)
		return 1;
	return age >= LIM_WEB_CACHE_MAX_AGE_SEC - 2 *
	    LIM_WEB_CACHE_REFRESH_SEC;
}

int
web_cache_refresh(struct store *st, int64_t wall)
{
	struct store_stamp	 stamp;
	struct web_cache_ref	*e, *got;
	int64_t			 since[LIM_WEB_CACHE_WINDOWS + 1];
	int64_t			 until[LIM_WEB_CACHE_WINDOWS + 1], now, dsince;
	int64_t			 duntil;
	size_t			 n = 0, i;
	int			 rc, done = 0, seen = 0;

	pthread_mutex_lock(&cache_lock);
	rc = hold == 0;
	pthread_mutex_unlock(&cache_lock);
	if (rc)
		return 0;	/* no hold: every answer on demand */
	if (store_data_stamp(st, &stamp) == -1)
		return -1;
	now = mono();
	/* the overview's default window: kept ready */
	web_window_default(wall, &dsince, &duntil);
	pthread_mutex_lock(&cache_lock);
	for (e = head; e != NULL && n < LIM_WEB_CACHE_WINDOWS; e = e->next) {
		if (e->since == dsince && e->until == duntil) {
			seen = 1;
			e->used = now;	/* always as in use */
		}
		if (due(e, &stamp, now)) {
			since[n] = e->since;
			until[n] = e->until;
			n++;
		}
	}
	pthread_mutex_unlock(&cache_lock);
	if (!seen) {
		since[n] = dsince;
		until[n] = duntil;
		n++;
	}
	for (i = 0; i < n; i++) {
		pthread_mutex_lock(&compute_lock);
		/* a request may have made it meanwhile */
		rc = 0;
		got = NULL;
		pthread_mutex_lock(&cache_lock);
		for (e = head; e != NULL; e = e->next)
			if (e->since == since[i] && e->until == until[i])
				break;
		if (e != NULL && due(e, &stamp, mono()))
			e = NULL;
		pthread_mutex_unlock(&cache_lock);
		if (e == NULL && (rc = compute(st, since[i], until[i], &stamp,
		    since[i] == dsince && until[i] == duntil ?
		    " (refreshed ahead: the default window)" :
		    " (refreshed ahead)", &got)) == 0) {
			web_cache_put(got);
			done++;
		}
		pthread_mutex_unlock(&compute_lock);
		if (rc != 0)
			return rc;
	}
	return done;
}

void
web_cache_set_hold(unsigned sec)
{
	pthread_mutex_lock(&cache_lock);
	hold = sec;
	pthread_mutex_unlock(&cache_lock);
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
	while (bhead != NULL)
		body_unlist(&bhead);
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

/* --- answers kept whole ----------------------------------------------- */

struct body {
	struct body		*next;
	char			*key;
	struct store_stamp	 stamp;
	int64_t			 made;
	const char		*ctype;		/* a literal */
	unsigned char		*data;
	size_t			 len;
};

static size_t		 nbodies, nbbytes;

static size_t
body_bytes(const struct body *b)
{
	return sizeof(*b) + strlen(b->key) + 1 + b->len;
}

/* Under the lock. */
static void
body_unlist(struct body **pp)
{
	struct body	*b = *pp;

	*pp = b->next;
	nbodies--;
	nbbytes -= body_bytes(b);
	free(b->key);
	free(b->data);
	free(b);
}

int
web_cache_page_get(const char *key, const struct store_stamp *stamp,
    struct page *p)
{
	struct body	**pp, *b;
	int64_t		 now = mono();
	int		 rc = 0;

	pthread_mutex_lock(&cache_lock);
	for (pp = &bhead; *pp != NULL; pp = &(*pp)->next) {
		b = *pp;
		if (strcmp(b->key, key) != 0)
			continue;
		if ((!same_stamp(&b->stamp, stamp) && now - b->made >= hold) ||
		    now - b->made >= LIM_WEB_CACHE_MAX_AGE_SEC) {
			body_unlist(pp);
			break;
		}
		*pp = b->next;
		b->next = bhead;
		bhead = b;
		p->ctype = b->ctype;
		h_raw_n(p, (const char *)b->data, b->len);
		nhits++;
		rc = 1;
		break;
	}
	pthread_mutex_unlock(&cache_lock);
	return rc;
}

void
web_cache_page_put(const char *key, const struct store_stamp *stamp,
    const struct page *p)
{
	struct body	*b, **pp, **last;

	if (p->err || p->status != 200 || p->b.len > LIM_WEB_CACHE_PAGE_BYTES)
		return;
	if ((b = calloc(1, sizeof(*b))) == NULL)
		return;
	if ((b->key = strdup(key)) == NULL || (p->b.len > 0 &&
	    (b->data = malloc(p->b.len)) == NULL)) {
		free(b->key);
		free(b);
		return;
	}
	if (p->b.len > 0)
		memcpy(b->data, p->b.data, p->b.len);
	b->len = p->b.len;
	b->stamp = *stamp;
	b->made = mono();
	b->ctype = p->ctype;
	pthread_mutex_lock(&cache_lock);
	ncomputed++;
	for (pp = &bhead; *pp != NULL; pp = &(*pp)->next)
		if (strcmp((*pp)->key, key) == 0) {
			body_unlist(pp);
			break;
		}
	b->next = bhead;
	bhead = b;
	nbodies++;
	nbbytes += body_bytes(b);
	while (nbodies > LIM_WEB_CACHE_PAGES ||
	    nbbytes > LIM_WEB_CACHE_PAGE_BYTES) {
		last = NULL;
		for (pp = &bhead; *pp != NULL; pp = &(*pp)->next)
			last = pp;
		if (last == NULL)
			break;
		body_unlist(last);
	}
	pthread_mutex_unlock(&cache_lock);
}

void
web_cache_pages_clear(void)
{
	pthread_mutex_lock(&cache_lock);
	while (bhead != NULL)
		body_unlist(&bhead);
	pthread_mutex_unlock(&cache_lock);
}
