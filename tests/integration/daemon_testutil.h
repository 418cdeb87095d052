/*
 * daemon_testutil.h -- helpers for the tests that run the real daemons
 * (test_httpd.c, test_milter.c): free ports, a daemon started and
 * stopped as a child, a fresh database; the shell commands and files of
 * tests/lib/sh_testutil.h come with them.  They fail the calling test
 * (cr_assert) when something they need does not work.
 *
 * Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
 */

#ifndef TLSRPT_DAEMON_TESTUTIL_H
#define TLSRPT_DAEMON_TESTUTIL_H

#include <sys/types.h>

#include <stddef.h>

#include "sh_testutil.h"	/* dtu_sh(), dtu_run(), dtu_S(), ... */
#include "store_testutil.h"

/* A TCP port on 127.0.0.1 that was free a moment ago. */
int		 dtu_free_port(void);

/*
 * Start /bin/sh -c cmd as a child (killed when the test process dies);
 * cmd stays the caller's.  Returns its pid.
 */
pid_t		 dtu_spawn(const char *cmd);

/*
 * Poll ready(arg) every 100 ms, 300 times at most (30 s), while the
 * child pid runs: the test fails with "NAME exited; see LOG" when it
 * exits first.  Returns 1 once ready, 0 when it never was.
 */
int		 dtu_wait_ready(pid_t pid, int (*ready)(void *), void *arg,
		    const char *name, const char *log);

/*
 * Send sig to pid and reap it, waiting 50 ms at a time, tries times at
 * most; then SIGKILL it and reap it.  Returns 1 when it exited in time,
 * 0 when it had to be killed; *st is its wait status either way.
 */
int		 dtu_stop(pid_t pid, int sig, int tries, int *st);

/*
 * A fresh database for this test, migrated: *have is 1 as soon as there
 * is one to drop (stu_db_drop()).
 */
void		 dtu_make_db(struct stu_db *, int *have, const char *label);

#endif
