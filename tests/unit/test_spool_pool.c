/*
 * test_spool_pool.c -- kill -9 of a process whose spool recycles files
 * through the inode pool (collector/core_spool_pool.c), at random
 * moments, many times over one spool directory.
 *
 * Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
 *
 * The child opens the spool and runs, until killed, 4 producer threads
 * (spool_put() of distinct payloads of 100 to 6,000 bytes, so rewritten
 * pool files shrink and grow) and a consumer thread standing in for the
 * ingest worker (spool_list(), spool_read(), then "commit": the payload's
 * digest appended to a log, then spool_remove() and spool_sync()).  A
 * producer appends a payload's digest to the ack log only once
 * spool_put() returned SPOOL_STORED.  Logs are written with write(2) to
 * O_APPEND files: what was written survives the kill.  After each kill:
 *
 *  - nothing lost: every acknowledged payload was committed or is in new/;
 *  - nothing twice: no payload is both committed and still in new/, and
 *    none was committed twice (each payload is put once);
 *  - no foreign bytes: every file of new/ holds a payload whose digest
 *    is its name, one that a producer put;
 *  - the next spool_open() leaves no .pool.* file in tmp/.
 *
 * Then the next round's child starts on the same directory, files left
 * in new/ and all.  Needs no database.
 */

#define _GNU_SOURCE	/* asprintf */

#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <nettle/sha2.h>

#include "core_spool.h"

#define ROUNDS		25
#define PRODUCERS	4
#define PAYLOAD_MAX	6000
#define NAME_HEX	64

static char	tdir[256];
static int	round_no;

/* tdir/name, in one of 8 static buffers. */
static const char *
tpath(const char *name)
{
	static char	buf[8][512];
	static int	i;

	i = (i + 1) % 8;
	snprintf(buf[i], sizeof(buf[i]), "%s/%s", tdir, name);
	return buf[i];
}

static void
hexdigest(const void *buf, size_t len, char out[NAME_HEX + 1])
{
	struct sha256_ctx	ctx;
	unsigned char		d[SHA256_DIGEST_SIZE];
	size_t			i;

	sha256_init(&ctx);
	sha256_update(&ctx, len, buf);
	sha256_digest(&ctx, sizeof(d), d);
	for (i = 0; i < sizeof(d); i++)
		snprintf(out + 2 * i, 3, "%02x", d[i]);
}

/* One line to an O_APPEND log, whole or not at all (a small write). */
static void
log_line(int fd, const char *hex)
{
	char	line[NAME_HEX + 2];

	memcpy(line, hex, NAME_HEX);
	line[NAME_HEX] = '\n';
	if (write(fd, line, NAME_HEX + 1) != NAME_HEX + 1)
		_exit(3);
}

struct child {
	struct spool	*sp;
	int		 ackfd, commitfd;
};

struct prod {
	struct child	*c;
	int		 id;
};

/* Distinct payloads: round, producer, sequence, then filler. */
static void *
producer(void *arg)
{
	struct prod		*p = arg;
	struct spool_meta	 m;
	unsigned char		 buf[PAYLOAD_MAX];
	char			 hex[NAME_HEX + 1];
	unsigned		 seed = (unsigned)(round_no * 131 + p->id);
	size_t			 len, i;
	int			 w;
	uint64_t		 seq;

	memset(&m, 0, sizeof(m));
	m.source = "https";
	m.origin = "192.0.2.1";
	m.received = 1764000000;
	for (seq = 0;; seq++) {
		w = snprintf((char *)buf, sizeof(buf), "{\"r\": %d, \"p\": %d, "
		    "\"s\": %llu, \"x\": \"", round_no, p->id,
		    (unsigned long long)seq);
		len = 100 + (size_t)rand_r(&seed) % (PAYLOAD_MAX - 100);
		for (i = (size_t)w; i < len - 2; i++)
			buf[i] = (unsigned char)('a' + rand_r(&seed) % 26);
		buf[len - 2] = '"';
		buf[len - 1] = '}';
		if (spool_put(p->c->sp, buf, len, &m) == SPOOL_STORED) {
			hexdigest(buf, len, hex);
			log_line(p->c->ackfd, hex);
		}
	}
	return NULL;
}

/* The worker's part: read, "commit", remove, sync. */
static void *
consumer(void *arg)
{
	struct child		*c = arg;
	struct spool_entry	*ent;
	struct spool_file	 f;
	char			 err[256], hex[NAME_HEX + 1];
	size_t			 n, i;

	for (;;) {
		if (spool_list(c->sp, 64, &ent, &n) == -1)
			_exit(4);
		for (i = 0; i < n; i++) {
			if (spool_read(c->sp, ent[i].name, PAYLOAD_MAX,
			    PAYLOAD_MAX, &f, err, sizeof(err)) !=
			    SPOOL_READ_OK)
				_exit(5);
			hexdigest(f.payload, f.payload_len, hex);
			if (strcmp(hex, ent[i].name) != 0)
				_exit(6);	/* foreign bytes */
			spool_file_free(&f);
			log_line(c->commitfd, hex);
			if (spool_remove(c->sp, ent[i].name) == -1)
				_exit(7);
		}
		free(ent);
		if (n > 0 && spool_sync(c->sp) == -1)
			_exit(8);
		if (n == 0)
			usleep(1000);
	}
	return NULL;
}

static void
child_main(void)
{
	struct child	c;
	struct prod	p[PRODUCERS];
	pthread_t	t;
	char		err[256];
	int		i;

	c.ackfd = open(tpath("ack"), O_WRONLY | O_CREAT | O_APPEND, 0600);
	c.commitfd = open(tpath("commit"), O_WRONLY | O_CREAT | O_APPEND,
	    0600);
	if (c.ackfd == -1 || c.commitfd == -1)
		_exit(2);
	if ((c.sp = spool_open(tpath("spool"), err, sizeof(err))) == NULL)
		_exit(2);
	for (i = 0; i < PRODUCERS; i++) {
		p[i].c = &c;
		p[i].id = i;
		if (pthread_create(&t, NULL, producer, &p[i]) != 0)
			_exit(2);
	}
	if (pthread_create(&t, NULL, consumer, &c) != 0)
		_exit(2);
	for (;;)
		pause();
}

/* The lines of a log, sorted; *np of them; malloc'd. */
static char **
read_log(const char *path, size_t *np, char *last)
{
	FILE	*fp;
	char	 line[NAME_HEX + 8], **v = NULL;
	size_t	 n = 0, cap = 0;

	last[0] = '\0';
	if ((fp = fopen(path, "r")) == NULL) {
		*np = 0;
		return NULL;
	}
	while (fgets(line, sizeof(line), fp) != NULL) {
		cr_assert_eq(strlen(line), NAME_HEX + 1, "torn log line");
		line[NAME_HEX] = '\0';
		if (n == cap) {
			cap = cap ? 2 * cap : 1024;
			cr_assert_not_null(v = realloc(v, cap * sizeof(*v)));
		}
		cr_assert_not_null(v[n++] = strdup(line));
		memcpy(last, line, NAME_HEX + 1);
	}
	fclose(fp);
	*np = n;
	return v;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int
has(char **v, size_t n, const char *s)
{
	return n > 0 && bsearch(&s, v, n, sizeof(*v), cmp_str) != NULL;
}

static void
free_log(char **v, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* The names in dir that start with ".pool.". */
static size_t
count_pool(const char *dir)
{
	struct dirent	*de;
	DIR		*d;
	size_t		 n = 0;

	cr_assert_not_null(d = opendir(dir));
	while ((de = readdir(d)) != NULL)
		n += strncmp(de->d_name, ".pool.", 6) == 0 &&
		    strstr(de->d_name, ".lock") == NULL;
	closedir(d);
	return n;
}

/* The checks after a kill; returns the files left in new/.  The pool's
 * files only: the open's own lock file (.pool.TOKEN.lock) is there. */
static size_t
check_round(int r)
{
	struct spool_file	 f;
	struct spool		*sp;
	struct dirent		*de;
	DIR			*d;
	char			**ack, **com, err[256], hex[NAME_HEX + 1];
	char			 alast[NAME_HEX + 1], clast[NAME_HEX + 1];
	size_t			 na, nc, i, left = 0, twice = 0;
	char			**inq = NULL;
	size_t			 nq = 0;

	ack = read_log(tpath("ack"), &na, alast);
	com = read_log(tpath("commit"), &nc, clast);
	/* each payload is put once: committed twice only when a kill fell
	 * between a commit and its removal, once per round at most */
	if (nc > 0)
		qsort(com, nc, sizeof(*com), cmp_str);
	for (i = 1; i < nc; i++)
		twice += strcmp(com[i - 1], com[i]) == 0;
	cr_expect_leq(twice, (size_t)r, "round %d: %zu payloads committed "
	    "twice", r, twice);
	cr_assert_not_null(sp = spool_open(tpath("spool"), err, sizeof(err)),
	    "%s", err);
	cr_expect_eq(count_pool(tpath("spool/tmp")), 0, "round %d: pool "
	    "files left after spool_open()", r);
	cr_assert_not_null(d = opendir(tpath("spool/new")));
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		left++;
		cr_assert_eq(spool_read(sp, de->d_name, PAYLOAD_MAX,
		    PAYLOAD_MAX, &f, err, sizeof(err)), SPOOL_READ_OK,
		    "round %d: %s: %s", r, de->d_name, err);
		hexdigest(f.payload, f.payload_len, hex);
		cr_expect_str_eq(hex, de->d_name, "round %d: foreign bytes "
		    "in new/%s", r, de->d_name);
		cr_expect(f.payload_len > 20 && memcmp(f.payload, "{\"r\": ",
		    6) == 0, "round %d: not a payload of ours", r);
		spool_file_free(&f);
		/* committed and still there: the kill came between the
		 * commit and the removal, so it is the last commit */
		if (has(com, nc, de->d_name))
			cr_expect_str_eq(de->d_name, clast, "round %d: %s "
			    "committed long ago and back in new/", r,
			    de->d_name);
		inq = realloc(inq, (nq + 1) * sizeof(*inq));
		cr_assert_not_null(inq);
		cr_assert_not_null(inq[nq++] = strdup(de->d_name));
	}
	closedir(d);
	spool_close(sp);
	if (nq > 0)
		qsort(inq, nq, sizeof(*inq), cmp_str);
	/* nothing acknowledged is lost */
	for (i = 0; i < na; i++)
		cr_expect(has(com, nc, ack[i]) || has(inq, nq, ack[i]),
		    "round %d: acknowledged %s is gone", r, ack[i]);
	cr_log_info("round %d: %zu acknowledged, %zu committed, %zu left",
	    r, na, nc, left);
	free_log(ack, na);
	free_log(com, nc);
	free_log(inq, nq);
	return left;
}

Test(spool_pool, kill9_loses_nothing_stores_nothing_twice, .timeout = 240)
{
	struct timespec	 ts;
	char		 cmd[600];
	pid_t		 pid;
	size_t		 pooled = 0;
	int		 st;

	snprintf(tdir, sizeof(tdir), "%s/tlsrpt-pool.XXXXXX",
	    getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	cr_assert_not_null(mkdtemp(tdir));
	srandom((unsigned)getpid());
	for (round_no = 1; round_no <= ROUNDS; round_no++) {
		cr_assert_neq(pid = fork(), -1);
		if (pid == 0)
			child_main();
		/* 20 to 220 ms in: puts, removals and rewrites under way */
		ts.tv_sec = 0;
		ts.tv_nsec = (20 + random() % 200) * 1000000L;
		nanosleep(&ts, NULL);
		cr_assert_eq(kill(pid, SIGKILL), 0);
		cr_assert_eq(waitpid(pid, &st, 0), pid);
		cr_assert(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL,
		    "round %d: the child ended by itself (status %d)",
		    round_no, st);
		pooled += count_pool(tpath("spool/tmp"));
		(void)check_round(round_no);
	}
	/* the kills found files in the pool: it was in use */
	cr_expect_gt(pooled, 0, "no pool file was ever seen");
	if (getenv("TLSRPT_TEST_KEEP") == NULL) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tdir);
		(void)!system(cmd);
	}
}
