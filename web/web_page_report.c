/*
 * web_page_report.c -- /report/KEY, /api/report/KEY and /raw/KEY/SHA256:
 * one report as stored (metadata, arrivals, policies, failure details,
 * warnings, content variants) and its raw JSON as a download.  A report
 * is the user's when every policy domain it names is (web_allowed());
 * otherwise, or when there is no such report, 404: the same answer.
 *
 * Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
 */

#include <stdio.h>
#include <string.h>

#include "store_series.h"
#include "util.h"
#include "web.h"

static void
h_time(struct page *p, int64_t t)
{
	char	buf[UTIL_TIME_BUFSZ];

	util_format_datetime(t, buf, sizeof(buf));
	h_raw(p, buf);
}

/* 1 when every policy domain of the report is the user's. */
static int
mine(const struct web_req *r, const struct store_report_info *ri)
{
	size_t	i;

	if (web_sees_all(r->u))
		return 1;
	if (ri->npol == 0)
		return 0;
	for (i = 0; i < ri->npol; i++)
		if (!web_allowed(r->u, ri->pol[i].domain))
			return 0;
	return 1;
}

static void
html(struct web_req *r, struct page *p, const struct store_report_info *ri)
{
	size_t	i;

	h_begin(p, "Report", r->u ? r->u->name : NULL);
	h_raw(p, "<table id=\"meta\"><tr><th>Organization</th><td id=\"org\">");
	h_text(p, ri->org);
	h_raw(p, "</td></tr><tr><th>Report ID</th><td>");
	h_text(p, ri->report_id);
	h_raw(p, "</td></tr><tr><th>Contact</th><td>");
	h_text(p, ri->contact);
	h_raw(p, "</td></tr><tr><th>Date range</th><td>");
	h_time(p, ri->start);
	h_raw(p, " to ");
	h_time(p, ri->end);
	h_raw(p, "</td></tr><tr><th>First received</th><td>");
	h_time(p, ri->received);
	h_raw(p, "</td></tr><tr><th>DKIM</th><td>");
	h_text(p, *ri->dkim ? ri->dkim : "not checked");
	h_raw(p, "</td></tr><tr><th>Key</th><td><code>");
	h_raw(p, ri->key);
	h_raw(p, "</code></td></tr></table>\n<h2>Arrivals</h2>\n<table "
	    "id=\"arrivals\"><tr><th>Time</th><th>Transport</th><th>From</th>"
	    "<th>Outcome</th><th>Note</th></tr>\n");
	for (i = 0; i < ri->narr; i++) {
		h_raw(p, "<tr><td>");
		h_time(p, ri->arr[i].at);
		h_raw(p, "</td><td>");
		h_text(p, ri->arr[i].source);
		h_raw(p, "</td><td>");
		h_text(p, ri->arr[i].origin);
		h_raw(p, "</td><td>");
		h_text(p, ri->arr[i].outcome);
		h_raw(p, "</td><td>");
		h_text(p, ri->arr[i].note);
		h_raw(p, "</td></tr>\n");
	}
	h_raw(p, "</table>\n<h2>Policies</h2>\n<table id=\"policies\"><tr>"
	    "<th>#</th><th>Domain</th><th>Type</th><th>Mode</th><th>Policy "
	    "string</th><th>MX</th><th>Successful</th><th>Failed</th>"
	    "<th>Counted</th></tr>\n");
	for (i = 0; i < ri->npol; i++) {
		const struct store_policy_row *x = &ri->pol[i];

		h_printf(p, "<tr><td>%d</td><td><a href=\"/domain/", x->idx);
		h_url(p, x->domain);
		h_raw(p, "\">");
		h_text(p, x->domain);
		h_raw(p, "</a></td><td>");
		h_text(p, x->type);
		h_raw(p, "</td><td>");
		h_text(p, x->mode);
		h_raw(p, "</td><td><pre class=\"policy\">");
		h_text(p, x->strings);
		h_raw(p, "</pre></td><td>");
		h_text(p, x->mx_hosts);
		h_printf(p, "</td><td class=\"n\">%lld</td><td class=\"n\">"
		    "%lld</td><td>%s</td></tr>\n", (long long)x->successful,
		    (long long)x->failed, x->counted ? "yes" : "no");
	}
	h_raw(p, "</table>\n<h2>Failure details</h2>\n<table id=\"details\">"
	    "<tr><th>Policy</th><th>Result type</th><th>Sending IP</th>"
	    "<th>Receiving IP</th><th>MX</th><th>HELO</th><th>Reason code</th>"
	    "<th>Additional information</th><th>Failed</th></tr>\n");
	for (i = 0; i < ri->ndet; i++) {
		const struct store_detail_row *x = &ri->det[i];
		const char *const cells[] = { x->result_type, x->sending_ip,
			x->receiving_ip, x->mx, x->helo, x->reason, x->info };
		size_t	k;

		h_printf(p, "<tr><td>%d</td>", x->policy_idx);
		for (k = 0; k < sizeof(cells) / sizeof(cells[0]); k++) {
			h_raw(p, "<td>");
			h_text(p, cells[k]);
			h_raw(p, "</td>");
		}
		h_printf(p, "<td class=\"n\">%lld</td></tr>\n",
		    (long long)x->failed);
	}
	h_raw(p, "</table>\n<h2>Warnings</h2>\n<ul id=\"warnings\">");
	for (i = 0; i < ri->nwarnings; i++) {
		h_raw(p, "<li>");
		h_text(p, ri->warnings[i]);
		h_raw(p, "</li>");
	}
	h_raw(p, "</ul>\n<h2>Content</h2>\n<ul id=\"variants\">");
	for (i = 0; i < ri->nvariants; i++) {
		h_raw(p, "<li><a download href=\"/raw/");
		h_raw(p, ri->key);
		h_raw(p, "/");
		h_raw(p, ri->variants[i]);
		h_raw(p, "\">raw JSON</a> (SHA-256 <code>");
		h_raw(p, ri->variants[i]);
		h_printf(p, "</code>)%s</li>", i ? ", a variant" : "");
	}
	h_raw(p, "</ul>\n");
	h_end(p);
}

static void
json(struct page *p, const struct store_report_info *ri)
{
	size_t	i;

	p->ctype = "application/json";
	h_printf(p, "{\"key\": \"%s\", \"organization\": ", ri->key);
	j_str(p, ri->org);
	h_raw(p, ", \"report_id\": ");
	j_str(p, ri->report_id);
	h_raw(p, ", \"start\": \"");
	h_time(p, ri->start);
	h_raw(p, "\", \"end\": \"");
	h_time(p, ri->end);
	h_raw(p, "\", \"policies\": [");
	for (i = 0; i < ri->npol; i++) {
		h_raw(p, i ? ", {\"domain\": " : "{\"domain\": ");
		j_str(p, ri->pol[i].domain);
		h_raw(p, ", \"type\": ");
		j_str(p, ri->pol[i].type);
		h_raw(p, ", \"policy_string\": ");
		j_str(p, ri->pol[i].strings);
		h_printf(p, ", \"successful\": %lld, \"failed\": %lld}",
		    (long long)ri->pol[i].successful,
		    (long long)ri->pol[i].failed);
	}
	h_raw(p, "], \"details\": [");
	for (i = 0; i < ri->ndet; i++) {
		h_printf(p, "%s{\"policy\": %d, \"result_type\": ", i ? ", " :
		    "", ri->det[i].policy_idx);
		j_str(p, ri->det[i].result_type);
		h_raw(p, ", \"mx\": ");
		j_str(p, ri->det[i].mx);
		h_printf(p, ", \"failed\": %lld}", (long long)ri->det[i].failed);
	}
	h_raw(p, "], \"arrivals\": [");
	for (i = 0; i < ri->narr; i++) {
		h_raw(p, i ? ", {\"time\": \"" : "{\"time\": \"");
		h_time(p, ri->arr[i].at);
		h_raw(p, "\", \"transport\": ");
		j_str(p, ri->arr[i].source);
		h_raw(p, ", \"outcome\": ");
		j_str(p, ri->arr[i].outcome);
		h_raw(p, "}");
	}
	h_raw(p, "], \"warnings\": [");
	for (i = 0; i < ri->nwarnings; i++) {
		h_raw(p, i ? ", " : "");
		j_str(p, ri->warnings[i]);
	}
	h_raw(p, "], \"variants\": [");
	for (i = 0; i < ri->nvariants; i++)
		h_printf(p, "%s\"%s\"", i ? ", " : "", ri->variants[i]);
	h_raw(p, "]}\n");
}

void
page_report(struct web_req *r, struct page *p)
{
	struct store_report_info ri;
	int			 rc;

	rc = store_report_get(r->st, r->rest, &ri);
	if (rc == -1)
		web_fail(r, p, store_errstr(r->st));
	else if (rc == 1 || !mine(r, &ri))
		web_notfound(r, p);
	else if (r->json)
		json(p, &ri);
	else
		html(r, p, &ri);
	store_series_free(&ri.a);
}

void
page_raw(struct web_req *r, struct page *p)
{
	struct store_report_info ri;
	struct store_raw	 raw;
	char			 key[65];
	const char		*slash = strchr(r->rest, '/');
	int			 rc;

	memset(&raw, 0, sizeof(raw));
	memset(&ri, 0, sizeof(ri));
	if (slash == NULL || slash - r->rest != 64) {
		web_notfound(r, p);
		return;
	}
	memcpy(key, r->rest, 64);
	key[64] = '\0';
	/* the same filter as the report's page, before the body is read */
	if ((rc = store_report_get(r->st, key, &ri)) == 0 && mine(r, &ri))
		rc = store_report_raw(r->st, key, slash + 1, &raw);
	else if (rc == 0)
		rc = 1;
	if (rc == -1)
		web_fail(r, p, store_errstr(r->st));
	else if (rc == 1)
		web_notfound(r, p);
	else {
		/* the body becomes the answer, not a copy: a stored report
		 * is as big as ingest allows (LIM_JSON_MAX_BYTES), more
		 * than a page (LIM_WEB_PAGE_MAX_BYTES) */
		p->ctype = "application/json";
		p->disposition = "attachment; filename=\"report.json\"";
		bbuf_reset(&p->b);
		p->b = raw.buf;
		memset(&raw.buf, 0, sizeof(raw.buf));
	}
	store_raw_free(&raw);
	store_series_free(&ri.a);
}
