/*
 * core_daemon.c -- what tlsrpt-httpd and tlsrpt-milter share around their
 * protocol: privilege drop, the ingest worker and its complaints.
 *
 * Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
 */

#include <sys/socket.h>
#include <sys/types.h>

#include <netinet/in.h>

#include <errno.h>
#include <grp.h>
#include <netdb.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core_conf.h"
#include "core_daemon.h"
#include "ingest.h"
#include "log.h"
#include "core_spool.h"
#include "core_worker.h"

#define DAEMON_LISTEN_BACKLOG	1024

void
daemon_user(const char *user, uid_t *uid, gid_t *gid)
{
	struct passwd	*pw;

	if ((pw = getpwnam(user)) == NULL)
		fatalx("--user %s: no such user", user);
	*uid = pw->pw_uid;
	*gid = pw->pw_gid;
}

void
daemon_drop_privileges(const char *user)
{
	uid_t	uid;
	gid_t	gid;

	if (user == NULL) {
		if (geteuid() == 0)
			log_warnx("running as root: use --user in production");
		return;
	}
	daemon_user(user, &uid, &gid);
	if (setgroups(1, &gid) == -1 || setgid(gid) == -1 ||
	    setuid(uid) == -1)
		fatal("cannot drop privileges to %s", user);
	if (geteuid() == 0 && uid != 0)
		fatalx("still root after dropping privileges");
	log_info("running as %s", user);
}

struct worker *
daemon_worker_start(struct spool *sp, const char *conninfo,
    const struct ingest_limits *lim)
{
	struct worker_conf	 wc;
	struct worker		*w;
	char			 err[512];

	memset(&wc, 0, sizeof(wc));
	wc.conninfo = conninfo;
	wc.lim = *lim;
	wc.batch_max = DAEMON_WORKER_BATCH;
	wc.backoff_max_s = DAEMON_WORKER_BACKOFF_MAX_S;
	if ((w = worker_start(sp, &wc, err, sizeof(err))) == NULL)
		fatalx("%s", err);
	return w;
}

void
daemon_worker_log(struct worker *w, int64_t *seen)
{
	struct worker_stats	ws;

	worker_get_stats(w, &ws);
	if (ws.last_error_at != 0 && ws.last_error_at != *seen) {
		*seen = ws.last_error_at;
		log_warnx("worker: %s", ws.last_error);
	}
}

int
daemon_requeue_bad(const char *prog, const char *dir)
{
	struct spool	*sp;
	char		 err[512];
	size_t		 moved = 0, left = 0;
	int		 rc = 1;

	if ((sp = spool_open(dir, err, sizeof(err))) == NULL) {
		fprintf(stderr, "%s: --requeue-bad: %s\n", prog, err);
		return 1;
	}
	if (spool_requeue_bad(sp, &moved, &left) == -1)
		fprintf(stderr, "%s: --requeue-bad: %s/bad: %s (%zu file(s) "
		    "requeued before that)\n", prog, dir, strerror(errno),
		    moved);
	else {
		printf("%s: requeued %zu file(s) from %s/bad to %s/new",
		    prog, moved, dir, dir);
		if (left > 0)
			printf("; %zu left in bad/: the same name waits in "
			    "new/", left);
		printf("\n");
		rc = 0;
	}
	spool_close(sp);
	return rc;
}

int
daemon_listen(const char *spec, char *err, size_t errsz)
{
	struct addrinfo		 hints, *ai = NULL;
	struct sockaddr_storage	 ss;
	socklen_t		 sl = sizeof(ss);
	char			 host[256], port[16], h[NI_MAXHOST];
	char			 p[NI_MAXSERV];
	int			 fd = -1, on = 1, r;

	if (conf_split_hostport(spec, host, sizeof(host), port,
	    sizeof(port)) == -1) {
		snprintf(err, errsz, "--listen %s: not ADDR:PORT", spec);
		return -1;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	if ((r = getaddrinfo(host, port, &hints, &ai)) != 0) {
		snprintf(err, errsz, "--listen %s: %s", spec, gai_strerror(r));
		return -1;
	}
	if ((fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC,
	    ai->ai_protocol)) == -1)
		goto fail;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) == -1)
		goto fail;
	if (ai->ai_family == AF_INET6 && setsockopt(fd, IPPROTO_IPV6,
	    IPV6_V6ONLY, &on, sizeof(on)) == -1)
		goto fail;
	if (bind(fd, ai->ai_addr, ai->ai_addrlen) == -1 ||
	    listen(fd, DAEMON_LISTEN_BACKLOG) == -1)
		goto fail;
	if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0 &&
	    getnameinfo((struct sockaddr *)&ss, sl, h, sizeof(h), p,
	    sizeof(p), NI_NUMERICHOST | NI_NUMERICSERV) == 0)
		log_debug("bound %s:%s", h, p);
	freeaddrinfo(ai);
	return fd;
 fail:
	snprintf(err, errsz, "--listen %s: %s", spec, strerror(errno));
	if (fd != -1)
		close(fd);
	freeaddrinfo(ai);
	return -1;
}

void
daemon_mhd_log(void *cls, const char *fmt, va_list ap)
{
	char	msg[512], esc[512];
	size_t	n;

	(void)cls;
	if (vsnprintf(msg, sizeof(msg), fmt, ap) < 0)
		return;
	n = strlen(msg);
	while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
		n--;
	log_warnx("mhd: %s", log_escape(esc, sizeof(esc), msg, n));
}
