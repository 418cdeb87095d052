/*
 * gen.c -- a deterministic corpus of TLS reports for the benchmark.
 *
 * Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
 *
 * The typical report looks like what Google sends: compact JSON, an sts
 * policy with its policy-string in policy-file order and an mx-host
 * array, then either a tlsa policy (odd reports) or a second sts policy
 * (the policy changed during the day, even reports); five failure details
 * in all, three under the first policy.  One report in five is
 * Microsoft-like (organization, contact and report-id shape).  Domains,
 * dates and report-ids are distinct per report; every number comes from a
 * fixed-seed splitmix64, so runs compare.  Files are gzipped with zlib at
 * level 6, as senders do.
 */

#include <errno.h>
#include <inttypes.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <zlib.h>

#include "gen.h"

#define GEN_SEED		0x5eed7157u
#define GEN_DOMAINS		2000	/* domains per day */
#define GEN_DAY0		1767571200	/* 2026-01-05T00:00:00Z */
#define GEN_TYPICAL_DETAILS	5
#define GEN_LARGE_DETAILS	2000

struct sb {
	char	*p;
	size_t	 len;
	size_t	 cap;
	int	 bad;		/* out of memory: every later append is lost */
};

static const char *const w1[] = {
	"acme", "globex", "initech", "umbrella", "stark", "wayne", "hooli",
	"vandelay", "wonka", "tyrell", "cyberdyne", "soylent", "oscorp",
	"aperture", "blackmesa", "duff",
};
static const char *const tlds[] = {
	"com", "net", "org", "de", "nl", "io", "co.uk", "fr",
};
static const char *const rtypes[] = {
	"certificate-host-mismatch", "starttls-not-supported",
	"validation-failure", "certificate-expired", "certificate-not-trusted",
	"sts-policy-fetch-error", "sts-webpki-invalid", "tlsa-invalid",
};
static const char *const reasons[] = {
	"X509_V_ERR_CERT_HAS_EXPIRED", "X509_V_ERR_HOSTNAME_MISMATCH",
	"X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
	"X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN",
};

static uint64_t	rnd_next(uint64_t *);
static unsigned	rnd(uint64_t *, unsigned);
static void	sb_printf(struct sb *, const char *, ...)
		    __attribute__((__format__(__printf__, 2, 3)));
static void	day_str(char *, size_t, int64_t, const char *);
static void	ip_str(char *, size_t, uint64_t *, int, unsigned);
static void	put_details(struct sb *, uint64_t *, const char *, size_t,
		    size_t, uint64_t *);
static void	put_report(struct sb *, uint64_t *, size_t, size_t, int,
		    char *, size_t);
static int	gzip_buf(const char *, size_t, unsigned char **, size_t *);

static uint64_t
rnd_next(uint64_t *s)
{
	uint64_t	z;

	z = (*s += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static unsigned
rnd(uint64_t *s, unsigned n)
{
	return (unsigned)(rnd_next(s) % n);
}

static void
sb_printf(struct sb *sb, const char *fmt, ...)
{
	va_list	 ap;
	char	*np;
	size_t	 ncap;
	int	 n;

	if (sb->bad)
		return;
	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(sb->p == NULL ? NULL : sb->p + sb->len,
		    sb->cap - sb->len, fmt, ap);
		va_end(ap);
		if (n < 0) {
			sb->bad = 1;
			return;
		}
		if ((size_t)n < sb->cap - sb->len) {
			sb->len += (size_t)n;
			return;
		}
		ncap = sb->cap == 0 ? 4096 : sb->cap * 2;
		while (ncap - sb->len <= (size_t)n)
			ncap *= 2;
		if ((np = realloc(sb->p, ncap)) == NULL) {
			sb->bad = 1;
			return;
		}
		sb->p = np;
		sb->cap = ncap;
	}
}

/* "2026-01-05" followed by suffix. */
static void
day_str(char *dst, size_t sz, int64_t t, const char *suffix)
{
	struct tm	tm;
	time_t		tt = (time_t)t;

	gmtime_r(&tt, &tm);
	snprintf(dst, sz, "%04d-%02d-%02d%s", tm.tm_year + 1900,
	    tm.tm_mon + 1, tm.tm_mday, suffix);
}

/* A Google or Microsoft sending address: IPv4 or IPv6, unique by n. */
static void
ip_str(char *dst, size_t sz, uint64_t *s, int v6, unsigned n)
{
	if (v6)
		snprintf(dst, sz, "2a00:1450:4864:20::%x", 0x100 + n);
	else
		snprintf(dst, sz, "209.85.%u.%u", 128 + (n / 250) % 128,
		    1 + n % 250 + rnd(s, 4));
}

static void
put_details(struct sb *sb, uint64_t *s, const char *dom, size_t first,
    size_t n, uint64_t *failed)
{
	char		ip[64];
	size_t		i;
	unsigned	k, cnt;

	sb_printf(sb, ",\"failure-details\":[");
	for (i = 0; i < n; i++) {
		k = rnd(s, sizeof(rtypes) / sizeof(rtypes[0]));
		cnt = 1 + rnd(s, 40);
		*failed += cnt;
		ip_str(ip, sizeof(ip), s, rnd(s, 3) == 0,
		    (unsigned)(first + i));
		sb_printf(sb, "%s{\"result-type\":\"%s\","
		    "\"sending-mta-ip\":\"%s\","
		    "\"receiving-mx-hostname\":\"%s.%s\","
		    "\"receiving-ip\":\"%s.%u\","
		    "\"failed-session-count\":%u",
		    i == 0 ? "" : ",", rtypes[k], ip,
		    rnd(s, 2) ? "mx1" : "a.mx", dom,
		    rnd(s, 2) ? "198.51.100" : "203.0.113", 1 + rnd(s, 254),
		    cnt);
		if (k <= 4 && rnd(s, 2) == 0)
			sb_printf(sb, ",\"failure-reason-code\":\"%s\"",
			    reasons[rnd(s, sizeof(reasons) /
			    sizeof(reasons[0]))]);
		if (k == 1)
			sb_printf(sb, ",\"receiving-mx-helo\":\"mx%u.%s\"",
			    1 + rnd(s, 2), dom);
		if (k >= 5 && rnd(s, 2) == 0)
			sb_printf(sb, ",\"additional-information\":"
			    "\"https://mta-sts.%s/.well-known/mta-sts.txt\"",
			    dom);
		sb_printf(sb, "}");
	}
	sb_printf(sb, "]");
}

/*
 * Report i: its JSON into sb, its file name into name.  ndetails failure
 * details, three fifths under the first policy.
 */
static void
put_report(struct sb *sb, uint64_t *s, size_t i, size_t ndetails, int large,
    char *name, size_t namesz)
{
	struct sb	 d = { 0 };	/* the failure details of a policy */
	char		 dom[128], start[64], end[64], id[256];
	const char	*org, *contact, *sender;
	int64_t		 t;
	uint64_t	 failed;
	size_t		 n0, dn;
	unsigned	 ms, succ;

	dn = i % GEN_DOMAINS;
	t = GEN_DAY0 + (int64_t)(i / GEN_DOMAINS) * 86400;
	snprintf(dom, sizeof(dom), "%s%s%zu.%s", large ? "big-" : "",
	    w1[dn % 16], dn, tlds[(dn / 128) % 8]);
	day_str(start, sizeof(start), t, "T00:00:00Z");
	ms = !large && i % 5 == 4;
	if (ms) {
		org = "Microsoft Corporation";
		contact = "tlsrpt-noreply@microsoft.com";
		sender = "microsoft.com";
		snprintf(id, sizeof(id), "1339258%011" PRIu64 "+%s",
		    rnd_next(s) % UINT64_C(100000000000), dom);
	} else {
		org = "Google Inc.";
		contact = "smtp-tls-reporting@google.com";
		sender = "google.com";
		snprintf(id, sizeof(id), "%s_%s", start, dom);
	}
	day_str(end, sizeof(end), t, "T23:59:59Z");
	snprintf(name, namesz, "%s!%s!%lld!%lld!%06zu.json.gz", sender, dom,
	    (long long)t, (long long)t + 86399, i);

	sb->len = 0;
	sb_printf(sb, "{\"organization-name\":\"%s\",\"date-range\":"
	    "{\"start-datetime\":\"%s\",\"end-datetime\":\"%s\"},"
	    "\"contact-info\":\"%s\",\"report-id\":\"%s\",\"policies\":[",
	    org, start, end, contact, id);

	/* the policy in force: sts, enforce */
	n0 = ndetails - ndetails * 2 / 5;
	failed = 0;
	succ = 100 + rnd(s, 50000);
	sb_printf(sb, "{\"policy\":{\"policy-type\":\"sts\","
	    "\"policy-string\":[\"version: STSv1\",\"mode: enforce\","
	    "\"mx: mx1.%s\",\"mx: *.mx.%s\",\"max_age: 604800\"],"
	    "\"policy-domain\":\"%s\",\"mx-host\":[\"mx1.%s\","
	    "\"*.mx.%s\"]},", dom, dom, dom, dom, dom);
	put_details(&d, s, dom, 0, n0, &failed);
	sb_printf(sb, "\"summary\":{\"total-successful-session-count\":%u,"
	    "\"total-failure-session-count\":%" PRIu64 "}%s}", succ, failed,
	    d.bad ? "" : d.p);

	/* odd: DANE for the same MXes; even: the morning's sts policy */
	failed = 0;
	succ = 10 + rnd(s, 5000);
	if (i % 2)
		sb_printf(sb, ",{\"policy\":{\"policy-type\":\"tlsa\","
		    "\"policy-string\":[\"3 1 1 %016" PRIX64 "%016" PRIX64
		    "%016" PRIX64 "%016" PRIX64 "\",\"3 1 1 %016" PRIX64
		    "%016" PRIX64 "%016" PRIX64 "%016" PRIX64 "\"],"
		    "\"policy-domain\":\"%s\",\"mx-host\":[\"mx1.%s\"]},",
		    rnd_next(s), rnd_next(s), rnd_next(s), rnd_next(s),
		    rnd_next(s), rnd_next(s), rnd_next(s), rnd_next(s),
		    dom, dom);
	else
		sb_printf(sb, ",{\"policy\":{\"policy-type\":\"sts\","
		    "\"policy-string\":[\"version: STSv1\",\"mode: testing\","
		    "\"mx: mx1.%s\",\"max_age: 86400\"],"
		    "\"policy-domain\":\"%s\",\"mx-host\":[\"mx1.%s\"]},",
		    dom, dom, dom);
	d.len = 0;
	put_details(&d, s, dom, n0, ndetails - n0, &failed);
	sb_printf(sb, "\"summary\":{\"total-successful-session-count\":%u,"
	    "\"total-failure-session-count\":%" PRIu64 "}%s}", succ, failed,
	    d.bad ? "" : d.p);
	sb_printf(sb, "]}");
	sb->bad |= d.bad;
	free(d.p);
}

static int
gzip_buf(const char *in, size_t len, unsigned char **outp, size_t *outlen)
{
	z_stream	 zs;
	unsigned char	*out = NULL;
	uLong		 bound;
	int		 rv = -1;

	memset(&zs, 0, sizeof(zs));
	if (deflateInit2(&zs, 6, Z_DEFLATED, 15 + 16, 8,
	    Z_DEFAULT_STRATEGY) != Z_OK)
		return -1;
	bound = deflateBound(&zs, (uLong)len);
	if ((out = malloc(bound)) == NULL)
		goto out;
	zs.next_in = (const Bytef *)in;
	zs.avail_in = (uInt)len;
	zs.next_out = out;
	zs.avail_out = (uInt)bound;
	if (deflate(&zs, Z_FINISH) != Z_STREAM_END)
		goto out;
	*outp = out;
	*outlen = zs.total_out;
	out = NULL;
	rv = 0;
 out:
	deflateEnd(&zs);		/* pairs with deflateInit2 */
	free(out);
	return rv;
}

int
gen_corpus(size_t ntypical, size_t nlarge, struct gen_report **out)
{
	struct gen_report	*g = NULL;
	struct sb		 sb = { 0 };
	uint64_t		 s = GEN_SEED;
	char			 name[512];
	size_t			 i, n = ntypical + nlarge;
	int			 rv = -1;

	*out = NULL;
	if ((g = calloc(n == 0 ? 1 : n, sizeof(*g))) == NULL)
		goto out;
	for (i = 0; i < n; i++) {
		g[i].large = i >= ntypical;
		g[i].ndetails = g[i].large ? GEN_LARGE_DETAILS :
		    GEN_TYPICAL_DETAILS;
		put_report(&sb, &s, g[i].large ? i - ntypical : i,
		    g[i].ndetails, g[i].large, name, sizeof(name));
		if (sb.bad || (g[i].name = strdup(name)) == NULL ||
		    gzip_buf(sb.p, sb.len, &g[i].gz, &g[i].gzlen) == -1)
			goto out;
		g[i].jsonlen = sb.len;
	}
	*out = g;
	g = NULL;
	rv = 0;
 out:
	free(sb.p);
	gen_free(g, n);
	return rv;
}

void
gen_free(struct gen_report *g, size_t n)
{
	size_t	i;

	if (g == NULL)
		return;
	for (i = 0; i < n; i++) {
		free(g[i].name);
		free(g[i].gz);
	}
	free(g);
}

int
gen_write(const char *dir, const struct gen_report *g, size_t n)
{
	char	path[4096];
	size_t	i, off;
	ssize_t	w;
	int	fd, saved;

	for (i = 0; i < n; i++) {
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir,
		    g[i].name) >= sizeof(path)) {
			errno = ENAMETOOLONG;
			return -1;
		}
		if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644)) == -1)
			return -1;
		for (off = 0; off < g[i].gzlen; off += (size_t)w)
			if ((w = write(fd, g[i].gz + off,
			    g[i].gzlen - off)) == -1) {
				saved = errno;
				close(fd);
				errno = saved;
				return -1;
			}
		if (close(fd) == -1)
			return -1;
	}
	return 0;
}
