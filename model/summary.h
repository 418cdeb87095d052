/*
 * summary.h -- the model of `tlsrpt summary`: per policy domain over a
 * window, reports, reporters, sessions, the failure rate, the failed
 * sessions per result type with their flag (severity, meaning), a status,
 * and the totals of the window.  Computed once here (summary.c); the
 * CLI's writers (report-cli/summary_out.c) and the web dashboard only
 * print it.
 *
 * Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
 */

#ifndef TLSRPT_SUMMARY_H
#define TLSRPT_SUMMARY_H

#include <stddef.h>
#include <stdint.h>

#include "model.h"
#include "store.h"

/* One result type of a domain that failed: a flag. */
struct summary_flag {
	const char		*type;		/* as the reports spell it */
	const char		*severity;	/* "critical" or "warning" */
	const char		*meaning;	/* one sentence, static */
	int64_t			 failed_sessions;
	enum model_level	 level;		/* of severity */
};

/* One policy domain; strings are borrowed from the struct summary. */
struct summary_domain {
	const char		*domain;	/* "" for unknown */
	int64_t			 reports;
	int64_t			 reporters;	/* distinct */
	int64_t			 successful;	/* sessions */
	int64_t			 failed;
	int64_t			 sessions;	/* successful + failed */
	double			 failure_rate;	/* failed / sessions, 0..1 */
	struct summary_flag	*flags;		/* one per result type, */
	size_t			 nflags;	/* most failed first */
	enum model_level	 status;	/* worst flag with failures */
};

struct summary {
	int64_t			 since, until;	/* the window, [since, until) */
	int			 trusted_only;
	struct store_totals	 totals;	/* distinct reports, domains,
						 * conflicting copies */
	struct summary_domain	*domains;	/* sorted by domain name */
	size_t			 ndomains;
	size_t			*by_status;	/* ndomains indices into
						 * domains: worst status
						 * first, then by name */
	enum model_level	 worst;		/* of every domain */

	/* private: the store's rows the strings are borrowed from */
	struct store_domain_summary *rows_;
	size_t			 nrows_;
};

/*
 * The summary of window win (trusted_only honoured) from st into out,
 * which the caller owns and releases with summary_free(), also on
 * failure.  Returns 0, -1 with store_errstr(st) saying why, or -2 when
 * out of memory.
 */
int	summary_compute(struct store *st, const struct store_window *win,
	    struct summary *out);
void	summary_free(struct summary *);

#endif
