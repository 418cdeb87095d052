/*
 * cmd_migrate.c -- tlsrpt migrate: apply pending schema migrations.
 *
 * Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
 */

#include <getopt.h>
#include <stdio.h>

#include "cli.h"

static const char usage_text[] =
"usage: tlsrpt migrate [--db CONNINFO]\n"
"\n"
"Creates the tlsrpt schema in the database, or applies the migrations it\n"
"lacks, each in its own transaction.  Safe to run twice, and at the same\n"
"time from several hosts.  Prints how many migrations were applied.\n"
"\n"
CLI_HELP_DB
"\n"
"Exit status: 0 done, 3 could not run.\n";

int
cmd_migrate(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "db", required_argument, NULL, 'D' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct store	*st;
	const char	*db = NULL;
	int		 ch, applied = 0, rc = EXIT_NORUN;

	while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (ch) {
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
		return cli_fail("migrate takes no arguments");
	if ((st = cli_open_store(db, 0)) == NULL)
		return EXIT_NORUN;
	if (store_migrate(st, &applied) == -1) {
		cli_fail("migration failed: %s", store_errstr(st));
		goto out;
	}
	if (applied == 0)
		printf("schema is up to date\n");
	else
		printf("applied %d migration%s\n", applied,
		    applied == 1 ? "" : "s");
	rc = EXIT_OK;
 out:
	store_close(st);
	return rc;
}
