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
 *  - What a crash leaves behind goes.  Pool names carry a token drawn at
 *    each spool_open(), so two processes sharing a spool (or a process
 *    and its predecessor) never take each other's files; spool_open()
 *    unlinks every .pool.* file it finds (a killed process's), and
 *    spool_clean_tmp() those older than its age limit.  A pool file that
 *    vanished so under a live process is skipped by pool_take(); one
 *    unlinked while being rewritten makes that put fail before anything
 *    was acknowledged (its link finds no source).
 *
 *  - A full file system: pool files hold blocks, so spool_put() frees
 *    them all (pool_release()) and tries once more before it fails.
 *
 * The ring and its counters live in struct spool_state, under its mutex
 * (the group commit's: need compares with its generations).
 */

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

static void	pool_name(const struct spool *, uint32_t, char *, size_t);
static void	pool_clean_stale(struct spool *);

/*
 * The token of this spool_open(), then away with the files an earlier
 * process left (the directories are open by now).  0, or -1 with errno
 * (no entropy).
 */
int
pool_init(struct spool *sp)
{
	unsigned char	rnd[8];

	if (getentropy(rnd, sizeof(rnd)) == -1)
		return -1;
	util_hex(rnd, sizeof(rnd), sp->st->token);
	pool_clean_stale(sp);
	return 0;
}

static void
pool_name(const struct spool *sp, uint32_t id, char *buf, size_t bufsz)
{
	snprintf(buf, bufsz, ".pool.%s.%lu", sp->st->token, (unsigned long)id);
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
 * At open: the pool files of an earlier process (.pool.TOKEN.ID in tmp/;
 * a kill -9 skipped spool_close()).  Their removal from new/ was made
 * durable or not; either way nobody needs them.
 */
static void
pool_clean_stale(struct spool *sp)
{
	struct dirent	*de;
	DIR		*d;

	if ((d = spool_opendir_at(sp->tmpfd)) == NULL)
		return;
	while ((de = readdir(d)) != NULL)
		if (strncmp(de->d_name, ".pool.", 6) == 0)
			(void)unlinkat(sp->tmpfd, de->d_name, 0);
	closedir(d);
}
