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

void
dtu_sh(const char *fmt, ...)
{
	char	*cmd;
	va_list	 ap;
	int	 st;

	va_start(ap, fmt);
	cr_assert_geq(vasprintf(&cmd, fmt, ap), 0);
	va_end(ap);
	st = system(cmd);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "failed: %s", cmd);
	free(cmd);
}

char *
dtu_run(const char *fmt, ...)
{
	struct tu_str	 out = { 0 };
	char		*cmd, buf[4096];
	va_list		 ap;
	FILE		*p;
	size_t		 n;

	va_start(ap, fmt);
	cr_assert_geq(vasprintf(&cmd, fmt, ap), 0);
	va_end(ap);
	p = popen(cmd, "r");
	cr_assert_not_null(p, "%s", cmd);
	tu_str_add(&out, "%s", "");
	while ((n = fread(buf, 1, sizeof(buf) - 1, p)) > 0) {
		buf[n] = '\0';
		tu_str_add(&out, "%s", buf);
	}
	pclose(p);
	free(cmd);
	return out.s;
}

const char *
dtu_S(const char *fmt, ...)
{
	static char	buf[8][1024];
	static int	i;
	va_list		ap;

	i = (i + 1) % 8;
	va_start(ap, fmt);
	vsnprintf(buf[i], sizeof(buf[i]), fmt, ap);
	va_end(ap);
	return buf[i];
}

void
dtu_write_file(const char *path, const void *buf, size_t len)
{
	FILE	*f = fopen(path, "wb");

	cr_assert_not_null(f, "%s", path);
	cr_assert_eq(fwrite(buf, 1, len, f), len);
	cr_assert_eq(fclose(f), 0);
}

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

const char *
dtu_bin(const char *env, const char *dflt)
{
	const char	*b = getenv(env);

	return b != NULL && *b != '\0' ? b : dflt;
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

	for (i = 0; i < 100; i++) {		/* 10 s */
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
