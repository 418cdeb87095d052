/*
 * live_check.c -- tlsrpt check of one domain: what is asked, in what
 * order, and the findings model (severity, what, RFC section, next step).
 *
 * Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
 *
 * Steps, all within one deadline (opts->timeout_ms):
 *  1. at once: _mta-sts.D TXT, _smtp._tls.D TXT, D MX, mta-sts.D A/AAAA;
 *  2. the policy fetch (a thread) while, at once, the A/AAAA of every MX
 *     host are asked, then every MX is probed on port 25 (a thread each);
 *  3. the findings, in a fixed order: _mta-sts, policy, _smtp._tls, MX
 *     coverage, then each MX's STARTTLS.
 * The policy is parsed by ingest's RFC 8461 parser (sts_policy_parse)
 * and MX hosts are matched by its §4.1 matcher (sts_mx_match).
 */

#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "live_int.h"
#include "tlsrpt_limits.h"

#define LC_DAY_SECONDS	86400

/* The fixed part of each finding. */
struct lc_kind {
	const char	*code;
	const char	*rfc;
	const char	*next;
};

static const struct lc_kind K_DNS = { "dns-failed", "RFC 1035 §4.1.1",
    "make the domain's name servers answer this question" };
static const struct lc_kind K_DNS_BOGUS = { "dnssec-bogus",
    "RFC 4035 §5.5", "fix the zone's DNSSEC signatures or its DS record" };
static const struct lc_kind K_STS_MISSING = { "sts-record-missing",
    "RFC 8461 §3.1", "publish _mta-sts.D TXT \"v=STSv1; id=20260101T00\" "
    "once the policy file is served" };
static const struct lc_kind K_STS_MULTI = { "sts-record-multiple",
    "RFC 8461 §3.1", "keep exactly one v=STSv1 TXT record at _mta-sts.D" };
static const struct lc_kind K_STS_INVALID = { "sts-record-invalid",
    "RFC 8461 §3.1", "write the record as \"v=STSv1; id=ID\", ID 1 to 32 "
    "letters and digits, changed with every policy change" };
static const struct lc_kind K_POL_UNREACH = { "policy-unreachable",
    "RFC 8461 §3.3", "serve https://mta-sts.D/.well-known/mta-sts.txt on "
    "port 443 at the addresses of mta-sts.D" };
static const struct lc_kind K_POL_TLS = { "policy-tls", "RFC 8461 §3.3",
    "serve mta-sts.D over TLS 1.2 or later" };
static const struct lc_kind K_POL_CERT = { "policy-certificate",
    "RFC 8461 §3.3", "serve mta-sts.D with a certificate from a trusted CA "
    "that names mta-sts.D" };
static const struct lc_kind K_POL_REDIR = { "policy-redirect",
    "RFC 8461 §3.3", "serve the policy itself at this URL with status 200: "
    "senders do not follow redirects" };
static const struct lc_kind K_POL_STATUS = { "policy-status",
    "RFC 8461 §3.3", "serve the policy at this URL with status 200" };
static const struct lc_kind K_POL_CTYPE = { "policy-media-type",
    "RFC 8461 §3.3", "serve mta-sts.txt as Content-Type: text/plain" };
static const struct lc_kind K_POL_BIG = { "policy-too-large",
    "RFC 8461 §3.3", "shorten the policy file to at most 64 KiB" };
static const struct lc_kind K_POL_HTTP = { "policy-http", "RFC 8461 §3.3",
    "make the server send a complete HTTP/1.1 answer" };
static const struct lc_kind K_POL_INVALID = { "policy-invalid",
    "RFC 8461 §3.2", "fix the policy file: version: STSv1, mode, max_age "
    "and mx lines, one per line" };
static const struct lc_kind K_RPT_MISSING = { "tlsrpt-record-missing",
    "RFC 8460 §3", "publish _smtp._tls.D TXT \"v=TLSRPTv1; "
    "rua=mailto:...\"" };
static const struct lc_kind K_RPT_MULTI = { "tlsrpt-record-multiple",
    "RFC 8460 §3", "keep exactly one v=TLSRPTv1 TXT record at _smtp._tls.D" };
static const struct lc_kind K_RPT_INVALID = { "tlsrpt-record-invalid",
    "RFC 8460 §3", "write the record as \"v=TLSRPTv1; rua=URI[,URI]\", "
    "v=TLSRPTv1 first" };
static const struct lc_kind K_RPT_URI = { "tlsrpt-rua-invalid",
    "RFC 8460 §3", "percent-encode commas (%2C) and '!' (%21) inside a "
    "URI; each URI mailto: or https:, separated by commas" };
static const struct lc_kind K_RPT_ABSENT = { "tlsrpt-rua-absent",
    "RFC 8460 §3", "add this collector's URI to rua= of _smtp._tls.D" };
static const struct lc_kind K_RPT_NOTFIRST = { "tlsrpt-rua-not-first",
    "RFC 8460 §3", "put this collector's URI first in rua=: some senders "
    "(Microsoft) report to the first URI only" };
static const struct lc_kind K_MX_MISSING = { "mx-missing", "RFC 5321 §5.1",
    "publish the domain's MX records" };
static const struct lc_kind K_MX_UNCOVERED = { "mx-not-covered",
    "RFC 8461 §4.1", "add an mx: line matching this host to the policy, "
    "then change the id of _mta-sts.D" };
static const struct lc_kind K_MX_STALE = { "mx-pattern-stale",
    "RFC 8461 §4.1", "remove the mx: line from the policy or publish the "
    "MX it was for, then change the id of _mta-sts.D" };
static const struct lc_kind K_MX_UNREACH = { "mx-unreachable",
    "RFC 5321 §5.1", "make the MX answer SMTP on port 25" };
static const struct lc_kind K_MX_NOTLS = { "mx-no-starttls",
    "RFC 3207 §4", "enable STARTTLS on this MX (e.g. Postfix "
    "smtpd_tls_security_level = may with a certificate)" };
static const struct lc_kind K_MX_TLSFAIL = { "mx-tls-failed",
    "RFC 3207 §4", "fix the MX's TLS setup: the handshake fails" };
static const struct lc_kind K_MX_TLSVER = { "mx-tls-version",
    "RFC 8996 §1", "enable TLS 1.2 or later on this MX" };
static const struct lc_kind K_MX_UNTRUSTED = { "mx-certificate-untrusted",
    "RFC 8461 §4.2", "install a certificate chain to a trusted CA, "
    "intermediates included, on this MX" };
static const struct lc_kind K_MX_NAME = { "mx-certificate-name",
    "RFC 6125 §6.4", "install a certificate that names this MX host" };
static const struct lc_kind K_MX_EXPIRED = { "mx-certificate-expired",
    "RFC 8461 §4.2", "renew the certificate of this MX now" };
static const struct lc_kind K_MX_EXPIRING = { "mx-certificate-expiring",
    "RFC 8461 §4.2", "renew the certificate of this MX" };
static const struct lc_kind K_MX_DANE = { "mx-dane-mismatch",
    "RFC 7672 §3", "publish TLSA records that match this MX's certificate "
    "(publish the new TLSA before a certificate or key change)" };
static const struct lc_kind K_MX_TLSA_INSECURE = { "mx-tlsa-insecure",
    "RFC 7672 §2.2", "sign the zone of these TLSA records with DNSSEC, or "
    "remove them" };
static const struct lc_kind K_MX_DANE_EE = { "mx-dane-ee-waived",
    "RFC 7672 §3.1.1", "nothing for DANE senders; senders that apply "
    "MTA-STS without DANE still check the name and expiry: fix the "
    "certificate when _mta-sts.D has a record" };
static const struct lc_kind K_MX_CERT = { "mx-certificate-invalid",
    "RFC 8461 §4.2", "install a valid certificate on this MX" };

/* Step-1 question indexes. */
enum { Q_STS, Q_RPT, Q_MX, Q_POL4, Q_POL6, Q_N };

struct lc_fetch {
	pthread_t		 th;
	int			 started;
	const char		*host;
	struct live_addr	 addrs[LIM_LIVE_ADDRS_MAX];
	size_t			 naddrs;
	const char		*ca_file;
	int64_t			 deadline;
	struct lh_result	*res;
};

struct lc_probe {
	pthread_t		 th;
	int			 started;
	const char		*host;
	struct live_addr	 addrs[LIM_LIVE_ADDRS_MAX];
	size_t			 naddrs;
	const char		*ca_file;
	int64_t			 deadline;
	const struct ldns_q	*tlsa;
	struct ls_result	 res;
};

static int	lc_add(struct live_result *, enum live_sev,
		    const struct lc_kind *, const char *, ...)
		    __attribute__((format(printf, 4, 5)));
static int	lc_dns(struct live_result *, const struct ldns_q *);
static int	lc_sts_record(struct live_result *, const struct ldns_q *,
		    int *);
static int	lc_policy(struct live_result *, const char *,
		    const struct lh_result *);
static int	lc_tlsrpt(struct live_result *, const struct ldns_q *,
		    const char *);
static int	lc_mx(struct live_result *, const struct ldns_q *);
static int	lc_coverage(struct live_result *);
static int	lc_smtp(struct live_result *, struct live_mx *,
		    const struct ls_result *);
static int	lc_cert(struct live_result *, const struct live_mx *, int,
		    enum live_sev, const struct lc_kind *, const char *);
static void	*lc_fetch_main(void *);
static void	*lc_probe_main(void *);
static int	lc_domain_ok(const char *);
static char	*lc_printable(struct arena *, const char *);
static char	*lc_named(struct live_result *, const char *);

int
live_check(const struct live_opts *o, const char *domain,
    struct live_result *r, char *err, size_t errsz)
{
	struct ldns_q	 q[Q_N], *mq = NULL, *tq;
	struct ldns	*dns = NULL;
	struct lc_fetch	 fetch;
	struct lc_probe	*probes = NULL;
	char		 name[Q_N][300], *d;
	size_t		 i, n, len;
	int64_t		 deadline;
	int		 nsts = 0, ret = -1;

	memset(r, 0, sizeof(*r));
	memset(&fetch, 0, sizeof(fetch));
	memset(q, 0, sizeof(q));
	deadline = live_now_ms() + o->timeout_ms;
	len = strlen(domain);
	while (len > 0 && domain[len - 1] == '.')
		len--;
	if ((d = arena_strndup(&r->a, domain, len)) == NULL)
		goto oom;
	for (i = 0; i < len; i++)
		d[i] = (char)tolower((unsigned char)d[i]);
	r->domain = d;
	if (!lc_domain_ok(d)) {
		snprintf(err, errsz, "\"%s\" is not a domain name", domain);
		goto out;
	}
	if ((dns = ldns_new(o, err, errsz)) == NULL)
		goto out;

	/* step 1 */
	snprintf(name[Q_STS], sizeof(name[0]), "_mta-sts.%s", d);
	snprintf(name[Q_RPT], sizeof(name[0]), "_smtp._tls.%s", d);
	snprintf(name[Q_MX], sizeof(name[0]), "%s", d);
	snprintf(name[Q_POL4], sizeof(name[0]), "mta-sts.%s", d);
	snprintf(name[Q_POL6], sizeof(name[0]), "mta-sts.%s", d);
	q[Q_STS].type = q[Q_RPT].type = LDNS_T_TXT;
	q[Q_MX].type = LDNS_T_MX;
	q[Q_POL4].type = LDNS_T_A;
	q[Q_POL6].type = LDNS_T_AAAA;
	for (i = 0; i < Q_N; i++)
		q[i].name = name[i];
	if (ldns_run(dns, q, Q_N, deadline, &r->a, err, errsz) == -1)
		goto out;

	if (lc_sts_record(r, &q[Q_STS], &nsts) == -1)
		goto oom;
	/* step 2: the policy fetch, when there is an STS record at all */
	if (nsts > 0) {
		if ((fetch.res = calloc(1, sizeof(*fetch.res))) == NULL)
			goto oom;
		fetch.host = name[Q_POL4];
		fetch.naddrs = live_addrs(&q[Q_POL4], &q[Q_POL6], 443,
		    fetch.addrs, LIM_LIVE_ADDRS_MAX);
		fetch.ca_file = o->ca_file;
		fetch.deadline = deadline;
		if (pthread_create(&fetch.th, NULL, lc_fetch_main,
		    &fetch) == 0)
			fetch.started = 1;
		else
			lc_fetch_main(&fetch);
	}
	if (lc_mx(r, &q[Q_MX]) == -1)
		goto oom;
	if (o->smtp && r->nmx > 0) {
		n = r->nmx;
		/* per MX: A, AAAA and TLSA _25._tcp.MX (RFC 7672 §2.2) */
		if ((mq = calloc(3 * n, sizeof(*mq))) == NULL ||
		    (probes = calloc(n, sizeof(*probes))) == NULL)
			goto oom;
		for (i = 0; i < n; i++) {
			mq[3 * i].name = mq[3 * i + 1].name = r->mx[i].host;
			mq[3 * i].type = LDNS_T_A;
			mq[3 * i + 1].type = LDNS_T_AAAA;
			len = strlen(r->mx[i].host);
			if ((d = arena_alloc(&r->a, len + 10)) == NULL)
				goto oom;
			snprintf(d, len + 10, "_25._tcp.%s", r->mx[i].host);
			mq[3 * i + 2].name = d;
			mq[3 * i + 2].type = LDNS_T_TLSA;
		}
		if (ldns_run(dns, mq, 3 * n, deadline, &r->a, err, errsz) ==
		    -1)
			goto out;
		for (i = 0; i < n; i++) {
			if (r->mx[i].host[0] == '\0')
				continue;	/* null MX */
			probes[i].host = r->mx[i].host;
			probes[i].naddrs = live_addrs(&mq[3 * i],
			    &mq[3 * i + 1], o->smtp_port, probes[i].addrs,
			    LIM_LIVE_ADDRS_MAX);
			/* DANE applies to validated TLSA records only */
			tq = &mq[3 * i + 2];
			if (tq->status == LDNS_OK && tq->secure &&
			    ldns_validating(dns))
				probes[i].tlsa = tq;
			probes[i].ca_file = o->ca_file;
			probes[i].deadline = deadline;
			if (pthread_create(&probes[i].th, NULL, lc_probe_main,
			    &probes[i]) == 0)
				probes[i].started = 1;
			else
				lc_probe_main(&probes[i]);
		}
	}
	if (fetch.started) {
		(void)pthread_join(fetch.th, NULL);
		fetch.started = 0;
	}
	for (i = 0; probes != NULL && i < r->nmx; i++)
		if (probes[i].started) {
			(void)pthread_join(probes[i].th, NULL);
			probes[i].started = 0;
		}

	/* step 3: the findings that depend on step 2 */
	if (fetch.res != NULL && lc_policy(r, name[Q_POL4], fetch.res) == -1)
		goto oom;
	if (lc_tlsrpt(r, &q[Q_RPT], o->rua) == -1 || lc_coverage(r) == -1)
		goto oom;
	for (i = 0; probes != NULL && i < r->nmx; i++) {
		if (probes[i].host == NULL)
			continue;
		tq = &mq[3 * i + 2];
		if (lc_dns(r, &mq[3 * i]) == -1 ||
		    lc_dns(r, &mq[3 * i + 1]) == -1 || lc_dns(r, tq) == -1)
			goto oom;
		if (tq->status == LDNS_OK && !tq->secure &&
		    ldns_validating(dns) && lc_add(r, LIVE_WARN,
		    &K_MX_TLSA_INSECURE, "%s TLSA: the records are not "
		    "DNSSEC-signed: senders ignore them", tq->name) == -1)
			goto oom;
		if (lc_smtp(r, &r->mx[i], &probes[i].res) == -1)
			goto oom;
	}
	ret = 0;
	goto out;
oom:
	snprintf(err, errsz, "out of memory");
out:
	if (fetch.started)
		(void)pthread_join(fetch.th, NULL);
	for (i = 0; probes != NULL && i < r->nmx; i++)
		if (probes[i].started)
			(void)pthread_join(probes[i].th, NULL);
	free(fetch.res);
	free(probes);
	free(mq);
	ldns_free(dns);
	return ret;
}

void
live_result_free(struct live_result *r)
{
	if (r == NULL)
		return;
	free(r->f);
	arena_free(&r->a);
	memset(r, 0, sizeof(*r));
}

enum live_sev
live_worst(const struct live_result *r)
{
	enum live_sev	w = LIVE_OK;
	size_t		i;

	for (i = 0; i < r->nf; i++)
		if (r->f[i].sev > w)
			w = r->f[i].sev;
	return w;
}

const char *
live_sev_name(enum live_sev s)
{
	switch (s) {
	case LIVE_CRIT:
		return "critical";
	case LIVE_WARN:
		return "warning";
	default:
		return "ok";
	}
}

static void *
lc_fetch_main(void *arg)
{
	struct lc_fetch	*f = arg;

	live_https_fetch(f->host, f->addrs, f->naddrs, f->ca_file,
	    f->deadline, f->res);
	return NULL;
}

static void *
lc_probe_main(void *arg)
{
	struct lc_probe	*p = arg;

	live_smtp_probe(p->host, p->addrs, p->naddrs, p->ca_file, p->tlsa,
	    p->deadline, &p->res);
	return NULL;
}

int
live_finding_add(struct live_result *r, enum live_sev sev, const char *code,
    const char *rfc, const char *next, const char *fmt, ...)
{
	struct lc_kind	 k = { code, rfc, next };
	va_list		 ap;
	char		 buf[1024];

	va_start(ap, fmt);
	(void)vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	return lc_add(r, sev, &k, "%s", buf);
}

/* Append a finding; -1 when out of memory. */
static int
lc_add(struct live_result *r, enum live_sev sev, const struct lc_kind *k,
    const char *fmt, ...)
{
	struct live_finding	*nf;
	va_list			 ap;
	char			 buf[1024];

	va_start(ap, fmt);
	(void)vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (r->nf == r->fcap) {
		if ((nf = reallocarray(r->f, r->fcap ? r->fcap * 2 : 16,
		    sizeof(*nf))) == NULL)
			return -1;
		r->f = nf;
		r->fcap = r->fcap ? r->fcap * 2 : 16;
	}
	nf = &r->f[r->nf];
	nf->sev = sev;
	nf->code = k->code;
	nf->rfc = k->rfc;
	if ((nf->what = lc_printable(&r->a, buf)) == NULL ||
	    (nf->next = lc_named(r, k->next)) == NULL)
		return -1;
	r->nf++;
	return 0;
}

/* A finding for a failed lookup (NXDOMAIN and NODATA are not). */
static int
lc_dns(struct live_result *r, const struct ldns_q *q)
{
	static const char *const types[] = { [LDNS_T_A] = "A",
	    [LDNS_T_MX] = "MX", [LDNS_T_TXT] = "TXT", [LDNS_T_AAAA] = "AAAA",
	    [LDNS_T_TLSA] = "TLSA" };
	const char	*t = q->type >= 0 && q->type <= LDNS_T_TLSA &&
			    types[q->type] != NULL ? types[q->type] : "?";

	switch (q->status) {
	case LDNS_BOGUS:
		return lc_add(r, LIVE_CRIT, &K_DNS_BOGUS, "%s %s: DNSSEC "
		    "validation failed: %s", q->name, t, q->why);
	case LDNS_FAIL:
		return lc_add(r, LIVE_WARN, &K_DNS, "%s %s: lookup failed: %s",
		    q->name, t, q->why != NULL ? q->why : "error");
	case LDNS_TIMEOUT:
	case LDNS_PENDING:
		return lc_add(r, LIVE_WARN, &K_DNS, "%s %s: no answer before "
		    "the deadline", q->name, t);
	default:
		return 0;
	}
}

/* 1 when s is 1 to 32 letters and digits (RFC 8461 §3.1 sts-id). */
static int
lc_id_ok(const char *s, size_t n)
{
	size_t	i;

	if (n < 1 || n > 32)
		return 0;
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]))
			return 0;
	return 1;
}

/* Records starting "v=STSv1"; the one record's fields (RFC 8461 §3.1). */
static int
lc_sts_record(struct live_result *r, const struct ldns_q *q, int *nsts)
{
	const char	*rec = NULL, *p, *e, *f, *eq;
	char		*txt;
	size_t		 i, n = 0, fl;
	int		 bad = 0, nul, recnul = 0;

	if (lc_dns(r, q) == -1)
		return -1;
	if (q->status != LDNS_OK && q->status != LDNS_NODATA) {
		*nsts = 0;
		return 0;
	}
	for (i = 0; i < q->nrr; i++) {
		if ((txt = ldns_txt(&r->a, q->rr[i], q->rrlen[i], &nul)) ==
		    NULL)
			continue;
		if (strncmp(txt, "v=STSv1", 7) == 0 && (txt[7] == '\0' ||
		    txt[7] == ';' || txt[7] == ' ' || txt[7] == '\t')) {
			n++;
			rec = txt;
			recnul = nul;
		}
	}
	*nsts = (int)n;
	if (n == 0)
		return lc_add(r, LIVE_WARN, &K_STS_MISSING, "_mta-sts.%s has "
		    "no TXT record starting v=STSv1: senders apply no MTA-STS "
		    "policy", r->domain);
	if (n > 1)
		return lc_add(r, LIVE_WARN, &K_STS_MULTI, "_mta-sts.%s has %zu "
		    "TXT records starting v=STSv1: senders treat that as no "
		    "policy", r->domain, n);
	if (recnul)
		return lc_add(r, LIVE_WARN, &K_STS_INVALID, "_mta-sts.%s: "
		    "the record holds a NUL byte (after \"%s\"): no field "
		    "may", r->domain, rec);
	/*
	 * v=STSv1 1*(*WSP ";" *WSP field) [";"]: what precedes the first
	 * ';' is blanks; each later piece is key=value, only the last may
	 * be empty.
	 */
	p = rec + 7;
	if (*(p + strspn(p, " \t")) != ';')
		bad = 1;
	else
		p = strchr(p, ';') + 1;
	while (!bad) {
		p += strspn(p, " \t");
		e = p + strcspn(p, ";");
		for (fl = (size_t)(e - p); fl > 0 && (p[fl - 1] == ' ' ||
		    p[fl - 1] == '\t'); fl--)
			;
		f = p;
		if (fl == 0) {
			bad = *e != '\0';
			break;
		}
		if ((eq = memchr(f, '=', fl)) == NULL || eq == f) {
			bad = 1;
			break;
		}
		if (eq - f == 2 && strncmp(f, "id", 2) == 0) {
			if (r->sts_id != NULL || !lc_id_ok(eq + 1, fl - 3))
				return lc_add(r, LIVE_WARN, &K_STS_INVALID,
				    "_mta-sts.%s: id \"%.*s\" is not 1 to 32 "
				    "letters and digits%s", r->domain,
				    (int)(fl - 3), eq + 1, r->sts_id != NULL ?
				    " (a second id)" : "");
			if ((r->sts_id = arena_strndup(&r->a, eq + 1,
			    fl - 3)) == NULL)
				return -1;
		}
		if (*e == '\0')
			break;
		p = e + 1;
	}
	if (bad) {
		r->sts_id = NULL;
		return lc_add(r, LIVE_WARN, &K_STS_INVALID, "_mta-sts.%s: "
		    "\"%s\" is not of the form v=STSv1; id=ID", r->domain,
		    rec);
	}
	if (r->sts_id == NULL)
		return lc_add(r, LIVE_WARN, &K_STS_INVALID, "_mta-sts.%s: "
		    "the record has no id= field", r->domain);
	return 0;
}

static int
lc_policy(struct live_result *r, const char *host, const struct lh_result *h)
{
	static const struct {
		unsigned	 bit;
		const char	*what;
	} probs[] = {
		{ STS_P_NO_VERSION, "no \"version: STSv1\"" },
		{ STS_P_NO_MODE, "no mode" },
		{ STS_P_BAD_MODE, "a mode other than enforce, testing, none" },
		{ STS_P_NO_MAX_AGE, "no max_age" },
		{ STS_P_BAD_MAX_AGE, "max_age not 0 to 31557600 seconds" },
		{ STS_P_NO_MX, "no mx line" },
		{ STS_P_BAD_LINE, "a line that is not \"key: value\"" },
		{ STS_P_DUP_FIELD, "a field given twice" },
	};
	const struct lc_kind	*k;
	const char		**lines;
	char			*body, *p, list[512];
	size_t			 n, i, o;
	enum live_sev		 sev = LIVE_WARN;

	switch (h->status) {
	case LH_OK:
		break;
	case LH_CONNECT:
	case LH_TIMEOUT:
		k = &K_POL_UNREACH;
		goto fail;
	case LH_TLS:
		k = &K_POL_TLS;
		goto fail;
	case LH_CERT:
		k = &K_POL_CERT;
		sev = LIVE_CRIT;	/* sts-webpki-invalid (DESIGN.md) */
		goto fail;
	case LH_REDIRECT:
		k = &K_POL_REDIR;
		goto fail;
	case LH_STATUS:
		k = &K_POL_STATUS;
		goto fail;
	case LH_CTYPE:
		k = &K_POL_CTYPE;
		goto fail;
	case LH_TOOBIG:
		k = &K_POL_BIG;
		goto fail;
	default:
		k = &K_POL_HTTP;
		goto fail;
	}
	/* one line per element of lines: the parser's input shape */
	if ((body = arena_strndup(&r->a, h->body, h->len)) == NULL)
		return -1;
	for (n = 1, p = body; *p != '\0'; p++)
		if (*p == '\n')
			n++;
	if ((lines = arena_alloc(&r->a, n * sizeof(*lines))) == NULL)
		return -1;
	for (n = 0, p = body; p != NULL; n++) {
		lines[n] = p;
		if ((p = strchr(p, '\n')) != NULL)
			*p++ = '\0';
	}
	if (n > 0 && lines[n - 1][0] == '\0')
		n--;
	if (sts_policy_parse(&r->a, lines, n, &r->policy) == -1)
		return -1;
	if (r->policy.problems == 0) {
		r->policy_ok = 1;
		return 0;
	}
	for (o = 0, list[0] = '\0', i = 0; i < sizeof(probs) /
	    sizeof(probs[0]); i++)
		if (r->policy.problems & probs[i].bit)
			o += (size_t)snprintf(list + o, o < sizeof(list) ?
			    sizeof(list) - o : 0, "%s%s", o ? ", " : "",
			    probs[i].what);
	/* a policy senders can still apply (first wins on a duplicate,
	 * extension lines ignored) counts for the MX checks */
	r->policy_ok = (r->policy.problems & ~(STS_P_BAD_LINE |
	    STS_P_DUP_FIELD)) == 0;
	return lc_add(r, LIVE_WARN, &K_POL_INVALID, "https://%s/.well-known/"
	    "mta-sts.txt: %s", host, list);
fail:
	return lc_add(r, sev, k, "%s", h->detail);
}

/* 1 when u is a mailto: or https: URI as RFC 8460 §3 wants it. */
static int
lc_rua_ok(const char *u, size_t n)
{
	const char	*at;

	if (memchr(u, '!', n) != NULL)
		return 0;
	if (n > 7 && strncasecmp(u, "mailto:", 7) == 0)
		return (at = memchr(u + 7, '@', n - 7)) != NULL &&
		    at > u + 7 && at < u + n - 1;
	if (n > 8 && strncasecmp(u, "https://", 8) == 0)
		return u[8] != '/' && u[8] != '\0';
	return 0;
}

static int
lc_tlsrpt(struct live_result *r, const struct ldns_q *q, const char *ours)
{
	const char	*rec = NULL, *p, *e, *u, *ue, *other = NULL;
	char		*txt;
	size_t		 i, n = 0, fl, nrua = 0, cap;
	ssize_t		 at = -1;
	int		 seen_rua = 0, nul, recnul = 0;

	if (lc_dns(r, q) == -1)
		return -1;
	if (q->status != LDNS_OK && q->status != LDNS_NODATA)
		return 0;
	for (i = 0; i < q->nrr; i++) {
		if ((txt = ldns_txt(&r->a, q->rr[i], q->rrlen[i], &nul)) ==
		    NULL)
			continue;
		if (strncmp(txt, "v=TLSRPTv1", 10) == 0 && (txt[10] == '\0' ||
		    txt[10] == ';' || txt[10] == ' ' || txt[10] == '\t')) {
			n++;
			rec = txt;
			recnul = nul;
		} else if (strstr(txt, "v=TLSRPTv1") != NULL)
			other = txt;
	}
	if (n == 0 && other != NULL)
		return lc_add(r, LIVE_WARN, &K_RPT_INVALID, "_smtp._tls.%s: "
		    "v=TLSRPTv1 is not first in \"%s\": senders ignore the "
		    "record", r->domain, other);
	if (n == 0)
		return lc_add(r, LIVE_WARN, &K_RPT_MISSING, "_smtp._tls.%s has "
		    "no TXT record starting v=TLSRPTv1: no sender reports to "
		    "this domain", r->domain);
	if (n > 1)
		return lc_add(r, LIVE_WARN, &K_RPT_MULTI, "_smtp._tls.%s has "
		    "%zu TXT records starting v=TLSRPTv1: senders treat that "
		    "as none", r->domain, n);
	if (recnul)
		return lc_add(r, LIVE_WARN, &K_RPT_INVALID, "_smtp._tls.%s: "
		    "the record holds a NUL byte (after \"%s\"): no URI may",
		    r->domain, rec);
	cap = strlen(rec) / 2 + 1;
	if ((r->rua = arena_alloc(&r->a, cap * sizeof(*r->rua))) == NULL)
		return -1;
	for (p = rec + 10; *p != '\0'; p = *e == ';' ? e + 1 : e) {
		p += strspn(p, " \t;");
		if (*p == '\0')
			break;
		e = p + strcspn(p, ";");
		for (fl = (size_t)(e - p); fl > 0 && (p[fl - 1] == ' ' ||
		    p[fl - 1] == '\t'); fl--)
			;
		if (fl < 4 || strncmp(p, "rua=", 4) != 0)
			continue;	/* an extension field */
		seen_rua = 1;
		for (u = p + 4; u < p + fl; u = ue + 1) {
			u += strspn(u, " \t");
			ue = memchr(u, ',', (size_t)(p + fl - u));
			if (ue == NULL)
				ue = p + fl;
			for (i = (size_t)(ue - u); i > 0 && (u[i - 1] == ' ' ||
			    u[i - 1] == '\t'); i--)
				;
			if (!lc_rua_ok(u, i)) {
				if (lc_add(r, LIVE_WARN, &K_RPT_URI,
				    "_smtp._tls.%s: rua entry \"%.*s\" is not "
				    "a mailto: or https: URI (a comma or '!' "
				    "not percent-encoded splits or breaks a "
				    "URI)", r->domain, (int)i, u) == -1)
					return -1;
			} else if (nrua < cap) {
				if ((r->rua[nrua] = arena_strndup(&r->a, u,
				    i)) == NULL)
					return -1;
				if (ours != NULL && at == -1 &&
				    strlen(ours) == i &&
				    strncasecmp(ours, u, i) == 0)
					at = (ssize_t)nrua;
				nrua++;
			}
			if (ue == p + fl)
				break;
		}
	}
	r->nrua = nrua;
	if (!seen_rua)
		return lc_add(r, LIVE_WARN, &K_RPT_INVALID, "_smtp._tls.%s: "
		    "the record has no rua= field", r->domain);
	if (ours != NULL && at == -1)
		return lc_add(r, LIVE_WARN, &K_RPT_ABSENT, "_smtp._tls.%s: %s "
		    "is not among the rua URIs: its reports do not reach this "
		    "collector", r->domain, ours);
	if (ours != NULL && at > 0)
		return lc_add(r, LIVE_WARN, &K_RPT_NOTFIRST, "_smtp._tls.%s: "
		    "%s is rua URI %zd of %zu, not the first", r->domain, ours,
		    at + 1, nrua);
	return 0;
}

static int
lc_mx_cmp(const void *a, const void *b)
{
	const struct live_mx	*x = a, *y = b;

	if (x->pref != y->pref)
		return x->pref < y->pref ? -1 : 1;
	return strcmp(x->host, y->host);
}

static int
lc_mx(struct live_result *r, const struct ldns_q *q)
{
	char	*host;
	size_t	 i, j;
	int	 pref;

	if (lc_dns(r, q) == -1)
		return -1;
	if (q->status == LDNS_NODATA)
		return lc_add(r, LIVE_WARN, &K_MX_MISSING, "%s has no MX "
		    "record", r->domain);
	if (q->status != LDNS_OK)
		return 0;
	if ((r->mx = arena_alloc(&r->a, (q->nrr + 1) * sizeof(*r->mx))) ==
	    NULL)
		return -1;
	for (i = 0; i < q->nrr && r->nmx < LIM_LIVE_MX_MAX; i++) {
		if (ldns_mx(&r->a, q->rr[i], q->rrlen[i], &pref, &host) == -1)
			continue;
		for (j = 0; j < r->nmx; j++)
			if (strcmp(r->mx[j].host, host) == 0)
				break;
		if (j < r->nmx)
			continue;
		memset(&r->mx[r->nmx], 0, sizeof(r->mx[0]));
		r->mx[r->nmx].host = host;
		r->mx[r->nmx].pref = pref;
		r->mx[r->nmx].cert_days = INT64_MIN;
		r->nmx++;
	}
	qsort(r->mx, r->nmx, sizeof(*r->mx), lc_mx_cmp);
	return 0;
}

/* RFC 8461 §4.1 both ways: every MX covered, every pattern used. */
static int
lc_coverage(struct live_result *r)
{
	const struct sts_policy	*p = &r->policy;
	size_t			 i, j;
	int			 used;

	/* no MX known (a failed lookup, none published): nothing to
	 * hold the patterns against, said by their own findings */
	if (!r->policy_ok || r->nmx == 0 || (p->mode != STS_MODE_ENFORCE &&
	    p->mode != STS_MODE_TESTING))
		return 0;
	for (i = 0; i < r->nmx; i++) {
		if (r->mx[i].host[0] == '\0')
			continue;
		for (j = 0; j < p->nmx; j++)
			if (sts_mx_match(p->mx[j], r->mx[i].host))
				r->mx[i].covered = 1;
		if (r->mx[i].covered)
			continue;
		if (lc_add(r, p->mode == STS_MODE_ENFORCE ? LIVE_CRIT :
		    LIVE_WARN, &K_MX_UNCOVERED, "MX %s matches no mx line of "
		    "the policy: %s", r->mx[i].host, p->mode ==
		    STS_MODE_ENFORCE ? "senders refuse to deliver to it" :
		    "under enforce senders would refuse to deliver to it") ==
		    -1)
			return -1;
	}
	for (j = 0; j < p->nmx; j++) {
		for (used = 0, i = 0; i < r->nmx && !used; i++)
			used = sts_mx_match(p->mx[j], r->mx[i].host);
		if (!used && lc_add(r, LIVE_WARN, &K_MX_STALE, "policy line "
		    "\"mx: %s\" matches no MX of %s", p->mx[j], r->domain) ==
		    -1)
			return -1;
	}
	return 0;
}

/* A finding about mx's certificate (what), of sev and kind k; waived
 * (ee: a DANE-EE record matches), an "ok" finding that says so. */
static int
lc_cert(struct live_result *r, const struct live_mx *mx, int ee,
    enum live_sev sev, const struct lc_kind *k, const char *what)
{
	if (ee)
		return lc_add(r, LIVE_OK, &K_MX_DANE_EE, "MX %s: %s (%s); "
		    "waived: a DANE-EE TLSA record of _25._tcp.%s matches",
		    mx->host, what, k->code, mx->host);
	return lc_add(r, sev, k, "MX %s: %s", mx->host, what);
}

static int
lc_smtp(struct live_result *r, struct live_mx *mx, const struct ls_result *s)
{
	const struct ltls_info	*t = &s->tls;
	int64_t			 now, days;
	char			 what[320];
	int			 rc = 0, ee;

	mx->probed = 1;
	switch (s->status) {
	case LS_OK:
		break;
	case LS_NO_STARTTLS:
		return lc_add(r, LIVE_CRIT, &K_MX_NOTLS, "MX %s does not offer "
		    "STARTTLS: mail to it travels in clear text", mx->host);
	case LS_STARTTLS_REFUSED:
	case LS_TLS:
		return lc_add(r, LIVE_CRIT, &K_MX_TLSFAIL, "MX %s: %s",
		    mx->host, s->detail);
	default:
		return lc_add(r, LIVE_WARN, &K_MX_UNREACH, "MX %s: %s",
		    mx->host, s->detail);
	}
	mx->starttls = 1;
	mx->tls_version = t->version;
	mx->dane = (int)t->dane;
	if (t->dane == LTLS_DANE_MISMATCH)
		rc |= lc_add(r, LIVE_CRIT, &K_MX_DANE, "MX %s: the certificate "
		    "chain matches no TLSA record of _25._tcp.%s: %s",
		    mx->host, mx->host, t->dane_why);
	mx->cert_ok = t->verdict == LTLS_VERIFIED;
	/* RFC 7672 §3.1.1: a matching DANE-EE record is the trust; the
	 * chain, names and dates of the certificate are not checked */
	ee = t->dane == LTLS_DANE_MATCH && t->dane_ee;
	mx->dane_ee = ee;
	if (t->version < 12)
		rc |= lc_add(r, LIVE_WARN, &K_MX_TLSVER, "MX %s negotiated TLS "
		    "1.%d", mx->host, t->version > 10 ? t->version - 10 : 0);
	/* each problem its finding: renewing an expired self-signed
	 * certificate leaves it untrusted */
	switch (t->verdict) {
	case LTLS_VERIFIED:
		break;
	case LTLS_EXPIRED:
	case LTLS_UNTRUSTED:
	case LTLS_NAME:
		if (t->problems & LTLS_P_UNTRUSTED)
			rc |= lc_cert(r, mx, ee, LIVE_CRIT, &K_MX_UNTRUSTED,
			    t->why);
		if (t->problems & LTLS_P_NAME) {
			(void)snprintf(what, sizeof(what), "the certificate "
			    "does not name %s", mx->host);
			rc |= lc_cert(r, mx, ee, LIVE_CRIT, &K_MX_NAME, what);
		}
		if (t->problems & LTLS_P_EXPIRED)
			rc |= lc_cert(r, mx, ee, LIVE_CRIT, &K_MX_EXPIRED,
			    "the certificate has expired");
		break;
	default:
		rc |= lc_add(r, LIVE_CRIT, &K_MX_CERT, "MX %s: %s", mx->host,
		    t->why);
		break;
	}
	if (t->not_after != INT64_MIN && t->verdict != LTLS_EXPIRED) {
		now = (int64_t)time(NULL);
		days = t->not_after > now ? (t->not_after - now) /
		    LC_DAY_SECONDS : -1;
		mx->cert_days = days;
		(void)snprintf(what, sizeof(what), "the certificate expires "
		    "in %lld day%s", (long long)days, days == 1 ? "" : "s");
		if (days < 0)
			rc |= lc_cert(r, mx, ee, LIVE_CRIT, &K_MX_EXPIRED,
			    "the certificate has expired");
		else if (days < LIM_LIVE_EXPIRY_CRIT_DAYS)
			rc |= lc_cert(r, mx, ee, LIVE_CRIT, &K_MX_EXPIRING,
			    what);
		else if (days < LIM_LIVE_EXPIRY_WARN_DAYS)
			rc |= lc_cert(r, mx, ee, LIVE_WARN, &K_MX_EXPIRING,
			    what);
	} else if (t->verdict == LTLS_EXPIRED)
		mx->cert_days = -1;
	return rc == 0 ? 0 : -1;
}

/* LDH labels of 1 to 63, at most 253 in all, at least two labels. */
static int
lc_domain_ok(const char *d)
{
	size_t	n = strlen(d), l = 0, i;
	int	dots = 0;

	if (n == 0 || n > 253)
		return 0;
	for (i = 0; i <= n; i++) {
		if (d[i] == '.' || d[i] == '\0') {
			if (l == 0 || l > 63 || d[i - 1] == '-')
				return 0;
			dots += d[i] == '.';
			l = 0;
			continue;
		}
		if (!isalnum((unsigned char)d[i]) && d[i] != '-' &&
		    d[i] != '_')
			return 0;
		if (l == 0 && d[i] == '-')
			return 0;
		l++;
	}
	return dots > 0;
}

/* s with control characters as '?', in the arena. */
static char *
lc_printable(struct arena *a, const char *s)
{
	char	*c, *p;

	if ((c = arena_strndup(a, s, strlen(s))) == NULL)
		return NULL;
	for (p = c; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	return c;
}

/* next with each "X.D" (a name ending in the placeholder label D) naming
 * the domain: "_mta-sts.D" becomes "_mta-sts.example.com". */
static char *
lc_named(struct live_result *r, const char *next)
{
	char	buf[1024];
	size_t	o = 0, dl = strlen(r->domain);
	const char *p;

	for (p = next; *p != '\0' && o + dl + 2 < sizeof(buf); p++) {
		if (p[0] == '.' && p[1] == 'D' && p > next &&
		    (isalnum((unsigned char)p[-1]) || p[-1] == '-' ||
		    p[-1] == '_') && !isalnum((unsigned char)p[2])) {
			buf[o++] = '.';
			memcpy(buf + o, r->domain, dl);
			o += dl;
			p++;
			continue;
		}
		buf[o++] = *p;
	}
	buf[o] = '\0';
	return arena_strndup(&r->a, buf, o);
}
