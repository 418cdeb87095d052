/*
 * ingest.c -- the entry points of ingest/: limits, sniffing, dispatch.
 *
 * Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <nettle/sha2.h>
#include <zlib.h>

#include "ingest_int.h"

static struct tlsrpt_report	*report_new(struct arena *);
static int	looks_like_json(const unsigned char *, size_t);
static int	looks_like_mail(const unsigned char *, size_t);
static const char *copy_meta(struct tlsrpt_report *, const char *);
static enum ingest_status mail_meta(enum ingest_status,
		    const struct ingest_meta *, struct tlsrpt_report **,
		    struct ingest_err *);
static enum ingest_status any_other(const unsigned char *, size_t,
		    const struct ingest_limits *, struct tlsrpt_report **,
		    struct ingest_err *);

void
ingest_limits_default(struct ingest_limits *lim)
{
	memset(lim, 0, sizeof(*lim));
	lim->compressed_max = LIM_COMPRESSED_MAX_BYTES;
	lim->json_max = LIM_JSON_MAX_BYTES;
	lim->ratio_max = LIM_GZIP_RATIO_MAX;
	lim->ratio_floor = LIM_GZIP_RATIO_FLOOR_BYTES;
	lim->mail_max = LIM_MAIL_MAX_BYTES;
	lim->depth_max = LIM_JSON_DEPTH_MAX;
	lim->string_max = LIM_STRING_MAX_BYTES;
	lim->policies_max = LIM_POLICIES_MAX;
	lim->strings_max = LIM_POLICY_STRINGS_MAX;
	lim->details_max = LIM_DETAILS_MAX;
	lim->json_values_max = LIM_JSON_VALUES_MAX;
	lim->json_tree_max = LIM_JSON_TREE_BYTES;
	lim->mime_delims_max = LIM_MIME_DELIMS_MAX;
	lim->mime_headers_max = LIM_MIME_HEADERS_MAX;
}

size_t
ingest_input_max(const struct ingest_limits *lim)
{
	size_t	m = lim->mail_max;

	if (lim->compressed_max > m)
		m = lim->compressed_max;
	if (lim->json_max > m)
		m = lim->json_max;
	return m;
}

const char *
ingest_status_str(enum ingest_status st)
{
	switch (st) {
	case INGEST_OK:
		return "ok";
	case INGEST_E_TOOBIG:
		return "too-big";
	case INGEST_E_FORMAT:
		return "format";
	case INGEST_E_GZIP:
		return "gzip";
	case INGEST_E_JSON:
		return "json";
	case INGEST_E_SCHEMA:
		return "schema";
	case INGEST_E_NOREPORT:
		return "no-report";
	case INGEST_E_NOMEM:
		return "no-memory";
	}
	return "unknown";
}

struct ingest_parser {
	struct ingest_limits	 lim;
	z_stream		 zs;
	int			 zs_inited;
	struct json_tokener	*tok;
	struct bbuf		 out;	/* decompressed JSON, reused */
	struct arena		 spare;	/* the next report's first chunk */
};

#define PARSER_KEEP_BYTES	(1024 * 1024)	/* buffer kept between calls */

struct ingest_parser *
ingest_parser_new(const struct ingest_limits *lim)
{
	struct ingest_parser	*p;

	if ((p = calloc(1, sizeof(*p))) == NULL)
		return NULL;
	p->lim = *lim;
	bbuf_init(&p->out, lim->json_max);
	if (inflateInit2(&p->zs, 15 + 16) != Z_OK)
		goto fail;
	p->zs_inited = 1;
	if ((p->tok = tokener_new(lim)) == NULL)
		goto fail;
	return p;
 fail:
	ingest_parser_free(p);
	return NULL;
}

void
ingest_parser_free(struct ingest_parser *p)
{
	if (p == NULL)
		return;
	if (p->zs_inited)
		inflateEnd(&p->zs);		/* pairs with inflateInit2 */
	if (p->tok != NULL)
		json_tokener_free(p->tok);
	bbuf_reset(&p->out);
	arena_free(&p->spare);
	free(p);
}

enum ingest_status
ingest_payload(const unsigned char *buf, size_t len,
    const struct ingest_meta *meta, const struct ingest_limits *lim,
    struct tlsrpt_report **repp, struct ingest_err *err)
{
	struct ingest_parser	*p;
	enum ingest_status	 st;

	*repp = NULL;
	if ((p = ingest_parser_new(lim)) == NULL) {
		snprintf(err->msg, sizeof(err->msg), "out of memory");
		return INGEST_E_NOMEM;
	}
	st = ingest_parser_payload(p, buf, len, meta, repp, err);
	ingest_parser_free(p);
	return st;
}

enum ingest_status
ingest_parser_payload(struct ingest_parser *p, const unsigned char *buf,
    size_t len, const struct ingest_meta *meta, struct tlsrpt_report **repp,
    struct ingest_err *err)
{
	const struct ingest_limits *lim = &p->lim;
	struct parse_ctx	*ctx = NULL;
	struct tlsrpt_report	*rep = NULL;
	struct sha256_ctx	 h;
	enum ingest_status	 st;
	int			 trailing = 0;

	*repp = NULL;
	err->msg[0] = '\0';
	p->out.len = 0;
	if ((rep = report_new(&p->spare)) == NULL ||
	    (ctx = arena_alloc(&rep->arena, sizeof(*ctx))) == NULL) {
		snprintf(err->msg, sizeof(err->msg), "out of memory");
		st = INGEST_E_NOMEM;
		goto out;
	}
	memset(ctx, 0, sizeof(*ctx));
	ctx->rep = rep;
	ctx->lim = lim;
	ctx->meta = meta;
	ctx->err = err;
	ctx->spare = &p->spare;

	if (ingest_is_gzip(buf, len)) {
		st = gunzip_with(&p->zs, buf, len, lim, &p->out, &trailing,
		    err);
		if (st != INGEST_OK)
			goto out;
		if (trailing)
			ctx_warn(ctx, "gzip-trailing-bytes", NULL);
		rep->was_gzip = 1;
		buf = p->out.data;
		len = p->out.len;
	} else if (!looks_like_json(buf, len)) {
		snprintf(err->msg, sizeof(err->msg), "neither gzip nor JSON "
		    "(%zu bytes)", len);
		st = INGEST_E_FORMAT;
		goto out;
	} else if (len > lim->json_max) {
		snprintf(err->msg, sizeof(err->msg), "JSON of %zu bytes over "
		    "the limit of %zu", len, lim->json_max);
		st = INGEST_E_TOOBIG;
		goto out;
	}
	if (len == 0 || !looks_like_json(buf, len)) {
		snprintf(err->msg, sizeof(err->msg), "the gzip stream does "
		    "not hold JSON");
		st = INGEST_E_FORMAT;
		goto out;
	}
	if ((st = report_from_json(ctx, p->tok, buf, len)) != INGEST_OK)
		goto out;
	/* keep the decompressed report: it is what gets stored and hashed */
	rep->json = (const unsigned char *)arena_strndup(&rep->arena,
	    (const char *)buf, len);
	if (rep->json == NULL) {
		snprintf(err->msg, sizeof(err->msg), "out of memory");
		st = INGEST_E_NOMEM;
		goto out;
	}
	rep->json_len = len;
	sha256_init(&h);
	sha256_update(&h, len, buf);
	sha256_digest(&h, sizeof(rep->sha256), rep->sha256);
	if (meta != NULL) {
		rep->filename = copy_meta(rep, meta->filename);
		rep->hdr_domain = copy_meta(rep, meta->report_domain);
		rep->hdr_submitter = copy_meta(rep, meta->submitter);
		rep->subject = copy_meta(rep, meta->subject);
		rep->dkim = copy_meta(rep, meta->dkim);
		rep->trusted = meta->dkim != NULL && meta->trusted;
	}
	if ((st = report_finish(ctx)) != INGEST_OK)
		goto out;
	*repp = rep;
	rep = NULL;
 out:
	if (p->out.cap > PARSER_KEEP_BYTES)
		bbuf_reset(&p->out);	/* a big report: give it back */
	p->out.len = 0;
	tlsrpt_report_free(rep);
	return st;
}

enum ingest_status
ingest_any(const unsigned char *buf, size_t len,
    const struct ingest_meta *meta, const struct ingest_limits *lim,
    struct tlsrpt_report **repp, struct ingest_err *err)
{
	*repp = NULL;
	err->msg[0] = '\0';
	if (ingest_is_gzip(buf, len) || looks_like_json(buf, len))
		return ingest_payload(buf, len, meta, lim, repp, err);
	return mail_meta(any_other(buf, len, lim, repp, err), meta, repp,
	    err);
}

enum ingest_status
ingest_parser_any(struct ingest_parser *p, const unsigned char *buf,
    size_t len, const struct ingest_meta *meta, struct tlsrpt_report **repp,
    struct ingest_err *err)
{
	*repp = NULL;
	err->msg[0] = '\0';
	if (ingest_is_gzip(buf, len) || looks_like_json(buf, len))
		return ingest_parser_payload(p, buf, len, meta, repp, err);
	return mail_meta(any_other(buf, len, &p->lim, repp, err), meta, repp,
	    err);
}

/* A mail message parsed by ingest_any(): add the DKIM verdict of meta. */
static enum ingest_status
mail_meta(enum ingest_status st, const struct ingest_meta *meta,
    struct tlsrpt_report **repp, struct ingest_err *err)
{
	struct tlsrpt_report	*rep = *repp;

	if (st != INGEST_OK || meta == NULL || meta->dkim == NULL)
		return st;
	if ((rep->dkim = copy_meta(rep, meta->dkim)) == NULL) {
		tlsrpt_report_free(rep);
		*repp = NULL;
		snprintf(err->msg, sizeof(err->msg), "out of memory");
		return INGEST_E_NOMEM;
	}
	rep->trusted = meta->trusted;
	return st;
}

/* Not gzip, not JSON: a mail message, or not a report at all. */
static enum ingest_status
any_other(const unsigned char *buf, size_t len,
    const struct ingest_limits *lim, struct tlsrpt_report **repp,
    struct ingest_err *err)
{
	if (looks_like_mail(buf, len))
		return ingest_message(buf, len, lim, repp, err);
	snprintf(err->msg, sizeof(err->msg), "not a TLS report: neither gzip, "
	    "JSON nor a mail message (%zu bytes)", len);
	return INGEST_E_FORMAT;
}

/*
 * A report in a new arena, which starts from *spare when the parser
 * primed it (see parse_ctx.spare); *spare is left empty.
 */
static struct tlsrpt_report *
report_new(struct arena *spare)
{
	struct arena		 a = { 0 };
	struct tlsrpt_report	*rep;

	if (spare != NULL) {
		a = *spare;
		memset(spare, 0, sizeof(*spare));
	}
	if ((rep = arena_alloc(&a, sizeof(*rep))) == NULL) {
		arena_free(&a);
		return NULL;
	}
	memset(rep, 0, sizeof(*rep));
	rep->arena = a;
	return rep;
}

static const char *
copy_meta(struct tlsrpt_report *rep, const char *s)
{
	size_t	n;

	if (s == NULL)
		return NULL;
	n = strnlen(s, LIM_STRING_MAX_BYTES);
	return arena_strndup(&rep->arena, s, n);
}

/*
 * The first byte of JSON text after an optional UTF-8 BOM and JSON white
 * space (RFC 8259: space, tab, CR, LF), or -1 when there is none.
 */
int
json_first_byte(const unsigned char *p, size_t len)
{
	size_t	i = 0;

	if (len >= 3 && p[0] == 0xef && p[1] == 0xbb && p[2] == 0xbf)
		i = 3;
	for (; i < len; i++)
		if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r' &&
		    p[i] != '\n')
			return p[i];
	return -1;
}

/* JSON text starts with '{' or '['. */
static int
looks_like_json(const unsigned char *p, size_t len)
{
	int	c = json_first_byte(p, len);

	return c == '{' || c == '[';
}

/*
 * An RFC 5322 message (or an mbox "From " line) starts with a header
 * field: a name of printable characters and a colon on the first line.
 */
static int
looks_like_mail(const unsigned char *p, size_t len)
{
	size_t	i;

	if (len >= 5 && memcmp(p, "From ", 5) == 0)
		return 1;
	for (i = 0; i < len && i < 998; i++) {
		if (p[i] == ':')
			return i > 0;
		if (p[i] <= 32 || p[i] >= 127)
			return 0;
	}
	return 0;
}

enum ingest_kind
ingest_sniff(const unsigned char *buf, size_t len)
{
	if (ingest_is_gzip(buf, len))
		return INGEST_KIND_GZIP;
	if (looks_like_json(buf, len))
		return INGEST_KIND_JSON;
	if (looks_like_mail(buf, len))
		return INGEST_KIND_MAIL;
	return INGEST_KIND_NONE;
}
