/*
 * store_int.h -- what the files of store/ share; not for other directories.
 *
 * Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
 */

#ifndef TLSRPT_STORE_INT_H
#define TLSRPT_STORE_INT_H

#include <stddef.h>
#include <stdint.h>

#include <libpq-fe.h>

#include "store.h"

struct ingest_packer;

#define STORE_ERR_MAX	512

struct store {
	PGconn		*conn;
	char		 err[STORE_ERR_MAX];
	char		 sqlstate[6];	/* of the last error; "" if none */
	int		 transient;	/* the last error may go away */
	enum store_err_class eclass;	/* of the last error */
	int		 staged;	/* the temporary staging table exists */
	char		**why;		/* per report of the last put, or NULL */
	size_t		 nwhy;
	int		 rejkept;	/* the last rejection recorded, not
					 * only counted */
	unsigned char	*putflags;	/* STORE_PUT_* per report of the last
					 * put (nwhy of them), or NULL */
	struct ingest_packer *packer;	/* owned; raw bodies, or NULL */
};

/*
 * Record an error: "what: message".  res (may be NULL) supplies the
 * server's primary message and SQLSTATE; without it the connection's
 * message is used.  Newlines are folded so that the error is one line.
 */
void	store_seterr(struct store *, const char *what, const PGresult *res);

/*
 * Record an error of our own (out of memory, a schema not migrated):
 * transient, class STORE_EC_OTHER, like every error that is not known
 * to be the report's.
 */
void	store_seterrx(struct store *, const char *fmt, ...)
	    __attribute__((__format__(__printf__, 2, 3)));

/*
 * Record a fact about the report being stored (a count beyond bigint, a
 * date out of range): class STORE_EC_REPORT, never transient; the only
 * kind of error of ours that may reject a report.
 */
void	store_seterr_report(struct store *, const char *fmt, ...)
	    __attribute__((__format__(__printf__, 2, 3)));

/*
 * PQexecParams with text parameters that wants status want.  Returns the
 * result (caller PQclears it), or NULL with the error recorded as "what".
 */
PGresult	*store_exec(struct store *, const char *what, const char *sql,
		    int n, const char *const *pv, ExecStatusType want);

/* store_exec for a statement whose result is not needed: 0 or -1. */
int		 store_cmd(struct store *, const char *what, const char *sql,
		    int n, const char *const *pv);

/* The bigint at (row, col) of res; 0 when NULL or not a number. */
int64_t		 store_getint(const PGresult *, int row, int col);

/* Roll back an open transaction, keeping the recorded error. */
void		 store_rollback(struct store *);

/* Forget the reasons of the last store_put_reports(); n reports follow. */
void		 store_put_reset(struct store *, size_t n);

/* Keep the current error as the reason report i failed. */
void		 store_put_fail(struct store *, size_t i);

/* SQLSTATEs worth retrying the same transaction for. */
int		 store_err_retry(const struct store *);

/*
 * A text[] literal built element by element: {"a","b\"c"}, with " and \
 * escaped.  init, add..., end (NULL when out of memory), free.
 */
struct sarray {
	char	*s;
	size_t	 len;
	size_t	 cap;
	int	 err;
};
void		 store_sarray_init(struct sarray *);
int		 store_sarray_add(struct sarray *, const char *);
const char	*store_sarray_end(struct sarray *);
void		 store_sarray_free(struct sarray *);

/* The Unix time range we accept for timestamps: years 0001 to 9999. */
#define STORE_TIME_MIN	(-62135596800LL)
#define STORE_TIME_MAX	(253402300799LL)

#endif
