/*
 * window.c -- the window and format options the query commands share
 * (DESIGN.md: --since, --until, --days, --domain, --format).
 *
 * Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "util.h"

#define DAY_SECONDS	86400
#define DAYS_MAX	36600		/* a century */

int
window_option(struct query_opts *q, int opt, const char *arg)
{
	int64_t	v;
	size_t	i;

	switch (opt) {
	case 'S':
	case 'U':
		if (util_parse_date_or_datetime(arg, &v) == -1) {
			cli_fail("--%s: \"%s\" is not an RFC 3339 date "
			    "(2026-01-31) or date-time (2026-01-31T00:00:00Z)",
			    opt == 'S' ? "since" : "until", arg);
			return -1;
		}
		if (opt == 'S') {
			q->win.since = v;
			q->since_set = 1;
		} else {
			q->win.until = v;
			q->until_set = 1;
		}
		return 1;
	case 'n':
		if (util_strtoi64(arg, 1, DAYS_MAX, &v) == -1) {
			cli_fail("--days: \"%s\" is not a number of days from "
			    "1 to %d", arg, DAYS_MAX);
			return -1;
		}
		q->days = v;
		return 1;
	case 'd':
		if (q->win.ndomains == sizeof(q->domains) /
		    sizeof(q->domains[0])) {
			cli_fail("--domain: at most %zu domains",
			    sizeof(q->domains) / sizeof(q->domains[0]));
			return -1;
		}
		for (i = 0; arg[i] != '\0'; i++)
			if (arg[i] == ' ' || arg[i] == ',') {
				cli_fail("--domain: \"%s\" is not one domain; "
				    "repeat --domain for several", arg);
				return -1;
			}
		q->domains[q->win.ndomains++] = arg;
		q->win.domains = q->domains;
		return 1;
	case 'f':
		if (strcmp(arg, "text") == 0)
			q->format = FMT_TEXT;
		else if (strcmp(arg, "json") == 0)
			q->format = FMT_JSON;
		else if (strcmp(arg, "csv") == 0)
			q->format = FMT_CSV;
		else {
			cli_fail("--format: \"%s\" is not text, json or csv",
			    arg);
			return -1;
		}
		return 1;
	case 'D':
		q->db = arg;
		return 1;
	}
	return 0;
}

/*
 * Resolve the window: no option means every report; --days N ends at
 * --until or today 00:00 UTC; --since alone runs to the end of time.
 */
int
window_finish(struct query_opts *q, int64_t now)
{
	char	a[UTIL_TIME_BUFSZ], b[UTIL_TIME_BUFSZ];

	if (q->days != 0 && q->since_set) {
		cli_fail("use --since or --days, not both");
		return -1;
	}
	if (!q->until_set)
		q->win.until = q->days != 0 ?
		    now - (now % DAY_SECONDS + DAY_SECONDS) % DAY_SECONDS :
		    WINDOW_END_OF_TIME;
	if (q->days != 0)
		q->win.since = q->win.until - q->days * DAY_SECONDS;
	else if (!q->since_set)
		q->win.since = WINDOW_START_OF_TIME;
	if (q->win.since >= q->win.until) {
		util_format_datetime(q->win.since, a, sizeof(a));
		util_format_datetime(q->win.until, b, sizeof(b));
		cli_fail("empty window: --since %s is not before --until %s",
		    a, b);
		return -1;
	}
	return 0;
}

int
cli_now(int64_t *now)
{
	const char	*s = getenv("TLSRPT_NOW");

	if (s == NULL || *s == '\0') {
		*now = (int64_t)time(NULL);
		return 0;
	}
	if (util_parse_date_or_datetime(s, now) == -1) {
		cli_fail("TLSRPT_NOW: \"%s\" is not an RFC 3339 date or "
		    "date-time", s);
		return -1;
	}
	return 0;
}
