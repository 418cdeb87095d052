/*
 * report_json.c -- RFC 8460 JSON to struct tlsrpt_report with json-c.
 *
 * Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
 *
 * Strict syntax (I-JSON: UTF-8, no duplicate keys, integers up to 2^53),
 * bounded depth, lengths and counts; lenient schema: every deviation that
 * real senders make (QUIRKS.md) is accepted with a warning.  Strings are
 * copied into the report's arena before the json-c tree is released.
 */

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <malloc.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "ingest_int.h"
#include "util.h"

#define IJSON_INT_MAX	((int64_t)1 << 53)	/* RFC 7493 §2.2 */
#define WHERE_MAX	96
#define TRIM_TREE_BYTES	(8 * 1024 * 1024)	/* see report_from_json() */

/* Where in the report a member is, formatted only for messages. */
enum wsect {
	WH_TOP = 0,		/* ""			*/
	WH_DATES,		/* "date-range."		*/
	WH_ENTRY,		/* "policies[i]."		*/
	WH_POLICY,		/* "policies[i].policy."	*/
	WH_SUMMARY,		/* "policies[i].summary."	*/
	WH_DETAIL,		/* "policies[i].failure-details[j]." */
};
struct where {
	enum wsect	sect;
	size_t		pol;
	size_t		det;
};

/* Outcome of reading one member. */
enum mem {
	M_ABSENT = 0,		/* missing, null or "" */
	M_OK,
	M_ERR,			/* ctx->err is set */
};

static enum ingest_status fail(struct parse_ctx *, enum ingest_status,
		    const char *, ...) __attribute__((format(printf, 3, 4)));
static enum mem	get_str_ex(struct parse_ctx *, struct json_object *,
		    const char *, const struct where *, const char **, int);
#define get_str(c, o, k, w, out)	get_str_ex((c), (o), (k), (w), (out), 0)
/* a host or domain name: lower case, no trailing dot, space or CR */
#define get_name(c, o, k, w, out)	get_str_ex((c), (o), (k), (w), (out), 1)
static enum mem	get_count(struct parse_ctx *, struct json_object *,
		    const char *, const struct where *, uint64_t *);
static enum mem	get_strs(struct parse_ctx *, struct json_object *,
		    const char *, const struct where *, const char ***,
		    size_t *);
static int	parse_policy(struct parse_ctx *, struct json_object *, size_t,
		    struct tlsrpt_policy *);
static int	parse_detail(struct parse_ctx *, struct json_object *,
		    const struct where *, struct tlsrpt_detail *);
static int	parse_dates(struct parse_ctx *, struct json_object *);
static const char *norm_ip(struct parse_ctx *, const char *,
		    const struct where *, const char *);
static const char *W(struct parse_ctx *, const struct where *);
static int	ipv4_canonical(const char *);
static size_t	tree_members(struct json_object *);

struct json_tokener *
tokener_new(const struct ingest_limits *lim)
{
	struct json_tokener	*tok;

	/* json-c counts the levels it may open before the next one */
	/* UTF-8 is checked by json_scan(), faster than json-c's per-byte
	 * check on text that is nearly all ASCII */
	if ((tok = json_tokener_new_ex(lim->depth_max + 1)) != NULL)
		json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	return tok;
}

enum ingest_status
report_from_json(struct parse_ctx *ctx, struct json_tokener *tok,
    const unsigned char *json, size_t len)
{
	struct tlsrpt_report	*rep = ctx->rep;
	struct json_object	*root = NULL, *pols, *v;
	enum json_tokener_error	 jerr;
	enum ingest_status	 st = INGEST_E_SCHEMA;
	const struct where	 top = { WH_TOP, 0, 0 };
	struct json_scan	 js;
	size_t			 i, n, skip = 0;
	int			 has, saved;

	if (len >= 3 && json[0] == 0xef && json[1] == 0xbb && json[2] == 0xbf) {
		ctx_warn(ctx, "utf8-bom", NULL);
		skip = 3;
	}
	if (len - skip > INT32_MAX)
		return fail(ctx, INGEST_E_TOOBIG, "JSON too large");
	/* memory bounded by input: nothing reaches json-c that would
	 * make it build more than the limits allow (json_scan.c) */
	switch (json_scan(json + skip, len - skip, ctx->lim, &js)) {
	case SCAN_OK:
		break;
	case SCAN_UTF8:
		return fail(ctx, INGEST_E_JSON, "not UTF-8 at byte %zu (I-JSON "
		    "requires UTF-8)", skip + js.at);
	case SCAN_NUL:
		return fail(ctx, INGEST_E_JSON, "a JSON string holds NUL "
		    "(\\u0000) at byte %zu: refused, it cannot be stored "
		    "whole", skip + js.at);
	case SCAN_DEPTH:
		return fail(ctx, INGEST_E_JSON, "JSON nested deeper than %d "
		    "levels (at byte %zu)", ctx->lim->depth_max, skip + js.at);
	case SCAN_VALUES:
		return fail(ctx, INGEST_E_TOOBIG, "more than %zu JSON values "
		    "(at byte %zu)", ctx->lim->json_values_max, skip + js.at);
	case SCAN_TREE:
		return fail(ctx, INGEST_E_TOOBIG, "JSON whose parse would take "
		    "over %zu MiB (at byte %zu: %zu values)",
		    ctx->lim->json_tree_max >> 20, skip + js.at, js.values);
	case SCAN_QUOTE:
		return fail(ctx, INGEST_E_JSON, "JSON syntax error at byte %zu: "
		    "a single-quoted string", skip + js.at);
	}
	json_tokener_reset(tok);
	errno = 0;
	root = json_tokener_parse_ex(tok, (const char *)json + skip,
	    (int)(len - skip));
	jerr = json_tokener_get_error(tok);
	saved = errno;
	/* json-c 0.16 has no error for a failed malloc: it stops, perhaps
	 * with the tree so far and "success"; malloc's errno tells */
	if (saved == ENOMEM && (root == NULL || jerr != json_tokener_success ||
	    skip + json_tokener_get_parse_end(tok) < len)) {
		st = fail(ctx, INGEST_E_NOMEM, "out of memory parsing the JSON");
		goto out;
	}
	if (root == NULL || jerr != json_tokener_success) {
		if (root == NULL && jerr == json_tokener_success)
			/* json-c 0.16 says nothing when malloc fails */
			st = fail(ctx, INGEST_E_NOMEM, "out of memory parsing "
			    "the JSON%s", saved == ENOMEM ? "" :
			    " (no error from json-c)");
		else if (jerr == json_tokener_continue)
			st = fail(ctx, INGEST_E_JSON,
			    "JSON ends early (truncated at byte %zu)", len);
		else if (jerr == json_tokener_error_depth)
			st = fail(ctx, INGEST_E_JSON,
			    "JSON nested deeper than %d levels",
			    ctx->lim->depth_max);
		else
			st = fail(ctx, INGEST_E_JSON,
			    "JSON syntax error at byte %zu: %s",
			    skip + json_tokener_get_parse_end(tok),
			    json_tokener_error_desc(jerr));
		goto out;
	}
	/* nothing but white space may follow the value */
	for (i = skip + json_tokener_get_parse_end(tok); i < len; i++)
		if (!isspace(json[i])) {
			st = fail(ctx, INGEST_E_JSON,
			    "JSON syntax error at byte %zu: data after the "
			    "report", i);
			goto out;
		}
	if (!json_object_is_type(root, json_type_object)) {
		st = fail(ctx, INGEST_E_SCHEMA,
		    "not an RFC 8460 report: the JSON is not an object");
		goto out;
	}
	ctx->members = json_object_object_length(root);

	if (get_str(ctx, root, "organization-name", &top, &rep->org_name) ==
	    M_ERR)
		goto out;
	if (rep->org_name == NULL) {
		ctx_warn(ctx, "organization-name-missing", NULL);
		rep->org_name = "";
	}
	if (get_str(ctx, root, "report-id", &top, &rep->report_id) == M_ERR)
		goto out;
	if (rep->report_id == NULL) {
		ctx_warn(ctx, "report-id-missing", NULL);
		rep->report_id = "";
	}
	has = json_object_object_get_ex(root, "contact-info", &v);
	if (get_str(ctx, root, "contact-info", &top, &rep->contact_info) ==
	    M_ERR)
		goto out;
	if (rep->contact_info == NULL)
		ctx_warn(ctx, !has ? "contact-info-missing" : v == NULL ?
		    "contact-info-null" : "contact-info-empty", NULL);
	if (parse_dates(ctx, root) == -1)
		goto out;

	if (!json_object_object_get_ex(root, "policies", &pols) ||
	    pols == NULL) {
		if (json_object_object_get_ex(root, "policy", &v))
			st = fail(ctx, INGEST_E_SCHEMA, "pre-RFC draft report: "
			    "a single \"policy\" object, no \"policies\" "
			    "array");
		else
			st = fail(ctx, INGEST_E_SCHEMA, "not an RFC 8460 "
			    "report: no \"policies\" array");
		goto out;
	}
	if (!json_object_is_type(pols, json_type_array)) {
		st = fail(ctx, INGEST_E_SCHEMA, "\"policies\" is not an array");
		goto out;
	}
	n = json_object_array_length(pols);
	if (n > ctx->lim->policies_max) {
		st = fail(ctx, INGEST_E_TOOBIG, "%zu policies, over the limit "
		    "of %zu", n, ctx->lim->policies_max);
		goto out;
	}
	if (n == 0)
		ctx_warn(ctx, "policies-empty", NULL);
	if (n > 0 && (rep->policies = arena_alloc(&rep->arena,
	    n * sizeof(*rep->policies))) == NULL) {
		st = fail(ctx, INGEST_E_NOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < n; i++) {
		memset(&rep->policies[i], 0, sizeof(rep->policies[i]));
		if (parse_policy(ctx, json_object_array_get_idx(pols, i), i,
		    &rep->policies[i]) == -1)
			goto out;
		rep->npolicies++;
	}
	/*
	 * json-c keeps the last of duplicate keys: compare the members in
	 * the text (colons outside strings) with those json-c kept.  The
	 * objects the walk visited usually hold them all; only when they do
	 * not is the whole tree counted.
	 */
	n = js.members;
	if (n != ctx->members && n != tree_members(root)) {
		st = fail(ctx, INGEST_E_JSON,
		    "duplicate key in a JSON object (I-JSON forbids it)");
		goto out;
	}
	st = INGEST_OK;
 out:
	if (st != INGEST_OK)
		st = fail(ctx, st, "not an RFC 8460 report");
	if (ctx->spare != NULL && ctx->spare->head == NULL)
		(void)arena_alloc(ctx->spare, 1);	/* a hint: may fail */
	json_object_put(root);
	json_tokener_reset(tok);	/* what a failed parse left built */
	/*
	 * A big tree is hundreds of thousands of small chunks: once free,
	 * glibc keeps their pages in this thread's arena, where the next
	 * parse (the ingest worker's, in another thread) cannot use them,
	 * and two parses would cost twice the bound.  Give the pages back.
	 */
	if (js.tree >= TRIM_TREE_BYTES)
		(void)malloc_trim(0);
	return st;
}

/* The location as text, in ctx's scratch buffer: valid until the next
 * call, which is enough for one fail() or ctx_warn(). */
static const char *
W(struct parse_ctx *ctx, const struct where *w)
{
	switch (w->sect) {
	case WH_TOP:
		return "";
	case WH_DATES:
		return "date-range.";
	case WH_ENTRY:
		snprintf(ctx->wbuf, sizeof(ctx->wbuf), "policies[%zu].",
		    w->pol);
		break;
	case WH_POLICY:
		snprintf(ctx->wbuf, sizeof(ctx->wbuf), "policies[%zu].policy.",
		    w->pol);
		break;
	case WH_SUMMARY:
		snprintf(ctx->wbuf, sizeof(ctx->wbuf),
		    "policies[%zu].summary.", w->pol);
		break;
	case WH_DETAIL:
		snprintf(ctx->wbuf, sizeof(ctx->wbuf),
		    "policies[%zu].failure-details[%zu].", w->pol, w->det);
		break;
	}
	return ctx->wbuf;
}

static enum ingest_status
fail(struct parse_ctx *ctx, enum ingest_status st, const char *fmt, ...)
{
	va_list	ap;

	if (ctx->err->msg[0] != '\0')	/* keep the first, most precise */
		return ctx->status;
	ctx->status = st;
	va_start(ap, fmt);
	vsnprintf(ctx->err->msg, sizeof(ctx->err->msg), fmt, ap);
	va_end(ap);
	return st;
}

/*
 * A string member, copied into the arena.  Missing, null and "" are all
 * M_ABSENT (QUIRKS H2); another type or an over-long string is an error.
 */
static enum mem
get_str_ex(struct parse_ctx *ctx, struct json_object *obj, const char *key,
    const struct where *where, const char **out, int lower)
{
	struct json_object	*v;
	const char		*src;
	char			*d;
	int			 n, i;

	*out = NULL;
	if (!json_object_object_get_ex(obj, key, &v) || v == NULL)
		return M_ABSENT;
	if (!json_object_is_type(v, json_type_string)) {
		fail(ctx, INGEST_E_SCHEMA, "%s%s: not a string", W(ctx, where), key);
		return M_ERR;
	}
	n = json_object_get_string_len(v);
	if (n < 0 || (size_t)n > ctx->lim->string_max) {
		fail(ctx, INGEST_E_TOOBIG, "%s%s: string of %d bytes, over "
		    "the limit of %zu", W(ctx, where), key, n, ctx->lim->string_max);
		return M_ERR;
	}
	src = json_object_get_string(v);
	if (lower)
		while (n > 0 && (src[n - 1] == '.' || src[n - 1] == ' ' ||
		    src[n - 1] == '\r'))
			n--;
	if (n == 0)
		return M_ABSENT;
	if ((d = arena_strndup(&ctx->rep->arena, src, (size_t)n)) == NULL) {
		fail(ctx, INGEST_E_NOMEM, "out of memory");
		return M_ERR;
	}
	if (lower)
		for (i = 0; i < n; i++)
			if (d[i] >= 'A' && d[i] <= 'Z')
				d[i] = (char)(d[i] - 'A' + 'a');
	*out = d;
	return M_OK;
}

/* A session count: an integer in [0, 2^53].  Missing or null: M_ABSENT. */
static enum mem
get_count(struct parse_ctx *ctx, struct json_object *obj, const char *key,
    const struct where *where, uint64_t *out)
{
	struct json_object	*v;
	int64_t			 n;

	*out = 0;
	if (!json_object_object_get_ex(obj, key, &v) || v == NULL)
		return M_ABSENT;
	if (!json_object_is_type(v, json_type_int)) {
		fail(ctx, INGEST_E_SCHEMA, "%s%s: not an integer (%s)", W(ctx, where),
		    key, json_object_to_json_string_ext(v,
		    JSON_C_TO_STRING_PLAIN));
		return M_ERR;
	}
	n = json_object_get_int64(v);
	if (n < 0 || n > IJSON_INT_MAX) {
		fail(ctx, INGEST_E_SCHEMA, "%s%s: %s is out of range "
		    "(0 to 2^53)", W(ctx, where), key, json_object_to_json_string_ext(v,
		    JSON_C_TO_STRING_PLAIN));
		return M_ERR;
	}
	*out = (uint64_t)n;
	return M_OK;
}

/*
 * An array of strings (policy-string, mx-host), or a bare string taken as
 * a one-element array (RFC 8460 Appendix B, Halon).  Elements that are
 * not strings are an error; empty elements are dropped with a warning.
 */
static enum mem
get_strs(struct parse_ctx *ctx, struct json_object *obj, const char *key,
    const struct where *where, const char ***out, size_t *nout)
{
	struct json_object	*v, *e;
	const char		*s;
	size_t			 i, n, len;

	*out = NULL;
	*nout = 0;
	if (!json_object_object_get_ex(obj, key, &v) || v == NULL)
		return M_ABSENT;
	if (json_object_is_type(v, json_type_string)) {
		ctx_warn(ctx, "string-not-array", "%s%s", W(ctx, where), key);
		n = 1;
	} else if (json_object_is_type(v, json_type_array)) {
		n = json_object_array_length(v);
	} else {
		fail(ctx, INGEST_E_SCHEMA, "%s%s: not an array of strings",
		    W(ctx, where), key);
		return M_ERR;
	}
	if (n > ctx->lim->strings_max) {
		fail(ctx, INGEST_E_TOOBIG, "%s%s: %zu elements, over the "
		    "limit of %zu", W(ctx, where), key, n, ctx->lim->strings_max);
		return M_ERR;
	}
	if (n == 0)
		return M_ABSENT;
	if ((*out = arena_alloc(&ctx->rep->arena, n * sizeof(**out))) ==
	    NULL) {
		fail(ctx, INGEST_E_NOMEM, "out of memory");
		return M_ERR;
	}
	for (i = 0; i < n; i++) {
		e = json_object_is_type(v, json_type_array) ?
		    json_object_array_get_idx(v, i) : v;
		if (!json_object_is_type(e, json_type_string)) {
			fail(ctx, INGEST_E_SCHEMA, "%s%s[%zu]: not a string",
			    W(ctx, where), key, i);
			return M_ERR;
		}
		len = (size_t)json_object_get_string_len(e);
		if (len > ctx->lim->string_max) {
			fail(ctx, INGEST_E_TOOBIG, "%s%s[%zu]: string of %zu "
			    "bytes, over the limit of %zu", W(ctx, where), key, i, len,
			    ctx->lim->string_max);
			return M_ERR;
		}
		if (len == 0) {
			ctx_warn(ctx, "empty-string-element", "%s%s", W(ctx, where),
			    key);
			continue;
		}
		s = arena_strndup(&ctx->rep->arena, json_object_get_string(e),
		    len);
		if (s == NULL) {
			fail(ctx, INGEST_E_NOMEM, "out of memory");
			return M_ERR;
		}
		(*out)[(*nout)++] = s;
	}
	return *nout > 0 ? M_OK : M_ABSENT;
}

static int
parse_date(struct parse_ctx *ctx, struct json_object *dr, const char *key,
    int64_t *t)
{
	const struct where	 dr_where = { WH_DATES, 0, 0 };
	const char		*s;
	int			 nozone;

	if (get_str(ctx, dr, key, &dr_where, &s) != M_OK) {
		fail(ctx, INGEST_E_SCHEMA, "date-range.%s: missing", key);
		return -1;
	}
	if (util_parse_datetime(s, t, &nozone) == -1) {
		fail(ctx, INGEST_E_SCHEMA, "date-range.%s: \"%.40s\" is not an "
		    "RFC 3339 date-time", key, s);
		return -1;
	}
	if (nozone)
		ctx_warn(ctx, "datetime-without-zone", "date-range.%s (read as "
		    "UTC)", key);
	return 0;
}

static int
parse_dates(struct parse_ctx *ctx, struct json_object *root)
{
	struct tlsrpt_report	*rep = ctx->rep;
	struct json_object	*dr;
	int64_t			 span;

	if (!json_object_object_get_ex(root, "date-range", &dr) ||
	    dr == NULL) {
		fail(ctx, INGEST_E_SCHEMA, "not an RFC 8460 report: no "
		    "\"date-range\"");
		return -1;
	}
	if (!json_object_is_type(dr, json_type_object)) {
		fail(ctx, INGEST_E_SCHEMA, "date-range: not an object");
		return -1;
	}
	ctx->members += json_object_object_length(dr);
	if (parse_date(ctx, dr, "start-datetime", &rep->start) == -1 ||
	    parse_date(ctx, dr, "end-datetime", &rep->end) == -1)
		return -1;
	span = rep->end - rep->start;
	if (span < 0)
		ctx_warn(ctx, "date-range-reversed", "end before start");
	else if (span != 86399 && span != 86400)
		ctx_warn(ctx, "date-range-not-daily", "%" PRId64 " seconds",
		    span);
	return 0;
}

static int
parse_policy(struct parse_ctx *ctx, struct json_object *pe, size_t idx,
    struct tlsrpt_policy *pol)
{
	struct json_object	*po, *sum, *fds;
	struct where		 pw = { WH_ENTRY, idx, 0 }, dw;
	const char		*s;
	size_t			 i, n, j, k;
	uint64_t		 dsum = 0;
	enum mem		 m;

	if (pe == NULL || !json_object_is_type(pe, json_type_object)) {
		fail(ctx, INGEST_E_SCHEMA, "policies[%zu]: not an object", idx);
		return -1;
	}
	if (!json_object_object_get_ex(pe, "policy", &po) || po == NULL ||
	    !json_object_is_type(po, json_type_object)) {
		fail(ctx, INGEST_E_SCHEMA, "%spolicy: missing or not an object",
		    W(ctx, &pw));
		return -1;
	}
	ctx->members += json_object_object_length(pe) +
	    json_object_object_length(po);
	pw.sect = WH_POLICY;
	if ((m = get_str(ctx, po, "policy-type", &pw, &pol->type_raw)) !=
	    M_OK) {
		if (m == M_ABSENT)
			fail(ctx, INGEST_E_SCHEMA, "%spolicy-type: missing",
			    W(ctx, &pw));
		return -1;
	}
	if (strcmp(pol->type_raw, "sts") == 0)
		pol->type = TLSRPT_PT_STS;
	else if (strcmp(pol->type_raw, "tlsa") == 0)
		pol->type = TLSRPT_PT_TLSA;
	else if (strcmp(pol->type_raw, "no-policy-found") == 0)
		pol->type = TLSRPT_PT_NOPOLICY;
	else {
		pol->type = TLSRPT_PT_OTHER;
		ctx_warn(ctx, "policy-type-unknown", "%spolicy-type \"%.32s\"",
		    W(ctx, &pw), pol->type_raw);
	}

	if (get_strs(ctx, po, "policy-string", &pw, &pol->strings,
	    &pol->nstrings) == M_ERR)
		return -1;
	/* Microsoft: TLSA records as one JSON-encoded array (QUIRKS F1) */
	if (pol->type == TLSRPT_PT_TLSA && pol->nstrings == 1 &&
	    pol->strings[0][0] == '[') {
		struct json_object	*inner, *e;

		if ((inner = json_tokener_parse(pol->strings[0])) != NULL &&
		    json_object_is_type(inner, json_type_array) &&
		    (n = json_object_array_length(inner)) > 0 &&
		    n <= ctx->lim->strings_max &&
		    (pol->strings = arena_alloc(&ctx->rep->arena,
		    n * sizeof(*pol->strings))) != NULL) {
			for (i = k = 0; i < n; i++) {
				e = json_object_array_get_idx(inner, i);
				if (json_object_is_type(e, json_type_string) &&
				    (s = arena_strndup(&ctx->rep->arena,
				    json_object_get_string(e),
				    (size_t)json_object_get_string_len(e))) !=
				    NULL)
					pol->strings[k++] = s;
			}
			pol->nstrings = k;
			ctx_warn(ctx, "tlsa-policy-string-json-encoded", "%s",
			    W(ctx, &pw));
		}
		json_object_put(inner);
	}
	for (i = 0; i < pol->nstrings; i++) {
		n = strlen(pol->strings[i]);
		if (n > 0 && (pol->strings[i][n - 1] == '\r' ||
		    pol->strings[i][n - 1] == ' ')) {
			ctx_warn(ctx, "policy-string-trailing-space", "%s",
			    W(ctx, &pw));
			break;
		}
	}
	if (pol->type == TLSRPT_PT_STS && pol->nstrings > 0 &&
	    sts_policy_parse(&ctx->rep->arena, pol->strings, pol->nstrings,
	    &pol->sts) == -1) {
		fail(ctx, INGEST_E_NOMEM, "out of memory");
		return -1;
	}
	if (pol->type == TLSRPT_PT_STS && pol->nstrings == 0)
		ctx_warn(ctx, "sts-policy-string-missing", "%s", W(ctx, &pw));

	if (get_name(ctx, po, "policy-domain", &pw, &pol->domain) == M_ERR)
		return -1;

	m = get_strs(ctx, po, "mx-host", &pw, &pol->mx_hosts,
	    &pol->nmx_hosts);
	if (m == M_ABSENT && json_object_object_get_ex(po, "mx-host-pattern",
	    NULL)) {
		ctx_warn(ctx, "key-alias", "%smx-host-pattern", W(ctx, &pw));
		m = get_strs(ctx, po, "mx-host-pattern", &pw, &pol->mx_hosts,
		    &pol->nmx_hosts);
	}
	if (m == M_ERR)
		return -1;
	for (i = 0; i < pol->nmx_hosts; i++) {
		s = pol->mx_hosts[i];
		if (strncmp(s, "mx:", 3) == 0) {
			for (s += 3; *s == ' ' || *s == '\t'; s++)
				;
			pol->mx_hosts[i] = s;
			ctx_warn(ctx, "mx-host-prefixed", "%smx-host", W(ctx, &pw));
		}
	}

	pw.sect = WH_SUMMARY;
	if (!json_object_object_get_ex(pe, "summary", &sum) || sum == NULL) {
		ctx_warn(ctx, "summary-missing", "policies[%zu]", idx);
	} else if (!json_object_is_type(sum, json_type_object)) {
		fail(ctx, INGEST_E_SCHEMA, "policies[%zu].summary: not an "
		    "object", idx);
		return -1;
	} else {
		ctx->members += json_object_object_length(sum);
		if ((m = get_count(ctx, sum, "total-successful-session-count",
		    &pw, &pol->successful)) == M_ERR)
			return -1;
		if (m == M_ABSENT)
			ctx_warn(ctx, "session-count-missing",
			    "%stotal-successful-session-count", W(ctx, &pw));
		if ((m = get_count(ctx, sum, "total-failure-session-count",
		    &pw, &pol->failed)) == M_ERR)
			return -1;
		if (m == M_ABSENT)
			ctx_warn(ctx, "session-count-missing",
			    "%stotal-failure-session-count", W(ctx, &pw));
	}

	if (!json_object_object_get_ex(pe, "failure-details", &fds))
		return 0;
	if (fds == NULL) {
		ctx_warn(ctx, "failure-details-null", "policies[%zu]", idx);
		return 0;
	}
	if (!json_object_is_type(fds, json_type_array)) {
		fail(ctx, INGEST_E_SCHEMA, "policies[%zu].failure-details: not "
		    "an array", idx);
		return -1;
	}
	n = json_object_array_length(fds);
	if (n > ctx->lim->details_max - ctx->ndetails) {
		fail(ctx, INGEST_E_TOOBIG, "more than %zu failure details in "
		    "the report", ctx->lim->details_max);
		return -1;
	}
	if (n == 0)
		return 0;
	if ((pol->details = arena_alloc(&ctx->rep->arena,
	    n * sizeof(*pol->details))) == NULL) {
		fail(ctx, INGEST_E_NOMEM, "out of memory");
		return -1;
	}
	for (j = 0; j < n; j++) {
		dw.sect = WH_DETAIL;
		dw.pol = idx;
		dw.det = j;
		if (parse_detail(ctx, json_object_array_get_idx(fds, j), &dw,
		    &pol->details[j]) == -1)
			return -1;
		dsum += pol->details[j].failed_sessions;
		pol->ndetails++;
	}
	ctx->ndetails += n;
	if (dsum != pol->failed)
		ctx_warn(ctx, "failure-details-sum-differs", "policies[%zu]: "
		    "details %" PRIu64 ", total %" PRIu64, idx, dsum,
		    pol->failed);
	return 0;
}

static int
parse_detail(struct parse_ctx *ctx, struct json_object *d,
    const struct where *where,
    struct tlsrpt_detail *fd)
{
	enum mem	m;

	memset(fd, 0, sizeof(*fd));
	if (d == NULL || !json_object_is_type(d, json_type_object)) {
		fail(ctx, INGEST_E_SCHEMA, "policies[%zu].failure-details[%zu]: "
		    "not an object", where->pol, where->det);
		return -1;
	}
	ctx->members += json_object_object_length(d);
	if ((m = get_str(ctx, d, "result-type", where, &fd->result_type)) ==
	    M_ERR)
		return -1;
	if (m == M_ABSENT) {
		ctx_warn(ctx, "result-type-missing", "%s", W(ctx, where));
		fd->result_type = "unknown";
	} else if (!(fd->result_known = result_type_known(fd->result_type)))
		ctx_warn(ctx, "result-type-unknown", "\"%.32s\"",
		    fd->result_type);

	if (get_str(ctx, d, "sending-mta-ip", where, &fd->sending_ip) ==
	    M_ERR || get_str(ctx, d, "receiving-ip", where,
	    &fd->receiving_ip) == M_ERR)
		return -1;
	fd->sending_ip_norm = norm_ip(ctx, fd->sending_ip, where,
	    "sending-mta-ip");
	fd->receiving_ip_norm = norm_ip(ctx, fd->receiving_ip, where,
	    "receiving-ip");

	if ((m = get_name(ctx, d, "receiving-mx-hostname", where,
	    &fd->receiving_mx)) == M_ERR)
		return -1;
	if (m == M_ABSENT && json_object_object_get_ex(d,
	    "receiving-mx-host-name", NULL)) {
		ctx_warn(ctx, "key-alias", "receiving-mx-host-name");
		if (get_name(ctx, d, "receiving-mx-host-name", where,
		    &fd->receiving_mx) == M_ERR)
			return -1;
	}
	if (get_str(ctx, d, "receiving-mx-helo", where,
	    &fd->receiving_helo) == M_ERR)
		return -1;
	if ((m = get_str(ctx, d, "additional-information", where,
	    &fd->additional_info)) == M_ERR)
		return -1;
	if (m == M_ABSENT && json_object_object_get_ex(d,
	    "additional-info-uri", NULL)) {
		ctx_warn(ctx, "key-alias", "additional-info-uri");
		if (get_str(ctx, d, "additional-info-uri", where,
		    &fd->additional_info) == M_ERR)
			return -1;
	}
	if (get_str(ctx, d, "failure-reason-code", where,
	    &fd->reason_code) == M_ERR)
		return -1;
	if ((m = get_count(ctx, d, "failed-session-count", where,
	    &fd->failed_sessions)) == M_ERR)
		return -1;
	if (m == M_ABSENT)
		ctx_warn(ctx, "session-count-missing",
		    "%sfailed-session-count", W(ctx, where));
	return 0;
}

/* 1 for a dotted quad in canonical form: 0-255, no leading zeros. */
static int
ipv4_canonical(const char *s)
{
	unsigned	v;
	int		i, d;

	for (i = 0; i < 4; i++) {
		if (*s < '0' || *s > '9')
			return 0;
		for (v = 0, d = 0; *s >= '0' && *s <= '9'; s++, d++)
			v = v * 10 + (unsigned)(*s - '0');
		if (d > 3 || v > 255 || (d > 1 && s[-d] == '0'))
			return 0;
		if (*s != (i < 3 ? '.' : '\0'))
			return 0;
		s++;
	}
	return 1;
}

/* Canonical text of an IP address (RFC 5952 for IPv6), or NULL. */
static const char *
norm_ip(struct parse_ctx *ctx, const char *ip, const struct where *where,
    const char *key)
{
	unsigned char	bin[sizeof(struct in6_addr)];
	char		txt[INET6_ADDRSTRLEN];
	int		af;

	if (ip == NULL)
		return NULL;
	if (ipv4_canonical(ip))
		return ip;
	af = strchr(ip, ':') != NULL ? AF_INET6 : AF_INET;
	if (inet_pton(af, ip, bin) != 1 ||
	    inet_ntop(af, bin, txt, sizeof(txt)) == NULL) {
		ctx_warn(ctx, "ip-invalid", "%s%s \"%.40s\"", W(ctx, where), key,
		    ip);
		return NULL;
	}
	if (strcmp(txt, ip) == 0)
		return ip;
	return arena_strndup(&ctx->rep->arena, txt, strlen(txt));
}

static size_t
tree_members(struct json_object *o)
{
	size_t	n = 0, i, len;

	switch (json_object_get_type(o)) {
	case json_type_object: {
		json_object_object_foreach(o, key, val) {
			(void)key;
			n += 1 + tree_members(val);
		}
		break;
	}
	case json_type_array:
		len = json_object_array_length(o);
		for (i = 0; i < len; i++)
			n += tree_members(json_object_array_get_idx(o, i));
		break;
	default:
		break;
	}
	return n;
}
