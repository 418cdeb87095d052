/*
 * identity_testutil.c -- reports in the shapes of the identity tests,
 * see identity_testutil.h.
 *
 * Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
 */

#define _GNU_SOURCE	/* asprintf */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <nettle/sha2.h>
#include <zlib.h>

#include "identity_testutil.h"
#include "ingest.h"
#include "json_testutil.h"

/* stu_policy() and stu_report() that free what they are given. */
char *
pol(const char *type, const char *domain, long ok, long failed,
    char *details)
{
	char	*s;

	s = stu_policy(type, domain, ok, failed, details);
	free(details);
	return s;
}

char *
report(const char *org, const char *id, const char *day, char *policies)
{
	char	*s;

	s = stu_report(org, id, day, policies);
	free(policies);
	return s;
}

/* --- sys4 shapes ---------------------------------------------------- */

/* The report as reportd renders it (json.dumps, default separators). */
char *
sys4_json(const char *report_id, long ok)
{
	char	*s;

	cr_assert_geq(asprintf(&s, "{\"organization-name\": \"Sender Mail"
	    " Ltd\", \"date-range\": {\"start-datetime\":"
	    " \"2026-11-30T00:00:00Z\", \"end-datetime\":"
	    " \"2026-11-30T23:59:59Z\"}, \"contact-info\":"
	    " \"tlsrpt@" SUBMITTER "\", \"policies\": [{\"summary\":"
	    " {\"total-failure-session-count\": 0,"
	    " \"total-successful-session-count\": %ld}, \"policy\":"
	    " {\"policy-type\": \"no-policy-found\"}, \"failure-details\":"
	    " []}], \"report-id\": \"%s\"}", ok, report_id), 0);
	return s;
}

unsigned char *
gzip_of(const char *s, size_t *len)
{
	z_stream	 z;
	unsigned char	*out;
	size_t		 cap = strlen(s) + 256;

	cr_assert_not_null(out = malloc(cap));
	memset(&z, 0, sizeof(z));
	cr_assert_eq(deflateInit2(&z, 9, Z_DEFLATED, 31, 8,
	    Z_DEFAULT_STRATEGY), Z_OK);
	z.next_in = (unsigned char *)(uintptr_t)s;
	z.avail_in = (unsigned)strlen(s);
	z.next_out = out;
	z.avail_out = (unsigned)cap;
	cr_assert_eq(deflate(&z, Z_FINISH), Z_STREAM_END);
	*len = cap - z.avail_out;
	deflateEnd(&z);
	return out;
}

/* base64 in lines of 76, CRLF (Python's email, policy SMTP). */
static char *
base64_lines(const unsigned char *p, size_t n)
{
	static const char	 b64[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	char			*o, *q;
	size_t			 i, col = 0;
	uint32_t		 v;

	cr_assert_not_null(o = malloc(n * 2 + 16));
	q = o;
	for (i = 0; i < n; i += 3) {
		v = (uint32_t)p[i] << 16;
		if (i + 1 < n)
			v |= (uint32_t)p[i + 1] << 8;
		if (i + 2 < n)
			v |= p[i + 2];
		*q++ = b64[v >> 18 & 63];
		*q++ = b64[v >> 12 & 63];
		*q++ = i + 1 < n ? b64[v >> 6 & 63] : '=';
		*q++ = i + 2 < n ? b64[v & 63] : '=';
		if ((col += 4) == 76) {
			*q++ = '\r';
			*q++ = '\n';
			col = 0;
		}
	}
	if (col > 0) {
		*q++ = '\r';
		*q++ = '\n';
	}
	*q = '\0';
	return o;
}

/* The reportd mail of json (send_out_report_to_mail). */
char *
sys4_mail(const char *json, const char *report_id, const char *domain)
{
	unsigned char	*gz;
	char		*b, *m;
	size_t		 gzlen;

	gz = gzip_of(json, &gzlen);
	b = base64_lines(gz, gzlen);
	cr_assert_geq(asprintf(&m,
	    "Subject: Report Domain: %s Submitter: " SUBMITTER
	    " Report-ID: <%s@" SUBMITTER ">\r\n"
	    "From: tlsrpt-noreply@" SUBMITTER "\r\n"
	    "To: tlsrpt@%s\r\n"
	    "Message-ID: <176409720123.4242.1234567890@" SUBMITTER ">\r\n"
	    "TLS-Report-Domain: %s\r\n"
	    "TLS-Report-Submitter: " SUBMITTER "\r\n"
	    "TLS-Required: No\r\n"
	    "MIME-Version: 1.0\r\n"
	    "Content-Type: multipart/report; report-type=\"tlsrpt\";"
	    " boundary=\"===============4242424242424242424==\"\r\n"
	    "\r\n"
	    "--===============4242424242424242424==\r\n"
	    "Content-Type: text/plain; charset=\"us-ascii\"\r\n"
	    "Content-Transfer-Encoding: 7bit\r\n"
	    "\r\n"
	    "This is an aggregate TLS report from Sender Mail Ltd\r\n"
	    "\r\n"
	    "--===============4242424242424242424==\r\n"
	    "Content-Type: application/tlsrpt+gzip\r\n"
	    "Content-Transfer-Encoding: base64\r\n"
	    "Content-Disposition: attachment;\r\n"
	    " filename=\"" SUBMITTER "!%s!%d!%d!1.json.gz\"\r\n"
	    "MIME-Version: 1.0\r\n"
	    "\r\n"
	    "%s"
	    "\r\n"
	    "--===============4242424242424242424==--\r\n",
	    domain, report_id, domain, domain, domain, DAY0, DAY0 + 86399,
	    b), 0);
	free(gz);
	free(b);
	return m;
}

struct tlsrpt_report *
parse_json(const char *json, const struct ingest_meta *meta)
{
	struct ingest_limits	 lim;
	struct ingest_err	 err;
	struct tlsrpt_report	*rep = NULL;
	enum ingest_status	 s;

	ingest_limits_default(&lim);
	s = ingest_payload((const unsigned char *)json, strlen(json), meta,
	    &lim, &rep, &err);
	cr_assert_eq(s, INGEST_OK, "ingest_payload: %s", err.msg);
	return rep;
}

struct tlsrpt_report *
parse_mail(const char *mail)
{
	struct ingest_limits	 lim;
	struct ingest_err	 err;
	struct tlsrpt_report	*rep = NULL;
	enum ingest_status	 s;

	ingest_limits_default(&lim);
	s = ingest_message((const unsigned char *)mail, strlen(mail), &lim,
	    &rep, &err);
	cr_assert_eq(s, INGEST_OK, "ingest_message: %s", err.msg);
	return rep;
}

int
has_warning(const struct tlsrpt_report *rep, const char *token)
{
	size_t	i;

	for (i = 0; i < rep->nwarnings; i++)
		if (strncmp(rep->warnings[i], token, strlen(token)) == 0)
			return 1;
	return 0;
}

/*
 * The identity as documented in ingest/report.c, computed here apart:
 * sha256(org NUL id NUL be64(start) be64(end) (domain NUL)*), domains
 * distinct and sorted (the callers pass them so).
 */
void
expect_key(unsigned char key[32], const char *org, const char *id,
    int64_t start, int64_t end, const char *const *doms, size_t n)
{
	struct sha256_ctx	h;
	unsigned char		be[8];
	size_t			i;
	int			k;

	sha256_init(&h);
	sha256_update(&h, strlen(org) + 1, (const uint8_t *)org);
	sha256_update(&h, strlen(id) + 1, (const uint8_t *)id);
	for (k = 0; k < 8; k++)
		be[k] = (unsigned char)((uint64_t)start >> (56 - 8 * k));
	sha256_update(&h, 8, be);
	for (k = 0; k < 8; k++)
		be[k] = (unsigned char)((uint64_t)end >> (56 - 8 * k));
	sha256_update(&h, 8, be);
	for (i = 0; i < n; i++)
		sha256_update(&h, strlen(doms[i]) + 1,
		    (const uint8_t *)doms[i]);
	sha256_digest(&h, 32, key);
}
