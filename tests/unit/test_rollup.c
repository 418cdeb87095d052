/*
 * test_rollup.c -- the per-day rollup of parsed reports (ingest/rollup.c),
 * with no server: reports in, the rows of tlsrpt.rollup out, the figures
 * worked out by hand below.
 *
 * Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
 *
 * Links alone (Makefile: build/tests/unit-rollup is this file with
 * libingest and libcommon; it is in the big unit-tests binary too).
 * The reports go through ingest_payload(), so the accounting rule of
 * ingest/report.c (which policies are counted) is the real one.
 */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "ingest.h"
#include "rollup.h"

#define DAY_1130	1795996800	/* 2026-11-30T00:00:00Z, date -u -d */
#define DAY_1201	(DAY_1130 + 86400)

static struct tlsrpt_report *
parse(const char *json)
{
	struct ingest_limits	 lim;
	struct ingest_err	 err;
	struct tlsrpt_report	*rep = NULL;
	enum ingest_status	 st;

	ingest_limits_default(&lim);
	st = ingest_payload((const unsigned char *)json, strlen(json), NULL,
	    &lim, &rep, &err);
	cr_assert_eq(st, INGEST_OK, "%s", err.msg);
	return rep;
}

/* One expected row; a "" string is the totals row's result type / MX. */
struct want {
	const char	*domain;
	int64_t		 start;
	const char	*reporter;
	const char	*ptype;
	const char	*rt;
	const char	*mx;
	int64_t		 reports, ok, failed;
};

static void
expect_rows(const struct rollup *ru, const struct want *w, size_t n)
{
	const struct rollup_row	*r;
	size_t			 i;

	for (i = 0; i < ru->nrows && i < n; i++) {
		r = &ru->rows[i];
		cr_expect_str_eq(r->domain, w[i].domain, "row %zu", i);
		cr_expect_eq(r->start, w[i].start, "row %zu", i);
		cr_expect_str_eq(r->reporter, w[i].reporter, "row %zu", i);
		cr_expect_str_eq(r->ptype, w[i].ptype, "row %zu", i);
		cr_expect_str_eq(r->result_type, w[i].rt, "row %zu", i);
		cr_expect_str_eq(r->mx, w[i].mx, "row %zu", i);
		cr_expect_eq(r->reports, w[i].reports, "row %zu reports", i);
		cr_expect_eq(r->successful, w[i].ok, "row %zu successful", i);
		cr_expect_eq(r->failed, w[i].failed, "row %zu failed", i);
	}
	cr_assert_eq(ru->nrows, n, "%zu rows, want %zu", ru->nrows, n);
	for (i = 1; i < ru->nrows; i++)
		cr_assert_lt(rollup_row_cmp(&ru->rows[i - 1], &ru->rows[i]), 0,
		    "rows %zu, %zu not in key order", i - 1, i);
}

/*
 * Google: two sts policies and a no-policy-found for one domain.  Every
 * no-policy-found entry counts, and sts is the only other type, so all
 * three are counted.  Totals row, under sts (the counted type):
 * successful 100 + 50 + 7 = 157, failed 3 + 0 + 1 = 4, one report.  One
 * row per detail under its policy's own type, MX lower-cased.  In key
 * order: "no-policy-found" < "sts"; "" < "certificate-expired" <
 * "starttls-not-supported".
 */
static const char google[] =
    "{\"organization-name\":\"Google Inc.\",\"date-range\":{"
    "\"start-datetime\":\"2026-11-30T00:00:00Z\","
    "\"end-datetime\":\"2026-11-30T23:59:59Z\"},"
    "\"contact-info\":\"smtp-tls-reporting@google.com\","
    "\"report-id\":\"2026-11-30T00:00:00Z_example.com\",\"policies\":["
    "{\"policy\":{\"policy-type\":\"sts\",\"policy-domain\":\"example.com\","
    "\"policy-string\":[\"version: STSv1\",\"mode: enforce\","
    "\"mx: mx1.example.com\",\"max_age: 86400\"],"
    "\"mx-host\":[\"mx1.example.com\"]},"
    "\"summary\":{\"total-successful-session-count\":100,"
    "\"total-failure-session-count\":3},\"failure-details\":["
    "{\"result-type\":\"starttls-not-supported\","
    "\"receiving-mx-hostname\":\"MX1.Example.COM\","
    "\"failed-session-count\":2},"
    "{\"result-type\":\"certificate-expired\","
    "\"receiving-mx-hostname\":\"mx2.example.com\","
    "\"failed-session-count\":1}]},"
    "{\"policy\":{\"policy-type\":\"sts\",\"policy-domain\":\"example.com\","
    "\"policy-string\":[\"version: STSv1\",\"mode: enforce\","
    "\"mx: mx2.example.com\",\"max_age: 86400\"],"
    "\"mx-host\":[\"mx2.example.com\"]},"
    "\"summary\":{\"total-successful-session-count\":50,"
    "\"total-failure-session-count\":0}},"
    "{\"policy\":{\"policy-type\":\"no-policy-found\","
    "\"policy-domain\":\"example.com\"},"
    "\"summary\":{\"total-successful-session-count\":7,"
    "\"total-failure-session-count\":1},\"failure-details\":["
    "{\"result-type\":\"starttls-not-supported\","
    "\"receiving-mx-hostname\":\"mx3.example.com\","
    "\"failed-session-count\":1}]}]}";

Test(rollup, google_two_sts_and_no_policy_found)
{
	static const struct want w[] = {
		{ "example.com", DAY_1130, "google inc.", "no-policy-found",
		    "starttls-not-supported", "mx3.example.com", 1, 0, 1 },
		{ "example.com", DAY_1130, "google inc.", "sts", "", "",
		    1, 157, 4 },
		{ "example.com", DAY_1130, "google inc.", "sts",
		    "certificate-expired", "mx2.example.com", 1, 0, 1 },
		{ "example.com", DAY_1130, "google inc.", "sts",
		    "starttls-not-supported", "mx1.example.com", 1, 0, 2 },
	};
	struct tlsrpt_report	*rep = parse(google);
	const struct tlsrpt_report *reps[1] = { rep };
	struct rollup		 ru;

	rollup_init(&ru);
	cr_assert_eq(rollup_build(&ru, reps, 1), ROLLUP_OK);
	expect_rows(&ru, w, sizeof(w) / sizeof(w[0]));
	rollup_free(&ru);
	tlsrpt_report_free(rep);
}

/*
 * Microsoft: sts and tlsa entries for the same sessions, 40 + 2 each.
 * A tie: sts wins, the tlsa entry is not counted and adds nothing but
 * its report to the totals row (which it shares).  No tlsa row.
 */
static const char microsoft[] =
    "{\"organization-name\":\"Microsoft Corporation\",\"date-range\":{"
    "\"start-datetime\":\"2026-11-30T00:00:00Z\","
    "\"end-datetime\":\"2026-11-30T23:59:59Z\"},"
    "\"contact-info\":\"tlsrpt-noreply@microsoft.com\","
    "\"report-id\":\"133456789012345678+contoso.com\",\"policies\":["
    "{\"policy\":{\"policy-type\":\"sts\",\"policy-domain\":\"contoso.com\","
    "\"policy-string\":[\"version: STSv1\",\"mode: testing\","
    "\"mx: mx.contoso.com\",\"max_age: 604800\"],"
    "\"mx-host\":[\"mx.contoso.com\"]},"
    "\"summary\":{\"total-successful-session-count\":40,"
    "\"total-failure-session-count\":2},\"failure-details\":["
    "{\"result-type\":\"certificate-host-mismatch\","
    "\"receiving-mx-hostname\":\"MX.contoso.com\","
    "\"failed-session-count\":2}]},"
    "{\"policy\":{\"policy-type\":\"tlsa\",\"policy-domain\":\"contoso.com\","
    "\"policy-string\":[\"3 1 1 0123456789abcdef\"]},"
    "\"summary\":{\"total-successful-session-count\":40,"
    "\"total-failure-session-count\":2},\"failure-details\":["
    "{\"result-type\":\"tlsa-invalid\","
    "\"receiving-mx-hostname\":\"mx.contoso.com\","
    "\"failed-session-count\":2}]}]}";

Test(rollup, microsoft_sts_and_tlsa_same_sessions)
{
	static const struct want w[] = {
		{ "contoso.com", DAY_1130, "microsoft corporation", "sts", "",
		    "", 1, 40, 2 },
		{ "contoso.com", DAY_1130, "microsoft corporation", "sts",
		    "certificate-host-mismatch", "mx.contoso.com", 1, 0, 2 },
	};
	struct tlsrpt_report	*rep = parse(microsoft);
	const struct tlsrpt_report *reps[1] = { rep };
	struct rollup		 ru;

	cr_assert_eq(rep->npolicies, 2);
	cr_assert(rep->policies[0].counted && !rep->policies[1].counted);
	rollup_init(&ru);
	cr_assert_eq(rollup_build(&ru, reps, 1), ROLLUP_OK);
	expect_rows(&ru, w, sizeof(w) / sizeof(w[0]));
	rollup_free(&ru);
	tlsrpt_report_free(rep);
}

/*
 * Ties and the type counted under, in one report of four domains:
 *  - tie.example: tlsa 10/0 and an unknown type 10/0: a tie, tlsa
 *    before the others; the totals row is tlsa 10/0.
 *  - more.example: sts 5/0 and tlsa 8/1: tlsa has more sessions; the
 *    totals row is tlsa 8/1, its detail a tlsa row; sts adds nothing.
 *  - npf.example: only no-policy-found 3/2: counted under it; its
 *    detail has no result type and no MX: "unknown" and "".
 *  - zero.example: sts 0/0 and tlsa 0/0: a tie at 0, sts counted.
 */
static const char ties[] =
    "{\"organization-name\":\"  Example   Mailer \",\"date-range\":{"
    "\"start-datetime\":\"2026-12-01T00:00:00Z\","
    "\"end-datetime\":\"2026-12-01T23:59:59Z\"},"
    "\"contact-info\":\"tlsrpt@mailer.example\","
    "\"report-id\":\"ties-1\",\"policies\":["
    "{\"policy\":{\"policy-type\":\"tlsa\",\"policy-domain\":"
    "\"tie.example\"},\"summary\":{\"total-successful-session-count\":10,"
    "\"total-failure-session-count\":0}},"
    "{\"policy\":{\"policy-type\":\"x-future\",\"policy-domain\":"
    "\"tie.example\"},\"summary\":{\"total-successful-session-count\":10,"
    "\"total-failure-session-count\":0}},"
    "{\"policy\":{\"policy-type\":\"sts\",\"policy-domain\":"
    "\"more.example\"},\"summary\":{\"total-successful-session-count\":5,"
    "\"total-failure-session-count\":0}},"
    "{\"policy\":{\"policy-type\":\"tlsa\",\"policy-domain\":"
    "\"more.example\"},\"summary\":{\"total-successful-session-count\":8,"
    "\"total-failure-session-count\":1},\"failure-details\":["
    "{\"result-type\":\"dane-required\","
    "\"receiving-mx-hostname\":\"mx.more.example\","
    "\"failed-session-count\":1}]},"
    "{\"policy\":{\"policy-type\":\"no-policy-found\",\"policy-domain\":"
    "\"npf.example\"},\"summary\":{\"total-successful-session-count\":3,"
    "\"total-failure-session-count\":2},\"failure-details\":["
    "{\"failed-session-count\":2}]},"
    "{\"policy\":{\"policy-type\":\"sts\",\"policy-domain\":"
    "\"zero.example\"},\"summary\":{\"total-successful-session-count\":0,"
    "\"total-failure-session-count\":0}},"
    "{\"policy\":{\"policy-type\":\"tlsa\",\"policy-domain\":"
    "\"zero.example\"},\"summary\":{\"total-successful-session-count\":0,"
    "\"total-failure-session-count\":0}}]}";

Test(rollup, ties_and_the_type_counted_under)
{
	static const struct want w[] = {
		{ "more.example", DAY_1201, "example mailer", "tlsa", "", "",
		    1, 8, 1 },
		{ "more.example", DAY_1201, "example mailer", "tlsa",
		    "dane-required", "mx.more.example", 1, 0, 1 },
		{ "npf.example", DAY_1201, "example mailer",
		    "no-policy-found", "", "", 1, 3, 2 },
		{ "npf.example", DAY_1201, "example mailer",
		    "no-policy-found", "unknown", "", 1, 0, 2 },
		{ "tie.example", DAY_1201, "example mailer", "tlsa", "", "",
		    1, 10, 0 },
		{ "zero.example", DAY_1201, "example mailer", "sts", "", "",
		    1, 0, 0 },
	};
	struct tlsrpt_report	*rep = parse(ties);
	const struct tlsrpt_report *reps[1] = { rep };
	struct rollup		 ru;

	rollup_init(&ru);
	cr_assert_eq(rollup_build(&ru, reps, 1), ROLLUP_OK);
	expect_rows(&ru, w, sizeof(w) / sizeof(w[0]));
	rollup_free(&ru);
	tlsrpt_report_free(rep);
}

/*
 * A batch: the Google report twice (two report-ids, the same day) and
 * the Microsoft one.  Rows of equal key merge: reports 2, sessions
 * doubled; each report counts once per row even where it made several
 * rows of that key (its three policies' totals rows).  The buffers are
 * reused: a second build over one report gives that report's rows.
 */
Test(rollup, batch_merges_equal_keys)
{
	static const struct want w[] = {
		{ "contoso.com", DAY_1130, "microsoft corporation", "sts", "",
		    "", 1, 40, 2 },
		{ "contoso.com", DAY_1130, "microsoft corporation", "sts",
		    "certificate-host-mismatch", "mx.contoso.com", 1, 0, 2 },
		{ "example.com", DAY_1130, "google inc.", "no-policy-found",
		    "starttls-not-supported", "mx3.example.com", 2, 0, 2 },
		{ "example.com", DAY_1130, "google inc.", "sts", "", "",
		    2, 314, 8 },
		{ "example.com", DAY_1130, "google inc.", "sts",
		    "certificate-expired", "mx2.example.com", 2, 0, 2 },
		{ "example.com", DAY_1130, "google inc.", "sts",
		    "starttls-not-supported", "mx1.example.com", 2, 0, 4 },
	};
	char			*g2, *at;
	struct tlsrpt_report	*a, *b, *c;
	const struct tlsrpt_report *reps[3];
	struct rollup		 ru;

	g2 = strdup(google);
	cr_assert(g2 != NULL);
	at = strstr(g2, "_example.com\"");
	cr_assert(at != NULL);
	at[-1] = 'X';			/* another report-id, same day */
	a = parse(google);
	b = parse(g2);
	c = parse(microsoft);
	cr_assert(memcmp(a->key, b->key, 32) != 0);
	reps[0] = a;
	reps[1] = c;
	reps[2] = b;
	rollup_init(&ru);
	cr_assert_eq(rollup_build(&ru, reps, 3), ROLLUP_OK);
	expect_rows(&ru, w, sizeof(w) / sizeof(w[0]));
	cr_assert_eq(rollup_build(&ru, reps + 1, 1), ROLLUP_OK);
	expect_rows(&ru, w, 2);
	cr_assert_eq(rollup_build(&ru, reps, 0), ROLLUP_OK);
	cr_assert_eq(ru.nrows, 0);
	rollup_free(&ru);
	cr_assert(ru.rows == NULL && ru.nrows == 0);
	tlsrpt_report_free(a);
	tlsrpt_report_free(b);
	tlsrpt_report_free(c);
	free(g2);
}

/*
 * Sums that leave int64.  ingest takes counts up to 2^53, and INT64_MAX
 * is 1024 * 2^53 - 1: 1023 reports of 2^53 sessions sum within range,
 * 1024 of them one beyond it (a range error, no rows).
 */
Test(rollup, sums_beyond_int64)
{
	static const char big[] =
	    "{\"organization-name\":\"Big\",\"date-range\":{"
	    "\"start-datetime\":\"2026-11-30T00:00:00Z\","
	    "\"end-datetime\":\"2026-11-30T23:59:59Z\"},"
	    "\"contact-info\":\"a@big.example\",\"report-id\":\"one\","
	    "\"policies\":[{\"policy\":{\"policy-type\":\"no-policy-found\","
	    "\"policy-domain\":\"big.example\"},\"summary\":{"
	    "\"total-successful-session-count\":9007199254740992,"
	    "\"total-failure-session-count\":0}}]}";
	struct tlsrpt_report	*a;
	const struct tlsrpt_report **reps;
	struct rollup		 ru;
	size_t			 i;

	a = parse(big);
	reps = calloc(1024, sizeof(*reps));
	cr_assert(reps != NULL);
	for (i = 0; i < 1024; i++)
		reps[i] = a;
	rollup_init(&ru);
	cr_assert_eq(rollup_build(&ru, reps, 1023), ROLLUP_OK);
	cr_assert_eq(ru.nrows, 1);
	cr_assert_eq(ru.rows[0].reports, 1023);
	cr_assert_eq(ru.rows[0].successful, INT64_C(1023) * 9007199254740992);
	cr_assert_eq(rollup_build(&ru, reps, 1024), ROLLUP_E_RANGE);
	cr_assert_eq(ru.nrows, 0);
	rollup_free(&ru);
	free(reps);
	tlsrpt_report_free(a);
}
