/*
 * filename.c -- the RFC 8460 §5.1 report file name:
 *   sender "!" policy-domain "!" begin "!" end [ "!" unique-id ] "." ext
 * Only metadata: the report body is authoritative (§5.6).
 *
 * Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
 */

#include <ctype.h>
#include <stdint.h>
#include <string.h>

#include "ingest.h"
#include "util.h"

int
ingest_filename_domain(const char *name, char *dst, size_t dstsz,
    int64_t *begin, int64_t *end)
{
	const char	*base, *p, *b1, *b2, *b3, *q;
	char		 num[24];
	size_t		 n, i;
	int64_t		 v;

	base = strrchr(name, '/');
	base = base != NULL ? base + 1 : name;
	if ((b1 = strchr(base, '!')) == NULL || b1 == base ||
	    (b2 = strchr(b1 + 1, '!')) == NULL ||
	    (b3 = strchr(b2 + 1, '!')) == NULL)
		return -1;
	/* begin timestamp: digits only */
	for (q = b2 + 1; q < b3; q++)
		if (!isdigit((unsigned char)*q))
			return -1;
	if (b3 == b2 + 1)
		return -1;
	/* the name ends in .json or .json.gz */
	n = strlen(base);
	if (!(n > 5 && strcmp(base + n - 5, ".json") == 0) &&
	    !(n > 8 && strcmp(base + n - 8, ".json.gz") == 0))
		return -1;
	p = b1 + 1;
	n = (size_t)(b2 - p);
	if (n == 0 || n >= dstsz)
		return -1;
	for (i = 0; i < n; i++) {
		if (!isalnum((unsigned char)p[i]) && p[i] != '.' &&
		    p[i] != '-' && p[i] != '_')
			return -1;
		dst[i] = (char)tolower((unsigned char)p[i]);
	}
	dst[n] = '\0';
	/* begin, then end up to the next '!' or '.' */
	if (begin != NULL) {
		n = (size_t)(b3 - (b2 + 1));
		*begin = -1;
		if (n < sizeof(num)) {
			memcpy(num, b2 + 1, n);
			num[n] = '\0';
			if (util_strtoi64(num, 0, INT64_MAX, &v) == 0)
				*begin = v;
		}
	}
	if (end != NULL) {
		*end = -1;
		for (q = b3 + 1, n = 0; isdigit((unsigned char)*q) &&
		    n + 1 < sizeof(num); q++)
			num[n++] = *q;
		num[n] = '\0';
		if (n > 0 && util_strtoi64(num, 0, INT64_MAX, &v) == 0)
			*end = v;
	}
	return 0;
}
