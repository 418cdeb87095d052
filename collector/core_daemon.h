/*
 * core_daemon.h -- what tlsrpt-httpd and tlsrpt-milter do the same way around
 * their protocol: dropping root, starting the ingest worker and logging
 * its complaints, the listening socket and libmicrohttpd's log lines
 * (also tlsrpt-web's).  The --domain allow list is the verdict's (submit.h).
 *
 * Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
 */

#ifndef TLSRPT_DAEMON_H
#define TLSRPT_DAEMON_H

#include <sys/types.h>

#include <stdarg.h>
#include <stdint.h>

#include "core_conf.h"
#include "ingest.h"
#include "core_worker.h"

/*
 * Become user (--user) for good, or, with user NULL, warn when running
 * as root.  Startup only: fatal when the user is unknown or root stays.
 */
void	daemon_drop_privileges(const char *user);

/*
 * Log what the worker (borrowed) last complained about, once: *seen
 * holds the time of the complaint logged last (start with 0).
 */
void	daemon_worker_log(struct worker *, int64_t *seen);

/*
 * The user's ids (--user), for the privilege drop and the milter
 * socket's owner.  Startup only: fatal when the user is unknown.
 */
void	daemon_user(const char *user, uid_t *uid, gid_t *gid);

/* What both daemons start their ingest worker with. */
#define DAEMON_WORKER_BATCH		500	/* files per transaction */
#define DAEMON_WORKER_BACKOFF_MAX_S	30	/* retry ceiling */

/*
 * Start the ingest worker on sp (borrowed) for database conninfo (NULL:
 * TLSRPT_DB) with the limits lim (copied).  Startup only: fatal when
 * the thread cannot start.
 */
struct worker	*daemon_worker_start(struct spool *sp, const char *conninfo,
		    const struct ingest_limits *lim);

/*
 * --requeue-bad: move the files of DIR/bad back to DIR/new (see
 * spool_requeue_bad()), say what was done on stdout, or why not on
 * stderr.  Returns the exit code: 0 done, 1 failed.
 */
int	daemon_requeue_bad(const char *prog, const char *dir);

/*
 * A listening TCP socket on spec, "ADDR:PORT" or "[ADDR6]:PORT" (IPv6
 * only on a v6 address, SO_REUSEADDR).  Returns the descriptor (the
 * caller's), or -1 with err saying why.  Shared by tlsrpt-httpd and
 * tlsrpt-web.
 */
int	daemon_listen(const char *spec, char *err, size_t errsz);

/*
 * libmicrohttpd's external logger (MHD_OPTION_EXTERNAL_LOGGER): its
 * messages end with a newline and may quote a peer, so they are logged
 * escaped, as one "mhd: ..." warning.
 */
void	daemon_mhd_log(void *cls, const char *fmt, va_list ap)
	    __attribute__((format(printf, 2, 0)));

#endif
