/*
 * digest_live.h -- `tlsrpt digest --live`: the live check (live/) of
 * every domain of a digest, its findings handed to the digest model.
 *
 * Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
 */

#ifndef TLSRPT_DIGEST_LIVE_H
#define TLSRPT_DIGEST_LIVE_H

#include "arena.h"
#include "digest.h"
#include "live.h"

/* The findings of a run; every string lives in a. */
struct digest_lives {
	struct digest_live	 *lv;		/* one per digest domain */
	const struct digest_live **ptr;		/* into lv, NULL: not checked */
	size_t			  n;
	struct arena		  a;
};

/*
 * Check every named domain of dg now (live_check_many(): at most
 * LIM_LIVE_PARALLEL at once, each within o->timeout_ms) and join the
 * findings to dg (digest_join_live()).  *ls (zeroed by the caller) holds
 * them and must outlive dg's views; release it with digest_lives_free()
 * also after a failure.  Returns 0, or -1 after saying why on stderr.
 */
int	digest_live_run(struct digest *dg, const struct live_opts *o,
	    struct digest_lives *ls);
void	digest_lives_free(struct digest_lives *);

#endif
