/*
 * cmd_check.c -- tlsrpt check --domain D: the live MTA-STS, TLS-RPT and
 * MX setup of each domain, looked up now (live/, issue 11), as text or
 * JSON, with the query commands' exit codes.
 *
 * Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
 */

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check_reports.h"
#include "cli.h"
#include "live.h"
#include "store_check.h"
#include "tlsrpt_limits.h"
#include "util.h"

#define CHECK_DAY_SECONDS	86400
#define CHECK_DEFAULT_DAYS	14

enum {
	OPT_ALL = 1000,
	OPT_TIMEOUT,
	OPT_RESOLVER,
	OPT_CA_FILE,
	OPT_TRUST_ANCHOR,
	OPT_RUA,
	OPT_NO_SMTP,
	OPT_STORE,
};

static const char usage_text[] =
"usage: tlsrpt check --domain D... | --all [--days N (14)]\n"
"                    [--format text|json] [--timeout SEC (30)]\n"
"                    [--resolver ADDR[@PORT]] [--ca-file PEM]\n"
"                    [--trust-anchor FILE|none] [--rua URI] [--no-smtp]\n"
"                    [--db C] [--store]\n"
"\n"
"Looks up the live setup of each domain and says what is wrong, each\n"
"finding with its severity, the RFC section it rests on and a next step:\n"
"  _mta-sts.D TXT     exactly one v=STSv1 record with a valid id\n"
"                     (RFC 8461 §3.1);\n"
"  the policy         https://mta-sts.D/.well-known/mta-sts.txt: TLS 1.2+,\n"
"                     a certificate valid for mta-sts.D, status 200 with\n"
"                     no redirect followed, text/plain, at most 64 KiB,\n"
"                     a valid policy (RFC 8461 §3.2, §3.3);\n"
"  _smtp._tls.D TXT   v=TLSRPTv1 first, rua= of mailto: and https: URIs\n"
"                     with commas percent-encoded, --rua among them and\n"
"                     first (RFC 8460 §3);\n"
"  MX                 every MX host matched by a policy mx line, every\n"
"                     mx line matching an MX (RFC 8461 §4.1);\n"
"  port 25            each MX: STARTTLS, TLS 1.2+, the chain to the trust\n"
"                     store, the MX name in the certificate (RFC 6125),\n"
"                     days to expiry (warning under 14, critical under 3).\n"
"Up to 32 domains are checked at once, each within --timeout, so N\n"
"domains take at most ceil(N / 32) timeouts; the answers come in the\n"
"order of the domains.\n"
"\n"
" -d, --domain D           check domain D (repeatable)\n"
"     --all                every policy domain with reports in the last\n"
"                          --days N days (default 14)\n"
" -n, --days N             the window of --all and of the reports\n"
" -f, --format F           text (default) or json\n"
"     --timeout SEC        for one domain, everything (default 30)\n"
"     --resolver ADDR[@PORT]  send DNS questions to this server (default:\n"
"                          those of /etc/resolv.conf)\n"
"     --ca-file PEM        trust these CAs (default: the system store)\n"
"     --trust-anchor FILE  DNSSEC trust anchors (default: the system's\n"
"                          root key when installed; none: no validation)\n"
"     --rua URI            this collector's rua URI, to find in\n"
"                          _smtp._tls.D\n"
"     --no-smtp            do not connect to the MX hosts\n"
"     --db CONNINFO        the reports to hold the live setup against (and\n"
"                          the domains of --all), last --days N days:\n"
"                          each reporter's latest policy vs the live one,\n"
"                          MX hosts in failure details that are not live\n"
"                          MX hosts, reporters quiet for two days\n"
"                          (default: $TLSRPT_DB; neither: not compared)\n"
"     --store              also store each domain's result in the\n"
"                          database (needs --db or $TLSRPT_DB), for the\n"
"                          dashboard's domain page; the newest 30 checks\n"
"                          of each domain are kept\n"
"\n"
"Exit status: 0 nothing found, 1 warnings, 2 critical findings, 3 could\n"
"not run (with --store: also when a result could not be stored; the\n"
"results are printed all the same).\n";

/* What check_each() is told and adds up, on the main thread. */
struct check_run {
	struct store	*st;		/* NULL: not held against reports */
	int64_t		 days, now;
	int		 json;
	int		 store;		/* --store */
	int		 store_failed;	/* the database failed: store no more */
	size_t		 stored, not_stored;
	int		 ran, worst;
};

static int	check_all(const char *, int64_t, char ***, size_t *, size_t);
static int	check_each(void *, size_t, struct live_result *);
static void	check_store(struct check_run *, const struct live_result *);
static void	check_utf8(char *, size_t);


int
cmd_check(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "domain", required_argument, NULL, 'd' },
		{ "all", no_argument, NULL, OPT_ALL },
		{ "days", required_argument, NULL, 'n' },
		{ "format", required_argument, NULL, 'f' },
		{ "timeout", required_argument, NULL, OPT_TIMEOUT },
		{ "resolver", required_argument, NULL, OPT_RESOLVER },
		{ "ca-file", required_argument, NULL, OPT_CA_FILE },
		{ "trust-anchor", required_argument, NULL, OPT_TRUST_ANCHOR },
		{ "rua", required_argument, NULL, OPT_RUA },
		{ "no-smtp", no_argument, NULL, OPT_NO_SMTP },
		{ "db", required_argument, NULL, 'D' },
		{ "store", no_argument, NULL, OPT_STORE },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct live_opts	 o;
	struct check_run	 c;
	const char		**doms = NULL, *db = NULL;
	char			**owned = NULL;
	struct store		*st = NULL;
	int64_t			 now = 0;
	char			 err[512];
	size_t			 nd = 0, i;
	int64_t			 v, days = CHECK_DEFAULT_DAYS;
	int			 ch, all = 0, json = 0, rc = EXIT_NORUN, worst = 0;
	int			 ran = 0, store = 0;

	memset(&o, 0, sizeof(o));
	memset(&c, 0, sizeof(c));
	o.timeout_ms = LIM_LIVE_TIMEOUT_SEC * 1000;
	o.smtp = 1;
	o.smtp_port = 25;
	if ((doms = calloc(LIM_LIVE_DOMAINS_MAX, sizeof(*doms))) == NULL)
		return cli_fail("out of memory");
	while ((ch = getopt_long(argc, argv, "d:f:hn:", longopts, NULL)) !=
	    -1) {
		switch (ch) {
		case 'd':
			if (nd == LIM_LIVE_DOMAINS_MAX) {
				cli_fail("more than %d --domain",
				    LIM_LIVE_DOMAINS_MAX);
				goto out;
			}
			doms[nd++] = optarg;
			break;
		case OPT_ALL:
			all = 1;
			break;
		case 'n':
			if (util_strtoi64(optarg, 1, 36500, &days) == -1) {
				cli_fail("--days: \"%s\" is not a number of "
				    "days from 1 to 36500", optarg);
				goto out;
			}
			break;
		case 'f':
			if (strcmp(optarg, "json") == 0)
				json = 1;
			else if (strcmp(optarg, "text") == 0)
				json = 0;
			else {
				cli_fail("--format: \"%s\" is not text or "
				    "json", optarg);
				goto out;
			}
			break;
		case OPT_TIMEOUT:
			if (util_strtoi64(optarg, 1, LIM_LIVE_TIMEOUT_MAX_SEC,
			    &v) == -1) {
				cli_fail("--timeout: \"%s\" is not a number of "
				    "seconds from 1 to %d", optarg,
				    LIM_LIVE_TIMEOUT_MAX_SEC);
				goto out;
			}
			o.timeout_ms = (int)v * 1000;
			break;
		case OPT_RESOLVER:
			o.resolver = optarg;
			break;
		case OPT_CA_FILE:
			o.ca_file = optarg;
			break;
		case OPT_TRUST_ANCHOR:
			o.trust_anchor = optarg;
			break;
		case OPT_RUA:
			o.rua = optarg;
			break;
		case OPT_NO_SMTP:
			o.smtp = 0;
			break;
		case 'D':
			db = optarg;
			break;
		case OPT_STORE:
			store = 1;
			break;
		case 'h':
			fputs(usage_text, stdout);
			rc = EXIT_OK;
			goto out;
		default:
			fputs(usage_text, stderr);
			goto out;
		}
	}
	if (optind != argc) {
		cli_fail("check takes no arguments; use --domain D");
		goto out;
	}
	if (all && nd > 0) {
		cli_fail("--all and --domain exclude each other");
		goto out;
	}
	if (!all && nd == 0) {
		cli_fail("check needs --domain D or --all");
		goto out;
	}
	if (store && db == NULL && (getenv("TLSRPT_DB") == NULL ||
	    *getenv("TLSRPT_DB") == '\0')) {
		cli_fail("--store needs a database: --db CONNINFO or "
		    "$TLSRPT_DB");
		goto out;
	}
	if (o.ca_file != NULL && access(o.ca_file, R_OK) == -1) {
		cli_fail("--ca-file %s: %s", o.ca_file, strerror(errno));
		goto out;
	}
	if (o.trust_anchor != NULL && strcmp(o.trust_anchor, "none") != 0 &&
	    access(o.trust_anchor, R_OK) == -1) {
		cli_fail("--trust-anchor %s: %s", o.trust_anchor,
		    strerror(errno));
		goto out;
	}
	if (all) {
		if (check_all(db, days, &owned, &nd, LIM_LIVE_DOMAINS_MAX) ==
		    -1)
			goto out;
		for (i = 0; i < nd; i++)
			doms[i] = owned[i];
	}
	/* held against the reports when there is a database to ask */
	if (db != NULL || (getenv("TLSRPT_DB") != NULL &&
	    *getenv("TLSRPT_DB") != '\0')) {
		if (cli_now(&now) == -1 || (st = cli_open_store(db, 1)) ==
		    NULL)
			goto out;
	}
	if (json)
		printf("{\"days\": %" PRId64 ", \"held_against_reports\": %s, "
		    "\"domains\": [", days, st != NULL ? "true" : "false");
	c.st = st;
	c.days = days;
	c.now = now;
	c.json = json;
	c.store = store;
	if (live_check_many(&o, doms, nd, check_each, &c, err,
	    sizeof(err)) == -1) {
		if (json)
			fputs("]}\n", stdout);
		if (err[0] != '\0')
			cli_fail("check %s", err);
		goto out;
	}
	ran = c.ran;
	worst = c.worst;
	if (json)
		fputs("]}\n", stdout);
	rc = worst == LIVE_CRIT ? EXIT_CRIT : worst == LIVE_WARN ? EXIT_WARN :
	    EXIT_OK;
	if (c.store_failed || c.not_stored > 0)
		rc = EXIT_NORUN;	/* said why, after the domain's answer */
	if (all && ran == 0 && !json)
		printf("no policy domain has reports in the last %" PRId64
		    " days\n", days);
	if (!json && st == NULL)
		printf("(no --db and no $TLSRPT_DB: not held against the "
		    "stored reports)\n");
	if (!json && store)
		printf("(%zu of %d check%s stored; the newest %d of each domain "
		    "are kept)\n", c.stored, ran, ran == 1 ? "" : "s",
		    LIM_LIVE_CHECKS_KEPT);
out:
	store_close(st);
	if (fflush(stdout) == EOF && rc != EXIT_NORUN)
		rc = cli_fail("cannot write the output");
	for (i = 0; owned != NULL && i < nd; i++)
		free(owned[i]);
	free(owned);
	free(doms);
	return rc;
}

/* One domain done (live_check_many(), in the order given): held
 * against the reports, printed. */
static int
check_each(void *arg, size_t i, struct live_result *r)
{
	struct check_run	*c = arg;

	if (c->st != NULL && check_reports(c->st, c->days, c->now, r) == -1)
		return -1;
	c->ran++;
	if ((int)live_worst(r) > c->worst)
		c->worst = (int)live_worst(r);
	if (c->json)
		check_print_json(stdout, r, i);
	else
		check_print_text(r);
	if (c->store && !c->store_failed)
		check_store(c, r);
	return 0;
}

/*
 * --store: r into the database, as the JSON object check_print_json()
 * printed for it (schema/010_live_check.sql).  A failure is said in one
 * line after the domain's answer, and the exit status becomes 3.  When
 * the database is at fault (unreachable, read only, not migrated: any
 * error but a data error), no later domain is stored, the database
 * would refuse them too; they are all checked and printed.
 */
static void
check_store(struct check_run *c, const struct live_result *r)
{
	struct store_check_in	 in;
	FILE			*fp = NULL;
	char			*buf = NULL;
	const char		*why = NULL;
	size_t			 len = 0, i;
	int64_t			 now;
	int			 db = 0;

	memset(&in, 0, sizeof(in));
	in.domain = r->domain;
	in.result = live_sev_name(live_worst(r));
	for (i = 0; i < r->nf; i++)
		if (r->f[i].sev == LIVE_CRIT)
			in.critical++;
		else if (r->f[i].sev == LIVE_WARN)
			in.warnings++;
	/* held against the reports: with --store there is a database */
	in.report_days = (int)c->days;
	/* the answer first, then what went wrong with it */
	(void)fflush(stdout);
	if (cli_now(&now) == -1) {
		c->not_stored++;
		c->store_failed = 1;
		return;
	}
	in.checked_at = now;
	if ((fp = open_memstream(&buf, &len)) == NULL) {
		why = "cannot store the check: out of memory";
		goto out;
	}
	check_print_json(fp, r, 0);
	if (ferror(fp)) {
		(void)fclose(fp);
		why = "cannot store the check: out of memory";
		goto out;
	}
	if (fclose(fp) == EOF) {
		why = "cannot store the check: out of memory";
		goto out;
	}
	check_utf8(buf, len);
	in.json = buf;
	if (store_check_put(c->st, &in, LIM_LIVE_CHECKS_KEPT, NULL) == -1) {
		why = store_errstr(c->st);
		db = store_err_class(c->st) != STORE_EC_REPORT;
	} else
		c->stored++;
 out:
	if (why != NULL) {
		cli_fail("check --store: %s: %s%s", r->domain, why, db ?
		    "; the domains after it are not stored either" : "");
		c->not_stored++;
		c->store_failed |= db;
	}
	free(buf);
}

/*
 * What a name server or a policy server sent is passed on byte for byte,
 * but jsonb takes UTF-8 only: each byte of s that does not belong to a
 * well-formed UTF-8 sequence (RFC 3629 §4: no overlong forms, no
 * surrogates, nothing above U+10FFFF) becomes '?'.  JSON's own syntax is
 * ASCII, so the text stays JSON.
 */
static void
check_utf8(char *s, size_t len)
{
	unsigned char	*p = (unsigned char *)s, *end = p + len;
	unsigned char	 lo, hi;
	size_t		 n, k;

	while (p < end) {
		if (*p < 0x80) {
			p++;
			continue;
		}
		lo = 0x80;
		hi = 0xbf;
		if (*p >= 0xc2 && *p <= 0xdf)
			n = 1;
		else if (*p >= 0xe0 && *p <= 0xef) {
			n = 2;
			if (*p == 0xe0)
				lo = 0xa0;
			else if (*p == 0xed)
				hi = 0x9f;
		} else if (*p >= 0xf0 && *p <= 0xf4) {
			n = 3;
			if (*p == 0xf0)
				lo = 0x90;
			else if (*p == 0xf4)
				hi = 0x8f;
		} else {
			*p++ = '?';
			continue;
		}
		if ((size_t)(end - p) <= n || p[1] < lo || p[1] > hi) {
			*p++ = '?';
			continue;
		}
		for (k = 2; k <= n && p[k] >= 0x80 && p[k] <= 0xbf; k++)
			;
		if (k <= n) {
			*p++ = '?';
			continue;
		}
		p += n + 1;
	}
}

/* The policy domains with reports in the last days days, from the
 * store: *doms a new array of max entries, *nd of them new strings, all
 * freed by the caller (also after a failure). */
static int
check_all(const char *db, int64_t days, char ***doms, size_t *nd,
    size_t max)
{
	struct store_domain_summary	*s = NULL;
	struct store_window		 w;
	struct store			*st;
	size_t				 n = 0, i;
	int64_t				 now;
	int				 ret = -1;

	if ((*doms = calloc(max, sizeof(**doms))) == NULL) {
		cli_fail("out of memory");
		return -1;
	}
	if (cli_now(&now) == -1 || (st = cli_open_store(db, 1)) == NULL)
		return -1;
	memset(&w, 0, sizeof(w));
	w.since = now - days * CHECK_DAY_SECONDS;
	w.until = WINDOW_END_OF_TIME;
	if (store_summary(st, &w, &s, &n) == -1) {
		cli_fail("%s", store_errstr(st));
		goto out;
	}
	for (i = 0; i < n && *nd < max; i++) {
		if (s[i].domain[0] == '\0')
			continue;
		if (((*doms)[*nd] = strdup(s[i].domain)) == NULL) {
			cli_fail("out of memory");
			goto out;
		}
		(*nd)++;
	}
	ret = 0;
out:
	store_summary_free(s, n);
	store_close(st);
	return ret;
}

void
check_print_text(const struct live_result *r)
{
	const struct live_finding	*f;
	size_t				 i, nw = 0, nc = 0;

	for (i = 0; i < r->nf; i++)
		if (r->f[i].sev == LIVE_CRIT)
			nc++;
		else if (r->f[i].sev == LIVE_WARN)
			nw++;
	printf("%s: %s", r->domain, live_sev_name(live_worst(r)));
	if (nc + nw > 0)
		printf(" (%zu critical, %zu warning%s)", nc, nw,
		    nw == 1 ? "" : "s");
	putchar('\n');
	if (r->sts_id != NULL)
		printf("  _mta-sts id %s", r->sts_id);
	if (r->policy_ok)
		printf("%spolicy mode %s, max_age %" PRId64 ", %zu mx line%s",
		    r->sts_id != NULL ? "; " : "  ",
		    r->policy.mode == STS_MODE_ENFORCE ? "enforce" :
		    r->policy.mode == STS_MODE_TESTING ? "testing" : "none",
		    r->policy.max_age, r->policy.nmx,
		    r->policy.nmx == 1 ? "" : "s");
	if (r->sts_id != NULL || r->policy_ok)
		putchar('\n');
	for (i = 0; i < r->nmx; i++) {
		printf("  MX %d %s", r->mx[i].pref, r->mx[i].host);
		if (r->mx[i].starttls)
			printf(": TLS 1.%d, certificate %s", r->mx[i].tls_version
			    - 10, r->mx[i].cert_ok ? "valid" : "NOT valid");
		if (r->mx[i].starttls && r->mx[i].cert_days != INT64_MIN &&
		    r->mx[i].cert_days >= 0)
			printf(", %" PRId64 " days left", r->mx[i].cert_days);
		if (r->mx[i].dane != 0)
			printf(", DANE %s", r->mx[i].dane != 1 ? "MISMATCH" :
			    r->mx[i].dane_ee ? "match (DANE-EE)" : "match");
		putchar('\n');
	}
	for (i = 0; i < r->nf; i++) {
		f = &r->f[i];
		printf("  %-8s %s: %s (%s)\n           next: %s\n",
		    live_sev_name(f->sev), f->code, f->what, f->rfc, f->next);
	}
}

void
check_print_json(FILE *fp, const struct live_result *r, size_t idx)
{
	const struct live_finding	*f;
	const struct live_mx		*m;
	size_t				 i;

	fprintf(fp, "%s\n {\"domain\": ", idx > 0 ? "," : "");
	out_json_str(fp, r->domain);
	fprintf(fp, ", \"result\": \"%s\", \"sts_id\": ",
	    live_sev_name(live_worst(r)));
	if (r->sts_id != NULL)
		out_json_str(fp, r->sts_id);
	else
		fputs("null", fp);
	fputs(", \"policy\": ", fp);
	if (r->policy_ok) {
		fprintf(fp, "{\"mode\": \"%s\", \"max_age\": %" PRId64
		    ", \"mx\": [",
		    r->policy.mode == STS_MODE_ENFORCE ? "enforce" :
		    r->policy.mode == STS_MODE_TESTING ? "testing" : "none",
		    r->policy.max_age);
		for (i = 0; i < r->policy.nmx; i++) {
			fputs(i > 0 ? ", " : "", fp);
			out_json_str(fp, r->policy.mx[i]);
		}
		fputs("]}", fp);
	} else
		fputs("null", fp);
	fputs(", \"rua\": [", fp);
	for (i = 0; i < r->nrua; i++) {
		fputs(i > 0 ? ", " : "", fp);
		out_json_str(fp, r->rua[i]);
	}
	fputs("], \"mx\": [", fp);
	for (i = 0; i < r->nmx; i++) {
		m = &r->mx[i];
		fprintf(fp, "%s{\"host\": ", i > 0 ? ", " : "");
		out_json_str(fp, m->host);
		fprintf(fp, ", \"preference\": %d, \"covered\": %s", m->pref,
		    m->covered ? "true" : "false");
		if (m->probed) {
			fprintf(fp, ", \"starttls\": %s", m->starttls ? "true" :
			    "false");
			if (m->starttls)
				fprintf(fp, ", \"tls_version\": \"1.%d\", "
				    "\"certificate_valid\": %s",
				    m->tls_version - 10, m->cert_ok ? "true" :
				    "false");
			if (m->starttls && m->cert_days != INT64_MIN)
				fprintf(fp, ", \"certificate_days\": %" PRId64,
				    m->cert_days);
			if (m->dane != 0)
				fprintf(fp, ", \"dane\": \"%s\"", m->dane == 1 ?
				    "match" : "mismatch");
			if (m->dane_ee)
				fputs(", \"dane_ee\": true", fp);
		}
		fputc('}', fp);
	}
	fputs("], \"findings\": [", fp);
	for (i = 0; i < r->nf; i++) {
		f = &r->f[i];
		fprintf(fp, "%s\n  {\"severity\": \"%s\", \"code\": \"%s\", "
		    "\"what\": ", i > 0 ? "," : "", live_sev_name(f->sev),
		    f->code);
		out_json_str(fp, f->what);
		fputs(", \"rfc\": ", fp);
		out_json_str(fp, f->rfc);
		fputs(", \"next\": ", fp);
		out_json_str(fp, f->next);
		fputc('}', fp);
	}
	fputs("]}", fp);
}
