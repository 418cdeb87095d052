/*
 * store_series.h -- what the web dashboard (web/, model/series.c) reads
 * besides the CLI's queries: daily series, per-MX rows, reporter
 * coverage, one report as stored, recent rejections.  All from the
 * rollup of the session accounting rule (schema/001_init.sql), except
 * the report and the rejections, which are the base tables.
 *
 * Every answer keeps its strings and arrays in its own arena: the caller
 * owns the struct and releases it with store_series_free(&x.a) (also
 * after a failure, which leaves it empty).  Days are Unix seconds at
 * 00:00 UTC.  Domains are always the window's (struct store_window):
 * the web's tenancy filter (web/web_auth.c) names them.
 *
 * Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
 */

#ifndef TLSRPT_STORE_SERIES_H
#define TLSRPT_STORE_SERIES_H

#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "bbuf.h"
#include "store.h"

/* Make every later transaction of this connection read-only. */
int	store_readonly(struct store *);

/* Release what an answer below holds (its arena). */
void	store_series_free(struct arena *);

/* The policy domains with reports in [w->since, w->until), sorted. */
struct store_domain_list {
	struct arena	  a;
	char		**v;
	size_t		  n;
};
int	store_domains(struct store *, const struct store_window *w,
	    struct store_domain_list *out);

/* Per domain and day: sessions of the counted set, and reports. */
struct store_day {
	const char	*domain;
	int64_t		 day;
	int64_t		 reports;
	int64_t		 successful;
	int64_t		 failed;
};
/* Per domain, day and result type: failed sessions. */
struct store_day_rt {
	const char	*domain;
	int64_t		 day;
	const char	*result_type;
	int64_t		 failed;
};
/* Per domain, MX and result type. */
struct store_mx_row {
	const char	*domain;
	const char	*mx;		/* "" when not sent */
	const char	*result_type;
	int64_t		 failed;
	int64_t		 reporters;
	int64_t		 first_day;
	int64_t		 last_day;
};
/* Per domain, reporter and day: reports. */
struct store_cover {
	const char	*domain;
	const char	*reporter;
	int64_t		 day;
	int64_t		 reports;
};
struct store_series {
	struct arena		 a;
	struct store_day	*days;		/* by domain, day */
	size_t			 ndays;
	struct store_day_rt	*rts;		/* by domain, day, type */
	size_t			 nrts;
	struct store_mx_row	*mx;		/* by domain, most failed */
	size_t			 nmx;
	struct store_cover	*cover;		/* by domain, reporter, day */
	size_t			 ncover;
};
#define STORE_SERIES_DAYS	0x01
#define STORE_SERIES_RTS	0x02
#define STORE_SERIES_MX		0x04
#define STORE_SERIES_COVER	0x08
/* What of the above want asks for, over w, in one snapshot. */
int	store_series(struct store *, const struct store_window *w,
	    unsigned want, struct store_series *out);

/*
 * The reports of the window's domains, newest first, at most max; with
 * result_type or mx (lower case, "" for not sent) not NULL, only those
 * with a failure detail of that type and MX under the domain.
 */
struct store_report_row {
	char		 key[65];	/* hex */
	const char	*org;
	int64_t		 start, end;
	const char	*domain;
	int64_t		 successful;
	int64_t		 failed;
};
struct store_report_list {
	struct arena		 a;
	struct store_report_row	*v;
	size_t			 n;
};
int	store_report_list(struct store *, const struct store_window *w,
	    size_t max, const char *result_type, const char *mx,
	    struct store_report_list *out);

/* One report as stored. */
struct store_arrival_row {
	int64_t		 at;
	const char	*source, *origin, *outcome, *note, *dkim;
};
struct store_detail_row {
	int		 policy_idx;
	const char	*result_type, *sending_ip, *receiving_ip, *mx;
	const char	*helo, *info, *reason;
	int64_t		 failed;
};
struct store_policy_row {
	int		 idx;
	const char	*domain, *type, *mode;
	const char	*strings;	/* "\n" between */
	const char	*mx_hosts;	/* "\n" between */
	int64_t		 successful, failed;
	int		 counted;
};
struct store_report_info {
	struct arena		  a;
	char			  key[65];
	const char		 *org, *report_id, *contact, *filename;
	const char		 *dkim;		/* "" when not checked */
	int64_t			  start, end, received;
	const char		**warnings;
	size_t			  nwarnings;
	struct store_policy_row	 *pol;
	size_t			  npol;
	struct store_detail_row	 *det;
	size_t			  ndet;
	struct store_arrival_row *arr;
	size_t			  narr;
	char			(*variants)[65];	/* sha256 hex */
	size_t			  nvariants;
};
/* 0 found, 1 no such report, -1 error. */
int	store_report_get(struct store *, const char *keyhex,
	    struct store_report_info *out);
/*
 * The raw body of variant sha (hex) of report key: 0, 1 none, -1.  The
 * body (the JSON, inflated, up to the ingest limit) is out->buf's, which
 * the caller may take over (then zero it); release with
 * store_raw_free(), also after a failure.
 */
struct store_raw {
	struct arena	 a;
	struct bbuf	 buf;
	const char	*body;
	size_t		 len;
};
int	store_report_raw(struct store *, const char *keyhex,
	    const char *shahex, struct store_raw *out);
void	store_raw_free(struct store_raw *);

/* The latest rejections, newest first, at most max. */
struct store_reject_row {
	int64_t		 id, at, len;
	const char	*source, *origin, *reason;
};
struct store_reject_list {
	struct arena		 a;
	struct store_reject_row	*v;
	size_t			 n;
};
int	store_rejections(struct store *, size_t max,
	    struct store_reject_list *out);

/*
 * What changes whenever the reports change: the last arrival (every
 * import, replacement and duplicate adds one) and the first day of the
 * rollup (a prune removes the oldest days).  Two equal stamps, read at
 * different times, mean the figures in between did not change, but for
 * a hand edit of the tables (the web's cache also ages out).  0, -1.
 */
struct store_stamp {
	int64_t	last_arrival;	/* 0: none */
	int64_t	first_day;	/* INT64_MIN: no rollup */
	int64_t	writes;		/* arrival rows written, as the server's
				 * statistics count them */
};
int	store_data_stamp(struct store *, struct store_stamp *out);

/* Per domain: the MTA-STS modes of the sts policies its reports
 * applied over the window, most reports first. */
struct store_sts_mode {
	const char	*domain;
	const char	*mode;		/* "" when the policy had none */
	int64_t		 reports;
	int64_t		 reporters;
};
struct store_sts_modes {
	struct arena		 a;
	struct store_sts_mode	*v;	/* by domain, most reports first */
	size_t			 n;
};
int	store_sts_modes(struct store *, const struct store_window *w,
	    struct store_sts_modes *out);

#endif
