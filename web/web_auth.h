/*
 * web_auth.h -- who may see what: the --users file, the password check,
 * and the tenancy filter.  Every domain a page, an API answer, a link or
 * a download names has passed web_allowed(), and every list of domains
 * a query gets comes from web_scope(): this file is the one place.
 *
 * The users file: one log-in a line, "#" comments,
 *
 *	NAME:CRYPT-HASH:DOMAIN,*.SUFFIX,...
 *
 * CRYPT-HASH as crypt(3) makes it (yescrypt "$y$...": mkpasswd -m
 * yescrypt); DOMAIN names one policy domain, "*.SUFFIX" every domain
 * under SUFFIX (not SUFFIX itself), "*" every domain (the reports with
 * no policy domain and the rejections too).
 *
 * Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
 */

#ifndef TLSRPT_WEB_AUTH_H
#define TLSRPT_WEB_AUTH_H

#include <stddef.h>
#include <stdint.h>

#include "store.h"
#include "store_series.h"

struct web_user {
	char	 *name;
	char	 *hash;
	char	**pat;		/* lower case */
	size_t	  npat;
	int	  all;		/* "*" */
};

struct web_users {
	struct web_user	*v;
	size_t		 n;
};

/* NULL with a one-line reason (file and line) in err. */
struct web_users	*web_users_load(const char *path, char *err,
			    size_t errsz);
void			 web_users_free(struct web_users *);

/* The user whose name and password these are, or NULL.  Every call
 * hashes the password once, an unknown name's against a fixed dummy
 * yescrypt hash: the time does not tell a name that exists. */
const struct web_user	*web_users_check(const struct web_users *,
			    const char *name, const char *password);

/* crypt_r() calls of web_users_check() so far (the test's evidence). */
unsigned long		 web_users_hashes(void);

/* 1 when u (NULL: no --users, everything) may see domain. */
int	web_allowed(const struct web_user *u, const char *domain);

/* 1 when u sees everything (the rejections, reports of no domain). */
int	web_sees_all(const struct web_user *u);

/*
 * The domains with reports in w's period that u may see, into out
 * (store_series_free(&out->a) after).  0, or -1 (store_errstr()).
 */
int	web_scope(const struct web_user *u, struct store *st,
	    const struct store_window *w, struct store_domain_list *out);

/*
 * Narrow w (its since and until set) to what u may see: every domain
 * (w->domains NULL) for a user who sees all, else the domains of
 * web_scope() (held in scope: store_series_free(&scope->a) after).
 * Returns 1 when there is something to query, 0 when nothing (then w
 * must not reach the store: no domains there means all), -1 on error.
 */
int	web_scope_window(const struct web_user *u, struct store *st,
	    struct store_window *w, struct store_domain_list *scope);

#endif
