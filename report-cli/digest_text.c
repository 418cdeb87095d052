/*
 * digest_text.c -- the text/plain view of the digest model (digest.h):
 * notable domains first, each with its figures, what is new, the top
 * failures, who went silent and the readiness verdict; then one line per
 * quiet OK domain.  A sender's strings pass through out_shown().
 *
 * Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
 */

#include <inttypes.h>
#include <stdio.h>

#include "cli.h"
#include "digest.h"
#include "ingest.h"
#include "out.h"
#include "readiness.h"
#include "writers.h"

static void	text_domain(const struct digest_domain *, FILE *);
static void	text_live(const struct digest_live *, FILE *);

/* digest --live: the MX certificates' expiry and the findings (the
 * live check made their text printable). */
static void
text_live(const struct digest_live *l, FILE *f)
{
	size_t	i;

	fprintf(f, "Live setup now: %s\n", digest_status_str(l->level));
	for (i = 0; i < l->ncerts; i++)
		if (l->certs[i].days >= 0)
			fprintf(f, "  MX certificate of %s: %" PRId64 " day%s "
			    "left\n", l->certs[i].mx, l->certs[i].days,
			    l->certs[i].days == 1 ? "" : "s");
		else
			fprintf(f, "  MX certificate of %s: expired\n",
			    l->certs[i].mx);
	for (i = 0; i < l->nitems; i++)
		fprintf(f, "  - %s %s: %s\n    next: %s\n",
		    l->items[i].level == DG_CRITICAL ? "critical" :
		    l->items[i].level == DG_WARNING ? "warning" : "ok",
		    l->items[i].code, l->items[i].what, l->items[i].next);
}

static void
text_domain(const struct digest_domain *d, FILE *f)
{
	const struct store_fail_mx	*fl;
	const struct store_rt_count	*rt;
	const struct store_reporter_days *rdays;
	char				 safe[256], safe2[256];
	size_t				 i, k;

	fprintf(f, "\n### %s: %s\n", out_shown(d->name, safe,
	    sizeof(safe)), digest_status_str(d->status));
	fprintf(f, "Sessions: %" PRId64 " (previous period %" PRId64 "), "
	    "failure rate %.2f%% (previous %.2f%%)\n", d->sessions,
	    d->prev_sessions, 100.0 * d->frate, 100.0 * d->prev_frate);
	for (k = 0; k < d->nnew_rts; k++) {
		rt = &d->cur->rts[d->new_rts[k]];
		fprintf(f, "%s%s (%" PRId64 ", %s)", k == 0 ?
		    "New result types: " : ", ", out_shown(rt->result_type,
		    safe, sizeof(safe)), rt->failed_sessions,
		    tlsrpt_result_severity(rt->result_type));
	}
	if (k > 0)
		fputc('\n', f);
	for (k = 0; k < d->nnew_mxs; k++)
		fprintf(f, "%s%s", k == 0 ? "New failing MX hosts: " : ", ",
		    out_shown(d->fails[d->new_mxs[k]].mx, safe, sizeof(safe)));
	if (k > 0)
		fputc('\n', f);
	if (d->nfails > 0)
		fprintf(f, "Top failures:\n");
	for (i = 0; i < d->nfails && i < DIGEST_TOP_MAX; i++) {
		fl = &d->fails[i];
		fprintf(f, "  %8" PRId64 "  %-26s %-30s %" PRId64
		    " reporter%s\n", fl->failed,
		    out_shown(fl->result_type, safe, sizeof(safe)),
		    out_shown(fl->mx, safe2, sizeof(safe2)), fl->reporters,
		    fl->reporters == 1 ? "" : "s");
	}
	for (k = 0; k < d->nsilent; k++) {
		rdays = &d->prdays[d->silent[k]];
		fprintf(f, "%s%s (reported on %" PRId64 " days of the "
		    "previous period, none in this one)", k == 0 ?
		    "Gone silent: " : ", ", out_shown(rdays->reporter, safe,
		    sizeof(safe)), rdays->days);
	}
	if (k > 0)
		fputc('\n', f);
	if (d->live != NULL)
		text_live(d->live, f);
	if (d->rd == NULL)
		return;
	fprintf(f, "MTA-STS readiness for enforce (last %d days): %s\n",
	    DIGEST_READY_DAYS, rd_verdict_str(d->ev.verdict));
	for (i = 0; i < d->ev.nreasons; i++)
		if (d->ev.reasons[i].status != RS_OK)
			fprintf(f, "  - %s: %s\n    next: %s\n",
			    rd_check_str(d->ev.reasons[i].check),
			    d->ev.reasons[i].text, d->ev.reasons[i].next);
}

void
digest_text(const struct digest *dg, FILE *f)
{
	const struct digest_domain	*d;
	char			 safe[256];
	size_t			 i, quiet = 0;

	fprintf(f, "TLS report digest for ");
	digest_period(f, dg->since, dg->until);
	fprintf(f, " (UTC), compared with ");
	digest_period(f, dg->prev_since, dg->since);
	fprintf(f, ".\nOverall: %s -- %zu critical, %zu warning, %zu ok "
	    "(%zu domain%s)\n", digest_status_str(dg->worst),
	    dg->count[DG_CRITICAL], dg->count[DG_WARNING], dg->count[DG_OK],
	    dg->ndoms, dg->ndoms == 1 ? "" : "s");
	if (dg->ndoms == 0)
		fprintf(f, "\nNo reports in this period or the previous "
		    "one.\n");
	for (i = 0; i < dg->ndoms; i++) {
		d = &dg->doms[i];
		if (d->notable)
			text_domain(d, f);
		else
			quiet++;
	}
	if (quiet > 0)
		fprintf(f, "\n### OK, nothing failed\n");
	for (i = 0, quiet = 0; i < dg->ndoms; i++) {
		d = &dg->doms[i];
		if (d->notable)
			continue;
		if (quiet++ == DIGEST_OK_LIST_MAX) {
			fprintf(f, "  ... and more\n");
			break;
		}
		fprintf(f, "  %-40s %10" PRId64 " sessions (previous %" PRId64
		    ")\n", out_shown(d->name, safe, sizeof(safe)),
		    d->sessions, d->prev_sessions);
	}
	fprintf(f, "\n-- \ntlsrpt digest %s; `tlsrpt failures` and `tlsrpt "
	    "readiness --domain D` tell more.\n", TLSRPT_VERSION);
}
