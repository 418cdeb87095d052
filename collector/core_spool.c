/*
 * core_spool.c -- the durable spool: Maildir-style tmp/, new/ and bad/.
 *
 * Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
 *
 * Writing: the payload goes to tmp/NAME.PID.RANDOM (O_EXCL), is fsynced,
 * then hard-linked to new/NAME and new/ is fsynced before spool_put()
 * returns.  link() rather than rename() so that a second copy of the
 * same bytes never replaces the first one under the worker's feet: it
 * finds EEXIST and is a duplicate.  The tmp link is removed afterwards;
 * a crash in between leaves a tmp/ file that the worker removes once it
 * is old (spool_clean_tmp()).
 *
 * The data is made durable with fdatasync(): it flushes the bytes and
 * the metadata needed to read them back (size, blocks), which is all a
 * file that is never rewritten needs; its name is made durable by the
 * fsync of new/ that follows the link.
 *
 * Group commit: the fsync of new/ is shared.  Concurrent spool_put()
 * callers (and the worker's spool_sync()) meet in dir_sync(): one of them,
 * the leader, calls fsync(new/) for everyone who linked before that call
 * began, and those who linked while it ran wait for the next one.  See
 * dir_sync() for why that is as durable as one fsync per put.
 *
 * Files the worker removes are kept for spool_put() to rewrite instead
 * of being unlinked: the inode pool, core_spool_pool.c, with its own
 * crash-safety argument.
 *
 * A struct spool holds the three directory descriptors, never changed
 * after spool_open(), and the group commit state behind its own mutex,
 * so every function here may be called from any thread.  Each readdir()
 * opens its own descriptor: a dup() would share the directory offset
 * between threads.
 */

#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <nettle/sha2.h>

#include "core_spool.h"
#include "core_spool_int.h"
#include "tlsrpt_limits.h"
#include "util.h"

#define SPOOL_MAGIC		"TLSRPT-SPOOL 1\n"
#define SPOOL_FILE_MODE		0640
#define SPOOL_DIR_MODE		0750
#define SPOOL_REASON_MAX	1024
#define SPOOL_TMP_TRIES		4

/* A bounded header being built. */
struct hdrbuf {
	char	buf[SPOOL_HEADER_MAX];
	size_t	len;
	int	overflow;
};

static int	mkdir_p(const char *, mode_t);
static int	open_sub(int, const char *);
static void	hdr_add(struct hdrbuf *, const char *, size_t);
static void	hdr_str(struct hdrbuf *, const char *);
static void	hdr_escaped(struct hdrbuf *, const char *);
static int	hdr_build(struct hdrbuf *, const struct spool_meta *);
static int	tmp_create(const struct spool *, const char *, char *,
		    size_t);
static int	write_all(int, const void *, size_t);
static int	writev_all(int, struct iovec *, int);
static int	dir_sync(const struct spool *);
static int	parse_header(struct spool_file *, size_t, char *, size_t);
static enum spool_put_result put_once(struct spool *, const void *, size_t,
		    const struct hdrbuf *, const char *);
static int	is_reason(const char *);
static void	bad_count(struct spool *);
static void	bad_added(const struct spool *, uint64_t, const char *);
static size_t	reason_line(char *, const char *);
static int	reason_place(const struct spool *, const char *, const char *,
		    int, size_t *);
static void	bad_prune(const struct spool *, const char *);

struct spool *
spool_open(const char *dir, char *err, size_t errsz)
{
	struct spool	*sp = NULL;
	const char	*what = NULL;

	if (err != NULL && errsz > 0)
		err[0] = '\0';
	if (dir == NULL || *dir == '\0') {
		errno = EINVAL;
		what = "no spool directory given";
		goto fail;
	}
	if ((sp = calloc(1, sizeof(*sp))) == NULL ||
	    (sp->dir = strdup(dir)) == NULL) {
		what = "out of memory";
		goto fail;
	}
	sp->dirfd = sp->tmpfd = sp->newfd = sp->badfd = -1;
	if ((sp->st = calloc(1, sizeof(*sp->st))) == NULL) {
		what = "out of memory";
		goto fail;
	}
	if ((errno = pthread_mutex_init(&sp->st->mtx, NULL)) != 0) {
		free(sp->st);
		sp->st = NULL;
		what = "cannot create a mutex for";
		goto fail;
	}
	if ((errno = pthread_cond_init(&sp->st->cond, NULL)) != 0) {
		pthread_mutex_destroy(&sp->st->mtx);
		free(sp->st);
		sp->st = NULL;
		what = "cannot create a condition variable for";
		goto fail;
	}
	if ((errno = pthread_mutex_init(&sp->st->bad_mtx, NULL)) != 0) {
		pthread_cond_destroy(&sp->st->cond);
		pthread_mutex_destroy(&sp->st->mtx);
		free(sp->st);
		sp->st = NULL;
		what = "cannot create a mutex for";
		goto fail;
	}
	sp->st->lockfd = -1;
	sp->st->bad_files_max = LIM_SPOOL_BAD_FILES;
	sp->st->bad_bytes_max = LIM_SPOOL_BAD_BYTES;
	if (mkdir_p(dir, SPOOL_DIR_MODE) == -1) {
		what = "cannot create";
		goto fail;
	}
	if ((sp->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) ==
	    -1) {
		what = "cannot open";
		goto fail;
	}
	if ((sp->tmpfd = open_sub(sp->dirfd, "tmp")) == -1) {
		what = "cannot create or open tmp/ in";
		goto fail;
	}
	if ((sp->newfd = open_sub(sp->dirfd, "new")) == -1) {
		what = "cannot create or open new/ in";
		goto fail;
	}
	if ((sp->badfd = open_sub(sp->dirfd, "bad")) == -1) {
		what = "cannot create or open bad/ in";
		goto fail;
	}
	/* the subdirectories themselves must survive a crash */
	if (fsync(sp->dirfd) == -1) {
		what = "cannot fsync";
		goto fail;
	}
	if (pool_init(sp) == -1) {
		what = "cannot lock the file pool (tmp/.pool.*.lock) of";
		goto fail;
	}
	bad_count(sp);
	return sp;
 fail:
	if (err != NULL)
		snprintf(err, errsz, "spool: %s %s: %s", what,
		    dir != NULL ? dir : "(null)", strerror(errno));
	spool_close(sp);
	return NULL;
}

void
spool_close(struct spool *sp)
{
	int	save = errno;

	if (sp == NULL)
		return;
	if (sp->st != NULL) {
		if (sp->tmpfd != -1) {
			pool_drain(sp);
			pool_unlock(sp);
		}
		pthread_cond_destroy(&sp->st->cond);
		pthread_mutex_destroy(&sp->st->mtx);
		pthread_mutex_destroy(&sp->st->bad_mtx);
		free(sp->st);
	}
	if (sp->badfd != -1)
		close(sp->badfd);
	if (sp->newfd != -1)
		close(sp->newfd);
	if (sp->tmpfd != -1)
		close(sp->tmpfd);
	if (sp->dirfd != -1)
		close(sp->dirfd);
	free(sp->dir);
	free(sp);
	errno = save;
}

const char *
spool_dir(const struct spool *sp)
{
	return sp->dir;
}

/* mkdir -p with mode for the directories it creates. */
static int
mkdir_p(const char *path, mode_t mode)
{
	char		 buf[PATH_MAX];
	struct stat	 sb;
	char		*p;
	size_t		 n;

	if ((n = strlen(path)) >= sizeof(buf)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(buf, path, n + 1);
	while (n > 1 && buf[n - 1] == '/')
		buf[--n] = '\0';
	for (p = buf + 1; ; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		if (*p == '/' && p[-1] == '/')
			continue;
		*p = '\0';
		if (mkdir(buf, mode) == -1) {
			if (errno != EEXIST)
				return -1;
			if (stat(buf, &sb) == -1)
				return -1;
			if (!S_ISDIR(sb.st_mode)) {
				errno = ENOTDIR;
				return -1;
			}
		}
		if (p == buf + n)
			break;
		*p = '/';
	}
	return 0;
}

static int
open_sub(int dirfd, const char *name)
{
	if (mkdirat(dirfd, name, SPOOL_DIR_MODE) == -1 && errno != EEXIST)
		return -1;
	return openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC);
}

/* A DIR with its own open file description on dirfd's directory. */
DIR *
spool_opendir_at(int dirfd)
{
	DIR	*d;
	int	 fd, save;

	if ((fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) ==
	    -1)
		return NULL;
	if ((d = fdopendir(fd)) == NULL) {
		save = errno;
		close(fd);
		errno = save;
	}
	return d;
}

/* --- writing ------------------------------------------------------------ */

static void
hdr_add(struct hdrbuf *h, const char *s, size_t n)
{
	if (h->overflow || n > sizeof(h->buf) - h->len) {
		h->overflow = 1;
		return;
	}
	memcpy(h->buf + h->len, s, n);
	h->len += n;
}

static void
hdr_str(struct hdrbuf *h, const char *s)
{
	hdr_add(h, s, strlen(s));
}

/* Printable ASCII stays; everything else, and '\', becomes \xHH. */
static void
hdr_escaped(struct hdrbuf *h, const char *s)
{
	const unsigned char	*p;
	char			 esc[5];

	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		if (*p >= 0x20 && *p < 0x7f && *p != '\\')
			hdr_add(h, (const char *)p, 1);
		else {
			snprintf(esc, sizeof(esc), "\\x%02x", *p);
			hdr_add(h, esc, 4);
		}
	}
}

/* The header up to and including the blank line; -1 with errno. */
static int
hdr_build(struct hdrbuf *h, const struct spool_meta *meta)
{
	const char	*e, *colon;
	char		 num[32];
	size_t		 i, k;

	h->len = 0;
	h->overflow = 0;
	hdr_str(h, SPOOL_MAGIC);
	hdr_str(h, "source: ");
	hdr_escaped(h, meta->source != NULL && *meta->source != '\0' ?
	    meta->source : "unknown");
	hdr_str(h, "\n");
	if (meta->origin != NULL) {
		hdr_str(h, "origin: ");
		hdr_escaped(h, meta->origin);
		hdr_str(h, "\n");
	}
	snprintf(num, sizeof(num), "received: %lld\n",
	    (long long)meta->received);
	hdr_str(h, num);
	for (i = 0; i < SPOOL_HDR_MAX && (e = meta->extra[i]) != NULL; i++) {
		/* "key: value", key of letters, digits and '-' */
		if ((colon = strchr(e, ':')) == NULL || colon == e) {
			errno = EINVAL;
			return -1;
		}
		for (k = 0; e + k < colon; k++)
			if (!((e[k] >= 'a' && e[k] <= 'z') ||
			    (e[k] >= 'A' && e[k] <= 'Z') ||
			    (e[k] >= '0' && e[k] <= '9') || e[k] == '-')) {
				errno = EINVAL;
				return -1;
			}
		hdr_add(h, e, (size_t)(colon - e));
		hdr_str(h, ": ");
		for (colon++; *colon == ' ' || *colon == '\t'; colon++)
			;
		hdr_escaped(h, colon);
		hdr_str(h, "\n");
	}
	hdr_str(h, "\n");
	if (h->overflow) {
		errno = EMSGSIZE;
		return -1;
	}
	return 0;
}

static int
write_all(int fd, const void *buf, size_t len)
{
	const unsigned char	*p = buf;
	ssize_t			 w;

	while (len > 0) {
		if ((w = write(fd, p, len)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

/* write_all() for a vector; iov is consumed. */
static int
writev_all(int fd, struct iovec *iov, int n)
{
	ssize_t	w;
	size_t	k;

	while (n > 0) {
		if (iov->iov_len == 0) {
			iov++;
			n--;
			continue;
		}
		if ((w = writev(fd, iov, n)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		for (k = (size_t)w; n > 0 && k >= iov->iov_len; n--, iov++)
			k -= iov->iov_len;
		if (n > 0) {
			iov->iov_base = (char *)iov->iov_base + k;
			iov->iov_len -= k;
		}
	}
	return 0;
}

/*
 * Make every entry of new/ that the caller created or removed before this
 * call durable: the group commit.  0, or -1 with errno.
 *
 * The caller's change C happened before it took the mutex.  It waits for
 * generation want = started + 1, read under the mutex after C: the fsync
 * numbered want (or later) is begun only once started reaches it, which
 * is after this read, so after C, and fsync(2) of a directory makes every
 * entry present when it is called durable.  done >= want means fsync
 * number want has returned, since they run one at a time and in order.
 * So when this returns 0, C is on disk exactly as if the caller had
 * called fsync(new/) itself after C; a crash before that leaves at worst
 * what one fsync per caller would have left.  A caller never waits for
 * more than the fsync in progress plus its own.  When any fsync from
 * want on failed the caller fails too (conservative: the error of one
 * fsync is reported to everyone it may have covered).
 */
static int
dir_sync(const struct spool *sp)
{
	struct spool_state	*ss = sp->st;
	uint64_t		 want, gen;
	int			 r, e, rc = 0;

	pthread_mutex_lock(&ss->mtx);
	ss->waiters++;
	want = ss->started + 1;
	while (ss->done < want) {
		if (ss->started != ss->done) {
			/* one is running, begun before C perhaps: wait */
			pthread_cond_wait(&ss->cond, &ss->mtx);
			continue;
		}
		/* lead: one fsync for everyone who changed new/ until now */
		gen = ++ss->started;
		pthread_mutex_unlock(&ss->mtx);
		r = fsync(sp->newfd);
		e = errno;
		pthread_mutex_lock(&ss->mtx);
		ss->done = gen;
		if (r == -1) {
			ss->failed = gen;
			ss->failed_errno = e;
		}
		pthread_cond_broadcast(&ss->cond);
	}
	if (ss->failed >= want) {
		e = ss->failed_errno;
		rc = -1;
	}
	pthread_mutex_unlock(&ss->mtx);
	if (rc == -1)
		errno = e;
	return rc;
}

void
spool_get_stats(const struct spool *sp, struct spool_stats *st)
{
	pthread_mutex_lock(&sp->st->mtx);
	st->dir_syncs = sp->st->done;
	st->dir_sync_calls = sp->st->waiters;
	st->recycled = sp->st->recycled;
	st->pooled = sp->st->pool_n;
	st->pool_released = sp->st->pool_released;
	pthread_mutex_unlock(&sp->st->mtx);
	pthread_mutex_lock(&sp->st->bad_mtx);
	st->bad_pruned = sp->st->bad_pruned;
	pthread_mutex_unlock(&sp->st->bad_mtx);
}

/*
 * Create tmp/BASE.PID.RANDOM exclusively; the name goes to tmpname.
 * Returns the descriptor or -1 with errno.
 */
static int
tmp_create(const struct spool *sp, const char *base, char *tmpname,
    size_t tmpsz)
{
	unsigned char	rnd[8];
	char		hex[2 * sizeof(rnd) + 1];
	int		fd, tries, w;

	for (tries = 0; tries < SPOOL_TMP_TRIES; tries++) {
		if (getentropy(rnd, sizeof(rnd)) == -1)
			return -1;
		util_hex(rnd, sizeof(rnd), hex);
		w = snprintf(tmpname, tmpsz, "%s.%ld.%s", base,
		    (long)getpid(), hex);
		if (w < 0 || (size_t)w >= tmpsz) {
			errno = ENAMETOOLONG;
			return -1;
		}
		fd = openat(sp->tmpfd, tmpname, O_WRONLY | O_CREAT | O_EXCL |
		    O_NOFOLLOW | O_CLOEXEC, SPOOL_FILE_MODE);
		if (fd != -1 || errno != EEXIST)
			return fd;
	}
	return -1;
}

enum spool_put_result
spool_put(struct spool *sp, const void *buf, size_t len,
    const struct spool_meta *meta)
{
	struct sha256_ctx	 ctx;
	struct hdrbuf		*h = NULL;
	unsigned char		 digest[SHA256_DIGEST_SIZE];
	char			 name[2 * SHA256_DIGEST_SIZE + 1];
	enum spool_put_result	 rv = SPOOL_FAILED;
	int			 save;

	if (sp == NULL || meta == NULL || (buf == NULL && len > 0)) {
		errno = EINVAL;
		return SPOOL_FAILED;
	}
	sha256_init(&ctx);
	sha256_update(&ctx, len, buf);
	sha256_digest(&ctx, sizeof(digest), digest);
	util_hex(digest, sizeof(digest), name);

	if ((h = malloc(sizeof(*h))) == NULL)
		return SPOOL_FAILED;
	if (hdr_build(h, meta) == -1)
		goto out;
	rv = put_once(sp, buf, len, h, name);
	/* a full file system: the pool's files hold blocks; free them */
	if (rv == SPOOL_FAILED && (errno == ENOSPC || errno == EDQUOT) &&
	    pool_release(sp) > 0)
		rv = put_once(sp, buf, len, h, name);
 out:
	save = errno;
	free(h);
	errno = save;
	return rv;
}

/* One attempt of spool_put() with the header built. */
static enum spool_put_result
put_once(struct spool *sp, const void *buf, size_t len,
    const struct hdrbuf *h, const char *name)
{
	struct stat		 sb;
	struct iovec		 iov[2];
	char			 tmpname[SPOOL_NAME_MAX];
	enum spool_put_result	 rv = SPOOL_FAILED;
	off_t			 old = 0;
	int			 fd = -1, save;

	tmpname[0] = '\0';
	if (fstatat(sp->newfd, name, &sb, AT_SYMLINK_NOFOLLOW) == 0) {
		/* the twin that linked it may still wait for its fsync */
		if (dir_sync(sp) == 0)
			rv = SPOOL_DUPLICATE;
		goto out;
	}
	if (errno != ENOENT)
		goto out;
	if ((fd = pool_take(sp, tmpname, sizeof(tmpname), &old)) == -1 &&
	    (fd = tmp_create(sp, name, tmpname, sizeof(tmpname))) == -1) {
		tmpname[0] = '\0';
		goto out;
	}
	iov[0].iov_base = (void *)(uintptr_t)h->buf;	/* not written to */
	iov[0].iov_len = h->len;
	iov[1].iov_base = (void *)(uintptr_t)buf;
	iov[1].iov_len = len;
	if (writev_all(fd, iov, 2) == -1)
		goto out;
	/* a rewritten pool file: cut what is left of the old bytes */
	if (old > (off_t)(h->len + len) &&
	    ftruncate(fd, (off_t)(h->len + len)) == -1)
		goto out;
	if (fdatasync(fd) == -1)
		goto out;
	if (close(fd) == -1) {
		fd = -1;
		goto out;
	}
	fd = -1;
	if (linkat(sp->tmpfd, tmpname, sp->newfd, name, 0) == -1) {
		/* a twin was faster: durable once its link is */
		if (errno == EEXIST && dir_sync(sp) == 0)
			rv = SPOOL_DUPLICATE;
		goto out;
	}
	/* should this fail, the file stays in new/: it is complete */
	if (dir_sync(sp) == -1)
		goto out;
	rv = SPOOL_STORED;
 out:
	save = errno;
	if (fd != -1)
		close(fd);
	if (tmpname[0] != '\0')
		(void)unlinkat(sp->tmpfd, tmpname, 0);
	errno = save;
	return rv;
}

int
spool_depth(const struct spool *sp, size_t *files, int64_t *oldest_age,
    int64_t now)
{
	struct dirent	*de;
	struct stat	 sb;
	DIR		*d;
	size_t		 n = 0;
	int64_t		 oldest = INT64_MAX;

	*files = 0;
	*oldest_age = 0;
	if ((d = spool_opendir_at(sp->newfd)) == NULL)
		return -1;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if (fstatat(sp->newfd, de->d_name, &sb,
		    AT_SYMLINK_NOFOLLOW) == -1 || !S_ISREG(sb.st_mode))
			continue;
		n++;
		if ((int64_t)sb.st_mtime < oldest)
			oldest = (int64_t)sb.st_mtime;
	}
	closedir(d);
	*files = n;
	if (n > 0 && now > oldest)
		*oldest_age = now - oldest;
	return 0;
}

/* --- reading ------------------------------------------------------------ */

static int
entry_cmp(const struct spool_entry *a, const struct spool_entry *b)
{
	if (a->mtime_ns != b->mtime_ns)
		return a->mtime_ns < b->mtime_ns ? -1 : 1;
	return strcmp(a->name, b->name);
}

static int
entry_qcmp(const void *a, const void *b)
{
	return entry_cmp(a, b);
}

/* Max-heap on (mtime, name): the newest kept entry is at the top. */
static void
heap_down(struct spool_entry *h, size_t n, size_t i)
{
	struct spool_entry	t;
	size_t			l, r, m;

	for (;;) {
		l = 2 * i + 1;
		r = l + 1;
		m = i;
		if (l < n && entry_cmp(&h[l], &h[m]) > 0)
			m = l;
		if (r < n && entry_cmp(&h[r], &h[m]) > 0)
			m = r;
		if (m == i)
			return;
		t = h[i];
		h[i] = h[m];
		h[m] = t;
		i = m;
	}
}

static void
heap_up(struct spool_entry *h, size_t i)
{
	struct spool_entry	t;
	size_t			p;

	while (i > 0) {
		p = (i - 1) / 2;
		if (entry_cmp(&h[i], &h[p]) <= 0)
			return;
		t = h[i];
		h[i] = h[p];
		h[p] = t;
		i = p;
	}
}

int
spool_list(const struct spool *sp, size_t max, struct spool_entry **entp,
    size_t *np)
{
	struct spool_entry	*h = NULL, e;
	struct dirent		*de;
	struct stat		 sb;
	DIR			*d = NULL;
	size_t			 n = 0, len;
	int			 rc = -1, save;

	*entp = NULL;
	*np = 0;
	if (max == 0)
		return 0;
	if ((h = calloc(max, sizeof(*h))) == NULL)
		goto out;
	if ((d = spool_opendir_at(sp->newfd)) == NULL)
		goto out;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.' ||
		    (len = strlen(de->d_name)) >= sizeof(e.name))
			continue;
		if (fstatat(sp->newfd, de->d_name, &sb,
		    AT_SYMLINK_NOFOLLOW) == -1 || !S_ISREG(sb.st_mode))
			continue;
		memcpy(e.name, de->d_name, len + 1);
		e.mtime_ns = (int64_t)sb.st_mtim.tv_sec * 1000000000 +
		    sb.st_mtim.tv_nsec;
		if (n < max) {
			h[n] = e;
			heap_up(h, n++);
		} else if (entry_cmp(&e, &h[0]) < 0) {
			h[0] = e;
			heap_down(h, n, 0);
		}
	}
	qsort(h, n, sizeof(*h), entry_qcmp);
	rc = 0;
 out:
	save = errno;
	if (d != NULL)
		closedir(d);
	if (rc == 0 && n > 0) {
		*entp = h;
		*np = n;
	} else
		free(h);
	errno = save;
	return rc;
}

void
spool_file_free(struct spool_file *f)
{
	if (f == NULL)
		return;
	free(f->hdr);
	free(f->data);
	memset(f, 0, sizeof(*f));
}

/*
 * Split the header of f->data[0..len) into f; 0, or -1 with a reason in
 * err (f->hdr may then be set; spool_file_free releases it).
 */
static int
parse_header(struct spool_file *f, size_t len, char *err, size_t errsz)
{
	const unsigned char	*end, *p;
	size_t			 hlen, magic = sizeof(SPOOL_MAGIC) - 1, nx = 0;
	int64_t			 t;
	char			*line, *next, *v;
	int			 have_source = 0;

	if (len < magic || memcmp(f->data, SPOOL_MAGIC, magic) != 0) {
		snprintf(err, errsz, "not a spool file: no TLSRPT-SPOOL 1 "
		    "line");
		return -1;
	}
	hlen = len < SPOOL_HEADER_MAX ? len : SPOOL_HEADER_MAX;
	end = NULL;
	for (p = f->data + magic - 1; p + 1 < f->data + hlen; p++)
		if (p[0] == '\n' && p[1] == '\n') {
			end = p;
			break;
		}
	if (end == NULL) {
		snprintf(err, errsz, "not a spool file: no end of header in "
		    "%d bytes", SPOOL_HEADER_MAX);
		return -1;
	}
	hlen = (size_t)(end - f->data) + 2;
	if (memchr(f->data, '\0', hlen) != NULL) {
		snprintf(err, errsz, "not a spool file: NUL in header");
		return -1;
	}
	if ((f->hdr = malloc(hlen + 1)) == NULL) {
		snprintf(err, errsz, "out of memory");
		return -1;
	}
	memcpy(f->hdr, f->data, hlen);
	f->hdr[hlen] = '\0';
	for (line = f->hdr + magic; *line != '\n'; line = next) {
		next = strchr(line, '\n');	/* there is one: "\n\n" */
		*next++ = '\0';
		if ((v = strstr(line, ": ")) == NULL) {
			snprintf(err, errsz, "not a spool file: malformed "
			    "header line");
			return -1;
		}
		*v = '\0';
		v += 2;
		if (strcmp(line, "source") == 0 && !have_source) {
			f->source = v;
			have_source = 1;
		} else if (strcmp(line, "origin") == 0 && f->origin == NULL) {
			f->origin = v;
		} else if (strcmp(line, "received") == 0 &&
		    util_strtoi64(v, 0, INT64_MAX, &t) == 0) {
			f->received = t;
		} else {
			if (nx == SPOOL_HDR_MAX) {
				snprintf(err, errsz, "not a spool file: over "
				    "%d extra header lines", SPOOL_HDR_MAX);
				return -1;
			}
			v[-2] = ':';	/* back to "key: value" */
			f->extra[nx++] = line;
		}
	}
	f->extra[nx] = NULL;
	f->payload = f->data + hlen;
	f->payload_len = len - hlen;
	return 0;
}

enum spool_read_result
spool_read(const struct spool *sp, const char *name, size_t payload_max,
    size_t keep_max, struct spool_file *f, char *err, size_t errsz)
{
	struct stat		 sb;
	enum spool_read_result	 rv = SPOOL_READ_BAD;
	size_t			 limit, n = 0;
	uint64_t		 size;
	ssize_t			 r;
	int			 fd = -1, save;

	memset(f, 0, sizeof(*f));
	err[0] = '\0';
	fd = openat(sp->newfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
	    O_CLOEXEC);
	if (fd == -1) {
		if (errno == ENOENT)
			rv = SPOOL_READ_GONE;
		else if (errno == ENOMEM || errno == EMFILE ||
		    errno == ENFILE)
			rv = SPOOL_READ_AGAIN;
		else
			snprintf(err, errsz, "cannot open: %s",
			    strerror(errno));
		goto out;
	}
	if (fstat(fd, &sb) == -1) {
		snprintf(err, errsz, "cannot stat: %s", strerror(errno));
		goto out;
	}
	f->source = "unknown";
	f->received = (int64_t)sb.st_mtime;
	if (!S_ISREG(sb.st_mode)) {
		snprintf(err, errsz, "not a regular file");
		goto out;
	}
	size = (uint64_t)sb.st_size;
	if (size <= (uint64_t)SPOOL_HEADER_MAX + payload_max)
		limit = (size_t)size;
	else
		limit = SPOOL_HEADER_MAX + keep_max;
	if ((f->data = malloc(limit + 1)) == NULL) {
		rv = SPOOL_READ_AGAIN;
		goto out;
	}
	while (n < limit) {
		r = read(fd, f->data + n, limit - n);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1) {
			snprintf(err, errsz, "cannot read: %s",
			    strerror(errno));
			goto out;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	f->data[n] = '\0';
	if (parse_header(f, n, err, errsz) == -1) {
		free(f->hdr);
		f->hdr = NULL;
		memset(f->extra, 0, sizeof(f->extra));
		f->source = "unknown";
		f->origin = NULL;
		f->received = (int64_t)sb.st_mtime;
		f->payload = f->data;
		f->payload_len = n < keep_max ? n : keep_max;
		f->payload_size = size;
		goto out;
	}
	f->payload_size = size - (uint64_t)(f->payload - f->data);
	if (f->payload_size > payload_max) {
		snprintf(err, errsz, "payload of %llu bytes over the limit of "
		    "%zu", (unsigned long long)f->payload_size, payload_max);
		if (f->payload_len > keep_max)
			f->payload_len = keep_max;
		rv = SPOOL_READ_TOOBIG;
		goto out;
	}
	rv = SPOOL_READ_OK;
 out:
	save = errno;
	if (fd != -1)
		close(fd);
	if (rv == SPOOL_READ_GONE || rv == SPOOL_READ_AGAIN)
		spool_file_free(f);
	errno = save;
	return rv;
}

int
spool_remove(const struct spool *sp, const char *name)
{
	/* a small file goes to the pool for spool_put() to rewrite */
	if (pool_keep(sp, name))
		return 0;
	if (unlinkat(sp->newfd, name, 0) == -1 && errno != ENOENT)
		return -1;
	return 0;
}

int
spool_sync(const struct spool *sp)
{
	return dir_sync(sp);
}

int
spool_reject(const struct spool *sp, const char *name, const char *reason)
{
	char		 rname[SPOOL_NAME_MAX];
	struct stat	 sb;
	size_t		 n;
	int		 rc = -1, save, w, placed = 0;

	w = snprintf(rname, sizeof(rname), "%s.reason", name);
	if (w < 0 || (size_t)w >= sizeof(rname)) {
		errno = ENAMETOOLONG;
		goto out;
	}
	/* gone already (another worker): leave bad/ alone */
	if (fstatat(sp->newfd, name, &sb, AT_SYMLINK_NOFOLLOW) == -1)
		goto out;
	if (reason_place(sp, rname, reason, 1, &n) == -1)
		goto out;
	placed = 1;
	if (renameat(sp->newfd, name, sp->badfd, name) == -1)
		goto out;
	placed = 0;
	if (fsync(sp->badfd) == -1 || fsync(sp->newfd) == -1)
		goto out;
	rc = 0;
	bad_added(sp, (uint64_t)sb.st_size + n, name);
 out:
	save = errno;
	if (placed)		/* the file did not follow its reason */
		(void)unlinkat(sp->badfd, rname, 0);
	errno = save;
	return rc;
}

/* reason on one line into line (SPOOL_REASON_MAX + 1): its length. */
static size_t
reason_line(char *line, const char *reason)
{
	size_t	i, n;

	n = strnlen(reason, SPOOL_REASON_MAX - 1);
	for (i = 0; i < n; i++) {
		line[i] = reason[i];
		if ((unsigned char)line[i] < 0x20 || line[i] == 0x7f)
			line[i] = ' ';
	}
	line[n++] = '\n';
	return n;
}

/*
 * Write reason, on one line, to bad/RNAME: through a file of tmp/,
 * fsynced first when sync is set, then renamed into bad/.  *np is the
 * length written.  Returns 0, or -1 with errno and nothing left behind.
 */
static int
reason_place(const struct spool *sp, const char *rname, const char *reason,
    int sync, size_t *np)
{
	char	line[SPOOL_REASON_MAX + 1], tmpname[SPOOL_NAME_MAX];
	int	fd, rc = -1, save;

	*np = reason_line(line, reason);
	if ((fd = tmp_create(sp, rname, tmpname, sizeof(tmpname))) == -1)
		return -1;
	if (write_all(fd, line, *np) == -1 || (sync && fsync(fd) == -1))
		goto out;
	if (close(fd) == -1) {
		fd = -1;
		goto out;
	}
	fd = -1;
	if (renameat(sp->tmpfd, tmpname, sp->badfd, rname) == -1)
		goto out;
	rc = 0;
 out:
	save = errno;
	if (fd != -1)
		close(fd);
	if (rc == -1)
		(void)unlinkat(sp->tmpfd, tmpname, 0);
	errno = save;
	return rc;
}

int
spool_keep(struct spool *sp, const void *buf, size_t len, size_t keep_max,
    const struct spool_meta *meta, const char *reason)
{
	struct sha256_ctx	 ctx;
	struct spool_meta	 m;
	struct hdrbuf		*h = NULL;
	struct stat		 sb;
	struct iovec		 iov[2];
	unsigned char		 digest[SHA256_DIGEST_SIZE];
	char			 name[2 * SHA256_DIGEST_SIZE + 1];
	char			 rname[SPOOL_NAME_MAX], tmpname[SPOOL_NAME_MAX];
	char			 size[48];
	size_t			 kept, n, i;
	int			 fd = -1, rc = -1, save, placed = 0;

	tmpname[0] = '\0';
	if (sp == NULL || meta == NULL || reason == NULL ||
	    (buf == NULL && len > 0)) {
		errno = EINVAL;
		return -1;
	}
	kept = len < keep_max ? len : keep_max;
	sha256_init(&ctx);
	sha256_update(&ctx, kept, buf);
	sha256_digest(&ctx, sizeof(digest), digest);
	util_hex(digest, sizeof(digest), name);
	snprintf(rname, sizeof(rname), "%s.reason", name);
	if (fstatat(sp->badfd, name, &sb, AT_SYMLINK_NOFOLLOW) == 0)
		return 0;			/* kept before */
	m = *meta;
	if (kept < len) {
		for (i = 0; i < SPOOL_HDR_MAX && m.extra[i] != NULL; i++)
			;
		snprintf(size, sizeof(size), "x-size: %zu", len);
		if (i < SPOOL_HDR_MAX) {
			m.extra[i] = size;
			if (i + 1 < SPOOL_HDR_MAX)
				m.extra[i + 1] = NULL;
		}
	}
	if ((h = malloc(sizeof(*h))) == NULL || hdr_build(h, &m) == -1)
		goto out;
	if ((fd = tmp_create(sp, name, tmpname, sizeof(tmpname))) == -1) {
		tmpname[0] = '\0';
		goto out;
	}
	iov[0].iov_base = h->buf;
	iov[0].iov_len = h->len;
	iov[1].iov_base = (void *)(uintptr_t)buf;	/* not written to */
	iov[1].iov_len = kept;
	if (writev_all(fd, iov, 2) == -1)
		goto out;
	if (close(fd) == -1) {
		fd = -1;
		goto out;
	}
	fd = -1;
	if (reason_place(sp, rname, reason, 0, &n) == -1)
		goto out;
	placed = 1;
	if (renameat(sp->tmpfd, tmpname, sp->badfd, name) == -1)
		goto out;
	tmpname[0] = '\0';
	placed = 0;
	rc = 0;
	bad_added(sp, (uint64_t)(h->len + kept + n), name);
 out:
	save = errno;
	if (fd != -1)
		close(fd);
	if (tmpname[0] != '\0')
		(void)unlinkat(sp->tmpfd, tmpname, 0);
	if (placed)
		(void)unlinkat(sp->badfd, rname, 0);
	free(h);
	errno = save;
	return rc;
}

void
spool_set_bad_limits(struct spool *sp, size_t files, uint64_t bytes)
{
	pthread_mutex_lock(&sp->st->bad_mtx);
	sp->st->bad_files_max = files;
	sp->st->bad_bytes_max = bytes;
	pthread_mutex_unlock(&sp->st->bad_mtx);
}

void
spool_bad_usage(const struct spool *sp, size_t *files, uint64_t *bytes)
{
	pthread_mutex_lock(&sp->st->bad_mtx);
	*files = sp->st->bad_files;
	*bytes = sp->st->bad_bytes;
	pthread_mutex_unlock(&sp->st->bad_mtx);
}

static int
is_reason(const char *name)
{
	size_t	n = strlen(name);

	return n > 7 && strcmp(name + n - 7, ".reason") == 0;
}

/* A file of bad/ with its reason, for bad_prune(). */
struct bad_ent {
	char		name[SPOOL_NAME_MAX];
	int64_t		mtime_ns;
	uint64_t	bytes;		/* with its .reason */
};

static int
bad_cmp(const void *a, const void *b)
{
	const struct bad_ent	*x = a, *y = b;

	if (x->mtime_ns != y->mtime_ns)
		return x->mtime_ns < y->mtime_ns ? -1 : 1;
	return strcmp(x->name, y->name);
}

/*
 * Scan bad/: its payload files into *entp (NULL: count only), and the
 * totals.  0, or -1 (out of memory, unreadable).
 */
static int
bad_scan(const struct spool *sp, struct bad_ent **entp, size_t *np,
    uint64_t *bytesp)
{
	struct bad_ent	*v = NULL, *nv;
	struct dirent	*de;
	struct stat	 sb;
	DIR		*d;
	size_t		 n = 0, cap = 0, l;
	uint64_t	 bytes = 0;
	char		 rname[SPOOL_NAME_MAX + 8];

	if ((d = spool_opendir_at(sp->badfd)) == NULL)
		return -1;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.' || fstatat(sp->badfd, de->d_name, &sb,
		    AT_SYMLINK_NOFOLLOW) == -1 || !S_ISREG(sb.st_mode))
			continue;
		bytes += (uint64_t)sb.st_size;
		if (is_reason(de->d_name) ||
		    (l = strlen(de->d_name)) >= SPOOL_NAME_MAX)
			continue;
		if (entp != NULL && n == cap) {
			cap = cap ? 2 * cap : 256;
			if ((nv = realloc(v, cap * sizeof(*v))) == NULL) {
				free(v);
				closedir(d);
				return -1;
			}
			v = nv;
		}
		if (entp != NULL) {
			memcpy(v[n].name, de->d_name, l + 1);
			v[n].mtime_ns = (int64_t)sb.st_mtim.tv_sec *
			    1000000000 + sb.st_mtim.tv_nsec;
			v[n].bytes = (uint64_t)sb.st_size;
			snprintf(rname, sizeof(rname), "%s.reason", de->d_name);
			if (fstatat(sp->badfd, rname, &sb,
			    AT_SYMLINK_NOFOLLOW) == 0)
				v[n].bytes += (uint64_t)sb.st_size;
		}
		n++;
	}
	closedir(d);
	if (entp != NULL)
		*entp = v;
	*np = n;
	*bytesp = bytes;
	return 0;
}

static void
bad_count(struct spool *sp)
{
	size_t		n;
	uint64_t	bytes;

	if (bad_scan(sp, NULL, &n, &bytes) == -1)
		return;
	sp->st->bad_files = n;
	sp->st->bad_bytes = bytes;
}

static int
bad_over(const struct spool_state *ss)
{
	return (ss->bad_files_max > 0 && ss->bad_files > ss->bad_files_max) ||
	    (ss->bad_bytes_max > 0 && ss->bad_bytes > ss->bad_bytes_max);
}

/* bytes more in bad/, for name (just put there): prune when over. */
static void
bad_added(const struct spool *sp, uint64_t bytes, const char *name)
{
	struct spool_state	*ss = sp->st;

	pthread_mutex_lock(&ss->bad_mtx);
	ss->bad_files++;
	ss->bad_bytes += bytes;
	if (bad_over(ss))
		bad_prune(sp, name);
	pthread_mutex_unlock(&ss->bad_mtx);
}

/*
 * With bad_mtx held: recount bad/ and remove its oldest files (and their
 * reasons) until it is within its caps; keep goes last.
 */
static void
bad_prune(const struct spool *sp, const char *keep)
{
	struct spool_state	*ss = sp->st;
	struct bad_ent		*v = NULL;
	char			 rname[SPOOL_NAME_MAX + 8];
	size_t			 n, i, pass;
	uint64_t		 bytes;

	if (bad_scan(sp, &v, &n, &bytes) == -1)
		return;
	ss->bad_files = n;
	ss->bad_bytes = bytes;
	qsort(v, n, sizeof(*v), bad_cmp);
	for (pass = 0; pass < 2 && bad_over(ss); pass++)
		for (i = 0; i < n && bad_over(ss); i++) {
			if (v[i].name[0] == '\0' ||
			    (pass == 0 && strcmp(v[i].name, keep) == 0))
				continue;
			if (unlinkat(sp->badfd, v[i].name, 0) == -1 &&
			    errno != ENOENT)
				continue;
			snprintf(rname, sizeof(rname), "%s.reason", v[i].name);
			(void)unlinkat(sp->badfd, rname, 0);
			ss->bad_files--;
			ss->bad_bytes -= v[i].bytes < ss->bad_bytes ?
			    v[i].bytes : ss->bad_bytes;
			ss->bad_pruned++;
			v[i].name[0] = '\0';
		}
	free(v);
}

int
spool_clean_tmp(const struct spool *sp, int64_t now, int64_t max_age)
{
	struct dirent	*de;
	struct stat	 sb;
	DIR		*d;
	int		 n = 0;

	if ((d = spool_opendir_at(sp->tmpfd)) == NULL)
		return -1;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if (fstatat(sp->tmpfd, de->d_name, &sb,
		    AT_SYMLINK_NOFOLLOW) == -1 || S_ISDIR(sb.st_mode))
			continue;
		/* another live process's pool: its own cleaning's */
		if (pool_own_lock(sp, de->d_name) ||
		    pool_foreign_live(sp, de->d_name))
			continue;
		if ((int64_t)sb.st_mtime >= now - max_age)
			continue;
		if (unlinkat(sp->tmpfd, de->d_name, 0) == 0)
			n++;
	}
	closedir(d);
	return n;
}

/* --- requeue: bad/ back to new/ (tlsrpt-httpd/-milter --requeue-bad) --- */

static int
is_reason_name(const char *name)
{
	size_t	n = strlen(name);

	return n > 7 && strcmp(name + n - 7, ".reason") == 0;
}

int
spool_requeue_bad(const struct spool *sp, size_t *moved, size_t *left)
{
	struct dirent	*de;
	struct stat	 sb;
	DIR		*d = NULL;
	char		**names = NULL, **nn, rname[SPOOL_NAME_MAX];
	size_t		 n = 0, cap = 0, i, nmoved = 0, nleft = 0;
	int		 rc = -1, save = 0, w;

	if (moved != NULL)
		*moved = 0;
	if (left != NULL)
		*left = 0;
	/* the names first: bad/ changes under readdir() as we go */
	if ((d = spool_opendir_at(sp->badfd)) == NULL) {
		save = errno;
		goto out;
	}
	for (;;) {
		errno = 0;
		if ((de = readdir(d)) == NULL) {
			if ((save = errno) != 0)
				goto out;
			break;
		}
		if (de->d_name[0] == '.' || is_reason_name(de->d_name) ||
		    strlen(de->d_name) >= SPOOL_NAME_MAX)
			continue;
		if (fstatat(sp->badfd, de->d_name, &sb,
		    AT_SYMLINK_NOFOLLOW) == -1 || !S_ISREG(sb.st_mode))
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			if ((nn = reallocarray(names, cap, sizeof(*names))) ==
			    NULL) {
				save = errno;
				goto out;
			}
			names = nn;
		}
		if ((names[n] = strdup(de->d_name)) == NULL) {
			save = errno;
			goto out;
		}
		n++;
	}

	/*
	 * Linked into new/ (never over a file waiting there: a twin with
	 * the same payload), new/ made durable, only then out of bad/: a
	 * crash in between leaves the file in both, and the worker stores
	 * it as a duplicate at worst.  A worker rejecting new/NAME again
	 * meanwhile renames it onto the bad/NAME it is a link of, which
	 * leaves it in new/ for the next round: nothing is lost.
	 */
	for (i = 0; i < n; i++) {
		if (linkat(sp->badfd, names[i], sp->newfd, names[i], 0) ==
		    -1) {
			if (errno == EEXIST || errno == ENOENT) {
				nleft += errno == EEXIST;
				free(names[i]);
				names[i] = NULL;
				continue;
			}
			save = errno;
			goto out;
		}
	}
	if (fsync(sp->newfd) == -1) {
		save = errno;
		goto out;
	}
	for (i = 0; i < n; i++) {
		if (names[i] == NULL)
			continue;
		if (unlinkat(sp->badfd, names[i], 0) == -1 && errno != ENOENT) {
			save = errno;
			goto out;
		}
		w = snprintf(rname, sizeof(rname), "%s.reason", names[i]);
		if (w > 0 && (size_t)w < sizeof(rname) &&
		    unlinkat(sp->badfd, rname, 0) == -1 && errno != ENOENT) {
			save = errno;
			goto out;
		}
		nmoved++;
	}
	if (fsync(sp->badfd) == -1) {
		save = errno;
		goto out;
	}
	rc = 0;
 out:
	if (d != NULL)
		closedir(d);
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	if (moved != NULL)
		*moved = nmoved;
	if (left != NULL)
		*left = nleft;
	errno = save;
	return rc;
}
