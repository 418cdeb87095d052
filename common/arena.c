/*
 * arena.c -- a region allocator: many small allocations, one free.
 *
 * Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
 */

#include <stdalign.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"

#define ARENA_CHUNK_BYTES	8192

struct arena_chunk {
	struct arena_chunk	*next;
	size_t			 cap;
	size_t			 off;
	alignas(max_align_t) unsigned char data[];
};

void *
arena_alloc(struct arena *a, size_t len)
{
	struct arena_chunk	*c = a->head;
	const size_t		 al = alignof(max_align_t);
	size_t			 off, cap;

	if (len > SIZE_MAX - al)
		return NULL;
	len = (len + al - 1) & ~(al - 1);
	if (c != NULL && c->cap - c->off >= len) {
		off = c->off;
		c->off += len;
		a->used += len;
		return c->data + off;
	}
	cap = len > ARENA_CHUNK_BYTES ? len : ARENA_CHUNK_BYTES;
	if (cap > SIZE_MAX - sizeof(*c))
		return NULL;
	if ((c = malloc(sizeof(*c) + cap)) == NULL)
		return NULL;
	c->cap = cap;
	c->off = len;
	if (a->head != NULL && cap > ARENA_CHUNK_BYTES) {
		/* a big block: keep filling the current small chunk */
		c->next = a->head->next;
		a->head->next = c;
	} else {
		c->next = a->head;
		a->head = c;
	}
	a->used += len;
	return c->data;
}

char *
arena_strndup(struct arena *a, const char *s, size_t len)
{
	char	*p;

	if (len == SIZE_MAX || (p = arena_alloc(a, len + 1)) == NULL)
		return NULL;
	memcpy(p, s, len);
	p[len] = '\0';
	return p;
}

void
arena_free(struct arena *a)
{
	struct arena_chunk	*c, *next;

	for (c = a->head; c != NULL; c = next) {
		next = c->next;
		free(c);
	}
	a->head = NULL;
	a->used = 0;
}
