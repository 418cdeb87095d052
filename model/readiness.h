/*
 * readiness.h -- the MTA-STS testing -> enforce verdict, shared by
 * `tlsrpt readiness` and `tlsrpt digest`.
 *
 * Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
 */

#ifndef TLSRPT_READINESS_H
#define TLSRPT_READINESS_H

#include <stddef.h>
#include <stdint.h>

#include "store.h"

enum rd_verdict {
	RD_READY = 0,
	RD_INSUFFICIENT,	/* exit 1 */
	RD_NOT_READY,		/* exit 2 */
};

enum rd_status {
	RS_OK = 0,
	RS_INFO,		/* worth knowing, does not block */
	RS_INSUFFICIENT,	/* not enough data to judge */
	RS_BLOCKER,		/* enforce would refuse mail or break */
};

/* The checks, in the order they are reported. */
enum rd_check {
	RC_COVERAGE = 0,
	RC_POLICY,
	RC_REFUSALS,
	RC_MX,
	RC_PROBLEMS,
	RC_NCHECKS
};

struct rd_limits {
	int64_t		window_days;	/* for the coverage sentence */
	int64_t		min_days;
	int64_t		min_reporters;
	double		max_failure_rate;
};

struct rd_reason {
	enum rd_check	 check;
	enum rd_status	 status;
	char		*text;		/* one sentence, may hold sender text */
	char		*next;		/* what to do next, one sentence */
};

/* The policy a reporter applied last. */
struct rd_latest {
	const char	*reporter;	/* borrowed from the data */
	size_t		 policy;	/* index into its policies */
	int64_t		 last_day;
};

struct rd_eval {
	enum rd_verdict	 verdict;
	struct rd_reason reasons[RC_NCHECKS];
	size_t		 nreasons;
	int64_t		 refused;	/* sessions enforce would refuse */
	double		 refused_rate;	/* of the sessions under sts */
	struct rd_latest *latest;	/* one per reporter of a policy */
	size_t		 nlatest;
	int		 disagree;	/* reporters' latest policies differ */
	const char	**uncovered;	/* borrowed host names */
	size_t		 nuncovered;
};

/*
 * Weigh what store_readiness() found for one domain.  ev is filled with
 * strings owned by it (release with rd_eval_free()).  Returns 0, or -1
 * when out of memory.
 */
int	rd_evaluate(const struct store_readiness *, const struct rd_limits *,
	    struct rd_eval *ev);
void	rd_eval_free(struct rd_eval *);

const char	*rd_verdict_str(enum rd_verdict);	/* "NOT READY" */
const char	*rd_status_str(enum rd_status);		/* "blocker" */
const char	*rd_check_str(enum rd_check);		/* "coverage" */

/* 1 when host is covered by one of the policy's mx patterns. */
int	rd_covered(const struct store_rd_policy *, const char *host);

#endif
