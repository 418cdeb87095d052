/*
 * milter_shim.c -- the smfi_* calls of the callbacks, through a table of
 * operations (see milter_shim.h).
 *
 * Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
 *
 * libmilter takes char * where it only reads: the casts below drop const
 * for its prototypes, never to write.
 */

#include <stdbool.h>
#include <stddef.h>

#include <libmilter/mfapi.h>

#include "milter_shim.h"

static const struct milt_ops	*ops;

/* A string libmilter only reads, for its char * prototypes. */
static char *
unconst(const char *s)
{
	union {
		const char	*c;
		char		*m;
	} u;

	u.c = s;
	return u.m;
}

void
milt_shim_set(const struct milt_ops *o)
{
	ops = o;
}

void *
milt_getpriv(SMFICTX *ctx)
{
	return ops->getpriv(ctx);
}

int
milt_setpriv(SMFICTX *ctx, void *p)
{
	return ops->setpriv(ctx, p);
}

char *
milt_getsymval(SMFICTX *ctx, const char *name)
{
	return ops->getsymval(ctx, unconst(name));
}

int
milt_addheader(SMFICTX *ctx, const char *name, const char *value)
{
	return ops->addheader(ctx, unconst(name), unconst(value));
}

int
milt_chgheader(SMFICTX *ctx, const char *name, int idx, const char *value)
{
	return ops->chgheader(ctx, unconst(name), idx, unconst(value));
}

int
milt_delrcpt(SMFICTX *ctx, const char *rcpt)
{
	return ops->delrcpt(ctx, unconst(rcpt));
}

int
milt_setreply(SMFICTX *ctx, const char *rcode, const char *xcode,
    const char *msg)
{
	return ops->setreply(ctx, unconst(rcode), unconst(xcode),
	    unconst(msg));
}
