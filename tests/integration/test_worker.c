/*
 * test_worker.c -- collector/core_worker.c against a real PostgreSQL: the
 * spool drained into the store, bad files, duplicates, an unreachable or
 * unmigrated database, and a stop in the middle of a stream.
 *
 * Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
 *
 * Run through tests/with-pg.sh (TLSRPT_TEST_DB).  Every test has its own
 * database and its own spool directory.
 */

#define _GNU_SOURCE	/* nftw FTW_DEPTH | FTW_PHYS */

#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "ingest.h"
#include "core_spool.h"
#include "store.h"
#include "store_testutil.h"
#include "core_worker.h"

/*
 * How long a condition may take: the sanitized build on a loaded 2-core
 * machine is many times slower than a quiet one, and a wait ends as soon
 * as its condition holds, so the bound costs a passing test nothing.
 * The test timeouts leave room for a fresh database and two waits.
 */
#define WAIT_MS		60000
#define T_ONE		120	/* .timeout of a test with one wait, s */
#define T_TWO		180	/* ... with two or more */

struct fixture {
	char		 base[256];
	char		 dir[512];
	struct spool	*sp;
	struct stu_db	 db;
};

static int
rm_one(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
	(void)sb;
	(void)ftw;
	if (type == FTW_DP)
		return rmdir(path);
	return unlink(path);
}

static void
fx_init(struct fixture *fx, const char *label, int migrate)
{
	const char	*t = getenv("TMPDIR");
	char		 err[512];

	snprintf(fx->base, sizeof(fx->base), "%s/tlsrpt-worker.XXXXXX",
	    t != NULL && *t != '\0' ? t : "/tmp");
	cr_assert(mkdtemp(fx->base) != NULL);
	snprintf(fx->dir, sizeof(fx->dir), "%s/spool", fx->base);
	fx->sp = spool_open(fx->dir, err, sizeof(err));
	cr_assert(fx->sp != NULL, "%s", err);
	stu_db_create(&fx->db, label);
	if (migrate)
		store_close(stu_open(&fx->db, 1));
}

static void
fx_done(struct fixture *fx)
{
	spool_close(fx->sp);
	stu_db_drop(&fx->db);
	nftw(fx->base, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static void
conf_init(struct worker_conf *c, const char *conninfo)
{
	memset(c, 0, sizeof(*c));
	c->conninfo = conninfo;
	ingest_limits_default(&c->lim);
	c->batch_max = 8;
	c->backoff_max_s = 1;
	c->rescan_s = 1;
}

static struct worker *
start(struct fixture *fx, const struct worker_conf *c)
{
	struct worker	*w;
	char		 err[256];

	w = worker_start(fx->sp, c, err, sizeof(err));
	cr_assert(w != NULL, "worker_start: %s", err);
	return w;
}

static size_t
count_files(const struct fixture *fx, const char *sub)
{
	char		 path[1024];
	struct dirent	*de;
	DIR		*d;
	size_t		 n = 0;

	snprintf(path, sizeof(path), "%s/%s", fx->dir, sub);
	d = opendir(path);
	cr_assert(d != NULL, "%s: %s", path, strerror(errno));
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

static void
sleep_ms(long ms)
{
	struct timespec	ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

/* Poll the stats until cond(stats, arg) holds; fails the test after
 * WAIT_MS. */
typedef int	(*stat_cond)(const struct worker_stats *, long);

static void
wait_stats(struct worker *w, stat_cond cond, long arg, const char *what)
{
	struct worker_stats	s;
	int			ms;

	for (ms = 0; ms < WAIT_MS; ms += 20) {
		worker_get_stats(w, &s);
		if (cond(&s, arg))
			return;
		sleep_ms(20);
	}
	worker_get_stats(w, &s);
	cr_assert_fail("timed out waiting for %s (stored %llu dups %llu "
	    "rejected %llu db_errors %llu db_up %d last_error \"%s\")", what,
	    (unsigned long long)s.stored, (unsigned long long)s.duplicates,
	    (unsigned long long)s.rejected, (unsigned long long)s.db_errors,
	    s.db_up, s.last_error);
}

static int
c_stored(const struct worker_stats *s, long n)
{
	return s->stored >= (uint64_t)n;
}

static int
c_handled(const struct worker_stats *s, long n)
{
	return s->stored + s->duplicates + s->rejected >= (uint64_t)n;
}

static int
c_db_errors(const struct worker_stats *s, long n)
{
	return s->db_errors >= (uint64_t)n;
}

static int
c_db_up(const struct worker_stats *s, long n)
{
	(void)n;
	return s->db_up;
}

/* A report JSON for org/id, malloc'd. */
static char *
report(const char *org, const char *id)
{
	char	*pol, *json;

	pol = stu_policy("sts", "example.com", 100, 2, NULL);
	json = stu_report(org, id, "2024-01-01", pol);
	free(pol);
	return json;
}

static void
spool_str(struct fixture *fx, const char *s, const char *source,
    const char *origin, int64_t received)
{
	struct spool_meta	meta;

	memset(&meta, 0, sizeof(meta));
	meta.source = source;
	meta.origin = origin;
	meta.received = received;
	cr_assert_eq(spool_put(fx->sp, s, strlen(s), &meta), SPOOL_STORED);
}

static void
spool_report(struct fixture *fx, const char *org, const char *id)
{
	char	*json = report(org, id);

	spool_str(fx, json, "https", "192.0.2.7", (int64_t)time(NULL));
	free(json);
}

Test(worker, drains_existing_files, .timeout = T_ONE)
{
	struct fixture		 fx;
	struct worker_conf	 c;
	struct worker		*w;
	char			 id[16], buf[256];
	int			 i;

	fx_init(&fx, "w_drain", 1);
	for (i = 0; i < 20; i++) {
		snprintf(id, sizeof(id), "r%d", i);
		spool_report(&fx, "Org A", id);
	}
	conf_init(&c, fx.db.conninfo);
	w = start(&fx, &c);
	wait_stats(w, c_stored, 20, "20 stored");
	worker_stop(w);

	cr_expect_eq(count_files(&fx, "new"), 0);
	cr_expect_eq(count_files(&fx, "bad"), 0);
	cr_expect_eq(stu_int(&fx.db, "SELECT count(*) FROM tlsrpt.report"),
	    20);
	cr_expect_eq(stu_int(&fx.db, "SELECT count(*) FROM tlsrpt.arrival"
	    " WHERE source = 'https' AND outcome = 'stored'"), 20);
	cr_expect_str_eq(stu_text(&fx.db, "SELECT DISTINCT origin FROM"
	    " tlsrpt.arrival", buf, sizeof(buf)), "192.0.2.7");
	fx_done(&fx);
}

Test(worker, stats, .timeout = T_ONE)
{
	struct fixture		 fx;
	struct worker_conf	 c;
	struct worker_stats	 s;
	struct worker		*w;
	char			*json;

	fx_init(&fx, "w_stats", 1);
	json = report("Org S", "s1");
	spool_str(&fx, json, "https", NULL, (int64_t)time(NULL) - 10);
	free(json);
	conf_init(&c, fx.db.conninfo);
	w = start(&fx, &c);
	wait_stats(w, c_stored, 1, "1 stored");
	worker_get_stats(w, &s);
	worker_stop(w);
	cr_expect_eq(s.stored, 1);
	cr_expect_eq(s.duplicates, 0);
	cr_expect_eq(s.rejected, 0);
	cr_expect_eq(s.db_errors, 0);
	cr_expect_eq(s.db_up, 1);
	cr_expect_eq(s.latency_count, 1);
	cr_expect(s.last_latency >= 9.0 && s.last_latency < 60.0,
	    "latency %f", s.last_latency);
	cr_expect(s.latency_sum == s.last_latency);
	fx_done(&fx);
}

Test(worker, bad_files_to_bad_with_reason, .timeout = T_ONE)
{
	struct fixture		 fx;
	struct worker_conf	 c;
	struct worker_stats	 s;
	struct worker		*w;
	char			 path[1024], line[512];
	struct dirent		*de;
	DIR			*d;
	FILE			*fp;
	int			 reasons = 0;

	fx_init(&fx, "w_bad", 1);
	spool_str(&fx, "hello, this is not a report", "https", "198.51.100.9",
	    (int64_t)time(NULL));
	/* dropped in by hand: no spool header */
	snprintf(path, sizeof(path), "%s/new/by-hand.json", fx.dir);
	fp = fopen(path, "w");
	cr_assert(fp != NULL);
	fputs("{\"organization-name\":\"x\"}", fp);
	fclose(fp);
	spool_report(&fx, "Org B", "good");

	conf_init(&c, fx.db.conninfo);
	w = start(&fx, &c);
	wait_stats(w, c_handled, 3, "3 handled");
	worker_get_stats(w, &s);
	worker_stop(w);

	cr_expect_eq(s.stored, 1);
	cr_expect_eq(s.rejected, 2);
	cr_expect_eq(s.rejected_by[INGEST_E_FORMAT], 1);
	cr_expect_eq(s.rejected_unreadable, 1);
	cr_expect_eq(count_files(&fx, "new"), 0);
	cr_expect_eq(count_files(&fx, "bad"), 4);
	snprintf(path, sizeof(path), "%s/bad", fx.dir);
	cr_assert((d = opendir(path)) != NULL);
	while ((de = readdir(d)) != NULL) {
		if (strstr(de->d_name, ".reason") == NULL)
			continue;
		snprintf(path, sizeof(path), "%s/bad/%s", fx.dir, de->d_name);
		cr_assert((fp = fopen(path, "r")) != NULL);
		cr_assert(fgets(line, sizeof(line), fp) != NULL);
		cr_expect(strncmp(line, "format: ", 8) == 0 ||
		    strncmp(line, "unreadable: ", 12) == 0, "%s", line);
		cr_expect(strchr(line, '\n') == line + strlen(line) - 1);
		cr_expect(fgets(line, sizeof(line), fp) == NULL, "one line");
		fclose(fp);
		reasons++;
	}
	closedir(d);
	cr_expect_eq(reasons, 2);
	cr_expect_eq(stu_int(&fx.db, "SELECT count(*) FROM"
	    " tlsrpt.rejection"), 2);
	cr_expect_eq(stu_int(&fx.db, "SELECT count(*) FROM tlsrpt.rejection"
	    " WHERE origin = '198.51.100.9' AND source = 'https'"
	    " AND reason LIKE 'format: %'"
	    " AND raw = 'hello, this is not a report'::bytea"), 1);
	cr_expect_eq(stu_int(&fx.db, "SELECT count(*) FROM tlsrpt.report"),
	    1);
	fx_done(&fx);
}

Test(worker, too_big_rejected, .timeout = T_ONE)
{
	struct fixture		 fx;
	struct worker_conf	 c;
	struct worker_stats	 s;
	struct worker		*w;

	fx_init(&fx, "w_big", 1);
	spool_report(&fx, "Org Big", "b1");
	conf_init(&c, fx.db.conninfo);
	c.lim.mail_max = c.lim.compressed_max = c.lim.json_max = 64;
	w = start(&fx, &c);
	wait_stats(w, c_handled, 1, "1 handled");
	worker_get_stats(w, &s);
	worker_stop(w);
	cr_expect_eq(s.rejected, 1);
	cr_expect_eq(s.rejected_by[INGEST_E_TOOBIG], 1);
	cr_expect_eq(count_files(&fx, "bad"), 2);
	cr_expect_eq(stu_int(&fx.db, "SELECT count(*) FROM tlsrpt.rejection"
	    " WHERE reason LIKE 'too-big: %' AND raw_len > 64"), 1);
	fx_done(&fx);
}

Test(worker, duplicate_removed, .timeout = T_ONE)
{
	struct fixture		 fx;
	struct worker_conf	 c;
	struct worker_stats	 s;
	struct worker		*w;
	char			*json, *spaced;
	size_t			 n;

	fx_init(&fx, "w_dup", 1);
	json = report("Org D", "d1");
	/* the same report, other bytes: two spool files */
	n = strlen(json);
	spaced = malloc(n + 2);
	cr_assert(spaced != NULL);
	memcpy(spaced, json, n);
	memcpy(spaced + n, "\n", 2);
	spool_str(&fx, json, "https", "a", (int64_t)time(NULL));
	spool_str(&fx, spaced, "mail", "b", (int64_t)time(NULL));
	free(json);
	free(spaced);

	conf_init(&c, fx.db.conninfo);
	w = start(&fx, &c);
	wait_stats(w, c_handled, 2, "2 handled");
	worker_get_stats(w, &s);
	worker_stop(w);
	cr_expect_eq(s.stored, 1);
	cr_expect_eq(s.duplicates, 1);
	cr_expect_eq(count_files(&fx, "new"), 0);
	cr_expect_eq(count_files(&fx, "bad"), 0);
	cr_expect_eq(stu_int(&fx.db, "SELECT count(*) FROM tlsrpt.report"),
	    1);
	cr_expect_eq(stu_int(&fx.db, "SELECT count(*) FROM tlsrpt.arrival"),
	    2);
	fx_done(&fx);
}

Test(worker, db_unreachable_then_second_worker, .timeout = T_TWO)
{
	struct fixture		 fx;
	struct worker_conf	 c, cbad;
	struct worker_stats	 s;
	struct worker		*wbad, *w;
	char			 id[16];
	int			 i;

	fx_init(&fx, "w_down", 1);
	for (i = 0; i < 5; i++) {
		snprintf(id, sizeof(id), "u%d", i);
		spool_report(&fx, "Org U", id);
	}
	conf_init(&cbad, "host=/nonexistent/tlsrpt-no-socket dbname=x "
	    "connect_timeout=2");
	wbad = start(&fx, &cbad);
	wait_stats(wbad, c_db_errors, 2, "2 db errors");
	worker_kick(wbad);		/* a kick does not break the backoff */
	worker_get_stats(wbad, &s);
	cr_expect_eq(s.db_up, 0);
	cr_expect_eq(s.stored, 0);
	cr_expect(s.last_error[0] != '\0');
	cr_expect(s.last_error_at > 0);
	cr_expect_eq(count_files(&fx, "new"), 5, "files must stay");

	/* the right database, while the first worker still retries */
	conf_init(&c, fx.db.conninfo);
	w = start(&fx, &c);
	wait_stats(w, c_stored, 5, "5 stored");
	worker_stop(w);
	worker_get_stats(wbad, &s);
	worker_stop(wbad);
	cr_expect_eq(s.stored, 0);
	cr_expect_eq(s.db_up, 0);
	cr_expect_eq(count_files(&fx, "new"), 0);
	cr_expect_eq(stu_int(&fx.db, "SELECT count(*) FROM tlsrpt.report"),
	    5);
	cr_expect_eq(stu_int(&fx.db, "SELECT count(*) FROM tlsrpt.arrival"),
	    5);
	fx_done(&fx);
}

Test(worker, schema_missing_is_not_ready, .timeout = T_TWO)
{
	struct fixture		 fx;
	struct worker_conf	 c;
	struct worker_stats	 s;
	struct worker		*w;

	fx_init(&fx, "w_schema", 0);
	spool_report(&fx, "Org M", "m1");
	conf_init(&c, fx.db.conninfo);
	w = start(&fx, &c);
	wait_stats(w, c_db_errors, 1, "1 db error");
	worker_get_stats(w, &s);
	cr_expect_eq(s.db_up, 0);
	cr_expect(strstr(s.last_error, "not ready") != NULL, "%s",
	    s.last_error);
	cr_expect_eq(count_files(&fx, "new"), 1);

	store_close(stu_open(&fx.db, 1));	/* tlsrpt migrate */
	wait_stats(w, c_stored, 1, "1 stored after migrate");
	wait_stats(w, c_db_up, 0, "db up");
	worker_stop(w);
	cr_expect_eq(count_files(&fx, "new"), 0);
	cr_expect_eq(stu_int(&fx.db, "SELECT count(*) FROM tlsrpt.report"),
	    1);
	fx_done(&fx);
}

Test(worker, kick_wakes_idle_worker, .timeout = T_TWO)
{
	struct fixture		 fx;
	struct worker_conf	 c;
	struct worker		*w;
	struct timespec		 t0, t1;
	double			 el;

	fx_init(&fx, "w_kick", 1);
	conf_init(&c, fx.db.conninfo);
	c.rescan_s = 60;
	w = start(&fx, &c);
	wait_stats(w, c_db_up, 0, "db up");
	sleep_ms(100);			/* idle now */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	spool_report(&fx, "Org K", "k1");
	worker_kick(w);
	wait_stats(w, c_stored, 1, "1 stored");
	clock_gettime(CLOCK_MONOTONIC, &t1);
	worker_stop(w);
	el = (double)(t1.tv_sec - t0.tv_sec) +
	    (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	/* woken by the kick, not by the rescan 60 s on */
	cr_expect(el < 30.0, "took %.2f s", el);
	fx_done(&fx);
}

Test(worker, stale_tmp_removed, .timeout = T_ONE)
{
	struct fixture		 fx;
	struct worker_conf	 c;
	struct worker		*w;
	struct timespec		 ts[2];
	char			 path[1024];
	FILE			*fp;

	fx_init(&fx, "w_tmp", 1);
	snprintf(path, sizeof(path), "%s/tmp/stale.1.x", fx.dir);
	cr_assert((fp = fopen(path, "w")) != NULL);
	fclose(fp);
	ts[0].tv_sec = ts[1].tv_sec = time(NULL) - 2 * 3600;
	ts[0].tv_nsec = ts[1].tv_nsec = 0;
	cr_assert(utimensat(AT_FDCWD, path, ts, 0) == 0);
	snprintf(path, sizeof(path), "%s/tmp/inflight.1.x", fx.dir);
	cr_assert((fp = fopen(path, "w")) != NULL);
	fclose(fp);
	spool_report(&fx, "Org T", "t1");
	conf_init(&c, fx.db.conninfo);
	w = start(&fx, &c);
	wait_stats(w, c_stored, 1, "1 stored");
	worker_stop(w);
	cr_expect_eq(count_files(&fx, "tmp"), 1);
	cr_expect(access(path, F_OK) == 0, "a fresh tmp file was removed");
	fx_done(&fx);
}

#define STREAM_N	240

struct producer {
	struct fixture	*fx;
	struct worker	*w;
	pthread_mutex_t	 mtx;
	int		 done;		/* under mtx */
};

static void *
produce(void *v)
{
	struct producer		*p = v;
	struct spool_meta	 meta;
	char			 id[16], *json;
	int			 i;

	memset(&meta, 0, sizeof(meta));
	meta.source = "https";
	for (i = 0; i < STREAM_N; i++) {
		snprintf(id, sizeof(id), "s%d", i);
		json = report("Org Stream", id);
		meta.received = (int64_t)time(NULL);
		if (spool_put(p->fx->sp, json, strlen(json), &meta) !=
		    SPOOL_STORED)
			abort();
		free(json);
		pthread_mutex_lock(&p->mtx);
		if (p->w != NULL)
			worker_kick(p->w);
		p->done = i + 1;
		pthread_mutex_unlock(&p->mtx);
	}
	return NULL;
}

Test(worker, stop_during_stream_loses_nothing, .timeout = T_TWO)
{
	struct fixture		 fx;
	struct worker_conf	 c;
	struct worker_stats	 s2;
	struct producer		 p;
	struct worker		*w;
	pthread_t		 th;
	int64_t			 in_db;
	size_t			 in_new;
	int			 done, ms;

	fx_init(&fx, "w_stream", 1);
	conf_init(&c, fx.db.conninfo);
	memset(&p, 0, sizeof(p));
	p.fx = &fx;
	pthread_mutex_init(&p.mtx, NULL);
	p.w = w = start(&fx, &c);
	cr_assert(pthread_create(&th, NULL, produce, &p) == 0);
	for (ms = 0; ms < WAIT_MS; ms += 5) {
		pthread_mutex_lock(&p.mtx);
		done = p.done;
		pthread_mutex_unlock(&p.mtx);
		if (done >= STREAM_N / 3)
			break;
		sleep_ms(5);
	}
	wait_stats(w, c_stored, 1, "a first report stored");
	/* stop mid-stream; the producer goes on spooling */
	pthread_mutex_lock(&p.mtx);
	p.w = NULL;
	pthread_mutex_unlock(&p.mtx);
	worker_stop(w);
	pthread_join(th, NULL);

	/* everything is in exactly one place */
	in_db = stu_int(&fx.db, "SELECT count(*) FROM tlsrpt.report");
	in_new = count_files(&fx, "new");
	cr_expect_eq((size_t)in_db + in_new, STREAM_N,
	    "stored %lld + waiting %zu != %d", (long long)in_db, in_new,
	    STREAM_N);
	cr_expect(in_db > 0 && in_new > 0, "not stopped mid-stream");
	cr_expect_eq(count_files(&fx, "tmp"), 0);

	/* the next start drains the rest */
	w = start(&fx, &c);
	wait_stats(w, c_stored, (long)in_new, "the rest stored");
	worker_get_stats(w, &s2);
	worker_stop(w);
	cr_expect_eq(count_files(&fx, "new"), 0);
	cr_expect_eq(stu_int(&fx.db, "SELECT count(*) FROM tlsrpt.report"),
	    STREAM_N);
	cr_expect_eq(stu_int(&fx.db, "SELECT count(*) FROM tlsrpt.arrival"),
	    STREAM_N, "an arrival stored twice");
	cr_expect_eq(s2.duplicates, 0);
	pthread_mutex_destroy(&p.mtx);
	fx_done(&fx);
}

Test(worker, stop_null_is_noop)
{
	worker_stop(NULL);
	worker_kick(NULL);
	worker_wake(NULL);
}
