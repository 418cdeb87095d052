/*
 * json_testutil.c -- report JSON written in the tests, see json_testutil.h.
 *
 * Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
 */

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "ingest.h"
#include "json_testutil.h"

struct tlsrpt_report *
stu_parse(const char *json)
{
	struct ingest_limits	 lim;
	struct ingest_err	 err;
	struct tlsrpt_report	*rep = NULL;
	enum ingest_status	 s;

	ingest_limits_default(&lim);
	s = ingest_payload((const unsigned char *)json, strlen(json), NULL,
	    &lim, &rep, &err);
	cr_assert(s == INGEST_OK, "ingest_payload: %s: %s",
	    ingest_status_str(s), err.msg);
	return rep;
}

static char *
fmt(const char *f, ...)
{
	va_list	 ap;
	char	*s = NULL;
	int	 n;

	va_start(ap, f);
	n = vsnprintf(NULL, 0, f, ap);
	va_end(ap);
	cr_assert(n >= 0 && (s = malloc((size_t)n + 1)) != NULL);
	va_start(ap, f);
	vsnprintf(s, (size_t)n + 1, f, ap);
	va_end(ap);
	return s;
}

char *
stu_report(const char *org, const char *id, const char *day,
    const char *policies)
{
	return fmt("{\"organization-name\":\"%s\",\"date-range\":"
	    "{\"start-datetime\":\"%sT00:00:00Z\",\"end-datetime\":"
	    "\"%sT23:59:59Z\"},\"contact-info\":\"tlsrpt@%s\","
	    "\"report-id\":\"%s\",\"policies\":[%s]}", org, day, day, org,
	    id, policies);
}

char *
stu_policy(const char *type, const char *domain, long ok, long failed,
    const char *details)
{
	return fmt("{\"policy\":{\"policy-type\":\"%s\",\"policy-domain\":"
	    "\"%s\"%s},\"summary\":{\"total-successful-session-count\":%ld,"
	    "\"total-failure-session-count\":%ld}%s%s%s}", type, domain,
	    strcmp(type, "sts") == 0 ? ",\"policy-string\":[\"version: STSv1\","
	    "\"mode: testing\",\"mx: *.example.net\",\"max_age: 86400\"],"
	    "\"mx-host\":[\"*.example.net\"]" : "", ok, failed,
	    details != NULL ? ",\"failure-details\":[" : "",
	    details != NULL ? details : "", details != NULL ? "]" : "");
}

char *
stu_detail(const char *result_type, const char *mx, long failed)
{
	return fmt("{\"result-type\":\"%s\",\"sending-mta-ip\":\"192.0.2.1\","
	    "\"receiving-ip\":\"2001:db8::25\",\"receiving-mx-hostname\":"
	    "\"%s\",\"failed-session-count\":%ld}", result_type, mx, failed);
}

char *
stu_join(char *first, ...)
{
	va_list	 ap;
	char	*acc = first, *next, *tmp;

	va_start(ap, first);
	while ((next = va_arg(ap, char *)) != NULL) {
		tmp = fmt("%s,%s", acc, next);
		free(acc);
		free(next);
		acc = tmp;
	}
	va_end(ap);
	return acc;
}
