/*
 * model.c -- the definitions every model shares (model.h): result type
 * levels, sessions, rates.  One place each, so that summary, failures,
 * readiness and the digest cannot disagree on a figure.
 *
 * Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
 */

#include <string.h>

#include "ingest.h"
#include "model.h"

enum model_level
model_rt_level(const char *result_type)
{
	return strcmp(tlsrpt_result_severity(result_type), "critical") == 0 ?
	    ML_CRITICAL : ML_WARNING;
}

enum model_level
model_rts_level(const struct store_rt_count *rts, size_t n)
{
	enum model_level	lvl = ML_NONE, l;
	size_t			i;

	for (i = 0; rts != NULL && i < n; i++)
		if (rts[i].failed_sessions > 0 &&
		    (l = model_rt_level(rts[i].result_type)) > lvl)
			lvl = l;
	return lvl;
}

enum model_level
model_counts_level(const struct store_count *c, size_t n)
{
	enum model_level	lvl = ML_NONE, l;
	size_t			i;

	for (i = 0; c != NULL && i < n; i++)
		if (c[i].n > 0 && (l = model_rt_level(c[i].name)) > lvl)
			lvl = l;
	return lvl;
}

double
model_rate(int64_t part, int64_t whole)
{
	return whole > 0 ? (double)part / (double)whole : 0.0;
}

int64_t
model_sessions(const struct store_domain_summary *s)
{
	return s != NULL ? s->successful + s->failed : 0;
}

double
model_failure_rate(const struct store_domain_summary *s)
{
	return s != NULL ? model_rate(s->failed, model_sessions(s)) : 0.0;
}

int64_t
model_window_days(int64_t since, int64_t until)
{
	return (until - since + MODEL_DAY_SECONDS - 1) / MODEL_DAY_SECONDS;
}
