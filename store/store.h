/*
 * store.h -- the public API of store/: PostgreSQL behind plain C types.
 *
 * Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
 *
 * store/ is the only code that includes libpq-fe.h.  A struct store is one
 * connection; use it from one thread at a time.  Every function returns
 * 0 on success and -1 on failure with store_errstr() set, unless it says
 * otherwise.
 */

#ifndef TLSRPT_STORE_H
#define TLSRPT_STORE_H

#include <stddef.h>
#include <stdint.h>

struct tlsrpt_report;
struct store;				/* opaque */

/* One numbered migration, embedded from schema/NNN_name.sql. */
struct store_migration {
	int		 version;
	const char	*name;
	const char	*sql;
};
/* The table generated at build time; ends with a NULL name. */
extern const struct store_migration store_migrations[];

/*
 * Connect with a libpq conninfo string or URI (NULL or "": TLSRPT_DB, then
 * libpq's defaults).  Returns a new store owned by the caller, or NULL with
 * a one-line reason copied into err.
 */
struct store	*store_open(const char *conninfo, char *err, size_t errsz);
void		 store_close(struct store *);

/* The last error: one line, valid until the next call on st. */
const char	*store_errstr(const struct store *);

/* 1 when the last error means the database cannot be used now (it is
 * unreachable, went away, is read-only, timed out, refused a privilege,
 * lacks a table, ...): a retry later may succeed.  0 only for an error
 * that is a fact about the report (STORE_EC_REPORT).  NULL (store_open()
 * out of memory) is transient. */
int		 store_err_transient(const struct store *);

/*
 * What kind of failure the last error was.  STORE_EC_REPORT is the only
 * class that is the report's fault (SQLSTATE classes 22 and 23 but for
 * 23505, and the checks store/ makes itself); every other class means
 * "the database is not usable now".
 */
enum store_err_class {
	STORE_EC_NONE = 0,	/* no error yet */
	STORE_EC_REPORT,	/* 22xxx, 23xxx: the data is at fault */
	STORE_EC_CONNECTION,	/* 08xxx, connection lost, no answer */
	STORE_EC_TIMEOUT,	/* 57014 statement timeout, 55P03 lock */
	STORE_EC_READ_ONLY,	/* 25006: a standby, or read-only set */
	STORE_EC_PRIVILEGE,	/* 42501 */
	STORE_EC_SCHEMA,	/* other 42xxx (undefined_table), 3D000 */
	STORE_EC_SHUTDOWN,	/* 57P01-57P05: admin shutdown, ... */
	STORE_EC_RESOURCES,	/* 53xxx: disk full, out of memory */
	STORE_EC_CONFLICT,	/* 40xxx, 23505 that kept coming */
	STORE_EC_OTHER,		/* anything else; ours: out of memory */
	STORE_EC_N
};
enum store_err_class	 store_err_class(const struct store *);

/* A short lower-case token for the class: "read-only", "timeout", ... */
const char		*store_err_class_str(enum store_err_class);

/* The SQLSTATE of the last error, "" when the server sent none. */
const char		*store_err_sqlstate(const struct store *);

/* Apply pending migrations in order, each in its own transaction; safe to
 * run twice and concurrently.  *applied (may be NULL) gets the count. */
int		 store_migrate(struct store *, int *applied);

/* 0 when every migration is applied; -1 otherwise (errstr says which). */
int		 store_check_schema(struct store *);

/* How a payload reached us. */
struct store_arrival {
	const char	*source;	/* "file", "stdin", "mail", "https" */
	const char	*origin;	/* file name or peer address; may be NULL */
	int64_t		 received_at;	/* Unix seconds */
};

enum store_outcome {
	STORE_STORED = 0,
	STORE_DUPLICATE,
	STORE_FAILED,		/* this report could not be stored */
};

/*
 * Store n parsed reports, in as few transactions as possible (batches of
 * up to 1000 reports, set-based): a report that fails does not take the
 * others down.  Each arrival is recorded, duplicates too; a report that
 * appears twice in reps is stored once, the later copy is a duplicate.
 * reps and arr stay owned by the caller; out[i] gets the outcome of
 * reps[i].  For speed pass many reports per call (hundreds or more).
 *
 * Returns 0 when every report was dealt with: out[i] is STORE_FAILED for
 * a report the database refused (store_put_why() says why; the caller
 * decides whether to record it with store_put_rejection()).  Returns -1
 * when the database became unreachable (store_err_transient() is 1): the
 * reports whose out[i] is not STORE_FAILED were committed, the others
 * were not and may be retried as they are.
 */
int	store_put_reports(struct store *, struct tlsrpt_report *const *reps,
	    const struct store_arrival *arr, size_t n, enum store_outcome *out);

/* Why reps[i] of the last store_put_reports() failed: one line, or NULL
 * when it did not.  Valid until the next store_put_reports() or
 * store_close() on st. */
const char	*store_put_why(const struct store *, size_t i);

/*
 * What else became of reps[i] in the last store_put_reports() (issues 8
 * and 13), STORE_PUT_* bits; 0 when nothing (or i is out of range).
 * A copy of a stored identity whose figures (ingest's figures digest)
 * differ from the stored copy's: when it is DKIM-trusted
 * (report->trusted with a dkim verdict) and the stored one is not, its
 * figures replace the stored ones everywhere, rollup included (out[i]
 * is STORE_STORED); otherwise the first copy stays and this arrival is
 * recorded as a conflicting copy (out[i] is STORE_DUPLICATE).  A copy
 * that knows policy domains the stored copy lacks fills them in.
 */
#define STORE_PUT_REPLACED	0x01	/* replaced an untrusted copy */
#define STORE_PUT_CONFLICT	0x02	/* differed; the first copy kept */
#define STORE_PUT_FILLED	0x04	/* named unknown policy domains */
unsigned	store_put_flags(const struct store *, size_t i);

/*
 * Record a rejected payload with its reason and up to keep_max raw bytes
 * (borrowed), within the day's caps (schema/007_rejection_cap.sql):
 * beyond them it is only counted, per UTC day of arr->received_at, in
 * tlsrpt.rejection_day.  Returns 0 when it was recorded or counted
 * (store_rejection_kept() says which), -1 with the error set.
 */
int	store_put_rejection(struct store *, const struct store_arrival *,
	    const char *reason, const unsigned char *raw, size_t len,
	    size_t keep_max);

/* 1 when the last successful store_put_rejection() recorded the
 * payload, 0 when the day's caps let it only be counted. */
int	store_rejection_kept(const struct store *);

/* A query window: reports whose date-range start is in [since, until). */
struct store_window {
	int64_t		 since;
	int64_t		 until;
	const char	*const *domains;	/* NULL or ndomains == 0: all */
	size_t		 ndomains;
	int		 trusted_only;	/* store_summary(): only reports
					 * with a passing aligned DKIM
					 * signature (tlsrpt-milter) */
};

struct store_rt_count {
	char		*result_type;
	int64_t		 failed_sessions;
};

struct store_domain_summary {
	char			*domain;	/* "" for unknown */
	int64_t			 reports;
	int64_t			 reporters;
	int64_t			 successful;
	int64_t			 failed;
	struct store_rt_count	*rts;		/* most failed first */
	size_t			 nrts;
};

/*
 * Per policy domain over the window, following the session accounting
 * rule of DESIGN.md.  On success *out is a new array owned by the caller
 * (release with store_summary_free()), sorted by domain.
 */
int	store_summary(struct store *, const struct store_window *,
	    struct store_domain_summary **out, size_t *n);
void	store_summary_free(struct store_domain_summary *, size_t n);

/* What the whole window holds, counted once (issues 8 and 13). */
struct store_totals {
	int64_t	reports;	/* distinct reports, those with no policy
				 * too (none of them when domains are
				 * named: they name no domain) */
	int64_t	domains;	/* distinct policy domains ("" included) */
	int64_t	conflicting;	/* arrivals of these reports whose figures
				 * differed and did not replace the stored
				 * copy (STORE_PUT_CONFLICT) */
};

/* The totals of window w (trusted_only honoured), from the base tables
 * in one snapshot. */
int	store_totals(struct store *, const struct store_window *,
	    struct store_totals *);


/* --- failures, readiness, digest (store_report.c) ------------------- */

/* A name and a figure: a result type and its failed sessions, a reporter
 * and the last day it saw something, ... */
struct store_count {
	char		*name;
	int64_t		 n;
};

/* The keys store_failures() groups by; any combination. */
#define STORE_BY_RESULT_TYPE	0x01
#define STORE_BY_MX		0x02	/* receiving-mx-hostname, lower case */
#define STORE_BY_REPORTER	0x04
#define STORE_BY_SENDING_IP	0x08
#define STORE_BY_RECEIVING_IP	0x10

/*
 * One group of failure details.  The key members that are not grouped
 * by are "", as are those the sender did not send (the caller knows
 * which from its flags).
 */
struct store_failure_row {
	char			*domain;
	char			*result_type;
	char			*mx;
	char			*reporter;
	char			*sending_ip;
	char			*receiving_ip;
	int64_t			 failed;	/* failed sessions */
	int64_t			 domain_sessions; /* successful + failed */
	int64_t			 nreporters;
	int64_t			 first_day;	/* Unix seconds, 00:00 UTC */
	int64_t			 last_day;
	struct store_count	*rts;		/* result types, most first */
	size_t			 nrts;
	struct store_count	*reasons;	/* reason codes, most first */
	size_t			 nreasons;	/* at most reasons_max */
	struct store_count	*reporters;	/* failed sessions each, */
	size_t			 nreporters_l;	/* most first, <= reasons_max */
};

/*
 * Failure details of the counted policies of the session accounting rule
 * over the window, per domain and the keys of by (STORE_BY_*).  On
 * success *out is a new array owned by the caller (release with
 * store_failures_free()), sorted by domain, then most failed first.
 */
int	store_failures(struct store *, const struct store_window *,
	    unsigned by, size_t reasons_max, struct store_failure_row **out,
	    size_t *n);
/*
 * The same, at most max groups (0: all) from the offset-th in that
 * order, the cap a LIMIT in the SQL; *total (when not NULL) is how many
 * groups there are in all (0 when the page is past the last).
 */
int	store_failures_page(struct store *, const struct store_window *,
	    unsigned by, size_t reasons_max, size_t offset, size_t max,
	    struct store_failure_row **out, size_t *n, int64_t *total);
void	store_failures_free(struct store_failure_row *, size_t n);

/* One distinct sts policy (policy-string set) senders applied. */
struct store_rd_policy {
	char			*strings;	/* the lines, "\n" between */
	char			*mode;		/* "" when none was parsed */
	int64_t			 max_age;	/* -1 missing or invalid */
	char			**mx;		/* patterns, lower case */
	size_t			 nmx;
	unsigned		 problems;	/* STS_P_* of ingest.h */
	int64_t			 reports;
	int64_t			 sessions;	/* successful + failed */
	int64_t			 first_day;
	int64_t			 last_day;
	struct store_count	*reporters;	/* n: last day it saw this */
	size_t			 nreporters;
};

/* Sessions enforce would refuse: one (MX, result type). */
struct store_rd_refusal {
	char			*mx;		/* "" when not sent */
	char			*result_type;
	int64_t			 failed;
	struct store_count	*reporters;	/* failed sessions each */
	size_t			 nreporters;
};

struct store_readiness {
	char			*domain;
	int64_t			 reports;
	int64_t			 days;		/* distinct days with reports */
	struct store_count	*reporters;	/* n: days with reports */
	size_t			 nreporters;
	int64_t			 sts_sessions;	/* under sts policies */
	int64_t			 sts_failed;
	int64_t			 nopolicy_sessions; /* no-policy-found */
	struct store_rd_policy	*policies;	/* newest first_day first */
	size_t			 npolicies;
	struct store_rd_refusal	*refusals;	/* most failed first */
	size_t			 nrefusals;
	struct store_count	*hosts;		/* MX host names seen: n is */
	size_t			 nhosts;	/* their failed sessions */
};

/*
 * What `tlsrpt readiness` weighs, for each domain of the window (which
 * must name them).  Policies are the sts entries of the reports, counted
 * or not (a tlsa twin does not make an sts failure less real).  Refusals
 * are the failure details under them whose result type an enforced
 * policy refuses (starttls-not-supported, certificate-*,
 * validation-failure, sts-webpki-invalid).  MX host names come from the
 * failure details (any policy type) and from the mx-host of tlsa entries
 * (host names of successful sessions).  On success *out is a new array
 * of n entries, one per domain of the window in its order, owned by the
 * caller (release with store_readiness_free()).
 */
int	store_readiness(struct store *, const struct store_window *,
	    struct store_readiness **out, size_t *n);
void	store_readiness_free(struct store_readiness *, size_t n);

/* One (domain, result type, MX) of the rollup's failure rows. */
struct store_fail_mx {
	char		*domain;
	char		*result_type;
	char		*mx;		/* "" when not sent */
	int64_t		 failed;
	int64_t		 reporters;
};

/* Days with reports per (domain, reporter). */
struct store_reporter_days {
	char		*domain;
	char		*reporter;
	int64_t		 days;
};

/*
 * For `tlsrpt digest`, over the window, from the rollup: failure rows
 * by (domain, result type, MX), sorted by domain then most failed
 * first; days with reports by (domain, reporter), sorted; when
 * want_testing is 1, the domains for which some sender applied a policy
 * in mode testing, sorted.
 * Each out array is new and owned by the caller (release with
 * store_digest_free()).
 */
struct store_digest_data {
	struct store_fail_mx		*fails;
	size_t				 nfails;
	struct store_reporter_days	*rdays;
	size_t				 nrdays;
	char				**testing;
	size_t				 ntesting;
};
int	store_digest_data(struct store *, const struct store_window *,
	    int want_testing, struct store_digest_data *out);
void	store_digest_data_free(struct store_digest_data *);


/* --- retention (store_prune.c) -------------------------------------- */

/* Reports per transaction of store_prune(), by default; rollup,
 * rejection and arrival rows go STORE_PRUNE_ROWS_PER_REPORT times as
 * many per transaction. */
#define STORE_PRUNE_BATCH		1000
#define STORE_PRUNE_ROWS_PER_REPORT	10

/* Rows removed (or, for a dry run, that would be), per table. */
struct store_prune_counts {
	int64_t		 reports;	/* tlsrpt.report */
	int64_t		 policies;	/* tlsrpt.policy */
	int64_t		 details;	/* tlsrpt.failure_detail */
	int64_t		 raws;		/* tlsrpt.report_raw: bodies, variants */
	int64_t		 arrivals;	/* tlsrpt.arrival of those reports */
	int64_t		 rollup;	/* tlsrpt.rollup */
	int64_t		 rejections;	/* tlsrpt.rejection */
	int64_t		 other_arrivals; /* tlsrpt.arrival of rejections and
					 * of no stored report */
};

/*
 * What is older than cutoff (Unix seconds): the reports whose date
 * range ended at or before it, with their policies, failure details, raw
 * bodies and arrivals; the rollup rows of periods starting before it;
 * rejections received before it, and the arrivals before it that belong
 * to no stored report.
 *
 * store_prune_count() counts them into *c and changes nothing.
 * store_prune() removes them in transactions of at most batch reports
 * (0: STORE_PRUNE_BATCH), or batch * STORE_PRUNE_ROWS_PER_REPORT rows of
 * the other tables, so that ingest goes on meanwhile; *c gets what was
 * removed.  On -1, *c holds what was committed before the failure (whole
 * reports only); running it again finishes the work.
 */
int	store_prune_count(struct store *, int64_t cutoff,
	    struct store_prune_counts *c);
int	store_prune(struct store *, int64_t cutoff, size_t batch,
	    struct store_prune_counts *c);

#endif
