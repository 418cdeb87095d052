/*
 * test_spool.c -- collector/core_spool.c: the file format, sha256 names,
 * duplicates, failures (that also fail as root), concurrency, and the
 * reading side the worker uses.
 *
 * Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
 *
 * Every test works in its own directory under $TMPDIR (or /tmp).
 */

#define _GNU_SOURCE	/* nftw FTW_DEPTH | FTW_PHYS */

#include <sys/stat.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <nettle/sha2.h>

#include "core_spool.h"
#include "util.h"

#define T0	1763900000

static int
rm_one(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
	(void)sb;
	(void)ftw;
	if (type == FTW_DP)
		return rmdir(path);
	return unlink(path);
}

/* A fresh directory; the spool goes in DIR/spool. */
static void
tmpdir(char *buf, size_t bufsz)
{
	const char	*t = getenv("TMPDIR");

	snprintf(buf, bufsz, "%s/tlsrpt-spool.XXXXXX",
	    t != NULL && *t != '\0' ? t : "/tmp");
	cr_assert(mkdtemp(buf) != NULL, "mkdtemp: %s", strerror(errno));
}

static void
rm_rf(const char *dir)
{
	nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static void
sha_hex(const void *buf, size_t len, char out[65])
{
	struct sha256_ctx	ctx;
	unsigned char		d[SHA256_DIGEST_SIZE];

	sha256_init(&ctx);
	sha256_update(&ctx, len, buf);
	sha256_digest(&ctx, sizeof(d), d);
	util_hex(d, sizeof(d), out);
}

static unsigned char *
slurp(const char *path, size_t *len)
{
	unsigned char	*buf;
	struct stat	 sb;
	FILE		*fp;

	fp = fopen(path, "rb");
	cr_assert(fp != NULL, "%s: %s", path, strerror(errno));
	cr_assert(fstat(fileno(fp), &sb) == 0);
	buf = malloc((size_t)sb.st_size + 1);
	cr_assert(buf != NULL);
	*len = fread(buf, 1, (size_t)sb.st_size, fp);
	cr_assert_eq(*len, (size_t)sb.st_size);
	buf[*len] = '\0';
	fclose(fp);
	return buf;
}

/* Regular files in dir/sub. */
static size_t
count_files(const char *dir, const char *sub)
{
	char		 path[4096];
	struct dirent	*de;
	DIR		*d;
	size_t		 n = 0;

	snprintf(path, sizeof(path), "%s/%s", dir, sub);
	d = opendir(path);
	cr_assert(d != NULL, "%s: %s", path, strerror(errno));
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

static struct spool *
open_in(const char *base, char *dir, size_t dirsz)
{
	struct spool	*sp;
	char		 err[512];

	snprintf(dir, dirsz, "%s/spool", base);
	sp = spool_open(dir, err, sizeof(err));
	cr_assert(sp != NULL, "spool_open: %s", err);
	return sp;
}

Test(spool, open_creates_layout)
{
	char		 base[256], dir[512], path[600];
	struct stat	 sb;
	struct spool	*sp;
	const char	*subs[] = { "tmp", "new", "bad" };
	size_t		 i;

	tmpdir(base, sizeof(base));
	snprintf(dir, sizeof(dir), "%s/a/b/spool", base);
	sp = spool_open(dir, NULL, 0);
	cr_assert(sp != NULL);
	cr_expect_str_eq(spool_dir(sp), dir);
	for (i = 0; i < 3; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, subs[i]);
		cr_assert(stat(path, &sb) == 0, "%s missing", path);
		cr_expect(S_ISDIR(sb.st_mode));
		cr_expect_eq(sb.st_mode & 0027, 0, "%s: mode %o", subs[i],
		    (unsigned)sb.st_mode & 0777);
	}
	spool_close(sp);
	/* and again, on what exists */
	sp = spool_open(dir, NULL, 0);
	cr_expect(sp != NULL);
	spool_close(sp);
	rm_rf(base);
}

Test(spool, put_writes_header_and_exact_bytes)
{
	char			 base[256], dir[512], path[700], hex[65];
	unsigned char		 payload[1000], *got;
	struct spool_meta	 meta;
	struct spool		*sp;
	const char		*want_hdr;
	size_t			 i, len, hl;

	for (i = 0; i < sizeof(payload); i++)
		payload[i] = (unsigned char)(i * 7);	/* NULs, \n, 0xff */
	tmpdir(base, sizeof(base));
	sp = open_in(base, dir, sizeof(dir));
	memset(&meta, 0, sizeof(meta));
	meta.source = "https";
	meta.origin = "192.0.2.7";
	meta.received = T0;
	meta.extra[0] = "x-dkim: pass";
	meta.extra[1] = "X-Note:   spaced";
	cr_assert_eq(spool_put(sp, payload, sizeof(payload), &meta),
	    SPOOL_STORED);

	sha_hex(payload, sizeof(payload), hex);
	snprintf(path, sizeof(path), "%s/new/%s", dir, hex);
	got = slurp(path, &len);
	want_hdr = "TLSRPT-SPOOL 1\nsource: https\norigin: 192.0.2.7\n"
	    "received: 1763900000\nx-dkim: pass\nX-Note: spaced\n\n";
	hl = strlen(want_hdr);
	cr_assert_eq(len, hl + sizeof(payload));
	cr_expect(memcmp(got, want_hdr, hl) == 0, "header: %.*s", (int)hl,
	    got);
	cr_expect(memcmp(got + hl, payload, sizeof(payload)) == 0);
	cr_expect_eq(count_files(dir, "new"), 1);
	cr_expect_eq(count_files(dir, "tmp"), 0, "tmp/ left over");
	free(got);
	spool_close(sp);
	rm_rf(base);
}

Test(spool, put_empty_and_no_origin)
{
	char			 base[256], dir[512], path[700], hex[65];
	struct spool_meta	 meta = { .source = "mail", .received = 5 };
	struct spool		*sp;
	unsigned char		*got;
	size_t			 len;

	tmpdir(base, sizeof(base));
	sp = open_in(base, dir, sizeof(dir));
	cr_assert_eq(spool_put(sp, NULL, 0, &meta), SPOOL_STORED);
	sha_hex("", 0, hex);
	cr_expect_str_eq(hex, "e3b0c44298fc1c149afbf4c8996fb924"
	    "27ae41e4649b934ca495991b7852b855");
	snprintf(path, sizeof(path), "%s/new/%s", dir, hex);
	got = slurp(path, &len);
	cr_expect_str_eq((char *)got,
	    "TLSRPT-SPOOL 1\nsource: mail\nreceived: 5\n\n");
	free(got);
	spool_close(sp);
	rm_rf(base);
}

Test(spool, duplicate)
{
	char			 base[256], dir[512];
	struct spool_meta	 meta = { .source = "https", .received = T0 };
	struct spool		*sp;
	const char		*a = "{\"report-id\":\"1\"}";
	const char		*b = "{\"report-id\":\"2\"}";

	tmpdir(base, sizeof(base));
	sp = open_in(base, dir, sizeof(dir));
	cr_expect_eq(spool_put(sp, a, strlen(a), &meta), SPOOL_STORED);
	meta.origin = "198.51.100.1";	/* another sender, same bytes */
	cr_expect_eq(spool_put(sp, a, strlen(a), &meta), SPOOL_DUPLICATE);
	cr_expect_eq(spool_put(sp, b, strlen(b), &meta), SPOOL_STORED);
	cr_expect_eq(count_files(dir, "new"), 2);
	cr_expect_eq(count_files(dir, "tmp"), 0);
	spool_close(sp);
	rm_rf(base);
}

Test(spool, origin_escaped)
{
	char			 base[256], dir[512], path[700], hex[65];
	char			 err[256];
	struct spool_meta	 meta;
	struct spool_file	 f;
	struct spool		*sp;
	unsigned char		*got;
	size_t			 len;
	const char		*p = "{}";

	tmpdir(base, sizeof(base));
	sp = open_in(base, dir, sizeof(dir));
	memset(&meta, 0, sizeof(meta));
	meta.source = "https";
	meta.origin = "evil\r\nreceived: 0\x01\\\xc3\xa9";
	meta.received = T0;
	meta.extra[0] = "x-peer: a\nb";
	cr_assert_eq(spool_put(sp, p, 2, &meta), SPOOL_STORED);
	sha_hex(p, 2, hex);
	snprintf(path, sizeof(path), "%s/new/%s", dir, hex);
	got = slurp(path, &len);
	cr_expect_str_eq((char *)got, "TLSRPT-SPOOL 1\nsource: https\n"
	    "origin: evil\\x0d\\x0areceived: 0\\x01\\x5c\\xc3\\xa9\n"
	    "received: 1763900000\nx-peer: a\\x0ab\n\n{}");
	free(got);

	/* and read back as written: one origin, the right time */
	cr_assert_eq(spool_read(sp, hex, 1024, 64, &f, err, sizeof(err)),
	    SPOOL_READ_OK, "%s", err);
	cr_expect_str_eq(f.origin, "evil\\x0d\\x0areceived: 0\\x01\\x5c"
	    "\\xc3\\xa9");
	cr_expect_eq(f.received, T0);
	cr_expect_str_eq(f.extra[0], "x-peer: a\\x0ab");
	cr_expect_null(f.extra[1]);
	spool_file_free(&f);
	spool_close(sp);
	rm_rf(base);
}

Test(spool, bad_meta)
{
	char			 base[256], dir[512], big[SPOOL_HEADER_MAX];
	struct spool_meta	 meta = { .source = "https", .received = T0 };
	struct spool		*sp;

	tmpdir(base, sizeof(base));
	sp = open_in(base, dir, sizeof(dir));
	meta.extra[0] = "no colon";
	errno = 0;
	cr_expect_eq(spool_put(sp, "x", 1, &meta), SPOOL_FAILED);
	cr_expect_eq(errno, EINVAL);
	meta.extra[0] = "bad key: v";
	cr_expect_eq(spool_put(sp, "x", 1, &meta), SPOOL_FAILED);
	cr_expect_eq(errno, EINVAL);
	meta.extra[0] = NULL;
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	meta.origin = big;
	cr_expect_eq(spool_put(sp, "x", 1, &meta), SPOOL_FAILED);
	cr_expect_eq(errno, EMSGSIZE);
	cr_expect_eq(spool_put(sp, "x", 1, NULL), SPOOL_FAILED);
	cr_expect_eq(errno, EINVAL);
	cr_expect_eq(count_files(dir, "new"), 0);
	cr_expect_eq(count_files(dir, "tmp"), 0);
	spool_close(sp);
	rm_rf(base);
}

/* Unlink the files of PATH (not recursive). */
static void
empty_dir(const char *path)
{
	char		 f[1024];
	struct dirent	*de;
	DIR		*d;

	cr_assert((d = opendir(path)) != NULL);
	while ((de = readdir(d)) != NULL) {
		if (de->d_type == DT_DIR)
			continue;
		snprintf(f, sizeof(f), "%s/%s", path, de->d_name);
		cr_assert(unlink(f) == 0, "%s", f);
	}
	closedir(d);
}

/*
 * Failures that root cannot override: a directory removed under the
 * open spool (creating in a deleted directory is ENOENT for everyone),
 * and a regular file where a directory should be.
 */
Test(spool, put_fails_tmp_gone)
{
	char			 base[256], dir[512], path[700];
	struct spool_meta	 meta = { .source = "https", .received = T0 };
	struct spool		*sp;

	tmpdir(base, sizeof(base));
	sp = open_in(base, dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/tmp", dir);
	empty_dir(path);	/* the pool's lock file */
	cr_assert(rmdir(path) == 0);
	errno = 0;
	cr_expect_eq(spool_put(sp, "{}", 2, &meta), SPOOL_FAILED);
	cr_expect_eq(errno, ENOENT, "errno %d (%s)", errno, strerror(errno));
	cr_expect_eq(count_files(dir, "new"), 0);
	spool_close(sp);
	rm_rf(base);
}

Test(spool, put_fails_new_gone_tmp_cleaned)
{
	char			 base[256], dir[512], path[700];
	struct spool_meta	 meta = { .source = "https", .received = T0 };
	struct spool		*sp;

	tmpdir(base, sizeof(base));
	sp = open_in(base, dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/new", dir);
	cr_assert(rmdir(path) == 0);
	errno = 0;
	cr_expect_eq(spool_put(sp, "{}", 2, &meta), SPOOL_FAILED);
	cr_expect_eq(errno, ENOENT, "errno %d (%s)", errno, strerror(errno));
	cr_expect_eq(count_files(dir, "tmp"), 0, "tmp file not removed");
	spool_close(sp);
	rm_rf(base);
}

Test(spool, open_fails)
{
	char		 base[256], dir[512], path[700], err[512];
	FILE		*fp;

	tmpdir(base, sizeof(base));
	/* a file where a parent directory should be */
	snprintf(path, sizeof(path), "%s/file", base);
	fp = fopen(path, "w");
	cr_assert(fp != NULL);
	fclose(fp);
	snprintf(dir, sizeof(dir), "%s/file/spool", base);
	err[0] = '\0';
	cr_expect_null(spool_open(dir, err, sizeof(err)));
	cr_expect(strstr(err, "spool:") != NULL, "err: %s", err);

	/* tmp/ a regular file */
	snprintf(dir, sizeof(dir), "%s/s2", base);
	cr_assert(mkdir(dir, 0750) == 0);
	snprintf(path, sizeof(path), "%s/tmp", dir);
	fp = fopen(path, "w");
	cr_assert(fp != NULL);
	fclose(fp);
	err[0] = '\0';
	cr_expect_null(spool_open(dir, err, sizeof(err)));
	cr_expect(strstr(err, "tmp/") != NULL, "err: %s", err);
	cr_expect_null(spool_open("", err, sizeof(err)));
	rm_rf(base);
}

#define NTHREADS	16
#define NPUTS		50

struct put_arg {
	struct spool	*sp;
	int		 id;
	int		 same;		/* everyone puts the same bytes */
	int		 stored, dups, failed;
};

static void *
put_thread(void *v)
{
	struct put_arg		*a = v;
	struct spool_meta	 meta = { .source = "https", .received = T0 };
	char			 buf[128];
	int			 i, n;

	for (i = 0; i < NPUTS; i++) {
		if (a->same)
			n = snprintf(buf, sizeof(buf), "{\"same\":%d}", i);
		else
			n = snprintf(buf, sizeof(buf), "{\"t\":%d,\"i\":%d}",
			    a->id, i);
		switch (spool_put(a->sp, buf, (size_t)n, &meta)) {
		case SPOOL_STORED:
			a->stored++;
			break;
		case SPOOL_DUPLICATE:
			a->dups++;
			break;
		default:
			a->failed++;
			break;
		}
	}
	return NULL;
}

static void
run_threads(struct spool *sp, int same, struct put_arg *args)
{
	pthread_t	th[NTHREADS];
	int		i;

	for (i = 0; i < NTHREADS; i++) {
		memset(&args[i], 0, sizeof(args[i]));
		args[i].sp = sp;
		args[i].id = i;
		args[i].same = same;
		cr_assert(pthread_create(&th[i], NULL, put_thread,
		    &args[i]) == 0);
	}
	for (i = 0; i < NTHREADS; i++)
		pthread_join(th[i], NULL);
}

Test(spool, threads_distinct, .timeout = 30)
{
	char			 base[256], dir[512], err[256], hex[65];
	char			 buf[128];
	struct put_arg		 args[NTHREADS];
	struct spool_file	 f;
	struct spool		*sp;
	int			 i, k, n, stored = 0;

	tmpdir(base, sizeof(base));
	sp = open_in(base, dir, sizeof(dir));
	run_threads(sp, 0, args);
	for (i = 0; i < NTHREADS; i++) {
		cr_expect_eq(args[i].failed, 0);
		stored += args[i].stored;
	}
	cr_expect_eq(stored, NTHREADS * NPUTS);
	cr_expect_eq(count_files(dir, "new"), NTHREADS * NPUTS);
	cr_expect_eq(count_files(dir, "tmp"), 0);
	/* every file is whole */
	for (i = 0; i < NTHREADS; i++)
		for (k = 0; k < NPUTS; k++) {
			n = snprintf(buf, sizeof(buf), "{\"t\":%d,\"i\":%d}",
			    i, k);
			sha_hex(buf, (size_t)n, hex);
			cr_assert_eq(spool_read(sp, hex, 1024, 64, &f, err,
			    sizeof(err)), SPOOL_READ_OK, "%s: %s", hex, err);
			cr_expect_eq(f.payload_len, (size_t)n);
			cr_expect(memcmp(f.payload, buf, (size_t)n) == 0);
			spool_file_free(&f);
		}
	spool_close(sp);
	rm_rf(base);
}

Test(spool, threads_same_payload, .timeout = 30)
{
	char		 base[256], dir[512];
	struct put_arg	 args[NTHREADS];
	struct spool	*sp;
	int		 i, stored = 0, dups = 0;

	tmpdir(base, sizeof(base));
	sp = open_in(base, dir, sizeof(dir));
	run_threads(sp, 1, args);
	for (i = 0; i < NTHREADS; i++) {
		cr_expect_eq(args[i].failed, 0);
		stored += args[i].stored;
		dups += args[i].dups;
	}
	/* each payload stored once (link() never replaces), the rest dups */
	cr_expect_eq(stored, NPUTS);
	cr_expect_eq(dups, (NTHREADS - 1) * NPUTS);
	cr_expect_eq(count_files(dir, "new"), NPUTS);
	cr_expect_eq(count_files(dir, "tmp"), 0);
	spool_close(sp);
	rm_rf(base);
}

static void
put_str(struct spool *sp, const char *s, int64_t mtime, char hex[65])
{
	struct spool_meta	meta = { .source = "https", .received = T0 };
	struct timespec		ts[2];
	char			path[1024];

	cr_assert_eq(spool_put(sp, s, strlen(s), &meta), SPOOL_STORED);
	sha_hex(s, strlen(s), hex);
	snprintf(path, sizeof(path), "%s/new/%s", spool_dir(sp), hex);
	ts[0].tv_sec = ts[1].tv_sec = (time_t)mtime;
	ts[0].tv_nsec = ts[1].tv_nsec = 0;
	cr_assert(utimensat(AT_FDCWD, path, ts, 0) == 0);
}

Test(spool, list_depth_remove)
{
	char			 base[256], dir[512], h[4][65];
	struct spool_entry	*ent;
	struct spool		*sp;
	size_t			 n, files;
	int64_t			 age;

	tmpdir(base, sizeof(base));
	sp = open_in(base, dir, sizeof(dir));
	cr_expect_eq(spool_depth(sp, &files, &age, T0), 0);
	cr_expect_eq(files, 0);
	cr_expect_eq(age, 0);
	put_str(sp, "c", T0 - 10, h[0]);
	put_str(sp, "a", T0 - 30, h[1]);
	put_str(sp, "b", T0 - 20, h[2]);
	put_str(sp, "d", T0 - 5, h[3]);

	cr_assert_eq(spool_list(sp, 10, &ent, &n), 0);
	cr_assert_eq(n, 4);
	cr_expect_str_eq(ent[0].name, h[1]);
	cr_expect_str_eq(ent[1].name, h[2]);
	cr_expect_str_eq(ent[2].name, h[0]);
	cr_expect_str_eq(ent[3].name, h[3]);
	free(ent);
	/* bounded: the oldest two */
	cr_assert_eq(spool_list(sp, 2, &ent, &n), 0);
	cr_assert_eq(n, 2);
	cr_expect_str_eq(ent[0].name, h[1]);
	cr_expect_str_eq(ent[1].name, h[2]);
	free(ent);

	cr_expect_eq(spool_depth(sp, &files, &age, T0), 0);
	cr_expect_eq(files, 4);
	cr_expect_eq(age, 30);

	cr_expect_eq(spool_remove(sp, h[1]), 0);
	cr_expect_eq(spool_remove(sp, h[1]), 0, "gone is fine");
	cr_expect_eq(spool_sync(sp), 0);
	cr_expect_eq(spool_depth(sp, &files, &age, T0), 0);
	cr_expect_eq(files, 3);
	cr_expect_eq(age, 20);
	spool_close(sp);
	rm_rf(base);
}

Test(spool, reject_moves_with_reason)
{
	char		 base[256], dir[512], h[65], path[1024];
	unsigned char	*got;
	struct spool	*sp;
	size_t		 len;

	tmpdir(base, sizeof(base));
	sp = open_in(base, dir, sizeof(dir));
	put_str(sp, "not a report", T0, h);
	cr_assert_eq(spool_reject(sp, h, "json: bad\r\nthing"), 0);
	cr_expect_eq(count_files(dir, "new"), 0);
	cr_expect_eq(count_files(dir, "bad"), 2);
	cr_expect_eq(count_files(dir, "tmp"), 0);
	snprintf(path, sizeof(path), "%s/bad/%s.reason", dir, h);
	got = slurp(path, &len);
	cr_expect_str_eq((char *)got, "json: bad  thing\n");
	free(got);
	snprintf(path, sizeof(path), "%s/bad/%s", dir, h);
	got = slurp(path, &len);
	cr_expect(strstr((char *)got, "\n\nnot a report") != NULL);
	free(got);
	/* a file that is gone: error, no reason file left behind */
	errno = 0;
	cr_expect_eq(spool_reject(sp, h, "again"), -1);
	cr_expect_eq(errno, ENOENT);
	cr_expect_eq(count_files(dir, "bad"), 2);
	spool_close(sp);
	rm_rf(base);
}

static void
write_new(const char *dir, const char *name, const void *buf, size_t len)
{
	char	path[1024];
	FILE	*fp;

	snprintf(path, sizeof(path), "%s/new/%s", dir, name);
	fp = fopen(path, "wb");
	cr_assert(fp != NULL);
	cr_assert_eq(fwrite(buf, 1, len, fp), len);
	fclose(fp);
}

Test(spool, read_bad_and_toobig)
{
	char			 base[256], dir[512], err[256];
	struct spool_file	 f;
	struct spool		*sp;
	const char		*s;

	tmpdir(base, sizeof(base));
	sp = open_in(base, dir, sizeof(dir));

	s = "{\"organization-name\":\"dropped here by hand\"}";
	write_new(dir, "plain.json", s, strlen(s));
	cr_expect_eq(spool_read(sp, "plain.json", 1024, 10, &f, err,
	    sizeof(err)), SPOOL_READ_BAD);
	cr_expect(strstr(err, "not a spool file") != NULL, "%s", err);
	cr_expect_eq(f.payload_len, 10, "raw bytes kept, bounded");
	cr_expect(memcmp(f.payload, s, 10) == 0);
	cr_expect_str_eq(f.source, "unknown");
	spool_file_free(&f);

	s = "TLSRPT-SPOOL 1\nsource: https\nno blank line";
	write_new(dir, "nohdr", s, strlen(s));
	cr_expect_eq(spool_read(sp, "nohdr", 1024, 64, &f, err,
	    sizeof(err)), SPOOL_READ_BAD);
	spool_file_free(&f);

	s = "TLSRPT-SPOOL 1\nsource: https\ngarbage\n\n{}";
	write_new(dir, "badline", s, strlen(s));
	cr_expect_eq(spool_read(sp, "badline", 1024, 64, &f, err,
	    sizeof(err)), SPOOL_READ_BAD);
	spool_file_free(&f);

	s = "TLSRPT-SPOOL 1\nsource: mail\norigin: mx1\nreceived: 42\n\n"
	    "0123456789abcdef";
	write_new(dir, "big", s, strlen(s));
	cr_expect_eq(spool_read(sp, "big", 15, 4, &f, err, sizeof(err)),
	    SPOOL_READ_TOOBIG);
	cr_expect(strstr(err, "over the limit") != NULL, "%s", err);
	cr_expect_str_eq(f.source, "mail");
	cr_expect_str_eq(f.origin, "mx1");
	cr_expect_eq(f.received, 42);
	cr_expect_eq(f.payload_size, 16);
	cr_expect_eq(f.payload_len, 4);
	cr_expect(memcmp(f.payload, "0123", 4) == 0);
	spool_file_free(&f);
	cr_expect_eq(spool_read(sp, "big", 16, 4, &f, err, sizeof(err)),
	    SPOOL_READ_OK);
	cr_expect_eq(f.payload_len, 16);
	spool_file_free(&f);

	cr_expect_eq(spool_read(sp, "missing", 16, 4, &f, err, sizeof(err)),
	    SPOOL_READ_GONE);
	spool_file_free(&f);
	spool_close(sp);
	rm_rf(base);
}

Test(spool, clean_tmp)
{
	char		 base[256], dir[512], path[1024];
	struct timespec	 ts[2];
	struct spool	*sp;
	FILE		*fp;

	tmpdir(base, sizeof(base));
	sp = open_in(base, dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/tmp/old.1.x", dir);
	fp = fopen(path, "w");
	cr_assert(fp != NULL);
	fclose(fp);
	ts[0].tv_sec = ts[1].tv_sec = T0 - 7200;
	ts[0].tv_nsec = ts[1].tv_nsec = 0;
	cr_assert(utimensat(AT_FDCWD, path, ts, 0) == 0);
	snprintf(path, sizeof(path), "%s/tmp/fresh.1.x", dir);
	fp = fopen(path, "w");
	cr_assert(fp != NULL);
	fclose(fp);
	ts[0].tv_sec = ts[1].tv_sec = T0 - 60;
	cr_assert(utimensat(AT_FDCWD, path, ts, 0) == 0);
	cr_expect_eq(spool_clean_tmp(sp, T0, 3600), 1);
	cr_expect_eq(count_files(dir, "tmp"), 1);
	snprintf(path, sizeof(path), "%s/tmp/fresh.1.x", dir);
	cr_expect(access(path, F_OK) == 0);
	spool_close(sp);
	rm_rf(base);
}

/*
 * Group commit and the pool of rewritten files, under concurrency.
 *
 * Why a shared fsync of new/ is as durable as one fsync per put: a put
 * links its file into new/ (after the file's own fdatasync) and only then
 * asks for a directory fsync; dir_sync() makes it wait for an fsync that
 * was begun after it asked, so after its link, and fsync(2) of a
 * directory persists every entry present when it is called.  A crash
 * before that fsync returns may lose the entry, but then the put had not
 * returned STORED and nothing was acknowledged; a crash after it cannot.
 * The file's data was fdatasync()ed before the link, so the name never
 * points at bytes that are not on disk.  The pool adds one more rule: a
 * removed file is rewritten only once an fsync of new/ begun after its
 * removal succeeded, so its old name cannot come back after a crash
 * holding someone else's bytes.  What a test can check without pulling
 * the plug is the visible half: every put that returned STORED is a
 * whole file in new/ with exactly its bytes, while other threads take
 * files away and rewrite them, and the fsyncs were shared.
 */
#define GC_THREADS	24
#define GC_PUTS		40

struct gc_arg {
	struct spool	*sp;
	int		 id;
	int		 stored, failed;
};

/* Payload i of thread id: a size that varies, so that a rewritten pool
 * file gets longer and shorter than it was. */
static int
gc_payload(int id, int i, char *buf, size_t bufsz)
{
	int	n, pad;

	n = snprintf(buf, bufsz, "{\"t\":%d,\"i\":%d,\"pad\":\"", id, i);
	for (pad = (id * 37 + i * 101) % 1500; pad > 0 &&
	    (size_t)n + 3 < bufsz; pad--)
		buf[n++] = 'a' + (pad % 26);
	buf[n++] = '"';
	buf[n++] = '}';
	buf[n] = '\0';
	return n;
}

static void *
gc_put_thread(void *v)
{
	struct gc_arg		*a = v;
	struct spool_meta	 meta = { .source = "https", .received = T0 };
	char			 buf[2048];
	int			 i, n;

	for (i = 0; i < GC_PUTS; i++) {
		n = gc_payload(a->id, i, buf, sizeof(buf));
		if (spool_put(a->sp, buf, (size_t)n, &meta) == SPOOL_STORED)
			a->stored++;
		else
			a->failed++;
	}
	return NULL;
}

/* 1 when new/NAME holds bytes whose sha256 is NAME (or is gone). */
static int
whole(struct spool *sp, const char *name)
{
	struct spool_file	f;
	char			err[256], hex[65];
	int			ok;

	switch (spool_read(sp, name, 4096, 4096, &f, err, sizeof(err))) {
	case SPOOL_READ_GONE:
		return 1;
	case SPOOL_READ_OK:
		sha_hex(f.payload, f.payload_len, hex);
		ok = strcmp(hex, name) == 0;
		spool_file_free(&f);
		return ok;
	default:
		spool_file_free(&f);
		return 0;
	}
}

struct gc_taker {
	struct spool	*sp;
	volatile int	 done;
	int		 taken, broken;
};

/* The worker's side: check, remove, fsync new/ once per round. */
static void *
gc_take_thread(void *v)
{
	struct gc_taker		*t = v;
	struct spool_entry	*ent;
	size_t			 i, n;
	int			 last = 0;

	for (;;) {
		if (t->done)
			last = 1;
		cr_assert_eq(spool_list(t->sp, 64, &ent, &n), 0);
		for (i = 0; i < n; i++) {
			if (!whole(t->sp, ent[i].name))
				t->broken++;
			cr_assert_eq(spool_remove(t->sp, ent[i].name), 0);
			t->taken++;
		}
		free(ent);
		if (n > 0)
			cr_assert_eq(spool_sync(t->sp), 0);
		if (last && n == 0)	/* the puts are over: drain all */
			break;
	}
	return NULL;
}

Test(spool, group_commit_threads, .timeout = 60)
{
	char			 base[256], dir[512];
	struct gc_arg		 args[GC_THREADS];
	struct gc_taker		 tk;
	struct spool_stats	 st;
	struct spool		*sp;
	pthread_t		 th[GC_THREADS], tt;
	int			 i, stored = 0;

	tmpdir(base, sizeof(base));
	sp = open_in(base, dir, sizeof(dir));
	memset(&tk, 0, sizeof(tk));
	tk.sp = sp;
	cr_assert(pthread_create(&tt, NULL, gc_take_thread, &tk) == 0);
	for (i = 0; i < GC_THREADS; i++) {
		memset(&args[i], 0, sizeof(args[i]));
		args[i].sp = sp;
		args[i].id = i;
		cr_assert(pthread_create(&th[i], NULL, gc_put_thread,
		    &args[i]) == 0);
	}
	for (i = 0; i < GC_THREADS; i++) {
		pthread_join(th[i], NULL);
		cr_expect_eq(args[i].failed, 0);
		stored += args[i].stored;
	}
	tk.done = 1;
	pthread_join(tt, NULL);
	cr_expect_eq(stored, GC_THREADS * GC_PUTS);
	/* every STORED put was seen whole, and taken away */
	cr_expect_eq(tk.broken, 0, "%d files not whole", tk.broken);
	cr_expect_eq(tk.taken, stored, "taken %d, stored %d", tk.taken,
	    stored);
	cr_expect_eq(count_files(dir, "new"), 0);
	cr_expect_eq(count_files(dir, "tmp"), 0, "tmp/ left over");

	spool_get_stats(sp, &st);
	/* each put and each round of the taker asked for one... */
	cr_expect_geq(st.dir_sync_calls, (uint64_t)stored);
	/* ...and they shared them (not guaranteed by timing, but 24
	 * threads that never overlap would be a bug worth seeing) */
	cr_expect_lt(st.dir_syncs, st.dir_sync_calls, "%llu fsyncs for "
	    "%llu callers", (unsigned long long)st.dir_syncs,
	    (unsigned long long)st.dir_sync_calls);
	cr_expect_gt(st.recycled, 0, "no file was rewritten");
	spool_close(sp);
	rm_rf(base);
}

/* A removed file is rewritten only after an fsync of new/ made its
 * removal durable; rewritten shorter, nothing of the old bytes stays. */
Test(spool, pool_reuse_after_sync)
{
	char			 base[256], dir[512], big[3000], h[3][65];
	char			 err[256], path[1024];
	struct spool_meta	 meta = { .source = "https", .received = T0 };
	struct spool_stats	 st;
	struct spool_file	 f;
	struct spool		*sp;
	struct stat		 sb;
	DIR			*d;
	struct dirent		*de;
	int			 dots = 0;

	tmpdir(base, sizeof(base));
	sp = open_in(base, dir, sizeof(dir));
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	put_str(sp, big, T0, h[0]);
	cr_assert_eq(spool_remove(sp, h[0]), 0);
	/* no fsync of new/ since the removal: not reused */
	cr_assert_eq(spool_put(sp, "{\"a\":1}", 7, &meta), SPOOL_STORED);
	spool_get_stats(sp, &st);
	cr_expect_eq(st.recycled, 0);
	cr_expect_eq(st.pooled, 1);
	/* that put's own fsync of new/ came after the removal: now it is */
	cr_assert_eq(spool_put(sp, "{\"b\":2}", 7, &meta), SPOOL_STORED);
	spool_get_stats(sp, &st);
	cr_expect_eq(st.recycled, 1);
	cr_expect_eq(st.pooled, 0);
	sha_hex("{\"b\":2}", 7, h[1]);
	cr_assert_eq(spool_read(sp, h[1], 4096, 4096, &f, err, sizeof(err)),
	    SPOOL_READ_OK, "%s", err);
	cr_expect_eq(f.payload_len, 7);
	cr_expect(memcmp(f.payload, "{\"b\":2}", 7) == 0);
	cr_expect_eq(f.payload_size, 7, "old bytes left: %llu",
	    (unsigned long long)f.payload_size);
	spool_file_free(&f);
	snprintf(path, sizeof(path), "%s/new/%s", dir, h[1]);
	cr_assert(stat(path, &sb) == 0);
	cr_expect_lt(sb.st_size, 200);
	cr_expect_eq(sb.st_nlink, 1);

	/* spool_sync() makes removals reusable too; close drops the pool */
	cr_assert_eq(spool_remove(sp, h[1]), 0);
	cr_assert_eq(spool_sync(sp), 0);
	put_str(sp, big, T0, h[2]);
	spool_get_stats(sp, &st);
	cr_expect_eq(st.recycled, 2);
	cr_expect(whole(sp, h[2]));
	cr_assert_eq(spool_remove(sp, h[2]), 0);
	spool_close(sp);
	snprintf(path, sizeof(path), "%s/tmp", dir);
	cr_assert((d = opendir(path)) != NULL);
	while ((de = readdir(d)) != NULL)
		if (strncmp(de->d_name, ".pool.", 6) == 0)
			dots++;
	closedir(d);
	cr_expect_eq(dots, 0, "pool files left after spool_close()");
	rm_rf(base);
}

/* --- stale pool files, refused bytes kept, the caps of bad/ -------------- */

/* How many pool files (locks 0) or lock files (locks 1) tmp/ holds. */
static int
pool_count(const char *dir, int locks)
{
	char		 path[1024];
	struct dirent	*de;
	DIR		*d;
	size_t		 len;
	int		 n = 0, lock;

	snprintf(path, sizeof(path), "%s/tmp", dir);
	cr_assert((d = opendir(path)) != NULL);
	while ((de = readdir(d)) != NULL) {
		if (strncmp(de->d_name, ".pool.", 6) != 0)
			continue;
		len = strlen(de->d_name);
		lock = len > 5 && strcmp(de->d_name + len - 5, ".lock") == 0;
		if (lock == locks)
			n++;
	}
	closedir(d);
	return n;
}

static int
pool_files(const char *dir)
{
	return pool_count(dir, 0);
}

/* A process killed with SIGKILL leaves its pool; the next open removes it. */
Test(spool, stale_pool_removed_after_kill9)
{
	char		 base[256], dir[512], h[65], hs[3][65], s[32], c;
	struct spool	*sp;
	pid_t		 pid;
	int		 fds[2], st, i;

	tmpdir(base, sizeof(base));
	sp = open_in(base, dir, sizeof(dir));
	spool_close(sp);
	cr_assert_eq(pipe(fds), 0);
	if ((pid = fork()) == 0) {
		close(fds[0]);
		if ((sp = spool_open(dir, NULL, 0)) == NULL)
			_exit(1);
		for (i = 0; i < 3; i++) {
			snprintf(s, sizeof(s), "{\"n\":%d}", i);
			put_str(sp, s, T0, hs[i]);
		}
		for (i = 0; i < 3; i++)
			if (spool_remove(sp, hs[i]) == -1)
				_exit(1);
		if (write(fds[1], "x", 1) != 1)
			_exit(1);
		pause();			/* until SIGKILL */
		_exit(1);
	}
	cr_assert_gt(pid, 0);
	close(fds[1]);
	cr_assert_eq(read(fds[0], &c, 1), 1, "the child did not get ready");
	close(fds[0]);
	cr_assert_eq(kill(pid, SIGKILL), 0);
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	cr_expect(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
	cr_expect_eq(pool_files(dir), 3, "the killed process's pool");
	cr_expect_eq(pool_count(dir, 1), 1, "the killed process's lock file");
	cr_expect_eq(count_files(dir, "new"), 0);
	sp = open_in(base, dir, sizeof(dir));
	cr_expect_eq(pool_files(dir), 0, "removed at open");
	cr_expect_eq(pool_count(dir, 1), 1, "only the new process's lock");
	put_str(sp, "{\"after\":1}", T0, h);
	cr_expect_eq(count_files(dir, "new"), 1);
	spool_close(sp);
	rm_rf(base);
}

static void	touch_file(const char *);

/*
 * A second spool_open() of a spool in use (tlsrpt-httpd --requeue-bad
 * beside the running daemon, here a second open in this process: flock()
 * locks belong to the open file, not the process) leaves the first one's
 * pool alone, as does its spool_clean_tmp(); the first one rewrites its
 * pooled file afterwards.  Closing each removes its own lock only.
 */
Test(spool, live_pool_kept_by_second_open)
{
	char			 base[256], dir[512], h[2][65];
	struct spool_meta	 meta = { .source = "https", .received = T0 };
	struct spool_stats	 st;
	struct spool		*a, *b;

	tmpdir(base, sizeof(base));
	a = open_in(base, dir, sizeof(dir));
	put_str(a, "{\"first\":1}", T0, h[0]);
	cr_assert_eq(spool_remove(a, h[0]), 0);
	cr_assert_eq(spool_sync(a), 0);
	cr_assert_eq(pool_files(dir), 1);

	b = open_in(base, dir, sizeof(dir));
	cr_expect_eq(pool_files(dir), 1, "a's pool survives b's open");
	cr_expect_eq(pool_count(dir, 1), 2, "a lock each");
	/* every file of tmp/ is older than the age limit of 0 s */
	cr_expect_eq(spool_clean_tmp(b, (int64_t)T0 + 86400LL * 365 * 100, 0), 0);
	cr_expect_eq(pool_files(dir), 1, "nor b's cleaning");
	spool_close(b);
	cr_expect_eq(pool_count(dir, 1), 1, "b's lock gone, a's stays");

	cr_assert_eq(spool_put(a, "{\"second\":2}", 12, &meta),
	    SPOOL_STORED);
	spool_get_stats(a, &st);
	cr_expect_eq(st.recycled, 1, "a rewrote its pooled file");
	sha_hex("{\"second\":2}", 12, h[1]);
	cr_expect(whole(a, h[1]));
	spool_close(a);
	cr_expect_eq(pool_files(dir) + pool_count(dir, 1), 0,
	    "nothing of the pool after both closed");
	rm_rf(base);
}

/* A lock file whose process is gone (no flock) goes at the next open. */
Test(spool, unlocked_lock_file_removed)
{
	char		 base[256], dir[512], path[1024];
	struct spool	*sp;

	tmpdir(base, sizeof(base));
	sp = open_in(base, dir, sizeof(dir));
	spool_close(sp);
	snprintf(path, sizeof(path), "%s/tmp/.pool.0123456789abcdef.lock",
	    dir);
	touch_file(path);
	snprintf(path, sizeof(path), "%s/tmp/.pool.0123456789abcdef.7", dir);
	touch_file(path);
	sp = open_in(base, dir, sizeof(dir));
	cr_expect_eq(pool_files(dir), 0);
	cr_expect_eq(pool_count(dir, 1), 1, "only the open one's own");
	spool_close(sp);
	rm_rf(base);
}

static void
mtime_bad(const char *dir, const char *name, time_t t)
{
	struct timespec	ts[2];
	char		path[1024];

	snprintf(path, sizeof(path), "%s/bad/%s", dir, name);
	ts[0].tv_sec = ts[1].tv_sec = t;
	ts[0].tv_nsec = ts[1].tv_nsec = 0;
	cr_assert(utimensat(AT_FDCWD, path, ts, 0) == 0, "%s", path);
}

static int
bad_has(const char *dir, const char *name)
{
	char		path[1024];
	struct stat	sb;

	snprintf(path, sizeof(path), "%s/bad/%s", dir, name);
	return stat(path, &sb) == 0;
}

static void
touch_file(const char *path)
{
	FILE	*fp;

	cr_assert((fp = fopen(path, "w")) != NULL);
	fclose(fp);
}

/* spool_keep: one format (a spool file), 0640, cut at keep_max, once. */
Test(spool, keep_format_mode_cut)
{
	char			 base[256], dir[512], h[65], path[1024];
	struct spool_meta	 meta = { .source = "https", .origin = "p",
				    .received = T0 };
	struct stat		 sb;
	struct spool		*sp;
	unsigned char		*got;
	size_t			 len, files;
	uint64_t		 bytes;

	tmpdir(base, sizeof(base));
	sp = open_in(base, dir, sizeof(dir));
	/* at keep_max: whole, no x-size */
	cr_assert_eq(spool_keep(sp, "abcdef", 6, 6, &meta, "json: bad"), 0);
	sha_hex("abcdef", 6, h);
	snprintf(path, sizeof(path), "%s/bad/%s", dir, h);
	got = slurp(path, &len);
	cr_expect_str_eq((char *)got, "TLSRPT-SPOOL 1\nsource: https\norigin: "
	    "p\nreceived: 1763900000\n\nabcdef");
	free(got);
	cr_assert_eq(stat(path, &sb), 0);
	cr_expect_eq(sb.st_mode & 07777, 0640, "%o", (unsigned)sb.st_mode);
	snprintf(path, sizeof(path), "%s/bad/%s.reason", dir, h);
	cr_assert_eq(stat(path, &sb), 0);
	cr_expect_eq(sb.st_mode & 07777, 0640, "%o", (unsigned)sb.st_mode);
	got = slurp(path, &len);
	cr_expect_str_eq((char *)got, "json: bad\n");
	free(got);
	/* one over: cut, with the size */
	cr_assert_eq(spool_keep(sp, "abcdefg", 7, 6, &meta, "json: bad"), 0);
	cr_expect_eq(count_files(dir, "bad"), 2, "the same kept bytes: once");
	cr_assert_eq(spool_keep(sp, "abcdeXg", 7, 6, &meta, "json: bad"), 0);
	sha_hex("abcdeX", 6, h);
	snprintf(path, sizeof(path), "%s/bad/%s", dir, h);
	got = slurp(path, &len);
	cr_expect_str_eq((char *)got, "TLSRPT-SPOOL 1\nsource: https\norigin: "
	    "p\nreceived: 1763900000\nx-size: 7\n\nabcdeX");
	free(got);
	spool_bad_usage(sp, &files, &bytes);
	cr_expect_eq(files, 2);
	spool_close(sp);
	/* reopened: counted again */
	sp = open_in(base, dir, sizeof(dir));
	spool_bad_usage(sp, &files, &bytes);
	cr_expect_eq(files, 2);
	cr_expect_gt(bytes, 100);
	/* a spool that cannot write: -1, nothing left behind */
	snprintf(path, sizeof(path), "%s/tmp", dir);
	rm_rf(path);
	touch_file(path);
	cr_expect_eq(spool_keep(sp, "zzz", 3, 6, &meta, "x: y"), -1);
	cr_expect_eq(count_files(dir, "bad"), 4);
	spool_close(sp);
	rm_rf(base);
}

/* The caps of bad/: at the cap nothing goes, one over drops the oldest. */
Test(spool, bad_caps_drop_oldest)
{
	char			 base[256], dir[512], h[6][65], s[32], rn[80];
	struct spool_meta	 meta = { .source = "https", .received = T0 };
	struct spool_stats	 st;
	struct spool		*sp;
	size_t			 files;
	uint64_t		 bytes, one;
	int			 i;

	tmpdir(base, sizeof(base));
	sp = open_in(base, dir, sizeof(dir));
	spool_set_bad_limits(sp, 3, 0);
	for (i = 0; i < 3; i++) {
		snprintf(s, sizeof(s), "body-%d", i);
		cr_assert_eq(spool_keep(sp, s, strlen(s), 100, &meta, "r: x"),
		    0);
		sha_hex(s, strlen(s), h[i]);
		mtime_bad(dir, h[i], (time_t)(T0 + i));	/* 0 oldest */
	}
	cr_expect_eq(count_files(dir, "bad"), 6, "at the cap: all kept");
	/* one over: through spool_reject too */
	put_str(sp, "body-3", T0, h[3]);
	cr_assert_eq(spool_reject(sp, h[3], "r: y"), 0);
	cr_expect_eq(count_files(dir, "bad"), 6);
	cr_expect(!bad_has(dir, h[0]), "the oldest went");
	snprintf(rn, sizeof(rn), "%s.reason", h[0]);
	cr_expect(!bad_has(dir, rn));
	cr_expect(bad_has(dir, h[1]) && bad_has(dir, h[2]) &&
	    bad_has(dir, h[3]));
	spool_get_stats(sp, &st);
	cr_expect_eq(st.bad_pruned, 1);

	/* bytes: the cap is what the three files hold now */
	spool_bad_usage(sp, &files, &bytes);
	cr_expect_eq(files, 3);
	one = bytes / 3;		/* the same sizes: "body-N", "r: x" */
	spool_set_bad_limits(sp, 0, bytes);
	mtime_bad(dir, h[3], (time_t)(T0 + 3));
	cr_assert_eq(spool_keep(sp, "body-4", 6, 100, &meta, "r: x"), 0);
	sha_hex("body-4", 6, h[4]);
	spool_bad_usage(sp, &files, &bytes);
	cr_expect_eq(files, 3, "one over in bytes: one dropped");
	cr_expect_leq(bytes, 3 * one + 2);
	cr_expect(!bad_has(dir, h[1]));
	cr_expect(bad_has(dir, h[4]));
	spool_close(sp);
	rm_rf(base);
}
