/*
 * core_submit.c -- the one verdict of both front-ends (see core_submit.h).
 *
 * Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
 *
 * The order is the one DESIGN.md gives the HTTP front: empty, sniff
 * (415), recent duplicate (200), bounded parse (413, 400, 503), domain
 * allow-list (403), DKIM requirement, then the durable spool (201, 200,
 * 503).  A mail is always parsed as a mail: ingest_message() says what
 * it carries.  Only the spool write and the ctx->stored callback (the
 * worker kick) touch anything outside the arguments.
 */

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <nettle/sha2.h>

#include "core_conf.h"
#include "core_daemon.h"
#include "ingest.h"
#include "log.h"
#include "core_spool.h"
#include "core_submit.h"
#include "tlsrpt_limits.h"

#define RECENT_WAYS	4
#define SUBMIT_LINE_MAX	(SUBMIT_REASON_MAX + 128)	/* one x- line */
#define SUBMIT_LINES	(SUBMIT_EXTRA_MAX + 8)

struct submit_recent {
	pthread_mutex_t	  mtx;
	size_t		  nb;
	unsigned char	(*slot)[RECENT_WAYS][32];
	unsigned char	 *used;		/* round-robin way per bucket */
};

/* The spool lines being built for one submission. */
struct lines {
	const char	*v[SPOOL_HDR_MAX];
	char		 buf[SUBMIT_LINES][SUBMIT_LINE_MAX];
	size_t		 n, nbuf;
};

static const char *const class_names[SUBMIT_NCLASS] = {
	"stored", "duplicate", "refused-media", "too-big", "not-a-report",
	"forbidden-domain", "untrusted", "temporary-failure", "no-memory",
};

static const char *const report_types[] = {
	"application/tlsrpt+gzip", "application/tlsrpt+json",
};

static enum submit_class decide(struct submit_verdict *, enum submit_class,
			    const char *, const char *, ...)
			    __attribute__((format(printf, 4, 5)));
static void	 line_add(struct lines *, const char *);
static void	 line_kv(struct lines *, const char *, const char *);
static void	 keep(const struct submit_ctx *, const struct submit_in *,
		    struct submit_verdict *);
static void	 put(const struct submit_ctx *, const struct submit_in *,
		    const struct tlsrpt_report *, struct submit_verdict *,
		    const char *);
static int	 has_unknown_domain(const struct tlsrpt_report *);
static size_t	 foreign_policies(const struct conf_list *,
		    const struct tlsrpt_report *);
static int	 recent_has(struct submit_recent *, const unsigned char *);
static void	 recent_add(struct submit_recent *, const unsigned char *);

const char *
submit_class_str(enum submit_class c)
{
	return (unsigned)c < SUBMIT_NCLASS ? class_names[c] : "unknown";
}

enum submit_class
submit_verdict(const struct submit_ctx *ctx, const struct submit_in *in,
    struct submit_verdict *v)
{
	struct tlsrpt_report	*rep = NULL;
	struct ingest_meta	 meta;
	struct ingest_err	 ierr;
	struct sha256_ctx	 h;
	enum ingest_kind	 kind = INGEST_KIND_NONE;
	enum ingest_status	 st;
	unsigned char		 digest[SHA256_DIGEST_SIZE];
	char			 why[SUBMIT_REASON_MAX];
	const char		*hdr_domain = NULL;
	int			 mail = in->transport == SUBMIT_MAIL;

	memset(v, 0, sizeof(*v));
	memset(digest, 0, sizeof(digest));
	v->ingest = INGEST_OK;
	snprintf(v->org, sizeof(v->org), "-");
	if (!mail && in->len == 0)
		return decide(v, SUBMIT_NOT_A_REPORT, "empty",
		    "empty body: POST the report, gzip or JSON");
	if (!mail) {
		kind = ingest_sniff(in->buf, in->len);
		if (kind != INGEST_KIND_GZIP && kind != INGEST_KIND_JSON) {
			decide(v, SUBMIT_REFUSED_MEDIA, "media-type",
			    "neither gzip nor JSON");
			keep(ctx, in, v);
			return v->cls;
		}
		if (ctx->recent != NULL) {
			sha256_init(&h);
			sha256_update(&h, in->len, in->buf);
			sha256_digest(&h, sizeof(digest), digest);
			if (recent_has(ctx->recent, digest))
				return decide(v, SUBMIT_DUPLICATE, "duplicate",
				    "this report was received already");
		}
	}

	memset(&meta, 0, sizeof(meta));
	if (mail)
		st = ingest_message(in->buf, in->len, &ctx->lim, &rep, &ierr);
	else {
		if (in->content_type == NULL ||
		    strncmp(in->content_type, report_types[kind ==
		    INGEST_KIND_GZIP ? 0 : 1], strlen(report_types[0])) != 0)
			meta.flags |= INGEST_MF_MISLABELED;
		st = ingest_payload(in->buf, in->len, &meta, &ctx->lim, &rep,
		    &ierr);
		/* the front's report domain, for policies that name none:
		 * parsed again with it, and the worker told (x- line) */
		if (st == INGEST_OK && in->report_domain != NULL &&
		    *in->report_domain != '\0' && has_unknown_domain(rep)) {
			tlsrpt_report_free(rep);
			rep = NULL;
			meta.report_domain = in->report_domain;
			hdr_domain = in->report_domain;
			st = ingest_payload(in->buf, in->len, &meta, &ctx->lim,
			    &rep, &ierr);
		}
	}
	v->ingest = st;
	switch (st) {
	case INGEST_OK:
		break;
	case INGEST_E_NOMEM:
		return decide(v, SUBMIT_NOMEM, "no-memory", "out of memory");
	case INGEST_E_TOOBIG:
		decide(v, SUBMIT_TOO_BIG, ingest_status_str(st), "%s",
		    ierr.msg);
		if (!mail)
			keep(ctx, in, v);
		return v->cls;
	default:
		decide(v, SUBMIT_NOT_A_REPORT, ingest_status_str(st), "%s",
		    ierr.msg);
		if (!mail)
			keep(ctx, in, v);
		return v->cls;
	}
	log_escape(v->org, sizeof(v->org), rep->org_name,
	    strlen(rep->org_name));
	v->npolicies = rep->npolicies;
	if (ctx->domains != NULL)
		v->foreign = foreign_policies(ctx->domains, rep);

	if (mail) {
		if (in->trust != NULL)
			v->trusted = in->trust(in->trust_arg, rep, v->dkim,
			    sizeof(v->dkim));
		else {
			if (in->dkim != NULL)
				snprintf(v->dkim, sizeof(v->dkim), "%s",
				    in->dkim);
			v->trusted = in->trusted;
		}
	}
	if (ctx->domains != NULL && !submit_domain_allowed(ctx->domains, rep,
	    why, sizeof(why)))
		decide(v, SUBMIT_FORBIDDEN_DOMAIN, "domain", "%s", why);
	else if (mail && ctx->require_dkim && !v->trusted)
		decide(v, SUBMIT_UNTRUSTED, "dkim", "no passing DKIM signature "
		    "of the reporting domain (%s)", v->dkim[0] != '\0' ?
		    v->dkim : "none");
	else
		decide(v, SUBMIT_STORED, "stored", "the report is safe on "
		    "disk");

	/* HTTPS refuses a foreign report outright; mail keeps it */
	if (v->cls == SUBMIT_STORED || mail)
		put(ctx, in, rep, v, hdr_domain);
	tlsrpt_report_free(rep);
	if (!mail && ctx->recent != NULL && v->spooled &&
	    (v->cls == SUBMIT_STORED || v->cls == SUBMIT_DUPLICATE))
		recent_add(ctx->recent, digest);
	return v->cls;
}

/* Set the class, token and reason of v; returns cls. */
static enum submit_class
decide(struct submit_verdict *v, enum submit_class cls, const char *token,
    const char *fmt, ...)
{
	va_list	ap;
	size_t	i;

	v->cls = cls;
	v->token = token;
	va_start(ap, fmt);
	vsnprintf(v->reason, sizeof(v->reason), fmt, ap);
	va_end(ap);
	for (i = 0; v->reason[i] != '\0'; i++)	/* one line */
		if ((unsigned char)v->reason[i] < 0x20)
			v->reason[i] = ' ';
	return cls;
}

static void
line_add(struct lines *l, const char *s)
{
	if (l->n + 1 < SPOOL_HDR_MAX)
		l->v[l->n++] = s;
}

/* "key: value" into a buffer of l; value NULL: nothing. */
static void
line_kv(struct lines *l, const char *key, const char *val)
{
	if (val == NULL || l->nbuf == SUBMIT_LINES)
		return;
	snprintf(l->buf[l->nbuf], sizeof(l->buf[0]), "%s: %s", key, val);
	line_add(l, l->buf[l->nbuf++]);
}

/* The lines of the front itself. */
static void
lines_front(struct lines *l, const struct submit_in *in)
{
	size_t	i;

	for (i = 0; i < SUBMIT_EXTRA_MAX && in->extra[i] != NULL; i++)
		line_add(l, in->extra[i]);
}

/* Refused HTTPS bytes: their first keep_max bytes into bad/. */
static void
keep(const struct submit_ctx *ctx, const struct submit_in *in,
    struct submit_verdict *v)
{
	struct spool_meta	 sm;
	struct lines		 l;
	char			 reason[SUBMIT_REASON_MAX + 32];

	if (ctx->keep_max == 0)
		return;
	memset(&l, 0, sizeof(l));
	lines_front(&l, in);
	memset(&sm, 0, sizeof(sm));
	sm.source = in->transport == SUBMIT_MAIL ? "mail" : "https";
	sm.origin = in->peer;
	sm.received = (int64_t)time(NULL);
	memcpy(sm.extra, l.v, sizeof(sm.extra));
	snprintf(reason, sizeof(reason), "%s: %s", v->token, v->reason);
	v->kept = spool_keep(ctx->spool, in->buf, in->len, ctx->keep_max,
	    &sm, reason) == 0;
}

/*
 * Spool the submission: an accepted report whole, a mail refused by
 * policy (domain, dkim) cut to keep_max bytes with an "x-reject" line.
 * A spool failure turns the verdict into SUBMIT_TEMPFAIL.
 */
static void
put(const struct submit_ctx *ctx, const struct submit_in *in,
    const struct tlsrpt_report *rep, struct submit_verdict *v,
    const char *hdr_domain)
{
	struct spool_meta	 sm;
	struct lines		 l;
	char			 reject[SUBMIT_REASON_MAX + 32], size[48];
	char			 foreign[48];
	size_t			 len = in->len;
	int			 refused = v->cls != SUBMIT_STORED;

	memset(&l, 0, sizeof(l));
	lines_front(&l, in);
	if (in->transport == SUBMIT_MAIL) {
		line_kv(&l, "x-filename", rep->filename);
		line_kv(&l, "x-tls-report-domain", rep->hdr_domain);
		line_kv(&l, "x-tls-report-submitter", rep->hdr_submitter);
		line_kv(&l, "x-subject", rep->subject);
		line_kv(&l, "x-dkim", v->dkim[0] != '\0' ? v->dkim : NULL);
	} else
		line_kv(&l, "x-tls-report-domain", hdr_domain);
	/* flagged, not dropped: a DANE policy domain may be an MX host
	 * outside the list; the report is stored whole */
	if (v->foreign > 0 && !refused) {
		snprintf(foreign, sizeof(foreign), "%zu of %zu", v->foreign,
		    v->npolicies);
		line_kv(&l, "x-foreign-policies", foreign);
	}
	if (refused) {
		snprintf(reject, sizeof(reject), "%s: %s", v->token,
		    v->reason);
		line_kv(&l, "x-reject", reject);
		if (len > ctx->keep_max) {
			len = ctx->keep_max;
			snprintf(size, sizeof(size), "%zu", in->len);
			line_kv(&l, "x-size", size);
		}
	}
	memset(&sm, 0, sizeof(sm));
	sm.source = in->transport == SUBMIT_MAIL ? "mail" : "https";
	sm.origin = in->peer;
	sm.received = (int64_t)time(NULL);
	memcpy(sm.extra, l.v, sizeof(sm.extra));

	v->spooled = 1;
	v->spool = spool_put(ctx->spool, in->buf, len, &sm);
	v->spool_errno = v->spool == SPOOL_FAILED ? errno : 0;
	switch (v->spool) {
	case SPOOL_STORED:
		if (ctx->stored != NULL)
			ctx->stored(ctx->stored_arg);
		v->kept = refused;
		break;
	case SPOOL_DUPLICATE:
		if (!refused)
			decide(v, SUBMIT_DUPLICATE, "duplicate", "this report "
			    "was received already");
		v->kept = refused;
		break;
	case SPOOL_FAILED:
		decide(v, SUBMIT_TEMPFAIL, "spool", "the spool cannot take "
		    "reports now (%s); retry later",
		    strerror(v->spool_errno));
		break;
	}
}

/* A policy whose domain no fallback could find. */
static int
has_unknown_domain(const struct tlsrpt_report *rep)
{
	size_t	i;

	for (i = 0; i < rep->npolicies; i++)
		if (rep->policies[i].domain_src == TLSRPT_DS_UNKNOWN)
			return 1;
	return 0;
}

/* Listed: the domain or below one; an empty list lists everything. */
static int
listed(const struct conf_list *domains, const char *d)
{
	const char	*l;
	size_t		 j, dl = strlen(d), ll;

	if (domains->n == 0)
		return 1;
	for (j = 0; j < domains->n; j++) {
		l = domains->v[j];
		ll = strlen(l);
		if (dl == ll && strcmp(d, l) == 0)
			return 1;
		if (dl > ll && d[dl - ll - 1] == '.' &&
		    strcmp(d + dl - ll, l) == 0)
			return 1;
	}
	return 0;
}

static size_t
foreign_policies(const struct conf_list *domains,
    const struct tlsrpt_report *rep)
{
	size_t	i, n = 0;

	for (i = 0; i < rep->npolicies; i++)
		if (!listed(domains, rep->policies[i].domain))
			n++;
	return n;
}

int
submit_domain_allowed(const struct conf_list *domains,
    const struct tlsrpt_report *rep, char *why, size_t whysz)
{
	const char	*d;
	char		 esc[128];
	size_t		 i, j, n, shown = 0;
	int		 r;

	for (i = 0; i < rep->npolicies; i++)
		if (listed(domains, rep->policies[i].domain))
			return 1;
	n = (size_t)snprintf(why, whysz, "report is about");
	for (i = 0; i < rep->npolicies && n < whysz; i++) {
		d = rep->policies[i].domain;
		for (j = 0; j < i; j++)		/* each domain once */
			if (strcmp(rep->policies[j].domain, d) == 0)
				break;
		if (j < i)
			continue;
		if (shown == 8) {		/* bounded: a few, then "..." */
			r = snprintf(why + n, whysz - n, ", ...");
			if (r > 0)
				n += (size_t)r;
			break;
		}
		r = snprintf(why + n, whysz - n, "%s %s", shown > 0 ? "," : "",
		    d[0] ? log_escape(esc, sizeof(esc), d, strlen(d)) :
		    "(no policy domain)");
		if (r < 0)
			break;
		n += (size_t)r;
		shown++;
	}
	if (rep->npolicies == 0 && n < whysz) {
		r = snprintf(why + n, whysz - n, " no policy domain");
		if (r > 0)
			n += (size_t)r;
	}
	if (n < whysz)
		snprintf(why + n, whysz - n, ", not a domain this collector "
		    "accepts reports for");
	return 0;
}

/* --- recent digests: a lossy set of bodies stored lately ------------- */

struct submit_recent *
submit_recent_new(size_t n)
{
	struct submit_recent	*rc;

	if ((rc = calloc(1, sizeof(*rc))) == NULL)
		return NULL;
	rc->nb = n / RECENT_WAYS > 0 ? n / RECENT_WAYS : 1;
	rc->slot = calloc(rc->nb, sizeof(*rc->slot));
	rc->used = calloc(rc->nb, 1);
	if (rc->slot == NULL || rc->used == NULL ||
	    pthread_mutex_init(&rc->mtx, NULL) != 0) {
		free(rc->slot);
		free(rc->used);
		free(rc);
		return NULL;
	}
	return rc;
}

void
submit_recent_free(struct submit_recent *rc)
{
	if (rc == NULL)
		return;
	pthread_mutex_destroy(&rc->mtx);
	free(rc->slot);
	free(rc->used);
	free(rc);
}

static size_t
recent_bucket(const struct submit_recent *rc, const unsigned char *d)
{
	size_t	h;

	memcpy(&h, d, sizeof(h));
	return h % rc->nb;
}

static int
recent_has(struct submit_recent *rc, const unsigned char *d)
{
	size_t	b = recent_bucket(rc, d), i;
	int	found = 0;

	pthread_mutex_lock(&rc->mtx);
	for (i = 0; i < RECENT_WAYS && !found; i++)
		found = memcmp(rc->slot[b][i], d, 32) == 0;
	pthread_mutex_unlock(&rc->mtx);
	return found;
}

static void
recent_add(struct submit_recent *rc, const unsigned char *d)
{
	size_t	b = recent_bucket(rc, d);

	pthread_mutex_lock(&rc->mtx);
	memcpy(rc->slot[b][rc->used[b] % RECENT_WAYS], d, 32);
	rc->used[b]++;
	pthread_mutex_unlock(&rc->mtx);
}
