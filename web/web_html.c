/*
 * web_html.c -- escaping and the page frame (web_html.h).
 *
 * Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
 */

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "tlsrpt_limits.h"
#include "util.h"
#include "web_html.h"

const char web_css[] =
"body{font:14px/1.4 system-ui,sans-serif;margin:0;color:#222;background:#fafafa}"
"header{background:#234;color:#fff;padding:.5em 1em}"
"header a{color:#fff;margin-right:1em}main{padding:1em}"
"table{border-collapse:collapse;margin:.5em 0 1.5em}"
"th,td{border:1px solid #ccc;padding:.2em .5em;text-align:left}"
"td.n{text-align:right;font-variant-numeric:tabular-nums}"
"th a{color:inherit}.CRITICAL{background:#f8d0d0}.WARNING{background:#fbe9b7}"
".OK{background:#d6f0d6}.bad{fill:#c33}.good{fill:#5a5}.line{fill:none;"
"stroke:#c33;stroke-width:1.5}.gap{background:#eee}.seen{background:#7b7}"
"svg{background:#fff;border:1px solid #ddd}pre{white-space:pre-wrap;"
"background:#fff;border:1px solid #ddd;padding:.5em}"
".rt0{fill:#c33}.rt1{fill:#e83}.rt2{fill:#a6c}.rt3{fill:#38c}"
".rt4{fill:#777}form{margin:.5em 0}";

void
page_init(struct page *p, const char *ctype)
{
	memset(p, 0, sizeof(*p));
	bbuf_init(&p->b, LIM_WEB_PAGE_MAX_BYTES);
	p->status = 200;
	p->ctype = ctype;
}

void
page_free(struct page *p)
{
	bbuf_reset(&p->b);
}

static void
put(struct page *p, const char *s, size_t n)
{
	if (!p->err && n > 0 && bbuf_append(&p->b, s, n) == -1)
		p->err = 1;
}

void
h_raw(struct page *p, const char *s)
{
	put(p, s, strlen(s));
}

void
h_raw_n(struct page *p, const char *s, size_t n)
{
	put(p, s, n);
}

void
h_printf(struct page *p, const char *fmt, ...)
{
	char	buf[1024];
	va_list	ap;
	int	n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(buf)) {
		p->err = 1;
		return;
	}
	put(p, buf, (size_t)n);
}

void
h_text(struct page *p, const char *s)
{
	const char	*run = s;

	for (; *s != '\0'; s++) {
		const char *e;

		switch (*s) {
		case '&':	e = "&amp;"; break;
		case '<':	e = "&lt;"; break;
		case '>':	e = "&gt;"; break;
		case '"':	e = "&quot;"; break;
		case '\'':	e = "&#39;"; break;
		default:	continue;
		}
		put(p, run, (size_t)(s - run));
		h_raw(p, e);
		run = s + 1;
	}
	put(p, run, (size_t)(s - run));
}

void
h_url(struct page *p, const char *s)
{
	char	e[4];

	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '.' || c == '-' ||
		    c == '_' || c == '~')
			put(p, s, 1);
		else {
			snprintf(e, sizeof(e), "%%%02X", c);
			put(p, e, 3);
		}
	}
}

void
h_day(struct page *p, int64_t t)
{
	char	buf[UTIL_TIME_BUFSZ];

	util_format_datetime(t, buf, sizeof(buf));
	buf[10] = '\0';
	h_raw(p, buf);
}

void
h_pct(struct page *p, double r)
{
	h_printf(p, "%.2f%%", r * 100.0);
}

void
j_str(struct page *p, const char *s)
{
	char	e[8];

	if (s == NULL) {
		h_raw(p, "null");
		return;
	}
	put(p, "\"", 1);
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\') {
			e[0] = '\\';
			e[1] = (char)c;
			put(p, e, 2);
		} else if (c < 0x20 || c == '<' || c == '>' || c == '&') {
			snprintf(e, sizeof(e), "\\u%04x", c);
			put(p, e, 6);
		} else
			put(p, s, 1);
	}
	put(p, "\"", 1);
}

void
h_begin(struct page *p, const char *title, const char *user)
{
	h_raw(p, "<!doctype html>\n<html lang=\"en\"><head><meta charset="
	    "\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\">"
	    "<title>");
	h_text(p, title);
	h_raw(p, " - tlsrpt</title><link rel=\"stylesheet\" href=\"/style.css\">"
	    "</head><body><header>"
	    "<a href=\"/\">Overview</a><a href=\"/failures\">Failures</a>"
	    "<a href=\"/rejections\">Rejections</a>");
	if (user != NULL) {
		h_raw(p, "<span>");
		h_text(p, user);
		h_raw(p, "</span>");
	}
	h_raw(p, "</header><main><h1>");
	h_text(p, title);
	h_raw(p, "</h1>\n");
}

void
h_end(struct page *p)
{
	h_raw(p, "</main></body></html>\n");
}

void
j_json(struct page *p, const char *s)
{
	const char	*run = s;

	if (s == NULL) {
		h_raw(p, "null");
		return;
	}
	for (; *s != '\0'; s++) {
		const char *e;

		switch (*s) {
		case '<':	e = "\\u003c"; break;
		case '>':	e = "\\u003e"; break;
		case '&':	e = "\\u0026"; break;
		default:	continue;
		}
		put(p, run, (size_t)(s - run));
		h_raw(p, e);
		run = s + 1;
	}
	put(p, run, (size_t)(s - run));
}
