/*
 * web_page_overview.c -- "/" and /api/overview: every domain the user
 * may see over the window, from the overview model (model/overview.h:
 * the digest's status, reports, reporters, sessions, failure rate,
 * readiness verdict, kept between requests by web_cache.c), with a
 * sparkline of the daily failure rate (model/series.h) and the MTA-STS
 * modes reporters applied; filtered by q=, sorted by sort=,
 * LIM_WEB_ROWS_PER_PAGE rows a page (page=).  The kept overview is of
 * every domain: each user's rows are picked by web_allowed().
 *
 * Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
 */

#include <stdlib.h>
#include <string.h>

#include "digest.h"
#include "model.h"
#include "overview.h"
#include "readiness.h"
#include "series.h"
#include "store_series.h"
#include "tlsrpt_limits.h"
#include "util.h"
#include "web.h"
#include "web_cache.h"

enum sort { S_STATUS, S_NAME, S_REPORTS, S_SESSIONS, S_FRATE };
static const char *const sort_names[] = { "status", "name", "reports",
	"sessions", "rate" };

static _Thread_local enum sort sort_key;	/* for cmp_row() */

static int
cmp_row(const void *a, const void *b)
{
	const struct overview_row *x = *(const struct overview_row *const *)a;
	const struct overview_row *y = *(const struct overview_row *const *)b;
	double	 fx, fy;
	int64_t	 vx, vy;

	switch (sort_key) {
	case S_REPORTS:
		vx = x->reports;
		vy = y->reports;
		if (vx != vy)
			return vx > vy ? -1 : 1;
		break;
	case S_SESSIONS:
		vx = x->sessions;
		vy = y->sessions;
		if (vx != vy)
			return vx > vy ? -1 : 1;
		break;
	case S_FRATE:
		fx = x->frate;
		fy = y->frate;
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
verdict(const struct overview_row *d)
{
	return d->verdict >= 0 ? rd_verdict_str((enum rd_verdict)d->verdict) :
	    "";
}

/* The modes of m[0..n) as the CLI's JSON names them. */
static void
modes_json(struct page *p, const struct store_sts_mode *m, size_t n)
{
	size_t	i;

	h_raw(p, "[");
	for (i = 0; i < n; i++) {
		h_raw(p, i ? ", {\"mode\": " : "{\"mode\": ");
		j_str(p, m[i].mode);
		h_printf(p, ", \"reports\": %lld, \"reporters\": %lld}",
		    (long long)m[i].reports, (long long)m[i].reporters);
	}
	h_raw(p, "]");
}

/* ... and in a cell: "enforce", or "testing 3, enforce 1" (reports). */
static void
modes_html(struct page *p, const struct store_sts_mode *m, size_t n)
{
	size_t	i;

	if (n == 0)
		h_raw(p, "-");
	for (i = 0; i < n; i++) {
		h_raw(p, i ? ", " : "");
		h_text(p, overview_mode_str(m[i].mode));
		if (n > 1)
			h_printf(p, " %lld", (long long)m[i].reports);
	}
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
	struct store_window		 w;
	struct store_series		 ss;
	struct web_row_modes		 rm[LIM_WEB_ROWS_PER_PAGE];
	struct series			 sr;
	struct web_cache_ref		*ref = NULL;
	const struct overview		*ov;
	const struct overview_row	**rows = NULL;
	const char			**names = NULL;
	const char			*q = r->arg(r, "q");
	const char			*sort = r->arg(r, "sort");
	const char			*pg = r->arg(r, "page");
	int64_t				 pageno = 1;
	size_t				 i, n = 0, first, last, k;
	int				 rc;

	memset(&ss, 0, sizeof(ss));
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
	if ((rc = web_cache_overview(r->st, r->since, r->until, &ov,
	    &ref)) == -1)
		goto fail;
	if (rc == -2 || (rows = calloc(ov->n + 1, sizeof(*rows))) == NULL ||
	    (names = calloc(LIM_WEB_ROWS_PER_PAGE + 1, sizeof(*names))) ==
	    NULL) {
		web_fail(r, p, "out of memory");
		goto out;
	}
	for (i = 0; i < ov->n; i++)
		if (web_allowed(r->u, ov->rows[i].name) && (q == NULL ||
		    strstr(ov->rows[i].name, q) != NULL))
			rows[n++] = &ov->rows[i];
	qsort(rows, n, sizeof(*rows), cmp_row);
	first = (size_t)(pageno - 1) * LIM_WEB_ROWS_PER_PAGE;
	if (first > n)
		first = n;
	last = first + LIM_WEB_ROWS_PER_PAGE < n ? first +
	    LIM_WEB_ROWS_PER_PAGE : n;
	for (i = first; i < last; i++)
		names[i - first] = rows[i]->name;
	memset(&w, 0, sizeof(w));
	w.since = r->since;
	w.until = r->until;
	if (last > first) {
		w.domains = names;
		w.ndomains = last - first;
		if (store_series(r->st, &w, STORE_SERIES_DAYS, &ss) == -1 ||
		    (rc = web_cache_modes(ref, r->st, rows + first, last -
		    first, rm)) == -1)
			goto fail;
		if (rc == -2) {
			web_fail(r, p, "out of memory");
			goto out;
		}
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
		h_raw(p, "<th>Daily failure rate</th><th>MTA-STS mode</th>"
		    "<th>Readiness</th></tr>\n");
	}
	for (i = first; i < last; i++) {
		const struct overview_row *d = rows[i];

		memset(&sr, 0, sizeof(sr));
		if (series_build(&ss, d->name, r->since, r->until, &sr) == -1) {
			series_free(&sr);
			goto fail;
		}
		if (r->json) {
			h_raw(p, i > first ? ",\n {\"domain\": " :
			    "\n {\"domain\": ");
			j_str(p, d->name);
			/* and the figures under the names of `tlsrpt
			 * summary --format json` */
			h_printf(p, ", \"status\": \"%s\", \"reports\": %lld, "
			    "\"reporters\": %lld, \"sessions\": %lld, "
			    "\"failed\": %lld, \"failure_rate\": %.6f, "
			    "\"successful_sessions\": %lld, "
			    "\"failed_sessions\": %lld, "
			    "\"modes\": ", digest_status_str(d->status),
			    (long long)d->reports, (long long)d->reporters,
			    (long long)d->sessions, (long long)d->failed,
			    d->frate, (long long)d->successful,
			    (long long)d->failed);
			modes_json(p, rm[i - first].v, rm[i - first].n);
			h_raw(p, ", \"readiness\": ");
			j_str(p, d->verdict >= 0 ? verdict(d) : NULL);
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
			    (long long)d->reports, (long long)d->reporters,
			    (long long)d->sessions);
			h_pct(p, d->frate);
			h_raw(p, "</td><td>");
			sparkline(p, &sr);
			h_raw(p, "</td><td class=\"mode\">");
			modes_html(p, rm[i - first].v, rm[i - first].n);
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
	web_cache_put(ref);
	store_series_free(&ss.a);
}
