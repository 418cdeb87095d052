/*
 * readiness_out.c -- the text and JSON writers of the readiness model
 * (model/readiness.h): the verdict, each check's reason and next step,
 * the policies, the refusals and the MX hosts.  Nothing is computed
 * here; which host is covered, the refused sessions and their rate come
 * from the model.
 *
 * Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
 */

#include <inttypes.h>
#include <stdio.h>

#include "out.h"
#include "readiness.h"
#include "writers.h"

static void
print_problems(FILE *f, unsigned bits)
{
	size_t	i, k = 0;

	for (i = 0; i < RD_NPROBLEMS; i++)
		if (bits & rd_problems[i].bit)
			fprintf(f, "%s\"%s\"", k++ > 0 ? ", " : "",
			    rd_problems[i].name);
}

void
readiness_text(const struct readiness *rd, const struct readiness_domain *rdd,
    FILE *out)
{
	const struct store_readiness	*d = rdd->data;
	const struct rd_eval		*ev = &rdd->ev;
	const struct store_rd_policy	*p;
	const struct store_rd_refusal	*f;
	const struct rd_reason		*r;
	char				 safe[256], safe2[512];
	size_t				 i, j;

	fprintf(out, "MTA-STS readiness of %s: %s\n", out_shown(d->domain, safe,
	    sizeof(safe)), rd_verdict_str(ev->verdict));
	fprintf(out, "(reports starting from ");
	out_time(out, rd->since);
	fprintf(out, " before ");
	out_time(out, rd->until);
	fprintf(out, ")\n\n");
	for (i = 0; i < ev->nreasons; i++) {
		r = &ev->reasons[i];
		fprintf(out, "%-12s %-9s %s\n", rd_status_str(r->status),
		    rd_check_str(r->check), r->text);
		fprintf(out, "%-22s next: %s\n", "", r->next);
	}
	if (d->npolicies > 0)
		fprintf(out, "\nPolicies senders applied (P1 is the newest):\n");
	for (i = 0; i < d->npolicies; i++) {
		p = &d->policies[i];
		fprintf(out, "  P%zu  mode %s, max_age %" PRId64 ", mx", i + 1,
		    p->mode[0] != '\0' ? out_shown(p->mode, safe,
		    sizeof(safe)) : "unset", p->max_age);
		for (j = 0; j < p->nmx; j++)
			fprintf(out, " %s", out_shown(p->mx[j], safe, sizeof(safe)));
		fprintf(out, ": %" PRId64 " report%s, %" PRId64 " sessions, ",
		    p->reports, p->reports == 1 ? "" : "s", p->sessions);
		out_day(out, p->first_day);
		fprintf(out, " to ");
		out_day(out, p->last_day);
		fprintf(out, "\n      seen by:");
		for (j = 0; j < p->nreporters; j++) {
			fprintf(out, "%s %s (last ", j > 0 ? "," : "",
			    out_shown(p->reporters[j].name, safe,
			    sizeof(safe)));
			out_day(out, p->reporters[j].n);
			fprintf(out, ")");
		}
		fprintf(out, "\n");
	}
	if (d->nrefusals > 0) {
		fprintf(out, "\nSessions enforce would refuse (%" PRId64 ", %.2f%%):"
		    "\n", ev->refused, 100.0 * ev->refused_rate);
		for (i = 0; i < d->nrefusals; i++) {
			f = &d->refusals[i];
			fprintf(out, "  %-30s %-26s %8" PRId64 "  ",
			    out_shown(f->mx, safe, sizeof(safe)),
			    out_shown(f->result_type, safe2, sizeof(safe2)),
			    f->failed);
			for (j = 0; j < f->nreporters; j++)
				fprintf(out, "%s%s (%" PRId64 ")", j > 0 ? ", " : "",
				    out_shown(f->reporters[j].name, safe,
				    sizeof(safe)), f->reporters[j].n);
			fprintf(out, "\n");
		}
	}
	if (d->nhosts > 0 && d->npolicies > 0) {
		fprintf(out, "\nMX hosts in the reports, against P1's mx "
		    "patterns:\n");
		for (i = 0; i < d->nhosts; i++) {
			fprintf(out, "  %-40s %-11s %" PRId64 " failed\n",
			    out_shown(d->hosts[i].name, safe, sizeof(safe)),
			    ev->covered[i] ? "covered" : "NOT COVERED",
			    d->hosts[i].n);
		}
	}
}

void
readiness_json(const struct readiness *rd, const struct readiness_domain *rdd,
    FILE *out)
{
	const struct store_readiness	*d = rdd->data;
	const struct rd_eval		*ev = &rdd->ev;
	const struct rd_limits		*lim = &rd->lim;
	const struct store_rd_policy	*p;
	const struct store_rd_refusal	*f;
	const struct rd_reason		*r;
	size_t				 i, j;

	fprintf(out, "{\"domain\": ");
	out_json_str(out, d->domain);
	fprintf(out, ", ");
	out_json_window(out, rd->since, rd->until);
	fprintf(out, ",\n \"verdict\": \"%s\",\n \"reasons\": [",
	    rd_verdict_str(ev->verdict));
	for (i = 0; i < ev->nreasons; i++) {
		r = &ev->reasons[i];
		fprintf(out, "%s\n  {\"check\": \"%s\", \"status\": \"%s\", "
		    "\"text\": ", i > 0 ? "," : "", rd_check_str(r->check),
		    rd_status_str(r->status));
		out_json_str(out, r->text);
		fprintf(out, ", \"next\": ");
		out_json_str(out, r->next);
		fprintf(out, "}");
	}
	fprintf(out, "],\n \"coverage\": {\"days\": %" PRId64 ", \"window_days\": %"
	    PRId64 ", \"reports\": %" PRId64 ", \"min_days\": %" PRId64
	    ", \"min_reporters\": %" PRId64 ", \"reporters\": [", d->days,
	    lim->window_days, d->reports, lim->min_days, lim->min_reporters);
	for (i = 0; i < d->nreporters; i++) {
		fprintf(out, "%s{\"reporter\": ", i > 0 ? ", " : "");
		out_json_str(out, d->reporters[i].name);
		fprintf(out, ", \"days\": %" PRId64 "}", d->reporters[i].n);
	}
	fprintf(out, "]},\n \"policies\": [");
	for (i = 0; i < d->npolicies; i++) {
		p = &d->policies[i];
		fprintf(out, "%s\n  {\"id\": \"P%zu\", \"mode\": ", i > 0 ? "," : "",
		    i + 1);
		out_json_str(out, p->mode);
		fprintf(out, ", \"max_age\": %" PRId64 ", \"mx\": [", p->max_age);
		for (j = 0; j < p->nmx; j++) {
			fprintf(out, "%s", j > 0 ? ", " : "");
			out_json_str(out, p->mx[j]);
		}
		fprintf(out, "], \"problems\": [");
		print_problems(out, p->problems);
		fprintf(out, "],\n   \"policy_string\": ");
		out_json_str(out, p->strings);
		fprintf(out, ", \"reports\": %" PRId64 ", \"sessions\": %" PRId64
		    ", \"first_day\": \"", p->reports, p->sessions);
		out_day(out, p->first_day);
		fprintf(out, "\", \"last_day\": \"");
		out_day(out, p->last_day);
		fprintf(out, "\",\n   \"reporters\": [");
		for (j = 0; j < p->nreporters; j++) {
			fprintf(out, "%s{\"reporter\": ", j > 0 ? ", " : "");
			out_json_str(out, p->reporters[j].name);
			fprintf(out, ", \"last_day\": \"");
			out_day(out, p->reporters[j].n);
			fprintf(out, "\"}");
		}
		fprintf(out, "]}");
	}
	fprintf(out, "],\n \"reporter_policies\": [");
	for (i = 0; i < ev->nlatest; i++) {
		fprintf(out, "%s{\"reporter\": ", i > 0 ? ", " : "");
		out_json_str(out, ev->latest[i].reporter);
		fprintf(out, ", \"policy\": \"P%zu\", \"last_day\": \"",
		    ev->latest[i].policy + 1);
		out_day(out, ev->latest[i].last_day);
		fprintf(out, "\"}");
	}
	fprintf(out, "], \"policies_disagree\": %s,\n \"would_refuse\": "
	    "{\"sessions\": %" PRId64 ", \"sts_sessions\": %" PRId64
	    ", \"rate\": %.6f, \"max_rate\": %.6f, \"rows\": [",
	    ev->disagree ? "true" : "false", ev->refused, d->sts_sessions,
	    ev->refused_rate, lim->max_failure_rate);
	for (i = 0; i < d->nrefusals; i++) {
		f = &d->refusals[i];
		fprintf(out, "%s\n   {\"mx\": ", i > 0 ? "," : "");
		out_json_str(out, f->mx);
		fprintf(out, ", \"result_type\": ");
		out_json_str(out, f->result_type);
		fprintf(out, ", \"failed_sessions\": %" PRId64 ", \"reporters\": [",
		    f->failed);
		for (j = 0; j < f->nreporters; j++) {
			fprintf(out, "%s{\"reporter\": ", j > 0 ? ", " : "");
			out_json_str(out, f->reporters[j].name);
			fprintf(out, ", \"failed_sessions\": %" PRId64 "}",
			    f->reporters[j].n);
		}
		fprintf(out, "]}");
	}
	fprintf(out, "]},\n \"mx_hosts\": [");
	for (i = 0; i < d->nhosts; i++) {
		fprintf(out, "%s{\"host\": ", i > 0 ? ", " : "");
		out_json_str(out, d->hosts[i].name);
		fprintf(out, ", \"failed_sessions\": %" PRId64 ", \"covered\": %s}",
		    d->hosts[i].n, ev->covered[i] ? "true" : "false");
	}
	fprintf(out, "]}\n");
}
