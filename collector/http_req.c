/*
 * http_req.c -- one HTTP request of tlsrpt-httpd, from headers to answer.
 *
 * Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
 *
 * The first call of the access handler sees the headers only: the method,
 * the path and a declared Content-Length over the limit are refused there,
 * before a body byte is read.  The body then goes into a bounded buffer
 * (a chunked upload is counted as it streams).  The last call hands the
 * body to submit_verdict() (collector/submit.c, shared with the milter)
 * and maps its class to a status: 415, 200, 413, 400, 403, 201, 503.
 * Nothing a peer sends can reach fatal(): errors become a status and a
 * log line.
 */

#include <sys/socket.h>
#include <sys/stat.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "bbuf.h"
#include "daemon.h"
#include "http_req.h"
#include "httpd_conf.h"
#include "ingest.h"
#include "log.h"
#include "metrics.h"
#include "spool.h"
#include "submit.h"
#include "tlsrpt_limits.h"
#include "worker.h"

#define PEER_MAX	(INET6_ADDRSTRLEN + 8)
#define REASON_MAX	512

enum req_kind {
	RK_REPORT = 0,		/* POST to the report path */
	RK_ANSWERED,		/* answered on the first call */
};

struct http_req {
	struct http_front	*fr;
	uint64_t		 id;
	struct timespec		 t0;
	enum req_kind		 kind;
	struct bbuf		 body;
	unsigned		 verdict;	/* status decided while reading */
	const char		*why;		/* static text for verdict */
	size_t			 received;	/* body bytes seen, kept or not */
	unsigned		 status;	/* answered with */
	char			 peer[PEER_MAX];
	char			 via[PEER_MAX];	/* the proxy, when trusted */
	const char		*allow;		/* Allow of a 405 */
	char			 what[96];	/* method and path, escaped */
};

struct http_conn {
	struct http_conn	*next, *prev;
	int			 fd;
	atomic_llong		 mark;		/* monotonic s: request start */
};

static enum MHD_Result	 first_call(struct http_front *,
			    struct MHD_Connection *, const char *,
			    const char *, struct http_req *);
static enum MHD_Result	 finish(struct http_req *, struct MHD_Connection *);
static enum MHD_Result	 answer(struct http_req *, struct MHD_Connection *,
			    unsigned, const char *, const char *, size_t);
static enum MHD_Result	 answer_health(struct http_req *,
			    struct MHD_Connection *, int);
static void		 set_peer(struct http_req *, struct MHD_Connection *);
static int		 spool_writable(const struct collector *);
static double		 elapsed(const struct timespec *);
static long long	 mono_s(void);

int
collector_init(struct collector *co, struct spool *sp, struct worker *w,
    char *err, size_t errsz)
{
	memset(co, 0, sizeof(*co));
	co->spool = sp;
	co->worker = w;
	pthread_mutex_init(&co->conn_mtx, NULL);
	if ((co->recent = submit_recent_new(LIM_HTTP_RECENT_DIGESTS)) ==
	    NULL) {
		snprintf(err, errsz, "out of memory");
		return -1;
	}
	return 0;
}

void
collector_fini(struct collector *co)
{
	submit_recent_free(co->recent);
	co->recent = NULL;
	pthread_mutex_destroy(&co->conn_mtx);
}

void
http_front_init(struct http_front *fr, struct collector *co,
    struct httpd_conf *conf)
{
	memset(fr, 0, sizeof(*fr));
	fr->co = co;
	fr->conf = conf;
	ingest_limits_default(&fr->lim);
	fr->lim.compressed_max = conf->body_max;
	fr->lim.json_max = conf->json_max;
	fr->sub.spool = co->spool;
	fr->sub.worker = co->worker;
	fr->sub.recent = co->recent;
	fr->sub.domains = &conf->domain;
	fr->sub.lim = fr->lim;
	/* --rejects-keep 0: refused bodies are not kept, bad/ stays at
	 * its default caps */
	fr->sub.keep_max = conf->rejects_keep > 0 ? LIM_REJECT_KEEP_BYTES : 0;
	if (co->spool != NULL && conf->rejects_keep > 0)
		spool_set_bad_limits(co->spool, conf->rejects_keep,
		    LIM_SPOOL_BAD_BYTES);
	atomic_init(&fr->inflight, 0);
	atomic_init(&fr->draining, 0);
}

enum MHD_Result
http_access(void *cls, struct MHD_Connection *conn, const char *url,
    const char *method, const char *version, const char *data,
    size_t *datalen, void **req_cls)
{
	struct http_front	*fr = cls;
	struct http_req		*r = *req_cls;

	(void)version;
	if (r == NULL) {			/* headers only, no body yet */
		if ((r = calloc(1, sizeof(*r))) == NULL)
			return MHD_NO;		/* MHD closes the connection */
		r->fr = fr;
		r->id = atomic_fetch_add(&fr->co->seq, 1) + 1;
		clock_gettime(CLOCK_MONOTONIC, &r->t0);
		bbuf_init(&r->body, fr->conf->body_max);
		atomic_fetch_add(&fr->inflight, 1);
		*req_cls = r;
		set_peer(r, conn);
		return first_call(fr, conn, url, method, r);
	}
	if (r->kind == RK_ANSWERED) {		/* e.g. a body on a GET */
		*datalen = 0;
		return MHD_YES;
	}
	if (*datalen != 0) {
		r->received += *datalen;
		if (elapsed(&r->t0) > fr->conf->request_timeout) {
			log_warnx("%llx http timeout peer=%s bytes=%zu: "
			    "closing", (unsigned long long)r->id, r->peer,
			    r->received);
			return MHD_NO;
		}
		if (r->verdict == 0 &&
		    bbuf_append(&r->body, data, *datalen) == -1) {
			if (errno == ERANGE) {
				r->verdict = MHD_HTTP_CONTENT_TOO_LARGE;
				r->why = "body over the size limit";
				metrics_reject(MR_TOO_BIG);
			} else {
				r->verdict = MHD_HTTP_SERVICE_UNAVAILABLE;
				r->why = "out of memory";
			}
			bbuf_reset(&r->body);
		}
		/* after a verdict, drain and discard, but not forever */
		if (r->verdict != 0 && r->received > 2 * fr->conf->body_max) {
			log_warnx("%llx http discard peer=%s bytes=%zu: "
			    "closing", (unsigned long long)r->id, r->peer,
			    r->received);
			return MHD_NO;
		}
		*datalen = 0;			/* consumed (or discarded) */
		return MHD_YES;
	}
	return finish(r, conn);
}

void
http_completed(void *cls, struct MHD_Connection *conn, void **req_cls,
    enum MHD_RequestTerminationCode toe)
{
	struct http_req			*r = *req_cls;
	const union MHD_ConnectionInfo	*ci;
	struct http_conn		*hc;

	(void)cls;
	ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	if (ci != NULL && (hc = ci->socket_context) != NULL)
		atomic_store(&hc->mark, mono_s());	/* next request */
	if (r == NULL)
		return;
	if (r->status == 0)
		log_info("%llx http aborted peer=%s bytes=%zu ms=%.1f "
		    "reason=%d", (unsigned long long)r->id, r->peer,
		    r->received, elapsed(&r->t0) * 1e3, (int)toe);
	atomic_fetch_sub(&r->fr->inflight, 1);
	bbuf_reset(&r->body);
	free(r);
	*req_cls = NULL;
}

void
http_notify_conn(void *cls, struct MHD_Connection *conn, void **sctx,
    enum MHD_ConnectionNotificationCode code)
{
	struct http_front		*fr = cls;
	struct collector		*co = fr->co;
	const union MHD_ConnectionInfo	*ci;
	struct http_conn		*hc;

	if (code == MHD_CONNECTION_NOTIFY_STARTED) {
		if ((hc = calloc(1, sizeof(*hc))) == NULL)
			return;			/* not reaped; MHD timeout holds */
		ci = MHD_get_connection_info(conn,
		    MHD_CONNECTION_INFO_CONNECTION_FD);
		hc->fd = ci != NULL ? ci->connect_fd : -1;
		atomic_init(&hc->mark, mono_s());
		pthread_mutex_lock(&co->conn_mtx);
		hc->next = co->conns;
		if (co->conns != NULL)
			co->conns->prev = hc;
		co->conns = hc;
		co->nconns++;
		pthread_mutex_unlock(&co->conn_mtx);
		*sctx = hc;
		return;
	}
	if ((hc = *sctx) == NULL)
		return;
	/* MHD closes the descriptor after this returns: unlink first */
	pthread_mutex_lock(&co->conn_mtx);
	if (hc->prev != NULL)
		hc->prev->next = hc->next;
	else
		co->conns = hc->next;
	if (hc->next != NULL)
		hc->next->prev = hc->prev;
	co->nconns--;
	pthread_mutex_unlock(&co->conn_mtx);
	free(hc);
	*sctx = NULL;
}

unsigned
http_reap(struct collector *co, unsigned limit)
{
	struct http_conn	*hc;
	long long		 now = mono_s();
	unsigned		 n = 0;

	pthread_mutex_lock(&co->conn_mtx);
	for (hc = co->conns; hc != NULL; hc = hc->next) {
		if (hc->fd == -1 || now - atomic_load(&hc->mark) <= limit)
			continue;
		/* the descriptor is open: CLOSED unlinks under conn_mtx */
		shutdown(hc->fd, SHUT_RDWR);
		atomic_store(&hc->mark, now);	/* once per period */
		n++;
	}
	pthread_mutex_unlock(&co->conn_mtx);
	return n;
}

unsigned
http_connections(struct collector *co)
{
	unsigned	n;

	pthread_mutex_lock(&co->conn_mtx);
	n = co->nconns;
	pthread_mutex_unlock(&co->conn_mtx);
	return n;
}

static enum MHD_Result
first_call(struct http_front *fr, struct MHD_Connection *conn,
    const char *url, const char *method, struct http_req *r)
{
	const struct httpd_conf	*cf = fr->conf;
	const char		*cl;
	char			 why[128];
	unsigned long long	 declared;
	char			*end, m[16], u[64];

	snprintf(r->what, sizeof(r->what), "%s %s",
	    log_escape(m, sizeof(m), method, strlen(method)),
	    log_escape(u, sizeof(u), url, strlen(url)));
	if (strcmp(url, "/healthz") == 0 || strcmp(url, "/metrics") == 0) {
		r->kind = RK_ANSWERED;
		r->allow = "GET, HEAD";
		if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 &&
		    strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
			return answer(r, conn, MHD_HTTP_METHOD_NOT_ALLOWED,
			    "use GET", NULL, 0);
		return answer_health(r, conn, url[1] == 'm');
	}
	if (strcmp(url, cf->path) != 0 && strcmp(url, "/") != 0) {
		r->kind = RK_ANSWERED;
		snprintf(why, sizeof(why), "no such path; POST reports to %s",
		    cf->path);
		return answer(r, conn, MHD_HTTP_NOT_FOUND, why, NULL, 0);
	}
	if (strcmp(method, MHD_HTTP_METHOD_POST) != 0) {
		r->kind = RK_ANSWERED;
		return answer(r, conn, MHD_HTTP_METHOD_NOT_ALLOWED,
		    "POST the report (RFC 8460 section 5.4)", NULL, 0);
	}
	cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_CONTENT_LENGTH);
	if (cl != NULL) {
		errno = 0;
		declared = strtoull(cl, &end, 10);
		if (errno != 0 || end == cl || *end != '\0' ||
		    declared > cf->body_max) {
			r->kind = RK_ANSWERED;
			metrics_reject(MR_TOO_BIG);
			snprintf(why, sizeof(why), "body over the size limit "
			    "of %zu bytes", cf->body_max);
			return answer(r, conn, MHD_HTTP_CONTENT_TOO_LARGE, why,
			    NULL, 0);
		}
	}
	r->kind = RK_REPORT;
	return MHD_YES;
}

static enum MHD_Result
finish(struct http_req *r, struct MHD_Connection *conn)
{
	struct http_front	*fr = r->fr;
	struct collector	*co = fr->co;
	const struct httpd_conf	*cf = fr->conf;
	struct submit_in	 in;
	struct submit_verdict	 v;
	const char		*ct, *ua;
	char			 reason[SUBMIT_REASON_MAX + 64];
	char			 ctbuf[LIM_HTTP_HEADER_VALUE_BYTES];
	char			 uabuf[LIM_HTTP_HEADER_VALUE_BYTES];
	char			 xct[LIM_HTTP_HEADER_VALUE_BYTES + 32];
	char			 xua[LIM_HTTP_HEADER_VALUE_BYTES + 32];
	char			 xvia[PEER_MAX + 32];
	size_t			 nx = 0;
	unsigned		 status;

	if (r->verdict != 0)
		return answer(r, conn, r->verdict, r->why, NULL, 0);

	ct = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_CONTENT_TYPE);
	ua = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_USER_AGENT);
	memset(&in, 0, sizeof(in));
	in.transport = SUBMIT_HTTPS;
	in.buf = r->body.data;
	in.len = r->body.len;
	in.peer = r->peer;
	in.content_type = ct;
	/* a single --domain: the domain of policies that name none */
	in.report_domain = cf->domain.n == 1 ? cf->domain.v[0] : NULL;
	if (ct != NULL) {
		snprintf(xct, sizeof(xct), "content-type: %s", log_escape(
		    ctbuf, sizeof(ctbuf), ct, strlen(ct)));
		in.extra[nx++] = xct;
	}
	if (ua != NULL) {
		snprintf(xua, sizeof(xua), "user-agent: %s", log_escape(
		    uabuf, sizeof(uabuf), ua, strlen(ua)));
		in.extra[nx++] = xua;
	}
	if (r->via[0] != '\0') {
		snprintf(xvia, sizeof(xvia), "via-proxy: %s", r->via);
		in.extra[nx++] = xvia;
	}

	switch (submit_verdict(&fr->sub, &in, &v)) {
	case SUBMIT_STORED:
		atomic_store(&co->spool_failing, 0);
		if (v.foreign > 0)
			log_info("%llx http foreign-policies=%zu of %zu: "
			    "stored whole, flagged", (unsigned long long)r->id,
			    v.foreign, v.npolicies);
		return answer(r, conn, MHD_HTTP_CREATED,
		    "stored: the report is safe on disk", NULL, 0);
	case SUBMIT_DUPLICATE:
		if (v.spooled)
			atomic_store(&co->spool_failing, 0);
		metrics_http_duplicate();
		return answer(r, conn, MHD_HTTP_OK,
		    "duplicate: this report was received already", NULL, 0);
	case SUBMIT_REFUSED_MEDIA:
		metrics_reject(MR_MEDIA_TYPE);
		return answer(r, conn, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE,
		    "body is neither gzip nor JSON (application/tlsrpt+gzip "
		    "or application/tlsrpt+json)", NULL, 0);
	case SUBMIT_TOO_BIG:
		metrics_reject(MR_TOO_BIG);
		return answer(r, conn, MHD_HTTP_CONTENT_TOO_LARGE, v.reason,
		    NULL, 0);
	case SUBMIT_NOT_A_REPORT:
		if (v.ingest == INGEST_OK) {		/* empty */
			metrics_reject(MR_EMPTY);
			return answer(r, conn, MHD_HTTP_BAD_REQUEST, v.reason,
			    NULL, 0);
		}
		metrics_reject(v.ingest == INGEST_E_GZIP ? MR_GZIP :
		    v.ingest == INGEST_E_JSON ? MR_JSON :
		    v.ingest == INGEST_E_SCHEMA ? MR_SCHEMA : MR_FORMAT);
		snprintf(reason, sizeof(reason), "not a TLS report (%s): %s",
		    v.token, v.reason);
		return answer(r, conn, MHD_HTTP_BAD_REQUEST, reason, NULL, 0);
	case SUBMIT_FORBIDDEN_DOMAIN:
	case SUBMIT_UNTRUSTED:
		metrics_reject(MR_DOMAIN);
		return answer(r, conn, MHD_HTTP_FORBIDDEN, v.reason, NULL, 0);
	case SUBMIT_TEMPFAIL:
		atomic_store(&co->spool_failing, 1);
		metrics_spool_failed();
		errno = v.spool_errno;
		log_warn("%llx spool put failed", (unsigned long long)r->id);
		return answer(r, conn, MHD_HTTP_SERVICE_UNAVAILABLE,
		    "the spool cannot take reports now; retry later", NULL, 0);
	case SUBMIT_NOMEM:
	default:
		status = MHD_HTTP_SERVICE_UNAVAILABLE;
		break;
	}
	return answer(r, conn, status, "out of memory", NULL, 0);
}

/*
 * Queue the answer: status, a body (a one-line reason when ctype is NULL),
 * headers; count and log it.  Returns what MHD_queue_response said.
 */
static enum MHD_Result
answer(struct http_req *r, struct MHD_Connection *conn, unsigned status,
    const char *text, const char *ctype, size_t textlen)
{
	struct MHD_Response	*resp;
	enum MHD_Result		 ret;
	const char		*reason = NULL;
	char			 line[REASON_MAX + 2], ra[16], esc[REASON_MAX];
	double			 secs;
	size_t			 len;

	if (ctype == NULL) {		/* a one-line reason */
		len = (size_t)snprintf(line, sizeof(line), "%s\n", text);
		if (len >= sizeof(line))
			len = sizeof(line) - 1;
		resp = MHD_create_response_from_buffer(len, line,
		    MHD_RESPMEM_MUST_COPY);
		ctype = "text/plain; charset=utf-8";
		if (status >= 300)	/* may quote the peer */
			reason = log_escape(esc, sizeof(esc), text,
			    strlen(text));
	} else
		resp = MHD_create_response_from_buffer(textlen,
		    (void *)(uintptr_t)text, MHD_RESPMEM_MUST_COPY);
	if (resp == NULL)
		return MHD_NO;
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL,
	    "no-store");
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW,
		    r->allow != NULL ? r->allow : "POST");
	if (status == MHD_HTTP_SERVICE_UNAVAILABLE) {
		snprintf(ra, sizeof(ra), "%d", LIM_HTTP_RETRY_AFTER_SEC);
		MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, ra);
	}
	if (atomic_load(&r->fr->draining))
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION,
		    "close");
	ret = MHD_queue_response(conn, status, resp);
	MHD_destroy_response(resp);
	r->status = status;
	secs = elapsed(&r->t0);
	metrics_request(status, secs);
	log_info("%llx http %u %s peer=%s%s%s bytes=%zu ms=%.1f%s%s%s",
	    (unsigned long long)r->id, status, r->what, r->peer,
	    r->via[0] ? " via=" : "", r->via, r->received, secs * 1e3,
	    reason ? " reason=\"" : "", reason ? reason : "",
	    reason ? "\"" : "");
	return ret;
}

static enum MHD_Result
answer_health(struct http_req *r, struct MHD_Connection *conn, int metrics)
{
	struct collector	*co = r->fr->co;
	struct worker_stats	 ws;
	struct metrics_snapshot	 s;
	char			 buf[METRICS_BUF_BYTES];
	char			 lasterr[2 * sizeof(ws.db_last_error)];
	size_t			 len;
	int			 healthy;

	memset(&s, 0, sizeof(s));
	memset(&ws, 0, sizeof(ws));
	if (co->worker != NULL) {
		worker_get_stats(co->worker, &ws);
		s.ws = &ws;
	}
	s.spool_ok = spool_writable(co);
	s.depth_ok = spool_depth(co->spool, &s.depth, &s.oldest_age,
	    (int64_t)time(NULL)) == 0;
	s.connections = http_connections(co);
	if (metrics) {
		len = metrics_render(buf, sizeof(buf), &s);
		return answer(r, conn, MHD_HTTP_OK, buf,
		    "text/plain; version=0.0.4; charset=utf-8", len);
	}
	healthy = s.spool_ok && s.depth_ok && ws.db_up;
	(void)metrics_json_str(lasterr, sizeof(lasterr), ws.db_last_error);
	len = (size_t)snprintf(buf, sizeof(buf),
	    "{\"status\": \"%s\", \"spool_writable\": %s, "
	    "\"database_reachable\": %s, \"spool_files\": %zu, "
	    "\"spool_oldest_age_seconds\": %lld, \"db_errors\": %llu, "
	    "\"reports_stored\": %llu, \"database_error_class\": \"%s\", "
	    "\"database_last_error\": \"%s\", "
	    "\"database_last_error_at\": %lld}\n",
	    healthy ? "ok" : "degraded", s.spool_ok ? "true" : "false",
	    ws.db_up ? "true" : "false", s.depth, (long long)s.oldest_age,
	    (unsigned long long)ws.db_errors, (unsigned long long)ws.stored,
	    store_err_class_str((enum store_err_class)ws.db_error_class),
	    lasterr, (long long)ws.db_last_error_at);
	if (len >= sizeof(buf))
		len = sizeof(buf) - 1;
	return answer(r, conn, healthy ? MHD_HTTP_OK :
	    MHD_HTTP_SERVICE_UNAVAILABLE, buf, "application/json", len);
}

/*
 * The peer's address as text.  Behind a --trusted-proxy (with --plain),
 * the last address of X-Forwarded-For, the one that proxy appended.
 */
static void
set_peer(struct http_req *r, struct MHD_Connection *conn)
{
	const union MHD_ConnectionInfo	*ci;
	const struct sockaddr		*sa;
	const char			*xff, *last;
	char				 tmp[PEER_MAX];
	unsigned char			 bin[sizeof(struct in6_addr)];
	size_t				 l;

	snprintf(r->peer, sizeof(r->peer), "-");
	ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	if (ci == NULL || (sa = ci->client_addr) == NULL)
		return;
	if (sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)
		    sa)->sin_addr, r->peer, sizeof(r->peer));
	else if (sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)
		    (const void *)sa)->sin6_addr, r->peer, sizeof(r->peer));
	if (!r->fr->conf->plain || !conf_is_trusted_proxy(r->fr->conf, sa))
		return;
	xff = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
	    "X-Forwarded-For");
	if (xff == NULL)
		return;
	last = strrchr(xff, ',');
	last = last != NULL ? last + 1 : xff;
	while (*last == ' ' || *last == '\t')
		last++;
	l = strcspn(last, " \t");
	if (l == 0 || l >= sizeof(tmp))
		return;
	memcpy(tmp, last, l);
	tmp[l] = '\0';
	if (inet_pton(AF_INET, tmp, bin) != 1 &&
	    inet_pton(AF_INET6, tmp, bin) != 1)
		return;			/* not an address: keep the proxy's */
	memcpy(r->via, r->peer, sizeof(r->via));
	snprintf(r->peer, sizeof(r->peer), "%s", tmp);
}

static int
spool_writable(const struct collector *co)
{
	static const char *const sub[] = { "tmp", "new" };
	struct stat	 st;
	char		 path[PATH_MAX];
	size_t		 i;

	if (atomic_load(&co->spool_failing))
		return 0;
	for (i = 0; i < sizeof(sub) / sizeof(sub[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", spool_dir(co->spool),
		    sub[i]);
		if (stat(path, &st) == -1 || !S_ISDIR(st.st_mode) ||
		    access(path, W_OK | X_OK) == -1)
			return 0;
	}
	return 1;
}

static double
elapsed(const struct timespec *t0)
{
	struct timespec	now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - t0->tv_sec) +
	    (double)(now.tv_nsec - t0->tv_nsec) / 1e9;
}

static long long
mono_s(void)
{
	struct timespec	now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (long long)now.tv_sec;
}
