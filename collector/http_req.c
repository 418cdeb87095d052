/*
 * http_req.c -- one HTTP request of tlsrpt-httpd, from headers to answer.
 *
 * Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
 *
 * The first call of the access handler sees the headers only: the method,
 * the path and a declared Content-Length over the limit are refused there,
 * before a body byte is read.  The body then goes into a bounded buffer
 * (a chunked upload is counted as it streams).  The last call hands the
 * body to submit_verdict() (collector/core_submit.c, shared with the milter)
 * and maps its class to a status: 415, 200, 413, 400, 403, 201, 503.
 * Nothing a peer sends can reach fatal(): errors become a status and a
 * log line.
 */

#include <sys/socket.h>
#include <sys/stat.h>

#include <arpa/inet.h>
#include <linux/tcp.h>		/* struct tcp_info with tcpi_bytes_received */
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
#include "core_daemon.h"
#include "http_req.h"
#include "http_conf.h"
#include "ingest.h"
#include "log.h"
#include "http_metrics.h"
#include "core_spool.h"
#include "core_submit.h"
#include "tlsrpt_limits.h"
#include "core_worker.h"

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
	size_t			 reserved;	/* of co->body_held */
	int			 declared;	/* Content-Length: all reserved */
	int			 close;		/* answer Connection: close */
	unsigned		 status;	/* answered with */
	char			 peer[PEER_MAX];
	char			 via[PEER_MAX];	/* the proxy, when trusted */
	const char		*allow;		/* Allow of a 405 */
	char			 what[96];	/* method and path, escaped */
};

/* What a connection is doing, for the reaper's deadlines. */
enum conn_phase {
	HC_HEADERS = 0,		/* TLS handshake, request headers */
	HC_REQUEST,		/* headers in: the body, the answer */
	HC_IDLE,		/* between two requests of a kept connection */
};

#define ADDR_KEY_BYTES	9	/* family, then 4 (IPv4) or 8 (IPv6 /64) */
#define BODY_FIRST_BYTES 4096	/* bbuf's first allocation (bbuf.c) */

struct http_conn {
	struct http_conn	*next, *prev;
	int			 fd;
	atomic_llong		 mark;		/* monotonic s: request start */
	atomic_int		 phase;		/* enum conn_phase */
	atomic_llong		 hdr_since;	/* monotonic s: HC_HEADERS since */
	atomic_ullong		 idle_bytes;	/* TCP bytes in at HC_IDLE */
	long long		 t0_ms;		/* accepted, monotonic ms */
	unsigned char		 key[ADDR_KEY_BYTES];	/* address counted */
	int			 proxy;		/* a --trusted-proxy */
	int			 evicted;	/* cut to admit another */
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
static long long	 mono_ms(void);
static void		 addr_key(const struct sockaddr *, unsigned char *);
static unsigned long long tcp_bytes_in(int);
static struct http_conn	*conn_of(struct MHD_Connection *);
static struct http_conn	*evict_pick(struct collector *, long long, unsigned);
static int		 key_cmp(const void *, const void *);
static int		 body_take(struct http_req *, size_t);
static size_t		 parse_weight(const struct http_req *);
static int		 parse_enter(struct http_front *, size_t);
static void		 parse_leave(struct http_front *, size_t);
static void		 refuse_body(struct http_req *, unsigned,
			    const char *);

int
collector_init(struct collector *co, struct spool *sp, struct worker *w,
    char *err, size_t errsz)
{
	memset(co, 0, sizeof(*co));
	co->spool = sp;
	co->worker = w;
	pthread_mutex_init(&co->conn_mtx, NULL);
	pthread_mutex_init(&co->parse_mtx, NULL);
	pthread_cond_init(&co->parse_cv, NULL);
	atomic_init(&co->body_held, 0);
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
	pthread_cond_destroy(&co->parse_cv);
	pthread_mutex_destroy(&co->parse_mtx);
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
	fr->sub.stored = worker_wake;
	fr->sub.stored_arg = co->worker;
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
	enum MHD_Result		 ret;
	size_t			 w;

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
		if (r->verdict == 0 && *datalen > r->body.max - r->body.len) {
			metrics_reject(MR_TOO_BIG);
			refuse_body(r, MHD_HTTP_CONTENT_TOO_LARGE,
			    "body over the size limit");
		}
		if (r->verdict == 0 && body_take(r, *datalen) == -1)
			refuse_body(r, MHD_HTTP_SERVICE_UNAVAILABLE,
			    "busy: too many report bodies in transit; retry "
			    "later");
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
		/*
		 * After a verdict, drain and discard: the sender gets the
		 * answer once it has sent all (--request-timeout bounds it).
		 * Only an allocation failure closes early.
		 */
		if (r->verdict != 0 && !r->close &&
		    r->received > 2 * fr->conf->body_max) {
			log_warnx("%llx http discard peer=%s bytes=%zu: "
			    "closing", (unsigned long long)r->id, r->peer,
			    r->received);
			return MHD_NO;
		}
		*datalen = 0;			/* consumed (or discarded) */
		return MHD_YES;
	}
	if (r->verdict != 0 || r->body.len == 0)
		return finish(r, conn);
	/* the parse is bounded in memory by its share of --parse-budget */
	w = parse_weight(r);
	if (parse_enter(fr, w) == -1) {
		metrics_conn(MC_PARSE_WAIT);
		return answer(r, conn, MHD_HTTP_SERVICE_UNAVAILABLE,
		    "busy: too many reports being parsed; retry later", NULL,
		    0);
	}
	ret = finish(r, conn);
	parse_leave(fr, w);
	return ret;
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
	if (ci != NULL && (hc = ci->socket_context) != NULL) {
		atomic_store(&hc->mark, mono_s());	/* next request */
		atomic_store(&hc->idle_bytes, tcp_bytes_in(hc->fd));
		atomic_store(&hc->phase, HC_IDLE);
	}
	if (r == NULL)
		return;
	if (r->reserved > 0) {
		metrics_body_held(atomic_fetch_sub(&r->fr->co->body_held,
		    r->reserved) - r->reserved);
		r->reserved = 0;
	}
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
		ci = MHD_get_connection_info(conn,
		    MHD_CONNECTION_INFO_CLIENT_ADDRESS);
		if (ci != NULL && ci->client_addr != NULL) {
			addr_key(ci->client_addr, hc->key);
			hc->proxy = fr->conf->plain &&
			    conf_is_trusted_proxy(fr->conf, ci->client_addr);
		}
		hc->t0_ms = mono_ms();
		atomic_init(&hc->mark, mono_s());
		atomic_init(&hc->phase, HC_HEADERS);
		atomic_init(&hc->hdr_since, mono_s());
		atomic_init(&hc->idle_bytes, 0);
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
	if (hc->evicted)
		co->nevicted--;
	pthread_mutex_unlock(&co->conn_mtx);
	free(hc);
	*sctx = NULL;
}

unsigned
http_reap(struct collector *co, unsigned limit, unsigned header_limit)
{
	struct http_conn	*hc;
	long long		 now = mono_s();
	unsigned		 n = 0;
	int			 ph, idle = HC_IDLE, slow;

	pthread_mutex_lock(&co->conn_mtx);
	for (hc = co->conns; hc != NULL; hc = hc->next) {
		if (hc->fd == -1 || hc->evicted)
			continue;
		ph = atomic_load(&hc->phase);
		/* a kept connection whose next request has begun to arrive */
		if (ph == HC_IDLE && tcp_bytes_in(hc->fd) >
		    atomic_load(&hc->idle_bytes)) {
			atomic_store(&hc->hdr_since, now);
			if (atomic_compare_exchange_strong(&hc->phase, &idle,
			    HC_HEADERS))
				ph = HC_HEADERS;
			idle = HC_IDLE;
		}
		slow = ph == HC_HEADERS &&
		    now - atomic_load(&hc->hdr_since) > header_limit;
		if (!slow && now - atomic_load(&hc->mark) <= limit)
			continue;
		/* the descriptor is open: CLOSED unlinks under conn_mtx */
		shutdown(hc->fd, SHUT_RDWR);
		metrics_conn(slow ? MC_HEADER_TIMEOUT : MC_REQUEST_TIMEOUT);
		atomic_store(&hc->mark, now);	/* once per period */
		atomic_store(&hc->hdr_since, now);
		n++;
	}
	pthread_mutex_unlock(&co->conn_mtx);
	return n;
}

enum MHD_Result
http_accept(void *cls, const struct sockaddr *sa, socklen_t salen)
{
	struct http_front	*fr = cls;
	struct collector	*co = fr->co;
	const struct httpd_conf	*cf = fr->conf;
	struct http_conn	*hc, *victim;
	unsigned char		 key[ADDR_KEY_BYTES];
	unsigned		 same = 0, live;
	int			 proxy;

	(void)salen;
	addr_key(sa, key);
	proxy = cf->plain && conf_is_trusted_proxy(cf, sa);
	pthread_mutex_lock(&co->conn_mtx);
	live = co->nconns - co->nevicted;
	for (hc = co->conns; hc != NULL; hc = hc->next)
		if (!hc->evicted && memcmp(hc->key, key, sizeof(key)) == 0)
			same++;
	if (cf->conn_per_ip > 0 && !proxy) {
		if (same >= cf->conn_per_ip) {
			pthread_mutex_unlock(&co->conn_mtx);
			metrics_conn(MC_PER_IP);
			return MHD_NO;
		}
	}
	if (live >= cf->conn_max) {
		if ((victim = evict_pick(co, mono_ms(), same)) == NULL) {
			pthread_mutex_unlock(&co->conn_mtx);
			metrics_conn(MC_FULL);
			return MHD_NO;
		}
		/* its thread sees the end and closes: CLOSED unlinks it */
		shutdown(victim->fd, SHUT_RDWR);
		victim->evicted = 1;
		co->nevicted++;
		metrics_conn(MC_EVICTED);
	}
	pthread_mutex_unlock(&co->conn_mtx);
	return MHD_YES;
}

/*
 * The connection to cut for a newcomer whose address holds mine already:
 * of those older than LIM_HTTP_EVICT_GRACE_MS and from an address that
 * holds at least mine + 2 (so that the cut never makes that address
 * poorer than the newcomer's, and a flood does not churn through its
 * own connections), the one that has received the fewest bytes (TLS
 * included) per second of its life; the older on a tie.  NULL when there
 * is none.  Called with conn_mtx held.
 */
static struct http_conn *
evict_pick(struct collector *co, long long now_ms, unsigned mine)
{
	struct http_conn	*hc, *best = NULL, **v;
	double			 rate, best_rate = 0;
	long long		 age;
	size_t			 n = 0, i, j;

	if ((v = calloc(co->nconns + 1, sizeof(*v))) == NULL)
		return NULL;
	for (hc = co->conns; hc != NULL && n < co->nconns; hc = hc->next)
		if (!hc->evicted)
			v[n++] = hc;
	qsort(v, n, sizeof(*v), key_cmp);
	for (i = 0; i < n; i = j) {
		for (j = i + 1; j < n && key_cmp(&v[i], &v[j]) == 0; j++)
			;
		if (j - i < (size_t)mine + 2)
			continue;		/* not richer than the newcomer */
		for (; i < j; i++) {
			hc = v[i];
			if (hc->fd == -1 || (age = now_ms - hc->t0_ms) <
			    LIM_HTTP_EVICT_GRACE_MS)
				continue;
			rate = (double)tcp_bytes_in(hc->fd) * 1000.0 /
			    (double)age;
			if (best == NULL || rate < best_rate ||
			    (rate == best_rate && hc->t0_ms < best->t0_ms)) {
				best = hc;
				best_rate = rate;
			}
		}
	}
	free(v);
	return best;
}

static int
key_cmp(const void *a, const void *b)
{
	const struct http_conn	*x = *(const struct http_conn *const *)a;
	const struct http_conn	*y = *(const struct http_conn *const *)b;

	return memcmp(x->key, y->key, ADDR_KEY_BYTES);
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
	struct http_conn	*hc;
	unsigned long long	 declared;
	char			*end, m[16], u[64];
	int			 health;

	snprintf(r->what, sizeof(r->what), "%s %s",
	    log_escape(m, sizeof(m), method, strlen(method)),
	    log_escape(u, sizeof(u), url, strlen(url)));
	if ((hc = conn_of(conn)) != NULL)	/* the headers are in */
		atomic_store(&hc->phase, HC_REQUEST);
	health = strcmp(url, "/healthz") == 0 || strcmp(url, "/metrics") == 0;
	if (fr->admin && !health) {
		r->kind = RK_ANSWERED;
		return answer(r, conn, MHD_HTTP_NOT_FOUND, "no such path; this "
		    "listener serves /healthz and /metrics", NULL, 0);
	}
	/* with --admin-listen, the public listener does not have them */
	if (health && (fr->admin || cf->admin_listen == NULL)) {
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
		/* the whole declared body is reserved now, and no more */
		r->body.max = (size_t)declared;
		r->declared = 1;
		/*
		 * Over the budget: decided now, answered once the body has
		 * been read and dropped (no memory): an answer sent while the
		 * sender still sends is often lost to the TCP reset of the
		 * close.
		 */
		if (body_take(r, (size_t)declared) == -1)
			refuse_body(r, MHD_HTTP_SERVICE_UNAVAILABLE,
			    "busy: too many report bodies in transit; retry "
			    "later");
	}
	r->kind = RK_REPORT;
	return MHD_YES;
}

/*
 * Reserve room in --body-budget for n more body bytes of r, as the
 * buffer will grow for them (bbuf doubles from BBUF_FIRST_BYTES up to its
 * max; r->reserved follows the same steps).  0, or -1 (counted) when the
 * budget cannot take it.
 */
static int
body_take(struct http_req *r, size_t n)
{
	struct collector	*co = r->fr->co;
	size_t			 need = r->body.len + n, want, more, held;

	if (need <= r->reserved)
		return 0;
	if (r->declared)
		want = r->body.max;		/* exactly what was declared */
	else {
		want = r->reserved != 0 ? r->reserved : BODY_FIRST_BYTES;
		while (want < need)
			want = want > r->body.max / 2 ? r->body.max : want * 2;
		if (want > r->body.max)
			want = r->body.max;
	}
	more = want - r->reserved;
	held = atomic_load(&co->body_held);
	do {
		if (held + more > r->fr->conf->body_budget) {
			metrics_conn(MC_BODY_BUDGET);
			return -1;
		}
	} while (!atomic_compare_exchange_weak(&co->body_held, &held,
	    held + more));
	r->reserved = want;
	metrics_body_held(held + more);
	return 0;
}

/* What the parse of r's body may grow to: the bound ingest enforces. */
static size_t
parse_weight(const struct http_req *r)
{
	const struct http_front	*fr = r->fr;
	size_t			 len = r->body.len, w;

	if (len >= 2 && r->body.data[0] == 0x1f && r->body.data[1] == 0x8b) {
		w = len > SIZE_MAX / fr->lim.ratio_max ? SIZE_MAX :
		    len * fr->lim.ratio_max;
		if (w < fr->lim.ratio_floor)
			w = fr->lim.ratio_floor;
	} else
		w = len;
	if (w > fr->lim.json_max)
		w = fr->lim.json_max;
	if (w > fr->conf->parse_budget)
		w = fr->conf->parse_budget;
	return w;
}

/* Wait (LIM_HTTP_PARSE_WAIT_SEC at most) for w bytes of --parse-budget. */
static int
parse_enter(struct http_front *fr, size_t w)
{
	struct collector	*co = fr->co;
	struct timespec		 until;
	int			 rc = 0;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += LIM_HTTP_PARSE_WAIT_SEC;
	pthread_mutex_lock(&co->parse_mtx);
	while (co->parse_held + w > fr->conf->parse_budget && rc == 0)
		if (pthread_cond_timedwait(&co->parse_cv, &co->parse_mtx,
		    &until) == ETIMEDOUT)
			rc = -1;
	if (co->parse_held + w <= fr->conf->parse_budget) {
		co->parse_held += w;
		rc = 0;
	}
	pthread_mutex_unlock(&co->parse_mtx);
	return rc;
}

static void
parse_leave(struct http_front *fr, size_t w)
{
	struct collector	*co = fr->co;

	pthread_mutex_lock(&co->parse_mtx);
	co->parse_held -= w;
	pthread_cond_broadcast(&co->parse_cv);
	pthread_mutex_unlock(&co->parse_mtx);
}

/*
 * A verdict while the body is still arriving (over a limit): the buffer
 * and its reservation go now; the rest of the body is read and dropped
 * (MHD 0.9.75 takes no answer before the body has ended), bounded by
 * --request-timeout; then the answer, with Connection: close.
 */
static void
refuse_body(struct http_req *r, unsigned status, const char *why)
{
	struct collector	*co = r->fr->co;

	r->verdict = status;
	r->why = why;
	r->close = 1;
	bbuf_reset(&r->body);
	if (r->reserved > 0) {
		metrics_body_held(atomic_fetch_sub(&co->body_held,
		    r->reserved) - r->reserved);
		r->reserved = 0;
	}
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
	if (atomic_load(&r->fr->draining) || r->close)
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

static long long
mono_ms(void)
{
	struct timespec	now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (long long)now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

/*
 * The address a connection counts against: an IPv4 address (also when
 * mapped into IPv6), or the first LIM_HTTP_IPV6_PREFIX_BITS of an IPv6
 * one, behind a family byte; key is ADDR_KEY_BYTES long.
 */
static void
addr_key(const struct sockaddr *sa, unsigned char *key)
{
	const struct sockaddr_in	*s4;
	const struct sockaddr_in6	*s6;

	memset(key, 0, ADDR_KEY_BYTES);
	if (sa == NULL)
		return;
	if (sa->sa_family == AF_INET) {
		s4 = (const struct sockaddr_in *)(const void *)sa;
		key[0] = 4;
		memcpy(key + 1, &s4->sin_addr, 4);
	} else if (sa->sa_family == AF_INET6) {
		s6 = (const struct sockaddr_in6 *)(const void *)sa;
		if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr)) {
			key[0] = 4;
			memcpy(key + 1, s6->sin6_addr.s6_addr + 12, 4);
		} else {
			key[0] = 6;
			memcpy(key + 1, s6->sin6_addr.s6_addr,
			    LIM_HTTP_IPV6_PREFIX_BITS / 8);
		}
	}
}

/* Bytes the kernel has received on a TCP socket (TLS included); 0 unknown. */
static unsigned long long
tcp_bytes_in(int fd)
{
	struct tcp_info	ti;
	socklen_t	len = sizeof(ti);

	memset(&ti, 0, sizeof(ti));
	if (fd == -1 || getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) == -1)
		return 0;
	if (len < offsetof(struct tcp_info, tcpi_bytes_received) +
	    sizeof(ti.tcpi_bytes_received))
		return 0;
	return (unsigned long long)ti.tcpi_bytes_received;
}

static struct http_conn *
conn_of(struct MHD_Connection *conn)
{
	const union MHD_ConnectionInfo	*ci;

	ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	return ci != NULL ? ci->socket_context : NULL;
}
