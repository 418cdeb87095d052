/*
 * store_check.h -- the stored results of `tlsrpt check --store`
 * (schema/010_live_check.sql): written by report-cli/cmd_check.c, read
 * by the dashboard's domain page (web/web_page_check.c), pruned by
 * `tlsrpt prune`.
 *
 * Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
 *
 * Every function returns 0 on success and -1 on failure with
 * store_errstr() set, unless it says otherwise.
 */

#ifndef TLSRPT_STORE_CHECK_H
#define TLSRPT_STORE_CHECK_H

#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "store.h"

/* One check to store; every pointer stays the caller's. */
struct store_check_in {
	const char	*domain;	/* lower case, no trailing dot */
	int64_t		 checked_at;	/* Unix seconds */
	const char	*result;	/* "ok", "warning", "critical" */
	int		 critical;	/* findings of each severity */
	int		 warnings;
	int		 report_days;	/* 0: not held against reports */
	const char	*json;		/* the check's JSON object */
};

/*
 * Store one check and, in the same transaction, delete the checks of
 * the same domain beyond the newest keep (at least 1) by checked_at
 * (ties: the later stored is newer).  Concurrent calls for one domain
 * queue on an advisory lock, so the bound holds.  *removed (may be NULL)
 * gets the number of older checks deleted.
 */
int	store_check_put(struct store *, const struct store_check_in *,
	    size_t keep, int64_t *removed);

/* A finding of a stored check, and an MX host, from its JSON. */
struct store_check_finding {
	const char	*severity, *code, *what, *rfc, *next;
};
struct store_check_mx {
	const char	*host;
	int64_t		 preference;
	int		 covered;
	int		 probed;	/* port 25 was tried */
	int		 starttls;
	const char	*tls_version;	/* "" when none */
	int		 cert_valid;	/* -1 not known */
	int64_t		 cert_days;	/* INT64_MIN not known */
	const char	*dane;		/* "", "match", "mismatch" */
};

/*
 * The newest stored check of one domain; its strings and arrays live in
 * a, which the caller releases with arena_free(&out->a) (also after a
 * failure).  json is the stored object as PostgreSQL prints jsonb.
 */
struct store_check {
	struct arena			 a;
	int64_t				 checked_at;
	const char			*result;
	int				 critical, warnings;
	int				 report_days;	/* 0: not held */
	const char			*sts_id;	/* "" none */
	const char			*mode;		/* "" no policy */
	const char			*json;
	struct store_check_finding	*f;
	size_t				 nf;
	struct store_check_mx		*mx;
	size_t				 nmx;
	int64_t				 stored;	/* checks kept */
};

/* 0 found, 1 no check of domain is stored, -1 error. */
int	store_check_last(struct store *, const char *domain,
	    struct store_check *out);

/*
 * The checks made before cutoff (Unix seconds): store_check_prune()
 * removes them in transactions of at most batch rows (0: 10000), *n gets
 * how many (on -1, those removed before the failure);
 * store_check_prune_count() only counts them.
 */
int	store_check_prune(struct store *, int64_t cutoff, size_t batch,
	    int64_t *n);
int	store_check_prune_count(struct store *, int64_t cutoff, int64_t *n);

#endif
