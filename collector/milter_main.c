/*
 * milter_main.c -- tlsrpt-milter: collects SMTP TLS reports (RFC 8460) mailed
 * to the rua address at SMTP time, through libmilter, and spools them
 * for PostgreSQL.
 *
 * Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
 *
 * main() opens the milter socket, drops root, opens the spool, starts
 * the ingest worker (collector/core_worker.c, shared with tlsrpt-httpd), then
 * runs smfi_main() on a thread of its own.  The main thread takes the
 * signals, as tlsrpt-httpd does:
 *
 *   SIGHUP	reload the config: recipients, action, domains, DKIM
 *		settings and the size limit apply to connections made from
 *		then on.  Socket, spool, db and user change on restart only.
 *   SIGTERM	stop accepting, let the messages at end of data finish,
 *   SIGINT	stop the worker, exit 0.
 *
 * libmilter's own signal thread would stop the milter on SIGHUP.  It
 * never sees a signal here: the main thread keeps SIGHUP, SIGTERM and
 * SIGINT unblocked with handlers, and Linux hands a process-directed
 * signal to the main thread first when it can take it (every other
 * thread blocks them).
 */

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/un.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <libmilter/mfapi.h>

#include "core_daemon.h"
#include "log.h"
#include "milter_conf.h"
#include "milter_msg.h"
#include "milter_shim.h"
#include "core_spool.h"
#include "core_worker.h"

#define MILTER_VERSION		"0.1"
#define MILTER_NAME		"tlsrpt-milter"
#define STOP_WAIT_S		30	/* for messages at end of data */

static struct milt_front	 fr;
static int			 sigpipe[2] = { -1, -1 };
static char			 wake_spec[1024];	/* the socket */
static atomic_int		 wake_done;

static void	*milter_thread(void *);
static void	 on_signal(int);
static void	*waker(void *);
static void	 wake_listener(const char *);
static void	 unix_socket_owner(const char *, const char *);
static void	 stats_log(const char *);

/* libmilter behind the shim (milter_shim.h). */
static const struct milt_ops libmilter_ops = {
	.getpriv = smfi_getpriv,
	.setpriv = smfi_setpriv,
	.getsymval = smfi_getsymval,
	.addheader = smfi_addheader,
	.chgheader = smfi_chgheader,
	.delrcpt = smfi_delrcpt,
	.setreply = smfi_setreply,
};

int
main(int argc, char *argv[])
{
	struct milt_conf	*conf, *nc;
	struct smfiDesc		 desc;
	struct spool		*sp;
	struct worker		*w;
	struct ingest_limits	 lim;
	struct sigaction	 sa;
	struct pollfd		 pfd;
	pthread_t		 mt, wt;
	sigset_t		 set, old;
	char			 err[512], spec[1024];
	unsigned char		 sig;
	int64_t			 werr_at = 0;
	time_t			 until;
	int			 e, stop = 0;

	if ((conf = mconf_load(argc, argv, err, sizeof(err))) == NULL) {
		fprintf(stderr, "%s: %s\n", MILTER_NAME, err);
		return 2;
	}
	if (conf->foreground_help) {
		if (conf->foreground_help == 2)
			printf("%s %s\n", MILTER_NAME, MILTER_VERSION);
		else
			mconf_usage();
		mconf_free(conf);
		return 0;
	}
	if (conf->requeue_bad) {
		e = daemon_requeue_bad(MILTER_NAME, conf->spool);
		mconf_free(conf);
		return e;
	}
	log_init(!conf->syslog, MILTER_NAME, LOG_MAIL, conf->verbose);

	/* signals: a self-pipe written by handlers in the main thread */
	if (pipe(sigpipe) == -1)
		fatal("pipe");
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	if (sigaction(SIGHUP, &sa, NULL) == -1 ||
	    sigaction(SIGTERM, &sa, NULL) == -1 ||
	    sigaction(SIGINT, &sa, NULL) == -1)
		fatal("sigaction");
	signal(SIGPIPE, SIG_IGN);

	/* libmilter's "local:" is our "unix:" */
	if (strncmp(conf->socket, "unix:", 5) == 0)
		snprintf(spec, sizeof(spec), "local:%s", conf->socket + 5);
	else
		snprintf(spec, sizeof(spec), "%s", conf->socket);
	memset(&desc, 0, sizeof(desc));
	desc.xxfi_name = (char *)(uintptr_t)MILTER_NAME;
	desc.xxfi_version = SMFI_VERSION;
	desc.xxfi_flags = MILT_FLAGS;
	desc.xxfi_negotiate = milt_negotiate;
	desc.xxfi_connect = milt_connect;
	desc.xxfi_envfrom = milt_envfrom;
	desc.xxfi_envrcpt = milt_envrcpt;
	desc.xxfi_data = milt_data;
	desc.xxfi_header = milt_header;
	desc.xxfi_eoh = milt_eoh;
	desc.xxfi_body = milt_body;
	desc.xxfi_eom = milt_eom;
	desc.xxfi_abort = milt_abort;
	desc.xxfi_close = milt_close;
	if (smfi_setconn(spec) == MI_FAILURE ||
	    smfi_settimeout((int)conf->timeout) == MI_FAILURE ||
	    smfi_register(desc) == MI_FAILURE)
		fatalx("libmilter: cannot register the filter");
	/* a unix socket group-writable: the MTA's user joins the group */
	umask(007);
	if (smfi_opensocket(true) == MI_FAILURE)
		fatalx("--socket %s: cannot open the milter socket",
		    conf->socket);
	umask(027);
	if (conf->user != NULL && (strncmp(conf->socket, "unix:", 5) == 0 ||
	    strncmp(conf->socket, "local:", 6) == 0))
		unix_socket_owner(strchr(conf->socket, ':') + 1, conf->user);
	daemon_drop_privileges(conf->user);

	if ((sp = spool_open(conf->spool, err, sizeof(err))) == NULL)
		fatalx("%s", err);
	ingest_limits_default(&lim);
	lim.mail_max = conf->max_size;
	w = daemon_worker_start(sp, conf->db, &lim);
	milt_shim_set(&libmilter_ops);
	log_info("ready: socket %s, spool %s, %zu recipient(s), action %s%s",
	    conf->socket, conf->spool, conf->rcpt.n, conf->action,
	    conf->require_dkim ? ", DKIM required" : "");
	if (milt_front_init(&fr, conf, sp, worker_wake, w) == -1)
		fatal("milter front");
	conf = NULL;			/* the front's now */

	/* every thread but this one blocks the three signals */
	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, &old);
	e = pthread_create(&mt, NULL, milter_thread, NULL);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (e != 0) {
		errno = e;
		fatal("cannot start the milter thread");
	}

	pfd.fd = sigpipe[0];
	pfd.events = POLLIN;
	while (!stop) {
		if (poll(&pfd, 1, 1000) == 1 &&
		    read(sigpipe[0], &sig, 1) == 1) {
			if (sig == SIGHUP) {
				log_info("SIGHUP: reloading");
				if ((nc = mconf_load(argc, argv, err,
				    sizeof(err))) == NULL)
					log_warnx("reload: %s; keeping the "
					    "running configuration", err);
				else {
					pthread_mutex_lock(&fr.mtx);
					if (strcmp(nc->socket,
					    fr.conf->socket) != 0 ||
					    strcmp(nc->spool,
					    fr.conf->spool) != 0)
						log_warnx("reload: socket and "
						    "spool change on restart "
						    "only");
					pthread_mutex_unlock(&fr.mtx);
					log_setverbose(nc->verbose);
					milt_front_swap(&fr, nc);
				}
			} else
				stop = sig;
		}
		daemon_worker_log(w, &werr_at);
	}

	log_info("signal %d: stopping", stop);
	/*
	 * libmilter's listener polls for 5 s with its lock held, and
	 * smfi_stop() waits for that lock: connections of ours wake it until
	 * it has seen the stop and returned.
	 */
	pthread_mutex_lock(&fr.mtx);
	snprintf(wake_spec, sizeof(wake_spec), "%s", fr.conf->socket);
	pthread_mutex_unlock(&fr.mtx);
	atomic_store(&wake_done, 0);
	e = pthread_create(&wt, NULL, waker, NULL);
	smfi_stop();
	pthread_join(mt, NULL);
	atomic_store(&wake_done, 1);
	if (e == 0)
		pthread_join(wt, NULL);
	/* messages at end of data finish their spool write */
	until = time(NULL) + STOP_WAIT_S;
	while ((atomic_load(&fr.msgs) > 0 || atomic_load(&fr.conns) > 0) &&
	    time(NULL) < until)
		usleep(20 * 1000);
	worker_stop(w);
	stats_log("stopped");
	if (atomic_load(&fr.conns) > 0) {
		/* libmilter threads may still hold contexts: leave it all */
		log_warnx("%d connection(s) still open at exit",
		    atomic_load(&fr.conns));
		return 0;
	}
	milt_front_fini(&fr);
	spool_close(sp);
	return 0;
}

static void *
milter_thread(void *arg)
{
	(void)arg;
	if (smfi_main() == MI_FAILURE)
		log_warnx("libmilter: smfi_main failed");
	/* if libmilter gives up by itself, the process stops too */
	(void)kill(getpid(), SIGTERM);
	return NULL;
}

static void
on_signal(int sig)
{
	unsigned char	c = (unsigned char)sig;
	int		save = errno;

	if (write(sigpipe[1], &c, 1) == -1) {
		/* a full pipe holds a wake-up already */
	}
	errno = save;
}

/* Wake the listener every 20 ms until smfi_main() returned (10 s). */
static void *
waker(void *arg)
{
	int	i;

	(void)arg;
	for (i = 0; i < 500 && !atomic_load(&wake_done); i++) {
		wake_listener(wake_spec);
		usleep(20 * 1000);
	}
	return NULL;
}

/*
 * libmilter's listener notices smfi_stop() only when its poll(2) returns,
 * every 5 s when idle: a connection of ours wakes it now.  Best effort.
 */
static void
wake_listener(const char *spec)
{
	struct sockaddr_un	 sun;
	struct sockaddr_in	 sin;
	const char		*p, *at;
	int			 fd = -1, port;

	if (strncmp(spec, "unix:", 5) == 0 || strncmp(spec, "local:", 6) == 0) {
		p = strchr(spec, ':') + 1;
		memset(&sun, 0, sizeof(sun));
		sun.sun_family = AF_UNIX;
		if (strlen(p) >= sizeof(sun.sun_path) ||
		    (fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
			return;
		memcpy(sun.sun_path, p, strlen(p) + 1);
		(void)connect(fd, (struct sockaddr *)&sun, sizeof(sun));
	} else if (strncmp(spec, "inet:", 5) == 0) {
		port = atoi(spec + 5);
		memset(&sin, 0, sizeof(sin));
		sin.sin_family = AF_INET;
		sin.sin_port = htons((unsigned short)port);
		sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		if ((at = strchr(spec, '@')) != NULL &&
		    inet_pton(AF_INET, at + 1, &sin.sin_addr) != 1)
			sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		if (sin.sin_addr.s_addr == htonl(INADDR_ANY))
			sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		if (port <= 0 || port > 65535 || (fd = socket(AF_INET,
		    SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
			return;
		(void)connect(fd, (struct sockaddr *)&sin, sizeof(sin));
	}
	if (fd != -1)
		close(fd);
}

/* The unix socket must stay removable (restart) by the user we become. */
static void
unix_socket_owner(const char *path, const char *user)
{
	uid_t	uid;
	gid_t	gid;

	daemon_user(user, &uid, &gid);
	if (chown(path, uid, gid) == -1)
		log_warn("chown %s", path);
}

static void
stats_log(const char *what)
{
	struct milt_stats	*s = &fr.st;

	log_info("%s: messages=%llu spooled=%llu duplicates=%llu "
	    "trusted=%llu rejected=%llu no-report=%llu too-big=%llu "
	    "tempfail=%llu discarded=%llu busy=%llu", what,
	    (unsigned long long)atomic_load(&s->seen),
	    (unsigned long long)atomic_load(&s->spooled),
	    (unsigned long long)atomic_load(&s->duplicates),
	    (unsigned long long)atomic_load(&s->trusted),
	    (unsigned long long)atomic_load(&s->rejected),
	    (unsigned long long)atomic_load(&s->no_report),
	    (unsigned long long)atomic_load(&s->too_big),
	    (unsigned long long)atomic_load(&s->tempfail),
	    (unsigned long long)atomic_load(&s->discarded),
	    (unsigned long long)atomic_load(&s->busy));
}
