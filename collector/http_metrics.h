/*
 * http_metrics.h -- counters of tlsrpt-httpd in Prometheus text format.
 *
 * Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
 *
 * The counters are process-wide atomics: every function is thread-safe
 * and never allocates.
 */

#ifndef TLSRPT_METRICS_H
#define TLSRPT_METRICS_H

#include <stddef.h>
#include <stdint.h>

struct worker_stats;

/* Why the HTTP front-end refused a body (the reason label). */
enum metrics_reject {
	MR_TOO_BIG = 0,		/* 413 */
	MR_MEDIA_TYPE,		/* 415: neither gzip nor JSON */
	MR_GZIP,		/* 400 by ingest status */
	MR_JSON,
	MR_SCHEMA,
	MR_FORMAT,
	MR_EMPTY,		/* 400: no body */
	MR_DOMAIN,		/* 403 */
	MR_NREJECT
};

/* A request answered with status, that took seconds to handle. */
void	metrics_request(unsigned status, double seconds);
void	metrics_reject(enum metrics_reject);
void	metrics_spool_failed(void);
void	metrics_http_duplicate(void);

/* Connection-level events of the HTTP front-end (counted). */
enum metrics_conn {
	MC_PER_IP = 0,		/* refused: the address has its share */
	MC_FULL,		/* refused: every slot taken, none to cut */
	MC_EVICTED,		/* cut to admit a new connection */
	MC_HEADER_TIMEOUT,	/* cut: handshake + headers too slow */
	MC_REQUEST_TIMEOUT,	/* cut: the request took too long */
	MC_BODY_BUDGET,		/* 503: --body-budget full */
	MC_PARSE_WAIT,		/* 503: no room in --parse-budget in time */
	MC_NCONN
};

void	metrics_conn(enum metrics_conn);
/* The request bodies held now (reserved in --body-budget), bytes. */
void	metrics_body_held(size_t);

/* What /metrics and /healthz show besides the counters. */
struct metrics_snapshot {
	const struct worker_stats	*ws;	/* NULL: no worker */
	int				 spool_ok;	/* writable */
	int				 depth_ok;	/* spool_depth() worked */
	size_t				 depth;
	int64_t				 oldest_age;
	unsigned			 connections;
};

/*
 * Render every metric into buf (Prometheus text exposition format 0.0.4).
 * Returns the length, or bufsz when the text did not fit (truncated).
 */
size_t	metrics_render(char *buf, size_t bufsz,
	    const struct metrics_snapshot *);

/*
 * s as the inside of a JSON string (quotes, backslashes, control and
 * non-ASCII bytes escaped) into buf, cut to fit and NUL-terminated.
 * Returns the length written.
 */
size_t	metrics_json_str(char *buf, size_t bufsz, const char *s);

#define METRICS_BUF_BYTES	16384

#endif
