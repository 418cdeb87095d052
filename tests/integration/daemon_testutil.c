/*
 * daemon_testutil.c -- helpers for the tests that run the real daemons:
 * see daemon_testutil.h.
 *
 * Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
 */

#define _GNU_SOURCE
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "daemon_testutil.h"
#include "store.h"
#include "store_testutil.h"
#include "testutil.h"

int
dtu_free_port(void)
{
	struct sockaddr_in	sin;
	socklen_t		sl = sizeof(sin);
	int			fd, port;

	fd = socket(AF_INET, SOCK_STREAM, 0);
	cr_assert_geq(fd, 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cr_assert_eq(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	cr_assert_eq(getsockname(fd, (struct sockaddr *)&sin, &sl), 0);
	port = ntohs(sin.sin_port);
	close(fd);
	return port;
}

pid_t
dtu_spawn(const char *cmd)
{
	pid_t	pid;

	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	return pid;
}

int
dtu_wait_ready(pid_t pid, int (*ready)(void *), void *arg,
    const char *name, const char *log)
{
	int	i;

	for (i = 0; i < 300; i++) {		/* 30 s: ASan, a loaded box */
		if (ready(arg))
			return 1;
		cr_assert_eq(waitpid(pid, NULL, WNOHANG), 0,
		    "%s exited; see %s", name, log);
		usleep(100 * 1000);
	}
	return 0;
}

int
dtu_stop(pid_t pid, int sig, int tries, int *st)
{
	int	i;

	kill(pid, sig);
	for (i = 0; i < tries; i++) {
		if (waitpid(pid, st, WNOHANG) == pid)
			return 1;
		usleep(50 * 1000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, st, 0);
	return 0;
}

void
dtu_make_db(struct stu_db *db, int *have, const char *label)
{
	struct store	*st;

	stu_db_create(db, label);
	*have = 1;
	st = stu_open(db, 1);
	store_close(st);
}
