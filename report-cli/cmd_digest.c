/*
 * cmd_digest.c -- tlsrpt digest: a complete RFC 5322 message for cron,
 * `tlsrpt digest --to admin@example.com | /usr/sbin/sendmail -t`.
 *
 * multipart/alternative with a text/plain and a text/html part, both
 * quoted-printable UTF-8.  Per domain: a status (OK, WARNING, CRITICAL),
 * sessions and failure rate against the previous period of the same
 * length, result types and failing MX hosts new in this period, the top
 * failures, reporters gone silent, and the readiness verdict for domains
 * whose senders saw mode testing.  The Subject carries the worst status.
 * Everything a report sent is escaped in the HTML part.
 */

#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "ingest.h"
#include "readiness.h"
#include "util.h"

#define DAY_SECONDS	86400
#define TOP_MAX		5	/* top failures per domain */
#define OK_LIST_MAX	500	/* quiet OK domains listed in the table */
#define ADDR_MAX	16	/* --to addresses */
#define READY_DAYS	14	/* the window of the readiness verdict */

enum { ST_OK = 0, ST_WARNING, ST_CRITICAL };
static const char	*status_name[] = { "OK", "WARNING", "CRITICAL" };
static const char	*status_color[] = { "#1e7e34", "#b36b00", "#b00020" };

static const char usage_text[] =
"usage: tlsrpt digest [--to ADDR ...] [--from ADDR] [--subject TEXT]\n"
"                     [--days N (1) | --since WHEN] [--until WHEN]\n"
"                     [--domain D ...] [--db C]\n"
"\n"
"Writes a complete mail message (RFC 5322, MIME multipart/alternative with\n"
"a plain-text and an HTML part) to stdout, for\n"
"    tlsrpt digest --to admin@example.com | /usr/sbin/sendmail -t\n"
"Per policy domain, over the window (default: yesterday, UTC) against the\n"
"previous period of the same length: a status, sessions and failure rate,\n"
"result types and failing MX hosts new in this period, the top failures,\n"
"reporters that sent reports on most days of the previous period and none\n"
"in this one (gone silent: a broken rua, a lost DNS record, or a downgrade\n"
"that suppresses reporting), and the MTA-STS readiness verdict (over the\n"
"14 days before --until) for domains whose senders saw mode testing.\n"
"\n"
"Status: CRITICAL for critical failures (see tlsrpt summary --help),\n"
"WARNING for warning-level failures or a reporter gone silent, else OK.\n"
"The Subject starts with the worst status: [OK], [WARNING], [CRITICAL].\n"
"\n"
"     --to ADDR      recipient (repeatable; default root@HOSTNAME)\n"
"     --from ADDR    sender (default tlsrpt@HOSTNAME)\n"
"     --subject S    subject text after the status (default \"TLS report\n"
"                    digest DATE\")\n"
WINDOW_HELP
"\n"
"TLSRPT_NOW (an RFC 3339 date-time) replaces the clock, for tests.\n"
"\n"
"Exit status: 0 all OK, 1 warnings, 2 critical, 3 could not run.\n";

/* Everything the digest says about one domain; strings are borrowed. */
struct ddomain {
	const char				*name;
	const struct store_domain_summary	*cur;	/* NULL: no reports */
	const struct store_domain_summary	*prev;
	const struct store_fail_mx		*fails;	/* this period */
	size_t					 nfails;
	const struct store_fail_mx		*pfails; /* previous */
	size_t					 npfails;
	const struct store_reporter_days	*rdays;
	size_t					 nrdays;
	const struct store_reporter_days	*prdays;
	size_t					 nprdays;
	const struct store_readiness		*rd;	/* NULL: no testing */
	struct rd_eval				 ev;
	int					 status;
	int					 notable;
};

struct digest {
	struct query_opts		 q;
	int64_t				 prev_since;
	int64_t				 now;
	const char			*to[ADDR_MAX];
	size_t				 nto;
	const char			*from;
	const char			*subject;
	char				 host[256];
	struct store_domain_summary	*cur, *prev;
	size_t				 ncur, nprev;
	struct store_digest_data	 dcur, dprev;
	struct store_readiness		*rd;
	size_t				 nrd;
	struct ddomain			*doms;
	size_t				 ndoms;
	int				 worst;
	size_t				 count[3];
};

static int	digest_load(struct digest *, struct store *);
static int	digest_build(struct digest *);
static void	digest_free(struct digest *);
static int	write_message(struct digest *, FILE *);
static void	text_part(struct digest *, FILE *);
static void	html_part(struct digest *, FILE *);

/* A header value must not break the header: no CR, LF or other control. */
static int
header_safe(const char *opt, const char *v)
{
	const unsigned char	*p;

	for (p = (const unsigned char *)v; *p != '\0'; p++)
		if (*p < 0x20 || *p == 0x7f) {
			cli_fail("%s: control characters are not allowed",
			    opt);
			return 0;
		}
	if (*v == '\0') {
		cli_fail("%s: empty", opt);
		return 0;
	}
	return 1;
}

static int
is_addr(const char *v)
{
	const char	*at = strrchr(v, '@');

	return at != NULL && at != v && at[1] != '\0' &&
	    strpbrk(v, " ,;\"") == NULL;
}

int
cmd_digest(int argc, char **argv)
{
	static const struct option longopts[] = {
		WINDOW_LONGOPTS,
		{ "to", required_argument, NULL, 't' },
		{ "from", required_argument, NULL, 'F' },
		{ "subject", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct digest	 dg;
	struct store	*st = NULL;
	int		 ch, r, rc = EXIT_NORUN;

	memset(&dg, 0, sizeof(dg));
	while ((ch = getopt_long(argc, argv, WINDOW_OPTSTRING "h", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'h':
			fputs(usage_text, stdout);
			return EXIT_OK;
		case 't':
			if (!header_safe("--to", optarg))
				return EXIT_NORUN;
			if (!is_addr(optarg))
				return cli_fail("--to: \"%s\" is not one mail "
				    "address (user@domain); repeat --to for "
				    "several", optarg);
			if (dg.nto == ADDR_MAX)
				return cli_fail("--to: at most %d addresses",
				    ADDR_MAX);
			dg.to[dg.nto++] = optarg;
			continue;
		case 'F':
			if (!header_safe("--from", optarg))
				return EXIT_NORUN;
			if (!is_addr(optarg))
				return cli_fail("--from: \"%s\" is not a mail "
				    "address (user@domain)", optarg);
			dg.from = optarg;
			continue;
		case 's':
			if (!header_safe("--subject", optarg))
				return EXIT_NORUN;
			dg.subject = optarg;
			continue;
		}
		if ((r = window_option(&dg.q, ch, optarg)) == -1)
			return EXIT_NORUN;
		if (r == 0) {
			fputs(usage_text, stderr);
			return EXIT_NORUN;
		}
	}
	if (optind != argc)
		return cli_fail("digest takes no arguments (\"%s\"); see "
		    "tlsrpt digest --help", argv[optind]);
	if (dg.q.format != FMT_TEXT)
		return cli_fail("digest: the message has a text and an HTML "
		    "part; --format does not apply");
	if (dg.q.days == 0 && !dg.q.since_set)
		dg.q.days = 1;
	if (cli_now(&dg.now) == -1 || window_finish(&dg.q, dg.now) == -1)
		return EXIT_NORUN;
	if (dg.q.win.until == WINDOW_END_OF_TIME)
		return cli_fail("digest: give --until or --days: the previous "
		    "period needs a window of known length");
	dg.prev_since = dg.q.win.since - (dg.q.win.until - dg.q.win.since);
	if (gethostname(dg.host, sizeof(dg.host)) == -1 || dg.host[0] == '\0')
		snprintf(dg.host, sizeof(dg.host), "localhost");
	dg.host[sizeof(dg.host) - 1] = '\0';
	if ((st = cli_open_store(dg.q.db, 1)) == NULL)
		return EXIT_NORUN;
	if (digest_load(&dg, st) == -1) {
		cli_fail("digest failed: %s", store_errstr(st));
		goto out;
	}
	if (digest_build(&dg) == -1) {
		cli_fail("digest: out of memory");
		goto out;
	}
	if (write_message(&dg, stdout) == -1) {
		cli_fail("digest: out of memory");
		goto out;
	}
	rc = dg.worst;
	if (fflush(stdout) == EOF || ferror(stdout))
		rc = cli_fail("cannot write the digest to stdout");
 out:
	digest_free(&dg);
	store_close(st);
	return rc;
}

static int
digest_load(struct digest *dg, struct store *st)
{
	struct store_window	 pw, rw;

	pw = dg->q.win;
	pw.until = dg->q.win.since;
	pw.since = dg->prev_since;
	if (store_summary(st, &dg->q.win, &dg->cur, &dg->ncur) == -1 ||
	    store_summary(st, &pw, &dg->prev, &dg->nprev) == -1 ||
	    store_digest_data(st, &dg->q.win, 1, &dg->dcur) == -1 ||
	    store_digest_data(st, &pw, 0, &dg->dprev) == -1)
		return -1;
	if (dg->dcur.ntesting == 0)
		return 0;
	rw = dg->q.win;
	rw.until = dg->q.win.until;
	rw.since = dg->q.win.until - READY_DAYS * DAY_SECONDS;
	rw.domains = (const char *const *)dg->dcur.testing;
	rw.ndomains = dg->dcur.ntesting;
	return store_readiness(st, &rw, &dg->rd, &dg->nrd);
}

/* --- the figures per domain ------------------------------------------- */

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int
cmp_ddomain(const void *a, const void *b)
{
	const struct ddomain	*x = a, *y = b;

	if (x->status != y->status)
		return x->status > y->status ? -1 : 1;
	if (x->notable != y->notable)
		return x->notable > y->notable ? -1 : 1;
	return strcmp(x->name, y->name);
}

/* The summary of name in s[0..n) (sorted by domain), or NULL. */
static const struct store_domain_summary *
find_summary(const struct store_domain_summary *s, size_t n, const char *name)
{
	size_t	lo = 0, hi = n, mid;
	int	c;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if ((c = strcmp(s[mid].domain, name)) == 0)
			return &s[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* The run of rows of domain name in an array sorted by domain. */
#define FIND_RUN(arr, n, name, outp, outn) do {				\
	size_t	lo_ = 0, hi_ = (n), mid_;				\
									\
	while (lo_ < hi_) {						\
		mid_ = lo_ + (hi_ - lo_) / 2;				\
		if (strcmp((arr)[mid_].domain, (name)) < 0)		\
			lo_ = mid_ + 1;					\
		else							\
			hi_ = mid_;					\
	}								\
	(outp) = &(arr)[lo_];						\
	for (hi_ = lo_; hi_ < (n) && strcmp((arr)[hi_].domain,		\
	    (name)) == 0; hi_++)					\
		;							\
	(outn) = hi_ - lo_;						\
} while (0)

/* Reporters of d that went silent: on more than half the previous
 * period's days, on none of this one. */
static int
silent(const struct digest *dg, const struct ddomain *d, size_t i)
{
	int64_t	pdays = (dg->q.win.since - dg->prev_since + DAY_SECONDS - 1) /
		    DAY_SECONDS;
	size_t	j;

	if (2 * d->prdays[i].days <= pdays)
		return 0;
	for (j = 0; j < d->nrdays; j++)
		if (strcmp(d->rdays[j].reporter, d->prdays[i].reporter) == 0)
			return 0;
	return 1;
}

static int
has_rt(const struct store_domain_summary *s, const char *rt)
{
	size_t	i;

	for (i = 0; s != NULL && i < s->nrts; i++)
		if (strcmp(s->rts[i].result_type, rt) == 0 &&
		    s->rts[i].failed_sessions > 0)
			return 1;
	return 0;
}

static int
has_mx(const struct store_fail_mx *f, size_t n, const char *mx)
{
	size_t	i;

	for (i = 0; i < n; i++)
		if (strcmp(f[i].mx, mx) == 0)
			return 1;
	return 0;
}

/* mx is failing in this period and in no row before i, nor before. */
static int
new_mx(const struct ddomain *d, size_t i)
{
	const char	*mx = d->fails[i].mx;

	return mx[0] != '\0' && !has_mx(d->fails, i, mx) &&
	    !has_mx(d->pfails, d->npfails, mx);
}

static int
digest_build(struct digest *dg)
{
	struct ddomain			*d;
	const char			**names = NULL;
	size_t				 i, j, n = 0, k;
	int				 lvl, rc = -1;

	/* this period's domains, and the previous one's with a reporter
	 * gone silent (perhaps every one: no reports now at all) */
	if ((names = calloc(dg->ncur + dg->nprev + 1, sizeof(*names))) == NULL)
		return -1;
	for (i = 0; i < dg->ncur; i++)
		names[n++] = dg->cur[i].domain;
	for (i = 0; i < dg->nprev; i++)
		if (find_summary(dg->cur, dg->ncur, dg->prev[i].domain) ==
		    NULL)
			names[n++] = dg->prev[i].domain;
	if (n > 1)
		qsort(names, n, sizeof(*names), cmp_str);
	if (n > 0 && (dg->doms = calloc(n, sizeof(*dg->doms))) == NULL)
		goto out;
	for (i = 0; i < n; i++) {
		d = &dg->doms[dg->ndoms];
		d->name = names[i];
		d->cur = find_summary(dg->cur, dg->ncur, d->name);
		d->prev = find_summary(dg->prev, dg->nprev, d->name);
		FIND_RUN(dg->dcur.fails, dg->dcur.nfails, d->name, d->fails,
		    d->nfails);
		FIND_RUN(dg->dprev.fails, dg->dprev.nfails, d->name, d->pfails,
		    d->npfails);
		FIND_RUN(dg->dcur.rdays, dg->dcur.nrdays, d->name, d->rdays,
		    d->nrdays);
		FIND_RUN(dg->dprev.rdays, dg->dprev.nrdays, d->name,
		    d->prdays, d->nprdays);
		for (k = 0; k < d->nprdays; k++)
			if (silent(dg, d, k)) {
				d->status = ST_WARNING;
				d->notable = 1;
			}
		if (d->cur == NULL && !d->notable)
			continue;	/* nothing now, nobody missing */
		for (j = 0; d->cur != NULL && j < d->cur->nrts; j++)
			if (d->cur->rts[j].failed_sessions > 0 &&
			    (lvl = out_rt_level(d->cur->rts[j].result_type)) >
			    d->status)
				d->status = lvl;
		FIND_RUN(dg->rd, dg->nrd, d->name, d->rd, k);
		if (k == 0)
			d->rd = NULL;
		if (d->rd != NULL) {
			struct rd_limits lim = { READY_DAYS, 7, 2, 0.0 };

			if (rd_evaluate(d->rd, &lim, &d->ev) == -1)
				goto out;
			d->notable = 1;
		}
		if (d->status != ST_OK || d->nfails > 0)
			d->notable = 1;
		dg->count[d->status]++;
		if (d->status > dg->worst)
			dg->worst = d->status;
		dg->ndoms++;
	}
	if (dg->ndoms > 1)
		qsort(dg->doms, dg->ndoms, sizeof(*dg->doms), cmp_ddomain);
	rc = 0;
 out:
	free(names);
	return rc;
}

static void
digest_free(struct digest *dg)
{
	size_t	i;

	for (i = 0; i < dg->ndoms; i++)
		rd_eval_free(&dg->doms[i].ev);
	free(dg->doms);
	store_summary_free(dg->cur, dg->ncur);
	store_summary_free(dg->prev, dg->nprev);
	store_digest_data_free(&dg->dcur);
	store_digest_data_free(&dg->dprev);
	store_readiness_free(dg->rd, dg->nrd);
}

static int64_t
sessions(const struct store_domain_summary *s)
{
	return s != NULL ? s->successful + s->failed : 0;
}

static double
frate(const struct store_domain_summary *s)
{
	return sessions(s) > 0 ? (double)s->failed / (double)sessions(s) : 0.0;
}

/* --- the message ------------------------------------------------------ */

/* "2026-03-08" or "2026-03-02 to 2026-03-08": the days of [since, until). */
static void
period(FILE *f, int64_t since, int64_t until)
{
	out_day(f, since);
	if (until - since > DAY_SECONDS) {
		fputs(" to ", f);
		out_day(f, until - 1);
	}
}

static void
rfc5322_date(FILE *f, int64_t t)
{
	static const char	*wd[] = { "Thu", "Fri", "Sat", "Sun", "Mon",
				    "Tue", "Wed" };
	static const char	*mon[] = { "Jan", "Feb", "Mar", "Apr", "May",
				    "Jun", "Jul", "Aug", "Sep", "Oct", "Nov",
				    "Dec" };
	char			 iso[UTIL_TIME_BUFSZ];
	int64_t			 days;
	int			 m;

	/* from "2026-03-09T06:00:00Z" */
	util_format_datetime(t, iso, sizeof(iso));
	days = t >= 0 ? t / DAY_SECONDS : (t - DAY_SECONDS + 1) / DAY_SECONDS;
	m = (iso[5] - '0') * 10 + (iso[6] - '0');
	fprintf(f, "%s, %.2s %s %.4s %.8s +0000",
	    wd[((days % 7) + 7) % 7], iso + 8, mon[m - 1], iso, iso + 11);
}

static void
b64(FILE *f, const unsigned char *p, size_t n)
{
	static const char	 t[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t			 i;
	unsigned		 v;

	for (i = 0; i + 2 < n; i += 3) {
		v = (unsigned)p[i] << 16 | (unsigned)p[i + 1] << 8 | p[i + 2];
		fprintf(f, "%c%c%c%c", t[v >> 18], t[(v >> 12) & 63],
		    t[(v >> 6) & 63], t[v & 63]);
	}
	if (n - i == 1) {
		v = (unsigned)p[i] << 16;
		fprintf(f, "%c%c==", t[v >> 18], t[(v >> 12) & 63]);
	} else if (n - i == 2) {
		v = (unsigned)p[i] << 16 | (unsigned)p[i + 1] << 8;
		fprintf(f, "%c%c%c=", t[v >> 18], t[(v >> 12) & 63],
		    t[(v >> 6) & 63]);
	}
}

/* An unstructured header value: as is when short printable ASCII, else
 * RFC 2047 encoded-words of UTF-8 (whole characters, 45 bytes each). */
static void
header_text(FILE *f, const char *s)
{
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 len = strlen(s), i, n;
	int			 plain = len <= 900;

	for (i = 0; plain && i < len; i++)
		if (p[i] >= 0x80 || (p[i] == '=' && p[i + 1] == '?'))
			plain = 0;
	if (plain) {
		fputs(s, f);
		return;
	}
	for (i = 0; i < len; i += n) {
		n = len - i < 45 ? len - i : 45;
		while (i + n < len && (p[i + n] & 0xc0) == 0x80)
			n--;	/* do not split a UTF-8 sequence */
		if (n == 0)
			n = 1;
		fputs(i > 0 ? "\n =?UTF-8?B?" : "=?UTF-8?B?", f);
		b64(f, p + i, n);
		fputs("?=", f);
	}
}

/* Quoted-printable (RFC 2045 §6.7) of buf, LF line ends.  A "." or
 * "From " at a line start is encoded too: sendmail -t without -i ends
 * the message at a lone ".".  The digest of ten thousand domains is
 * megabytes: the output is gathered in a buffer, not put byte by byte. */
static void
qp(FILE *f, const char *buf, size_t len)
{
	static const char	 hex[] = "0123456789ABCDEF";
	const unsigned char	*p = (const unsigned char *)buf;
	char			 out[4096];
	size_t			 i, n = 0, col = 0, w;
	int			 lit;

	for (i = 0; i < len; i++) {
		if (n + 8 > sizeof(out)) {	/* room for "=\n=XX" */
			fwrite(out, 1, n, f);
			n = 0;
		}
		if (p[i] == '\n') {
			out[n++] = '\n';
			col = 0;
			continue;
		}
		lit = p[i] >= 33 && p[i] <= 126 && p[i] != '=';
		if (p[i] == ' ' || p[i] == '\t')
			lit = i + 1 < len && p[i + 1] != '\n';
		if (col == 0 && (p[i] == '.' || (p[i] == 'F' && len - i >= 5 &&
		    memcmp(p + i, "From ", 5) == 0)))
			lit = 0;
		w = lit ? 1 : 3;
		if (col + w > 75) {
			out[n++] = '=';
			out[n++] = '\n';
			col = 0;
		}
		if (lit)
			out[n++] = (char)p[i];
		else {
			out[n++] = '=';
			out[n++] = hex[p[i] >> 4];
			out[n++] = hex[p[i] & 0x0f];
		}
		col += w;
	}
	if (col > 0)
		out[n++] = '\n';	/* the loop left room for it */
	fwrite(out, 1, n, f);
}

/* The body of one part, built whole, then written quoted-printable. */
static int
part(struct digest *dg, FILE *f, const char *boundary, const char *type,
    void (*fn)(struct digest *, FILE *))
{
	FILE	*m;
	char	*buf = NULL;
	size_t	 len = 0;

	if ((m = open_memstream(&buf, &len)) == NULL)
		return -1;
	fn(dg, m);
	if (fclose(m) != 0) {
		free(buf);
		return -1;
	}
	fprintf(f, "\n--%s\nContent-Type: %s; charset=utf-8\n"
	    "Content-Transfer-Encoding: quoted-printable\n\n", boundary,
	    type);
	qp(f, buf, len);
	free(buf);
	return 0;
}

static int
write_message(struct digest *dg, FILE *f)
{
	unsigned char	 rnd[12];
	char		 hex[2 * sizeof(rnd) + 1], iso[UTIL_TIME_BUFSZ];
	char		 boundary[64], *subj = NULL;
	size_t		 i, slen = 0;
	FILE		*m;

	if (getentropy(rnd, sizeof(rnd)) == -1)
		for (i = 0; i < sizeof(rnd); i++)	/* unique enough */
			rnd[i] = (unsigned char)((dg->now >> (i % 8)) ^
			    getpid() ^ (int)i * 97);
	util_hex(rnd, sizeof(rnd), hex);
	snprintf(boundary, sizeof(boundary), "=_tlsrpt_%s", hex);
	util_format_datetime(dg->now, iso, sizeof(iso));

	if ((m = open_memstream(&subj, &slen)) == NULL)
		return -1;
	fprintf(m, "[%s] ", status_name[dg->worst]);
	if (dg->subject != NULL)
		fputs(dg->subject, m);
	else {
		fputs("TLS report digest ", m);
		period(m, dg->q.win.since, dg->q.win.until);
		fprintf(m, ": %zu critical, %zu warning, %zu ok",
		    dg->count[ST_CRITICAL], dg->count[ST_WARNING],
		    dg->count[ST_OK]);
	}
	if (fclose(m) != 0) {
		free(subj);
		return -1;
	}

	fputs("Date: ", f);
	rfc5322_date(f, dg->now);
	fprintf(f, "\nFrom: ");
	if (dg->from != NULL)
		fputs(dg->from, f);
	else
		fprintf(f, "tlsrpt@%s", dg->host);
	fputs("\nTo: ", f);
	if (dg->nto == 0)
		fprintf(f, "root@%s", dg->host);
	for (i = 0; i < dg->nto; i++)
		fprintf(f, "%s%s", i > 0 ? ",\n " : "", dg->to[i]);
	fputs("\nSubject: ", f);
	header_text(f, subj);
	free(subj);
	fprintf(f, "\nMessage-ID: <tlsrpt.%.4s%.2s%.2s.%s@%s>\n", iso, iso + 5,
	    iso + 8, hex, dg->host);
	fprintf(f, "MIME-Version: 1.0\n"
	    "Content-Type: multipart/alternative;\n boundary=\"%s\"\n"
	    "Auto-Submitted: auto-generated\n"
	    "X-TLSRPT-Status: %s\n\n"
	    "This is a MIME message with a text and an HTML version.\n",
	    boundary, status_name[dg->worst]);
	if (part(dg, f, boundary, "text/plain", text_part) == -1 ||
	    part(dg, f, boundary, "text/html", html_part) == -1)
		return -1;
	fprintf(f, "\n--%s--\n", boundary);
	return 0;
}

/* --- text/plain ------------------------------------------------------- */

static void
text_domain(struct digest *dg, const struct ddomain *d, FILE *f)
{
	const struct store_fail_mx	*fl;
	char				 safe[256], safe2[256];
	size_t				 i, k;

	fprintf(f, "\n### %s: %s\n", out_shown(d->name, safe,
	    sizeof(safe)), status_name[d->status]);
	fprintf(f, "Sessions: %" PRId64 " (previous period %" PRId64 "), "
	    "failure rate %.2f%% (previous %.2f%%)\n", sessions(d->cur),
	    sessions(d->prev), 100.0 * frate(d->cur), 100.0 * frate(d->prev));
	for (i = 0, k = 0; d->cur != NULL && i < d->cur->nrts; i++)
		if (d->cur->rts[i].failed_sessions > 0 &&
		    !has_rt(d->prev, d->cur->rts[i].result_type))
			fprintf(f, "%s%s (%" PRId64 ", %s)", k++ == 0 ?
			    "New result types: " : ", ",
			    out_shown(d->cur->rts[i].result_type, safe,
			    sizeof(safe)), d->cur->rts[i].failed_sessions,
			    tlsrpt_result_severity(d->cur->rts[i].result_type));
	if (k > 0)
		fputc('\n', f);
	for (i = 0, k = 0; i < d->nfails; i++)
		if (new_mx(d, i))
			fprintf(f, "%s%s", k++ == 0 ?
			    "New failing MX hosts: " : ", ",
			    out_shown(d->fails[i].mx, safe, sizeof(safe)));
	if (k > 0)
		fputc('\n', f);
	if (d->nfails > 0)
		fprintf(f, "Top failures:\n");
	for (i = 0; i < d->nfails && i < TOP_MAX; i++) {
		fl = &d->fails[i];
		fprintf(f, "  %8" PRId64 "  %-26s %-30s %" PRId64
		    " reporter%s\n", fl->failed,
		    out_shown(fl->result_type, safe, sizeof(safe)),
		    out_shown(fl->mx, safe2, sizeof(safe2)), fl->reporters,
		    fl->reporters == 1 ? "" : "s");
	}
	for (i = 0, k = 0; i < d->nprdays; i++)
		if (silent(dg, d, i))
			fprintf(f, "%s%s (reported on %" PRId64 " days of the "
			    "previous period, none in this one)", k++ == 0 ?
			    "Gone silent: " : ", ",
			    out_shown(d->prdays[i].reporter, safe,
			    sizeof(safe)), d->prdays[i].days);
	if (k > 0)
		fputc('\n', f);
	if (d->rd == NULL)
		return;
	fprintf(f, "MTA-STS readiness for enforce (last %d days): %s\n",
	    READY_DAYS, rd_verdict_str(d->ev.verdict));
	for (i = 0; i < d->ev.nreasons; i++)
		if (d->ev.reasons[i].status != RS_OK)
			fprintf(f, "  - %s: %s\n    next: %s\n",
			    rd_check_str(d->ev.reasons[i].check),
			    d->ev.reasons[i].text, d->ev.reasons[i].next);
}

static void
text_part(struct digest *dg, FILE *f)
{
	const struct ddomain	*d;
	char			 safe[256];
	size_t			 i, quiet = 0;

	fprintf(f, "TLS report digest for ");
	period(f, dg->q.win.since, dg->q.win.until);
	fprintf(f, " (UTC), compared with ");
	period(f, dg->prev_since, dg->q.win.since);
	fprintf(f, ".\nOverall: %s -- %zu critical, %zu warning, %zu ok "
	    "(%zu domain%s)\n", status_name[dg->worst],
	    dg->count[ST_CRITICAL], dg->count[ST_WARNING], dg->count[ST_OK],
	    dg->ndoms, dg->ndoms == 1 ? "" : "s");
	if (dg->ndoms == 0)
		fprintf(f, "\nNo reports in this period or the previous "
		    "one.\n");
	for (i = 0; i < dg->ndoms; i++) {
		d = &dg->doms[i];
		if (d->notable)
			text_domain(dg, d, f);
		else
			quiet++;
	}
	if (quiet > 0)
		fprintf(f, "\n### OK, nothing failed\n");
	for (i = 0, quiet = 0; i < dg->ndoms; i++) {
		d = &dg->doms[i];
		if (d->notable)
			continue;
		if (quiet++ == OK_LIST_MAX) {
			fprintf(f, "  ... and more\n");
			break;
		}
		fprintf(f, "  %-40s %10" PRId64 " sessions (previous %" PRId64
		    ")\n", out_shown(d->name, safe, sizeof(safe)),
		    sessions(d->cur), sessions(d->prev));
	}
	fprintf(f, "\n-- \ntlsrpt digest %s; `tlsrpt failures` and `tlsrpt "
	    "readiness --domain D` tell more.\n", TLSRPT_VERSION);
}

/* --- text/html -------------------------------------------------------- */

#define TD	"<td style=\"padding:3px 8px;border-bottom:1px solid #ddd\">"
#define TDR	"<td style=\"padding:3px 8px;border-bottom:1px solid #ddd;" \
		"text-align:right\">"
#define TH	"<th style=\"padding:3px 8px;text-align:left;" \
		"border-bottom:2px solid #999\">"
#define TABLE	"<table style=\"border-collapse:collapse;font-size:14px;" \
		"margin:6px 0\">"

static void
badge(FILE *f, int status)
{
	fprintf(f, "<span style=\"color:#fff;background:%s;padding:1px 6px;"
	    "border-radius:3px;font-weight:bold\">%s</span>",
	    status_color[status], status_name[status]);
}

static void
html_domain(struct digest *dg, const struct ddomain *d, FILE *f)
{
	const struct store_fail_mx	*fl;
	size_t				 i, k;

	fprintf(f, "<h3 style=\"margin:18px 0 4px\">");
	out_html_str(f, d->name[0] != '\0' ? d->name : "(unknown)");
	fputs(" ", f);
	badge(f, d->status);
	fprintf(f, "</h3>\n<p style=\"margin:2px 0\">Sessions %" PRId64
	    " (previous %" PRId64 "), failure rate %.2f%% (previous %.2f%%)"
	    "</p>\n", sessions(d->cur), sessions(d->prev),
	    100.0 * frate(d->cur), 100.0 * frate(d->prev));
	for (i = 0, k = 0; d->cur != NULL && i < d->cur->nrts; i++)
		if (d->cur->rts[i].failed_sessions > 0 &&
		    !has_rt(d->prev, d->cur->rts[i].result_type)) {
			fputs(k++ == 0 ? "<p style=\"margin:2px 0\">"
			    "<b>New result types:</b> " : ", ", f);
			out_html_str(f, d->cur->rts[i].result_type);
			fprintf(f, " (%" PRId64 ")",
			    d->cur->rts[i].failed_sessions);
		}
	if (k > 0)
		fputs("</p>\n", f);
	for (i = 0, k = 0; i < d->nfails; i++)
		if (new_mx(d, i)) {
			fputs(k++ == 0 ? "<p style=\"margin:2px 0\">"
			    "<b>New failing MX hosts:</b> " : ", ", f);
			out_html_str(f, d->fails[i].mx);
		}
	if (k > 0)
		fputs("</p>\n", f);
	if (d->nfails > 0)
		fputs(TABLE "<tr>" TH "Failed</th>" TH "Result type</th>" TH
		    "MX</th>" TH "Reporters</th></tr>\n", f);
	for (i = 0; i < d->nfails && i < TOP_MAX; i++) {
		fl = &d->fails[i];
		fprintf(f, "<tr>" TDR "%" PRId64 "</td>" TD, fl->failed);
		out_html_str(f, fl->result_type);
		fputs("</td>" TD, f);
		out_html_str(f, fl->mx[0] != '\0' ? fl->mx : "(unknown)");
		fprintf(f, "</td>" TDR "%" PRId64 "</td></tr>\n",
		    fl->reporters);
	}
	if (d->nfails > 0)
		fputs("</table>\n", f);
	for (i = 0, k = 0; i < d->nprdays; i++)
		if (silent(dg, d, i)) {
			fputs(k++ == 0 ? "<p style=\"margin:2px 0\">"
			    "<b>Gone silent:</b> " : ", ", f);
			out_html_str(f, d->prdays[i].reporter);
			fprintf(f, " (%" PRId64 " days before, none now)",
			    d->prdays[i].days);
		}
	if (k > 0)
		fputs("</p>\n", f);
	if (d->rd == NULL)
		return;
	fprintf(f, "<p style=\"margin:2px 0\"><b>MTA-STS readiness for "
	    "enforce</b> (last %d days): <b>%s</b></p>\n", READY_DAYS,
	    rd_verdict_str(d->ev.verdict));
	for (i = 0, k = 0; i < d->ev.nreasons; i++) {
		if (d->ev.reasons[i].status == RS_OK)
			continue;
		fputs(k++ == 0 ? "<ul style=\"margin:2px 0\">\n" : "", f);
		fprintf(f, "<li>%s: ", rd_check_str(d->ev.reasons[i].check));
		out_html_str(f, d->ev.reasons[i].text);
		fputs("<br><i>next:</i> ", f);
		out_html_str(f, d->ev.reasons[i].next);
		fputs("</li>\n", f);
	}
	if (k > 0)
		fputs("</ul>\n", f);
}

static void
html_part(struct digest *dg, FILE *f)
{
	const struct ddomain	*d;
	size_t			 i, quiet = 0;

	fputs("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
	    "<title>TLS report digest</title></head>\n<body style=\""
	    "font-family:Arial,Helvetica,sans-serif;color:#222\">\n", f);
	fputs("<h2 style=\"margin:0 0 6px\">TLS report digest ", f);
	period(f, dg->q.win.since, dg->q.win.until);
	fputs("</h2>\n<p>Overall ", f);
	badge(f, dg->worst);
	fprintf(f, " &mdash; %zu critical, %zu warning, %zu ok (%zu domains),"
	    " compared with ", dg->count[ST_CRITICAL], dg->count[ST_WARNING],
	    dg->count[ST_OK], dg->ndoms);
	period(f, dg->prev_since, dg->q.win.since);
	fputs(".</p>\n", f);
	if (dg->ndoms == 0)
		fputs("<p>No reports in this period or the previous one.</p>\n",
		    f);
	for (i = 0; i < dg->ndoms; i++)
		if (dg->doms[i].notable)
			html_domain(dg, &dg->doms[i], f);
	for (i = 0; i < dg->ndoms; i++) {
		d = &dg->doms[i];
		if (d->notable)
			continue;
		if (quiet++ == 0)
			fputs("<h3 style=\"margin:18px 0 4px\">OK, nothing "
			    "failed</h3>\n" TABLE "<tr>" TH "Domain</th>" TH
			    "Sessions</th>" TH "Previous</th></tr>\n", f);
		if (quiet > OK_LIST_MAX) {
			fputs("<tr>" TD "&hellip; and more</td></tr>\n", f);
			break;
		}
		fputs("<tr>" TD, f);
		out_html_str(f, d->name);
		fprintf(f, "</td>" TDR "%" PRId64 "</td>" TDR "%" PRId64
		    "</td></tr>\n", sessions(d->cur), sessions(d->prev));
	}
	if (quiet > 0)
		fputs("</table>\n", f);
	fprintf(f, "<p style=\"color:#777;font-size:12px\">tlsrpt digest %s"
	    "</p>\n</body></html>\n", TLSRPT_VERSION);
}
