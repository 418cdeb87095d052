/*
 * core_spool.h -- the durable spool between the front-ends and the database.
 *
 * Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
 *
 * Maildir discipline (DESIGN.md): a payload is written to tmp/, fsynced,
 * renamed into new/ and the directory fsynced before a front-end
 * acknowledges it.  The ingest worker stores what is in new/ and removes
 * each file once its transaction committed; what can never be stored goes
 * to bad/ beside a NAME.reason file.  kill -9 at any moment loses nothing
 * and stores nothing twice (the store deduplicates).
 *
 * A spool file is a small header, a blank line, then the payload bytes
 * exactly as received:
 *
 *	TLSRPT-SPOOL 1
 *	source: https			(https, mail)
 *	origin: 192.0.2.7		(peer address; escaped, one line)
 *	received: 1763900000		(Unix seconds)
 *	x-...: ...			(front-end specific, e.g. DKIM verdict)
 *
 * File names are the hex sha256 of the payload, so a byte-identical
 * resubmission finds its twin.  All functions are thread-safe; the
 * fsyncs of new/ are shared between concurrent callers (group commit,
 * see core_spool.c), which is why many threads should put at once.
 */

#ifndef TLSRPT_SPOOL_H
#define TLSRPT_SPOOL_H

#include <stddef.h>
#include <stdint.h>

struct spool;

#define SPOOL_HDR_MAX	16		/* extra header lines */

struct spool_meta {
	const char	*source;	/* "https" or "mail" */
	const char	*origin;	/* peer; may be NULL */
	int64_t		 received;	/* Unix seconds */
	const char	*extra[SPOOL_HDR_MAX];	/* "key: value", NULL-ended */
};

/*
 * Open (creating when missing, mode 0750) DIR/tmp, DIR/new, DIR/bad.
 * Files of the inode pool an earlier process left in tmp/ (.pool.*, a
 * kill -9 before spool_close()) are removed, and bad/ is counted for
 * its caps.  Returns a new spool owned by the caller, or NULL with a
 * one-line reason in err.
 */
struct spool	*spool_open(const char *dir, char *err, size_t errsz);
void		 spool_close(struct spool *);
const char	*spool_dir(const struct spool *);

enum spool_put_result {
	SPOOL_STORED = 0,	/* new file durably in new/ */
	SPOOL_DUPLICATE,	/* the same bytes are already waiting */
	SPOOL_FAILED,		/* errno says why (ENOSPC, EACCES, ...) */
};

/*
 * Write buf durably: tmp file, fdatasync, link into new/, fsync of new/
 * (shared with concurrent callers).  Returns when the bytes survive a
 * crash; SPOOL_DUPLICATE too returns only once the twin's name in new/
 * is durable.  buf and meta are borrowed.  A full file system (ENOSPC,
 * EDQUOT) first frees the inode pool and tries once more; SPOOL_FAILED
 * leaves nothing behind.
 */
enum spool_put_result	 spool_put(struct spool *, const void *buf,
			    size_t len, const struct spool_meta *meta);

/* Number of files in new/ and the age in seconds of the oldest (0 when
 * empty), for /healthz and /metrics.  -1 when new/ cannot be read. */
int	spool_depth(const struct spool *, size_t *files, int64_t *oldest_age,
	    int64_t now);

/*
 * The reading side, for the ingest worker (collector/core_worker.c).  Not for
 * the front-ends.  Names are bare file names inside new/.
 */

#define SPOOL_HEADER_MAX	8192	/* bytes up to the blank line */
#define SPOOL_NAME_MAX		256	/* NAME_MAX + 1 */

struct spool_entry {
	char		name[SPOOL_NAME_MAX];
	int64_t		mtime_ns;
};

/*
 * The regular files of new/ (names starting with '.' are skipped), the
 * oldest max of them, oldest first (mtime, then name).  *entp is a new
 * array owned by the caller (free()); NULL when *np is 0.  0, or -1 with
 * errno.
 */
int	spool_list(const struct spool *, size_t max, struct spool_entry **entp,
	    size_t *np);

/* A spool file read back.  Header values are as written: escaped. */
struct spool_file {
	char		*hdr;		/* owned: the header, lines split */
	const char	*source;	/* in hdr; "unknown" when absent */
	const char	*origin;	/* in hdr; NULL when absent */
	int64_t		 received;	/* header, else the file's mtime */
	const char	*extra[SPOOL_HDR_MAX + 1]; /* "key: value"; in hdr */
	unsigned char	*data;		/* owned (malloc): bytes read */
	const unsigned char *payload;	/* in data */
	size_t		 payload_len;	/* bytes of payload in data */
	uint64_t	 payload_size;	/* bytes of payload in the file */
};

enum spool_read_result {
	SPOOL_READ_OK = 0,
	SPOOL_READ_GONE,	/* no such file (already taken care of) */
	SPOOL_READ_BAD,		/* not a spool file, or unreadable: err */
	SPOOL_READ_TOOBIG,	/* payload over payload_max: err; payload
				 * holds its first keep_max bytes only */
	SPOOL_READ_AGAIN,	/* out of memory or descriptors: errno */
};

/*
 * Read new/NAME into f (filled on OK, BAD and TOOBIG; release with
 * spool_file_free()).  At most SPOOL_HEADER_MAX + payload_max bytes are
 * read, SPOOL_HEADER_MAX + keep_max when the file is bigger.  On BAD and
 * TOOBIG err gets a one-line reason; on BAD f holds the raw bytes read
 * (payload = the whole file, at most keep_max bytes) when there were any.
 */
enum spool_read_result	 spool_read(const struct spool *, const char *name,
			    size_t payload_max, size_t keep_max,
			    struct spool_file *f, char *err, size_t errsz);
/* Frees what f owns and zeroes it; a zeroed f is a no-op. */
void	spool_file_free(struct spool_file *);

/* Take new/NAME away (already gone is success): unlinked, or kept in
 * tmp/ for spool_put() to rewrite once the removal is durable.  new/ is
 * not fsynced: call spool_sync() once after a batch.  0, or -1 with
 * errno. */
int	spool_remove(const struct spool *, const char *name);

/* fsync new/: make the removals made so far durable; shares the fsync
 * with concurrent spool_put() callers.  0, or -1 with errno. */
int	spool_sync(const struct spool *);

/* Counters of the group commit, for tests and /metrics. */
struct spool_stats {
	uint64_t	dir_syncs;	/* fsyncs of new/ done */
	uint64_t	dir_sync_calls;	/* callers that needed one */
	uint64_t	recycled;	/* puts that rewrote a removed file */
	uint64_t	pooled;		/* removed files kept for that now */
	uint64_t	pool_released;	/* pool files freed for a full disk */
	uint64_t	bad_pruned;	/* old files removed from bad/ (caps) */
};
void	spool_get_stats(const struct spool *, struct spool_stats *);

/*
 * Move new/NAME to bad/NAME beside bad/NAME.reason, which gets reason
 * (control characters replaced, one line); both durably.  0, or -1 with
 * errno (the file then stays in new/).
 */
int	spool_reject(const struct spool *, const char *name,
	    const char *reason);

/*
 * Keep a refused payload for people to look at, in the one format of
 * bad/: bad/NAME is a spool file (the header of meta, plus "x-size: LEN"
 * when bytes were cut) holding at most keep_max bytes of buf, beside
 * bad/NAME.reason with reason on one line.  NAME is the sha256 of the
 * kept bytes: the same refused bytes are kept once.  Written in tmp/ and
 * renamed, so bad/ never holds a partial file; not fsynced (it is not an
 * acknowledged report).  bad/ then stays under its caps (below).  buf,
 * meta and reason are borrowed.  0 (kept now or before), or -1 with
 * errno (ENOSPC, ...): nothing is left behind.
 */
int	spool_keep(struct spool *, const void *buf, size_t len,
	    size_t keep_max, const struct spool_meta *meta, const char *reason);

/*
 * The caps of bad/, in files (a payload and its .reason count one) and
 * in bytes (both counted).  When spool_keep() or spool_reject() puts a
 * file there that takes bad/ over either cap, the oldest files (mtime)
 * are removed with their reasons until it is within both again; the one
 * just put is the last to go.  0 means no cap.  spool_open() sets
 * LIM_SPOOL_BAD_FILES and LIM_SPOOL_BAD_BYTES.  Thread-safe; other
 * processes sharing the spool are seen at the next removal.
 */
void	spool_set_bad_limits(struct spool *, size_t files, uint64_t bytes);

/* What bad/ holds now, as this process counts it. */
void	spool_bad_usage(const struct spool *, size_t *files, uint64_t *bytes);

/* Remove the files of tmp/ last modified before now - max_age seconds:
 * leftovers of a crash before rename, and pool files of this process or
 * of processes gone, never another live process's pool or this one's
 * lock file (core_spool_pool.c).  Returns how many, or -1. */
int	spool_clean_tmp(const struct spool *, int64_t now, int64_t max_age);

/*
 * Move every file of bad/ back to new/, removing its NAME.reason, for the
 * worker to try again once what rejected them is fixed (a database that
 * refused valid reports, a parser bug).  Safe while a daemon runs on the
 * spool: each file is linked into new/ (never over a file already there),
 * new/ is fsynced, and only then are bad/NAME and NAME.reason unlinked
 * (bad/ fsynced).  A running worker finds the files at its next rescan.
 * *moved gets the files requeued; *left those left in bad/ because a
 * file of the same name waits in new/ (either may be NULL).  0, or -1
 * with errno (what was requeued by then stays requeued).
 */
int	spool_requeue_bad(const struct spool *, size_t *moved, size_t *left);

#endif
