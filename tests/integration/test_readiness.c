/*
 * test_readiness.c -- `tlsrpt readiness`: each reason and verdict on
 * generated reports with known figures.  "Now" is 2026-03-15T12:00:00Z
 * (TLSRPT_NOW), so the default 14 days are [2026-03-01, 2026-03-15).
 *
 * Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <json-c/json.h>

#include "report_testutil.h"

#define NOW	"TLSRPT_NOW=2026-03-15T12:00:00Z"
#define DAY0	"2026-03-01"

/* n daily reports from org, days first..first+n-1, one policy each
 * made by mk(domain, day index). */
static void
daily(struct store *st, const char *org, const char *domain, int first,
    int n, char *(*mk)(const char *, int))
{
	char	id[64];
	int	i;

	for (i = first; i < first + n; i++) {
		snprintf(id, sizeof(id), "%s-%s-%d", org, domain, i);
		rtu_put(st, org, id, rtu_day(DAY0, i), mk(domain, i));
	}
}

static char *
clean_testing(const char *domain, int day)
{
	char	mx[128];

	(void)day;
	snprintf(mx, sizeof(mx), "*.%s", domain);
	return rtu_sts(domain, rtu_lines("testing", mx), 100, 0, NULL);
}

/* readiness --format json with args; the parsed answer and exit code. */
static struct json_object *
readiness(const struct stu_db *db, int *status, const char *args)
{
	struct rtu_run		 r;
	struct json_object	*root;

	r = rtu_tlsrpt(db, NOW, "readiness --format json %s", args);
	root = json_tokener_parse(r.out);
	cr_assert_not_null(root, "not JSON: %s", r.out);
	*status = r.status;
	free(r.out);
	return root;
}

static const char *
sget(struct json_object *o, const char *k)
{
	struct json_object	*v;

	cr_assert(json_object_object_get_ex(o, k, &v), "no %s in %s", k,
	    json_object_to_json_string(o));
	return json_object_get_string(v);
}

static int64_t
iget(struct json_object *o, const char *k)
{
	struct json_object	*v;

	cr_assert(json_object_object_get_ex(o, k, &v), "no %s in %s", k,
	    json_object_to_json_string(o));
	return json_object_get_int64(v);
}

/* The status of the reason of check c ("" when it is not given). */
static const char *
reason_status(struct json_object *root, const char *c)
{
	struct json_object	*rs, *r;
	size_t			 i;

	cr_assert(json_object_object_get_ex(root, "reasons", &rs));
	for (i = 0; i < json_object_array_length(rs); i++) {
		r = json_object_array_get_idx(rs, i);
		if (strcmp(sget(r, "check"), c) == 0) {
			cr_expect_gt(strlen(sget(r, "next")), 10,
			    "%s: a next step", c);
			return sget(r, "status");
		}
	}
	return "";
}

/* covered flag of host in mx_hosts; -1 when the host is not listed. */
static int
covered(struct json_object *root, const char *host)
{
	struct json_object	*hs, *h;
	size_t			 i;

	cr_assert(json_object_object_get_ex(root, "mx_hosts", &hs));
	for (i = 0; i < json_object_array_length(hs); i++) {
		h = json_object_array_get_idx(hs, i);
		if (strcmp(sget(h, "host"), host) == 0)
			return json_object_get_boolean(
			    json_object_object_get(h, "covered"));
	}
	return -1;
}

Test(readiness, ready, .timeout = 60)
{
	struct stu_db		 db;
	struct store		*st;
	struct json_object	*root, *cov;
	int			 status;

	stu_db_create(&db, "rd_ready");
	st = stu_open(&db, 1);
	daily(st, "Alpha", "ready.example", 0, 10, clean_testing);
	daily(st, "Beta", "ready.example", 2, 8, clean_testing);
	/* a report from before the window does not count */
	rtu_put(st, "Alpha", "old", "2026-02-27", rtu_sts("ready.example",
	    rtu_lines("testing", "*.ready.example"), 10, 5, rtu_detail(
	    "starttls-not-supported", "mx.ready.example", NULL, NULL, NULL,
	    5)));
	store_close(st);
	root = readiness(&db, &status, "--domain ready.example");
	cr_expect_eq(status, 0);
	cr_expect_str_eq(sget(root, "verdict"), "READY");
	cov = json_object_object_get(root, "coverage");
	cr_expect_eq(iget(cov, "days"), 10);
	cr_expect_eq(iget(cov, "window_days"), 14);
	cr_expect_eq(iget(cov, "reports"), 18);
	cr_expect_eq(json_object_array_length(json_object_object_get(cov,
	    "reporters")), 2);
	cr_expect_str_eq(reason_status(root, "coverage"), "ok");
	cr_expect_str_eq(reason_status(root, "policy"), "ok");
	cr_expect_str_eq(reason_status(root, "refusals"), "ok");
	cr_expect_str_eq(reason_status(root, "problems"), "ok");
	cr_expect_eq(iget(json_object_object_get(root, "would_refuse"),
	    "sts_sessions"), 1800);
	json_object_put(root);
	stu_db_drop(&db);
}

Test(readiness, insufficient_data, .timeout = 60)
{
	struct stu_db		 db;
	struct store		*st;
	struct json_object	*root;
	struct rtu_run		 r;
	int			 status;

	stu_db_create(&db, "rd_insuff");
	st = stu_open(&db, 1);
	daily(st, "Alpha", "few.example", 5, 3, clean_testing);
	store_close(st);
	root = readiness(&db, &status, "--domain few.example");
	cr_expect_eq(status, 1, "INSUFFICIENT DATA exits 1");
	cr_expect_str_eq(sget(root, "verdict"), "INSUFFICIENT DATA");
	cr_expect_str_eq(reason_status(root, "coverage"), "insufficient");
	json_object_put(root);
	/* the thresholds are options */
	root = readiness(&db, &status, "--domain few.example --min-days 3 "
	    "--min-reporters 1");
	cr_expect_eq(status, 0);
	cr_expect_str_eq(sget(root, "verdict"), "READY");
	json_object_put(root);
	/* --days 5 ends today 00:00: 03-10..03-14 holds none of them */
	root = readiness(&db, &status, "--domain few.example --days 5 "
	    "--min-days 1 --min-reporters 1");
	cr_expect_eq(status, 1);
	cr_expect_eq(iget(json_object_object_get(root, "coverage"),
	    "reports"), 0);
	json_object_put(root);
	/* a domain nobody reported on */
	r = rtu_tlsrpt(&db, NOW, "readiness --domain none.example");
	cr_expect_eq(r.status, 1, "%s", r.out);
	cr_expect_not_null(strstr(r.out, "INSUFFICIENT DATA"), "%s", r.out);
	cr_expect_not_null(strstr(r.out, "_smtp._tls.none.example"), "%s",
	    r.out);
	free(r.out);
	stu_db_drop(&db);
}

/* Alpha on nr.example: day 2 host-mismatch at mail. (covered), day 3
 * starttls at a.b. (two labels: not covered by *.nr.example), day 4
 * validation-failure at the bare domain (not covered), day 5 a fetch
 * error at MX4.NR.EXAMPLE. (covered once lower-cased, dot dropped). */
static char *
nr_alpha(const char *domain, int day)
{
	const char	*lines = rtu_lines("testing", "*.nr.example");

	switch (day) {
	case 2:
		return rtu_sts(domain, lines, 100, 1, rtu_detail(
		    "certificate-host-mismatch", "mail.nr.example", NULL, NULL,
		    NULL, 1));
	case 3:
		return rtu_sts(domain, lines, 100, 2, rtu_detail(
		    "starttls-not-supported", "a.b.nr.example", NULL, NULL,
		    NULL, 2));
	case 4:
		return rtu_sts(domain, lines, 100, 3, rtu_detail(
		    "validation-failure", "nr.example", NULL, NULL, NULL, 3));
	case 5:
		return rtu_sts(domain, lines, 100, 1, rtu_detail(
		    "sts-policy-fetch-error", "MX4.NR.EXAMPLE.", NULL, NULL,
		    NULL, 1));
	}
	return rtu_sts(domain, lines, 100, 0, NULL);
}

Test(readiness, refusals_and_uncovered_mx, .timeout = 60)
{
	struct stu_db		 db;
	struct store		*st;
	struct json_object	*root, *wr, *rows, *row;
	struct rtu_run		 r;
	int			 status;

	stu_db_create(&db, "rd_refuse");
	st = stu_open(&db, 1);
	daily(st, "Alpha", "nr.example", 0, 8, nr_alpha);
	daily(st, "Beta", "nr.example", 0, 8, clean_testing);
	/* a host seen only in a tlsa entry (a successful session) */
	rtu_put(st, "Gamma", "g1", "2026-03-03", rtu_other("tlsa",
	    "nr.example", "backup.other.example", 50, 0, NULL));
	store_close(st);

	root = readiness(&db, &status, "--domain nr.example");
	cr_expect_eq(status, 2, "NOT READY exits 2");
	cr_expect_str_eq(sget(root, "verdict"), "NOT READY");
	cr_expect_str_eq(reason_status(root, "refusals"), "blocker");
	cr_expect_str_eq(reason_status(root, "mx"), "blocker");
	cr_expect_str_eq(reason_status(root, "policy"), "ok");
	wr = json_object_object_get(root, "would_refuse");
	cr_expect_eq(iget(wr, "sessions"), 1 + 2 + 3);
	cr_expect_eq(iget(wr, "sts_sessions"), 1600 + 1 + 2 + 3 + 1);
	cr_expect_float_eq(json_object_get_double(json_object_object_get(wr,
	    "rate")), 6.0 / 1607.0, 0.000001);
	rows = json_object_object_get(wr, "rows");
	cr_assert_eq(json_object_array_length(rows), 3);
	row = json_object_array_get_idx(rows, 0);	/* most first */
	cr_expect_str_eq(sget(row, "mx"), "nr.example");
	cr_expect_str_eq(sget(row, "result_type"), "validation-failure");
	cr_expect_eq(iget(row, "failed_sessions"), 3);
	cr_expect_str_eq(sget(json_object_array_get_idx(
	    json_object_object_get(row, "reporters"), 0), "reporter"),
	    "alpha");
	row = json_object_array_get_idx(rows, 1);
	cr_expect_str_eq(sget(row, "mx"), "a.b.nr.example");
	cr_expect_str_eq(sget(row, "result_type"), "starttls-not-supported");
	row = json_object_array_get_idx(rows, 2);
	cr_expect_str_eq(sget(row, "mx"), "mail.nr.example");
	/* RFC 8461 §4.1: "*." covers exactly one left-most label */
	cr_expect_eq(covered(root, "mail.nr.example"), 1);
	cr_expect_eq(covered(root, "mx4.nr.example"), 1);
	cr_expect_eq(covered(root, "a.b.nr.example"), 0);
	cr_expect_eq(covered(root, "nr.example"), 0);
	cr_expect_eq(covered(root, "backup.other.example"), 0);
	json_object_put(root);

	/* within --max-failure-rate the refusals pass; the MX do not */
	root = readiness(&db, &status, "--domain nr.example "
	    "--max-failure-rate 0.01");
	cr_expect_eq(status, 2);
	cr_expect_str_eq(reason_status(root, "refusals"), "ok");
	cr_expect_str_eq(reason_status(root, "mx"), "blocker");
	json_object_put(root);

	r = rtu_tlsrpt(&db, NOW, "readiness --domain nr.example");
	cr_expect_eq(r.status, 2);
	cr_expect_not_null(strstr(r.out, "readiness of nr.example: NOT "
	    "READY"), "%s", r.out);
	cr_expect_not_null(strstr(r.out, "a.b.nr.example"), "%s", r.out);
	cr_expect_not_null(strstr(r.out, "NOT COVERED"), "%s", r.out);
	cr_expect_not_null(strstr(r.out, "next: fix nr.example first"), "%s",
	    r.out);
	free(r.out);
	stu_db_drop(&db);
}

static char *
pc_old(const char *domain, int day)
{
	(void)day;
	return rtu_sts(domain, rtu_lines("testing", "mx1.pc.example"), 100, 0,
	    NULL);
}

static char *
pc_new(const char *domain, int day)
{
	(void)day;
	return rtu_sts(domain, rtu_lines("testing", "*.pc.example"), 100, 0,
	    NULL);
}

/* The same policy as pc_new, formatted another way. */
static char *
pc_new_compact(const char *domain, int day)
{
	(void)day;
	return rtu_sts(domain, "version:STSv1|mode:testing|mx:*.pc.example|"
	    "max_age:86400", 100, 0, NULL);
}

Test(readiness, policy_change_in_flight, .timeout = 60)
{
	struct stu_db		 db;
	struct store		*st;
	struct json_object	*root, *pols, *rp, *e;
	size_t			 i;
	int			 status;

	stu_db_create(&db, "rd_change");
	st = stu_open(&db, 1);
	daily(st, "Alpha", "pc.example", 0, 8, pc_old);	/* stale cache */
	daily(st, "Beta", "pc.example", 0, 4, pc_old);
	daily(st, "Beta", "pc.example", 4, 4, pc_new);
	root = readiness(&db, &status, "--domain pc.example");
	cr_expect_eq(status, 2);
	cr_expect_str_eq(sget(root, "verdict"), "NOT READY");
	cr_expect_str_eq(reason_status(root, "policy"), "blocker");
	cr_expect(json_object_get_boolean(json_object_object_get(root,
	    "policies_disagree")));
	pols = json_object_object_get(root, "policies");
	cr_assert_eq(json_object_array_length(pols), 2);
	e = json_object_array_get_idx(pols, 0);		/* P1: the newest */
	cr_expect_str_eq(sget(e, "id"), "P1");
	cr_expect_str_eq(json_object_get_string(json_object_array_get_idx(
	    json_object_object_get(e, "mx"), 0)), "*.pc.example");
	cr_expect_eq(iget(e, "reports"), 4);
	cr_expect_str_eq(sget(e, "first_day"), "2026-03-05");
	e = json_object_array_get_idx(pols, 1);
	cr_expect_str_eq(json_object_get_string(json_object_array_get_idx(
	    json_object_object_get(e, "mx"), 0)), "mx1.pc.example");
	cr_expect_eq(iget(e, "reports"), 12);
	/* which reporter saw which */
	rp = json_object_object_get(root, "reporter_policies");
	cr_assert_eq(json_object_array_length(rp), 2);
	for (i = 0; i < 2; i++) {
		e = json_object_array_get_idx(rp, i);
		if (strcmp(sget(e, "reporter"), "alpha") == 0)
			cr_expect_str_eq(sget(e, "policy"), "P2");
		else
			cr_expect_str_eq(sget(e, "policy"), "P1");
		cr_expect_str_eq(sget(e, "last_day"), "2026-03-08");
	}
	json_object_put(root);

	/* Alpha catches up; Gamma formats the same policy differently */
	daily(st, "Alpha", "pc.example", 8, 1, pc_new);
	daily(st, "Gamma", "pc.example", 8, 1, pc_new_compact);
	store_close(st);
	root = readiness(&db, &status, "--domain pc.example");
	cr_expect_eq(status, 0, "every reporter applies P1 now");
	cr_expect_str_eq(sget(root, "verdict"), "READY");
	cr_expect_str_eq(reason_status(root, "policy"), "info");
	cr_expect(!json_object_get_boolean(json_object_object_get(root,
	    "policies_disagree")));
	cr_expect_eq(json_object_array_length(json_object_object_get(root,
	    "policies")), 2, "one policy however it is formatted");
	json_object_put(root);
	stu_db_drop(&db);
}

static char *
pb_maxage(const char *domain, int day)
{
	(void)day;
	return rtu_sts(domain, "version: STSv1|mode: testing|mx: *.pb.example|"
	    "max_age: 99999999999", 100, 0, NULL);
}

static char *
pb_none(const char *domain, int day)
{
	(void)day;
	return rtu_sts(domain, "mode: none|max_age: 86400", 100, 0, NULL);
}

static char *
no_policy(const char *domain, int day)
{
	(void)day;
	return rtu_other("no-policy-found", domain, NULL, 100, 0, NULL);
}

static int
has_problem(struct json_object *root, const char *p)
{
	struct json_object	*pr;
	size_t			 i;

	pr = json_object_object_get(json_object_array_get_idx(
	    json_object_object_get(root, "policies"), 0), "problems");
	for (i = 0; i < json_object_array_length(pr); i++)
		if (strcmp(json_object_get_string(json_object_array_get_idx(
		    pr, i)), p) == 0)
			return 1;
	return 0;
}

Test(readiness, policy_problems_and_no_policy, .timeout = 60)
{
	struct stu_db		 db;
	struct store		*st;
	struct json_object	*root;
	struct rtu_run		 r;
	int			 status;

	stu_db_create(&db, "rd_problems");
	st = stu_open(&db, 1);
	daily(st, "Alpha", "pb.example", 0, 8, pb_maxage);
	daily(st, "Beta", "pb.example", 0, 8, pb_maxage);
	daily(st, "Alpha", "none.example", 0, 8, pb_none);
	daily(st, "Beta", "none.example", 0, 8, pb_none);
	daily(st, "Alpha", "np.example", 0, 8, no_policy);
	daily(st, "Beta", "np.example", 0, 8, no_policy);
	store_close(st);

	root = readiness(&db, &status, "--domain pb.example");
	cr_expect_eq(status, 2);
	cr_expect_str_eq(reason_status(root, "problems"), "blocker");
	cr_expect(has_problem(root, "bad-max-age"));
	json_object_put(root);
	r = rtu_tlsrpt(&db, NOW, "readiness --domain pb.example");
	cr_expect_not_null(strstr(r.out, "max_age out of range"), "%s", r.out);
	free(r.out);

	root = readiness(&db, &status, "--domain none.example");
	cr_expect_eq(status, 2);
	cr_expect_str_eq(reason_status(root, "problems"), "blocker");
	cr_expect(has_problem(root, "no-version"));
	json_object_put(root);
	r = rtu_tlsrpt(&db, NOW, "readiness --domain none.example");
	cr_expect_not_null(strstr(r.out, "mode none"), "%s", r.out);
	cr_expect_not_null(strstr(r.out, "no \"version: STSv1\" line"), "%s",
	    r.out);
	free(r.out);

	root = readiness(&db, &status, "--domain np.example");
	cr_expect_eq(status, 2);
	cr_expect_str_eq(reason_status(root, "policy"), "blocker");
	cr_expect_str_eq(reason_status(root, "coverage"), "ok");
	json_object_put(root);
	stu_db_drop(&db);
}

Test(readiness, bad_options_exit_3, .timeout = 60)
{
	struct stu_db	db;
	struct rtu_run	r;

	stu_db_create(&db, "rd_opts");
	free(rtu_tlsrpt(&db, NULL, "migrate").out);
	r = rtu_tlsrpt(&db, NOW, "readiness");
	cr_expect_eq(r.status, 3, "%s", r.out);
	cr_expect_not_null(strstr(r.out, "--domain"), "%s", r.out);
	free(r.out);
	r = rtu_tlsrpt(&db, NOW, "readiness --domain a.example --format csv");
	cr_expect_eq(r.status, 3, "%s", r.out);
	free(r.out);
	r = rtu_tlsrpt(&db, NOW, "readiness --domain a.example "
	    "--max-failure-rate 2");
	cr_expect_eq(r.status, 3, "%s", r.out);
	free(r.out);
	r = rtu_tlsrpt(&db, "TLSRPT_NOW=tomorrow", "readiness --domain "
	    "a.example");
	cr_expect_eq(r.status, 3, "%s", r.out);
	cr_expect_not_null(strstr(r.out, "TLSRPT_NOW"), "%s", r.out);
	free(r.out);
	stu_db_drop(&db);
}
