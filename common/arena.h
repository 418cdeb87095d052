/*
 * arena.h -- a region allocator: many small allocations, one free.
 *
 * Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
 *
 * A parsed report keeps all its strings and arrays in one arena, so it is
 * freed in one call and parsing does few mallocs.  Not thread-safe: one
 * arena belongs to one object.
 */

#ifndef TLSRPT_ARENA_H
#define TLSRPT_ARENA_H

#include <stddef.h>

struct arena_chunk;

struct arena {
	struct arena_chunk	*head;
	size_t			 used;	/* bytes handed out, for accounting */
};

/* An arena starts zeroed: struct arena a = { 0 }; */

/* Returns len bytes aligned for any type, or NULL when out of memory.
 * The memory lives until arena_free(). */
void	*arena_alloc(struct arena *, size_t len);

/* Copies s[0..len) and NUL-terminates it; NULL when out of memory. */
char	*arena_strndup(struct arena *, const char *s, size_t len);

/* Releases every allocation; the arena may be reused afterwards. */
void	 arena_free(struct arena *);

#endif
