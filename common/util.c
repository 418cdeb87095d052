/*
 * util.c -- small pure helpers: time, numbers, hex, text.
 *
 * Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
 */

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "util.h"

static int	digits(const char *s, int n, unsigned *v);

int64_t
util_days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t		era;
	unsigned	yoe, doy, doe;

	/* Howard Hinnant's algorithm, valid for every proleptic date */
	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static int
digits(const char *s, int n, unsigned *v)
{
	int	i;

	*v = 0;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		*v = *v * 10 + (unsigned)(s[i] - '0');
	}
	return 0;
}

static int
parse_date(const char *s, int64_t *days)
{
	static const unsigned char mdays[] = { 31, 29, 31, 30, 31, 30, 31,
	    31, 30, 31, 30, 31 };
	unsigned	y, m, d;

	if (digits(s, 4, &y) == -1 || s[4] != '-' ||
	    digits(s + 5, 2, &m) == -1 || s[7] != '-' ||
	    digits(s + 8, 2, &d) == -1)
		return -1;
	if (m < 1 || m > 12 || d < 1 || d > mdays[m - 1])
		return -1;
	if (m == 2 && d == 29 && !(y % 4 == 0 && (y % 100 != 0 ||
	    y % 400 == 0)))
		return -1;
	*days = util_days_from_civil(y, m, d);
	return 0;
}

int
util_parse_datetime(const char *s, int64_t *t, int *nozone)
{
	int64_t		days;
	unsigned	hh, mi, ss, oh, om;
	int		sign;
	const char	*p;

	if (nozone != NULL)
		*nozone = 0;
	if (parse_date(s, &days) == -1)
		return -1;
	p = s + 10;
	if (*p != 'T' && *p != 't' && *p != ' ')
		return -1;
	p++;
	if (digits(p, 2, &hh) == -1 || p[2] != ':' ||
	    digits(p + 3, 2, &mi) == -1 || p[5] != ':' ||
	    digits(p + 6, 2, &ss) == -1)
		return -1;
	if (hh > 23 || mi > 59 || ss > 60)	/* 60: a leap second */
		return -1;
	p += 8;
	if (*p == '.') {
		if (p[1] < '0' || p[1] > '9')
			return -1;
		for (p++; *p >= '0' && *p <= '9'; p++)
			;
	}
	*t = days * 86400 + hh * 3600 + mi * 60 + (ss == 60 ? 59 : ss);
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		sign = *p == '+' ? 1 : -1;
		if (digits(p + 1, 2, &oh) == -1 || p[3] != ':' ||
		    digits(p + 4, 2, &om) == -1 || oh > 23 || om > 59)
			return -1;
		*t -= sign * (int64_t)(oh * 3600 + om * 60);
		p += 6;
	} else if (nozone != NULL) {
		*nozone = 1;
	}
	return *p == '\0' ? 0 : -1;
}

int
util_parse_date_or_datetime(const char *s, int64_t *t)
{
	int64_t	days;

	if (util_parse_datetime(s, t, NULL) == 0)
		return 0;
	if (parse_date(s, &days) == 0 && s[10] == '\0') {
		*t = days * 86400;
		return 0;
	}
	return -1;
}

void
util_format_datetime(int64_t t, char *buf, size_t bufsz)
{
	int64_t		z, era, y, days, secs;
	unsigned	doe, yoe, doy, mp, d, m;

	days = t / 86400;
	secs = t % 86400;
	if (secs < 0) {
		secs += 86400;
		days--;
	}
	z = days + 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = (unsigned)(z - era * 146097);
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	y = (int64_t)yoe + era * 400;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	d = doy - (153 * mp + 2) / 5 + 1;
	m = mp < 10 ? mp + 3 : mp - 9;
	y += m <= 2;
	snprintf(buf, bufsz, "%04" PRId64 "-%02u-%02uT%02d:%02d:%02dZ", y, m,
	    d, (int)(secs / 3600), (int)(secs / 60 % 60), (int)(secs % 60));
}

void
util_hex(const unsigned char *p, size_t len, char *out)
{
	static const char	hx[] = "0123456789abcdef";
	size_t			i;

	for (i = 0; i < len; i++) {
		out[2 * i] = hx[p[i] >> 4];
		out[2 * i + 1] = hx[p[i] & 15];
	}
	out[2 * len] = '\0';
}

int
util_strtoi64(const char *s, int64_t min, int64_t max, int64_t *v)
{
	char		*end;
	long long	 n;

	if (s == NULL || *s == '\0' || *s == ' ' || *s == '+')
		return -1;
	errno = 0;
	n = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0' || n < min || n > max)
		return -1;
	*v = n;
	return 0;
}
