/*
 * web_html.h -- the one place where the dashboard writes text it did not
 * make itself: every value from a report, a request or the store goes
 * through h_text() (HTML text and attribute values) or j_str() (JSON
 * strings).  h_raw() and h_printf() take the program's own markup and
 * numbers only.  An answer is built in a bounded buffer
 * (LIM_WEB_PAGE_MAX_BYTES); past it the answer fails (500), never cut.
 *
 * Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
 */

#ifndef TLSRPT_WEB_HTML_H
#define TLSRPT_WEB_HTML_H

#include <stddef.h>
#include <stdint.h>

#include "bbuf.h"

struct page {
	struct bbuf	 b;
	int		 err;		/* an append failed */
	int		 status;	/* HTTP status, 200 unless set */
	const char	*ctype;		/* Content-Type */
	const char	*disposition;	/* Content-Disposition, or NULL */
};

void	page_init(struct page *, const char *ctype);
void	page_free(struct page *);

/* The program's own markup (a literal), as is. */
void	h_raw(struct page *, const char *);
/* n bytes of an answer made before (web_cache.c), as they are. */
void	h_raw_n(struct page *, const char *, size_t n);
/* The program's own markup with numbers: no %s of outside text. */
void	h_printf(struct page *, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
/* Outside text, escaped for HTML text and quoted attributes. */
void	h_text(struct page *, const char *);
/* Outside text as a URL path segment or query value (percent-encoded),
 * then HTML-escaped: for href values. */
void	h_url(struct page *, const char *);
/* "2026-03-08" of a Unix time. */
void	h_day(struct page *, int64_t t);
/* A rate as "12.34%". */
void	h_pct(struct page *, double);

/* A JSON string value (with its quotes); NULL as null. */
void	j_str(struct page *, const char *);
/* A JSON text from the store (valid JSON: PostgreSQL's jsonb output) as
 * a value, with < > & inside its strings written as \u escapes as j_str()
 * writes them (outside strings valid JSON has none); NULL as null. */
void	j_json(struct page *, const char *);

/* <!doctype html> ... <main>: title is outside text; user may be NULL. */
void	h_begin(struct page *, const char *title, const char *user);
void	h_end(struct page *);

/* The style sheet the program serves at /style.css. */
extern const char	web_css[];

#endif
