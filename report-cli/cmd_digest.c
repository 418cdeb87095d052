/*
 * cmd_digest.c -- tlsrpt digest: its options, and the assembly of the
 * model (digest.c), the two views (digest_text.c, digest_html.c) and the
 * message (digest_mime.c), for cron:
 * `tlsrpt digest --to admin@example.com | /usr/sbin/sendmail -t`.
 *
 * Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
 */

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "digest.h"
#include "digest_live.h"
#include "live.h"
#include "tlsrpt_limits.h"
#include "util.h"
#include "writers.h"

#define ADDR_MAX	16	/* --to addresses */

enum {
	OPT_LIVE = 1000,
	OPT_RESOLVER,
	OPT_CA_FILE,
	OPT_TRUST_ANCHOR,
	OPT_TIMEOUT,
};

static const char usage_text[] =
"usage: tlsrpt digest [--to ADDR ...] [--from ADDR] [--subject TEXT]\n"
"                     [--days N (1) | --since WHEN] [--until WHEN]\n"
"                     [--domain D ...] [--db C]\n"
"                     [--live [--resolver ADDR[@PORT]] [--ca-file PEM]\n"
"                      [--trust-anchor FILE|none] [--timeout SEC (30)]]\n"
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
"     --live         also check each domain's live setup now (tlsrpt\n"
"                    check, up to 32 at once, each within --timeout): a\n"
"                    domain with live findings shows them and its MX\n"
"                    certificates' days to expiry, and its status is\n"
"                    the worse of the reports' and the live one\n"
"     --resolver ADDR[@PORT], --ca-file PEM, --trust-anchor FILE|none,\n"
"     --timeout SEC  for --live, as for tlsrpt check\n"
WINDOW_HELP
"\n"
"TLSRPT_NOW (an RFC 3339 date-time) replaces the clock, for tests.\n"
"\n"
"Exit status: 0 all OK, 1 warnings, 2 critical, 3 could not run.\n";

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
		{ "live", no_argument, NULL, OPT_LIVE },
		{ "resolver", required_argument, NULL, OPT_RESOLVER },
		{ "ca-file", required_argument, NULL, OPT_CA_FILE },
		{ "trust-anchor", required_argument, NULL, OPT_TRUST_ANCHOR },
		{ "timeout", required_argument, NULL, OPT_TIMEOUT },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct query_opts	 q;
	struct digest		 dg;
	struct digest_envelope	 env;
	struct store		*st = NULL;
	struct live_opts	 lo;
	struct digest_lives	 ls;
	const char		*to[ADDR_MAX];
	char			 host[256];
	int64_t			 now, tmo;
	int			 ch, r, rc = EXIT_NORUN, live = 0;

	memset(&ls, 0, sizeof(ls));
	memset(&lo, 0, sizeof(lo));
	lo.timeout_ms = LIM_LIVE_TIMEOUT_SEC * 1000;
	lo.smtp = 1;
	lo.smtp_port = 25;
	memset(&q, 0, sizeof(q));
	memset(&dg, 0, sizeof(dg));
	memset(&env, 0, sizeof(env));
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
			if (env.nto == ADDR_MAX)
				return cli_fail("--to: at most %d addresses",
				    ADDR_MAX);
			to[env.nto++] = optarg;
			continue;
		case 'F':
			if (!header_safe("--from", optarg))
				return EXIT_NORUN;
			if (!is_addr(optarg))
				return cli_fail("--from: \"%s\" is not a mail "
				    "address (user@domain)", optarg);
			env.from = optarg;
			continue;
		case 's':
			if (!header_safe("--subject", optarg))
				return EXIT_NORUN;
			env.subject = optarg;
			continue;
		case OPT_LIVE:
			live = 1;
			continue;
		case OPT_RESOLVER:
			lo.resolver = optarg;
			continue;
		case OPT_CA_FILE:
			if (access(optarg, R_OK) == -1)
				return cli_fail("--ca-file %s: cannot be read",
				    optarg);
			lo.ca_file = optarg;
			continue;
		case OPT_TRUST_ANCHOR:
			if (strcmp(optarg, "none") != 0 &&
			    access(optarg, R_OK) == -1)
				return cli_fail("--trust-anchor %s: cannot be "
				    "read", optarg);
			lo.trust_anchor = optarg;
			continue;
		case OPT_TIMEOUT:
			if (util_strtoi64(optarg, 1, LIM_LIVE_TIMEOUT_MAX_SEC,
			    &tmo) == -1)
				return cli_fail("--timeout: \"%s\" is not a "
				    "number of seconds from 1 to %d", optarg,
				    LIM_LIVE_TIMEOUT_MAX_SEC);
			lo.timeout_ms = (int)tmo * 1000;
			continue;
		}
		if ((r = window_option(&q, ch, optarg)) == -1)
			return EXIT_NORUN;
		if (r == 0) {
			fputs(usage_text, stderr);
			return EXIT_NORUN;
		}
	}
	if (optind != argc)
		return cli_fail("digest takes no arguments (\"%s\"); see "
		    "tlsrpt digest --help", argv[optind]);
	if (q.format != FMT_TEXT)
		return cli_fail("digest: the message has a text and an HTML "
		    "part; --format does not apply");
	if (q.days == 0 && !q.since_set)
		q.days = 1;
	if (cli_now(&now) == -1 || window_finish(&q, now) == -1)
		return EXIT_NORUN;
	if (q.win.until == WINDOW_END_OF_TIME)
		return cli_fail("digest: give --until or --days: the previous "
		    "period needs a window of known length");
	if (gethostname(host, sizeof(host)) == -1 || host[0] == '\0')
		snprintf(host, sizeof(host), "localhost");
	host[sizeof(host) - 1] = '\0';
	env.to = to;
	env.host = host;
	env.now = now;
	if ((st = cli_open_store(q.db, 1)) == NULL)
		return EXIT_NORUN;
	if ((r = digest_compute(&dg, st, &q.win)) == -1) {
		cli_fail("digest failed: %s", store_errstr(st));
		goto out;
	}
	if (r == -2) {
		cli_fail("digest: out of memory");
		goto out;
	}
	/* the network is asked here, never by the model */
	if (live && digest_live_run(&dg, &lo, &ls) == -1)
		goto out;
	if (digest_write_message(&dg, &env, stdout) == -1) {
		cli_fail("digest: out of memory");
		goto out;
	}
	rc = dg.worst;
	if (fflush(stdout) == EOF || ferror(stdout))
		rc = cli_fail("cannot write the digest to stdout");
 out:
	digest_free(&dg);
	digest_lives_free(&ls);
	store_close(st);
	return rc;
}
