/*
 * tlsrpt_limits.h -- every bound an outside party can push against, with
 * its unit.
 *
 * Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
 *
 * These are the defaults; programs take overrides from options or config.
 * The README's "Limits" table lists each with its default.
 */

#ifndef TLSRPT_LIMITS_H
#define TLSRPT_LIMITS_H

#define LIM_COMPRESSED_MAX_BYTES	(10 * 1024 * 1024)	/* RFC 8460 §5.2 */
#define LIM_JSON_MAX_BYTES		(20 * 1024 * 1024)	/* after gunzip */
#define LIM_GZIP_RATIO_MAX		1000	/* decompressed : compressed */
#define LIM_GZIP_RATIO_FLOOR_BYTES	(1024 * 1024)	/* ratio applies above */
#define LIM_MAIL_MAX_BYTES		(25 * 1024 * 1024)
#define LIM_JSON_DEPTH_MAX		16
#define LIM_STRING_MAX_BYTES		4096
#define LIM_POLICIES_MAX		1000
#define LIM_POLICY_STRINGS_MAX		1000	/* policy-string, mx-host */
#define LIM_DETAILS_MAX			100000	/* failure details per report */
#define LIM_MIME_FORWARD_DEPTH_MAX	8	/* message/rfc822 in message */
#define LIM_MIME_NEST_DEPTH_MAX		64	/* multipart in multipart */
#define LIM_MIME_PARTS_MAX		1000	/* leaf parts looked at */
#define LIM_WARNINGS_MAX		64
#define LIM_REJECT_KEEP_BYTES		(64 * 1024)	/* raw bytes kept */

/* tlsrpt-httpd (collector/http_main.c): each is also an option */
#define LIM_HTTP_BODY_MAX_BYTES		LIM_COMPRESSED_MAX_BYTES /* --body-max */
#define LIM_HTTP_CONN_MAX		512	/* --max-connections */
#define LIM_HTTP_CONN_PER_IP_MAX	32	/* --max-connections-per-ip */
#define LIM_HTTP_CONN_MEM_BYTES		(64 * 1024)	/* MHD per-connection pool */
#define LIM_HTTP_IDLE_TIMEOUT_SEC	30	/* --timeout: no byte for this long */
#define LIM_HTTP_REQUEST_TIMEOUT_SEC	120	/* --request-timeout: one request */
#define LIM_HTTP_THREAD_STACK_BYTES	(512 * 1024)
#define LIM_HTTP_REJECTS_KEEP_FILES	1000	/* --rejects-keep: 400s kept */
#define LIM_HTTP_RECENT_DIGESTS		16384	/* acked bodies remembered: 200 */
#define LIM_HTTP_HEADER_VALUE_BYTES	256	/* peer header text we keep */
#define LIM_HTTP_RETRY_AFTER_SEC	60	/* Retry-After of a 503 */

/* DKIM verification (dkim/dkim_verify.c): tlsrpt-milter, tlsrpt import */
#define LIM_DKIM_SIGS_MAX		8	/* signatures verified per message;
						   later ones are not looked at */
#define LIM_DKIM_DNS_TIMEOUT_SEC	10	/* one key lookup */

/* refused payloads and the fronts' verdict (collector/core_submit.c, core_spool.c) */
#define LIM_SPOOL_BAD_FILES		1000	/* --rejects-keep: files in bad/ */
#define LIM_SPOOL_BAD_BYTES		(256ULL * 1024 * 1024) /* bytes in bad/ */
#define LIM_MILTER_INFLIGHT_MAX		16	/* --max-inflight: messages */

/* tlsrpt-httpd at the connection level (issue 8 items 2, 7, 8) */
#define LIM_HTTP_BODY_BUDGET_BODIES	8	/* --body-budget: 8 x --body-max */
#define LIM_HTTP_PARSE_BUDGET_INPUTS	1	/* --parse-budget: 1 x --json-max */
#define LIM_HTTP_PARSE_WAIT_SEC		10	/* wait for parse room, then 503 */
#define LIM_HTTP_HEADER_TIMEOUT_SEC	10	/* --header-timeout: handshake + headers */
#define LIM_HTTP_EVICT_GRACE_MS		1000	/* a connection this young is not evicted */
#define LIM_HTTP_CONN_HEADROOM		64	/* MHD slots over --max-connections (evictions closing) */
#define LIM_HTTP_ADMIN_CONN_MAX		16	/* connections at once on --admin-listen */
#define LIM_HTTP_IPV6_PREFIX_BITS	64	/* one "address" for --max-connections-per-ip */

/*
 * Memory bounded by input (ingest/json_scan.c, ingest/mime.c): checked by
 * a pre-scan before json-c or GMime allocate.  One parse of any input
 * within the limits above stays under LIM_PARSE_PEAK_BYTES (README,
 * Limits: the worst case, worked out).
 */
#define LIM_JSON_VALUES_MAX		1200000	/* values, containers too */
#define LIM_JSON_TREE_BYTES		(160 * 1024 * 1024) /* json-c, estimated */
#define LIM_MIME_DELIMS_MAX		4000	/* "--" lines in one message */
#define LIM_MIME_HEADERS_MAX		20000	/* header-like lines, one message */
#define LIM_PARSE_PEAK_BYTES		(256 * 1024 * 1024) /* documented bound */

/* tlsrpt check: the live setup of a domain (live/, issue 11) */
#define LIM_LIVE_TIMEOUT_SEC		30	/* --timeout: one domain, all of it */
#define LIM_LIVE_TIMEOUT_MAX_SEC	600	/* --timeout at most */
#define LIM_LIVE_POLICY_BYTES		65536	/* RFC 8461 §3.3: 64 KiB body */
#define LIM_LIVE_HTTP_HEADER_BYTES	8192	/* status line + header fields */
#define LIM_LIVE_SMTP_LINE_BYTES	1000	/* RFC 5321 §4.5.3.1.5 reply line */
#define LIM_LIVE_SMTP_LINES_MAX		100	/* lines of one reply */
#define LIM_LIVE_MX_MAX			32	/* MX hosts checked per domain */
#define LIM_LIVE_ADDRS_MAX		8	/* addresses tried per host */
#define LIM_LIVE_DOMAINS_MAX		1000	/* --domain / --all per run */
#define LIM_LIVE_EXPIRY_WARN_DAYS	14	/* certificate: warning under */
#define LIM_LIVE_EXPIRY_CRIT_DAYS	3	/* certificate: critical under */

/* tlsrpt-web (web/, issue 10) */
#define LIM_WEB_PAGE_MAX_BYTES		(4 * 1024 * 1024) /* one answer, HTML or JSON */
#define LIM_WEB_PEM_MAX_BYTES		(1024 * 1024)	/* --tls-cert, --tls-key */
#define LIM_WEB_CONN_MAX		64	/* --max-connections */
#define LIM_WEB_IDLE_TIMEOUT_SEC	30	/* --timeout */
#define LIM_WEB_USERS_MAX		10000	/* lines of --users */
#define LIM_WEB_USERS_FILE_BYTES	(4 * 1024 * 1024) /* --users file */
#define LIM_WEB_USER_DOMAINS_MAX	256	/* domains and patterns of a user */
#define LIM_WEB_WINDOW_DAYS_MAX		400	/* days=N, since..until */
#define LIM_WEB_ROWS_PER_PAGE		100	/* overview rows a page */
#define LIM_WEB_REPORTS_LISTED		100	/* reports on a domain page */
#define LIM_WEB_REJECTIONS_LISTED	200	/* rejections page */

/*
 * Rejections kept per UTC day (schema/007_rejection_cap.sql, README
 * Limits): the defaults the migration writes into tlsrpt.rejection_cap,
 * where the database enforces them for every node; beyond either, a
 * rejection is only counted in tlsrpt.rejection_day.  Changed with SQL
 * (UPDATE tlsrpt.rejection_cap ...), not by an option: all nodes share
 * one value.  tests/unit/test_rejection_cap.c holds the two to agreeing.
 */
#define LIM_REJECTIONS_DAY_MAX		10000	/* rejection rows a day */
#define LIM_REJECTIONS_DAY_BYTES	(64 * 1024 * 1024) /* excerpts a day */

/*
 * tlsrpt check --all / many --domain (live/live_pool.c): domains checked
 * at once, each in its own worker thread within --timeout, so a run of
 * n domains ends within ceil(n / LIM_LIVE_PARALLEL) timeouts.
 */
#define LIM_LIVE_PARALLEL		32	/* domains checked at once */
/* RFC 7672 §3.1.1: the DANE-EE (usage 3) TLSA records of an MX matched
 * by themselves, to tell whether the name and expiry checks are waived;
 * records past this many are not among them */
#define LIM_LIVE_TLSA_EE_MAX		64	/* DANE-EE records matched */

/*
 * tlsrpt check --store (schema/010_live_check.sql, store/store_check.c):
 * the newest checks kept per domain; storing one more deletes the
 * oldest.  A month of daily checks; `tlsrpt prune --older-than` also
 * removes those made before its cutoff.
 */
#define LIM_LIVE_CHECKS_KEPT		30	/* stored checks per domain */

/*
 * tlsrpt-web (web/web_cache.c, web/web_page_failures.c): the overviews
 * kept between requests, each a window's digest over every domain (about
 * 100 bytes a domain), dropped when the data stamp changes, when older
 * than the age, or least recently used first past either bound; and the
 * failure rows one /failures answer reads (LIMIT in its SQL).
 */
#define LIM_WEB_CACHE_WINDOWS		8	/* overviews kept */
#define LIM_WEB_CACHE_BYTES		(16 * 1024 * 1024) /* all of them */
#define LIM_WEB_CACHE_MAX_AGE_SEC	300	/* one kept at most */
#define LIM_WEB_CACHE_REFRESH_SEC	5	/* the refresher's period */
#define LIM_WEB_WINDOW_DAYS_DEFAULT	30	/* the overview's window, and
						 * the one kept ready */
#define LIM_WEB_CACHE_HOLD_SEC		60	/* --cache-hold: kept after new
						 * data, at most MAX_AGE */
#define LIM_WEB_CACHE_PAGES		64	/* /failures answers kept */
#define LIM_WEB_CACHE_PAGE_BYTES	(8 * 1024 * 1024) /* all of them */
#define LIM_WEB_FAILURE_ROWS		100	/* rows of one /failures page */

#endif
