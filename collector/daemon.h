/*
 * daemon.h -- what tlsrpt-httpd and tlsrpt-milter do the same way around
 * their protocol: dropping root, logging the ingest worker's complaints,
 * and the --domain allow list.
 *
 * Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
 */

#ifndef TLSRPT_DAEMON_H
#define TLSRPT_DAEMON_H

#include <stdint.h>

#include "conf.h"
#include "ingest.h"
#include "worker.h"

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
 * 1 when domains is empty or one of the policy domains of rep is a
 * listed domain or below one (a DANE policy domain can be an MX host
 * name); 0 otherwise.  Both stay owned by the caller.
 */
int	daemon_domain_listed(const struct conf_list *domains,
	    const struct tlsrpt_report *rep);

/*
 * --requeue-bad: move the files of DIR/bad back to DIR/new (see
 * spool_requeue_bad()), say what was done on stdout, or why not on
 * stderr.  Returns the exit code: 0 done, 1 failed.
 */
int	daemon_requeue_bad(const char *prog, const char *dir);

#endif
