/*
 * web_page_failures.c -- /failures and /api/failures: the breakdown of
 * `tlsrpt failures --by` (store_failures()) over the user's domains, by
 * any combination of by=result-type,mx,reporter,sending-ip,receiving-ip;
 * each row links to the reports behind it (the domain page's report
 * list, narrowed by its result type and MX).  LIM_WEB_ROWS_PER_PAGE rows
 * a page (page=), most failed first within each domain, as the CLI.
 *
 * Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
 */

#include <stdlib.h>
#include <string.h>

#include "store.h"
#include "store_series.h"
#include "tlsrpt_limits.h"
#include "util.h"
#include "web.h"

#define FAIL_REASONS_MAX	5

static const struct {
	const char	*name;		/* as in by= and --by */
	const char	*label;
	unsigned	 bit;
} keys[] = {
	{ "result-type", "Result type", STORE_BY_RESULT_TYPE },
	{ "mx", "MX", STORE_BY_MX },
	{ "reporter", "Reporter", STORE_BY_REPORTER },
	{ "sending-ip", "Sending IP", STORE_BY_SENDING_IP },
	{ "receiving-ip", "Receiving IP", STORE_BY_RECEIVING_IP },
};
#define NKEYS	(sizeof(keys) / sizeof(keys[0]))

static const char *
key_value(const struct store_failure_row *f, unsigned bit)
{
	switch (bit) {
	case STORE_BY_RESULT_TYPE:	return f->result_type;
	case STORE_BY_MX:		return f->mx;
	case STORE_BY_REPORTER:		return f->reporter;
	case STORE_BY_SENDING_IP:	return f->sending_ip;
	default:			return f->receiving_ip;
	}
}

/* by= into the bits, in the order given; -1 on an unknown key. */
static int
parse_by(const char *arg, unsigned *by, size_t *order, size_t *norder)
{
	const char	*s = arg;
	size_t		 k, n;

	*by = 0;
	*norder = 0;
	while (*s != '\0') {
		n = strcspn(s, ",");
		for (k = 0; k < NKEYS; k++)
			if (strlen(keys[k].name) == n &&
			    strncmp(s, keys[k].name, n) == 0)
				break;
		if (k == NKEYS)
			return -1;
		if ((*by & keys[k].bit) == 0) {
			*by |= keys[k].bit;
			order[(*norder)++] = k;
		}
		s += n + (s[n] == ',');
	}
	return *norder > 0 ? 0 : -1;
}

void
page_failures(struct web_req *r, struct page *p)
{
	struct store_domain_list	 scope;
	struct store_window		 w;
	struct store_failure_row	*rows = NULL;
	const char			*bya = r->arg(r, "by");
	const char			*pg = r->arg(r, "page");
	int64_t				 pageno = 1;
	size_t				 order[NKEYS], norder, n = 0, i, k;
	size_t				 first, last;
	int				 sc;
	unsigned			 by;

	memset(&scope, 0, sizeof(scope));
	if (web_window(r, p) == -1)
		return;
	if (parse_by(bya != NULL ? bya : "result-type,mx", &by, order,
	    &norder) == -1) {
		web_bad(r, p, "by: keys among result-type, mx, reporter, "
		    "sending-ip, receiving-ip, comma-separated");
		return;
	}
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
		if (store_failures(r->st, &w, by, FAIL_REASONS_MAX, &rows,
		    &n) == -1)
			goto fail;
	}
	first = (size_t)(pageno - 1) * LIM_WEB_ROWS_PER_PAGE;
	first = first > n ? n : first;
	last = n - first > LIM_WEB_ROWS_PER_PAGE ? first +
	    LIM_WEB_ROWS_PER_PAGE : n;
	if (r->json) {
		p->ctype = "application/json";
		h_raw(p, "{\"since\": \"");
		h_day(p, r->since);
		h_raw(p, "\", \"until\": \"");
		h_day(p, r->until);
		h_raw(p, "\", \"by\": [");
		for (k = 0; k < norder; k++)
			h_printf(p, "%s\"%s\"", k ? ", " : "",
			    keys[order[k]].name);
		h_printf(p, "], \"total\": %zu, \"page\": %lld, \"rows\": [",
		    n, (long long)pageno);
	} else {
		h_begin(p, "Failures", r->u != NULL ? r->u->name : NULL);
		h_raw(p, "<form method=\"get\" action=\"/failures\"><label>By "
		    "<input name=\"by\" value=\"");
		for (k = 0; k < norder; k++) {
			h_raw(p, k ? "," : "");
			h_raw(p, keys[order[k]].name);
		}
		h_raw(p, "\"></label> <label>from <input name=\"since\" "
		    "value=\"");
		h_day(p, r->since);
		h_raw(p, "\"></label> <label>to <input name=\"until\" value=\"");
		h_day(p, r->until - 86400);
		h_raw(p, "\"></label> <button>Show</button> (result-type, mx, "
		    "reporter, sending-ip, receiving-ip)</form>\n<table "
		    "id=\"failures\"><tr><th>Domain</th>");
		for (k = 0; k < norder; k++)
			h_printf(p, "<th>%s</th>", keys[order[k]].label);
		h_raw(p, "<th>Failed sessions</th><th>Domain sessions</th>"
		    "<th>Reporters</th><th>First</th><th>Last</th><th>Reports"
		    "</th></tr>\n");
	}
	for (i = first; i < last; i++) {
		const struct store_failure_row *f = &rows[i];

		if (!web_allowed(r->u, f->domain))
			continue;	/* never: the scope named them */
		if (r->json) {
			h_raw(p, i > first ? ",\n {\"domain\": " :
			    "\n {\"domain\": ");
			j_str(p, f->domain);
			for (k = 0; k < norder; k++) {
				h_printf(p, ", \"%s\": ", keys[order[k]].name);
				j_str(p, key_value(f, keys[order[k]].bit));
			}
			h_printf(p, ", \"failed_sessions\": %lld, "
			    "\"domain_sessions\": %lld, \"reporters\": %lld, "
			    "\"first_day\": \"", (long long)f->failed,
			    (long long)f->domain_sessions,
			    (long long)f->nreporters);
			h_day(p, f->first_day);
			h_raw(p, "\", \"last_day\": \"");
			h_day(p, f->last_day);
			h_raw(p, "\"}");
			continue;
		}
		h_raw(p, "<tr><td>");
		h_text(p, f->domain);
		h_raw(p, "</td>");
		for (k = 0; k < norder; k++) {
			h_raw(p, "<td>");
			h_text(p, key_value(f, keys[order[k]].bit));
			h_raw(p, "</td>");
		}
		h_printf(p, "<td class=\"n\">%lld</td><td class=\"n\">%lld</td>"
		    "<td class=\"n\">%lld</td><td>", (long long)f->failed,
		    (long long)f->domain_sessions, (long long)f->nreporters);
		h_day(p, f->first_day);
		h_raw(p, "</td><td>");
		h_day(p, f->last_day);
		h_raw(p, "</td><td><a href=\"/domain/");
		h_url(p, f->domain);
		h_raw(p, "?");
		web_window_query(r, p);
		if (by & STORE_BY_RESULT_TYPE) {
			h_raw(p, "&amp;rt=");
			h_url(p, f->result_type);
		}
		if (by & STORE_BY_MX) {
			h_raw(p, "&amp;mx=");
			h_url(p, f->mx);
		}
		h_raw(p, "#reports-of\">reports</a></td></tr>\n");
	}
	if (r->json)
		h_raw(p, "]}\n");
	else {
		h_printf(p, "</table>\n<p>%zu rows", n);
		if (last < n) {
			h_printf(p, "; <a rel=\"next\" href=\"/failures?page="
			    "%lld&amp;by=", (long long)pageno + 1);
			for (k = 0; k < norder; k++) {
				h_raw(p, k ? "," : "");
				h_raw(p, keys[order[k]].name);
			}
			h_raw(p, "&amp;");
			web_window_query(r, p);
			h_raw(p, "\">next</a>");
		}
		h_raw(p, ".</p>\n");
		h_end(p);
	}
	goto out;
 fail:
	web_fail(r, p, store_errstr(r->st));
 out:
	store_failures_free(rows, n);
	store_series_free(&scope.a);
}
