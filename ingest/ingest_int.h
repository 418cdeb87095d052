/*
 * ingest_int.h -- private to ingest/: the parse context shared by the
 * JSON walk and the report post-processing.
 *
 * Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
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
	size_t				 members;	/* in visited objects */
	/*
	 * The parser's spare arena, primed with the next report's first
	 * chunk before the JSON tree is released: allocated then, the chunk
	 * does not make malloc consolidate the tree's freed fragments.
	 */
	struct arena			*spare;
	char				 wbuf[WARN_WHERE_MAX]; /* scratch */
};

/* Record a tolerated deviation; where is printf-style and may be NULL. */
void	ctx_warn(struct parse_ctx *, const char *token, const char *where, ...)
	    __attribute__((format(printf, 3, 4)));

struct json_tokener;

/* Walk the decompressed JSON into ctx->rep with tok (reset here; set up
 * by tokener_new()).  Sets ctx->err on failure. */
enum ingest_status	 report_from_json(struct parse_ctx *,
			    struct json_tokener *tok, const unsigned char *json,
			    size_t len);

/* A tokener with the limits' depth, strict and UTF-8 validating. */
struct json_tokener	*tokener_new(const struct ingest_limits *);

struct z_stream_s;
/* ingest_gunzip on a stream set up by inflateInit2 (it is reset here). */
enum ingest_status	 gunzip_with(struct z_stream_s *, const unsigned char *,
			    size_t, const struct ingest_limits *, struct bbuf *,
			    int *, struct ingest_err *);

/* After the walk: domain fallback, accounting, dedup key, warnings. */
enum ingest_status	 report_finish(struct parse_ctx *);

/* The first byte of JSON text after a BOM and white space, or -1. */
int	json_first_byte(const unsigned char *, size_t);

/*
 * The pre-scan of JSON text (json_scan.c): UTF-8, NUL, depth, values and
 * an upper bound of json-c's tree, before json-c allocates anything.
 */
#define JSON_SCAN_DEPTH_MAX	256	/* depth_max above this counts as it */

enum scan_result {
	SCAN_OK = 0,
	SCAN_UTF8,	/* not UTF-8 at js->at */
	SCAN_NUL,	/* \u0000 or a NUL byte in a string at js->at */
	SCAN_DEPTH,	/* nested deeper than depth_max at js->at */
	SCAN_VALUES,	/* more than json_values_max values */
	SCAN_TREE,	/* json-c's tree would pass json_tree_max */
	SCAN_QUOTE,	/* a single-quoted string (json-c takes them) */
};

struct json_scan {
	size_t	values;		/* every value, containers included */
	size_t	members;	/* object members: colons outside strings */
	size_t	tree;		/* estimated bytes of json-c's tree */
	size_t	at;		/* where the scan stopped */
};

enum scan_result	 json_scan(const unsigned char *, size_t,
			    const struct ingest_limits *, struct json_scan *);

/* 1 when the result type is one of RFC 8460 §4.3. */
int	result_type_known(const char *);

#endif
