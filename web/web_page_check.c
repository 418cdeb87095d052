/*
 * web_page_check.c -- the last stored live check of a domain, on
 * /domain/NAME and /api/domain/NAME: when it ran, its verdict, the MX
 * hosts as found (TLS, certificate days left, DANE) and every finding
 * with its RFC section and next step.  `tlsrpt check --store` writes it
 * (schema/010_live_check.sql); the dashboard never goes on the network.
 *
 * Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
 *
 * The domain is the page's, which page_domain() has already held
 * against the user's domains (web_allowed()); the store is asked for
 * that one name only.  Every stored string goes through h_text() or,
 * for the JSON, j_str() and j_json().
 */

#include <stdint.h>
#include <string.h>

#include "util.h"
#include "web.h"
#include "web_check.h"

#define DAY_SECONDS	86400

int
web_check_load(struct web_req *r, const char *domain, struct store_check *c)
{
	return store_check_last(r->st, domain, c);
}

/* A severity as a class of the style sheet, never outside text. */
static const char *
sev_class(const char *sev)
{
	if (strcmp(sev, "critical") == 0)
		return "CRITICAL";
	if (strcmp(sev, "warning") == 0)
		return "WARNING";
	if (strcmp(sev, "ok") == 0)
		return "OK";
	return "";
}

static void
h_datetime(struct page *p, int64_t t)
{
	char	buf[UTIL_TIME_BUFSZ];

	util_format_datetime(t, buf, sizeof(buf));
	h_text(p, buf);
}

static void
mx_rows(struct page *p, const struct store_check *c)
{
	const struct store_check_mx	*m;
	size_t				 i;

	if (c->nmx == 0)
		return;
	h_raw(p, "<table id=\"live-mx\"><tr><th>MX</th><th>Preference</th>"
	    "<th>Covered by the policy</th><th>STARTTLS</th><th>TLS</th>"
	    "<th>Certificate</th><th>Days left</th><th>DANE</th></tr>\n");
	for (i = 0; i < c->nmx; i++) {
		m = &c->mx[i];
		h_raw(p, "<tr><td>");
		h_text(p, m->host);
		h_printf(p, "</td><td class=\"n\">%lld</td><td>%s</td><td>",
		    (long long)m->preference, m->covered ? "yes" : "no");
		h_raw(p, !m->probed ? "not tried" : m->starttls ? "yes" :
		    "no");
		h_raw(p, "</td><td>");
		h_text(p, m->tls_version);
		h_raw(p, "</td><td>");
		h_raw(p, m->cert_valid == 1 ? "valid" : m->cert_valid == 0 ?
		    "NOT valid" : "");
		h_raw(p, "</td><td class=\"n\">");
		if (m->cert_days != INT64_MIN)
			h_printf(p, "%lld", (long long)m->cert_days);
		h_raw(p, "</td><td>");
		h_text(p, m->dane);
		h_raw(p, "</td></tr>\n");
	}
	h_raw(p, "</table>\n");
}

void
web_check_html(struct web_req *r, struct page *p, const char *domain,
    const struct store_check *c)
{
	const struct store_check_finding	*f;
	int64_t					 age;
	size_t					 i;

	h_raw(p, "<h2 id=\"live\">Live check</h2>\n");
	if (c == NULL) {
		h_raw(p, "<p id=\"live-check\">No live check stored; run "
		    "<code>tlsrpt check --store --domain ");
		h_text(p, domain);
		h_raw(p, "</code> (daily from cron: see the README).</p>\n");
		return;
	}
	h_raw(p, "<p id=\"live-check\">Checked <time>");
	h_datetime(p, c->checked_at);
	h_raw(p, "</time>");
	age = (r->now - c->checked_at) / DAY_SECONDS;
	if (age >= 1)
		h_printf(p, " (%lld day%s ago)", (long long)age, age == 1 ?
		    "" : "s");
	h_printf(p, ": <b class=\"%s\" id=\"live-result\">",
	    sev_class(c->result));
	h_text(p, c->result);
	h_printf(p, "</b>, %d critical, %d warning%s", c->critical,
	    c->warnings, c->warnings == 1 ? "" : "s");
	if (c->report_days > 0)
		h_printf(p, "; held against the reports of the %d days "
		    "before it", c->report_days);
	else
		h_raw(p, "; not held against the reports");
	h_raw(p, ".");
	if (*c->sts_id != '\0') {
		h_raw(p, " _mta-sts id ");
		h_text(p, c->sts_id);
		h_raw(p, ".");
	}
	if (*c->mode != '\0') {
		h_raw(p, " Policy mode ");
		h_text(p, c->mode);
		h_raw(p, ".");
	} else
		h_raw(p, " No valid policy.");
	h_printf(p, " %lld check%s of this domain stored.</p>\n",
	    (long long)c->stored, c->stored == 1 ? "" : "s");
	mx_rows(p, c);
	if (c->nf == 0) {
		h_raw(p, "<p id=\"live-findings\">No findings.</p>\n");
		return;
	}
	h_raw(p, "<table id=\"live-findings\"><tr><th>Severity</th>"
	    "<th>Code</th><th>What</th><th>RFC</th><th>Next step</th></tr>\n");
	for (i = 0; i < c->nf; i++) {
		f = &c->f[i];
		h_printf(p, "<tr><td class=\"%s\">", sev_class(f->severity));
		h_text(p, f->severity);
		h_raw(p, "</td><td>");
		h_text(p, f->code);
		h_raw(p, "</td><td>");
		h_text(p, f->what);
		h_raw(p, "</td><td>");
		h_text(p, f->rfc);
		h_raw(p, "</td><td>");
		h_text(p, f->next);
		h_raw(p, "</td></tr>\n");
	}
	h_raw(p, "</table>\n");
}

void
web_check_json(struct web_req *r, struct page *p,
    const struct store_check *c)
{
	char	buf[UTIL_TIME_BUFSZ];

	(void)r;
	h_raw(p, ",\n \"live_check\": ");
	if (c == NULL) {
		h_raw(p, "null");
		return;
	}
	util_format_datetime(c->checked_at, buf, sizeof(buf));
	h_raw(p, "{\"checked_at\": ");
	j_str(p, buf);
	h_raw(p, ", \"result\": ");
	j_str(p, c->result);
	h_printf(p, ", \"critical\": %d, \"warnings\": %d, \"report_days\": ",
	    c->critical, c->warnings);
	if (c->report_days > 0)
		h_printf(p, "%d", c->report_days);
	else
		h_raw(p, "null");
	h_printf(p, ", \"stored\": %lld, \"check\": ", (long long)c->stored);
	j_json(p, c->json);
	h_raw(p, "}");
}
