/*
 * core_worker.h -- the ingest worker: drains a spool into PostgreSQL.
 *
 * Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
 *
 * One thread per daemon.  It stores the files of new/ in batches through
 * store_put_reports() (the code path `tlsrpt import` uses), removes each
 * file only after its transaction committed, moves what can never be
 * stored to bad/ beside a NAME.reason file (and records the rejection in
 * the database), and while PostgreSQL is unreachable or not usable
 * (read-only, timing out, refusing a privilege, ...: any failure that is
 * not a fact about the report, see store_err_class()) leaves the files in
 * place and retries with exponential backoff.  A file moves to bad/ only
 * once its rejection is recorded in the database.  On start it first ingests
 * whatever an earlier run left in new/ (and clears stale tmp/ files).
 */

#ifndef TLSRPT_WORKER_H
#define TLSRPT_WORKER_H

#include <stddef.h>
#include <stdint.h>

#include "ingest.h"
#include "core_spool.h"
#include "store.h"

struct worker;

/* A consistent snapshot of the counters, for /healthz and /metrics. */
struct worker_stats {
	uint64_t	stored;		/* reports stored */
	uint64_t	duplicates;
	uint64_t	rejected;	/* files moved to bad/ */
	uint64_t	db_errors;	/* failed connects and transactions */
	int		db_up;		/* last database contact succeeded */
	double		last_latency;	/* seconds from received to commit */
	double		latency_sum;	/* over all stored reports */
	uint64_t	latency_count;
	/* rejected by reason: ingest_status_str() tokens */
	uint64_t	rejected_by[8];	/* indexed by enum ingest_status */
	uint64_t	rejected_refused; /* the database refused the report */
	uint64_t	rejected_unreadable; /* not a spool file, unreadable */
	uint64_t	rejected_front;	/* refused by the front-end (x-reject) */
	/* identity collisions (store_put_flags()) */
	uint64_t	conflicting;	/* copies that differed, first kept */
	uint64_t	replaced;	/* trusted copies that replaced one */
	uint64_t	filled;		/* copies that named unknown domains */
	char		last_error[256];	/* one line; "" when none yet */
	int64_t		last_error_at;		/* Unix seconds; 0 none */
	/*
	 * Database failures by enum store_err_class.  Only STORE_EC_REPORT
	 * rejects a report; every other class keeps the files in new/ and
	 * the worker retries with backoff.  db_error_class is the class of
	 * the last failure while it lasts, STORE_EC_NONE once a round
	 * went through again.
	 */
	uint64_t	db_errors_by[STORE_EC_N];
	int		db_error_class;
	char		db_last_error[256];	/* one line; "" none yet */
	int64_t		db_last_error_at;	/* Unix seconds; 0 none */
};

struct worker_conf {
	const char		*conninfo;	/* copied; NULL: TLSRPT_DB */
	struct ingest_limits	 lim;
	size_t			 batch_max;	/* files per transaction */
	unsigned		 backoff_max_s;	/* retry ceiling */
	unsigned		 rescan_s;	/* idle rescan of new/ */
};

/* What a zero member of worker_conf stands for.  All-zero limits stand
 * for ingest_limits_default(). */
#define WORKER_BATCH_DEFAULT	500
#define WORKER_BATCH_MAX	5000
#define WORKER_BACKOFF_DEFAULT_S 60
#define WORKER_RESCAN_DEFAULT_S	5
#define WORKER_BATCH_BYTES	(64 * 1024 * 1024)	/* JSON per batch */
#define WORKER_TMP_STALE_S	3600	/* tmp/ files removed at start */

/*
 * Start the worker thread on sp (borrowed; must outlive the worker).  The
 * conf is copied (conninfo too).  Returns NULL with a reason in err when
 * the thread cannot start; a database that is down, or not migrated, is
 * not an error here (the worker retries; see stats.db_up, last_error).
 *
 * Each spool file is parsed with the worker's reusable ingest parser,
 * ingest_parser_any() (a whole mail message is sniffed and goes to
 * ingest_message()).  For a gzip or JSON payload
 * these optional extra header lines feed struct ingest_meta:
 * "x-filename", "x-tls-report-domain", "x-tls-report-submitter",
 * "x-subject"; with "source: mail" INGEST_MF_MAIL is set too.  For any
 * payload "x-dkim" is the DKIM verdict tlsrpt-milter recorded: stored
 * with the report, trusted when it reads "pass ... aligned".  A file
 * with "x-reject: TOKEN: why" is not parsed: it is recorded as a
 * rejection with that reason and moved to bad/ (what the front-end
 * refused by policy, kept for inspection).
 * The thread runs with every signal blocked.
 */
struct worker	*worker_start(struct spool *sp, const struct worker_conf *,
		    char *err, size_t errsz);

/* Wake the worker: a new file is in new/.  Async-signal-unsafe; cheap.
 * It does not cut short a backoff wait while the database is down. */
void	worker_kick(struct worker *);

/* worker_kick() as a submit_ctx callback: w is a struct worker * or
 * NULL (nothing to wake). */
void	worker_wake(void *w);

/* Finish the batch in progress, stop the thread, free everything.
 * Files not yet stored stay in new/ for the next start.  NULL is a
 * no-op. */
void	worker_stop(struct worker *);

/* A copy of the counters; NULL gives zeroes (worker_kick(NULL) is a
 * no-op too). */
void	worker_get_stats(struct worker *, struct worker_stats *);

#endif
