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
	if ((rep->reporter = make_reporter(rep)) == NULL ||
	    make_key(rep) == -1 || make_warnings(ctx) == -1) {
		snprintf(ctx->err->msg, sizeof(ctx->err->msg), "out of memory");
		return INGEST_E_NOMEM;
	}
	return INGEST_OK;
}

/*
 * DESIGN.md: a policy without policy-domain takes it from the mail's
 * TLS-Report-Domain, else from the RFC 8460 §5.1 file name, else from the
 * other policies when they all name one domain; only then is it unknown.
 */
static void
fill_domains(struct parse_ctx *ctx)
{
	struct tlsrpt_report	*rep = ctx->rep;
	const struct ingest_meta *meta = ctx->meta;
	struct tlsrpt_policy	*p;
	const char		*sib = NULL, *d = NULL;
	char			 fn[DOMAIN_MAX];
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
			} else if (sib != NULL && one) {
				d = sib;
				src = TLSRPT_DS_SIBLING;
			} else {
				d = "";
				src = TLSRPT_DS_UNKNOWN;
			}
			if (d == fn || src == TLSRPT_DS_HEADER) {
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
		    src == TLSRPT_DS_HEADER ? "taken from TLS-Report-Domain" :
		    src == TLSRPT_DS_FILENAME ? "taken from the file name" :
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
	int			 found;

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
	if (meta->report_domain != NULL) {
		for (i = 0, found = 0; i < rep->npolicies; i++)
			if (rep->policies[i].domain_src == TLSRPT_DS_REPORT &&
			    strcasecmp(rep->policies[i].domain,
			    meta->report_domain) == 0)
				found = 1;
		if (!found && rep->npolicies > 0)
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
 * The dedup identity: sha256 over organization-name, report-id, the date
 * range and the sorted set of policy domains (QUIRKS A13), so that the
 * same report sent compact and pretty-printed, gzipped or not, by HTTPS
 * and by mail, counts once.
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
		doms[n++] = rep->policies[i].domain;
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
