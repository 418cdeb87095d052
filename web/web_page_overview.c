/*
 * web_page_overview.c -- "/" and /api/overview: every domain the user
 * may see over the window, from the digest model (status, reports,
 * reporters, sessions, failure rate, readiness verdict), with a
 * sparkline of the daily failure rate (model/series.h); filtered by
 * q=, sorted by sort=, LIM_WEB_ROWS_PER_PAGE rows a page (page=).
 *
 * Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
 */

#include <stdlib.h>
#include <string.h>

#include "digest.h"
#include "model.h"
#include "readiness.h"
#include "series.h"
#include "store_series.h"
#include "tlsrpt_limits.h"
#include "util.h"
#include "web.h"

enum sort { S_STATUS, S_NAME, S_REPORTS, S_SESSIONS, S_FRATE };
static const char *const sort_names[] = { "status", "name", "reports",
	"sessions", "rate" };

static _Thread_local enum sort sort_key;	/* for cmp_row() */

static int
cmp_row(const void *a, const void *b)
{
	const struct digest_domain *x = *(const struct digest_domain *const *)a;
	const struct digest_domain *y = *(const struct digest_domain *const *)b;
	double	 fx, fy;
	int64_t	 vx, vy;

	switch (sort_key) {
	case S_REPORTS:
		vx = x->cur ? x->cur->reports : 0;
		vy = y->cur ? y->cur->reports : 0;
		if (vx != vy)
			return vx > vy ? -1 : 1;
		break;
	case S_SESSIONS:
		vx = model_sessions(x->cur);
		vy = model_sessions(y->cur);
		if (vx != vy)
			return vx > vy ? -1 : 1;
		break;
	case S_FRATE:
		fx = model_failure_rate(x->cur);
		fy = model_failure_rate(y->cur);
		if (fx != fy)
			return fx > fy ? -1 : 1;
		break;
	case S_STATUS:
		if (x->status != y->status)
			return x->status > y->status ? -1 : 1;
		break;
	case S_NAME:
		break;
	}
	return strcmp(x->name, y->name);
}

static void
sparkline(struct page *p, const struct series *s)
{
	size_t	i;
	double	w = 120, h = 24, dx;

	dx = s->ndays > 1 ? w / (double)(s->ndays - 1) : w;
	h_printf(p, "<svg class=\"spark\" width=\"%.0f\" height=\"%.0f\" "
	    "viewBox=\"0 0 %.0f %.0f\" role=\"img\"><title>daily failure "
	    "rate:", w, h + 2, w, h + 2);
	for (i = 0; i < s->ndays; i++) {
		h_raw(p, " ");
		h_day(p, s->days[i].day);
		h_raw(p, " ");
		if (s->days[i].sessions > 0)
			h_pct(p, s->days[i].frate);
		else
			h_raw(p, "-");
	}
	h_raw(p, "</title><polyline class=\"line\" points=\"");
	for (i = 0; i < s->ndays; i++)
		h_printf(p, "%s%.1f,%.1f", i ? " " : "", (double)i * dx,
		    1 + h - s->days[i].frate * h);
	h_raw(p, "\"/></svg>");
}

static const char *
verdict(const struct digest_domain *d)
{
	return d->rd != NULL ? rd_verdict_str(d->ev.verdict) : "";
}

static void
sort_link(struct web_req *r, struct page *p, enum sort k, const char *label,
    const char *q)
{
	h_raw(p, "<th><a href=\"/?sort=");
	h_raw(p, sort_names[k]);
	h_raw(p, "&amp;");
	web_window_query(r, p);
	if (q != NULL && *q != '\0') {
		h_raw(p, "&amp;q=");
		h_url(p, q);
	}
	h_raw(p, "\">");
	h_raw(p, label);
	h_raw(p, "</a></th>");
}

void
page_overview(struct web_req *r, struct page *p)
{
	struct store_domain_list	 scope;
	struct store_window		 w;
	struct store_series		 ss;
	struct digest			 dg;
	struct series			 sr;
	const struct digest_domain	**rows = NULL;
	const char			**names = NULL;
	const char			*q = r->arg(r, "q");
	const char			*sort = r->arg(r, "sort");
	const char			*pg = r->arg(r, "page");
	int64_t				 pageno = 1;
	size_t				 i, n = 0, first, last, k;
	int				 sc;

	memset(&scope, 0, sizeof(scope));
	memset(&ss, 0, sizeof(ss));
	memset(&dg, 0, sizeof(dg));
	if (web_window(r, p) == -1)
		return;
	sort_key = S_STATUS;
	for (k = 0; sort != NULL && k < sizeof(sort_names) /
	    sizeof(sort_names[0]); k++)
		if (strcmp(sort, sort_names[k]) == 0)
			sort_key = (enum sort)k;
	if (pg != NULL && util_strtoi64(pg, 1, 1000000, &pageno) == -1) {
		web_bad(r, p, "page: a number from 1");
		return;
	}
	memset(&w, 0, sizeof(w));
	w.since = r->since;
	w.until = r->until;
	if ((sc = web_scope_window(r->u, r->st, &w, &scope)) == -1)
		goto fail;
	if (sc == 1) {
		if (digest_compute(&dg, r->st, &w) != 0)
			goto fail;
	}
	if ((rows = calloc(dg.ndoms + 1, sizeof(*rows))) == NULL ||
	    (names = calloc(LIM_WEB_ROWS_PER_PAGE + 1, sizeof(*names))) ==
	    NULL)
		goto fail;
	for (i = 0; i < dg.ndoms; i++)
		if (web_allowed(r->u, dg.doms[i].name) && (q == NULL ||
		    strstr(dg.doms[i].name, q) != NULL))
			rows[n++] = &dg.doms[i];
	qsort(rows, n, sizeof(*rows), cmp_row);
	first = (size_t)(pageno - 1) * LIM_WEB_ROWS_PER_PAGE;
	if (first > n)
		first = n;
	last = first + LIM_WEB_ROWS_PER_PAGE < n ? first +
	    LIM_WEB_ROWS_PER_PAGE : n;
	for (i = first; i < last; i++)
		names[i - first] = rows[i]->name;
	if (last > first) {
		w.domains = names;
		w.ndomains = last - first;
		if (store_series(r->st, &w, STORE_SERIES_DAYS, &ss) == -1)
			goto fail;
	}

	if (r->json) {
		p->ctype = "application/json";
		h_raw(p, "{\"since\": \"");
		h_day(p, r->since);
		h_raw(p, "\", \"until\": \"");
		h_day(p, r->until);
		h_printf(p, "\", \"total\": %zu, \"page\": %lld, "
		    "\"domains\": [", n, (long long)pageno);
	} else {
		h_begin(p, "Overview", r->u != NULL ? r->u->name : NULL);
		h_raw(p, "<form method=\"get\" action=\"/\"><label>Filter "
		    "<input name=\"q\" value=\"");
		h_text(p, q != NULL ? q : "");
		h_raw(p, "\"></label> <label>Days <select name=\"days\">"
		    "<option>7</option><option selected>30</option>"
		    "<option>90</option></select></label> <label>or from "
		    "<input name=\"since\" placeholder=\"YYYY-MM-DD\"></label> "
		    "<label>to <input name=\"until\" placeholder=\"YYYY-MM-DD\">"
		    "</label> <button>Show</button></form>\n<p>");
		h_day(p, r->since);
		h_raw(p, " to ");
		h_day(p, r->until - 86400);
		h_printf(p, ": %zu domains.</p>\n<table id=\"domains\"><tr>",
		    n);
		sort_link(r, p, S_NAME, "Domain", q);
		sort_link(r, p, S_STATUS, "Status", q);
		sort_link(r, p, S_REPORTS, "Reports", q);
		h_raw(p, "<th>Reporters</th>");
		sort_link(r, p, S_SESSIONS, "Sessions", q);
		sort_link(r, p, S_FRATE, "Failure rate", q);
		h_raw(p, "<th>Daily failure rate</th><th>Readiness</th></tr>\n");
	}
	for (i = first; i < last; i++) {
		const struct digest_domain *d = rows[i];

		memset(&sr, 0, sizeof(sr));
		if (series_build(&ss, d->name, r->since, r->until, &sr) == -1) {
			series_free(&sr);
			goto fail;
		}
		if (r->json) {
			h_raw(p, i > first ? ",\n {\"domain\": " :
			    "\n {\"domain\": ");
			j_str(p, d->name);
			h_printf(p, ", \"status\": \"%s\", \"reports\": %lld, "
			    "\"reporters\": %lld, \"sessions\": %lld, "
			    "\"failed\": %lld, \"failure_rate\": %.6f, "
			    "\"readiness\": ", digest_status_str(d->status),
			    (long long)(d->cur ? d->cur->reports : 0),
			    (long long)(d->cur ? d->cur->reporters : 0),
			    (long long)model_sessions(d->cur),
			    (long long)(d->cur ? d->cur->failed : 0),
			    model_failure_rate(d->cur));
			j_str(p, d->rd != NULL ? verdict(d) : NULL);
			h_raw(p, "}");
		} else {
			h_printf(p, "<tr class=\"%s\"><td><a href=\"/domain/",
			    digest_status_str(d->status));
			h_url(p, d->name);
			h_raw(p, "?");
			web_window_query(r, p);
			h_raw(p, "\">");
			h_text(p, *d->name ? d->name : "(no domain)");
			h_printf(p, "</a></td><td>%s</td><td class=\"n\">%lld"
			    "</td><td class=\"n\">%lld</td><td class=\"n\">"
			    "%lld</td><td class=\"n\">",
			    digest_status_str(d->status),
			    (long long)(d->cur ? d->cur->reports : 0),
			    (long long)(d->cur ? d->cur->reporters : 0),
			    (long long)model_sessions(d->cur));
			h_pct(p, model_failure_rate(d->cur));
			h_raw(p, "</td><td>");
			sparkline(p, &sr);
			h_raw(p, "</td><td>");
			h_raw(p, verdict(d));
			h_raw(p, "</td></tr>\n");
		}
		series_free(&sr);
	}
	if (r->json)
		h_raw(p, "]}\n");
	else {
		h_raw(p, "</table>\n<p>");
		if (pageno > 1)
			h_printf(p, "<a rel=\"prev\" href=\"/?page=%lld&amp;"
			    "sort=%s&amp;", (long long)pageno - 1,
			    sort_names[sort_key]);
		if (pageno > 1) {
			web_window_query(r, p);
			h_raw(p, "\">previous</a> ");
		}
		if (last < n) {
			h_printf(p, "<a rel=\"next\" href=\"/?page=%lld&amp;"
			    "sort=%s&amp;", (long long)pageno + 1,
			    sort_names[sort_key]);
			web_window_query(r, p);
			h_raw(p, "\">next</a>");
		}
		h_raw(p, "</p>");
		h_end(p);
	}
	goto out;
 fail:
	web_fail(r, p, store_errstr(r->st));
 out:
	free(rows);
	free(names);
	digest_free(&dg);
	store_series_free(&ss.a);
	store_series_free(&scope.a);
}
