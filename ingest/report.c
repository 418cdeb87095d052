/*
 * report.c -- the parsed report after the JSON walk: the policy-domain
 * fallback, the session accounting rule, the dedup key and the warnings.
 *
 * Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
 */

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <nettle/sha2.h>

#include "ingest_int.h"
#include "util.h"

#define DOMAIN_MAX	256

static void	fill_domains(struct parse_ctx *);
static void	check_transport(struct parse_ctx *);
static void	account(struct tlsrpt_report *);
static int	cmp_str(const void *, const void *);
static int	make_key(struct tlsrpt_report *);
static void	make_figures(struct tlsrpt_report *);
static int	id_domain(const char *, char *, size_t);
static size_t	span_digits(const char *);
static int	is_rfc3339z(const char *);
static int	make_warnings(struct parse_ctx *);
static const char *make_reporter(struct tlsrpt_report *);

void
tlsrpt_report_free(struct tlsrpt_report *rep)
{
	struct arena	a;

	if (rep == NULL)
		return;
	a = rep->arena;		/* rep itself lives in its arena */
	arena_free(&a);
}

void
ctx_warn(struct parse_ctx *ctx, const char *token, const char *where, ...)
{
	struct warn_slot	*w;
	va_list			 ap;
	size_t			 i;

	for (i = 0; i < ctx->nwarn; i++)
		if (ctx->warn[i].token == token ||
		    strcmp(ctx->warn[i].token, token) == 0) {
			ctx->warn[i].count++;
			return;
		}
	if (ctx->nwarn == LIM_WARNINGS_MAX)
		return;		/* bounded: the kinds are far fewer */
	w = &ctx->warn[ctx->nwarn++];
	w->token = token;
	w->count = 1;
	w->where[0] = '\0';
	if (where != NULL) {
		va_start(ap, where);
		vsnprintf(w->where, sizeof(w->where), where, ap);
		va_end(ap);
	}
}

enum ingest_status
report_finish(struct parse_ctx *ctx)
{
	struct tlsrpt_report	*rep = ctx->rep;

	fill_domains(ctx);
	check_transport(ctx);
	account(rep);
	make_figures(rep);
	if ((rep->reporter = make_reporter(rep)) == NULL ||
	    make_key(rep) == -1 || make_warnings(ctx) == -1) {
		snprintf(ctx->err->msg, sizeof(ctx->err->msg), "out of memory");
		return INGEST_E_NOMEM;
	}
	return INGEST_OK;
}

/*
 * DESIGN.md: a policy without policy-domain takes it from the mail's
 * TLS-Report-Domain (or the domain a receiver serves alone, which the
 * front-end passes the same way), else from the RFC 8460 §5.1 file name,
 * else from the report-id of the reporters that put the domain in it
 * (id_domain()), else from the other policies when they all name one
 * domain; only then is it unknown.  None of this enters the identity
 * (make_key()): it is what a transport or a guess added.
 */
static void
fill_domains(struct parse_ctx *ctx)
{
	struct tlsrpt_report	*rep = ctx->rep;
	const struct ingest_meta *meta = ctx->meta;
	struct tlsrpt_policy	*p;
	const char		*sib = NULL, *d = NULL;
	char			 fn[DOMAIN_MAX], rid[DOMAIN_MAX];
	enum tlsrpt_dsrc	 src = TLSRPT_DS_UNKNOWN;
	size_t			 i, n;
	int			 one = 1;

	for (i = 0; i < rep->npolicies; i++) {
		p = &rep->policies[i];
		if (p->domain == NULL)
			continue;
		if (sib == NULL)
			sib = p->domain;
		else if (strcmp(sib, p->domain) != 0)
			one = 0;
	}
	for (i = 0; i < rep->npolicies; i++) {
		p = &rep->policies[i];
		if (p->domain != NULL) {
			p->domain_src = TLSRPT_DS_REPORT;
			continue;
		}
		if (d == NULL) {
			if (meta != NULL && meta->report_domain != NULL &&
			    (n = strlen(meta->report_domain)) > 0 &&
			    n < DOMAIN_MAX) {
				d = meta->report_domain;
				src = TLSRPT_DS_HEADER;
			} else if (meta != NULL && meta->filename != NULL &&
			    ingest_filename_domain(meta->filename, fn,
			    sizeof(fn), NULL, NULL) == 0) {
				d = fn;
				src = TLSRPT_DS_FILENAME;
			} else if (rep->report_id != NULL &&
			    id_domain(rep->report_id, rid, sizeof(rid)) == 0) {
				d = rid;
				src = TLSRPT_DS_REPORTID;
			} else if (sib != NULL && one) {
				d = sib;
				src = TLSRPT_DS_SIBLING;
			} else {
				d = "";
				src = TLSRPT_DS_UNKNOWN;
			}
			if (d == fn || d == rid || src == TLSRPT_DS_HEADER) {
				char	*c;

				n = strlen(d);
				while (n > 0 && d[n - 1] == '.')
					n--;
				if ((c = arena_strndup(&rep->arena, d, n)) ==
				    NULL) {
					d = "";
					src = TLSRPT_DS_UNKNOWN;
				} else {
					for (d = c; *c != '\0'; c++)
						*c = (char)tolower(
						    (unsigned char)*c);
				}
			}
		}
		p->domain = d;
		p->domain_src = src;
		ctx_warn(ctx, "policy-domain-missing", "policies[%zu]: %s", i,
		    src == TLSRPT_DS_HEADER ? (meta->flags & INGEST_MF_MAIL ?
		    "taken from TLS-Report-Domain" :
		    "taken from the receiver's --domain") :
		    src == TLSRPT_DS_FILENAME ? "taken from the file name" :
		    src == TLSRPT_DS_REPORTID ? "taken from the report-id" :
		    src == TLSRPT_DS_SIBLING ? "taken from the other policies" :
		    "unknown");
	}
}

/*
 * What the transport said against what the body says (RFC 8460 §5.3,
 * §5.6: the body wins; the rest is recorded).  QUIRKS A4, A9, E3.
 */
static void
check_transport(struct parse_ctx *ctx)
{
	const struct ingest_meta *meta = ctx->meta;
	struct tlsrpt_report	*rep = ctx->rep;
	const char		*at;
	char			 fn[DOMAIN_MAX];
	int64_t			 begin, end;
	size_t			 i;
	int			 found, named;

	if (meta == NULL)
		return;
	if (meta->flags & INGEST_MF_MAIL) {
		if (meta->report_domain == NULL)
			ctx_warn(ctx, "tls-report-domain-missing", NULL);
		if (meta->submitter == NULL)
			ctx_warn(ctx, "tls-report-submitter-missing", NULL);
	}
	if (meta->flags & INGEST_MF_MISLABELED)
		ctx_warn(ctx, "content-type-mislabeled", NULL);
	if (meta->flags & INGEST_MF_FORWARDED)
		ctx_warn(ctx, "forwarded-copy", NULL);
	if ((meta->flags & INGEST_MF_MAIL) &&
	    (meta->flags & INGEST_MF_NOT_REPORT_MIME))
		ctx_warn(ctx, "not-multipart-report", NULL);
	if (meta->submitter != NULL && rep->contact_info != NULL &&
	    (at = strrchr(rep->contact_info, '@')) != NULL &&
	    strcasecmp(at + 1, meta->submitter) != 0)
		ctx_warn(ctx, "submitter-contact-mismatch", "\"%.40s\" vs "
		    "\"%.40s\"", meta->submitter, at + 1);
	/* only a domain the body names can differ from the header's: a
	 * body that names none took the header's (fill_domains()) */
	if (meta->report_domain != NULL) {
		for (i = 0, found = 0, named = 0; i < rep->npolicies; i++) {
			if (rep->policies[i].domain_src != TLSRPT_DS_REPORT)
				continue;
			named = 1;
			if (strcasecmp(rep->policies[i].domain,
			    meta->report_domain) == 0)
				found = 1;
		}
		if (named && !found)
			ctx_warn(ctx, "tls-report-domain-differs", "\"%.60s\"",
			    meta->report_domain);
	}
	if (meta->filename != NULL && ingest_filename_domain(meta->filename,
	    fn, sizeof(fn), &begin, &end) == 0 &&
	    (begin < 0 || begin > rep->start + 86400 ||
	    begin < rep->start - 86400))
		ctx_warn(ctx, "filename-dates-differ", "file name begins %lld",
		    (long long)begin);
}

/*
 * DESIGN.md session accounting: per domain, every no-policy-found entry
 * counts, plus every entry of the one other type with the most sessions
 * (ties: sts, then tlsa, then the others): sts and tlsa entries for the
 * same domain describe the same sessions twice.
 */
static void
account(struct tlsrpt_report *rep)
{
	struct tlsrpt_policy	*p, *q;
	uint64_t		 sess[3];	/* sts, tlsa, other */
	size_t			 i, j;
	int			 t, best;

	for (i = 0; i < rep->npolicies; i++)
		rep->policies[i].counted = -1;	/* not yet decided */
	for (i = 0; i < rep->npolicies; i++) {
		p = &rep->policies[i];
		if (p->counted != -1)
			continue;
		memset(sess, 0, sizeof(sess));
		for (j = i; j < rep->npolicies; j++) {
			q = &rep->policies[j];
			if (strcmp(q->domain, p->domain) != 0 ||
			    q->type == TLSRPT_PT_NOPOLICY)
				continue;
			t = q->type == TLSRPT_PT_STS ? 0 :
			    q->type == TLSRPT_PT_TLSA ? 1 : 2;
			sess[t] += q->successful + q->failed;
		}
		best = 0;
		for (t = 1; t < 3; t++)
			if (sess[t] > sess[best])
				best = t;
		for (j = i; j < rep->npolicies; j++) {
			q = &rep->policies[j];
			if (strcmp(q->domain, p->domain) != 0)
				continue;
			t = q->type == TLSRPT_PT_STS ? 0 :
			    q->type == TLSRPT_PT_TLSA ? 1 : 2;
			q->counted = q->type == TLSRPT_PT_NOPOLICY || t == best;
		}
	}
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/*
 * The dedup identity (QUIRKS A13): sha256 over what the body says only,
 * so that the same report sent compact and pretty-printed, gzipped or
 * not, by HTTPS (no header, no file name) and by mail, counts once:
 *
 *	organization-name NUL report-id NUL
 *	start end		(int64 Unix seconds, big-endian)
 *	domain NUL ...		(the distinct policy-domain values the
 *				 body gives, sorted byte-wise; none for
 *				 policies without one)
 *
 * The strings are the UTF-8 bytes as parsed ("" when missing).  The same
 * encoding is tlsrpt.report_identity() in schema/006_report_identity.sql,
 * which re-keys the stored reports; tests/unit/test_identity.c holds the
 * two to agreeing.
 */
static int
make_key(struct tlsrpt_report *rep)
{
	struct sha256_ctx	 h;
	const char		**doms;
	unsigned char		 be[16];
	size_t			 i, n = 0;
	int			 k;

	if ((doms = arena_alloc(&rep->arena, (rep->npolicies + 1) *
	    sizeof(*doms))) == NULL)
		return -1;
	for (i = 0; i < rep->npolicies; i++)
		if (rep->policies[i].domain_src == TLSRPT_DS_REPORT)
			doms[n++] = rep->policies[i].domain;
	if (n > 0)
		qsort(doms, n, sizeof(*doms), cmp_str);
	sha256_init(&h);
	sha256_update(&h, strlen(rep->org_name) + 1,
	    (const uint8_t *)rep->org_name);
	sha256_update(&h, strlen(rep->report_id) + 1,
	    (const uint8_t *)rep->report_id);
	for (k = 0; k < 8; k++) {
		be[k] = (unsigned char)((uint64_t)rep->start >> (56 - 8 * k));
		be[8 + k] = (unsigned char)((uint64_t)rep->end >> (56 - 8 * k));
	}
	sha256_update(&h, sizeof(be), be);
	for (i = 0; i < n; i++)
		if (i == 0 || strcmp(doms[i], doms[i - 1]) != 0)
			sha256_update(&h, strlen(doms[i]) + 1,
			    (const uint8_t *)doms[i]);
	sha256_digest(&h, sizeof(rep->key), rep->key);
	return 0;
}

/* A length-prefixed string into the figures digest; NULL differs from "". */
static void
fig_str(struct sha256_ctx *h, const char *s)
{
	unsigned char	be[8];
	uint64_t	n;
	int		k;

	n = s == NULL ? UINT64_MAX : (uint64_t)strlen(s);
	for (k = 0; k < 8; k++)
		be[k] = (unsigned char)(n >> (56 - 8 * k));
	sha256_update(h, sizeof(be), be);
	if (s != NULL)
		sha256_update(h, (size_t)n, (const uint8_t *)s);
}

static void
fig_u64(struct sha256_ctx *h, uint64_t v)
{
	unsigned char	be[8];
	int		k;

	for (k = 0; k < 8; k++)
		be[k] = (unsigned char)(v >> (56 - 8 * k));
	sha256_update(h, sizeof(be), be);
}

/*
 * The figures digest: every value of the report that a query shows,
 * beside the identity, in body order (contact-info; per policy its type,
 * its domain when the body gives it, policy strings, mx-host, totals;
 * per failure detail each field).  Two copies of one identity with the
 * same figures are one report sent twice (pretty-printed, gzipped, by
 * another transport); with different figures they conflict (issue 8:
 * a forged copy, resolved by trust in store_put.c).  Computed here only,
 * so it is never recomputed in SQL: rows stored before it existed have
 * none.
 */
static void
make_figures(struct tlsrpt_report *rep)
{
	const struct tlsrpt_policy	*p;
	const struct tlsrpt_detail	*d;
	struct sha256_ctx		 h;
	size_t				 i, j;

	sha256_init(&h);
	fig_str(&h, rep->contact_info);
	fig_u64(&h, rep->npolicies);
	for (i = 0; i < rep->npolicies; i++) {
		p = &rep->policies[i];
		fig_str(&h, p->type_raw);
		fig_u64(&h, (uint64_t)p->type);
		fig_str(&h, p->domain_src == TLSRPT_DS_REPORT ? p->domain :
		    NULL);
		fig_u64(&h, p->nstrings);
		for (j = 0; j < p->nstrings; j++)
			fig_str(&h, p->strings[j]);
		fig_u64(&h, p->nmx_hosts);
		for (j = 0; j < p->nmx_hosts; j++)
			fig_str(&h, p->mx_hosts[j]);
		fig_u64(&h, p->successful);
		fig_u64(&h, p->failed);
		fig_u64(&h, p->ndetails);
		for (j = 0; j < p->ndetails; j++) {
			d = &p->details[j];
			fig_str(&h, d->result_type);
			fig_str(&h, d->sending_ip);
			fig_str(&h, d->receiving_ip);
			fig_str(&h, d->receiving_mx);
			fig_str(&h, d->receiving_helo);
			fig_str(&h, d->additional_info);
			fig_str(&h, d->reason_code);
			fig_u64(&h, d->failed_sessions);
		}
	}
	sha256_digest(&h, sizeof(rep->figures), rep->figures);
}

static size_t
span_digits(const char *s)
{
	size_t	n = 0;

	while (s[n] >= '0' && s[n] <= '9')
		n++;
	return n;
}

/* "YYYY-MM-DDTHH:MM:SSZ" at s (20 characters). */
static int
is_rfc3339z(const char *s)
{
	static const char	shape[] = "dddd-dd-ddTdd:dd:ddZ";
	size_t			i;

	for (i = 0; shape[i] != '\0'; i++) {
		if (shape[i] == 'd' ? !(s[i] >= '0' && s[i] <= '9') :
		    s[i] != shape[i])
			return 0;
	}
	return 1;
}

/*
 * The policy domain of a report-id whose reporter puts it there, copied
 * in lower case without a trailing dot (QUIRKS D3, corpus):
 *	sys4 tlsrpt-reporter	2025-09-20T00:00:00Z_idx1_<domain>
 *	Google			2024-09-03T00:00:00Z_<domain>
 *	Microsoft		133708152202987951+<domain> (may be empty)
 *	mox			20240903.<domain>@<sender domain>
 * The domain must be a host name (letters, digits, '-', '.', at least
 * two labels).  Returns 0, or -1 when the id has none of these shapes.
 */
static int
id_domain(const char *id, char *dst, size_t dstsz)
{
	const char	*d = NULL, *e;
	size_t		 n, k, i;

	if (is_rfc3339z(id) && id[20] == '_') {
		d = id + 21;
		if (strncmp(d, "idx", 3) == 0 && (k = span_digits(d + 3)) > 0 &&
		    d[3 + k] == '_')
			d += 4 + k;
		e = d + strlen(d);
	} else if ((k = span_digits(id)) > 0 && id[k] == '+') {
		d = id + k + 1;
		e = d + strlen(d);
	} else if (k == 8 && id[k] == '.' && (e = strchr(id, '@')) != NULL) {
		d = id + 9;
	} else
		return -1;
	n = (size_t)(e - d);
	while (n > 0 && d[n - 1] == '.')
		n--;
	if (n == 0 || n >= dstsz || memchr(d, '.', n) == NULL || d[0] == '.' ||
	    d[0] == '-')
		return -1;
	for (i = 0; i < n; i++) {
		if (!isalnum((unsigned char)d[i]) && d[i] != '-' &&
		    d[i] != '.')
			return -1;
		if (d[i] == '.' && i + 1 < n && d[i + 1] == '.')
			return -1;
		dst[i] = (char)tolower((unsigned char)d[i]);
	}
	dst[n] = '\0';
	return 0;
}

static int
make_warnings(struct parse_ctx *ctx)
{
	struct tlsrpt_report	*rep = ctx->rep;
	struct warn_slot	*w;
	char			 line[WARN_WHERE_MAX + 96];
	size_t			 i;
	int			 n;

	if (ctx->nwarn == 0)
		return 0;
	if ((rep->warnings = arena_alloc(&rep->arena, ctx->nwarn *
	    sizeof(*rep->warnings))) == NULL)
		return -1;
	for (i = 0; i < ctx->nwarn; i++) {
		w = &ctx->warn[i];
		n = snprintf(line, sizeof(line), "%s%s%s", w->token,
		    w->where[0] != '\0' ? ": " : "", w->where);
		if (w->count > 1 && n >= 0 && (size_t)n < sizeof(line))
			snprintf(line + n, sizeof(line) - (size_t)n,
			    " (and %zu more)", w->count - 1);
		if ((rep->warnings[i] = arena_strndup(&rep->arena, line,
		    strlen(line))) == NULL)
			return -1;
	}
	rep->nwarnings = ctx->nwarn;
	return 0;
}

/* organization-name in lower case with single spaces, for grouping;
 * the contact-info domain when the name is empty. */
static const char *
make_reporter(struct tlsrpt_report *rep)
{
	const char	*s = rep->org_name, *at;
	char		*r, *o;
	size_t		 n;

	if (*s == '\0' && rep->contact_info != NULL &&
	    (at = strrchr(rep->contact_info, '@')) != NULL)
		s = at + 1;
	if (*s == '\0')
		s = "unknown";
	n = strlen(s);
	if ((r = arena_alloc(&rep->arena, n + 1)) == NULL)
		return NULL;
	for (o = r; *s != '\0'; s++) {
		if (isspace((unsigned char)*s)) {
			if (o > r && o[-1] != ' ')
				*o++ = ' ';
			continue;
		}
		*o++ = (char)tolower((unsigned char)*s);
	}
	if (o > r && o[-1] == ' ')
		o--;
	*o = '\0';
	return r;
}
