/*
 * web.h -- what the files of web/ share: one request as the pages see
 * it (no libmicrohttpd here), and the pages.
 *
 * Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
 */

#ifndef TLSRPT_WEB_H
#define TLSRPT_WEB_H

#include <stdint.h>

#include "store.h"
#include "web_auth.h"
#include "web_html.h"

struct web_req {
	const struct web_user	*u;	/* NULL: no --users, all domains */
	struct store		*st;
	const char		*rest;	/* the path after the page's prefix */
	int			 json;	/* /api/... */
	int64_t			 now;
	/* a query parameter, or NULL */
	const char		*(*arg)(const struct web_req *, const char *);
	void			*cls;
	/* the window of days=, since=, until= */
	int64_t			 since, until;
};

/* Parse the window of the query; -1 with p answered 400. */
int	web_window(struct web_req *, struct page *p);

/* The window of no days=, since= or until= at time now: the last
 * LIM_WEB_WINDOW_DAYS_DEFAULT days, today's included. */
void	web_window_default(int64_t now, int64_t *since, int64_t *until);

/* Answer 404 / 500 / 400 (p reset). */
void	web_notfound(struct web_req *, struct page *p);
void	web_fail(struct web_req *, struct page *p, const char *why);
void	web_bad(struct web_req *, struct page *p, const char *why);

/* The query of the window, to carry in links: "since=...&until=..." */
void	web_window_query(const struct web_req *, struct page *p);

void	page_overview(struct web_req *, struct page *);
void	page_domain(struct web_req *, struct page *);
void	page_report(struct web_req *, struct page *);
void	page_raw(struct web_req *, struct page *);
void	page_rejections(struct web_req *, struct page *);
void	page_failures(struct web_req *, struct page *);

#endif
