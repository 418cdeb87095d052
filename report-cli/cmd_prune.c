/*
 * cmd_prune.c -- tlsrpt prune --older-than DAYS [--dry-run]: retention.
 *
 * Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
 *
 * The cutoff is today 00:00 UTC minus DAYS days; store_prune() removes
 * what is older, in short transactions (store/store_prune.c).
 */

#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "store_check.h"
#include "util.h"

#define PRUNE_DAY_SECONDS	86400
#define PRUNE_DAYS_MAX		100000	/* 273 years: any real history */

enum {
	OPT_OLDER_THAN = 1000,
	OPT_DRY_RUN,
	OPT_BATCH,
};

static const char usage_text[] =
"usage: tlsrpt prune --older-than DAYS [--dry-run] [--batch N] [--db C]\n"
"\n"
"Removes what is older than DAYS whole days (the cutoff is today 00:00\n"
"UTC minus DAYS days): the reports whose date range ended by the cutoff,\n"
"with their policies, failure details, raw bodies and content variants,\n"
"and arrivals; the rollup rows of periods starting before it; the\n"
"rejections received before it, and their arrivals; the live checks\n"
"(tlsrpt check --store) made before it.  The days kept are\n"
"untouched.  Deletes in short transactions, so that ingest goes on\n"
"meanwhile; run again, it finishes what an interrupted run left.\n"
"Prints the cutoff and the rows removed per table.\n"
"\n"
"     --older-than DAYS  keep the last DAYS days and today (at least 1)\n"
"     --dry-run          print what would be removed; remove nothing\n"
"     --batch N          reports per transaction (default 1000; rollup,\n"
"                        rejection, arrival and live check rows: ten\n"
"                        times as many)\n"
"     --db CONNINFO      libpq connection string or URI (default:\n"
"                        $TLSRPT_DB, then libpq's PGHOST, PGDATABASE, ...)\n"
"\n"
"TLSRPT_NOW (an RFC 3339 date-time) replaces the clock, for tests.\n"
"\n"
"Exit status: 0 done, 3 could not run.\n";

static void	print_counts(const char *, const struct store_prune_counts *);

int
cmd_prune(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "older-than", required_argument, NULL, OPT_OLDER_THAN },
		{ "dry-run", no_argument, NULL, OPT_DRY_RUN },
		{ "batch", required_argument, NULL, OPT_BATCH },
		{ "db", required_argument, NULL, 'D' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct store_prune_counts c;
	struct store	*st = NULL;
	const char	*db = NULL;
	char		 cut[UTIL_TIME_BUFSZ];
	int64_t		 days = -1, batch = STORE_PRUNE_BATCH, now, cutoff;
	int64_t		 nchecks = 0;
	int		 ch, dry = 0, rc = EXIT_NORUN;

	while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (ch) {
		case OPT_OLDER_THAN:
			if (util_strtoi64(optarg, 1, PRUNE_DAYS_MAX, &days) ==
			    -1)
				return cli_fail("--older-than: \"%s\" is not a "
				    "number of days from 1 to %d", optarg,
				    PRUNE_DAYS_MAX);
			break;
		case OPT_DRY_RUN:
			dry = 1;
			break;
		case OPT_BATCH:
			if (util_strtoi64(optarg, 1, 100000, &batch) == -1)
				return cli_fail("--batch: \"%s\" is not a "
				    "number from 1 to 100000", optarg);
			break;
		case 'D':
			db = optarg;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return EXIT_OK;
		default:
			fputs(usage_text, stderr);
			return EXIT_NORUN;
		}
	}
	if (optind != argc)
		return cli_fail("prune takes no arguments");
	if (days == -1)
		return cli_fail("prune needs --older-than DAYS");
	if (cli_now(&now) == -1)
		return EXIT_NORUN;
	cutoff = now - ((now % PRUNE_DAY_SECONDS + PRUNE_DAY_SECONDS) %
	    PRUNE_DAY_SECONDS) - days * PRUNE_DAY_SECONDS;
	util_format_datetime(cutoff, cut, sizeof(cut));

	if ((st = cli_open_store(db, 1)) == NULL)
		return EXIT_NORUN;
	printf("cutoff %s (older than %" PRId64 " day%s)\n", cut, days,
	    days == 1 ? "" : "s");
	if (dry) {
		if (store_prune_count(st, cutoff, &c) == -1 ||
		    store_check_prune_count(st, cutoff, &nchecks) == -1) {
			cli_fail("%s", store_errstr(st));
			goto out;
		}
		print_counts("would remove", &c);
	} else if (store_prune(st, cutoff, (size_t)batch, &c) == -1) {
		print_counts("removed before the failure", &c);
		cli_fail("%s; run it again to finish", store_errstr(st));
		goto out;
	} else if (store_check_prune(st, cutoff, (size_t)batch *
	    STORE_PRUNE_ROWS_PER_REPORT, &nchecks) == -1) {
		print_counts("removed", &c);
		printf("  %-18s %12" PRId64 "\n", "live checks", nchecks);
		cli_fail("%s; run it again to finish", store_errstr(st));
		goto out;
	} else
		print_counts("removed", &c);
	/* schema/010_live_check.sql: the stored tlsrpt check results */
	printf("  %-18s %12" PRId64 "\n", "live checks", nchecks);
	rc = EXIT_OK;
 out:
	store_close(st);
	return rc;
}

static void
print_counts(const char *head, const struct store_prune_counts *c)
{
	printf("%s:\n", head);
	printf("  %-18s %12" PRId64 "\n", "reports", c->reports);
	printf("  %-18s %12" PRId64 "\n", "policies", c->policies);
	printf("  %-18s %12" PRId64 "\n", "failure details", c->details);
	printf("  %-18s %12" PRId64 "\n", "raw bodies", c->raws);
	printf("  %-18s %12" PRId64 "\n", "report arrivals", c->arrivals);
	printf("  %-18s %12" PRId64 "\n", "rollup rows", c->rollup);
	printf("  %-18s %12" PRId64 "\n", "rejections", c->rejections);
	printf("  %-18s %12" PRId64 "\n", "other arrivals",
	    c->other_arrivals);
}
