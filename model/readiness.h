/*
 * readiness.h -- the model of `tlsrpt readiness`: the MTA-STS testing ->
 * enforce verdict of a domain, with each check's reason and next step,
 * the policies senders applied, the sessions enforce would refuse and the
 * MX hosts the policy covers.  Computed once here (readiness.c), also for
 * `tlsrpt digest`; the CLI's writers (report-cli/readiness_out.c) and the
 * web dashboard only print it.
 *
 * Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
 */

#ifndef TLSRPT_READINESS_H
#define TLSRPT_READINESS_H

#include <stddef.h>
#include <stdint.h>

#include "store.h"

/* The defaults of `tlsrpt readiness` and of the digest's verdict. */
#define RD_DEFAULT_DAYS		14	/* window before --until */
#define RD_DEFAULT_MIN_DAYS	7	/* days with reports wanted */
#define RD_DEFAULT_MIN_REPORTERS 2	/* distinct reporters wanted */

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

/* lim set to the defaults: RD_DEFAULT_*, no refusal allowed. */
void	rd_limits_default(struct rd_limits *lim);

/* The problems a policy string can have (STS_P_* of ingest.h), in the
 * order they are reported. */
struct rd_problem {
	unsigned	 bit;		/* STS_P_* */
	const char	*name;		/* "no-version" (JSON) */
	const char	*what;		/* "no \"version: STSv1\" line" */
};
#define RD_NPROBLEMS	8
extern const struct rd_problem rd_problems[RD_NPROBLEMS];

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
	unsigned char	*covered;	/* per host of the data: 1 when the
					 * newest policy P1's mx patterns
					 * cover it (0 without a policy) */
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

/* One domain's data and verdict. */
struct readiness_domain {
	const struct store_readiness	*data;	/* borrowed from the model */
	struct rd_eval			 ev;
};

struct readiness {
	int64_t			 since, until;	/* the window, [since, until) */
	struct rd_limits	 lim;		/* window_days worked out */
	struct readiness_domain	*domains;	/* one per domain of the */
	size_t			 ndomains;	/* window, in its order */

	/* private: the store's data */
	struct store_readiness	*rows_;
	size_t			 nrows_;
};

/*
 * The verdict of each domain the window win names (at least one), weighed
 * against lim (its window_days ignored: worked out from win), from st
 * into out, which the caller owns and releases with readiness_free(),
 * also on failure.  Returns 0, -1 with store_errstr(st) saying why, or
 * -2 when out of memory.
 */
int	readiness_compute(struct store *st, const struct store_window *win,
	    const struct rd_limits *lim, struct readiness *out);
void	readiness_free(struct readiness *);

#endif
