/*
 * test_failures.c -- `tlsrpt failures` on a fixture database whose
 * figures are worked out below: every --by grouping, alone and combined,
 * the accounting rule (an sts entry left out for its tlsa twin), the
 * window, formats and exit codes.
 *
 * Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <json-c/json.h>

#include "report_testutil.h"

/*
 * f.example over [2026-03-01, 2026-03-08):
 *  R1 Alpha 03-02  sts 90/10: starttls mx1 192.0.2.1 > 198.51.100.1
 *                  "no-starttls" 6; expired mx2 192.0.2.2 > 198.51.100.2
 *                  "expired" 4
 *  R2 Beta 03-04   sts 45/5: starttls MX1 (upper case) 192.0.2.1 >
 *                  198.51.100.1 "no-starttls" 3; fetch-error, no MX, no
 *                  receiving IP, 192.0.2.3 "404" 2
 *  R3 Alpha 03-05  sts 50/1 (host-mismatch mx3 1) and tlsa 60/7
 *                  (tlsa-invalid mx1 192.0.2.9 > 198.51.100.1 7): the
 *                  tlsa entry has more sessions, the sts one is not counted
 *  R4 Gamma 03-09  sts 10/10 starttls mx1 10: outside the window
 * Domain sessions: 100 + 50 + 67 = 217.
 * g.example: R5 Alpha 03-03 sts 7/3 fetch-error 3 (warning only).
 */
#define F_SESSIONS	217
#define G_SESSIONS	10

static void
fixture(struct stu_db *db, const char *label)
{
	struct store	*st;
	const char	*lines = rtu_lines("testing", "*.f.example");

	stu_db_create(db, label);
	st = stu_open(db, 1);
	rtu_put(st, "Alpha", "r1", "2026-03-02", rtu_sts("f.example", lines,
	    90, 10, stu_join(
	    rtu_detail("starttls-not-supported", "mx1.f.example", "192.0.2.1",
	    "198.51.100.1", "no-starttls", 6),
	    rtu_detail("certificate-expired", "mx2.f.example", "192.0.2.2",
	    "198.51.100.2", "expired", 4), NULL)));
	rtu_put(st, "Beta", "r2", "2026-03-04", rtu_sts("f.example", lines,
	    45, 5, stu_join(
	    rtu_detail("starttls-not-supported", "MX1.F.EXAMPLE", "192.0.2.1",
	    "198.51.100.1", "no-starttls", 3),
	    rtu_detail("sts-policy-fetch-error", NULL, "192.0.2.3", NULL,
	    "404", 2), NULL)));
	rtu_put(st, "Alpha", "r3", "2026-03-05", stu_join(
	    rtu_sts("f.example", lines, 50, 1, rtu_detail(
	    "certificate-host-mismatch", "mx3.f.example", "192.0.2.1",
	    "198.51.100.3", NULL, 1)),
	    rtu_other("tlsa", "f.example", "mx1.f.example", 60, 7, rtu_detail(
	    "tlsa-invalid", "mx1.f.example", "192.0.2.9", "198.51.100.1",
	    NULL, 7)), NULL));
	rtu_put(st, "Gamma", "r4", "2026-03-09", rtu_sts("f.example", lines,
	    10, 10, rtu_detail("starttls-not-supported", "mx1.f.example",
	    "192.0.2.1", "198.51.100.1", NULL, 10)));
	rtu_put(st, "Alpha", "r5", "2026-03-03", rtu_sts("g.example", lines,
	    7, 3, rtu_detail("sts-policy-fetch-error", NULL, NULL, NULL, NULL,
	    3)));
	store_close(st);
}

/* What one row must say. */
struct want {
	const char	*domain;
	const char	*k1, *v1;	/* key and value */
	const char	*k2, *v2;	/* NULL: one key */
	long		 failed;
	long		 sessions;
	long		 reporters;
	const char	*first, *last;
	const char	*reason;	/* the top reason code, or NULL */
};

static const char *
sval(struct json_object *o, const char *k)
{
	struct json_object	*v;

	cr_assert(json_object_object_get_ex(o, k, &v), "no key %s in %s", k,
	    json_object_to_json_string(o));
	return json_object_get_string(v);
}

static long
ival(struct json_object *o, const char *k)
{
	struct json_object	*v;

	cr_assert(json_object_object_get_ex(o, k, &v), "no key %s", k);
	return (long)json_object_get_int64(v);
}

/* Runs failures --by BY over the window, checks every row of want
 * (and that there are exactly n rows). */
static void
check_by(const struct stu_db *db, const char *by, const struct want *w,
    size_t n)
{
	struct rtu_run		 r;
	struct json_object	*root, *rows, *row, *rc;
	size_t			 i, j;
	int			 found;

	r = rtu_tlsrpt(db, NULL, "failures --since 2026-03-01 --until "
	    "2026-03-08 --by %s --format json", by);
	root = json_tokener_parse(r.out);
	cr_assert_not_null(root, "not JSON: %s", r.out);
	cr_assert(json_object_object_get_ex(root, "rows", &rows));
	cr_expect_eq(json_object_array_length(rows), n, "--by %s: %zu rows,"
	    " want %zu: %s", by, json_object_array_length(rows), n, r.out);
	for (j = 0; j < n; j++) {
		found = 0;
		for (i = 0; i < json_object_array_length(rows); i++) {
			row = json_object_array_get_idx(rows, i);
			if (strcmp(sval(row, "domain"), w[j].domain) != 0 ||
			    strcmp(sval(row, w[j].k1), w[j].v1) != 0 ||
			    (w[j].k2 != NULL && strcmp(sval(row, w[j].k2),
			    w[j].v2) != 0))
				continue;
			found = 1;
			cr_expect_eq(ival(row, "failed_sessions"),
			    w[j].failed, "--by %s %s: failed", by, w[j].v1);
			cr_expect_eq(ival(row, "domain_sessions"),
			    w[j].sessions, "--by %s %s", by, w[j].v1);
			cr_expect_float_eq(json_object_get_double(
			    json_object_object_get(row, "share")),
			    (double)w[j].failed / (double)w[j].sessions,
			    0.0001);
			cr_expect_eq(ival(row, "reporters"), w[j].reporters,
			    "--by %s %s: reporters", by, w[j].v1);
			cr_expect_str_eq(sval(row, "first_day"), w[j].first);
			cr_expect_str_eq(sval(row, "last_day"), w[j].last);
			rc = json_object_object_get(row, "reason_codes");
			if (w[j].reason == NULL)
				cr_expect_eq(json_object_array_length(rc), 0);
			else
				cr_expect_str_eq(sval(
				    json_object_array_get_idx(rc, 0), "code"),
				    w[j].reason);
		}
		cr_expect(found, "--by %s: no row %s %s=%s%s%s in %s", by,
		    w[j].domain, w[j].k1, w[j].v1, w[j].k2 ? " " : "",
		    w[j].k2 ? w[j].v2 : "", r.out);
	}
	cr_expect_eq(r.status, 2, "critical result types: exit 2");
	json_object_put(root);
	free(r.out);
}

#define F	"f.example"
#define G	"g.example"

Test(failures, by_result_type, .timeout = 60)
{
	struct stu_db		db;
	const struct want	w[] = {
		{ F, "result_type", "starttls-not-supported", NULL, NULL, 6 + 3,
		    F_SESSIONS, 2, "2026-03-02", "2026-03-04", "no-starttls" },
		{ F, "result_type", "tlsa-invalid", NULL, NULL, 7, F_SESSIONS,
		    1, "2026-03-05", "2026-03-05", NULL },
		{ F, "result_type", "certificate-expired", NULL, NULL, 4,
		    F_SESSIONS, 1, "2026-03-02", "2026-03-02", "expired" },
		{ F, "result_type", "sts-policy-fetch-error", NULL, NULL, 2,
		    F_SESSIONS, 1, "2026-03-04", "2026-03-04", "404" },
		{ G, "result_type", "sts-policy-fetch-error", NULL, NULL, 3,
		    G_SESSIONS, 1, "2026-03-03", "2026-03-03", NULL },
	};

	fixture(&db, "fail_rt");
	check_by(&db, "result-type", w, sizeof(w) / sizeof(w[0]));
	stu_db_drop(&db);
}

Test(failures, by_mx, .timeout = 60)
{
	struct stu_db		db;
	const struct want	w[] = {
		{ F, "mx", "mx1.f.example", NULL, NULL, 6 + 3 + 7, F_SESSIONS,
		    2, "2026-03-02", "2026-03-05", "no-starttls" },
		{ F, "mx", "mx2.f.example", NULL, NULL, 4, F_SESSIONS, 1,
		    "2026-03-02", "2026-03-02", "expired" },
		{ F, "mx", "", NULL, NULL, 2, F_SESSIONS, 1, "2026-03-04",
		    "2026-03-04", "404" },
		{ G, "mx", "", NULL, NULL, 3, G_SESSIONS, 1, "2026-03-03",
		    "2026-03-03", NULL },
	};

	fixture(&db, "fail_mx");
	check_by(&db, "mx", w, sizeof(w) / sizeof(w[0]));
	stu_db_drop(&db);
}

Test(failures, by_reporter, .timeout = 60)
{
	struct stu_db		db;
	const struct want	w[] = {
		{ F, "reporter", "alpha", NULL, NULL, 6 + 4 + 7, F_SESSIONS, 1,
		    "2026-03-02", "2026-03-05", "no-starttls" },
		{ F, "reporter", "beta", NULL, NULL, 3 + 2, F_SESSIONS, 1,
		    "2026-03-04", "2026-03-04", "no-starttls" },
		{ G, "reporter", "alpha", NULL, NULL, 3, G_SESSIONS, 1,
		    "2026-03-03", "2026-03-03", NULL },
	};

	fixture(&db, "fail_rep");
	check_by(&db, "reporter", w, sizeof(w) / sizeof(w[0]));
	stu_db_drop(&db);
}

Test(failures, by_sending_ip, .timeout = 60)
{
	struct stu_db		db;
	const struct want	w[] = {
		{ F, "sending_ip", "192.0.2.1", NULL, NULL, 9, F_SESSIONS, 2,
		    "2026-03-02", "2026-03-04", "no-starttls" },
		{ F, "sending_ip", "192.0.2.9", NULL, NULL, 7, F_SESSIONS, 1,
		    "2026-03-05", "2026-03-05", NULL },
		{ F, "sending_ip", "192.0.2.2", NULL, NULL, 4, F_SESSIONS, 1,
		    "2026-03-02", "2026-03-02", "expired" },
		{ F, "sending_ip", "192.0.2.3", NULL, NULL, 2, F_SESSIONS, 1,
		    "2026-03-04", "2026-03-04", "404" },
		{ G, "sending_ip", "", NULL, NULL, 3, G_SESSIONS, 1,
		    "2026-03-03", "2026-03-03", NULL },
	};

	fixture(&db, "fail_sip");
	check_by(&db, "sending-ip", w, sizeof(w) / sizeof(w[0]));
	stu_db_drop(&db);
}

Test(failures, by_receiving_ip, .timeout = 60)
{
	struct stu_db		db;
	const struct want	w[] = {
		{ F, "receiving_ip", "198.51.100.1", NULL, NULL, 6 + 3 + 7,
		    F_SESSIONS, 2, "2026-03-02", "2026-03-05", "no-starttls" },
		{ F, "receiving_ip", "198.51.100.2", NULL, NULL, 4, F_SESSIONS,
		    1, "2026-03-02", "2026-03-02", "expired" },
		{ F, "receiving_ip", "", NULL, NULL, 2, F_SESSIONS, 1,
		    "2026-03-04", "2026-03-04", "404" },
		{ G, "receiving_ip", "", NULL, NULL, 3, G_SESSIONS, 1,
		    "2026-03-03", "2026-03-03", NULL },
	};

	fixture(&db, "fail_rip");
	check_by(&db, "receiving-ip", w, sizeof(w) / sizeof(w[0]));
	stu_db_drop(&db);
}

Test(failures, by_mx_and_result_type, .timeout = 60)
{
	struct stu_db		db;
	const struct want	w[] = {
		{ F, "mx", "mx1.f.example", "result_type",
		    "starttls-not-supported", 9, F_SESSIONS, 2, "2026-03-02",
		    "2026-03-04", "no-starttls" },
		{ F, "mx", "mx1.f.example", "result_type", "tlsa-invalid", 7,
		    F_SESSIONS, 1, "2026-03-05", "2026-03-05", NULL },
		{ F, "mx", "mx2.f.example", "result_type",
		    "certificate-expired", 4, F_SESSIONS, 1, "2026-03-02",
		    "2026-03-02", "expired" },
		{ F, "mx", "", "result_type", "sts-policy-fetch-error", 2,
		    F_SESSIONS, 1, "2026-03-04", "2026-03-04", "404" },
		{ G, "mx", "", "result_type", "sts-policy-fetch-error", 3,
		    G_SESSIONS, 1, "2026-03-03", "2026-03-03", NULL },
	};

	fixture(&db, "fail_combo");
	check_by(&db, "mx,result-type", w, sizeof(w) / sizeof(w[0]));
	/* the same as two --by options */
	check_by(&db, "mx --by result-type", w, sizeof(w) / sizeof(w[0]));
	stu_db_drop(&db);
}

Test(failures, formats_and_exit_codes, .timeout = 60)
{
	struct stu_db	db;
	struct rtu_run	r;

	fixture(&db, "fail_fmt");
	/* most failed first: starttls (9) heads f.example in text */
	r = rtu_tlsrpt(&db, NULL, "failures --since 2026-03-01 --until "
	    "2026-03-08 --domain f.example");
	cr_expect_eq(r.status, 2, "%s", r.out);
	cr_expect_not_null(strstr(r.out, "\nf.example  starttls-not-supported"
	    "         9   4.15%         2  2026-03-02  2026-03-04  "
	    "no-starttls (9)\n"), "%s", r.out);
	cr_expect_null(strstr(r.out, "g.example"), "--domain: %s", r.out);
	cr_expect_null(strstr(r.out, "certificate-host-mismatch"),
	    "an uncounted sts entry: %s", r.out);
	free(r.out);
	r = rtu_tlsrpt(&db, NULL, "failures --since 2026-03-01 --until "
	    "2026-03-08 --by reporter,mx --format csv");
	cr_expect_not_null(strstr(r.out, "domain,reporter,mx,failed_sessions,"
	    "domain_sessions,share,severity,reporters,first_day,last_day,"
	    "reason_codes\n"), "%s", r.out);
	cr_expect_not_null(strstr(r.out, "f.example,alpha,mx1.f.example,13,"
	    "217,0.0599,critical,1,2026-03-02,2026-03-05,no-starttls=6\n"),
	    "%s", r.out);
	free(r.out);
	/* warning-level types only: exit 1 */
	r = rtu_tlsrpt(&db, NULL, "failures --domain g.example");
	cr_expect_eq(r.status, 1, "%s", r.out);
	free(r.out);
	/* R4 alone (the day after the window): critical */
	r = rtu_tlsrpt(&db, NULL, "failures --since 2026-03-09 --domain "
	    "f.example --format json");
	cr_expect_eq(r.status, 2, "%s", r.out);
	cr_expect_not_null(strstr(r.out, "\"failed_sessions\": 10"), "%s",
	    r.out);
	free(r.out);
	/* nothing failed: exit 0 */
	r = rtu_tlsrpt(&db, NULL, "failures --since 2026-04-01");
	cr_expect_eq(r.status, 0, "%s", r.out);
	cr_expect_not_null(strstr(r.out, "No failures"), "%s", r.out);
	free(r.out);
	/* bad options: exit 3 */
	r = rtu_tlsrpt(&db, NULL, "failures --by mx,color");
	cr_expect_eq(r.status, 3, "%s", r.out);
	cr_expect_not_null(strstr(r.out, "color"), "%s", r.out);
	free(r.out);
	r = rtu_tlsrpt(&db, NULL, "failures --days 0");
	cr_expect_eq(r.status, 3, "%s", r.out);
	free(r.out);
	r = rtu_tlsrpt(&db, NULL, "failures --help");
	cr_expect_eq(r.status, 0, "%s", r.out);
	free(r.out);
	stu_db_drop(&db);
}
