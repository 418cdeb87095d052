/*
 * web_page_failures.c -- /failures and /api/failures: the breakdown of
 * `tlsrpt failures --by` (the failures model, failures_compute_page())
 * over the user's domains, by any combination of
 * by=result-type,mx,reporter,sending-ip,receiving-ip; each row links to
 * the reports behind it (the domain page's report list, narrowed by its
 * result type and MX).  LIM_WEB_FAILURE_ROWS rows a page (page=), cut in
 * the store's SQL, most failed first within each domain, as the CLI;
 * the JSON rows are those of `tlsrpt failures --json`.
 *
 * Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
 */

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "failures.h"
#include "store.h"
#include "store_series.h"
#include "tlsrpt_limits.h"
#include "util.h"
#include "web.h"
#include "web_cache.h"

#define FAIL_REASONS_MAX	FAILURES_REASONS_MAX	/* as the CLI */

static const char *const severity_name[] = { "none", "warning",
	"critical" };

static const char *const key_label[FAILURES_NKEYS] = { "Result type", "MX",
	"Reporter", "Sending IP", "Receiving IP" };

/* The value of key bit in row r of fs, or NULL when not grouped by. */
static const char *
key_of(const struct failures *fs, const struct failures_row *r,
    unsigned bit)
{
	size_t	k;

	for (k = 0; k < fs->by.nkeys; k++)
		if (failures_keys[fs->by.key[k]].bit == bit)
			return r->key[k];
	return NULL;
}

static void
by_list(struct page *p, const struct failures *fs)
{
	size_t	k;

	for (k = 0; k < fs->by.nkeys; k++) {
		h_raw(p, k ? "," : "");
		h_raw(p, failures_keys[fs->by.key[k]].name);
	}
}

static void
json_counts(struct page *p, const char *key, const char *name,
    const struct store_count *c, size_t n)
{
	size_t	i;

	h_raw(p, ", ");
	j_str(p, key);
	h_raw(p, ": [");
	for (i = 0; i < n; i++) {
		h_raw(p, i > 0 ? ", {" : "{");
		j_str(p, name);
		h_raw(p, ": ");
		j_str(p, c[i].name);
		h_printf(p, ", \"failed_sessions\": %" PRId64 "}", c[i].n);
	}
	h_raw(p, "]");
}

/* As report-cli/failures_out.c failures_json() writes it, with the
 * page's total and number. */
static void
failures_json(struct page *p, const struct failures *fs, int64_t pageno)
{
	const struct failures_row	*r;
	char				 t[UTIL_TIME_BUFSZ];
	size_t				 i, k;

	util_format_datetime(fs->since, t, sizeof(t));
	h_raw(p, "{\"since\": ");
	j_str(p, t);
	util_format_datetime(fs->until, t, sizeof(t));
	h_raw(p, ", \"until\": ");
	j_str(p, t);
	h_raw(p, ", \"by\": [");
	for (k = 0; k < fs->by.nkeys; k++)
		h_printf(p, "%s\"%s\"", k > 0 ? ", " : "",
		    failures_keys[fs->by.key[k]].name);
	h_printf(p, "], \"conflicting_copies\": %" PRId64 ", \"total\": %"
	    PRId64 ", \"page\": %" PRId64 ",\n \"rows\": [",
	    fs->totals.conflicting, fs->total, pageno);
	for (i = 0; i < fs->nrows; i++) {
		r = &fs->rows[i];
		h_raw(p, i > 0 ? ",\n  {\"domain\": " : "\n  {\"domain\": ");
		j_str(p, r->domain);
		for (k = 0; k < fs->by.nkeys; k++) {
			h_printf(p, ", \"%s\": ",
			    failures_keys[fs->by.key[k]].json);
			j_str(p, r->key[k]);
		}
		h_printf(p, ", \"failed_sessions\": %" PRId64
		    ", \"domain_sessions\": %" PRId64 ", \"share\": %.4f,"
		    "\n   \"severity\": \"%s\", \"reporters\": %" PRId64
		    ", \"first_day\": \"", r->failed, r->domain_sessions,
		    r->share, severity_name[r->severity], r->reporters);
		h_day(p, r->first_day);
		h_raw(p, "\", \"last_day\": \"");
		h_day(p, r->last_day);
		h_raw(p, "\",\n   \"result_types\": {");
		for (k = 0; k < r->nrts; k++) {
			h_raw(p, k > 0 ? ", " : "");
			j_str(p, r->rts[k].name);
			h_printf(p, ": %" PRId64, r->rts[k].n);
		}
		h_raw(p, "}");
		json_counts(p, "reason_codes", "code", r->reasons,
		    r->nreasons);
		json_counts(p, "top_reporters", "reporter", r->top_reporters,
		    r->ntop_reporters);
		h_raw(p, "}");
	}
	h_raw(p, "]}\n");
}

void
page_failures(struct web_req *r, struct page *p)
{
	struct store_domain_list	 scope;
	struct store_window		 w;
	struct failures			 fs;
	struct failures_by		 by;
	const char			*bya = r->arg(r, "by");
	const char			*pg = r->arg(r, "page");
	const char			*bad, *v;
	struct store_stamp		 stamp;
	char				 key[512];
	int64_t				 pageno = 1;
	size_t				 badlen, i, k;
	int				 sc, rc, n, keep;

	memset(&scope, 0, sizeof(scope));
	memset(&fs, 0, sizeof(fs));
	memset(&by, 0, sizeof(by));
	if (web_window(r, p) == -1)
		return;
	if (failures_parse_by(&by, bya != NULL ? bya : "result-type,mx", &bad,
	    &badlen) == -1 || by.nkeys == 0) {
		web_bad(r, p, "by: keys among result-type, mx, reporter, "
		    "sending-ip, receiving-ip, comma-separated");
		return;
	}
	if (pg != NULL && util_strtoi64(pg, 1, 1000000, &pageno) == -1) {
		web_bad(r, p, "page: a number from 1");
		return;
	}
	/* kept whole: the user, the window, the keys, the page, the type;
	 * a key that does not fit is not kept (two users must never meet
	 * in one cut short) */
	n = snprintf(key, sizeof(key), "failures %lld %lld %u page %lld by",
	    (long long)r->since, (long long)r->until, r->json,
	    (long long)pageno);
	for (k = 0; k < by.nkeys && n > 0 && (size_t)n < sizeof(key); k++)
		n += snprintf(key + n, sizeof(key) - (size_t)n, " %zu",
		    by.key[k]);
	if (n > 0 && (size_t)n < sizeof(key))
		n += snprintf(key + n, sizeof(key) - (size_t)n, " user %s",
		    r->u != NULL ? r->u->name : "");
	keep = n > 0 && (size_t)n < sizeof(key);
	if (keep && store_data_stamp(r->st, &stamp) == -1)
		goto fail;
	if (keep && web_cache_page_get(key, &stamp, p) == 1)
		return;
	memset(&w, 0, sizeof(w));
	w.since = r->since;
	w.until = r->until;
	if ((sc = web_scope_window(r->u, r->st, &w, &scope)) == -1)
		goto fail;
	fs.since = w.since;
	fs.until = w.until;
	fs.by = by;
	if (sc == 1 && (rc = failures_compute_page(r->st, &w, &by,
	    FAIL_REASONS_MAX, (size_t)(pageno - 1) * LIM_WEB_FAILURE_ROWS,
	    LIM_WEB_FAILURE_ROWS, &fs)) != 0) {
		if (rc == -2) {
			web_fail(r, p, "out of memory");
			goto out;
		}
		goto fail;
	}
	for (i = 0; i < fs.nrows; i++)
		if (!web_allowed(r->u, fs.rows[i].domain)) {
			/* never: the scope named them */
			web_fail(r, p, "a row outside the user's domains");
			goto out;
		}
	if (r->json) {
		p->ctype = "application/json";
		failures_json(p, &fs, pageno);
		if (keep)
			web_cache_page_put(key, &stamp, p);
		goto out;
	}
	h_begin(p, "Failures", r->u != NULL ? r->u->name : NULL);
	h_raw(p, "<form method=\"get\" action=\"/failures\"><label>By "
	    "<input name=\"by\" value=\"");
	by_list(p, &fs);
	h_raw(p, "\"></label> <label>from <input name=\"since\" value=\"");
	h_day(p, r->since);
	h_raw(p, "\"></label> <label>to <input name=\"until\" value=\"");
	h_day(p, r->until - 86400);
	h_raw(p, "\"></label> <button>Show</button> (result-type, mx, "
	    "reporter, sending-ip, receiving-ip)</form>\n<table "
	    "id=\"failures\"><tr><th>Domain</th>");
	for (k = 0; k < fs.by.nkeys; k++)
		h_printf(p, "<th>%s</th>", key_label[fs.by.key[k]]);
	h_raw(p, "<th>Failed sessions</th><th>Domain sessions</th>"
	    "<th>Reporters</th><th>First</th><th>Last</th><th>Reports"
	    "</th></tr>\n");
	for (i = 0; i < fs.nrows; i++) {
		const struct failures_row *f = &fs.rows[i];

		h_raw(p, "<tr><td>");
		h_text(p, f->domain);
		h_raw(p, "</td>");
		for (k = 0; k < fs.by.nkeys; k++) {
			h_raw(p, "<td>");
			h_text(p, f->key[k]);
			h_raw(p, "</td>");
		}
		h_printf(p, "<td class=\"n\">%lld</td><td class=\"n\">%lld</td>"
		    "<td class=\"n\">%lld</td><td>", (long long)f->failed,
		    (long long)f->domain_sessions, (long long)f->reporters);
		h_day(p, f->first_day);
		h_raw(p, "</td><td>");
		h_day(p, f->last_day);
		h_raw(p, "</td><td><a href=\"/domain/");
		h_url(p, f->domain);
		h_raw(p, "?");
		web_window_query(r, p);
		if ((v = key_of(&fs, f, STORE_BY_RESULT_TYPE)) != NULL) {
			h_raw(p, "&amp;rt=");
			h_url(p, v);
		}
		if ((v = key_of(&fs, f, STORE_BY_MX)) != NULL) {
			h_raw(p, "&amp;mx=");
			h_url(p, v);
		}
		h_raw(p, "#reports-of\">reports</a></td></tr>\n");
	}
	h_printf(p, "</table>\n<p>%lld rows", (long long)fs.total);
	if (pageno > 1 || (int64_t)((size_t)(pageno - 1) *
	    LIM_WEB_FAILURE_ROWS + fs.nrows) < fs.total)
		h_printf(p, ", page %lld", (long long)pageno);
	if ((int64_t)((size_t)(pageno - 1) * LIM_WEB_FAILURE_ROWS +
	    fs.nrows) < fs.total) {
		h_printf(p, "; <a rel=\"next\" href=\"/failures?page="
		    "%lld&amp;by=", (long long)pageno + 1);
		by_list(p, &fs);
		h_raw(p, "&amp;");
		web_window_query(r, p);
		h_raw(p, "\">next</a>");
	}
	h_raw(p, ".</p>\n");
	h_end(p);
	if (keep)
		web_cache_page_put(key, &stamp, p);
	goto out;
 fail:
	web_fail(r, p, store_errstr(r->st));
 out:
	failures_free(&fs);
	store_series_free(&scope.a);
}
