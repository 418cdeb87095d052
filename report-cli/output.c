/*
 * output.c -- writers for the json and csv formats and for times.
 */

#include <stdio.h>

#include "cli.h"
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

/* An RFC 4180 field: quoted when it holds a comma, quote or line break;
 * a leading = + - @ is prefixed with ' so spreadsheets do not run it. */
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
	if (*s == '=' || *s == '+' || *s == '-' || *s == '@')
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
