/*
 * digest.h -- the model of `tlsrpt digest`: per policy domain, this
 * period against the previous one of the same length, with a status.
 * Computed once here (digest.c); rendered by report-cli/digest_text.c
 * and digest_html.c, and put in a mail message by digest_mime.c.
 *
 * Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
 */

#ifndef TLSRPT_DIGEST_H
#define TLSRPT_DIGEST_H

#include <stddef.h>
#include <stdint.h>

#include "model.h"
#include "readiness.h"
#include "store.h"

#define DIGEST_TOP_MAX		5	/* top failures per domain */
#define DIGEST_OK_LIST_MAX	500	/* quiet OK domains listed */
#define DIGEST_READY_DAYS	RD_DEFAULT_DAYS	/* the verdict's window */

/* A domain's status: the levels of model.h. */
enum digest_status {
	DG_OK = ML_NONE,
	DG_WARNING = ML_WARNING,
	DG_CRITICAL = ML_CRITICAL,
};

/*
 * What `digest --live` found now for a domain: report-cli runs the live
 * check (the model never calls the network) and hands the findings over
 * with digest_join_live().  Every pointer is the caller's and must
 * outlive the digest's views.
 */
struct digest_live_item {
	int		 level;		/* ML_WARNING, ML_CRITICAL, or
					 * ML_NONE for a note (a check
					 * waived) */
	const char	*code;		/* "mx-certificate-expiring" */
	const char	*what;		/* one line, printable */
	const char	*next;		/* one next step */
};

struct digest_live_cert {
	const char	*mx;		/* the MX host */
	int64_t		 days;		/* whole days to expiry; < 0 expired */
};

struct digest_live {
	int				 level;	/* worst of items: DG_* */
	const struct digest_live_cert	*certs;	/* each MX's certificate */
	size_t				 ncerts;
	const struct digest_live_item	*items;
	size_t				 nitems;
};

/* Everything the digest says about one domain; pointers are borrowed
 * from the struct digest that holds it. */
struct digest_domain {
	const char				*name;
	const struct store_domain_summary	*cur;	/* NULL: no reports */
	const struct store_domain_summary	*prev;
	const struct store_fail_mx		*fails;	/* this period */
	size_t					 nfails;
	const struct store_fail_mx		*pfails; /* previous */
	size_t					 npfails;
	const struct store_reporter_days	*rdays;
	size_t					 nrdays;
	const struct store_reporter_days	*prdays;
	size_t					 nprdays;
	const struct store_readiness		*rd;	/* NULL: no testing */
	struct rd_eval				 ev;
	/* NULL: not checked, or nothing found live */
	const struct digest_live		*live;
	int					 status;	/* digest_status */
	int					 notable; /* more than a row */
	int64_t					 sessions; /* of cur */
	int64_t					 prev_sessions;
	double					 frate;	/* of cur, 0..1 */
	double					 prev_frate;
	/* what is new and who went silent, as indices (owned by the
	 * struct digest): into cur->rts (failed now, not before), fails
	 * (a failing MX not failing before, once), prdays (reported on
	 * more than half the previous period's days, none of this one) */
	size_t					*new_rts;
	size_t					 nnew_rts;
	size_t					*new_mxs;
	size_t					 nnew_mxs;
	size_t					*silent;
	size_t					 nsilent;
};

struct digest {
	int64_t				 since, until;	/* this period */
	int64_t				 prev_since;	/* [prev_since, since) */
	struct store_domain_summary	*cur, *prev;
	size_t				 ncur, nprev;
	struct store_digest_data	 dcur, dprev;
	struct store_readiness		*rd;
	size_t				 nrd;
	struct digest_domain		*doms;	/* worst status first */
	size_t				 ndoms;
	int				 worst;		/* digest_status */
	size_t				 count[3];	/* domains per status */
};

/*
 * Load and compute the digest of win (a window of known length) from st
 * into dg, which the caller owns and releases with digest_free() also on
 * failure.  Returns 0, -1 with store_errstr(st) saying why, or -2 when
 * out of memory.
 */
int	digest_compute(struct digest *dg, struct store *st,
	    const struct store_window *win);
void	digest_free(struct digest *);

/*
 * The live findings of each domain: live[i] (the caller's, NULL for
 * none) belongs to dg->doms[i] in the order before the call.  A domain
 * with live items takes the worse of its status and live->level and is
 * notable; the counts, the worst status and the order (worst first) are
 * computed again.
 */
void	digest_join_live(struct digest *dg,
	    const struct digest_live *const *live);

/* "OK", "WARNING", "CRITICAL". */
const char	*digest_status_str(int);

#endif
