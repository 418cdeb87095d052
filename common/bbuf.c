/*
 * bbuf.c -- a byte buffer with a hard maximum fixed at creation.
 *
 * Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
 */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bbuf.h"

#define BBUF_FIRST_BYTES	4096

void
bbuf_init(struct bbuf *b, size_t max)
{
	memset(b, 0, sizeof(*b));
	b->max = max;
}

int
bbuf_reserve(struct bbuf *b, size_t n)
{
	unsigned char	*nd;
	size_t		 need, ncap;

	if (n > b->max - b->len) {	/* invariant: len <= max */
		errno = ERANGE;
		return -1;
	}
	need = b->len + n;
	if (need <= b->cap)
		return 0;
	ncap = b->cap != 0 ? b->cap : BBUF_FIRST_BYTES;
	while (ncap < need)
		ncap = ncap > b->max / 2 ? b->max : ncap * 2;
	if (ncap > b->max)		/* need <= max, so still >= need */
		ncap = b->max;
	if ((nd = realloc(b->data, ncap)) == NULL) {
		errno = ENOMEM;
		return -1;
	}
	b->data = nd;
	b->cap = ncap;
	return 0;
}

int
bbuf_append(struct bbuf *b, const void *p, size_t n)
{
	if (n == 0)
		return 0;
	if (bbuf_reserve(b, n) == -1)
		return -1;
	memcpy(b->data + b->len, p, n);
	b->len += n;
	return 0;
}

void
bbuf_reset(struct bbuf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
}
