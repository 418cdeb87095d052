/*
 * http_main.c -- tlsrpt-httpd: the HTTPS endpoint that receives SMTP TLS
 * reports (RFC 8460 section 5.4) and spools them for PostgreSQL.
 *
 * Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
 *
 * main() binds the listening sockets itself, drops root, opens the spool,
 * starts the ingest worker, then runs one libmicrohttpd daemon per
 * listening socket (a thread per connection: a spool write blocks in
 * fsync only the connection that waits for it).  The main thread takes
 * the signals synchronously (sigtimedwait) and ticks once a second:
 *
 *   SIGHUP	reload config, certificate and key: a new generation of
 *		daemons starts on the same sockets, the old one is quiesced
 *		and stopped once its requests are done.  Nothing is dropped.
 *   SIGTERM	stop accepting, finish the requests in flight (bounded by
 *   SIGINT	--request-timeout), stop the worker, exit 0.
 *   tick	cut off connections whose request takes longer than
 *		--request-timeout, or whose TLS handshake and headers take
 *		longer than --header-timeout; retire drained generations;
 *		log what the worker last complained about.
 *
 * Connection slots are counted here, not by MHD: http_accept() refuses
 * an address (IPv4 /32, IPv6 /64) over --max-connections-per-ip and,
 * with every --max-connections slot taken, cuts the slowest sender to
 * admit the new one (MHD's own limit is LIM_HTTP_CONN_HEADROOM higher,
 * for the cut ones still closing).  --admin-listen runs one more plain
 * HTTP daemon per generation for /healthz and /metrics.
 */

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <netdb.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/gnutls.h>
#include <microhttpd.h>

#include "core_daemon.h"
#include "http_req.h"
#include "http_conf.h"
#include "log.h"
#include "core_spool.h"
#include "tlsrpt_limits.h"
#include "core_worker.h"

#define HTTPD_VERSION		"0.1"
#define OPT_ITEMS_MAX		24

struct listener {
	char	*name;		/* as configured, owned */
	int	 fd;
};

/* One configuration and the daemons that run with it. */
struct gen {
	struct httpd_conf	*conf;		/* owned */
	struct http_front	 fr;
	struct http_front	 fra;		/* of the admin daemon */
	struct MHD_Daemon	*d[CONF_LIST_MAX];
	int			 fd[CONF_LIST_MAX];	/* dup of lis[i] */
	size_t			 nd;
	struct MHD_Daemon	*ad;		/* --admin-listen, or NULL */
	int			 afd;		/* dup of admin.fd */
	time_t			 drain_since;	/* 0: current */
	struct gen		*next;		/* draining list */
};

static struct listener	 lis[CONF_LIST_MAX];
static size_t		 nlis;
static struct listener	 admin = { NULL, -1 };
static struct collector	 co;

static struct gen	*gen_start(struct httpd_conf *);
static int		 admin_start(struct gen *);
static void		 gen_quiesce(struct gen *);
static void		 gen_stop(struct gen *);
static int		 gen_idle(struct gen *);
static struct gen	*reload(struct gen *, int, char *const[]);
static int		 tls_check(const struct httpd_conf *, char *, size_t);
static time_t		 mono_now(void);

int
main(int argc, char *argv[])
{
	struct httpd_conf	*conf;
	struct spool		*sp;
	struct worker		*w;
	struct ingest_limits	 lim;
	struct gen		*cur, *draining = NULL, *g, **gp;
	struct timespec		 tick = { 1, 0 };
	sigset_t		 set;
	siginfo_t		 si;
	char			 err[512];
	int64_t			 werr_at = 0;
	time_t			 stop_at;
	size_t			 i;
	int			 sig;

	if ((conf = conf_load(argc, argv, err, sizeof(err))) == NULL) {
		fprintf(stderr, "tlsrpt-httpd: %s\n", err);
		return 2;
	}
	if (conf->foreground_help) {
		if (conf->foreground_help == 2)
			printf("tlsrpt-httpd %s (libmicrohttpd %s)\n",
			    HTTPD_VERSION, MHD_get_version());
		else
			conf_usage();
		conf_free(conf);
		return 0;
	}
	if (conf->requeue_bad) {
		sig = daemon_requeue_bad("tlsrpt-httpd", conf->spool);
		conf_free(conf);
		return sig;
	}
	log_init(!conf->syslog, "tlsrpt-httpd", LOG_DAEMON, conf->verbose);
	if (conf_load_tls(conf, err, sizeof(err)) == -1 ||
	    tls_check(conf, err, sizeof(err)) == -1)
		fatalx("%s", err);

	/* every thread started from here on inherits this mask */
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	if (pthread_sigmask(SIG_BLOCK, &set, NULL) != 0)
		fatalx("cannot block signals");

	for (i = 0; i < conf->listen.n; i++) {
		if ((lis[i].fd = daemon_listen(conf->listen.v[i], err,
		    sizeof(err))) == -1)
			fatalx("%s", err);
		if ((lis[i].name = strdup(conf->listen.v[i])) == NULL)
			fatal("strdup");
		nlis++;
	}
	if (conf->admin_listen != NULL) {
		if ((admin.fd = daemon_listen(conf->admin_listen, err,
		    sizeof(err))) == -1)
			fatalx("%s", err);
		if ((admin.name = strdup(conf->admin_listen)) == NULL)
			fatal("strdup");
	}
	daemon_drop_privileges(conf->user);

	if ((sp = spool_open(conf->spool, err, sizeof(err))) == NULL)
		fatalx("spool %s: %s", conf->spool, err);
	ingest_limits_default(&lim);
	lim.compressed_max = conf->body_max;
	lim.json_max = conf->json_max;
	w = daemon_worker_start(sp, conf->db, &lim);
	if (collector_init(&co, sp, w, err, sizeof(err)) == -1)
		fatalx("%s", err);
	if ((cur = gen_start(conf)) == NULL)
		fatalx("cannot start the HTTP daemons");
	log_info("ready: %s%s, spool %s, path %s", conf->plain ? "plain " :
	    "", conf->plain ? "HTTP" : "HTTPS", conf->spool, conf->path);

	for (;;) {
		sig = sigtimedwait(&set, &si, &tick);
		if (sig == SIGTERM || sig == SIGINT)
			break;
		if (sig == SIGHUP) {
			log_info("SIGHUP: reloading");
			if ((g = reload(cur, argc, argv)) != NULL) {
				gen_quiesce(cur);
				cur->next = draining;
				draining = cur;
				cur = g;
			}
		}
		http_reap(&co, cur->conf->request_timeout,
		    cur->conf->header_timeout);
		daemon_worker_log(w, &werr_at);
		for (gp = &draining; (g = *gp) != NULL; ) {
			if (gen_idle(g) || mono_now() - g->drain_since >
			    (time_t)g->conf->request_timeout) {
				*gp = g->next;
				gen_stop(g);
			} else
				gp = &g->next;
		}
	}

	log_info("signal %d: finishing the requests in flight", sig);
	gen_quiesce(cur);
	stop_at = mono_now() + (time_t)cur->conf->request_timeout;
	for (;;) {
		int idle = gen_idle(cur);

		for (g = draining; g != NULL; g = g->next)
			idle = idle && gen_idle(g);
		if (idle || mono_now() > stop_at)
			break;
		http_reap(&co, cur->conf->request_timeout,
		    cur->conf->header_timeout);
		usleep(50 * 1000);
	}
	while ((g = draining) != NULL) {
		draining = g->next;
		gen_stop(g);
	}
	gen_stop(cur);
	for (i = 0; i < nlis; i++) {
		close(lis[i].fd);
		free(lis[i].name);
	}
	if (admin.fd != -1)
		close(admin.fd);
	free(admin.name);
	worker_stop(w);
	collector_fini(&co);
	spool_close(sp);
	log_info("stopped");
	return 0;
}

/*
 * Start one daemon per listening socket with conf (owned by the new
 * generation from here on, also on failure).  NULL when one did not
 * start (the others are stopped).
 */
static struct gen *
gen_start(struct httpd_conf *conf)
{
	struct MHD_OptionItem	 o[OPT_ITEMS_MAX];
	struct gen		*g;
	unsigned int		 flags;
	size_t			 i, n;

	if ((g = calloc(1, sizeof(*g))) == NULL) {
		conf_free(conf);
		return NULL;
	}
	g->conf = conf;
	g->afd = -1;
	http_front_init(&g->fr, &co, conf);
	http_front_init(&g->fra, &co, conf);
	g->fra.admin = 1;
	flags = MHD_USE_AUTO_INTERNAL_THREAD | MHD_USE_THREAD_PER_CONNECTION |
	    MHD_USE_ITC | MHD_USE_ERROR_LOG;
	if (!conf->plain)
		flags |= MHD_USE_TLS;
	for (i = 0; i < nlis; i++) {
		/*
		 * Each daemon gets its own descriptor of the socket: MHD
		 * closes it when it fails to start, and the socket must
		 * outlive any generation.
		 */
		if ((g->fd[i] = dup(lis[i].fd)) == -1) {
			log_warn("dup");
			break;
		}
		n = 0;
#define OPT(opt, v, p)	do {						\
		o[n].option = (opt);					\
		o[n].value = (intptr_t)(v);				\
		o[n].ptr_value = (p);					\
		n++;							\
	} while (0)
		/* the logger first, or MHD logs the rest its own way */
		OPT(MHD_OPTION_EXTERNAL_LOGGER, &daemon_mhd_log, NULL);
		OPT(MHD_OPTION_LISTEN_SOCKET, g->fd[i], NULL);
		/* http_accept() keeps the slots; this bounds the threads */
		OPT(MHD_OPTION_CONNECTION_LIMIT, conf->conn_max +
		    LIM_HTTP_CONN_HEADROOM, NULL);
		OPT(MHD_OPTION_CONNECTION_TIMEOUT, conf->timeout, NULL);
		OPT(MHD_OPTION_CONNECTION_MEMORY_LIMIT, conf->conn_mem, NULL);
		OPT(MHD_OPTION_THREAD_STACK_SIZE, LIM_HTTP_THREAD_STACK_BYTES,
		    NULL);
		OPT(MHD_OPTION_NOTIFY_COMPLETED, &http_completed, &g->fr);
		OPT(MHD_OPTION_NOTIFY_CONNECTION, &http_notify_conn, &g->fr);
		if (!conf->plain) {
			OPT(MHD_OPTION_HTTPS_MEM_CERT, 0, conf->cert_pem);
			OPT(MHD_OPTION_HTTPS_MEM_KEY, 0, conf->key_pem);
			OPT(MHD_OPTION_HTTPS_PRIORITIES, 0,
			    conf->tls_priorities);
		}
		OPT(MHD_OPTION_END, 0, NULL);
#undef OPT
		g->d[i] = MHD_start_daemon(flags, 0, &http_accept, &g->fr,
		    &http_access, &g->fr, MHD_OPTION_ARRAY, o, MHD_OPTION_END);
		if (g->d[i] == NULL) {	/* MHD closed g->fd[i] */
			log_warnx("cannot start the HTTP daemon on %s",
			    lis[i].name);
			break;
		}
		g->nd++;
	}
	if (g->nd != nlis || admin_start(g) == -1) {
		if (g->ad != NULL) {
			MHD_quiesce_daemon(g->ad);
			MHD_stop_daemon(g->ad);
			close(g->afd);
		}
		for (i = 0; i < g->nd; i++) {
			MHD_quiesce_daemon(g->d[i]);
			MHD_stop_daemon(g->d[i]);
			close(g->fd[i]);
		}
		conf_free(g->conf);
		free(g);
		return NULL;
	}
	for (i = 0; i < nlis; i++)
		log_info("listening on %s (%s)", lis[i].name,
		    conf->plain ? "plain HTTP" : "TLS");
	if (g->ad != NULL)
		log_info("listening on %s (plain HTTP: /healthz, /metrics)",
		    admin.name);
	return g;
}

/*
 * The --admin-listen daemon of g, when the socket is there: plain HTTP,
 * a few connections, the same handler with a front that answers
 * /healthz and /metrics only.  0, or -1 when it did not start.
 */
static int
admin_start(struct gen *g)
{
	const struct httpd_conf	*conf = g->conf;

	if (admin.fd == -1)
		return 0;
	if ((g->afd = dup(admin.fd)) == -1) {
		log_warn("dup");
		return -1;
	}
	g->ad = MHD_start_daemon(MHD_USE_AUTO_INTERNAL_THREAD |
	    MHD_USE_THREAD_PER_CONNECTION | MHD_USE_ITC | MHD_USE_ERROR_LOG,
	    0, NULL, NULL, &http_access, &g->fra,
	    MHD_OPTION_EXTERNAL_LOGGER, &daemon_mhd_log, NULL,
	    MHD_OPTION_LISTEN_SOCKET, g->afd,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned)LIM_HTTP_ADMIN_CONN_MAX,
	    MHD_OPTION_CONNECTION_TIMEOUT, conf->timeout,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, conf->conn_mem,
	    MHD_OPTION_THREAD_STACK_SIZE, (size_t)LIM_HTTP_THREAD_STACK_BYTES,
	    MHD_OPTION_NOTIFY_COMPLETED, &http_completed, &g->fra,
	    MHD_OPTION_END);
	if (g->ad == NULL) {		/* MHD closed g->afd */
		g->afd = -1;
		log_warnx("cannot start the admin daemon on %s", admin.name);
		return -1;
	}
	return 0;
}

/* Stop accepting; the listening sockets stay open for the next. */
static void
gen_quiesce(struct gen *g)
{
	size_t	i;

	if (g->drain_since != 0)
		return;
	atomic_store(&g->fr.draining, 1);
	atomic_store(&g->fra.draining, 1);
	for (i = 0; i < g->nd; i++)
		(void)MHD_quiesce_daemon(g->d[i]);
	if (g->ad != NULL)
		(void)MHD_quiesce_daemon(g->ad);
	g->drain_since = mono_now();
}

static int
gen_idle(struct gen *g)
{
	return atomic_load(&g->fr.inflight) == 0 &&
	    atomic_load(&g->fra.inflight) == 0;
}

/* Close what is left (idle keep-alive connections) and free. */
static void
gen_stop(struct gen *g)
{
	size_t	i;

	gen_quiesce(g);		/* so that MHD leaves g->fd[] open */
	for (i = 0; i < g->nd; i++) {
		MHD_stop_daemon(g->d[i]);
		close(g->fd[i]);
	}
	if (g->ad != NULL) {
		MHD_stop_daemon(g->ad);
		close(g->afd);
	}
	conf_free(g->conf);
	free(g);
}

/*
 * SIGHUP: a new configuration from the same file and command line, with
 * the certificate and key read again.  What needs a restart (listen
 * addresses, spool, database, user) is kept as it was, with a warning.
 * Returns the new generation, already serving, or NULL (the current one
 * goes on).
 */
static struct gen *
reload(struct gen *cur, int argc, char *const argv[])
{
	struct httpd_conf	*nc;
	const struct httpd_conf	*oc = cur->conf;
	char			 err[512];
	size_t			 i;
	int			 same;

	if ((nc = conf_load(argc, argv, err, sizeof(err))) == NULL) {
		log_warnx("reload: %s; keeping the running configuration",
		    err);
		return NULL;
	}
	if (conf_load_tls(nc, err, sizeof(err)) == -1 ||
	    tls_check(nc, err, sizeof(err)) == -1) {
		log_warnx("reload: %s; keeping the running configuration",
		    err);
		conf_free(nc);
		return NULL;
	}
	same = nc->listen.n == oc->listen.n;
	for (i = 0; same && i < nc->listen.n; i++)
		same = strcmp(nc->listen.v[i], oc->listen.v[i]) == 0;
	if (!same || (nc->admin_listen == NULL) != (oc->admin_listen ==
	    NULL) || (nc->admin_listen != NULL &&
	    strcmp(nc->admin_listen, oc->admin_listen) != 0))
		log_warnx("reload: listen addresses change on restart only");
	/* the admin daemon runs on the socket bound at start, or not */
	free(nc->admin_listen);
	nc->admin_listen = NULL;
	if (oc->admin_listen != NULL &&
	    (nc->admin_listen = strdup(oc->admin_listen)) == NULL) {
		log_warnx("reload: out of memory");
		conf_free(nc);
		return NULL;
	}
	if (strcmp(nc->spool, oc->spool) != 0 ||
	    (nc->db == NULL) != (oc->db == NULL) ||
	    (nc->db != NULL && strcmp(nc->db, oc->db) != 0))
		log_warnx("reload: spool and db change on restart only");
	if (nc->plain != oc->plain) {
		log_warnx("reload: plain changes on restart only; keeping "
		    "the running configuration");
		conf_free(nc);
		return NULL;
	}
	return gen_start(nc);
}

/* Would GnuTLS take this certificate, key and priority string? */
static int
tls_check(const struct httpd_conf *c, char *err, size_t errsz)
{
	gnutls_certificate_credentials_t	 cred = NULL;
	gnutls_priority_t			 prio = NULL;
	gnutls_datum_t				 cd, kd;
	const char				*pos = NULL;
	int					 r, rc = -1;

	if (c->plain)
		return 0;
	if (gnutls_certificate_allocate_credentials(&cred) < 0) {
		snprintf(err, errsz, "GnuTLS: out of memory");
		goto out;
	}
	cd.data = (unsigned char *)c->cert_pem;
	cd.size = (unsigned int)strlen(c->cert_pem);
	kd.data = (unsigned char *)c->key_pem;
	kd.size = (unsigned int)strlen(c->key_pem);
	if ((r = gnutls_certificate_set_x509_key_mem(cred, &cd, &kd,
	    GNUTLS_X509_FMT_PEM)) < 0) {
		snprintf(err, errsz, "--tls-cert %s / --tls-key %s: %s",
		    c->tls_cert, c->tls_key, gnutls_strerror(r));
		goto out;
	}
	if ((r = gnutls_priority_init(&prio, c->tls_priorities, &pos)) < 0) {
		snprintf(err, errsz, "--tls-priorities: %s at \"%s\"",
		    gnutls_strerror(r), pos ? pos : "");
		goto out;
	}
	rc = 0;
 out:
	if (prio != NULL)
		gnutls_priority_deinit(prio);
	if (cred != NULL)
		gnutls_certificate_free_credentials(cred);
	return rc;
}

static time_t
mono_now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}
