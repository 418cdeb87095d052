/*
 * test_copy.c -- the COPY text-format encoder (store/store_copy.c), with
 * no server: hostile strings in, the exact bytes out.
 *
 * Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
 *
 * Links alone (Makefile: build/tests/unit-copy is this file, the
 * encoder's object and libcommon; it is in the big unit-tests binary
 * too).  The expected bytes are worked out here from PostgreSQL's
 * documented rules (COPY, "Text Format"): in a value, backslash,
 * newline, carriage return and the delimiter (tab) must be preceded by
 * a backslash; \N is NULL; \. alone is the end of data; "any other
 * backslashed character ... will be taken to represent itself".  A
 * bytea in the escape format writes a backslash as \\ and a byte as
 * \ooo; an array literal quotes an element and writes " and \ in it
 * with a backslash.  Besides the literal expectations, every encoded
 * value is decoded again by decode_field(), a decoder written from the
 * same rules (with \b \f \v \ooo \xhh, which the encoder never needs):
 * decoding gives back the input, and no encoded value holds a raw tab,
 * newline or CR, or reads as \N or \. alone.
 */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "store_copy.h"

/* A sink into memory that records the largest chunk it was given. */
struct mem {
	char	*buf;
	size_t	 len;
	size_t	 cap;
	size_t	 calls;
	size_t	 maxchunk;
	int	 fail_after;	/* fail the call after this many; -1 never */
};

static int
mem_sink(void *arg, const char *buf, size_t len)
{
	struct mem	*m = arg;

	if (m->fail_after >= 0 && m->calls >= (size_t)m->fail_after) {
		m->calls++;
		return -1;
	}
	m->calls++;
	if (len > m->maxchunk)
		m->maxchunk = len;
	if (m->len + len > m->cap) {
		m->cap = (m->len + len) * 2;
		m->buf = realloc(m->buf, m->cap);
		cr_assert(m->buf != NULL);
	}
	memcpy(m->buf + m->len, buf, len);
	m->len += len;
	return 0;
}

static struct copy *
start(struct mem *m)
{
	struct copy	*c;

	memset(m, 0, sizeof(*m));
	m->fail_after = -1;
	c = malloc(sizeof(*c));
	cr_assert(c != NULL);
	copy_init(c, mem_sink, m);
	return c;
}

static void
finish(struct copy *c, struct mem *m)
{
	copy_flush(c);
	cr_assert_eq(c->failed, 0);
	free(c);
	(void)m;
}

static void
expect_bytes(const struct mem *m, const char *want, size_t wantlen,
    const char *what)
{
	size_t	i;

	cr_assert_eq(m->len, wantlen, "%s: %zu bytes, want %zu", what, m->len,
	    wantlen);
	for (i = 0; i < wantlen; i++)
		cr_assert_eq((unsigned char)m->buf[i], (unsigned char)want[i],
		    "%s: byte %zu is 0x%02x, want 0x%02x", what, i,
		    (unsigned char)m->buf[i], (unsigned char)want[i]);
}

/* The documented rule for one byte of a text value, built by hand. */
static size_t
oracle_text(const unsigned char *s, size_t n, char *out)
{
	size_t	i, k = 0;

	for (i = 0; i < n; i++) {
		switch (s[i]) {
		case 0x5c:		/* backslash */
			out[k++] = 0x5c;
			out[k++] = 0x5c;
			break;
		case 0x0a:		/* newline */
			out[k++] = 0x5c;
			out[k++] = 'n';
			break;
		case 0x0d:		/* carriage return */
			out[k++] = 0x5c;
			out[k++] = 'r';
			break;
		case 0x09:		/* the delimiter */
			out[k++] = 0x5c;
			out[k++] = 't';
			break;
		default:
			out[k++] = (char)s[i];
			break;
		}
	}
	return k;
}

static int
octal(int ch)
{
	return ch >= '0' && ch <= '7';
}

static int
hexval(int ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/*
 * COPY FROM's reading of one field (no delimiter in it), as the manual
 * describes it.  Returns the length of the value, or -1 for NULL.
 */
static long
decode_field(const char *f, size_t n, char *out)
{
	size_t	i = 0, k = 0;
	int	v, d;

	if (n == 2 && f[0] == '\\' && f[1] == 'N')
		return -1;
	while (i < n) {
		cr_assert(f[i] != '\t' && f[i] != '\n' && f[i] != '\r',
		    "a raw delimiter, newline or CR at %zu", i);
		if (f[i] != '\\') {
			out[k++] = f[i++];
			continue;
		}
		cr_assert(i + 1 < n, "a lone backslash ends the field");
		i++;
		switch (f[i]) {
		case 'b': out[k++] = '\b'; i++; break;
		case 'f': out[k++] = '\f'; i++; break;
		case 'n': out[k++] = '\n'; i++; break;
		case 'r': out[k++] = '\r'; i++; break;
		case 't': out[k++] = '\t'; i++; break;
		case 'v': out[k++] = '\v'; i++; break;
		case 'x':
			i++;
			cr_assert(i < n && hexval(f[i]) >= 0);
			v = hexval(f[i++]);
			if (i < n && (d = hexval(f[i])) >= 0) {
				v = v * 16 + d;
				i++;
			}
			out[k++] = (char)v;
			break;
		default:
			if (octal(f[i])) {
				v = 0;
				for (d = 0; d < 3 && i < n && octal(f[i]); d++)
					v = v * 8 + (f[i++] - '0');
				out[k++] = (char)v;
			} else
				out[k++] = f[i++];	/* itself */
			break;
		}
	}
	return (long)k;
}

/* Encode s as text, decode it again: the same bytes, never NULL. */
static void
round_trip_text(const char *s)
{
	struct mem	 m;
	struct copy	*c = start(&m);
	char		*back;
	long		 n;

	copy_text(c, s);
	finish(c, &m);
	cr_assert(!(m.len == 2 && memcmp(m.buf, "\\.", 2) == 0),
	    "an end-of-data marker");
	back = malloc(m.len + 1);
	cr_assert(back != NULL);
	n = decode_field(m.buf, m.len, back);
	cr_assert_eq(n, (long)strlen(s));
	cr_assert(memcmp(back, s, strlen(s)) == 0);
	free(back);
	free(m.buf);
}

static const struct {
	const char	*in;
	const char	*want;
} text_cases[] = {
	{ "", "" },
	{ "plain", "plain" },
	{ "a\\b", "a\\\\b" },			/* a\b -> a\\b */
	{ "\\", "\\\\" },
	{ "\\\\", "\\\\\\\\" },
	{ "tab\there", "tab\\there" },
	{ "new\nline", "new\\nline" },
	{ "cr\rlf\n", "cr\\rlf\\n" },
	{ "\\N", "\\\\N" },			/* not NULL */
	{ "\\.", "\\\\." },			/* not the end of data */
	{ "N", "N" },
	{ "NULL", "NULL" },
	{ "\\n", "\\\\n" },			/* backslash n, not newline */
	{ "\\t\t", "\\\\t\\t" },
	{ "\x01\x08\x0b\x0c\x1b\x7f", "\x01\x08\x0b\x0c\x1b\x7f" },
	{ "\xff\xfe\xc3(\xed\xa0\x80", "\xff\xfe\xc3(\xed\xa0\x80" },
	{ "caf\xc3\xa9 \xe2\x82\xac", "caf\xc3\xa9 \xe2\x82\xac" },
	{ "{\"a\",\"b\"}", "{\"a\",\"b\"}" },	/* no array escaping */
};

Test(copy, text_cases)
{
	size_t	 i;

	for (i = 0; i < sizeof(text_cases) / sizeof(text_cases[0]); i++) {
		struct mem	 m;
		struct copy	*c = start(&m);

		copy_text(c, text_cases[i].in);
		finish(c, &m);
		expect_bytes(&m, text_cases[i].want,
		    strlen(text_cases[i].want), text_cases[i].in);
		free(m.buf);
		round_trip_text(text_cases[i].in);
	}
}

/* Every byte but NUL alone, then all of them in one value. */
Test(copy, text_every_byte)
{
	unsigned char	 all[256];
	char		 want[512], one[2];
	struct mem	 m;
	struct copy	*c;
	size_t		 n;
	int		 b;

	for (b = 1; b <= 0xff; b++) {
		one[0] = (char)b;
		one[1] = '\0';
		c = start(&m);
		copy_text(c, one);
		finish(c, &m);
		n = oracle_text((const unsigned char *)one, 1, want);
		expect_bytes(&m, want, n, "one byte");
		if (b == '\\' || b == '\t' || b == '\n' || b == '\r')
			cr_assert_eq(m.len, 2, "0x%02x is escaped", b);
		else
			cr_assert_eq(m.len, 1, "0x%02x goes as it is", b);
		free(m.buf);
		round_trip_text(one);
	}
	for (b = 1; b <= 0xff; b++)
		all[b - 1] = (unsigned char)b;
	all[255] = '\0';
	c = start(&m);
	copy_text(c, (const char *)all);
	finish(c, &m);
	n = oracle_text(all, 255, want);
	cr_assert_eq(n, 255 + 4);		/* \ tab newline CR */
	expect_bytes(&m, want, n, "all bytes");
	free(m.buf);
	round_trip_text((const char *)all);
}

/* A C string ends at NUL: the rest never reaches the server. */
Test(copy, text_nul_ends_the_value)
{
	static const char	 s[] = "before\0\\after";
	struct mem		 m;
	struct copy		*c = start(&m);

	copy_text(c, s);
	copy_tab(c);
	copy_text(c, "\0");
	finish(c, &m);
	expect_bytes(&m, "before\t", 7, "NUL");
	free(m.buf);
}

/* NULL and its look-alikes. */
Test(copy, nulls)
{
	char		 back[8];
	struct mem	 m;
	struct copy	*c = start(&m);

	copy_text(c, NULL);
	copy_tab(c);
	copy_null(c);
	copy_tab(c);
	copy_text0(c, NULL);		/* NOT NULL column: '' */
	copy_tab(c);
	copy_text0(c, "\\N");
	copy_eol(c);
	finish(c, &m);
	expect_bytes(&m, "\\N\t\\N\t\t\\\\N\n", 11, "nulls");
	cr_assert_eq(decode_field(m.buf, 2, back), -1);
	cr_assert_eq(decode_field(m.buf + 6, 0, back), 0);	/* '' */
	cr_assert_eq(decode_field(m.buf + 7, 3, back), 2);	/* \N */
	cr_assert(memcmp(back, "\\N", 2) == 0);
	free(m.buf);
}

/*
 * Values longer than the buffer: the bytes arrive whole, in chunks no
 * larger than COPY_BUF_BYTES, with an escape split across a flush.
 */
Test(copy, long_values_cross_the_buffer)
{
	size_t		 n = 3 * COPY_BUF_BYTES + 777, i, k, wn;
	char		*s, *want;
	struct mem	 m;
	struct copy	*c;

	s = malloc(n + 1);
	want = malloc(2 * n + 16);
	cr_assert(s != NULL && want != NULL);
	for (i = 0; i < n; i++)
		s[i] = "a\\\tb\n\r"[i % 6];
	s[n] = '\0';
	c = start(&m);
	copy_mem(c, "x", 1);		/* so escapes straddle a flush */
	copy_text(c, s);
	copy_eol(c);
	finish(c, &m);
	want[0] = 'x';
	wn = 1 + oracle_text((const unsigned char *)s, n, want + 1);
	want[wn++] = '\n';
	/* a, \\, \t, b, \n, \r: 6 input bytes make 10 */
	k = n / 6 * 10;
	for (i = n / 6 * 6; i < n; i++)
		k += (s[i] == 'a' || s[i] == 'b') ? 1 : 2;
	cr_assert_eq(wn, 1 + k + 1);
	expect_bytes(&m, want, wn, "long");
	cr_assert_leq(m.maxchunk, COPY_BUF_BYTES);
	cr_assert_geq(m.calls, 4);
	free(m.buf);
	free(s);
	free(want);
}

Test(copy, ints_bools_times_keys)
{
	unsigned char	 key[32];
	char		 want[128];
	struct mem	 m;
	struct copy	*c = start(&m);
	int		 i, n;

	copy_int(c, 0);
	copy_tab(c);
	copy_int(c, -1);
	copy_tab(c);
	copy_int(c, INT64_MAX);
	copy_tab(c);
	copy_int(c, INT64_MIN);
	copy_tab(c);
	copy_bool(c, 1);
	copy_bool(c, 0);
	copy_bool(c, 42);
	copy_tab(c);
	copy_time(c, 0);
	copy_tab(c);
	copy_time(c, 1725321600);	/* 2024-09-03, by date(1) */
	copy_tab(c);
	copy_time(c, -1);
	copy_eol(c);
	finish(c, &m);
	n = snprintf(want, sizeof(want), "0\t-1\t9223372036854775807\t"
	    "-9223372036854775808\ttft\t1970-01-01T00:00:00Z\t"
	    "2024-09-03T00:00:00Z\t1969-12-31T23:59:59Z\n");
	expect_bytes(&m, want, (size_t)n, "scalars");
	free(m.buf);

	for (i = 0; i < 32; i++)
		key[i] = (unsigned char)(i * 8 + 7);	/* 07 0f ... ff */
	c = start(&m);
	copy_key(c, key);
	finish(c, &m);
	/* \\x + 64 hex digits: COPY reads \x..., bytea's hex format */
	memcpy(want, "\\\\x", 3);
	for (i = 0; i < 32; i++)
		snprintf(want + 3 + 2 * i, 3, "%02x", i * 8 + 7);
	expect_bytes(&m, want, 67, "key");
	free(m.buf);
}

/* bytea, escape format: every byte 0x00-0xff. */
Test(copy, bytea_every_byte)
{
	unsigned char	 all[256];
	char		 want[256 * 5], *dec, *bin;
	struct mem	 m;
	struct copy	*c;
	size_t		 k = 0, j;
	long		 dn;
	int		 b;

	for (b = 0; b < 256; b++) {
		all[b] = (unsigned char)b;
		if (b == 0x5c) {
			/* bytea \\, each \ doubled for COPY */
			memcpy(want + k, "\\\\\\\\", 4);
			k += 4;
		} else if (b >= 0x20 && b <= 0x7e) {
			want[k++] = (char)b;
		} else {
			want[k++] = '\\';
			want[k++] = '\\';
			want[k++] = (char)('0' + (b >> 6));
			want[k++] = (char)('0' + ((b >> 3) & 7));
			want[k++] = (char)('0' + (b & 7));
		}
	}
	c = start(&m);
	copy_bytea(c, all, sizeof(all));
	finish(c, &m);
	/* 95 printable but \, 4 for \, 160 others at 5 */
	cr_assert_eq(k, 94 + 4 + 161 * 5);
	expect_bytes(&m, want, k, "bytea");
	cr_assert(memchr(m.buf, '\0', m.len) == NULL);

	/* COPY's decoding, then bytea's: the bytes again */
	dec = malloc(m.len);
	bin = malloc(256);
	cr_assert(dec != NULL && bin != NULL);
	dn = decode_field(m.buf, m.len, dec);
	cr_assert_gt(dn, 0);
	for (j = 0, k = 0; j < (size_t)dn; k++) {
		cr_assert_lt(k, 256);
		if (dec[j] != '\\') {
			bin[k] = dec[j++];
		} else if (dec[j + 1] == '\\') {
			bin[k] = '\\';
			j += 2;
		} else {
			cr_assert(octal(dec[j + 1]) && octal(dec[j + 2]) &&
			    octal(dec[j + 3]));
			bin[k] = (char)((dec[j + 1] - '0') * 64 +
			    (dec[j + 2] - '0') * 8 + (dec[j + 3] - '0'));
			j += 4;
		}
	}
	cr_assert_eq(k, 256);
	cr_assert(memcmp(bin, all, 256) == 0);
	free(dec);
	free(bin);
	free(m.buf);

	c = start(&m);
	copy_bytea(c, NULL, 0);		/* empty, not NULL */
	finish(c, &m);
	cr_assert_eq(m.len, 0);
	free(m.buf);
}

/* text[] literals with quotes, backslashes, NULL elements, controls. */
Test(copy, arrays)
{
	static const char *const v[] = {
		"a", "b\"c", "d\\e", NULL, "", "x\ty", "NULL", "{,}", "\\N",
		"l\nm\r",
	};
	/*
	 * By hand: each element in "", with \" and \\ for the array
	 * parser; then COPY doubles every backslash and writes tab,
	 * newline, CR as \t \n \r.
	 */
	static const char want[] =
	    "{\"a\","
	    "\"b\\\\\"c\","		/* "b\\"c"   */
	    "\"d\\\\\\\\e\","		/* "d\\\\e"  */
	    "NULL,"
	    "\"\","
	    "\"x\\ty\","		/* "x\ty"    */
	    "\"NULL\","
	    "\"{,}\","
	    "\"\\\\\\\\N\","		/* "\\\\N"   */
	    "\"l\\nm\\r\"}";		/* "l\nm\r"  */
	struct mem	 m;
	struct copy	*c = start(&m);

	copy_array(c, v, sizeof(v) / sizeof(v[0]));
	finish(c, &m);
	expect_bytes(&m, want, sizeof(want) - 1, "array");
	free(m.buf);

	c = start(&m);
	copy_array(c, NULL, 0);
	finish(c, &m);
	expect_bytes(&m, "{}", 2, "empty array");
	free(m.buf);
}

/* Once the sink fails nothing more is sent, and the failure stays. */
Test(copy, sink_failure_sticks)
{
	struct mem	 m;
	struct copy	*c = start(&m);
	size_t		 i;

	m.fail_after = 1;
	for (i = 0; i < COPY_BUF_BYTES * 3; i++)
		copy_text(c, "z");
	cr_assert_eq(c->failed, 1);
	cr_assert_eq(m.len, COPY_BUF_BYTES);	/* the first chunk only */
	copy_flush(c);
	cr_assert_eq(m.calls, 2);		/* no call after the failure */
	cr_assert_eq(c->len, 0);
	free(c);
	free(m.buf);
}
