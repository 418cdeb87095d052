/*
 * web_req.c -- what every page does with its request: the window of
 * days=, since=, until=, and the error answers (web.h).
 *
 * Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
 */

#include <string.h>

#include "tlsrpt_limits.h"
#include "util.h"
#include "web.h"

#define DAY	86400

static void
answer(struct web_req *r, struct page *p, int status, const char *title,
    const char *why)
{
	page_free(p);
	if (r->json) {
		page_init(p, "application/json");
		h_raw(p, "{\"error\": ");
		j_str(p, why);
		h_raw(p, "}\n");
	} else {
		page_init(p, "text/html; charset=utf-8");
		h_begin(p, title, r->u != NULL ? r->u->name : NULL);
		h_raw(p, "<p>");
		h_text(p, why);
		h_raw(p, "</p>");
		h_end(p);
	}
	p->status = status;
}

void
web_notfound(struct web_req *r, struct page *p)
{
	answer(r, p, 404, "Not found", "No such page, or not yours to see.");
}

void
web_fail(struct web_req *r, struct page *p, const char *why)
{
	answer(r, p, 500, "Error", why);
}

void
web_bad(struct web_req *r, struct page *p, const char *why)
{
	answer(r, p, 400, "Bad request", why);
}

static int
day_arg(const char *s, int64_t *t)
{
	return strlen(s) == 10 && util_parse_date_or_datetime(s, t) == 0 ?
	    0 : -1;
}

void
web_window_default(int64_t now, int64_t *since, int64_t *until)
{
	*until = now - now % DAY + DAY;		/* today's reports too */
	*since = *until - LIM_WEB_WINDOW_DAYS_DEFAULT * DAY;
}

int
web_window(struct web_req *r, struct page *p)
{
	const char	*days = r->arg(r, "days");
	const char	*since = r->arg(r, "since");
	const char	*until = r->arg(r, "until");
	int64_t		 n = LIM_WEB_WINDOW_DAYS_DEFAULT;

	web_window_default(r->now, &r->since, &r->until);
	if (days != NULL && util_strtoi64(days, 1, LIM_WEB_WINDOW_DAYS_MAX,
	    &n) == -1) {
		web_bad(r, p, "days: a number of days, 1 to 400");
		return -1;
	}
	if (until != NULL && *until != '\0') {
		if (day_arg(until, &r->until) == -1) {
			web_bad(r, p, "until: a date, YYYY-MM-DD");
			return -1;
		}
		r->until += DAY;	/* the day named is in the window */
	}
	r->since = r->until - n * DAY;
	if (since != NULL && *since != '\0') {
		if (day_arg(since, &r->since) == -1) {
			web_bad(r, p, "since: a date, YYYY-MM-DD");
			return -1;
		}
	}
	if (r->since >= r->until ||
	    (r->until - r->since) / DAY > LIM_WEB_WINDOW_DAYS_MAX) {
		web_bad(r, p, "the window must be 1 to 400 days, since "
		    "before until");
		return -1;
	}
	return 0;
}

void
web_window_query(const struct web_req *r, struct page *p)
{
	h_raw(p, "since=");
	h_day(p, r->since);
	h_raw(p, "&amp;until=");
	h_day(p, r->until - DAY);
}
