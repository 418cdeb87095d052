/*
 * failures.h -- the model of `tlsrpt failures`: failed sessions per
 * policy domain grouped by any combination of result type, MX, reporter,
 * sending and receiving IP, each row with its share of the domain's
 * sessions, its severity, reporters, first and last day and the most
 * frequent failure-reason-codes.  Computed once here (failures.c); the
 * CLI's writers (report-cli/failures_out.c) and the web dashboard only
 * print it.
 *
 * Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
 */

#ifndef TLSRPT_FAILURES_H
#define TLSRPT_FAILURES_H

#include <stddef.h>
#include <stdint.h>

#include "model.h"
#include "store.h"

#define FAILURES_NKEYS		5
#define FAILURES_REASONS_MAX	3	/* reason codes and reporters listed */

/* A key to group by. */
struct failures_key {
	const char	*name;		/* on a command line, "sending-ip" */
	const char	*json;		/* in JSON and CSV, "sending_ip" */
	const char	*head;		/* a column heading, "SENDING IP" */
	unsigned	 bit;		/* STORE_BY_* */
};

/* Every key, in the order --help names them. */
extern const struct failures_key failures_keys[FAILURES_NKEYS];

/* The keys asked for, in the order given, each once. */
struct failures_by {
	unsigned	 bits;			/* STORE_BY_* */
	size_t		 key[FAILURES_NKEYS];	/* into failures_keys */
	size_t		 nkeys;
};

/*
 * Add the comma-separated key names of arg ("mx,result-type") to by
 * (zeroed by the caller before the first call).  Returns 0, or -1 with
 * *bad and *badlen naming the first unknown key inside arg (borrowed).
 */
int	failures_parse_by(struct failures_by *by, const char *arg,
	    const char **bad, size_t *badlen);

/* One row: a domain and one value per key. */
struct failures_row {
	const char		*domain;		/* "" for unknown */
	const char		*key[FAILURES_NKEYS];	/* by's order */
	int64_t			 failed;		/* failed sessions */
	int64_t			 domain_sessions;	/* all of the domain's */
	double			 share;			/* failed / those */
	enum model_level	 severity;	/* worst result type in it */
	int64_t			 reporters;		/* distinct */
	int64_t			 first_day, last_day;	/* 00:00 UTC */
	const struct store_count *rts;		/* result types, most first */
	size_t			 nrts;
	const struct store_count *reasons;	/* reason codes, most first, */
	size_t			 nreasons;	/* at most reasons_max */
	const struct store_count *top_reporters; /* failed sessions each, */
	size_t			 ntop_reporters; /* most first */
};

struct failures {
	int64_t			 since, until;	/* the window, [since, until) */
	struct failures_by	 by;
	struct store_totals	 totals;	/* conflicting copies */
	struct failures_row	*rows;		/* by domain, most failed */
	size_t			 nrows;		/* first */
	int64_t			 total;		/* rows before a page's cap */
	int64_t			 failed;	/* the rows' failed sessions */
	enum model_level	 worst;		/* of every row */

	/* private: the store's rows the strings are borrowed from */
	struct store_failure_row *rows_;
	size_t			 nrows_;
};

/*
 * The failures of window win grouped by by (nkeys > 0) from st into out,
 * which the caller owns and releases with failures_free(), also on
 * failure; reasons_max codes and reporters per row.  Returns 0, -1 with
 * store_errstr(st) saying why, or -2 when out of memory.
 */
int	failures_compute(struct store *st, const struct store_window *win,
	    const struct failures_by *by, size_t reasons_max,
	    struct failures *out);
/*
 * The same, a page of it: at most max rows (0: all) from the offset-th,
 * cut in the store's SQL (LIMIT), so that no more are ever read;
 * out->total says how many rows there are in all (0 past the last).
 * failed and worst are the page's.
 */
int	failures_compute_page(struct store *st, const struct store_window *win,
	    const struct failures_by *by, size_t reasons_max, size_t offset,
	    size_t max, struct failures *out);
void	failures_free(struct failures *);

#endif
