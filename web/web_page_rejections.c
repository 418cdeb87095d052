/*
 * web_page_rejections.c -- /rejections and /api/rejections: the latest
 * rejected inputs with reason, source and time.  A rejection names no
 * domain, so only a user who sees every domain ("*", or no --users)
 * sees them; for the others the page does not exist (404).
 *
 * Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
 */

#include <string.h>

#include "store_series.h"
#include "tlsrpt_limits.h"
#include "util.h"
#include "web.h"

void
page_rejections(struct web_req *r, struct page *p)
{
	struct store_reject_list l;
	char			 t[UTIL_TIME_BUFSZ];
	size_t			 i;

	if (!web_sees_all(r->u)) {
		web_notfound(r, p);
		return;
	}
	if (store_rejections(r->st, LIM_WEB_REJECTIONS_LISTED, &l) == -1) {
		web_fail(r, p, store_errstr(r->st));
		store_series_free(&l.a);
		return;
	}
	if (r->json) {
		p->ctype = "application/json";
		h_raw(p, "{\"rejections\": [");
	} else {
		h_begin(p, "Rejections", r->u ? r->u->name : NULL);
		h_raw(p, "<table id=\"rejections\"><tr><th>Time</th><th>Source"
		    "</th><th>From</th><th>Bytes</th><th>Reason</th></tr>\n");
	}
	for (i = 0; i < l.n; i++) {
		util_format_datetime(l.v[i].at, t, sizeof(t));
		if (r->json) {
			h_printf(p, "%s{\"time\": \"%s\", \"source\": ",
			    i ? ",\n " : "\n ", t);
			j_str(p, l.v[i].source);
			h_raw(p, ", \"origin\": ");
			j_str(p, l.v[i].origin);
			h_printf(p, ", \"bytes\": %lld, \"reason\": ",
			    (long long)l.v[i].len);
			j_str(p, l.v[i].reason);
			h_raw(p, "}");
			continue;
		}
		h_printf(p, "<tr><td>%s</td><td>", t);
		h_text(p, l.v[i].source);
		h_raw(p, "</td><td>");
		h_text(p, l.v[i].origin);
		h_printf(p, "</td><td class=\"n\">%lld</td><td>",
		    (long long)l.v[i].len);
		h_text(p, l.v[i].reason);
		h_raw(p, "</td></tr>\n");
	}
	if (r->json)
		h_raw(p, "]}\n");
	else {
		h_raw(p, "</table>\n");
		h_end(p);
	}
	store_series_free(&l.a);
}
