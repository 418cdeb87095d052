/*
 * web_page_domain.c -- /domain/NAME and /api/domain/NAME: one domain over
 * the window: daily successful vs failed sessions and failure rate,
 * failed sessions by result type per day, the MX rows, the reporters x
 * days coverage grid, the policies reporters applied, the readiness
 * verdict with its reasons, the last stored live check
 * (web_page_check.c), and the reports.  Figures from the digest model
 * (digest.h), the series model (series.h) and store_readiness().
 *
 * Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
 */

#include <stdlib.h>
#include <string.h>

#include "digest.h"
#include "model.h"
#include "readiness.h"
#include "series.h"
#include "store_series.h"
#include "tlsrpt_limits.h"
#include "web.h"
#include "web_check.h"

#define CH_W	720		/* chart width, px */
#define CH_H	160
#define RT_CLASSES	5

static const struct digest_domain *
find(const struct digest *dg, const char *name)
{
	size_t	i;

	for (i = 0; i < dg->ndoms; i++)
		if (strcmp(dg->doms[i].name, name) == 0)
			return &dg->doms[i];
	return NULL;
}

static void
chart_sessions(struct page *p, const struct series *s)
{
	int64_t	max = 1;
	double	bw, hs, hf;
	size_t	i;

	for (i = 0; i < s->ndays; i++)
		if (s->days[i].sessions > max)
			max = s->days[i].sessions;
	bw = (double)CH_W / (double)(s->ndays ? s->ndays : 1);
	h_printf(p, "<svg id=\"sessions\" width=\"%d\" height=\"%d\" "
	    "viewBox=\"0 0 %d %d\" role=\"img\"><title>Successful and failed "
	    "sessions per day</title>\n", CH_W, CH_H, CH_W, CH_H);
	for (i = 0; i < s->ndays; i++) {
		const struct series_day *d = &s->days[i];

		hs = (double)d->successful * CH_H / (double)max;
		hf = (double)d->failed * CH_H / (double)max;
		h_raw(p, "<g class=\"day\"><title>");
		h_day(p, d->day);
		h_printf(p, ": %lld successful, %lld failed, ",
		    (long long)d->successful, (long long)d->failed);
		h_pct(p, d->frate);
		h_raw(p, " failed</title>");
		h_printf(p, "<rect class=\"good\" x=\"%.1f\" y=\"%.1f\" "
		    "width=\"%.1f\" height=\"%.1f\"/>", (double)i * bw,
		    CH_H - hs, bw * 0.9, hs);
		h_printf(p, "<rect class=\"bad\" x=\"%.1f\" y=\"%.1f\" "
		    "width=\"%.1f\" height=\"%.1f\"/></g>\n", (double)i * bw,
		    CH_H - hs - hf, bw * 0.9, hf);
	}
	h_raw(p, "</svg>\n");
}

static void
chart_rts(struct page *p, const struct series *s)
{
	int64_t	max = 1, t;
	double	bw, y, hh;
	size_t	i, j;

	for (i = 0; i < s->ndays; i++) {
		for (t = 0, j = 0; j < s->nrts; j++)
			t += s->rts[j].failed[i];
		if (t > max)
			max = t;
	}
	bw = (double)CH_W / (double)(s->ndays ? s->ndays : 1);
	h_printf(p, "<svg id=\"failures\" width=\"%d\" height=\"%d\" "
	    "viewBox=\"0 0 %d %d\" role=\"img\"><title>Failed sessions by "
	    "result type per day</title>\n", CH_W, CH_H, CH_W, CH_H);
	for (i = 0; i < s->ndays; i++) {
		y = CH_H;
		for (j = 0; j < s->nrts; j++) {
			if (s->rts[j].failed[i] == 0)
				continue;
			hh = (double)s->rts[j].failed[i] * CH_H / (double)max;
			y -= hh;
			h_printf(p, "<rect class=\"rt%zu\" x=\"%.1f\" "
			    "y=\"%.1f\" width=\"%.1f\" height=\"%.1f\">"
			    "<title>", j < RT_CLASSES ? j : RT_CLASSES - 1,
			    (double)i * bw, y, bw * 0.9, hh);
			h_day(p, s->days[i].day);
			h_raw(p, " ");
			h_text(p, s->rts[j].result_type);
			h_printf(p, ": %lld</title></rect>",
			    (long long)s->rts[j].failed[i]);
		}
	}
	h_raw(p, "</svg>\n<p>");
	for (j = 0; j < s->nrts; j++) {
		h_printf(p, "<svg width=\"10\" height=\"10\"><rect class="
		    "\"rt%zu\" width=\"10\" height=\"10\"/></svg> ",
		    j < RT_CLASSES ? j : RT_CLASSES - 1);
		h_text(p, s->rts[j].result_type);
		h_printf(p, " (%lld) ", (long long)s->rts[j].total);
	}
	h_raw(p, "</p>\n");
}

static void
window_links(struct web_req *r, struct page *p, const char *name)
{
	static const int	days[] = { 7, 30, 90 };
	size_t			i;

	h_raw(p, "<p>Window:");
	for (i = 0; i < 3; i++) {
		h_raw(p, " <a href=\"/domain/");
		h_url(p, name);
		h_printf(p, "?days=%d\">%d days</a>", days[i], days[i]);
	}
	h_raw(p, "</p><form method=\"get\" action=\"/domain/");
	h_url(p, name);
	h_raw(p, "\"><label>from <input name=\"since\" value=\"");
	h_day(p, r->since);
	h_raw(p, "\"></label> <label>to <input name=\"until\" value=\"");
	h_day(p, r->until - 86400);
	h_raw(p, "\"></label> <button>Show</button></form>\n");
}

static void
html(struct web_req *r, struct page *p, const char *name,
    const struct digest *dg, const struct digest_domain *d,
    const struct series *s, const struct store_series *ss,
    const struct store_readiness *rd, const struct store_report_list *rl,
    const struct store_check *chk)
{
	size_t	i, j, k;

	h_begin(p, *name ? name : "(no domain)", r->u ? r->u->name : NULL);
	window_links(r, p, name);
	h_raw(p, "<p>");
	h_day(p, r->since);
	h_raw(p, " to ");
	h_day(p, r->until - 86400);
	if (d != NULL) {
		h_printf(p, ": status <b class=\"%s\">%s</b>, %lld reports "
		    "from %lld reporters, %lld sessions, ",
		    digest_status_str(d->status), digest_status_str(d->status),
		    (long long)(d->cur ? d->cur->reports : 0),
		    (long long)(d->cur ? d->cur->reporters : 0),
		    (long long)model_sessions(d->cur));
		h_pct(p, model_failure_rate(d->cur));
		h_raw(p, " failed.");
	} else
		h_raw(p, ": no reports.");
	h_raw(p, "</p>\n<h2>Sessions per day</h2>\n");
	chart_sessions(p, s);
	h_raw(p, "<table id=\"days\"><tr><th>Day</th><th>Reports</th>"
	    "<th>Successful</th><th>Failed</th><th>Failure rate</th></tr>\n");
	for (i = 0; i < s->ndays; i++) {
		h_raw(p, "<tr><td>");
		h_day(p, s->days[i].day);
		h_printf(p, "</td><td class=\"n\">%lld</td><td class=\"n\">"
		    "%lld</td><td class=\"n\">%lld</td><td class=\"n\">",
		    (long long)s->days[i].reports,
		    (long long)s->days[i].successful,
		    (long long)s->days[i].failed);
		h_pct(p, s->days[i].frate);
		h_raw(p, "</td></tr>\n");
	}
	h_raw(p, "</table>\n<h2>Failures by result type</h2>\n");
	chart_rts(p, s);

	h_raw(p, "<h2>MX hosts</h2>\n<table id=\"mx\"><tr><th>MX</th>"
	    "<th>Result type</th><th>Failed sessions</th><th>Reporters</th>"
	    "<th>First seen</th><th>Last seen</th></tr>\n");
	for (i = 0; i < ss->nmx; i++) {
		h_raw(p, "<tr><td>");
		h_text(p, *ss->mx[i].mx ? ss->mx[i].mx : "(not sent)");
		h_raw(p, "</td><td>");
		h_text(p, ss->mx[i].result_type);
		h_printf(p, "</td><td class=\"n\">%lld</td><td class=\"n\">"
		    "%lld</td><td>", (long long)ss->mx[i].failed,
		    (long long)ss->mx[i].reporters);
		h_day(p, ss->mx[i].first_day);
		h_raw(p, "</td><td>");
		h_day(p, ss->mx[i].last_day);
		h_raw(p, "</td></tr>\n");
	}
	h_raw(p, "</table>\n<h2>Reporters</h2>\n<table id=\"coverage\"><tr>"
	    "<th>Reporter</th>");
	for (i = 0; i < s->ndays; i++) {
		h_raw(p, "<th title=\"");
		h_day(p, s->days[i].day);
		h_raw(p, "\"></th>");
	}
	h_raw(p, "<th>Days</th><th>Last report</th></tr>\n");
	for (j = 0; j < s->nreps; j++) {
		h_raw(p, "<tr><td>");
		h_text(p, s->reps[j].reporter);
		h_raw(p, "</td>");
		for (i = 0; i < s->ndays; i++) {
			h_printf(p, "<td class=\"%s\" title=\"",
			    s->reps[j].reports[i] ? "seen" : "gap");
			h_day(p, s->days[i].day);
			h_printf(p, ": %lld reports\"></td>",
			    (long long)s->reps[j].reports[i]);
		}
		h_printf(p, "<td class=\"n\">%lld</td><td>",
		    (long long)s->reps[j].days);
		h_day(p, s->reps[j].last_day);
		h_raw(p, "</td></tr>\n");
	}
	h_raw(p, "</table>\n");
	for (k = 0; d != NULL && k < d->nsilent; k++) {
		h_raw(p, "<p class=\"WARNING\">Gone silent: ");
		h_text(p, d->prdays[d->silent[k]].reporter);
		h_raw(p, " (reported before this window, not in it)</p>\n");
	}

	h_raw(p, "<h2>Policies applied</h2>\n<table id=\"policies\"><tr>"
	    "<th>Mode</th><th>Policy</th><th>Reports</th><th>Sessions</th>"
	    "<th>First</th><th>Last</th><th>Reporters (last day)</th></tr>\n");
	for (i = 0; rd != NULL && i < rd->npolicies; i++) {
		const struct store_rd_policy *pl = &rd->policies[i];

		h_raw(p, "<tr><td>");
		h_text(p, *pl->mode ? pl->mode : "-");
		h_raw(p, "</td><td><pre>");
		h_text(p, pl->strings);
		h_printf(p, "</pre></td><td class=\"n\">%lld</td><td class="
		    "\"n\">%lld</td><td>", (long long)pl->reports,
		    (long long)pl->sessions);
		h_day(p, pl->first_day);
		h_raw(p, "</td><td>");
		h_day(p, pl->last_day);
		h_raw(p, "</td><td>");
		for (k = 0; k < pl->nreporters; k++) {
			h_raw(p, k ? ", " : "");
			h_text(p, pl->reporters[k].name);
			h_raw(p, " (");
			h_day(p, pl->reporters[k].n);
			h_raw(p, ")");
		}
		h_raw(p, "</td></tr>\n");
	}
	h_raw(p, "</table>\n<h2>Readiness for enforce</h2>\n");
	if (d != NULL && d->rd != NULL) {
		h_printf(p, "<p id=\"verdict\"><b>%s</b> (the last %d days)"
		    "</p>\n<ul>", rd_verdict_str(d->ev.verdict),
		    DIGEST_READY_DAYS);
		for (i = 0; i < d->ev.nreasons; i++) {
			const struct rd_reason *rs = &d->ev.reasons[i];

			h_printf(p, "<li>%s, %s: ", rd_check_str(rs->check),
			    rd_status_str(rs->status));
			h_text(p, rs->text ? rs->text : "");
			if (rs->next != NULL) {
				h_raw(p, " <i>Next: ");
				h_text(p, rs->next);
				h_raw(p, "</i>");
			}
			h_raw(p, "</li>\n");
		}
		h_raw(p, "</ul>\n");
	} else
		h_printf(p, "<p id=\"verdict\">No reporter applied an MTA-STS "
		    "policy in mode testing in the last %d days.</p>\n",
		    DIGEST_READY_DAYS);
	web_check_html(r, p, name, chk);

	h_raw(p, "<h2 id=\"reports-of\">Reports");
	if (r->arg(r, "rt") != NULL || r->arg(r, "mx") != NULL) {
		h_raw(p, " with failures");
		if (r->arg(r, "rt") != NULL) {
			h_raw(p, " of type ");
			h_text(p, r->arg(r, "rt"));
		}
		if (r->arg(r, "mx") != NULL) {
			h_raw(p, " at ");
			h_text(p, *r->arg(r, "mx") ? r->arg(r, "mx") :
			    "(MX not sent)");
		}
	}
	h_raw(p, "</h2>\n<table id=\"reports\"><tr><th>Reporter"
	    "</th><th>From</th><th>To</th><th>Successful</th><th>Failed</th>"
	    "</tr>\n");
	for (i = 0; i < rl->n; i++) {
		h_raw(p, "<tr><td><a href=\"/report/");
		h_raw(p, rl->v[i].key);
		h_raw(p, "\">");
		h_text(p, rl->v[i].org);
		h_raw(p, "</a></td><td>");
		h_day(p, rl->v[i].start);
		h_raw(p, "</td><td>");
		h_day(p, rl->v[i].end);
		h_printf(p, "</td><td class=\"n\">%lld</td><td class=\"n\">"
		    "%lld</td></tr>\n", (long long)rl->v[i].successful,
		    (long long)rl->v[i].failed);
	}
	h_raw(p, "</table>\n");
	h_end(p);
}

static void
json(struct web_req *r, struct page *p, const char *name,
    const struct digest_domain *d, const struct series *s,
    const struct store_series *ss, const struct store_report_list *rl,
    const struct store_check *chk)
{
	size_t	i, j;

	p->ctype = "application/json";
	h_raw(p, "{\"domain\": ");
	j_str(p, name);
	h_raw(p, ", \"since\": \"");
	h_day(p, r->since);
	h_raw(p, "\", \"until\": \"");
	h_day(p, r->until);
	h_printf(p, "\", \"status\": \"%s\", \"reports\": %lld, "
	    "\"reporters\": %lld, \"sessions\": %lld, \"failed\": %lld, "
	    "\"failure_rate\": %.6f,\n \"days\": [",
	    digest_status_str(d ? d->status : 0),
	    (long long)(d && d->cur ? d->cur->reports : 0),
	    (long long)(d && d->cur ? d->cur->reporters : 0),
	    (long long)model_sessions(d ? d->cur : NULL),
	    (long long)(d && d->cur ? d->cur->failed : 0),
	    model_failure_rate(d ? d->cur : NULL));
	for (i = 0; i < s->ndays; i++) {
		h_raw(p, i ? ",\n  {\"day\": \"" : "\n  {\"day\": \"");
		h_day(p, s->days[i].day);
		h_printf(p, "\", \"reports\": %lld, \"successful\": %lld, "
		    "\"failed\": %lld, \"failure_rate\": %.6f}",
		    (long long)s->days[i].reports,
		    (long long)s->days[i].successful,
		    (long long)s->days[i].failed, s->days[i].frate);
	}
	h_raw(p, "],\n \"result_types\": [");
	for (j = 0; j < s->nrts; j++) {
		h_raw(p, j ? ", {\"result_type\": " : "{\"result_type\": ");
		j_str(p, s->rts[j].result_type);
		h_printf(p, ", \"failed\": %lld, \"per_day\": [",
		    (long long)s->rts[j].total);
		for (i = 0; i < s->ndays; i++)
			h_printf(p, "%s%lld", i ? ", " : "",
			    (long long)s->rts[j].failed[i]);
		h_raw(p, "]}");
	}
	h_raw(p, "],\n \"mx\": [");
	for (i = 0; i < ss->nmx; i++) {
		h_raw(p, i ? ", {\"mx\": " : "{\"mx\": ");
		j_str(p, ss->mx[i].mx);
		h_raw(p, ", \"result_type\": ");
		j_str(p, ss->mx[i].result_type);
		h_printf(p, ", \"failed\": %lld, \"reporters\": %lld, "
		    "\"first_seen\": \"", (long long)ss->mx[i].failed,
		    (long long)ss->mx[i].reporters);
		h_day(p, ss->mx[i].first_day);
		h_raw(p, "\", \"last_seen\": \"");
		h_day(p, ss->mx[i].last_day);
		h_raw(p, "\"}");
	}
	h_raw(p, "],\n \"reporters\": [");
	for (j = 0; j < s->nreps; j++) {
		h_raw(p, j ? ", {\"reporter\": " : "{\"reporter\": ");
		j_str(p, s->reps[j].reporter);
		h_printf(p, ", \"days\": %lld, \"last_day\": \"",
		    (long long)s->reps[j].days);
		h_day(p, s->reps[j].last_day);
		h_raw(p, "\"}");
	}
	h_raw(p, "],\n \"readiness\": ");
	if (d != NULL && d->rd != NULL) {
		h_printf(p, "{\"verdict\": \"%s\", \"reasons\": [",
		    rd_verdict_str(d->ev.verdict));
		for (i = 0; i < d->ev.nreasons; i++) {
			h_printf(p, "%s{\"check\": \"%s\", \"status\": \"%s\", "
			    "\"text\": ", i ? ", " : "",
			    rd_check_str(d->ev.reasons[i].check),
			    rd_status_str(d->ev.reasons[i].status));
			j_str(p, d->ev.reasons[i].text);
			h_raw(p, ", \"next\": ");
			j_str(p, d->ev.reasons[i].next);
			h_raw(p, "}");
		}
		h_raw(p, "]}");
	} else
		h_raw(p, "null");
	web_check_json(r, p, chk);
	h_raw(p, ",\n \"reports\": [");
	for (i = 0; i < rl->n; i++) {
		h_printf(p, "%s{\"key\": \"%s\", \"organization\": ",
		    i ? ", " : "", rl->v[i].key);
		j_str(p, rl->v[i].org);
		h_raw(p, ", \"start\": \"");
		h_day(p, rl->v[i].start);
		h_raw(p, "\"}");
	}
	h_raw(p, "]}\n");
}

void
page_domain(struct web_req *r, struct page *p)
{
	struct store_window	 w;
	struct store_series	 ss;
	struct store_report_list rl;
	struct store_readiness	*rd = NULL;
	struct digest		 dg;
	struct series		 s;
	struct store_check	 chk;
	const char		*name = r->rest, *dom[1];
	size_t			 nrd = 0;
	int			 crc = 1;

	memset(&ss, 0, sizeof(ss));
	memset(&rl, 0, sizeof(rl));
	memset(&dg, 0, sizeof(dg));
	memset(&s, 0, sizeof(s));
	memset(&chk, 0, sizeof(chk));
	/* the tenancy filter: a domain not the user's does not exist */
	if (!web_allowed(r->u, name) || strchr(name, '/') != NULL) {
		web_notfound(r, p);
		return;
	}
	if (web_window(r, p) == -1)
		return;
	memset(&w, 0, sizeof(w));
	w.since = r->since;
	w.until = r->until;
	dom[0] = name;
	w.domains = dom;
	w.ndomains = 1;
	if (digest_compute(&dg, r->st, &w) != 0 ||
	    store_series(r->st, &w, STORE_SERIES_DAYS | STORE_SERIES_RTS |
	    STORE_SERIES_MX | STORE_SERIES_COVER, &ss) == -1 ||
	    store_readiness(r->st, &w, &rd, &nrd) == -1 ||
	    store_report_list(r->st, &w, LIM_WEB_REPORTS_LISTED,
	    r->arg(r, "rt"), r->arg(r, "mx"), &rl) == -1 ||
	    (crc = web_check_load(r, name, &chk)) == -1) {
		web_fail(r, p, store_errstr(r->st));
		goto out;
	}
	if (series_build(&ss, name, r->since, r->until, &s) == -1) {
		web_fail(r, p, "out of memory");
		goto out;
	}
	if (r->json)
		json(r, p, name, find(&dg, name), &s, &ss, &rl,
		    crc == 0 ? &chk : NULL);
	else
		html(r, p, name, &dg, find(&dg, name), &s, &ss,
		    nrd > 0 ? &rd[0] : NULL, &rl, crc == 0 ? &chk : NULL);
 out:
	arena_free(&chk.a);
	series_free(&s);
	store_readiness_free(rd, nrd);
	store_series_free(&ss.a);
	store_series_free(&rl.a);
	digest_free(&dg);
}
