/*
 * ingest_int.h -- private to ingest/: the parse context shared by the
 * JSON walk and the report post-processing.
 */

#ifndef TLSRPT_INGEST_INT_H
#define TLSRPT_INGEST_INT_H

#include "ingest.h"
#include "tlsrpt_limits.h"

#define WARN_WHERE_MAX	96

/* One kind of deviation, with where it was first seen and how often. */
struct warn_slot {
	const char	*token;		/* static */
	char		 where[WARN_WHERE_MAX];
	size_t		 count;
};

struct parse_ctx {
	struct tlsrpt_report		*rep;
	const struct ingest_limits	*lim;
	const struct ingest_meta	*meta;
	struct ingest_err		*err;
	enum ingest_status		 status;	/* of the first failure */
	struct warn_slot		 warn[LIM_WARNINGS_MAX];
	size_t				 nwarn;
	size_t				 ndetails;	/* across policies */
};

/* Record a tolerated deviation; where is printf-style and may be NULL. */
void	ctx_warn(struct parse_ctx *, const char *token, const char *where, ...)
	    __attribute__((format(printf, 3, 4)));

/* Walk the decompressed JSON into ctx->rep.  Sets ctx->err on failure. */
enum ingest_status	 report_from_json(struct parse_ctx *,
			    const unsigned char *json, size_t len);

/* After the walk: domain fallback, accounting, dedup key, warnings. */
enum ingest_status	 report_finish(struct parse_ctx *);

/* 1 when the result type is one of RFC 8460 §4.3. */
int	result_type_known(const char *);

#endif
