/*
 * bbuf.h -- a byte buffer with a hard maximum fixed at creation.
 *
 * Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
 *
 * Every buffer that a peer can fill is a bbuf: appending past max fails
 * with ERANGE and the allocation never exceeds max.
 */

#ifndef TLSRPT_BBUF_H
#define TLSRPT_BBUF_H

#include <stddef.h>

struct bbuf {
	unsigned char	*data;	/* owned; NULL until the first append */
	size_t		 len;
	size_t		 cap;	/* bytes allocated */
	size_t		 max;	/* hard limit, set once by bbuf_init() */
};

void	bbuf_init(struct bbuf *, size_t max);

/* Appends n bytes.  Returns 0, or -1 with errno ERANGE past max or
 * ENOMEM; the buffer is unchanged on failure. */
int	bbuf_append(struct bbuf *, const void *, size_t n);

/* Makes room for n more bytes without changing len; 0 or -1 as above. */
int	bbuf_reserve(struct bbuf *, size_t n);

/* Frees the data; the buffer keeps its max and may be reused. */
void	bbuf_reset(struct bbuf *);

#endif
