/*
 * core_spool_int.h -- what core_spool.c and core_spool_pool.c share; not
 * for other files.
 *
 * Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
 */

#ifndef TLSRPT_SPOOL_INT_H
#define TLSRPT_SPOOL_INT_H

#include <sys/types.h>

#include <dirent.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "core_spool.h"

#define SPOOL_POOL_MAX		4096	/* files kept for reuse */
#define SPOOL_POOL_FILE_MAX	(64 * 1024)	/* bigger ones are unlinked */

/*
 * The group commit of new/ (dir_sync()).  Generations count the fsyncs of
 * new/: started is the number of the last one begun, done that of the
 * last one finished; at most one runs at a time (started == done, or
 * started == done + 1 while it runs).
 *
 * The pool (core_spool_pool.c): pool[] is a FIFO ring of the files kept
 * in tmp/ for reuse, each with the generation that made it reusable.
 */
struct pool_ent {
	uint64_t	 need;		/* generation that made it reusable */
	off_t		 size;		/* bytes in it */
	uint32_t	 id;
};

struct spool_state {
	pthread_mutex_t	 mtx;
	pthread_cond_t	 cond;		/* done moved */
	uint64_t	 started;
	uint64_t	 done;
	uint64_t	 failed;	/* last generation that failed; 0 none */
	int		 failed_errno;
	uint64_t	 waiters;	/* calls to dir_sync(), for stats */

	struct pool_ent	 pool[SPOOL_POOL_MAX];	/* FIFO ring */
	size_t		 pool_head;
	size_t		 pool_n;
	uint32_t	 pool_next;	/* next ID */
	char		 token[17];	/* per spool_open(), in pool names */
	int		 lockfd;	/* flock()ed tmp/.pool.TOKEN.lock */
	uint64_t	 recycled;	/* puts that rewrote a pool file */
	uint64_t	 pool_released;	/* freed for a full file system */

	/* bad/ and its caps (spool_keep(), spool_reject()) */
	pthread_mutex_t	 bad_mtx;	/* guards these; held while pruning */
	size_t		 bad_files;	/* payloads (a .reason beside each) */
	uint64_t	 bad_bytes;	/* of both */
	size_t		 bad_files_max;	/* 0: no cap */
	uint64_t	 bad_bytes_max;
	uint64_t	 bad_pruned;
};

struct spool {
	char			*dir;		/* owned */
	int			 dirfd;
	int			 tmpfd;
	int			 newfd;
	int			 badfd;
	struct spool_state	*st;		/* owned; mutable, own mutex */
};

/* opendir() of a descriptor of ours, with its own offset. */
DIR	*spool_opendir_at(int dirfd);

/* core_spool_pool.c: see there. */
int	pool_init(struct spool *);
int	pool_keep(const struct spool *, const char *name);
int	pool_take(const struct spool *, char *name, size_t namesz,
	    off_t *sizep);
void	pool_drain(struct spool *);
void	pool_unlock(struct spool *);
int	pool_foreign_live(const struct spool *, const char *name);
int	pool_own_lock(const struct spool *, const char *name);
size_t	pool_release(struct spool *);

#endif
