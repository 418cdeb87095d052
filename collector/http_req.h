/*
 * http_req.h -- the request side of tlsrpt-httpd: the MHD callbacks and
 * the state they share.  Included only by http_main.c and http_req.c (the
 * two files that may include microhttpd.h).
 *
 * Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
 *
 * A struct collector lives as long as the process; a struct http_front
 * is one generation of configuration (SIGHUP makes a new one) and is
 * shared, read-only but for its atomics, by every request of the daemons
 * started with it.
 */

#ifndef TLSRPT_HTTP_REQ_H
#define TLSRPT_HTTP_REQ_H

#include <sys/socket.h>

#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <microhttpd.h>

#include "ingest.h"
#include "core_submit.h"

struct spool;
struct worker;
struct httpd_conf;
struct http_conn;

struct collector {
	struct spool		*spool;		/* borrowed */
	struct worker		*worker;	/* borrowed; may be NULL */
	struct submit_recent	*recent;	/* acked body digests */
	atomic_uint_fast64_t	 seq;		/* request ids */
	atomic_int		 spool_failing;	/* last spool_put failed */
	pthread_mutex_t		 conn_mtx;	/* guards the list below */
	struct http_conn	*conns;
	unsigned		 nconns;	/* in the list */
	unsigned		 nevicted;	/* of them, cut, not closed */
	/* request bodies held (reserved), all generations: --body-budget */
	atomic_size_t		 body_held;
	/* report text being parsed, reckoned by bound: --parse-budget */
	pthread_mutex_t		 parse_mtx;
	pthread_cond_t		 parse_cv;
	size_t			 parse_held;
};

struct http_front {
	struct collector	*co;		/* borrowed */
	struct httpd_conf	*conf;		/* borrowed; outlives front */
	struct ingest_limits	 lim;
	struct submit_ctx	 sub;		/* the verdict's context */
	atomic_int		 inflight;	/* requests begun, not done */
	atomic_int		 draining;	/* answer with Connection: close */
	int			 admin;		/* the --admin-listen daemon */
};

/*
 * Set up co for spool sp and worker w (both borrowed; w may be NULL).
 * 0, or -1 with a reason in err.
 */
int	collector_init(struct collector *, struct spool *sp,
	    struct worker *w, char *err, size_t errsz);
void	collector_fini(struct collector *);

/* A front for conf (borrowed); its limits, allow-list, report domain
 * (a single --domain) and the cap of bad/ (--rejects-keep) come from
 * conf. */
void	http_front_init(struct http_front *, struct collector *,
	    struct httpd_conf *);

/* MHD callbacks; cls is the struct http_front. */
enum MHD_Result	 http_access(void *cls, struct MHD_Connection *,
		    const char *url, const char *method, const char *version,
		    const char *upload_data, size_t *upload_data_size,
		    void **req_cls);
void		 http_completed(void *cls, struct MHD_Connection *,
		    void **req_cls, enum MHD_RequestTerminationCode);
void		 http_notify_conn(void *cls, struct MHD_Connection *,
		    void **socket_context, enum MHD_ConnectionNotificationCode);

/*
 * MHD accept policy (cls is the struct http_front).  An address (IPv4
 * /32, IPv6 /64: LIM_HTTP_IPV6_PREFIX_BITS) with --max-connections-per-ip
 * connections already is refused.  When all --max-connections slots are
 * taken, the connection that has received least per second of its life
 * (older than LIM_HTTP_EVICT_GRACE_MS), from an address holding at least
 * two more than the newcomer's, is cut to make room; with none to cut,
 * the new one is refused.
 */
enum MHD_Result	 http_accept(void *cls, const struct sockaddr *,
		    socklen_t);

/*
 * Cut off (shutdown(2)) every connection whose current request has taken
 * more than limit seconds, or whose TLS handshake and request headers
 * (of its first request, or of a next one once its bytes arrive) more
 * than header_limit seconds; returns how many.  Called from the main
 * loop once a second.  Thread-safe.
 */
unsigned	 http_reap(struct collector *, unsigned limit,
		    unsigned header_limit);

unsigned	 http_connections(struct collector *);

#endif
