/*
 * digest_html.c -- the text/html view of the digest model (digest.h):
 * the same sections as the text view, inline styles only (mail clients
 * drop style sheets), everything a report sent escaped by out_html_str().
 *
 * Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
 */

#include <inttypes.h>
#include <stdio.h>

#include "cli.h"
#include "digest.h"
#include "out.h"
#include "readiness.h"
#include "writers.h"

static const char	*status_color[] = { "#1e7e34", "#b36b00", "#b00020" };

static void	badge(FILE *, int);
static void	html_domain(const struct digest_domain *, FILE *);
static void	html_live(const struct digest_live *, FILE *);

#define TD	"<td style=\"padding:3px 8px;border-bottom:1px solid #ddd\">"
#define TDR	"<td style=\"padding:3px 8px;border-bottom:1px solid #ddd;" \
		"text-align:right\">"
#define TH	"<th style=\"padding:3px 8px;text-align:left;" \
		"border-bottom:2px solid #999\">"
#define TABLE	"<table style=\"border-collapse:collapse;font-size:14px;" \
		"margin:6px 0\">"

static void
badge(FILE *f, int status)
{
	fprintf(f, "<span style=\"color:#fff;background:%s;padding:1px 6px;"
	    "border-radius:3px;font-weight:bold\">%s</span>",
	    status_color[status], digest_status_str(status));
}

/* digest --live: the MX certificates' expiry and the findings. */
static void
html_live(const struct digest_live *l, FILE *f)
{
	size_t	i;

	fputs("<p style=\"margin:2px 0\"><b>Live setup now:</b> ", f);
	badge(f, l->level);
	fputs("</p>\n", f);
	if (l->ncerts > 0)
		fputs(TABLE "<tr>" TH "MX certificate</th>" TH
		    "Days left</th></tr>\n", f);
	for (i = 0; i < l->ncerts; i++) {
		fputs("<tr>" TD, f);
		out_html_str(f, l->certs[i].mx);
		if (l->certs[i].days >= 0)
			fprintf(f, "</td>" TDR "%" PRId64 "</td></tr>\n",
			    l->certs[i].days);
		else
			fputs("</td>" TDR "expired</td></tr>\n", f);
	}
	if (l->ncerts > 0)
		fputs("</table>\n", f);
	fputs("<ul style=\"margin:2px 0\">\n", f);
	for (i = 0; i < l->nitems; i++) {
		fprintf(f, "<li><b>%s</b> ", l->items[i].level ==
		    DG_CRITICAL ? "critical" : l->items[i].level ==
		    DG_WARNING ? "warning" : "ok");
		out_html_str(f, l->items[i].code);
		fputs(": ", f);
		out_html_str(f, l->items[i].what);
		fputs("<br><i>next:</i> ", f);
		out_html_str(f, l->items[i].next);
		fputs("</li>\n", f);
	}
	fputs("</ul>\n", f);
}

static void
html_domain(const struct digest_domain *d, FILE *f)
{
	const struct store_fail_mx	*fl;
	const struct store_rt_count	*rt;
	const struct store_reporter_days *rdays;
	size_t				 i, k;

	fprintf(f, "<h3 style=\"margin:18px 0 4px\">");
	out_html_str(f, d->name[0] != '\0' ? d->name : "(unknown)");
	fputs(" ", f);
	badge(f, d->status);
	fprintf(f, "</h3>\n<p style=\"margin:2px 0\">Sessions %" PRId64
	    " (previous %" PRId64 "), failure rate %.2f%% (previous %.2f%%)"
	    "</p>\n", d->sessions, d->prev_sessions,
	    100.0 * d->frate, 100.0 * d->prev_frate);
	for (k = 0; k < d->nnew_rts; k++) {
		rt = &d->cur->rts[d->new_rts[k]];
		fputs(k == 0 ? "<p style=\"margin:2px 0\">"
		    "<b>New result types:</b> " : ", ", f);
		out_html_str(f, rt->result_type);
		fprintf(f, " (%" PRId64 ")", rt->failed_sessions);
	}
	if (k > 0)
		fputs("</p>\n", f);
	for (k = 0; k < d->nnew_mxs; k++) {
		fputs(k == 0 ? "<p style=\"margin:2px 0\">"
		    "<b>New failing MX hosts:</b> " : ", ", f);
		out_html_str(f, d->fails[d->new_mxs[k]].mx);
	}
	if (k > 0)
		fputs("</p>\n", f);
	if (d->nfails > 0)
		fputs(TABLE "<tr>" TH "Failed</th>" TH "Result type</th>" TH
		    "MX</th>" TH "Reporters</th></tr>\n", f);
	for (i = 0; i < d->nfails && i < DIGEST_TOP_MAX; i++) {
		fl = &d->fails[i];
		fprintf(f, "<tr>" TDR "%" PRId64 "</td>" TD, fl->failed);
		out_html_str(f, fl->result_type);
		fputs("</td>" TD, f);
		out_html_str(f, fl->mx[0] != '\0' ? fl->mx : "(unknown)");
		fprintf(f, "</td>" TDR "%" PRId64 "</td></tr>\n",
		    fl->reporters);
	}
	if (d->nfails > 0)
		fputs("</table>\n", f);
	for (k = 0; k < d->nsilent; k++) {
		rdays = &d->prdays[d->silent[k]];
		fputs(k == 0 ? "<p style=\"margin:2px 0\">"
		    "<b>Gone silent:</b> " : ", ", f);
		out_html_str(f, rdays->reporter);
		fprintf(f, " (%" PRId64 " days before, none now)",
		    rdays->days);
	}
	if (k > 0)
		fputs("</p>\n", f);
	if (d->live != NULL)
		html_live(d->live, f);
	if (d->rd == NULL)
		return;
	fprintf(f, "<p style=\"margin:2px 0\"><b>MTA-STS readiness for "
	    "enforce</b> (last %d days): <b>%s</b></p>\n", DIGEST_READY_DAYS,
	    rd_verdict_str(d->ev.verdict));
	for (i = 0, k = 0; i < d->ev.nreasons; i++) {
		if (d->ev.reasons[i].status == RS_OK)
			continue;
		fputs(k++ == 0 ? "<ul style=\"margin:2px 0\">\n" : "", f);
		fprintf(f, "<li>%s: ", rd_check_str(d->ev.reasons[i].check));
		out_html_str(f, d->ev.reasons[i].text);
		fputs("<br><i>next:</i> ", f);
		out_html_str(f, d->ev.reasons[i].next);
		fputs("</li>\n", f);
	}
	if (k > 0)
		fputs("</ul>\n", f);
}

void
digest_html(const struct digest *dg, FILE *f)
{
	const struct digest_domain	*d;
	size_t			 i, quiet = 0;

	fputs("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
	    "<title>TLS report digest</title></head>\n<body style=\""
	    "font-family:Arial,Helvetica,sans-serif;color:#222\">\n", f);
	fputs("<h2 style=\"margin:0 0 6px\">TLS report digest ", f);
	digest_period(f, dg->since, dg->until);
	fputs("</h2>\n<p>Overall ", f);
	badge(f, dg->worst);
	fprintf(f, " &mdash; %zu critical, %zu warning, %zu ok (%zu domains),"
	    " compared with ", dg->count[DG_CRITICAL], dg->count[DG_WARNING],
	    dg->count[DG_OK], dg->ndoms);
	digest_period(f, dg->prev_since, dg->since);
	fputs(".</p>\n", f);
	if (dg->ndoms == 0)
		fputs("<p>No reports in this period or the previous one.</p>\n",
		    f);
	for (i = 0; i < dg->ndoms; i++)
		if (dg->doms[i].notable)
			html_domain(&dg->doms[i], f);
	for (i = 0; i < dg->ndoms; i++) {
		d = &dg->doms[i];
		if (d->notable)
			continue;
		if (quiet++ == 0)
			fputs("<h3 style=\"margin:18px 0 4px\">OK, nothing "
			    "failed</h3>\n" TABLE "<tr>" TH "Domain</th>" TH
			    "Sessions</th>" TH "Previous</th></tr>\n", f);
		if (quiet > DIGEST_OK_LIST_MAX) {
			fputs("<tr>" TD "&hellip; and more</td></tr>\n", f);
			break;
		}
		fputs("<tr>" TD, f);
		out_html_str(f, d->name);
		fprintf(f, "</td>" TDR "%" PRId64 "</td>" TDR "%" PRId64
		    "</td></tr>\n", d->sessions, d->prev_sessions);
	}
	if (quiet > 0)
		fputs("</table>\n", f);
	fprintf(f, "<p style=\"color:#777;font-size:12px\">tlsrpt digest %s"
	    "</p>\n</body></html>\n", TLSRPT_VERSION);
}
