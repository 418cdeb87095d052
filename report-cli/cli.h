/*
 * cli.h -- shared by the tlsrpt subcommands: option plumbing, windows,
 * output helpers, exit codes.
 *
 * Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
 */

#ifndef TLSRPT_CLI_H
#define TLSRPT_CLI_H

#include <stdint.h>
#include <stdio.h>

#include "model.h"	/* WINDOW_START_OF_TIME, WINDOW_END_OF_TIME */
#include "out.h"
#include "store.h"

#define TLSRPT_VERSION	"0.1.0"

/* The --help line of --db, for a command whose options align at 20. */
#define CLI_HELP_DB							\
"     --db CONNINFO  libpq connection string or URI (default: $TLSRPT_DB,\n"\
"                    then libpq's PGHOST, PGDATABASE, ...)\n"

/* Exit codes (DESIGN.md, Nagios convention). */
#define EXIT_OK		0
#define EXIT_WARN	1	/* import: something was rejected */
#define EXIT_CRIT	2
#define EXIT_NORUN	3	/* bad option, database unreachable */

enum out_format {
	FMT_TEXT = 0,
	FMT_JSON,
	FMT_CSV,
};

/* Options every query command shares. */
struct query_opts {
	const char		*db;
	struct store_window	 win;
	const char		*domains[64];
	int64_t			 days;		/* 0: not given */
	int			 since_set, until_set;
	enum out_format		 format;
};

int	cmd_migrate(int, char **);
int	cmd_import(int, char **);
int	cmd_summary(int, char **);
int	cmd_failures(int, char **);
int	cmd_readiness(int, char **);
int	cmd_digest(int, char **);
int	cmd_prune(int, char **);
int	cmd_check(int, char **);
int	cmd_raw(int, char **);

/* Prints "tlsrpt: <msg>" to stderr; returns EXIT_NORUN. */
int	cli_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Connects and checks the schema; NULL after printing why. */
struct store	*cli_open_store(const char *db, int need_schema);

/*
 * Query options: --since, --until, --days, --domain, --format, --db.
 * Returns 1 when opt was one of them (consumed), 0 when not, -1 on a bad
 * value (message printed).  now is the current time (injected for tests).
 */
int	window_option(struct query_opts *, int opt, const char *arg);
int	window_finish(struct query_opts *, int64_t now);
#define WINDOW_LONGOPTS							\
	{ "since", required_argument, NULL, 'S' },			\
	{ "until", required_argument, NULL, 'U' },			\
	{ "days", required_argument, NULL, 'n' },			\
	{ "domain", required_argument, NULL, 'd' },			\
	{ "format", required_argument, NULL, 'f' },			\
	{ "db", required_argument, NULL, 'D' }
#define WINDOW_OPTSTRING	"d:f:n:"
#define WINDOW_HELP							\
"     --since WHEN   window start, RFC 3339 date or date-time (UTC)\n"	\
"     --until WHEN   window end, exclusive (with --days: default today\n" \
"                    00:00 UTC, so today's partial day is left out)\n" \
" -n, --days N       the N days before --until\n"			\
"                    (no window option: every stored report)\n"	\
" -d, --domain D     only policy domain D (repeatable)\n"		\
" -f, --format F     text (default), json or csv\n"			\
"     --db CONNINFO  libpq connection string or URI (default: $TLSRPT_DB,\n" \
"                    then libpq's PGHOST, PGDATABASE, ...)\n"

/*
 * The current time: $TLSRPT_NOW (an RFC 3339 date-time, for tests and
 * for re-running a day's digest) when set, else the clock.  Returns 0,
 * or -1 after printing why $TLSRPT_NOW is bad.
 */
int	cli_now(int64_t *now);

#endif
