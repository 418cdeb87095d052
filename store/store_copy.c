/*
 * store_copy.c -- the COPY text-format encoder, see store_copy.h.
 *
 * Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
 *
 * The rules are PostgreSQL's (COPY, "Text Format"): fields are separated
 * by the delimiter (tab), rows end with a newline, \N is NULL, and a
 * backslash, a newline, a carriage return or the delimiter inside a
 * value must be written with a backslash.  A value then goes through its
 * type's input function: a bytea's own backslashes and an array
 * literal's quotes are escaped once for that, then again for COPY.  No
 * libpq here: the encoder links alone for its unit tests.
 */

#include <stdint.h>
#include <string.h>

#include "store_copy.h"
#include "util.h"

static void	copy_ch(struct copy *, char);
static void	copy_esc(struct copy *, char);

void
copy_init(struct copy *c, int (*sink)(void *, const char *, size_t),
    void *arg)
{
	c->sink = sink;
	c->arg = arg;
	c->failed = 0;
	c->len = 0;
}

void
copy_flush(struct copy *c)
{
	if (c->len > 0 && !c->failed && c->sink(c->arg, c->buf, c->len) != 0)
		c->failed = 1;
	c->len = 0;
}

void
copy_mem(struct copy *c, const void *v, size_t n)
{
	const char	*s = v;
	size_t		 k;

	while (n > 0) {
		if (c->len == sizeof(c->buf))
			copy_flush(c);
		k = sizeof(c->buf) - c->len;
		if (k > n)
			k = n;
		memcpy(c->buf + c->len, s, k);
		c->len += k;
		s += k;
		n -= k;
	}
}

static void
copy_ch(struct copy *c, char ch)
{
	if (c->len == sizeof(c->buf))
		copy_flush(c);
	c->buf[c->len++] = ch;
}

void
copy_tab(struct copy *c)
{
	copy_ch(c, '\t');
}

void
copy_eol(struct copy *c)
{
	copy_ch(c, '\n');
}

void
copy_null(struct copy *c)
{
	copy_mem(c, "\\N", 2);
}

/* One byte of a value: \ newline CR tab with a backslash, the rest as is. */
static void
copy_esc(struct copy *c, char ch)
{
	switch (ch) {
	case '\\':
		copy_mem(c, "\\\\", 2);
		break;
	case '\n':
		copy_mem(c, "\\n", 2);
		break;
	case '\r':
		copy_mem(c, "\\r", 2);
		break;
	case '\t':
		copy_mem(c, "\\t", 2);
		break;
	default:
		copy_ch(c, ch);
		break;
	}
}

/* A text field; NULL is SQL NULL. */
void
copy_text(struct copy *c, const char *s)
{
	if (s == NULL) {
		copy_null(c);
		return;
	}
	for (; *s != '\0'; s++)
		copy_esc(c, *s);
}

/* A text field of a NOT NULL column: NULL is ''. */
void
copy_text0(struct copy *c, const char *s)
{
	copy_text(c, s != NULL ? s : "");
}

void
copy_int(struct copy *c, int64_t v)
{
	char		 tmp[24];
	size_t		 n = sizeof(tmp);
	uint64_t	 u;

	u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
	do {
		tmp[--n] = (char)('0' + u % 10);
		u /= 10;
	} while (u != 0);
	if (v < 0)
		tmp[--n] = '-';
	copy_mem(c, tmp + n, sizeof(tmp) - n);
}

void
copy_bool(struct copy *c, int v)
{
	copy_ch(c, v ? 't' : 'f');
}

void
copy_time(struct copy *c, int64_t t)
{
	char	buf[UTIL_TIME_BUFSZ];

	util_format_datetime(t, buf, sizeof(buf));
	copy_mem(c, buf, strlen(buf));
}

/* 32 bytes as bytea hex: \x..., the backslash doubled for COPY. */
void
copy_key(struct copy *c, const unsigned char *k)
{
	char	hex[65];

	util_hex(k, 32, hex);
	copy_mem(c, "\\\\x", 3);
	copy_mem(c, hex, 64);
}

/*
 * Any bytes as bytea in the escape format: JSON is mostly printable
 * ASCII, which goes as is; every other byte as \ooo, a backslash as \\,
 * and each backslash doubled again for COPY.
 */
void
copy_bytea(struct copy *c, const unsigned char *p, size_t n)
{
	char	oct[5];
	size_t	i;

	for (i = 0; i < n; i++) {
		if (p[i] == '\\')
			copy_mem(c, "\\\\\\\\", 4);
		else if (p[i] >= 0x20 && p[i] < 0x7f)
			copy_ch(c, (char)p[i]);
		else {
			oct[0] = '\\';
			oct[1] = '\\';
			oct[2] = (char)('0' + (p[i] >> 6));
			oct[3] = (char)('0' + ((p[i] >> 3) & 7));
			oct[4] = (char)('0' + (p[i] & 7));
			copy_mem(c, oct, 5);
		}
	}
}

/*
 * A text[] literal: {"a","b"}, each element quoted with \" and \\ for the
 * array parser, then escaped again for COPY.
 */
void
copy_array(struct copy *c, const char *const *v, size_t n)
{
	const char	*s;
	size_t		 i;

	copy_ch(c, '{');
	for (i = 0; i < n; i++) {
		if (i > 0)
			copy_ch(c, ',');
		if (v[i] == NULL) {
			copy_mem(c, "NULL", 4);
			continue;
		}
		copy_ch(c, '"');
		/* \" and \\ for the array parser, each \ doubled for COPY */
		for (s = v[i]; *s != '\0'; s++) {
			if (*s == '"')
				copy_mem(c, "\\\\\"", 3);
			else if (*s == '\\')
				copy_mem(c, "\\\\\\\\", 4);
			else
				copy_esc(c, *s);
		}
		copy_ch(c, '"');
	}
	copy_ch(c, '}');
}
