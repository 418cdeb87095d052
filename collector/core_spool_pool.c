/*
 * core_spool_pool.c -- the spool's inode pool: files the worker is done
 * with are renamed from new/ to tmp/.pool.TOKEN.ID instead of unlinked,
 * and spool_put() rewrites them in place instead of creating a file.
 *
 * Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
 *
 * Why: creating a file allocates an inode and unlinking one frees it,
 * and at thousands a second that costs more CPU than the rest of a put
 * (ext4 scans past every inode freed lately for each new one); blocks
 * overwritten in place spare fdatasync() the block bitmap and group
 * descriptor writes.  Measured on `make bench-httpd` (README "Speed"):
 * it pays, so it stays.
 *
 * Crash safety: kill -9 (or a power cut) at any moment loses nothing and
 * stores nothing twice.
 *
 *  - Nothing acknowledged is lost.  A put answers only after the bytes
 *    were written to the pool file from offset 0, the rest cut off
 *    (ftruncate), fdatasync()ed (size included: it is needed to read
 *    them), linked to new/NAME and new/ fsynced, exactly as for a new
 *    file.  Before that fsync returns nothing was acknowledged: the
 *    sender tries again.  A file enters the pool only after the worker's
 *    transaction that stored it committed (spool_remove()), so the bytes
 *    a rewrite destroys are in PostgreSQL already.
 *
 *  - Nothing comes back holding other bytes.  The rename out of new/
 *    is durable only once an fsync of new/ begun after it has returned
 *    (the worker's spool_sync(), or any put's group commit).  Until then
 *    a power cut may bring new/OLDNAME back, and it must come back with
 *    its own (already stored) bytes, which the store then sees as a
 *    duplicate.  So an entry records need, the number of the first
 *    fsync of new/ that begins after its rename, and pool_take() hands
 *    it out only once that fsync succeeded (a failed one drops it).
 *    After a kill -9 the kernel keeps every rename anyway.
 *
 *  - Nothing is stored twice.  The file rewritten is linked to new/ under
 *    its new content's name with link(), never over a name that exists;
 *    the pool file's own name in tmp/ is unlinked after the link, as
 *    any tmp file is.  A crash leaves at most a tmp/.pool.* file, never
 *    a second name in new/.
 *
 *  - What a crash leaves behind goes, what a live process owns stays.
 *    Pool names carry a token drawn at each spool_open(), so two
 *    processes sharing a spool (a daemon and a --requeue-bad run, or a
 *    process and its predecessor) never take each other's files.  The
 *    process holds an exclusive flock(2) on tmp/.pool.TOKEN.lock for as
 *    long as its spool is open; the kernel drops it when the process
 *    dies, however.  spool_open() unlinks every .pool.* file whose token
 *    is not so locked (a killed process's), and spool_clean_tmp() those
 *    older than its age limit, but for a live process's other than its
 *    own.  A pool file that vanished under its live process (its own
 *    age limit) is skipped by pool_take(); one unlinked while being
 *    rewritten makes that put fail before anything was acknowledged
 *    (its link finds no source).
 *
 *  - A full file system: pool files hold blocks, so spool_put() frees
 *    them all (pool_release()) and tries once more before it fails.
 *
 * The ring and its counters live in struct spool_state, under its mutex
 * (the group commit's: need compares with its generations).
 */

#include <sys/file.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core_spool.h"
#include "core_spool_int.h"
#include "util.h"

#define POOL_PREFIX	".pool."
#define POOL_PREFIX_LEN	6
#define POOL_TOKEN_LEN	16	/* hex digits */
#define POOL_LOCK_TRIES	8	/* tokens drawn before giving up */

static void	pool_name(const struct spool *, uint32_t, char *, size_t);
static void	lock_name(const char *, char *, size_t);
static int	lock_take(struct spool *);
static void	pool_clean_stale(struct spool *);
static int	is_lock_name(const char *);
static void	lock_unlink(struct spool *, const char *);

/*
 * The token of this spool_open() and its lock, then away with the files
 * of processes gone (the directories are open by now).  0, or -1 with
 * errno (no entropy, no lock file).
 */
int
pool_init(struct spool *sp)
{
	if (lock_take(sp) == -1)
		return -1;
	pool_clean_stale(sp);
	return 0;
}

/* The end of pool_drain(): the lock file goes, then the lock. */
void
pool_unlock(struct spool *sp)
{
	char	name[SPOOL_NAME_MAX];

	if (sp->st->lockfd == -1)
		return;
	lock_name(sp->st->token, name, sizeof(name));
	(void)unlinkat(sp->tmpfd, name, 0);
	(void)close(sp->st->lockfd);
	sp->st->lockfd = -1;
}

/*
 * 1 when NAME in tmp/ is a pool file or lock file of a live process
 * other than this one: its token's lock file is flock()ed.
 */
int
pool_foreign_live(const struct spool *sp, const char *name)
{
	char	token[POOL_TOKEN_LEN + 1], lname[SPOOL_NAME_MAX];
	int	fd, live;

	if (strncmp(name, POOL_PREFIX, POOL_PREFIX_LEN) != 0 ||
	    strlen(name) <= POOL_PREFIX_LEN + POOL_TOKEN_LEN ||
	    name[POOL_PREFIX_LEN + POOL_TOKEN_LEN] != '.')
		return 0;
	memcpy(token, name + POOL_PREFIX_LEN, POOL_TOKEN_LEN);
	token[POOL_TOKEN_LEN] = '\0';
	if (strcmp(token, sp->st->token) == 0)
		return 0;
	lock_name(token, lname, sizeof(lname));
	fd = openat(sp->tmpfd, lname, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd == -1)
		return 0;
	live = flock(fd, LOCK_SH | LOCK_NB) == -1 && errno == EWOULDBLOCK;
	(void)close(fd);
	return live;
}

/* 1 when NAME in tmp/ is this process's own lock file. */
int
pool_own_lock(const struct spool *sp, const char *name)
{
	char	lname[SPOOL_NAME_MAX];

	lock_name(sp->st->token, lname, sizeof(lname));
	return strcmp(name, lname) == 0;
}

static void
lock_name(const char *token, char *buf, size_t bufsz)
{
	snprintf(buf, bufsz, POOL_PREFIX "%s.lock", token);
}

/*
 * Draw a token and hold the flock of its tmp/.pool.TOKEN.lock.  Between
 * the file's creation and the flock, another process's cleaning may find
 * it unlocked and unlink it; then the name no longer leads to the file
 * locked, and a new token is drawn.  0, or -1 with errno.
 */
static int
lock_take(struct spool *sp)
{
	struct spool_state	*ss = sp->st;
	unsigned char		 rnd[POOL_TOKEN_LEN / 2];
	char			 name[SPOOL_NAME_MAX];
	struct stat		 a, b;
	int			 fd = -1, i, e;

	for (i = 0; i < POOL_LOCK_TRIES; i++) {
		if (getentropy(rnd, sizeof(rnd)) == -1)
			return -1;
		util_hex(rnd, sizeof(rnd), ss->token);
		lock_name(ss->token, name, sizeof(name));
		fd = openat(sp->tmpfd, name, O_RDWR | O_CREAT | O_EXCL |
		    O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd == -1) {
			if (errno == EEXIST)
				continue;
			return -1;
		}
		if (flock(fd, LOCK_EX | LOCK_NB) == 0 && fstat(fd, &a) == 0 &&
		    fstatat(sp->tmpfd, name, &b, AT_SYMLINK_NOFOLLOW) == 0 &&
		    a.st_dev == b.st_dev && a.st_ino == b.st_ino) {
			ss->lockfd = fd;
			return 0;
		}
		e = errno;
		(void)close(fd);
		errno = e;
	}
	if (errno == 0)
		errno = EAGAIN;
	return -1;
}

static void
pool_name(const struct spool *sp, uint32_t id, char *buf, size_t bufsz)
{
	snprintf(buf, bufsz, POOL_PREFIX "%s.%lu", sp->st->token,
	    (unsigned long)id);
}

/*
 * Keep new/NAME in the pool instead of unlinking it (spool_remove()):
 * 1 when it is gone from new/ (pooled, or gone already), 0 when the
 * caller must unlink it (pool full, file too big, rename failed).
 */
int
pool_keep(const struct spool *sp, const char *name)
{
	struct spool_state	*ss = sp->st;
	struct stat		 sb;
	char			 pname[SPOOL_NAME_MAX];
	uint32_t		 id;
	size_t			 slot;
	int			 room;

	pthread_mutex_lock(&ss->mtx);
	room = ss->pool_n < SPOOL_POOL_MAX;
	id = ss->pool_next++;
	pthread_mutex_unlock(&ss->mtx);
	if (room && fstatat(sp->newfd, name, &sb, AT_SYMLINK_NOFOLLOW) == 0 &&
	    S_ISREG(sb.st_mode) && sb.st_size <= SPOOL_POOL_FILE_MAX) {
		pool_name(sp, id, pname, sizeof(pname));
		if (renameat(sp->newfd, name, sp->tmpfd, pname) == 0) {
			pthread_mutex_lock(&ss->mtx);
			if (ss->pool_n < SPOOL_POOL_MAX) {
				slot = (ss->pool_head + ss->pool_n++) %
				    SPOOL_POOL_MAX;
				/* the first fsync of new/ begun from now */
				ss->pool[slot].need = ss->started + 1;
				ss->pool[slot].size = sb.st_size;
				ss->pool[slot].id = id;
				room = 1;
			} else
				room = 0;
			pthread_mutex_unlock(&ss->mtx);
			if (!room)
				(void)unlinkat(sp->tmpfd, pname, 0);
			return 1;
		}
		if (errno == ENOENT)
			return 1;	/* gone already */
	}
	return 0;
}

/*
 * Open a file of the pool for rewriting, its name in tmp/ to name and
 * its size to *sizep.  It is not truncated: overwriting its blocks in
 * place, and truncating only what is left over, spares the fdatasync()
 * the writes of the block bitmap and group descriptor that freeing and
 * allocating blocks costs.  -1 when there is none that may be reused
 * yet (or it vanished: spool_clean_tmp() of another process sharing the
 * spool).
 */
int
pool_take(const struct spool *sp, char *name, size_t namesz, off_t *sizep)
{
	struct spool_state	*ss = sp->st;
	struct pool_ent		 e;
	int			 fd, lost;

	for (;;) {
		pthread_mutex_lock(&ss->mtx);
		if (ss->pool_n == 0 || ss->pool[ss->pool_head].need > ss->done) {
			pthread_mutex_unlock(&ss->mtx);
			return -1;
		}
		e = ss->pool[ss->pool_head];
		ss->pool_head = (ss->pool_head + 1) % SPOOL_POOL_MAX;
		ss->pool_n--;
		/* an fsync that was to make its removal durable failed */
		lost = ss->failed >= e.need;
		pthread_mutex_unlock(&ss->mtx);
		pool_name(sp, e.id, name, namesz);
		if (lost) {
			(void)unlinkat(sp->tmpfd, name, 0);
			continue;
		}
		fd = openat(sp->tmpfd, name, O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
		if (fd != -1) {
			*sizep = e.size;
			pthread_mutex_lock(&ss->mtx);
			ss->recycled++;
			pthread_mutex_unlock(&ss->mtx);
			return fd;
		}
		(void)unlinkat(sp->tmpfd, name, 0);
	}
}

/* Unlink the files of the pool (spool_close()). */
void
pool_drain(struct spool *sp)
{
	struct spool_state	*ss = sp->st;
	char			 name[SPOOL_NAME_MAX];

	for (; ss->pool_n > 0; ss->pool_n--) {
		pool_name(sp, ss->pool[ss->pool_head].id, name, sizeof(name));
		(void)unlinkat(sp->tmpfd, name, 0);
		ss->pool_head = (ss->pool_head + 1) % SPOOL_POOL_MAX;
	}
}

/* Unlink every file of the pool: the file system is full.  How many. */
size_t
pool_release(struct spool *sp)
{
	struct spool_state	*ss = sp->st;
	char			 name[SPOOL_NAME_MAX];
	uint32_t		 id;
	size_t			 n = 0;

	for (;;) {
		pthread_mutex_lock(&ss->mtx);
		if (ss->pool_n == 0) {
			ss->pool_released += n;
			pthread_mutex_unlock(&ss->mtx);
			return n;
		}
		id = ss->pool[ss->pool_head].id;
		ss->pool_head = (ss->pool_head + 1) % SPOOL_POOL_MAX;
		ss->pool_n--;
		pthread_mutex_unlock(&ss->mtx);
		pool_name(sp, id, name, sizeof(name));
		if (unlinkat(sp->tmpfd, name, 0) == 0)
			n++;
	}
}

/*
 * At open: the pool files and lock files of processes gone (.pool.TOKEN.*
 * in tmp/, the lock not held: a kill -9 skipped spool_close()).  Their
 * removal from new/ was made durable or not; either way nobody needs
 * them.  A live process's stay: --requeue-bad opens the spool of a
 * running daemon.
 */
static void
pool_clean_stale(struct spool *sp)
{
	struct dirent	*de;
	DIR		*d;

	if ((d = spool_opendir_at(sp->tmpfd)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (strncmp(de->d_name, POOL_PREFIX, POOL_PREFIX_LEN) != 0 ||
		    pool_own_lock(sp, de->d_name))
			continue;
		if (is_lock_name(de->d_name))
			lock_unlink(sp, de->d_name);
		else if (!pool_foreign_live(sp, de->d_name))
			(void)unlinkat(sp->tmpfd, de->d_name, 0);
	}
	closedir(d);
}

static int
is_lock_name(const char *name)
{
	size_t	n = strlen(name);

	return n > 5 && strcmp(name + n - 5, ".lock") == 0;
}

/*
 * Unlink a lock file nobody holds, holding it meanwhile: a process that
 * has just created it and not yet locked it then fails its flock, or
 * finds its name gone after it (lock_take() draws another token), where
 * a lock probed and released before the unlink would leave it holding
 * a lock no other process can find.
 */
static void
lock_unlink(struct spool *sp, const char *name)
{
	int	fd;

	fd = openat(sp->tmpfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd == -1)
		return;
	if (flock(fd, LOCK_EX | LOCK_NB) == 0)
		(void)unlinkat(sp->tmpfd, name, 0);
	(void)close(fd);
}
