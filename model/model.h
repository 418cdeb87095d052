/*
 * model.h -- what every model (summary, failures, readiness, digest)
 * shares: the open ends of a window, the levels of a result type, and
 * the one definition of sessions and of a failure rate.  Each answer's
 * model computes its figures with these, once; the renderers (the CLI's
 * text, JSON, CSV and HTML writers, the web dashboard) only print them.
 *
 * Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
 */

#ifndef TLSRPT_MODEL_H
#define TLSRPT_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "store.h"

/* The open ends of a window: 0001-01-01 and 10000-01-01 UTC. */
#define WINDOW_START_OF_TIME	(-62135596800LL)
#define WINDOW_END_OF_TIME	253402300800LL

#define MODEL_DAY_SECONDS	86400

/* How bad: a domain's status, a row's severity (DESIGN.md, "Flags"),
 * and the exit code of summary and failures. */
enum model_level {
	ML_NONE = 0,		/* nothing failed */
	ML_WARNING,
	ML_CRITICAL,
};

/* ML_CRITICAL for a critical result type, else ML_WARNING (DESIGN.md);
 * result_type is borrowed. */
enum model_level	model_rt_level(const char *result_type);

/* The worst level of the result types in rts[0..n) with failed sessions;
 * ML_NONE when none failed or rts is NULL. */
enum model_level	model_rts_level(const struct store_rt_count *rts,
			    size_t n);

/* The same for store_count rows (a name and its failed sessions). */
enum model_level	model_counts_level(const struct store_count *c,
			    size_t n);

/* part / whole, 0 when whole is 0 or less: every rate and share. */
double	model_rate(int64_t part, int64_t whole);

/* Successful + failed sessions of a summary row; 0 for NULL. */
int64_t	model_sessions(const struct store_domain_summary *);

/* Failed of all sessions of a summary row (model_rate); 0 for NULL. */
double	model_failure_rate(const struct store_domain_summary *);

/* Whole days in [since, until), a partial day counted: the window's
 * length as sentences give it. */
int64_t	model_window_days(int64_t since, int64_t until);

#endif
