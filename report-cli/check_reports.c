/*
 * check_reports.c -- tlsrpt check, held against the stored reports: the
 * policies reporters applied against the live one, MX hosts the reports
 * name that are not live MX hosts, reporters gone quiet (issue 11 item
 * 3).  Joins live/ (what is published now) to store/ (what senders saw).
 *
 * Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
 */

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_reports.h"
#include "cli.h"
#include "util.h"

#define CR_DAY_SECONDS	86400

static int	cr_same_mx(const struct store_rd_policy *,
		    const struct sts_policy *);
static void	cr_mx_list(char *, size_t, char *const *, size_t);

int
check_reports(struct store *st, int64_t days, int64_t now,
    struct live_result *r)
{
	struct store_readiness	*rd = NULL;
	struct store_window	 w;
	const struct store_rd_policy *p, *latest;
	const char		*dom = r->domain, *rep;
	char			 d1[UTIL_TIME_BUFSZ], d2[UTIL_TIME_BUFSZ];
	char			 diff[768], a[256], b[256], tail[128];
	size_t			 n = 0, i, j, k, o;
	int64_t			 today, last, until;
	int			 ret = -1, live;

	today = now - (now % CR_DAY_SECONDS + CR_DAY_SECONDS) %
	    CR_DAY_SECONDS;
	memset(&w, 0, sizeof(w));
	w.since = today - days * CR_DAY_SECONDS;
	w.until = WINDOW_END_OF_TIME;
	w.domains = &dom;
	w.ndomains = 1;
	if (store_readiness(st, &w, &rd, &n) == -1) {
		cli_fail("%s", store_errstr(st));
		return -1;
	}
	if (n != 1)
		goto done;
	/* each reporter's latest policy against the live one */
	for (i = 0; i < rd->npolicies; i++) {
		p = &rd->policies[i];
		for (j = 0; j < p->nreporters; j++) {
			rep = p->reporters[j].name;
			last = p->reporters[j].n;
			/* the newest policy of this reporter only */
			latest = p;
			for (k = 0; k < rd->npolicies; k++) {
				size_t	m;

				for (m = 0; m < rd->policies[k].nreporters;
				    m++)
					if (strcmp(rd->policies[k].
					    reporters[m].name, rep) == 0 &&
					    rd->policies[k].reporters[m].n >
					    last)
						latest = &rd->policies[k];
			}
			if (latest != p)
				continue;
			if (r->policy_ok && strcmp(p->mode,
			    sts_mode_str(r->policy.mode)) == 0 &&
			    p->max_age == r->policy.max_age &&
			    cr_same_mx(p, &r->policy))
				continue;
			if (!r->policy_ok) {
				snprintf(diff, sizeof(diff), "a policy (mode "
				    "%s) while no valid policy is published "
				    "now", p->mode[0] != '\0' ? p->mode : "?");
			} else {
				o = 0;
				diff[0] = '\0';
				if (strcmp(p->mode,
				    sts_mode_str(r->policy.mode)) != 0)
					o += (size_t)snprintf(diff + o,
					    sizeof(diff) - o, "mode %s (live "
					    "%s)", p->mode, sts_mode_str(
					    r->policy.mode));
				if (p->max_age != r->policy.max_age &&
				    o < sizeof(diff))
					o += (size_t)snprintf(diff + o,
					    sizeof(diff) - o, "%smax_age %"
					    PRId64 " (live %" PRId64 ")",
					    o ? ", " : "", p->max_age,
					    r->policy.max_age);
				if (!cr_same_mx(p, &r->policy) &&
				    o < sizeof(diff)) {
					cr_mx_list(a, sizeof(a), p->mx,
					    p->nmx);
					cr_mx_list(b, sizeof(b),
					    r->policy.mx, r->policy.nmx);
					(void)snprintf(diff + o,
					    sizeof(diff) - o, "%smx %s (live "
					    "%s)", o ? ", " : "", a, b);
				}
			}
			util_format_datetime(last, d1, sizeof(d1));
			d1[10] = '\0';
			/* cached at the latest on that day, for max_age */
			until = p->max_age > 0 ? last + CR_DAY_SECONDS +
			    p->max_age : last;
			util_format_datetime(until, d2, sizeof(d2));
			d2[10] = '\0';
			live = until > now;
			snprintf(tail, sizeof(tail), "still cached, expected "
			    "until %s", d2);
			if (live_finding_add(r, LIVE_WARN, live ?
			    "reports-policy-cached" : "reports-policy-old",
			    "RFC 8461 §3.3", live ? "wait until the cached "
			    "policy expires; reports of that reporter after "
			    "then should show the live policy" : "change the "
			    "id of _mta-sts.D so that senders fetch the "
			    "policy again", "%s applied %s on %s; %s", rep,
			    diff, d1, live ? tail :
			    "past its max_age: the live policy was not "
			    "fetched") == -1)
				goto oom;
		}
	}
	/* MX hosts of failure details that are not live MX hosts */
	for (i = 0; i < rd->nhosts; i++) {
		if (rd->hosts[i].n <= 0 || rd->hosts[i].name[0] == '\0')
			continue;
		for (j = 0; j < r->nmx; j++)
			if (strcmp(r->mx[j].host, rd->hosts[i].name) == 0)
				break;
		if (j < r->nmx)
			continue;
		if (live_finding_add(r, LIVE_WARN, "reports-mx-unknown",
		    "RFC 8460 §4.4", "find out which host answers for "
		    "the domain under this name; remove it from the policy "
		    "and the DNS if it is gone", "reports name MX %s (%"
		    PRId64 " failed session%s) that is not a live MX of %s",
		    rd->hosts[i].name, rd->hosts[i].n, rd->hosts[i].n == 1 ?
		    "" : "s", dom) == -1)
			goto oom;
	}
	/* reporters whose last report is more than two days old */
	for (i = 0; i < rd->npolicies; i++) {
		p = &rd->policies[i];
		for (j = 0; j < p->nreporters; j++) {
			last = p->reporters[j].n;
			for (k = 0; k < rd->npolicies; k++) {
				size_t	m;

				for (m = 0; m < rd->policies[k].nreporters;
				    m++)
					if (strcmp(rd->policies[k].
					    reporters[m].name,
					    p->reporters[j].name) == 0 &&
					    (rd->policies[k].reporters[m].n >
					    last || (rd->policies[k].
					    reporters[m].n == last && k < i)))
						last = -1;
			}
			if (last < 0 || last >= today - 2 * CR_DAY_SECONDS)
				continue;
			util_format_datetime(last, d1, sizeof(d1));
			d1[10] = '\0';
			if (live_finding_add(r, LIVE_WARN,
			    "reports-reporter-stopped", "RFC 8460 §3",
			    "if _smtp._tls.D or the policy changed then, check "
			    "that rua= still names a working URI", "%s sent no "
			    "report after %s", p->reporters[j].name, d1) == -1)
				goto oom;
		}
	}
done:
	ret = 0;
	goto out;
oom:
	cli_fail("out of memory");
out:
	store_readiness_free(rd, n);
	return ret;
}

/* 1 when the stored mx patterns and the live ones are the same set. */
static int
cr_same_mx(const struct store_rd_policy *p, const struct sts_policy *l)
{
	size_t	i, j;

	for (i = 0; i < p->nmx; i++) {
		for (j = 0; j < l->nmx; j++)
			if (strcmp(p->mx[i], l->mx[j]) == 0)
				break;
		if (j == l->nmx)
			return 0;
	}
	for (j = 0; j < l->nmx; j++) {
		for (i = 0; i < p->nmx; i++)
			if (strcmp(p->mx[i], l->mx[j]) == 0)
				break;
		if (i == p->nmx)
			return 0;
	}
	return 1;
}

static void
cr_mx_list(char *buf, size_t sz, char *const *mx, size_t n)
{
	size_t	i, o = 0;

	buf[0] = '\0';
	for (i = 0; i < n && o < sz; i++)
		o += (size_t)snprintf(buf + o, sz - o, "%s%s", i ? " " : "",
		    mx[i]);
	if (n == 0)
		snprintf(buf, sz, "none");
}


int
readiness_live(struct store *st, const struct live_opts *o,
    const char *domain, int64_t days, int64_t now, int json, int rc)
{
	struct live_result	 r;
	char			 err[512];
	const char		*why = NULL;
	size_t			 i;
	int			 out = rc;

	if (live_check(o, domain, &r, err, sizeof(err)) == -1) {
		live_result_free(&r);
		if (json)
			fputs("}\n", stdout);
		return cli_fail("readiness --live: %s", err);
	}
	if (check_reports(st, days, now, &r) == -1) {
		live_result_free(&r);
		if (json)
			fputs("}\n", stdout);
		return EXIT_NORUN;
	}
	if (live_worst(&r) == LIVE_CRIT)
		why = "the live setup has critical findings";
	for (i = 0; why == NULL && i < r.nf; i++)
		if (strncmp(r.f[i].code, "reports-policy-", 15) == 0)
			why = "reporters still apply another policy than the "
			    "live one";
	if (why != NULL && out < EXIT_CRIT)
		out = EXIT_CRIT;
	if (json) {
		fputs(", \"live\": ", stdout);
		check_print_json(stdout, &r, 0);
		printf(", \"verdict\": \"%s\"", out == EXIT_OK ? "READY" :
		    out == EXIT_WARN ? "INSUFFICIENT DATA" : "NOT READY");
		fputs(", \"live_blocks\": ", stdout);
		if (why != NULL)
			out_json_str(stdout, why);
		else
			fputs("null", stdout);
		fputs("}\n", stdout);
	} else {
		printf("\nlive check (now):\n");
		check_print_text(&r);
		printf("verdict with the live check: %s%s%s\n", out ==
		    EXIT_OK ? "READY" : out == EXIT_WARN ?
		    "INSUFFICIENT DATA" : "NOT READY", why != NULL ? ": " :
		    "", why != NULL ? why : "");
	}
	live_result_free(&r);
	return out;
}
