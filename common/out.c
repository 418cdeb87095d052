/*
 * out.c -- the escapers every renderer of the models shares (the CLI's
 * text, JSON, CSV and HTML writers, and the web dashboard's): JSON string
 * literals, CSV fields, HTML text, a sender's string for a terminal,
 * times and days.  libc only.
 *
 * Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
 */

#include <stdio.h>
#include <string.h>

#include "out.h"
#include "util.h"

/* A JSON string literal (RFC 8259), escaping controls, quote, backslash. */
void
out_json_str(FILE *f, const char *s)
{
	const unsigned char	*p;

	putc('"', f);
	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		switch (*p) {
		case '"':
			fputs("\\\"", f);
			break;
		case '\\':
			fputs("\\\\", f);
			break;
		case '\n':
			fputs("\\n", f);
			break;
		case '\r':
			fputs("\\r", f);
			break;
		case '\t':
			fputs("\\t", f);
			break;
		default:
			if (*p < 0x20 || *p == 0x7f)
				fprintf(f, "\\u%04x", *p);
			else
				putc(*p, f);
		}
	}
	putc('"', f);
}

/*
 * An RFC 4180 field: quoted when it holds a comma, quote or line break.
 * Formula injection (OWASP "CSV Injection"): a cell from a report that
 * begins with = + - @, a tab or a carriage return is prefixed with ' so
 * that a spreadsheet shows it as text instead of running it.  The quote
 * is part of the value read back; README says so.
 */
void
out_csv_str(FILE *f, const char *s)
{
	const char	*p;
	int		 quote = 0;

	for (p = s; *p != '\0'; p++)
		if (*p == ',' || *p == '"' || *p == '\n' || *p == '\r')
			quote = 1;
	if (quote)
		putc('"', f);
	if (*s == '=' || *s == '+' || *s == '-' || *s == '@' || *s == '\t' ||
	    *s == '\r')
		putc('\'', f);
	for (p = s; *p != '\0'; p++) {
		if (*p == '"')
			putc('"', f);
		putc(*p, f);
	}
	if (quote)
		putc('"', f);
}

void
out_time(FILE *f, int64_t t)
{
	char	buf[UTIL_TIME_BUFSZ];

	util_format_datetime(t, buf, sizeof(buf));
	fputs(buf, f);
}

const char *
out_shown(const char *s, char *buf, size_t bufsz)
{
	size_t	i;

	if (s[0] == '\0')
		return "(unknown)";
	for (i = 0; s[i] != '\0' && i + 1 < bufsz; i++)
		buf[i] = (unsigned char)s[i] < 0x20 || s[i] == 0x7f ? '?' :
		    s[i];
	buf[i] = '\0';
	return buf;
}

void
out_day(FILE *f, int64_t t)
{
	char	buf[UTIL_TIME_BUFSZ];

	util_format_datetime(t, buf, sizeof(buf));
	buf[10] = '\0';
	fputs(buf, f);
}

void
out_html_str(FILE *f, const char *s)
{
	const unsigned char	*p;

	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		switch (*p) {
		case '&':
			fputs("&amp;", f);
			break;
		case '<':
			fputs("&lt;", f);
			break;
		case '>':
			fputs("&gt;", f);
			break;
		case '"':
			fputs("&quot;", f);
			break;
		case '\'':
			fputs("&#39;", f);
			break;
		default:
			if (*p >= 0x20 && *p != 0x7f)
				putc(*p, f);
		}
	}
}
