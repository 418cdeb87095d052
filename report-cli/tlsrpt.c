/*
 * tlsrpt.c -- main() of the tlsrpt command: dispatch to subcommands.
 *
 * Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
 */

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const struct {
	const char	*name;
	int		(*fn)(int, char **);
	const char	*what;
} cmds[] = {
	{ "migrate", cmd_migrate, "create or upgrade the database schema" },
	{ "import", cmd_import, "import reports from files, Maildirs or stdin" },
	{ "summary", cmd_summary, "sessions, failures and flags per domain" },
	{ "failures", cmd_failures, "failed sessions by result type, MX, "
	    "reporter, IP" },
	{ "readiness", cmd_readiness, "can a domain switch MTA-STS to "
	    "enforce?" },
	{ "digest", cmd_digest, "a daily mail for cron: | sendmail -t" },
	{ "prune", cmd_prune, "remove reports older than N days" },
	{ "raw", cmd_raw, "a stored report's JSON as it arrived" },
	{ "check", cmd_check, "the live MTA-STS, TLS-RPT and MX setup of a "
	    "domain" },
};

static void
usage(FILE *f)
{
	size_t	i;

	fprintf(f,
"usage: tlsrpt COMMAND [OPTIONS] [ARGS]\n"
"\n"
"Collects SMTP TLS reports (RFC 8460) in PostgreSQL and tells what they\n"
"mean.  Commands:\n\n");
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		fprintf(f, "  %-9s %s\n", cmds[i].name, cmds[i].what);
	fprintf(f,
"\n"
"Every command takes --db CONNINFO (a libpq connection string or\n"
"postgresql:// URI; default: $TLSRPT_DB, then libpq's PGHOST, PGDATABASE,\n"
"...) and --help.  `tlsrpt COMMAND --help` describes each.\n"
"\n"
"Exit status: 0 nothing to flag, 1 warnings (import: something was\n"
"rejected), 2 critical flags, 3 could not run.\n");
}

int
cli_fail(const char *fmt, ...)
{
	va_list	ap;

	fputs("tlsrpt: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return EXIT_NORUN;
}

struct store *
cli_open_store(const char *db, int need_schema)
{
	struct store	*st;
	char		 err[512];

	if ((st = store_open(db, err, sizeof(err))) == NULL) {
		cli_fail("cannot connect to the database: %s", err);
		return NULL;
	}
	if (need_schema && store_check_schema(st) == -1) {
		cli_fail("%s", store_errstr(st));
		store_close(st);
		return NULL;
	}
	return st;
}

int
main(int argc, char **argv)
{
	size_t	i;

	if (argc < 2) {
		usage(stderr);
		return EXIT_NORUN;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return EXIT_OK;
	}
	if (strcmp(argv[1], "--version") == 0) {
		printf("tlsrpt %s\n", TLSRPT_VERSION);
		return EXIT_OK;
	}
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (strcmp(argv[1], cmds[i].name) == 0)
			return cmds[i].fn(argc - 1, argv + 1);
	return cli_fail("unknown command \"%s\"; try tlsrpt --help", argv[1]);
}
