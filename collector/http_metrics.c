/*
 * http_metrics.c -- counters of tlsrpt-httpd in Prometheus text format.
 *
 * Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
 */

#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "ingest.h"
#include "http_metrics.h"
#include "store.h"
#include "core_worker.h"

static const unsigned	codes[] = {
	200, 201, 400, 403, 404, 405, 413, 415, 500, 503
};
#define NCODES	(sizeof(codes) / sizeof(codes[0]))

static const char *const reject_names[MR_NREJECT] = {
	"too-big", "media-type", "gzip", "json", "schema", "format", "empty",
	"domain",
};

static const char *const conn_names[MC_NCONN] = {
	"refused-per-address", "refused-full", "evicted", "header-timeout",
	"request-timeout", "body-budget", "parse-wait",
};

/* request duration histogram buckets, seconds */
static const double	buckets[] = {
	0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5
};
#define NBUCKETS	(sizeof(buckets) / sizeof(buckets[0]))

static atomic_uint_fast64_t	req_by_code[NCODES + 1];	/* + other */
static atomic_uint_fast64_t	rejected[MR_NREJECT];
static atomic_uint_fast64_t	spool_failed;
static atomic_uint_fast64_t	http_dups;
static atomic_uint_fast64_t	dur_bucket[NBUCKETS + 1];	/* + Inf */
static atomic_uint_fast64_t	dur_sum_us;
static atomic_uint_fast64_t	conn_events[MC_NCONN];
static atomic_size_t		body_held;

struct out {
	char	*buf;
	size_t	 sz, len;
};

static void	put(struct out *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));

void
metrics_request(unsigned status, double seconds)
{
	size_t	i;

	for (i = 0; i < NCODES && codes[i] != status; i++)
		;
	atomic_fetch_add_explicit(&req_by_code[i], 1, memory_order_relaxed);
	for (i = 0; i < NBUCKETS && seconds > buckets[i]; i++)
		;
	atomic_fetch_add_explicit(&dur_bucket[i], 1, memory_order_relaxed);
	if (seconds > 0)
		atomic_fetch_add_explicit(&dur_sum_us,
		    (uint_fast64_t)(seconds * 1e6), memory_order_relaxed);
}

void
metrics_reject(enum metrics_reject r)
{
	if (r < MR_NREJECT)
		atomic_fetch_add_explicit(&rejected[r], 1,
		    memory_order_relaxed);
}

void
metrics_spool_failed(void)
{
	atomic_fetch_add_explicit(&spool_failed, 1, memory_order_relaxed);
}

void
metrics_http_duplicate(void)
{
	atomic_fetch_add_explicit(&http_dups, 1, memory_order_relaxed);
}

void
metrics_conn(enum metrics_conn e)
{
	if (e < MC_NCONN)
		atomic_fetch_add_explicit(&conn_events[e], 1,
		    memory_order_relaxed);
}

void
metrics_body_held(size_t n)
{
	atomic_store_explicit(&body_held, n, memory_order_relaxed);
}

size_t
metrics_json_str(char *buf, size_t bufsz, const char *s)
{
	static const char	hex[] = "0123456789abcdef";
	const unsigned char	*p;
	size_t			 n = 0;

	if (bufsz == 0)
		return 0;
	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\') {
			if (n + 2 >= bufsz)
				break;
			buf[n++] = '\\';
			buf[n++] = (char)*p;
		} else if (*p < 0x20 || *p >= 0x7f) {
			/* control bytes and non-ASCII: \u00XX (Latin-1 at
			 * worst, never invalid JSON) */
			if (n + 6 >= bufsz)
				break;
			buf[n++] = '\\';
			buf[n++] = 'u';
			buf[n++] = '0';
			buf[n++] = '0';
			buf[n++] = hex[*p >> 4];
			buf[n++] = hex[*p & 0xf];
		} else {
			if (n + 1 >= bufsz)
				break;
			buf[n++] = (char)*p;
		}
	}
	buf[n] = '\0';
	return n;
}

size_t
metrics_render(char *buf, size_t bufsz, const struct metrics_snapshot *s)
{
	const struct worker_stats	*ws = s->ws;
	struct out			 o = { buf, bufsz, 0 };
	uint64_t			 cum = 0, n;
	size_t				 i;

	put(&o, "# HELP tlsrpt_http_requests_total HTTP requests answered, "
	    "by status.\n# TYPE tlsrpt_http_requests_total counter\n");
	for (i = 0; i <= NCODES; i++) {
		n = atomic_load(&req_by_code[i]);
		if (i < NCODES)
			put(&o, "tlsrpt_http_requests_total{code=\"%u\"} %llu\n",
			    codes[i], (unsigned long long)n);
		else
			put(&o, "tlsrpt_http_requests_total{code=\"other\"} "
			    "%llu\n", (unsigned long long)n);
	}
	put(&o, "# HELP tlsrpt_http_request_duration_seconds Time from the "
	    "request headers to the answer.\n"
	    "# TYPE tlsrpt_http_request_duration_seconds histogram\n");
	for (i = 0; i < NBUCKETS; i++) {
		cum += atomic_load(&dur_bucket[i]);
		put(&o, "tlsrpt_http_request_duration_seconds_bucket"
		    "{le=\"%g\"} %llu\n", buckets[i], (unsigned long long)cum);
	}
	cum += atomic_load(&dur_bucket[NBUCKETS]);
	put(&o, "tlsrpt_http_request_duration_seconds_bucket{le=\"+Inf\"} "
	    "%llu\n", (unsigned long long)cum);
	put(&o, "tlsrpt_http_request_duration_seconds_sum %.6f\n",
	    (double)atomic_load(&dur_sum_us) / 1e6);
	put(&o, "tlsrpt_http_request_duration_seconds_count %llu\n",
	    (unsigned long long)cum);

	put(&o, "# HELP tlsrpt_http_rejected_total Bodies refused by the "
	    "HTTP front-end, by reason.\n"
	    "# TYPE tlsrpt_http_rejected_total counter\n");
	for (i = 0; i < MR_NREJECT; i++)
		put(&o, "tlsrpt_http_rejected_total{reason=\"%s\"} %llu\n",
		    reject_names[i], (unsigned long long)atomic_load(
		    &rejected[i]));
	put(&o, "# HELP tlsrpt_http_duplicates_total Byte-identical "
	    "resubmissions answered 200.\n"
	    "# TYPE tlsrpt_http_duplicates_total counter\n"
	    "tlsrpt_http_duplicates_total %llu\n",
	    (unsigned long long)atomic_load(&http_dups));
	put(&o, "# HELP tlsrpt_spool_failures_total Reports the spool could "
	    "not take (503).\n# TYPE tlsrpt_spool_failures_total counter\n"
	    "tlsrpt_spool_failures_total %llu\n",
	    (unsigned long long)atomic_load(&spool_failed));

	put(&o, "# HELP tlsrpt_spool_writable 1 when the spool takes "
	    "reports.\n# TYPE tlsrpt_spool_writable gauge\n"
	    "tlsrpt_spool_writable %d\n", s->spool_ok);
	if (s->depth_ok) {
		put(&o, "# HELP tlsrpt_spool_files Reports waiting for the "
		    "database.\n# TYPE tlsrpt_spool_files gauge\n"
		    "tlsrpt_spool_files %zu\n", s->depth);
		put(&o, "# HELP tlsrpt_spool_oldest_age_seconds Age of the "
		    "oldest waiting report.\n"
		    "# TYPE tlsrpt_spool_oldest_age_seconds gauge\n"
		    "tlsrpt_spool_oldest_age_seconds %lld\n",
		    (long long)s->oldest_age);
	}
	put(&o, "# HELP tlsrpt_http_connections Open connections.\n"
	    "# TYPE tlsrpt_http_connections gauge\n"
	    "tlsrpt_http_connections %u\n", s->connections);
	put(&o, "# HELP tlsrpt_http_connection_events_total Connections "
	    "refused or cut, 503s for lack of room, by event.\n"
	    "# TYPE tlsrpt_http_connection_events_total counter\n");
	for (i = 0; i < MC_NCONN; i++)
		put(&o, "tlsrpt_http_connection_events_total{event=\"%s\"} "
		    "%llu\n", conn_names[i], (unsigned long long)atomic_load(
		    &conn_events[i]));
	put(&o, "# HELP tlsrpt_http_body_bytes_held Request bodies held "
	    "now (reserved in --body-budget).\n"
	    "# TYPE tlsrpt_http_body_bytes_held gauge\n"
	    "tlsrpt_http_body_bytes_held %zu\n", atomic_load(&body_held));

	if (ws == NULL)
		goto out;
	put(&o, "# HELP tlsrpt_reports_stored_total Reports stored in the "
	    "database.\n# TYPE tlsrpt_reports_stored_total counter\n"
	    "tlsrpt_reports_stored_total %llu\n",
	    (unsigned long long)ws->stored);
	put(&o, "# HELP tlsrpt_reports_duplicate_total Reports the database "
	    "already had.\n# TYPE tlsrpt_reports_duplicate_total counter\n"
	    "tlsrpt_reports_duplicate_total %llu\n",
	    (unsigned long long)ws->duplicates);
	put(&o, "# HELP tlsrpt_reports_conflicting_total Copies of a stored "
	    "report with other figures and no trust to replace it; the "
	    "first copy is kept.\n"
	    "# TYPE tlsrpt_reports_conflicting_total counter\n"
	    "tlsrpt_reports_conflicting_total %llu\n",
	    (unsigned long long)ws->conflicting);
	put(&o, "# HELP tlsrpt_reports_replaced_total Untrusted copies "
	    "whose figures a DKIM-trusted copy replaced.\n"
	    "# TYPE tlsrpt_reports_replaced_total counter\n"
	    "tlsrpt_reports_replaced_total %llu\n",
	    (unsigned long long)ws->replaced);
	put(&o, "# HELP tlsrpt_reports_domain_filled_total Copies that "
	    "named the policy domain a stored copy lacked.\n"
	    "# TYPE tlsrpt_reports_domain_filled_total counter\n"
	    "tlsrpt_reports_domain_filled_total %llu\n",
	    (unsigned long long)ws->filled);
	put(&o, "# HELP tlsrpt_reports_rejected_total Spooled reports moved "
	    "to bad/, by reason.\n"
	    "# TYPE tlsrpt_reports_rejected_total counter\n");
	for (i = 1; i < sizeof(ws->rejected_by) / sizeof(ws->rejected_by[0]);
	    i++)
		put(&o, "tlsrpt_reports_rejected_total{reason=\"%s\"} %llu\n",
		    ingest_status_str((enum ingest_status)i),
		    (unsigned long long)ws->rejected_by[i]);
	put(&o, "# HELP tlsrpt_db_errors_total Failed database connects and "
	    "transactions.\n# TYPE tlsrpt_db_errors_total counter\n"
	    "tlsrpt_db_errors_total %llu\n",
	    (unsigned long long)ws->db_errors);
	put(&o, "# HELP tlsrpt_db_errors_by_class_total Database failures "
	    "by class; only \"report\" rejects a report, the others keep "
	    "it in the spool for a retry.\n"
	    "# TYPE tlsrpt_db_errors_by_class_total counter\n");
	for (i = 1; i < STORE_EC_N; i++)
		put(&o, "tlsrpt_db_errors_by_class_total{class=\"%s\"} %llu\n",
		    store_err_class_str((enum store_err_class)i),
		    (unsigned long long)ws->db_errors_by[i]);
	put(&o, "# HELP tlsrpt_db_failing 1 while the database is not "
	    "usable, with the class of the last failure.\n"
	    "# TYPE tlsrpt_db_failing gauge\n");
	for (i = 1; i < STORE_EC_N; i++)
		if (i != STORE_EC_REPORT)
			put(&o, "tlsrpt_db_failing{class=\"%s\"} %d\n",
			    store_err_class_str((enum store_err_class)i),
			    ws->db_error_class == (int)i ? 1 : 0);
	put(&o, "# HELP tlsrpt_db_last_error_timestamp_seconds When the "
	    "last database failure happened (0: never).\n"
	    "# TYPE tlsrpt_db_last_error_timestamp_seconds gauge\n"
	    "tlsrpt_db_last_error_timestamp_seconds %lld\n",
	    (long long)ws->db_last_error_at);
	put(&o, "# HELP tlsrpt_db_up 1 when the last database contact "
	    "worked.\n# TYPE tlsrpt_db_up gauge\ntlsrpt_db_up %d\n",
	    ws->db_up ? 1 : 0);
	put(&o, "# HELP tlsrpt_ingest_latency_seconds From receipt to "
	    "commit.\n# TYPE tlsrpt_ingest_latency_seconds summary\n"
	    "tlsrpt_ingest_latency_seconds_sum %.6f\n"
	    "tlsrpt_ingest_latency_seconds_count %llu\n",
	    ws->latency_sum, (unsigned long long)ws->latency_count);
	put(&o, "# HELP tlsrpt_ingest_last_latency_seconds Of the last "
	    "stored report.\n"
	    "# TYPE tlsrpt_ingest_last_latency_seconds gauge\n"
	    "tlsrpt_ingest_last_latency_seconds %.6f\n", ws->last_latency);
 out:
	return o.len;
}

static void
put(struct out *o, const char *fmt, ...)
{
	va_list	ap;
	int	r;

	if (o->len >= o->sz)
		return;
	va_start(ap, fmt);
	r = vsnprintf(o->buf + o->len, o->sz - o->len, fmt, ap);
	va_end(ap);
	if (r < 0 || (size_t)r >= o->sz - o->len)
		o->len = o->sz;		/* truncated */
	else
		o->len += (size_t)r;
}
