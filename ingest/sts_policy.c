/*
 * sts_policy.c -- RFC 8461 §3.2 policy text, as senders copy it into
 * policy-string (one line per element), and the §4.1 MX matching rule.
 *
 * Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
 *
 * Lenient like the senders themselves: "key:value" with or without space,
 * trailing CR and spaces, any line order; every deviation from the RFC is
 * a problem bit, never a failure.
 */

#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "ingest_int.h"
#include "util.h"

#define STS_LINE_MAX	1024

int
sts_policy_parse(struct arena *a, const char *const *lines, size_t n,
    struct sts_policy *pol)
{
	const char	*l, *colon, *v;
	char		 key[32], *mx;
	size_t		 i, klen, vlen, j;
	int		 seen_mode = 0, seen_age = 0;
	int64_t		 age;

	memset(pol, 0, sizeof(*pol));
	pol->max_age = -1;
	pol->present = n > 0;
	if (n > 0 && (pol->mx = arena_alloc(a, n * sizeof(*pol->mx))) == NULL)
		return -1;
	for (i = 0; i < n; i++) {
		for (l = lines[i]; *l == ' ' || *l == '\t'; l++)
			;
		if ((colon = strchr(l, ':')) == NULL) {
			if (*l != '\0' && *l != '\r')
				pol->problems |= STS_P_BAD_LINE;
			continue;
		}
		klen = (size_t)(colon - l);
		while (klen > 0 && (l[klen - 1] == ' ' || l[klen - 1] == '\t'))
			klen--;
		for (v = colon + 1; *v == ' ' || *v == '\t'; v++)
			;
		vlen = strlen(v);
		while (vlen > 0 && (v[vlen - 1] == '\r' || v[vlen - 1] == ' ' ||
		    v[vlen - 1] == '\t' || v[vlen - 1] == '\n'))
			vlen--;
		if (klen == 0 || klen >= sizeof(key)) {
			pol->problems |= STS_P_BAD_LINE;
			continue;
		}
		memcpy(key, l, klen);
		key[klen] = '\0';
		if (strcmp(key, "version") == 0) {
			if (pol->version_ok) {
				pol->problems |= STS_P_DUP_FIELD;
				continue;
			}
			pol->version_ok = vlen == 5 &&
			    strncmp(v, "STSv1", 5) == 0;
		} else if (strcmp(key, "mode") == 0) {
			if (seen_mode++) {
				pol->problems |= STS_P_DUP_FIELD;
				continue;
			}
			if (vlen == 7 && strncmp(v, "enforce", 7) == 0)
				pol->mode = STS_MODE_ENFORCE;
			else if (vlen == 7 && strncmp(v, "testing", 7) == 0)
				pol->mode = STS_MODE_TESTING;
			else if (vlen == 4 && strncmp(v, "none", 4) == 0)
				pol->mode = STS_MODE_NONE;
			else {
				pol->mode = STS_MODE_INVALID;
				pol->problems |= STS_P_BAD_MODE;
			}
		} else if (strcmp(key, "max_age") == 0) {
			if (seen_age++) {
				pol->problems |= STS_P_DUP_FIELD;
				continue;
			}
			/* 1*10DIGIT, at most 31557600 */
			for (j = 0; j < vlen && isdigit((unsigned char)v[j]);
			    j++)
				;
			age = -1;
			if (j == vlen && vlen >= 1 && vlen <= 10) {
				char	num[11];

				memcpy(num, v, vlen);
				num[vlen] = '\0';
				(void)util_strtoi64(num, 0, 9999999999LL, &age);
			}
			if (age < 0 || age > STS_MAX_AGE_MAX)
				pol->problems |= STS_P_BAD_MAX_AGE;
			pol->max_age = age;
		} else if (strcmp(key, "mx") == 0) {
			if (vlen == 0) {
				pol->problems |= STS_P_BAD_LINE;
				continue;
			}
			while (vlen > 0 && v[vlen - 1] == '.')
				vlen--;
			if ((mx = arena_strndup(a, v, vlen)) == NULL)
				return -1;
			for (j = 0; j < vlen; j++)
				mx[j] = (char)tolower((unsigned char)mx[j]);
			pol->mx[pol->nmx++] = mx;
		}
		/* other keys are extensions: ignored (RFC 8461 §3.2) */
	}
	if (!pol->version_ok)
		pol->problems |= STS_P_NO_VERSION;
	if (!seen_mode)
		pol->problems |= STS_P_NO_MODE;
	if (!seen_age)
		pol->problems |= STS_P_NO_MAX_AGE;
	if (pol->nmx == 0 && pol->mode != STS_MODE_NONE)
		pol->problems |= STS_P_NO_MX;
	return 0;
}

/*
 * RFC 8461 §4.1: a pattern matches the host exactly, or "*.rest" matches
 * a host of exactly one more label: *.example.com covers mail.example.com
 * but neither example.com nor a.b.example.com.  Case-insensitive; a
 * trailing dot on either side is ignored.
 */
int
sts_mx_match(const char *pattern, const char *host)
{
	const char	*dot;
	size_t		 pl = strlen(pattern), hl = strlen(host);

	while (pl > 0 && pattern[pl - 1] == '.')
		pl--;
	while (hl > 0 && host[hl - 1] == '.')
		hl--;
	if (pl == 0 || hl == 0)
		return 0;
	if (pl >= 2 && pattern[0] == '*' && pattern[1] == '.') {
		if ((dot = memchr(host, '.', hl)) == NULL || dot == host)
			return 0;
		return (size_t)(host + hl - dot) == pl - 1 &&
		    strncasecmp(dot, pattern + 1, pl - 1) == 0;
	}
	return pl == hl && strncasecmp(pattern, host, hl) == 0;
}
