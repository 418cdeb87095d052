/*
 * core_worker.c -- the ingest worker thread: spool new/ into PostgreSQL.
 *
 * Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
 *
 * A round lists the oldest files of new/, parses them one by one and
 * stores the reports in batches with store_put_reports() (as `tlsrpt
 * import` does).  A file is removed only after the call that stored it
 * returned, so a crash at any point leaves it in new/ and the next run
 * stores it again, which the store absorbs as a duplicate.  What can
 * never be stored is recorded in the database as a rejection, then moved
 * to bad/ beside its reason.  While the database is unreachable, or not
 * usable (not migrated, read-only, timing out, refusing a privilege: any
 * error but a fact about the report, see store_err_class()), the files
 * stay and the worker waits 1 s, 2 s, 4 s, ... up to backoff_max_s
 * between attempts, on a new connection each time.  "Can never be
 * stored" is the exception, never the default: a file moves to bad/ only
 * when the database said the report itself is at fault (SQLSTATE classes
 * 22, 23) or ingest refused it, and only once the rejection is recorded
 * in tlsrpt.rejection.
 *
 * Under load the rounds are made to be big: a round that found fewer
 * than batch_max files in new/ is followed by a short wait (linger()) for
 * more while worker_kick() keeps announcing them: a transaction of a few
 * reports costs the database nearly as much as one of hundreds.  A round
 * lists up to WORKER_LIST_MAX files, so a backlog of many thousands is
 * read from the directory a few times, not once per batch.  One ingest
 * parser is reused for every file.
 *
 * Locking: mtx guards stopping, kicks, kick_want and stats; everything
 * else in struct worker belongs to the worker thread once it runs.
 */

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ingest.h"
#include "core_spool.h"
#include "store.h"
#include "tlsrpt_limits.h"
#include "core_worker.h"

#define WORKER_LIST_MAX	8192	/* files listed per round */
#define WORKER_LINGER_MS 500	/* at most, for more after a short round */
#define WORKER_LINGER_STEP_MS 50	/* ends when a step brings nothing */
#define KICK_NEVER	((size_t)-1)	/* a wait worker_kick() never ends */

/* What a round or a step ended with. */
#define W_OK		0
#define W_DBDOWN	(-1)	/* database unreachable: back off, reconnect */
#define W_LOCAL		(-2)	/* a local problem: back off, keep the db */

/* Kinds of rejection besides enum ingest_status. */
#define REJ_REFUSED	(-1)
#define REJ_UNREADABLE	(-2)
#define REJ_FRONT	(-3)	/* the front-end said so: "x-reject" */

struct witem {
	char			 name[SPOOL_NAME_MAX];
	struct spool_file	 f;	/* owned; data freed once parsed */
	struct tlsrpt_report	*rep;	/* owned */
};

struct worker {
	struct spool		*sp;		/* borrowed */
	char			*conninfo;	/* owned; NULL: TLSRPT_DB */
	struct ingest_limits	 lim;
	size_t			 batch_max;
	unsigned		 backoff_max_s;
	unsigned		 rescan_s;
	size_t			 payload_max;

	pthread_t		 thread;
	pthread_mutex_t		 mtx;
	pthread_cond_t		 cond;		/* CLOCK_MONOTONIC */
	int			 stopping;	/* under mtx */
	size_t			 kicks;		/* under mtx: since round */
	size_t			 kick_want;	/* under mtx: kicks that wake */
	struct worker_stats	 stats;		/* under mtx */

	/* the worker thread's own */
	struct store		*st;
	struct ingest_parser	*parser;
	int			 short_round;	/* new/ had < batch_max */
	struct witem		*items;		/* batch_max of them */
	size_t			 nitems;
	size_t			 bytes;		/* JSON held by items */
	size_t			 progress;	/* files removed or moved */
	struct tlsrpt_report	**reps;
	struct store_arrival	*arr;
	enum store_outcome	*out;
};

static void	*worker_main(void *);
static int	 db_connect(struct worker *);
static void	 db_down(struct worker *, enum store_err_class, const char *);
static void	 db_fine(struct worker *);
static int	 record_rejection(struct worker *, const struct store_arrival *,
		    const char *, const unsigned char *, size_t);
static int	 drain(struct worker *);
static int	 take(struct worker *, const char *);
static int	 flush(struct worker *);
static int	 reject(struct worker *, const char *,
		    const struct store_arrival *, const unsigned char *,
		    size_t, int, const char *);
static void	 items_free(struct worker *);
static int	 is_stopping(struct worker *);
static void	 wait_for(struct worker *, unsigned long, size_t);
static void	 linger(struct worker *);
static void	 set_error(struct worker *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));
static const char *extra_value(const struct spool_file *, const char *);

struct worker *
worker_start(struct spool *sp, const struct worker_conf *conf, char *err,
    size_t errsz)
{
	static const struct ingest_limits	 zero;
	struct worker		*w = NULL;
	pthread_condattr_t	 ca;
	sigset_t		 all, old;
	int			 e, have_mtx = 0, have_cond = 0;

	if (err != NULL && errsz > 0)
		err[0] = '\0';
	if (sp == NULL || conf == NULL) {
		e = EINVAL;
		goto fail;
	}
	if ((w = calloc(1, sizeof(*w))) == NULL) {
		e = errno;
		goto fail;
	}
	w->sp = sp;
	if (conf->conninfo != NULL &&
	    (w->conninfo = strdup(conf->conninfo)) == NULL) {
		e = errno;
		goto fail;
	}
	w->lim = conf->lim;
	if (memcmp(&w->lim, &zero, sizeof(zero)) == 0)
		ingest_limits_default(&w->lim);
	w->payload_max = ingest_input_max(&w->lim);
	w->batch_max = conf->batch_max ? conf->batch_max :
	    WORKER_BATCH_DEFAULT;
	if (w->batch_max > WORKER_BATCH_MAX)
		w->batch_max = WORKER_BATCH_MAX;
	w->backoff_max_s = conf->backoff_max_s ? conf->backoff_max_s :
	    WORKER_BACKOFF_DEFAULT_S;
	w->rescan_s = conf->rescan_s ? conf->rescan_s :
	    WORKER_RESCAN_DEFAULT_S;
	if ((w->items = calloc(w->batch_max, sizeof(*w->items))) == NULL ||
	    (w->reps = calloc(w->batch_max, sizeof(*w->reps))) == NULL ||
	    (w->arr = calloc(w->batch_max, sizeof(*w->arr))) == NULL ||
	    (w->out = calloc(w->batch_max, sizeof(*w->out))) == NULL) {
		e = errno;
		goto fail;
	}
	if ((w->parser = ingest_parser_new(&w->lim)) == NULL) {
		e = ENOMEM;
		goto fail;
	}
	w->kick_want = KICK_NEVER;
	if ((e = pthread_mutex_init(&w->mtx, NULL)) != 0)
		goto fail;
	have_mtx = 1;
	if ((e = pthread_condattr_init(&ca)) != 0)
		goto fail;
	if ((e = pthread_condattr_setclock(&ca, CLOCK_MONOTONIC)) == 0)
		e = pthread_cond_init(&w->cond, &ca);
	pthread_condattr_destroy(&ca);
	if (e != 0)
		goto fail;
	have_cond = 1;

	/* the thread inherits a full mask: signals are the main thread's */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	e = pthread_create(&w->thread, NULL, worker_main, w);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (e != 0)
		goto fail;
	return w;
 fail:
	if (err != NULL)
		snprintf(err, errsz, "ingest worker: cannot start: %s",
		    strerror(e));
	if (w != NULL) {
		if (have_cond)
			pthread_cond_destroy(&w->cond);
		if (have_mtx)
			pthread_mutex_destroy(&w->mtx);
		ingest_parser_free(w->parser);
		free(w->out);
		free(w->arr);
		free(w->reps);
		free(w->items);
		free(w->conninfo);
		free(w);
	}
	errno = e;
	return NULL;
}

void
worker_kick(struct worker *w)
{
	if (w == NULL)
		return;
	pthread_mutex_lock(&w->mtx);
	if (++w->kicks >= w->kick_want)
		pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&w->mtx);
}

void
worker_wake(void *w)
{
	worker_kick(w);
}

void
worker_stop(struct worker *w)
{
	if (w == NULL)
		return;
	pthread_mutex_lock(&w->mtx);
	w->stopping = 1;
	pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&w->mtx);
	pthread_join(w->thread, NULL);
	pthread_cond_destroy(&w->cond);
	pthread_mutex_destroy(&w->mtx);
	ingest_parser_free(w->parser);
	free(w->out);
	free(w->arr);
	free(w->reps);
	free(w->items);
	free(w->conninfo);
	free(w);
}

void
worker_get_stats(struct worker *w, struct worker_stats *s)
{
	if (w == NULL) {
		memset(s, 0, sizeof(*s));
		return;
	}
	pthread_mutex_lock(&w->mtx);
	*s = w->stats;
	pthread_mutex_unlock(&w->mtx);
}

static void *
worker_main(void *arg)
{
	struct worker	*w = arg;
	unsigned	 delay = 1;
	int		 r;

	if (spool_clean_tmp(w->sp, (int64_t)time(NULL),
	    WORKER_TMP_STALE_S) == -1)
		set_error(w, "spool: cannot clean tmp/: %s", strerror(errno));
	while (!is_stopping(w)) {
		if (w->st == NULL && db_connect(w) == -1)
			r = W_DBDOWN;
		else
			r = drain(w);
		if (r == W_DBDOWN || r == W_LOCAL) {
			if (r == W_DBDOWN) {
				store_close(w->st);
				w->st = NULL;
			}
			wait_for(w, delay * 1000UL, KICK_NEVER);
			delay = delay * 2 > w->backoff_max_s ?
			    w->backoff_max_s : delay * 2;
			continue;
		}
		delay = 1;
		db_fine(w);
		if (r == 0)			/* new/ was empty */
			wait_for(w, w->rescan_s * 1000UL, 1);
		else if (w->short_round)	/* let a batch gather */
			linger(w);
	}
	store_close(w->st);
	w->st = NULL;
	return NULL;
}

static int
is_stopping(struct worker *w)
{
	int	s;

	pthread_mutex_lock(&w->mtx);
	s = w->stopping;
	pthread_mutex_unlock(&w->mtx);
	return s;
}

/* Sleep ms milliseconds, or until worker_stop(), or until kicks
 * worker_kick() calls were counted since the last round began (those
 * that came while busy count: the wait may end at once); KICK_NEVER:
 * kicks do not end it. */
static void
wait_for(struct worker *w, unsigned long ms, size_t kicks)
{
	struct timespec	until;

	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += (time_t)(ms / 1000);
	until.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&w->mtx);
	w->kick_want = kicks;
	while (!w->stopping && w->kicks < kicks)
		if (pthread_cond_timedwait(&w->cond, &w->mtx, &until) ==
		    ETIMEDOUT)
			break;
	w->kick_want = KICK_NEVER;
	pthread_mutex_unlock(&w->mtx);
}

/*
 * After a round that found few files: wait while reports keep coming
 * (announced by worker_kick()), until batch_max of them came or
 * WORKER_LINGER_MS passed, but no longer than a step once they stop, so
 * that the last reports of a burst are not held back.
 */
static void
linger(struct worker *w)
{
	unsigned long	waited;
	size_t		last, k;
	int		stop;

	pthread_mutex_lock(&w->mtx);
	last = w->kicks;
	pthread_mutex_unlock(&w->mtx);
	for (waited = 0; waited < WORKER_LINGER_MS;
	    waited += WORKER_LINGER_STEP_MS) {
		wait_for(w, WORKER_LINGER_STEP_MS, w->batch_max);
		pthread_mutex_lock(&w->mtx);
		k = w->kicks;
		stop = w->stopping;
		pthread_mutex_unlock(&w->mtx);
		if (stop || k >= w->batch_max || k == last)
			break;
		last = k;
	}
}

static void
set_error(struct worker *w, const char *fmt, ...)
{
	va_list	ap;
	char	*p;

	pthread_mutex_lock(&w->mtx);
	va_start(ap, fmt);
	vsnprintf(w->stats.last_error, sizeof(w->stats.last_error), fmt, ap);
	va_end(ap);
	for (p = w->stats.last_error; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = ' ';
	w->stats.last_error_at = (int64_t)time(NULL);
	pthread_mutex_unlock(&w->mtx);
}

/* Count a failed contact with the database, of class c, and say why. */
static void
db_down(struct worker *w, enum store_err_class c, const char *why)
{
	char	*p;

	/* a rejection refused as data twice is no fact about a report */
	if ((unsigned)c >= STORE_EC_N || c == STORE_EC_NONE ||
	    c == STORE_EC_REPORT)
		c = STORE_EC_OTHER;
	set_error(w, "%s", why);
	pthread_mutex_lock(&w->mtx);
	w->stats.db_up = 0;
	w->stats.db_errors++;
	w->stats.db_errors_by[c]++;
	w->stats.db_error_class = (int)c;
	snprintf(w->stats.db_last_error, sizeof(w->stats.db_last_error),
	    "%s", why);
	for (p = w->stats.db_last_error; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = ' ';
	w->stats.db_last_error_at = (int64_t)time(NULL);
	pthread_mutex_unlock(&w->mtx);
}

/* A round went through: the database is usable again. */
static void
db_fine(struct worker *w)
{
	pthread_mutex_lock(&w->mtx);
	w->stats.db_up = 1;
	w->stats.db_error_class = STORE_EC_NONE;
	pthread_mutex_unlock(&w->mtx);
}

static int
db_connect(struct worker *w)
{
	enum store_err_class	c;
	char			err[256], why[512];

	if ((w->st = store_open(w->conninfo, err, sizeof(err))) == NULL) {
		db_down(w, STORE_EC_CONNECTION, err);
		return -1;
	}
	if (store_check_schema(w->st) == -1) {
		snprintf(why, sizeof(why), "database not ready (run tlsrpt "
		    "migrate): %s", store_errstr(w->st));
		if ((c = store_err_class(w->st)) == STORE_EC_OTHER)
			c = STORE_EC_SCHEMA;
		db_down(w, c, why);
		store_close(w->st);
		w->st = NULL;
		return -1;
	}
	/* db_up waits for a round that goes through (db_fine()): a server
	 * that takes connections but no writes is not up */
	return 0;
}

/*
 * One round over the oldest files of new/.  Returns 0 when new/ was
 * empty, 1 when files were dealt with (look again), W_DBDOWN or W_LOCAL.
 */
static int
drain(struct worker *w)
{
	struct spool_entry	*ent = NULL;
	size_t			 n, i, max;
	int			 r = 1;

	pthread_mutex_lock(&w->mtx);
	w->kicks = 0;
	pthread_mutex_unlock(&w->mtx);

	max = w->batch_max < WORKER_LIST_MAX ? WORKER_LIST_MAX : w->batch_max;
	if (spool_list(w->sp, max, &ent, &n) == -1) {
		set_error(w, "spool: cannot list new/: %s", strerror(errno));
		return W_LOCAL;
	}
	w->short_round = n < w->batch_max;
	if (n == 0)
		return 0;
	w->progress = 0;
	for (i = 0; i < n; i++) {
		if ((r = take(w, ent[i].name)) < 0)
			break;
		if (w->nitems == w->batch_max ||
		    w->bytes >= WORKER_BATCH_BYTES || i + 1 == n ||
		    is_stopping(w)) {
			if ((r = flush(w)) < 0 || is_stopping(w))
				break;
		}
	}
	if (r == W_LOCAL && w->nitems > 0 && flush(w) == W_DBDOWN)
		r = W_DBDOWN;	/* what take() had parsed: store it now */
	items_free(w);
	free(ent);
	if (r < 0)
		return r;
	/* files that neither go nor move (bad/ not writable, ...) must not
	 * make us spin */
	if (w->progress == 0 && !is_stopping(w))
		return W_LOCAL;
	return 1;
}

static const char *
extra_value(const struct spool_file *f, const char *key)
{
	size_t	i, k = strlen(key);

	for (i = 0; i < SPOOL_HDR_MAX && f->extra[i] != NULL; i++)
		if (strncmp(f->extra[i], key, k) == 0 &&
		    strncmp(f->extra[i] + k, ": ", 2) == 0)
			return f->extra[i] + k + 2;
	return NULL;
}

/* Read and parse new/NAME into the batch, or reject it. */
static int
take(struct worker *w, const char *name)
{
	struct witem		*it = &w->items[w->nitems];
	struct store_arrival	 arr;
	struct ingest_meta	 meta;
	struct ingest_err	 ierr;
	enum ingest_status	 ist;
	enum spool_read_result	 rr;
	const char		*v;
	char			 err[256];
	int			 r = W_OK;

	rr = spool_read(w->sp, name, w->payload_max, LIM_REJECT_KEEP_BYTES,
	    &it->f, err, sizeof(err));
	switch (rr) {
	case SPOOL_READ_GONE:
		return W_OK;
	case SPOOL_READ_AGAIN:
		set_error(w, "spool: cannot read %s: %s", name,
		    strerror(errno));
		return W_LOCAL;
	case SPOOL_READ_BAD:
	case SPOOL_READ_TOOBIG:
		arr.source = it->f.source != NULL ? it->f.source : "unknown";
		arr.origin = it->f.origin;
		arr.received_at = it->f.received;
		r = reject(w, name, &arr, it->f.payload, it->f.payload_len,
		    rr == SPOOL_READ_TOOBIG ? (int)INGEST_E_TOOBIG :
		    REJ_UNREADABLE, err);
		spool_file_free(&it->f);
		return r;
	case SPOOL_READ_OK:
		break;
	}

	/* a report the front-end refused (tlsrpt-milter --require-dkim,
	 * --domain) was spooled to be kept in bad/ and recorded */
	if ((v = extra_value(&it->f, "x-reject")) != NULL) {
		arr.source = it->f.source;
		arr.origin = it->f.origin;
		arr.received_at = it->f.received;
		r = reject(w, name, &arr, it->f.payload, it->f.payload_len,
		    REJ_FRONT, v);
		spool_file_free(&it->f);
		return r;
	}

	memset(&meta, 0, sizeof(meta));
	meta.filename = extra_value(&it->f, "x-filename");
	meta.report_domain = extra_value(&it->f, "x-tls-report-domain");
	meta.submitter = extra_value(&it->f, "x-tls-report-submitter");
	meta.subject = extra_value(&it->f, "x-subject");
	/* "pass d=example.com aligned": trusted (tlsrpt-milter) */
	if ((meta.dkim = extra_value(&it->f, "x-dkim")) != NULL)
		meta.trusted = strncmp(meta.dkim, "pass ", 5) == 0 &&
		    strstr(meta.dkim, " aligned") != NULL;
	if (strcmp(it->f.source, "mail") == 0)
		meta.flags |= INGEST_MF_MAIL;
	ist = ingest_parser_any(w->parser, it->f.payload, it->f.payload_len,
	    &meta, &it->rep, &ierr);
	if (ist == INGEST_E_NOMEM) {
		set_error(w, "ingest %s: out of memory", name);
		r = W_LOCAL;
	} else if (ist != INGEST_OK) {
		arr.source = it->f.source;
		arr.origin = it->f.origin;
		arr.received_at = it->f.received;
		r = reject(w, name, &arr, it->f.payload, it->f.payload_len,
		    (int)ist, ierr.msg);
	}
	if (ist != INGEST_OK) {
		spool_file_free(&it->f);
		return r;
	}
	/* keep the header (source, origin), drop the raw bytes */
	free(it->f.data);
	it->f.data = NULL;
	it->f.payload = NULL;
	snprintf(it->name, sizeof(it->name), "%s", name);
	w->bytes += it->rep->json_len;
	w->nitems++;
	return W_OK;
}

/*
 * Record a payload that can never be stored, then move it to bad/.  kind
 * is an enum ingest_status or REJ_*.  raw is at most LIM_REJECT_KEEP_BYTES.
 */
static int
reject(struct worker *w, const char *name, const struct store_arrival *arr,
    const unsigned char *raw, size_t len, int kind, const char *why)
{
	char		 reason[768];
	const char	*token;

	if (kind == REJ_REFUSED)
		token = "database";
	else if (kind == REJ_UNREADABLE)
		token = "unreadable";
	else if (kind == REJ_FRONT)
		token = NULL;		/* why is "token: detail" already */
	else
		token = ingest_status_str((enum ingest_status)kind);
	if (token == NULL)
		snprintf(reason, sizeof(reason), "%s", why);
	else
		snprintf(reason, sizeof(reason), "%s: %s", token,
		    why != NULL && *why != '\0' ? why : "unknown error");
	/* never to bad/ unrecorded: the file stays in new/ for later */
	if (record_rejection(w, arr, reason, raw, len) == -1) {
		snprintf(reason, sizeof(reason), "cannot record the rejection "
		    "of %s (kept in new/): %s", name, store_errstr(w->st));
		db_down(w, store_err_class(w->st), reason);
		return W_DBDOWN;
	}
	if (spool_reject(w->sp, name, reason) == -1) {
		if (errno != ENOENT)
			set_error(w, "spool: cannot move %s to bad/: %s", name,
			    strerror(errno));
		return W_OK;
	}
	w->progress++;
	pthread_mutex_lock(&w->mtx);
	w->stats.rejected++;
	if (kind == REJ_REFUSED) {
		w->stats.rejected_refused++;
		w->stats.db_errors_by[STORE_EC_REPORT]++;
	} else if (kind == REJ_UNREADABLE)
		w->stats.rejected_unreadable++;
	else if (kind == REJ_FRONT)
		w->stats.rejected_front++;
	else if (kind >= 0 && (size_t)kind < sizeof(w->stats.rejected_by) /
	    sizeof(w->stats.rejected_by[0]))
		w->stats.rejected_by[kind]++;
	pthread_mutex_unlock(&w->mtx);
	return W_OK;
}

/*
 * Store the batch; remove the files of what was committed, reject what
 * the database refused.  W_OK or W_DBDOWN.
 */
static int
flush(struct worker *w)
{
	struct timespec	 now;
	struct witem	*it;
	const char	*why;
	double		 t, lat;
	size_t		 i, removed = 0;
	uint64_t	 stored = 0, dups = 0, conflicting = 0, replaced = 0;
	uint64_t	 filled = 0;
	unsigned	 fl;
	int		 rc, r = W_OK;

	if (w->nitems == 0)
		return W_OK;
	for (i = 0; i < w->nitems; i++) {
		it = &w->items[i];
		w->out[i] = STORE_FAILED;
		w->reps[i] = it->rep;
		w->arr[i].source = it->f.source;
		w->arr[i].origin = it->f.origin;
		w->arr[i].received_at = it->f.received;
	}
	rc = store_put_reports(w->st, w->reps, w->arr, w->nitems, w->out);
	if (rc == -1) {
		db_down(w, store_err_class(w->st), store_errstr(w->st));
		r = W_DBDOWN;
	}
	clock_gettime(CLOCK_REALTIME, &now);
	t = (double)now.tv_sec + (double)now.tv_nsec / 1e9;
	for (i = 0; i < w->nitems; i++) {
		it = &w->items[i];
		switch (w->out[i]) {
		case STORE_STORED:
		case STORE_DUPLICATE:
			/* committed: the file has done its job */
			if (spool_remove(w->sp, it->name) == -1) {
				set_error(w, "spool: cannot remove %s: %s",
				    it->name, strerror(errno));
				break;
			}
			removed++;
			fl = store_put_flags(w->st, i);
			conflicting += (fl & STORE_PUT_CONFLICT) != 0;
			replaced += (fl & STORE_PUT_REPLACED) != 0;
			filled += (fl & STORE_PUT_FILLED) != 0;
			if (w->out[i] == STORE_DUPLICATE) {
				dups++;
				break;
			}
			stored++;
			lat = t - (double)it->f.received;
			if (lat < 0)
				lat = 0;
			pthread_mutex_lock(&w->mtx);
			w->stats.last_latency = lat;
			w->stats.latency_sum += lat;
			w->stats.latency_count++;
			pthread_mutex_unlock(&w->mtx);
			break;
		case STORE_FAILED:
			if (rc == -1 || r == W_DBDOWN)
				break;		/* not tried: retry later */
			why = store_put_why(w->st, i);
			r = reject(w, it->name, &w->arr[i], it->rep->json,
			    it->rep->json_len < LIM_REJECT_KEEP_BYTES ?
			    it->rep->json_len : LIM_REJECT_KEEP_BYTES,
			    REJ_REFUSED, why != NULL ? why : "unknown error");
			break;
		}
	}
	w->progress += removed;
	if (removed > 0 && spool_sync(w->sp) == -1)
		set_error(w, "spool: cannot fsync new/: %s", strerror(errno));
	pthread_mutex_lock(&w->mtx);
	w->stats.stored += stored;
	w->stats.duplicates += dups;
	w->stats.conflicting += conflicting;
	w->stats.replaced += replaced;
	w->stats.filled += filled;
	if (rc == 0 && r == W_OK) {
		w->stats.db_up = 1;
		w->stats.db_error_class = STORE_EC_NONE;
	}
	pthread_mutex_unlock(&w->mtx);
	items_free(w);
	return r;
}

/*
 * Record a rejection in tlsrpt.rejection.  When the row itself is refused
 * as data (the reason or origin not valid text, an arrival time out of
 * range), try once more with what cannot be refused: printable ASCII and
 * the time now.  0, or -1 with the store's error.
 */
static int
record_rejection(struct worker *w, const struct store_arrival *arr,
    const char *reason, const unsigned char *raw, size_t len)
{
	struct store_arrival	 safe;
	char			 r[768], o[256];
	size_t			 i;

	if (store_put_rejection(w->st, arr, reason, raw, len,
	    LIM_REJECT_KEEP_BYTES) == 0)
		return 0;
	if (store_err_class(w->st) != STORE_EC_REPORT)
		return -1;
	snprintf(r, sizeof(r), "%s", reason != NULL ? reason : "unknown");
	snprintf(o, sizeof(o), "%s", arr->origin != NULL ? arr->origin : "");
	for (i = 0; r[i] != '\0'; i++)
		if ((unsigned char)r[i] < 0x20 || (unsigned char)r[i] > 0x7e)
			r[i] = '?';
	for (i = 0; o[i] != '\0'; i++)
		if ((unsigned char)o[i] < 0x20 || (unsigned char)o[i] > 0x7e)
			o[i] = '?';
	safe.source = "unknown";
	safe.origin = arr->origin != NULL ? o : NULL;
	safe.received_at = (int64_t)time(NULL);
	return store_put_rejection(w->st, &safe, r, raw, len,
	    LIM_REJECT_KEEP_BYTES);
}

static void
items_free(struct worker *w)
{
	size_t	i;

	for (i = 0; i < w->nitems; i++) {
		spool_file_free(&w->items[i].f);
		tlsrpt_report_free(w->items[i].rep);
		w->items[i].rep = NULL;
	}
	w->nitems = 0;
	w->bytes = 0;
}
