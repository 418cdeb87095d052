/*
 * readiness.c -- the model of `tlsrpt readiness` (readiness.h): the
 * MTA-STS testing -> enforce verdict: coverage, the
 * policies senders applied, sessions enforce would refuse, MX hosts the
 * policy does not cover, problems of the policy string.  Each check
 * gives one sentence and one next step.
 *
 * Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
 */

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ingest.h"
#include "model.h"
#include "out.h"
#include "readiness.h"

#define SHOWN_MAX	3	/* names listed in a sentence */

const struct rd_problem rd_problems[RD_NPROBLEMS] = {
	{ STS_P_NO_VERSION, "no-version", "no \"version: STSv1\" line" },
	{ STS_P_NO_MODE, "no-mode", "no mode line" },
	{ STS_P_BAD_MODE, "bad-mode",
	    "a mode other than enforce, testing or none" },
	{ STS_P_NO_MAX_AGE, "no-max-age", "no max_age" },
	{ STS_P_BAD_MAX_AGE, "bad-max-age",
	    "max_age out of range (0 to 31557600)" },
	{ STS_P_NO_MX, "no-mx", "no mx line" },
	{ STS_P_BAD_LINE, "bad-line", "a line that is not \"key: value\"" },
	{ STS_P_DUP_FIELD, "duplicate-field", "a field given twice" },
};

void
rd_limits_default(struct rd_limits *lim)
{
	lim->window_days = RD_DEFAULT_DAYS;
	lim->min_days = RD_DEFAULT_MIN_DAYS;
	lim->min_reporters = RD_DEFAULT_MIN_REPORTERS;
	lim->max_failure_rate = 0.0;
}

const char *
rd_verdict_str(enum rd_verdict v)
{
	switch (v) {
	case RD_READY:
		return "READY";
	case RD_INSUFFICIENT:
		return "INSUFFICIENT DATA";
	default:
		return "NOT READY";
	}
}

const char *
rd_status_str(enum rd_status s)
{
	static const char	*names[] = { "ok", "info", "insufficient",
				    "blocker" };

	return names[s];
}

const char *
rd_check_str(enum rd_check c)
{
	static const char	*names[] = { "coverage", "policy", "refusals",
				    "mx", "problems" };

	return c < RC_NCHECKS ? names[c] : "?";
}

int
rd_covered(const struct store_rd_policy *p, const char *host)
{
	size_t	i;

	for (i = 0; i < p->nmx; i++)
		if (sts_mx_match(p->mx[i], host))
			return 1;
	return 0;
}

/* A new string, printf-style; NULL when out of memory. */
static char *
fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));

static char *
fmt(const char *f, ...)
{
	va_list	 ap;
	char	*s;
	int	 n;

	va_start(ap, f);
	n = vsnprintf(NULL, 0, f, ap);
	va_end(ap);
	if (n < 0 || (s = malloc((size_t)n + 1)) == NULL)
		return NULL;
	va_start(ap, f);
	vsnprintf(s, (size_t)n + 1, f, ap);
	va_end(ap);
	return s;
}

/* A list "a, b, c and 2 more" into a memstream-built string. */
struct list {
	FILE	*f;
	char	*s;
	size_t	 len;
	size_t	 n;
	size_t	 max;		/* shown; the others are counted */
};

static int
list_begin(struct list *l, size_t max)
{
	l->max = max;
	l->s = NULL;
	l->len = 0;
	l->n = 0;
	return (l->f = open_memstream(&l->s, &l->len)) == NULL ? -1 : 0;
}

/* Adds s (made safe for a terminal); 1 when it is shown, so that the
 * caller may append to it, 0 when it only counts. */
static int
list_add(struct list *l, const char *s)
{
	char	safe[256];

	if (l->n++ >= l->max)
		return 0;
	if (l->n > 1)
		fputs(", ", l->f);
	fputs(out_shown(s, safe, sizeof(safe)), l->f);
	return 1;
}

/* The list's text (owned by l until list_free), NULL when out of memory. */
static const char *
list_end(struct list *l)
{
	if (l->n > l->max)
		fprintf(l->f, " and %zu more", l->n - l->max);
	if (fclose(l->f) != 0) {
		l->f = NULL;
		return NULL;
	}
	l->f = NULL;
	return l->s;
}

static void
list_free(struct list *l)
{
	if (l->f != NULL)
		fclose(l->f);
	free(l->s);
	l->s = NULL;
}

static struct rd_reason *
reason(struct rd_eval *ev, enum rd_check c, enum rd_status s)
{
	struct rd_reason	*r = &ev->reasons[ev->nreasons++];

	r->check = c;
	r->status = s;
	return r;
}

/* Each reporter's newest policy, and whether they disagree. */
static int
latest_policies(const struct store_readiness *d, struct rd_eval *ev)
{
	const struct store_count	*c;
	size_t				 i, j, k, cap = 0;

	for (i = 0; i < d->npolicies; i++)
		cap += d->policies[i].nreporters;
	if (cap == 0)
		return 0;
	if ((ev->latest = calloc(cap, sizeof(*ev->latest))) == NULL)
		return -1;
	/* policies are newest first: a reporter's first entry is kept
	 * unless a later one saw a later day */
	for (i = 0; i < d->npolicies; i++)
		for (j = 0; j < d->policies[i].nreporters; j++) {
			c = &d->policies[i].reporters[j];
			for (k = 0; k < ev->nlatest; k++)
				if (strcmp(ev->latest[k].reporter, c->name) ==
				    0)
					break;
			if (k == ev->nlatest) {
				ev->latest[ev->nlatest].reporter = c->name;
				ev->latest[ev->nlatest].policy = i;
				ev->latest[ev->nlatest++].last_day = c->n;
			} else if (c->n > ev->latest[k].last_day) {
				ev->latest[k].policy = i;
				ev->latest[k].last_day = c->n;
			}
		}
	for (k = 1; k < ev->nlatest; k++)
		if (ev->latest[k].policy != ev->latest[0].policy)
			ev->disagree = 1;
	return 0;
}

static int
check_coverage(const struct store_readiness *d, const struct rd_limits *lim,
    struct rd_eval *ev)
{
	struct rd_reason	*r;
	int			 enough;

	enough = d->days >= lim->min_days &&
	    (int64_t)d->nreporters >= lim->min_reporters;
	r = reason(ev, RC_COVERAGE, enough ? RS_OK : RS_INSUFFICIENT);
	r->text = fmt("reports on %lld of %lld days from %zu reporter%s "
	    "(%lld report%s; at least %lld days and %lld reporters wanted)",
	    (long long)d->days, (long long)lim->window_days, d->nreporters,
	    d->nreporters == 1 ? "" : "s", (long long)d->reports,
	    d->reports == 1 ? "" : "s", (long long)lim->min_days,
	    (long long)lim->min_reporters);
	if (enough)
		r->next = fmt("nothing: that is enough to judge");
	else if (d->reports == 0)
		r->next = fmt("check that _smtp._tls.%s has a TXT record "
		    "\"v=TLSRPTv1; rua=...\" that reaches this collector, "
		    "then wait for reports", d->domain);
	else
		r->next = fmt("wait for more reports and run readiness again "
		    "(or lower --min-days / --min-reporters)");
	return r->text == NULL || r->next == NULL ? -1 : 0;
}

static int
check_policy(const struct store_readiness *d, struct rd_eval *ev)
{
	const struct store_rd_policy	*cur;
	struct rd_reason		*r;
	struct list			 l;
	size_t				 k;
	int				 rc = -1;

	if (d->npolicies == 0) {
		r = reason(ev, RC_POLICY, RS_BLOCKER);
		r->text = fmt("no sender applied an MTA-STS policy (%lld "
		    "session%s under no-policy-found)",
		    (long long)d->nopolicy_sessions,
		    d->nopolicy_sessions == 1 ? "" : "s");
		r->next = fmt("publish _mta-sts.%s TXT \"v=STSv1; id=...\" and "
		    "the policy at https://mta-sts.%s/.well-known/mta-sts.txt "
		    "in mode testing, then wait for reports", d->domain,
		    d->domain);
		return r->text == NULL || r->next == NULL ? -1 : 0;
	}
	cur = &d->policies[0];
	if (ev->disagree) {
		r = reason(ev, RC_POLICY, RS_BLOCKER);
		if (list_begin(&l, 8) == -1)
			return -1;
		for (k = 0; k < ev->nlatest; k++) {
			if (!list_add(&l, ev->latest[k].reporter))
				continue;
			fprintf(l.f, " applied P%zu on ",
			    ev->latest[k].policy + 1);
			out_day(l.f, ev->latest[k].last_day);
		}
		r->text = list_end(&l) == NULL ? NULL : fmt("policy change in "
		    "flight: %zu policies seen and reporters disagree on the "
		    "current one: %s", d->npolicies, l.s);
		list_free(&l);
		r->next = fmt("wait until every sender has fetched the newest "
		    "policy P1 (up to its max_age of %lld s after the change;"
		    " bump the id in _mta-sts.%s if you did not), then run "
		    "readiness again", (long long)cur->max_age, d->domain);
	} else if (strcmp(cur->mode, "enforce") == 0) {
		r = reason(ev, RC_POLICY, RS_INFO);
		r->text = fmt("senders already apply mode enforce (%zu "
		    "polic%s seen)", d->npolicies,
		    d->npolicies == 1 ? "y" : "ies");
		r->next = fmt("nothing to switch: watch `tlsrpt failures` for "
		    "sessions that enforce now refuses");
	} else {
		r = reason(ev, RC_POLICY, d->npolicies > 1 ? RS_INFO : RS_OK);
		r->text = fmt("every reporter applies the same policy P1 (mode "
		    "%s)%s", cur->mode[0] != '\0' ? cur->mode : "unset",
		    d->npolicies > 1 ? "; older policies were seen earlier in "
		    "the window" : "");
		r->next = fmt("nothing: senders agree on the policy");
	}
	rc = r->text == NULL || r->next == NULL ? -1 : 0;
	return rc;
}

static int
check_refusals(const struct store_readiness *d, const struct rd_limits *lim,
    struct rd_eval *ev)
{
	const struct store_rd_refusal	*f;
	struct rd_reason		*r;
	struct list			 l;
	size_t				 i;
	int64_t				 total;
	char				 safe[256], safe2[256];

	for (i = 0; i < d->nrefusals; i++)
		ev->refused += d->refusals[i].failed;
	total = d->sts_sessions > ev->refused ? d->sts_sessions : ev->refused;
	ev->refused_rate = model_rate(ev->refused, total);
	if (ev->refused == 0) {
		r = reason(ev, RC_REFUSALS, RS_OK);
		r->text = fmt("no session under the policy would have been "
		    "refused (%lld sessions under sts)",
		    (long long)d->sts_sessions);
		r->next = fmt("nothing: no failures that enforce refuses");
		return r->text == NULL || r->next == NULL ? -1 : 0;
	}
	r = reason(ev, RC_REFUSALS, ev->refused_rate >
	    lim->max_failure_rate ? RS_BLOCKER : RS_OK);
	if (list_begin(&l, SHOWN_MAX) == -1)
		return -1;
	for (i = 0; i < d->nrefusals; i++) {
		f = &d->refusals[i];
		if (list_add(&l, f->result_type))
			fprintf(l.f, " at %s (%lld)", out_shown(f->mx, safe,
			    sizeof(safe)), (long long)f->failed);
	}
	if (list_end(&l) == NULL) {
		list_free(&l);
		return -1;
	}
	f = &d->refusals[0];
	r->text = fmt("%lld of %lld session%s under the policy (%.2f%%, "
	    "limit %.2f%%) would have been refused under enforce: %s",
	    (long long)ev->refused, (long long)total, total == 1 ? "" : "s",
	    100.0 * ev->refused_rate, 100.0 * lim->max_failure_rate, l.s);
	list_free(&l);
	if (r->status == RS_BLOCKER)
		r->next = fmt("fix %s first (%s: %s), then wait for clean "
		    "reports", out_shown(f->mx, safe, sizeof(safe)),
		    out_shown(f->result_type, safe2, sizeof(safe2)),
		    tlsrpt_result_meaning(f->result_type));
	else
		r->next = fmt("nothing required: the refusals are within "
		    "--max-failure-rate");
	return r->text == NULL || r->next == NULL ? -1 : 0;
}

static int
check_mx(const struct store_readiness *d, struct rd_eval *ev)
{
	struct rd_reason	*r;
	struct list		 l;
	size_t			 i;

	if (d->npolicies == 0 || d->policies[0].nmx == 0)
		return 0;		/* problems says: no mx */
	if (d->nhosts > 0 && (ev->uncovered = calloc(d->nhosts,
	    sizeof(*ev->uncovered))) == NULL)
		return -1;
	for (i = 0; i < d->nhosts; i++)
		if (!ev->covered[i])
			ev->uncovered[ev->nuncovered++] = d->hosts[i].name;
	if (ev->nuncovered == 0) {
		r = reason(ev, RC_MX, RS_OK);
		r->text = fmt("every MX host seen in the reports (%zu) matches "
		    "the policy's mx patterns", d->nhosts);
		r->next = fmt("nothing: the policy covers the MX hosts");
		return r->text == NULL || r->next == NULL ? -1 : 0;
	}
	r = reason(ev, RC_MX, RS_BLOCKER);
	if (list_begin(&l, 8) == -1)
		return -1;
	for (i = 0; i < ev->nuncovered; i++)
		list_add(&l, ev->uncovered[i]);
	r->text = list_end(&l) == NULL ? NULL : fmt("%zu MX host%s seen in "
	    "the reports not covered by the policy's mx patterns: %s "
	    "(enforce refuses them: certificate-host-mismatch)",
	    ev->nuncovered, ev->nuncovered == 1 ? "" : "s", l.s);
	list_free(&l);
	r->next = fmt("add an mx: line for each (\"*.\" covers exactly one "
	    "left-most label: *.%s covers mx1.%s, not %s nor a.b.%s), or "
	    "stop using them as MX", d->domain, d->domain, d->domain,
	    d->domain);
	return r->text == NULL || r->next == NULL ? -1 : 0;
}

static int
check_problems(const struct store_readiness *d, struct rd_eval *ev)
{
	const struct store_rd_policy	*cur;
	struct rd_reason		*r;
	struct list			 l;
	size_t				 i;

	if (d->npolicies == 0)
		return 0;
	cur = &d->policies[0];
	if (cur->strings[0] == '\0') {
		r = reason(ev, RC_PROBLEMS, RS_INFO);
		r->text = fmt("senders sent no policy string: its fields "
		    "cannot be checked");
		r->next = fmt("check https://mta-sts.%s/.well-known/"
		    "mta-sts.txt by hand", d->domain);
		return r->text == NULL || r->next == NULL ? -1 : 0;
	}
	if (list_begin(&l, 16) == -1)
		return -1;
	for (i = 0; i < RD_NPROBLEMS; i++)
		if (cur->problems & rd_problems[i].bit)
			list_add(&l, rd_problems[i].what);
	if (strcmp(cur->mode, "none") == 0)
		list_add(&l, "mode none (senders ignore the policy)");
	if (l.n == 0) {
		list_free(&l);
		r = reason(ev, RC_PROBLEMS, RS_OK);
		r->text = fmt("the policy string is well-formed (mode %s, "
		    "max_age %lld)", cur->mode, (long long)cur->max_age);
		r->next = fmt("nothing: the policy itself is fine");
		return r->text == NULL || r->next == NULL ? -1 : 0;
	}
	r = reason(ev, RC_PROBLEMS, RS_BLOCKER);
	r->text = list_end(&l) == NULL ? NULL : fmt("the policy P1 has "
	    "problems: %s", l.s);
	list_free(&l);
	r->next = fmt("fix https://mta-sts.%s/.well-known/mta-sts.txt "
	    "(version: STSv1, mode, mx, max_age up to 31557600) and bump the "
	    "id in _mta-sts.%s", d->domain, d->domain);
	return r->text == NULL || r->next == NULL ? -1 : 0;
}

int
rd_evaluate(const struct store_readiness *d, const struct rd_limits *lim,
    struct rd_eval *ev)
{
	size_t	i;
	int	insufficient = 0, blocker = 0;

	memset(ev, 0, sizeof(*ev));
	if (d->nhosts > 0 && (ev->covered = calloc(d->nhosts,
	    sizeof(*ev->covered))) == NULL)
		goto fail;
	for (i = 0; i < d->nhosts; i++)
		ev->covered[i] = d->npolicies > 0 &&
		    rd_covered(&d->policies[0], d->hosts[i].name);
	if (latest_policies(d, ev) == -1 ||
	    check_coverage(d, lim, ev) == -1)
		goto fail;
	if (d->reports > 0 && (check_policy(d, ev) == -1 ||
	    check_refusals(d, lim, ev) == -1 || check_mx(d, ev) == -1 ||
	    check_problems(d, ev) == -1))
		goto fail;
	for (i = 0; i < ev->nreasons; i++) {
		if (ev->reasons[i].status == RS_BLOCKER)
			blocker = 1;
		if (ev->reasons[i].status == RS_INSUFFICIENT)
			insufficient = 1;
	}
	ev->verdict = blocker ? RD_NOT_READY : insufficient ?
	    RD_INSUFFICIENT : RD_READY;
	return 0;
 fail:
	rd_eval_free(ev);
	return -1;
}

void
rd_eval_free(struct rd_eval *ev)
{
	size_t	i;

	for (i = 0; i < ev->nreasons; i++) {
		free(ev->reasons[i].text);
		free(ev->reasons[i].next);
	}
	free(ev->latest);
	free(ev->uncovered);
	free(ev->covered);
	memset(ev, 0, sizeof(*ev));
}

int
readiness_compute(struct store *st, const struct store_window *win,
    const struct rd_limits *lim, struct readiness *out)
{
	size_t	i;

	memset(out, 0, sizeof(*out));
	out->since = win->since;
	out->until = win->until;
	out->lim = *lim;
	out->lim.window_days = model_window_days(win->since, win->until);
	if (store_readiness(st, win, &out->rows_, &out->nrows_) == -1)
		return -1;
	if (out->nrows_ > 0 && (out->domains = calloc(out->nrows_,
	    sizeof(*out->domains))) == NULL)
		return -2;
	for (i = 0; i < out->nrows_; i++) {
		out->domains[i].data = &out->rows_[i];
		if (rd_evaluate(&out->rows_[i], &out->lim,
		    &out->domains[i].ev) == -1)
			return -2;
		out->ndomains++;
	}
	return 0;
}

void
readiness_free(struct readiness *rd)
{
	size_t	i;

	for (i = 0; i < rd->ndomains; i++)
		rd_eval_free(&rd->domains[i].ev);
	free(rd->domains);
	store_readiness_free(rd->rows_, rd->nrows_);
	memset(rd, 0, sizeof(*rd));
}
