/*
 * store.h -- the public API of store/: PostgreSQL behind plain C types.
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

/* 1 when the last error means the server is unreachable or went away:
 * a retry later may succeed. */
int		 store_err_transient(const struct store *);

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

/* Record a rejected payload with its reason and up to keep_max raw bytes. */
int	store_put_rejection(struct store *, const struct store_arrival *,
	    const char *reason, const unsigned char *raw, size_t len,
	    size_t keep_max);

/* A query window: reports whose date-range start is in [since, until). */
struct store_window {
	int64_t		 since;
	int64_t		 until;
	const char	*const *domains;	/* NULL or ndomains == 0: all */
	size_t		 ndomains;
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

#endif
