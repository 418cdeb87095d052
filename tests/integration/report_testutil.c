/*
 * report_testutil.c -- see report_testutil.h.  Runs bin/tlsrpt the way
 * test_cli.c does: popen with --db appended, TLSRPT_BIN naming the binary.
 *
 * Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
 */

#define _GNU_SOURCE
#include <sys/wait.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "ingest.h"
#include "report_testutil.h"
#include "store.h"
#include "testutil.h"
#include "util.h"

static char *
fmt(const char *f, ...)
{
	va_list	 ap;
	char	*s = NULL;

	va_start(ap, f);
	cr_assert_geq(vasprintf(&s, f, ap), 0);
	va_end(ap);
	return s;
}

/* A JSON array of strings from '|'-separated s. */
static char *
jarray(const char *s)
{
	struct tu_str	 o = { 0 };
	const char	*p;

	tu_str_add(&o, "[\"");
	for (p = s; *p != '\0'; p++)
		if (*p == '|')
			tu_str_add(&o, "\",\"");
		else
			tu_str_add(&o, "%c", *p);
	tu_str_add(&o, "\"]");
	return o.s;
}

char *
rtu_sts(const char *domain, const char *lines, long ok, long failed,
    const char *details)
{
	char	*ps = NULL, *r;

	if (lines != NULL)
		ps = jarray(lines);
	r = fmt("{\"policy\":{\"policy-type\":\"sts\",\"policy-domain\":"
	    "\"%s\"%s%s},\"summary\":{\"total-successful-session-count\":%ld,"
	    "\"total-failure-session-count\":%ld}%s%s%s}", domain,
	    ps != NULL ? ",\"policy-string\":" : "", ps != NULL ? ps : "", ok,
	    failed, details != NULL ? ",\"failure-details\":[" : "",
	    details != NULL ? details : "", details != NULL ? "]" : "");
	free(ps);
	return r;
}

char *
rtu_other(const char *type, const char *domain, const char *mx, long ok,
    long failed, const char *details)
{
	return fmt("{\"policy\":{\"policy-type\":\"%s\",\"policy-domain\":"
	    "\"%s\"%s%s%s},\"summary\":{\"total-successful-session-count\":"
	    "%ld,\"total-failure-session-count\":%ld}%s%s%s}", type, domain,
	    mx != NULL ? ",\"mx-host\":[\"" : "", mx != NULL ? mx : "",
	    mx != NULL ? "\"]" : "", ok, failed,
	    details != NULL ? ",\"failure-details\":[" : "",
	    details != NULL ? details : "", details != NULL ? "]" : "");
}

char *
rtu_detail(const char *result_type, const char *mx, const char *sip,
    const char *rip, const char *reason, long failed)
{
	struct tu_str	o = { 0 };

	tu_str_add(&o, "{\"result-type\":\"%s\"", result_type);
	if (sip != NULL)
		tu_str_add(&o, ",\"sending-mta-ip\":\"%s\"", sip);
	if (rip != NULL)
		tu_str_add(&o, ",\"receiving-ip\":\"%s\"", rip);
	if (mx != NULL)
		tu_str_add(&o, ",\"receiving-mx-hostname\":\"%s\"", mx);
	if (reason != NULL)
		tu_str_add(&o, ",\"failure-reason-code\":\"%s\"", reason);
	tu_str_add(&o, ",\"failed-session-count\":%ld}", failed);
	return o.s;
}

const char *
rtu_lines(const char *mode, const char *mx)
{
	static char	buf[512];

	snprintf(buf, sizeof(buf), "version: STSv1|mode: %s|mx: %s|"
	    "max_age: 86400", mode, mx);
	return buf;
}

void
rtu_put(struct store *st, const char *org, const char *id, const char *day,
    char *policies)
{
	struct tlsrpt_report	*rep;
	struct store_arrival	 arr = { "file", "test", 1767916800 };
	enum store_outcome	 out;
	char			*json;

	json = stu_report(org, id, day, policies);
	rep = stu_parse(json);
	cr_assert_eq(store_put_reports(st, &rep, &arr, 1, &out), 0, "%s",
	    store_errstr(st));
	cr_assert_eq(out, STORE_STORED, "%s %s: %s", org, id,
	    store_put_why(st, 0) != NULL ? store_put_why(st, 0) : "?");
	tlsrpt_report_free(rep);
	free(json);
	free(policies);
}

const char *
rtu_day(const char *day, int n)
{
	static char	buf[UTIL_TIME_BUFSZ];
	int64_t		t;

	cr_assert_eq(util_parse_date_or_datetime(day, &t), 0);
	util_format_datetime(t + (int64_t)n * 86400, buf, sizeof(buf));
	buf[10] = '\0';
	return buf;
}

struct rtu_run
rtu_tlsrpt(const struct stu_db *db, const char *env, const char *f, ...)
{
	struct rtu_run	 r = { 0, NULL };
	struct tu_str	 out = { 0 };
	const char	*b = getenv("TLSRPT_BIN");
	char		*args = NULL, *cmd = NULL, line[4096];
	va_list		 ap;
	FILE		*p;
	int		 st;

	va_start(ap, f);
	cr_assert_geq(vasprintf(&args, f, ap), 0);
	va_end(ap);
	cr_assert_geq(asprintf(&cmd, "%s %s %s --db '%s' 2>&1",
	    env != NULL ? env : "",
	    b != NULL && *b != '\0' ? b : "bin/tlsrpt", args, db->conninfo),
	    0);
	p = popen(cmd, "r");
	cr_assert_not_null(p, "cannot run %s", cmd);
	tu_str_add(&out, "%s", "");
	while (fgets(line, sizeof(line), p) != NULL)
		tu_str_add(&out, "%s", line);
	st = pclose(p);
	cr_assert(WIFEXITED(st), "%s: did not exit", cmd);
	r.status = WEXITSTATUS(st);
	r.out = out.s;
	free(args);
	free(cmd);
	return r;
}
