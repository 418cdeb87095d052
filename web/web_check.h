/*
 * web_check.h -- the last stored live check of a domain on its page
 * (web_page_check.c; issue 11: `tlsrpt check --store` writes it).
 *
 * Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
 */

#ifndef TLSRPT_WEB_CHECK_H
#define TLSRPT_WEB_CHECK_H

#include "store_check.h"
#include "web.h"

/*
 * The newest stored check of domain, which the caller has already found
 * to be the user's (web_allowed()): 0 with *c filled, 1 none stored,
 * -1 a database error (store_errstr()).  c is released with
 * arena_free(&c->a) in every case.
 */
int	web_check_load(struct web_req *, const char *domain,
	    struct store_check *c);

/* Its section of the domain page, and its member "live_check" of the
 * domain's JSON (after a ",\n "); c NULL: none stored. */
void	web_check_html(struct web_req *, struct page *, const char *domain,
	    const struct store_check *c);
void	web_check_json(struct web_req *, struct page *,
	    const struct store_check *c);

#endif
