/*
 * web_main.c -- tlsrpt-web: the dashboard over the store, read only.
 *
 * Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
 *
 * main() binds the socket, drops root, loads --users, and runs one
 * libmicrohttpd daemon (a thread per connection, at most
 * --max-connections).  The main thread takes the signals synchronously:
 *
 *   SIGHUP	read the --users file again; a bad file keeps the old one
 *   SIGTERM	stop accepting, finish the answers in flight, exit 0
 *   SIGINT
 *
 * Every answer carries Content-Security-Policy: default-src 'self' and
 * is built whole before it is sent (web_html.h).  Without --users only
 * loopback peers are served; with it every request needs HTTP Basic,
 * over TLS, from loopback, or from a --trusted-proxy.  Database
 * connections are kept in a small pool, each set read only.
 */

#define _GNU_SOURCE	/* a writer-preferring rwlock (glibc) */

#include <sys/socket.h>
#include <sys/types.h>

#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "core_daemon.h"
#include "log.h"
#include "store.h"
#include "store_series.h"
#include "web_cache.h"
#include "tlsrpt_limits.h"
#include "util.h"
#include "web.h"
#include "web_conf.h"

#define WEB_VERSION	"0.1"
#define WEB_CSP		"default-src 'self'"
#define WEB_REALM	"tlsrpt"

static struct web_conf	*conf;
static struct web_users	*users;		/* NULL without --users */
/* held for reading through a request (r.u points into users), for
 * writing by a SIGHUP reload: writer-preferring, so that a stream of
 * overlapping requests cannot keep the reload, and with it the main
 * thread's sigwait() and SIGTERM, waiting for ever */
static pthread_rwlock_t	 users_lock =
    PTHREAD_RWLOCK_WRITER_NONRECURSIVE_INITIALIZER_NP;

/* idle database connections */
static struct store	*pool[LIM_WEB_CONN_MAX];
static size_t		 npool;
static pthread_mutex_t	 pool_lock = PTHREAD_MUTEX_INITIALIZER;

static struct store *
db_get(char *err, size_t errsz)
{
	struct store	*st = NULL;

	pthread_mutex_lock(&pool_lock);
	if (npool > 0)
		st = pool[--npool];
	pthread_mutex_unlock(&pool_lock);
	if (st != NULL)
		return st;
	if ((st = store_open(conf->db, err, errsz)) == NULL)
		return NULL;
	if (store_readonly(st) == -1) {
		snprintf(err, errsz, "%s", store_errstr(st));
		store_close(st);
		return NULL;
	}
	return st;
}

/* Back to the pool, or closed when it failed (it may be broken). */
static void
db_put(struct store *st, int failed)
{
	if (st == NULL)
		return;
	pthread_mutex_lock(&pool_lock);
	if (!failed && npool < LIM_WEB_CONN_MAX) {
		pool[npool++] = st;
		st = NULL;
	}
	pthread_mutex_unlock(&pool_lock);
	if (st != NULL)
		store_close(st);
}

/* The refresher thread (web_cache_refresh()), stopped by main. */
static pthread_mutex_t	 refresh_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t	 refresh_cond = PTHREAD_COND_INITIALIZER;
static int		 refresh_stop;

static void *
refresher(void *arg)
{
	struct timespec	 ts;
	struct store	*st;
	char		 err[512];
	int		 rc, stop = 0;

	(void)arg;
	while (!stop) {
		pthread_mutex_lock(&refresh_lock);
		(void)clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += LIM_WEB_CACHE_REFRESH_SEC;
		while (!refresh_stop && pthread_cond_timedwait(&refresh_cond,
		    &refresh_lock, &ts) == 0)
			;
		stop = refresh_stop;
		pthread_mutex_unlock(&refresh_lock);
		if (stop)
			break;
		if ((st = db_get(err, sizeof(err))) == NULL) {
			log_debug("refresh: %s", err);
			continue;
		}
		if ((rc = web_cache_refresh(st, (int64_t)time(NULL))) < 0)
			log_warnx("refresh: %s", rc == -1 ? store_errstr(st) :
			    "out of memory");
		db_put(st, rc < 0);
	}
	return NULL;
}

struct mhd_req {
	struct MHD_Connection	*c;
};

static const char *
mhd_arg(const struct web_req *r, const char *key)
{
	const struct mhd_req	*m = r->cls;

	return MHD_lookup_connection_value(m->c, MHD_GET_ARGUMENT_KIND, key);
}

static enum MHD_Result
send_page(struct MHD_Connection *c, struct page *p, int auth_fail)
{
	struct MHD_Response	*resp;
	enum MHD_Result		 r;

	if (p->err) {		/* over LIM_WEB_PAGE_MAX_BYTES */
		page_free(p);
		page_init(p, "text/plain; charset=utf-8");
		h_raw(p, "answer too large\n");
		p->status = 500;
	}
	/* the buffer is handed over (MHD frees it): a raw download is up
	 * to LIM_JSON_MAX_BYTES, and no copy of it is made */
	if (p->b.data != NULL) {
		resp = MHD_create_response_from_buffer(p->b.len, p->b.data,
		    MHD_RESPMEM_MUST_FREE);
		if (resp != NULL) {
			p->b.data = NULL;
			p->b.len = p->b.cap = 0;
		}
	} else
		resp = MHD_create_response_from_buffer(0, (void *)"",
		    MHD_RESPMEM_PERSISTENT);
	if (resp == NULL)
		return MHD_NO;
	(void)MHD_add_response_header(resp, "Content-Type", p->ctype);
	(void)MHD_add_response_header(resp, "Content-Security-Policy",
	    WEB_CSP);
	(void)MHD_add_response_header(resp, "X-Content-Type-Options",
	    "nosniff");
	(void)MHD_add_response_header(resp, "X-Frame-Options", "DENY");
	(void)MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
	(void)MHD_add_response_header(resp, "Cache-Control", "no-store");
	if (p->disposition != NULL)
		(void)MHD_add_response_header(resp, "Content-Disposition",
		    p->disposition);
	if (auth_fail)
		r = MHD_queue_basic_auth_fail_response(c, WEB_REALM, resp);
	else
		r = MHD_queue_response(c, (unsigned)p->status, resp);
	MHD_destroy_response(resp);
	return r;
}

static void
plain(struct page *p, int status, const char *msg)
{
	page_free(p);
	page_init(p, "text/plain; charset=utf-8");
	p->status = status;
	h_raw(p, msg);
	h_raw(p, "\n");
}

/* The page for url: prefix match, rest after it. */
static void
route(struct web_req *r, const char *url, struct page *p)
{
	static const struct {
		const char	*prefix;
		int		 exact;
		void		(*fn)(struct web_req *, struct page *);
	} routes[] = {
		{ "/", 1, page_overview },
		{ "/domain/", 0, page_domain },
		{ "/report/", 0, page_report },
		{ "/raw/", 0, page_raw },
		{ "/rejections", 1, page_rejections },
		{ "/failures", 1, page_failures },
	};
	size_t	i, n;

	if (strncmp(url, "/api/", 5) == 0) {
		r->json = 1;
		url += 4;
		if (strcmp(url, "/overview") == 0)
			url = "/";
	}
	for (i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		n = strlen(routes[i].prefix);
		if (routes[i].exact ? strcmp(url, routes[i].prefix) == 0 :
		    strncmp(url, routes[i].prefix, n) == 0) {
			r->rest = url + n;
			if (routes[i].fn != page_raw || !r->json) {
				routes[i].fn(r, p);
				return;
			}
		}
	}
	web_notfound(r, p);
}

static enum MHD_Result
access_cb(void *cls, struct MHD_Connection *c, const char *url,
    const char *method, const char *version, const char *upload,
    size_t *upload_size, void **con_cls)
{
	static int		 marker;
	const union MHD_ConnectionInfo *ci;
	const struct sockaddr	*sa;
	const struct web_user	*u = NULL;
	struct web_req		 r;
	struct mhd_req		 m;
	struct page		 p;
	char			*name = NULL, *pass = NULL, err[512];
	enum MHD_Result		 ret;
	int			 locked = 0, failed = 0;

	(void)cls;
	(void)version;
	(void)upload;
	if (*con_cls == NULL) {
		*con_cls = &marker;
		return MHD_YES;
	}
	if (*upload_size != 0) {
		*upload_size = 0;	/* a body to a GET: ignored */
		return MHD_YES;
	}
	page_init(&p, "text/html; charset=utf-8");
	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
		plain(&p, 405, "GET only");
		goto send;
	}
	ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	sa = ci != NULL ? ci->client_addr : NULL;
	if (sa == NULL) {
		plain(&p, 403, "no peer address");
		goto send;
	}
	if (strcmp(url, "/style.css") == 0) {
		page_init(&p, "text/css; charset=utf-8");
		h_raw(&p, web_css);
		goto send;
	}
	if (strcmp(url, "/favicon.ico") == 0) {
		plain(&p, 204, "");
		p.b.len = 0;
		goto send;
	}
	pthread_rwlock_rdlock(&users_lock);
	locked = 1;
	if (users == NULL) {
		if (!web_is_loopback(sa)) {
			plain(&p, 403, "without --users: loopback only");
			goto send;
		}
	} else {
		if (conf->plain && !web_is_loopback(sa) &&
		    !web_is_proxy(conf, sa)) {
			plain(&p, 403, "log-ins need HTTPS");
			goto send;
		}
		name = MHD_basic_auth_get_username_password(c, &pass);
		if (name == NULL || pass == NULL ||
		    (u = web_users_check(users, name, pass)) == NULL) {
			if (name != NULL)
				log_info("log-in refused for a user");
			plain(&p, 401, "log in");
			ret = send_page(c, &p, 1);
			goto out;
		}
	}
	memset(&r, 0, sizeof(r));
	m.c = c;
	r.u = u;
	r.cls = &m;
	r.arg = mhd_arg;
	r.now = (int64_t)time(NULL);
	if ((r.st = db_get(err, sizeof(err))) == NULL) {
		log_warnx("database: %s", err);
		plain(&p, 503, "database unavailable");
		goto send;
	}
	route(&r, url, &p);
	failed = p.status >= 500;
	db_put(r.st, failed);
	if (conf->verbose)
		log_info("GET %s %d %zu", url, p.status, p.b.len);
 send:
	ret = send_page(c, &p, 0);
 out:
	if (locked)
		pthread_rwlock_unlock(&users_lock);
	if (pass != NULL) {
		explicit_bzero(pass, strlen(pass));
		MHD_free(pass);
	}
	if (name != NULL)
		MHD_free(name);
	page_free(&p);
	return ret;
}

static void
load_users(int startup)
{
	struct web_users	*nu, *old;
	char			 err[512];

	if (conf->users == NULL)
		return;
	if ((nu = web_users_load(conf->users, err, sizeof(err))) == NULL) {
		if (startup)
			fatalx("%s", err);
		log_warnx("reload: %s; keeping the users loaded before", err);
		return;
	}
	pthread_rwlock_wrlock(&users_lock);
	old = users;
	users = nu;
	/* no request is in flight: none keeps an answer of the old users */
	web_cache_pages_clear();
	pthread_rwlock_unlock(&users_lock);
	web_users_free(old);
	log_info("%zu users from %s", nu->n, conf->users);
}

int
main(int argc, char *argv[])
{
	struct MHD_Daemon	*d;
	pthread_t		 rt;
	unsigned int		 flags;
	sigset_t		 set;
	char			 err[512];
	int			 fd, sig;
	size_t			 i;

	if ((conf = web_conf_load(argc, argv, err, sizeof(err))) == NULL) {
		fprintf(stderr, "tlsrpt-web: %s\n", err);
		return 2;
	}
	if (conf->help) {
		if (conf->help == 2)
			printf("tlsrpt-web %s (libmicrohttpd %s)\n",
			    WEB_VERSION, MHD_get_version());
		else
			web_conf_usage();
		web_conf_free(conf);
		return 0;
	}
	log_init(!conf->syslog, "tlsrpt-web", LOG_DAEMON, conf->verbose);
	web_cache_set_hold(conf->cache_hold);
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	if (pthread_sigmask(SIG_BLOCK, &set, NULL) != 0)
		fatalx("cannot block signals");
	if ((fd = daemon_listen(conf->listen, err, sizeof(err))) == -1)
		fatalx("%s", err);
	daemon_drop_privileges(conf->user);
	load_users(1);

	flags = MHD_USE_AUTO_INTERNAL_THREAD | MHD_USE_THREAD_PER_CONNECTION |
	    MHD_USE_ITC | MHD_USE_ERROR_LOG;
	if (!conf->plain)
		flags |= MHD_USE_TLS;
	if (conf->plain)
		d = MHD_start_daemon(flags, 0, NULL, NULL, &access_cb, NULL,
		    MHD_OPTION_EXTERNAL_LOGGER, &daemon_mhd_log, NULL,
		    MHD_OPTION_LISTEN_SOCKET, fd,
		    MHD_OPTION_CONNECTION_LIMIT, conf->conn_max,
		    MHD_OPTION_CONNECTION_TIMEOUT, conf->timeout,
		    MHD_OPTION_END);
	else
		d = MHD_start_daemon(flags, 0, NULL, NULL, &access_cb, NULL,
		    MHD_OPTION_EXTERNAL_LOGGER, &daemon_mhd_log, NULL,
		    MHD_OPTION_LISTEN_SOCKET, fd,
		    MHD_OPTION_CONNECTION_LIMIT, conf->conn_max,
		    MHD_OPTION_CONNECTION_TIMEOUT, conf->timeout,
		    MHD_OPTION_HTTPS_MEM_CERT, conf->cert_pem,
		    MHD_OPTION_HTTPS_MEM_KEY, conf->key_pem,
		    MHD_OPTION_HTTPS_PRIORITIES, conf->tls_priorities,
		    MHD_OPTION_END);
	if (d == NULL)
		fatalx("cannot start the HTTP daemon on %s (certificate, key "
		    "or priorities refused?)", conf->listen);
	if ((errno = pthread_create(&rt, NULL, refresher, NULL)) != 0)
		fatal("cannot start the refresher thread");
	log_info("ready: %s://%s/%s", conf->plain ? "http" : "https",
	    conf->listen, users == NULL ? " (no --users: loopback only)" :
	    "");

	for (;;) {
		if (sigwait(&set, &sig) != 0)
			continue;
		if (sig == SIGHUP) {
			log_info("SIGHUP: reading the users again");
			load_users(0);
			continue;
		}
		break;
	}
	log_info("signal %d: stopping", sig);
	pthread_mutex_lock(&refresh_lock);
	refresh_stop = 1;
	pthread_cond_signal(&refresh_cond);
	pthread_mutex_unlock(&refresh_lock);
	(void)pthread_join(rt, NULL);
	(void)MHD_quiesce_daemon(d);
	MHD_stop_daemon(d);
	close(fd);
	for (i = 0; i < npool; i++)
		store_close(pool[i]);
	web_cache_clear();
	web_users_free(users);
	web_conf_free(conf);
	log_info("stopped");
	return 0;
}
