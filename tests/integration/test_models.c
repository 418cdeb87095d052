/*
 * test_models.c -- the models of model/ (summary, failures, readiness,
 * digest) through their C API, as the web dashboard will call them, and
 * the CLI's text, JSON and CSV writers of the same answers, byte for
 * byte, over two reports of the corpus.  Needs PostgreSQL.
 *
 * Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
 *
 * The figures, worked out by hand from the two files:
 *
 * rfc8460-example_parsedmarc.json (RFC 8460 appendix B), reporter
 * Company-X (a reporter is named in lower case, issue 13: company-x),
 * 2016-04-01, one sts policy for company-y.example in mode
 * testing with mx *.mail.company-y.example: 5326 successful and 303
 * failed sessions, 5629 in all, failure rate 303 / 5629 = 0.053828...
 * (5.38 %).  Failures: starttls-not-supported at
 * mx2.mail.company-y.example 200 (share 200 / 5629 = 3.55 %),
 * certificate-expired at mx1 100 (1.78 %), validation-failure at
 * mx-backup 3 (0.05 %, reason X509_V_ERR_PROXY_PATH_LENGTH_EXCEEDED).
 * All three are critical, so the domain is CRITICAL; all three refuse
 * mail under enforce: 303 refused of 5629 sts sessions; every MX name
 * has one label before mail.company-y.example, so *. covers all three.
 *
 * microsoft_dmarc-report-viewer_sts-tlsa.json, reporter Microsoft
 * Corporation, 2025-05-23, random.net: an sts and a tlsa entry of 2
 * successful sessions each, the same sessions (DESIGN.md accounting):
 * 2 sessions, none failed, ok.
 *
 * Two reports, two domains, no conflicting copy.
 */

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "digest.h"
#include "failures.h"
#include "readiness.h"
#include "report_testutil.h"
#include "summary.h"
#include "testutil.h"

#define RFC	"rfc8460-example_parsedmarc.json"
#define MS	"microsoft_dmarc-report-viewer_sts-tlsa.json"
#define CY	"company-y.example"

static struct stu_db	db;

static void
setup(void)
{
	struct rtu_run	r;

	stu_db_create(&db, "models");
	r = rtu_tlsrpt(&db, NULL, "migrate");
	cr_assert_eq(r.status, 0, "%s", r.out);
	free(r.out);
	r = rtu_tlsrpt(&db, NULL, "import %s/" RFC " %s/" MS,
	    tu_corpus_dir(), tu_corpus_dir());
	cr_assert_eq(r.status, 0, "%s", r.out);
	free(r.out);
}

static void
teardown(void)
{
	stu_db_drop(&db);
}

TestSuite(models, .init = setup, .fini = teardown, .timeout = 120);

/* The whole output of `tlsrpt ARGS` must be want, and the exit code. */
static void
expect_cli(const char *args, int status, const char *want)
{
	struct rtu_run	r;

	r = rtu_tlsrpt(&db, "TLSRPT_NOW=2026-01-01T00:00:00Z", "%s", args);
	cr_expect_eq(r.status, status, "%s: exit %d, want %d", args, r.status,
	    status);
	cr_expect_str_eq(r.out, want, "%s:\n--- got\n%s--- want\n%s", args,
	    r.out, want);
	free(r.out);
}

static int
near(double a, double b)
{
	return fabs(a - b) < 1e-12;
}

static struct store_window
window(int64_t since, int64_t until)
{
	struct store_window	w;

	memset(&w, 0, sizeof(w));
	w.since = since;
	w.until = until;
	return w;
}

Test(models, summary_model)
{
	struct store		*st = stu_open(&db, 0);
	struct store_window	 w = window(WINDOW_START_OF_TIME,
				    WINDOW_END_OF_TIME);
	struct summary		 sm;
	const struct summary_domain *d;

	cr_assert_eq(summary_compute(st, &w, &sm), 0, "%s", store_errstr(st));
	cr_expect_eq(sm.totals.reports, 2);
	cr_expect_eq(sm.totals.domains, 2);
	cr_expect_eq(sm.totals.conflicting, 0);
	cr_expect_eq(sm.worst, ML_CRITICAL);
	cr_assert_eq(sm.ndomains, 2);
	d = &sm.domains[0];			/* by name */
	cr_expect_str_eq(d->domain, CY);
	cr_expect_eq(d->reports, 1);
	cr_expect_eq(d->reporters, 1);
	cr_expect_eq(d->successful, 5326);
	cr_expect_eq(d->failed, 303);
	cr_expect_eq(d->sessions, 5629);
	cr_expect(near(d->failure_rate, 303.0 / 5629.0), "%f",
	    d->failure_rate);
	cr_expect_eq(d->status, ML_CRITICAL);
	cr_assert_eq(d->nflags, 3);
	cr_expect_str_eq(d->flags[0].type, "starttls-not-supported");
	cr_expect_eq(d->flags[0].failed_sessions, 200);
	cr_expect_str_eq(d->flags[0].severity, "critical");
	cr_expect_eq(d->flags[0].level, ML_CRITICAL);
	cr_expect_not_null(strstr(d->flags[0].meaning, "STARTTLS"));
	cr_expect_str_eq(d->flags[1].type, "certificate-expired");
	cr_expect_eq(d->flags[1].failed_sessions, 100);
	cr_expect_str_eq(d->flags[2].type, "validation-failure");
	cr_expect_eq(d->flags[2].failed_sessions, 3);
	d = &sm.domains[1];
	cr_expect_str_eq(d->domain, "random.net");
	cr_expect_eq(d->successful, 2, "sts and tlsa: the same 2 sessions");
	cr_expect_eq(d->sessions, 2);
	cr_expect(near(d->failure_rate, 0.0));
	cr_expect_eq(d->status, ML_NONE);
	cr_expect_eq(d->nflags, 0);
	cr_expect_eq(sm.by_status[0], 0, "critical first");
	cr_expect_eq(sm.by_status[1], 1);
	summary_free(&sm);
	store_close(st);
}

Test(models, failures_model)
{
	struct store		*st = stu_open(&db, 0);
	struct store_window	 w = window(WINDOW_START_OF_TIME,
				    WINDOW_END_OF_TIME);
	struct failures_by	 by;
	struct failures		 fs;
	const char		*bad;
	size_t			 badlen;

	memset(&by, 0, sizeof(by));
	cr_expect_eq(failures_parse_by(&by, "mx,nope", &bad, &badlen), -1);
	cr_expect_eq(badlen, 4);
	cr_expect_eq(strncmp(bad, "nope", badlen), 0);
	memset(&by, 0, sizeof(by));
	cr_assert_eq(failures_parse_by(&by, "mx,result-type,mx", &bad,
	    &badlen), 0);
	cr_assert_eq(by.nkeys, 2, "each key once");
	cr_assert_eq(failures_compute(st, &w, &by, FAILURES_REASONS_MAX, &fs),
	    0, "%s", store_errstr(st));
	cr_expect_eq(fs.failed, 303);
	cr_expect_eq(fs.worst, ML_CRITICAL);
	cr_assert_eq(fs.nrows, 3);
	cr_expect_str_eq(fs.rows[0].domain, CY);
	cr_expect_str_eq(fs.rows[0].key[0], "mx2.mail.company-y.example");
	cr_expect_str_eq(fs.rows[0].key[1], "starttls-not-supported");
	cr_expect_eq(fs.rows[0].failed, 200);
	cr_expect_eq(fs.rows[0].domain_sessions, 5629);
	cr_expect(near(fs.rows[0].share, 200.0 / 5629.0));
	cr_expect_eq(fs.rows[0].severity, ML_CRITICAL);
	cr_expect_eq(fs.rows[0].reporters, 1);
	cr_expect_str_eq(fs.rows[1].key[0], "mx1.mail.company-y.example");
	cr_expect(near(fs.rows[1].share, 100.0 / 5629.0));
	cr_expect_str_eq(fs.rows[2].key[0], "mx-backup.mail.company-y.example");
	cr_expect(near(fs.rows[2].share, 3.0 / 5629.0));
	cr_assert_eq(fs.rows[2].nreasons, 1);
	cr_expect_str_eq(fs.rows[2].reasons[0].name,
	    "X509_V_ERR_PROXY_PATH_LENGTH_EXCEEDED");
	cr_expect_eq(fs.rows[2].reasons[0].n, 3);
	failures_free(&fs);
	store_close(st);
}

Test(models, readiness_and_digest_models)
{
	struct store		*st = stu_open(&db, 0);
	const char		*doms[] = { CY };
	struct store_window	 w;
	struct rd_limits	 lim;
	struct readiness	 rd;
	const struct rd_eval	*ev;
	struct digest		 dg;
	const struct digest_domain *d;
	int64_t			 day;
	size_t			 i;

	/* 2016-04-01T00:00:00Z */
	day = 1459468800;
	w = window(day, day + 86400);
	w.domains = doms;
	w.ndomains = 1;
	rd_limits_default(&lim);
	cr_assert_eq(readiness_compute(st, &w, &lim, &rd), 0, "%s",
	    store_errstr(st));
	cr_expect_eq(rd.lim.window_days, 1);
	cr_expect_eq(rd.lim.min_days, 7);
	cr_assert_eq(rd.ndomains, 1);
	ev = &rd.domains[0].ev;
	cr_expect_eq(ev->verdict, RD_NOT_READY, "303 refusals block");
	cr_expect_eq(ev->refused, 303);
	cr_expect(near(ev->refused_rate, 303.0 / 5629.0));
	cr_expect_eq(rd.domains[0].data->nhosts, 3);
	for (i = 0; i < rd.domains[0].data->nhosts; i++)
		cr_expect_eq(ev->covered[i], 1, "%s",
		    rd.domains[0].data->hosts[i].name);
	cr_expect_eq(ev->nuncovered, 0);
	readiness_free(&rd);

	w = window(day, day + 86400);
	cr_assert_eq(digest_compute(&dg, st, &w), 0, "%s", store_errstr(st));
	cr_expect_eq(dg.prev_since, day - 86400);
	cr_assert_eq(dg.ndoms, 1, "random.net reported in 2025 only");
	d = &dg.doms[0];
	cr_expect_str_eq(d->name, CY);
	cr_expect_eq(d->status, DG_CRITICAL);
	cr_expect_eq(d->sessions, 5629);
	cr_expect_eq(d->prev_sessions, 0);
	cr_expect(near(d->frate, 303.0 / 5629.0));
	cr_expect(near(d->prev_frate, 0.0));
	cr_expect_eq(d->nnew_rts, 3, "nothing failed the day before");
	cr_expect_eq(d->nnew_mxs, 3);
	cr_expect_eq(d->nsilent, 0);
	cr_assert_not_null(d->rd, "mode testing: a verdict");
	cr_expect_eq(d->ev.verdict, RD_NOT_READY);
	cr_expect_eq(dg.worst, DG_CRITICAL);
	cr_expect_eq(dg.count[DG_CRITICAL], 1);
	digest_free(&dg);
	store_close(st);
}

Test(models, summary_writers)
{
	expect_cli("summary", 2,
"TLS reports: every stored report (UTC): 2 reports, 2 domains\n"
"\n"
"DOMAIN             REPORTS REPORTERS   SUCCESSFUL     FAILED  FAILED%  STATUS\n"
"company-y.example        1         1         5326        303    5.38%  CRITICAL\n"
"random.net               1         1            2          0    0.00%  ok\n"
"\n"
"Failed sessions by result type:\n"
"  company-y.example critical starttls-not-supported          200  "
"an MX did not offer STARTTLS: downgrade attack or misconfigured MX\n"
"  company-y.example critical certificate-expired             100  "
"an MX presented an expired certificate: renew it\n"
"  company-y.example critical validation-failure                3  "
"the sender could not validate the MX: see failure-reason-code\n");
	expect_cli("summary --format csv", 2,
"domain,reports,reporters,successful_sessions,failed_sessions,"
"failure_rate,status,result_types\n"
"company-y.example,1,1,5326,303,0.0538,critical,"
"starttls-not-supported=200 certificate-expired=100 validation-failure=3\n"
"random.net,1,1,2,0,0.0000,ok,\n");
	expect_cli("summary --since 2016-04-01 --until 2016-04-02 --format json",
	    2,
"{\"since\": \"2016-04-01T00:00:00Z\", \"until\": \"2016-04-02T00:00:00Z\",\n"
" \"totals\": {\"reports\": 1, \"domains\": 1, \"conflicting_copies\": 0},\n"
" \"conflicting_copies\": 0,\n"
" \"domains\": [\n"
"  {\"domain\": \"company-y.example\", \"reports\": 1, \"reporters\": 1,\n"
"   \"successful_sessions\": 5326, \"failed_sessions\": 303, "
"\"failure_rate\": 0.0538,\n"
"   \"result_types\": {\"starttls-not-supported\": 200, "
"\"certificate-expired\": 100, \"validation-failure\": 3},\n"
"   \"flags\": [{\"type\": \"starttls-not-supported\", \"severity\": "
"\"critical\", \"failed_sessions\": 200, \"meaning\": \"an MX did not offer "
"STARTTLS: downgrade attack or misconfigured MX\"},\n"
"             {\"type\": \"certificate-expired\", \"severity\": "
"\"critical\", \"failed_sessions\": 100, \"meaning\": \"an MX presented an "
"expired certificate: renew it\"},\n"
"             {\"type\": \"validation-failure\", \"severity\": "
"\"critical\", \"failed_sessions\": 3, \"meaning\": \"the sender could not "
"validate the MX: see failure-reason-code\"}]}]}\n");
	expect_cli("summary --domain random.net", 0,
"TLS reports: every stored report (UTC): 1 report, 1 domain\n"
"\n"
"DOMAIN      REPORTS REPORTERS   SUCCESSFUL     FAILED  FAILED%  STATUS\n"
"random.net        1         1            2          0    0.00%  ok\n");
}

Test(models, failures_writers)
{
	expect_cli("failures --by mx,result-type", 2,
"Failed sessions by mx, result-type, every stored report: 303 failed "
"sessions\n"
"\n"
"DOMAIN             MX                                RESULT TYPE           "
"    FAILED   SHARE REPORTERS  FIRST       LAST        REASON CODES\n"
"company-y.example  mx2.mail.company-y.example        starttls-not-supported"
"       200   3.55%         1  2016-04-01  2016-04-01  -\n"
"company-y.example  mx1.mail.company-y.example        certificate-expired   "
"       100   1.78%         1  2016-04-01  2016-04-01  -\n"
"company-y.example  mx-backup.mail.company-y.example  validation-failure    "
"         3   0.05%         1  2016-04-01  2016-04-01  "
"X509_V_ERR_PROXY_PATH_LENGTH_EXCEEDED (3)\n");
	expect_cli("failures --by reporter --format csv", 2,
"domain,reporter,failed_sessions,domain_sessions,share,severity,reporters,"
"first_day,last_day,reason_codes\n"
"company-y.example,company-x,303,5629,0.0538,critical,1,2016-04-01,"
"2016-04-01,X509_V_ERR_PROXY_PATH_LENGTH_EXCEEDED=3\n");
	expect_cli("failures --by receiving-ip --domain " CY " --format json", 2,
"{\"since\": \"0001-01-01T00:00:00Z\", \"until\": \"10000-01-01T00:00:00Z\", "
"\"by\": [\"receiving-ip\"], \"conflicting_copies\": 0,\n"
" \"rows\": [\n"
"  {\"domain\": \"company-y.example\", \"receiving_ip\": \"203.0.113.56\", "
"\"failed_sessions\": 200, \"domain_sessions\": 5629, \"share\": 0.0355,\n"
"   \"severity\": \"critical\", \"reporters\": 1, \"first_day\": "
"\"2016-04-01\", \"last_day\": \"2016-04-01\",\n"
"   \"result_types\": {\"starttls-not-supported\": 200}, \"reason_codes\": "
"[], \"top_reporters\": [{\"reporter\": \"company-x\", \"failed_sessions\": "
"200}]},\n"
"  {\"domain\": \"company-y.example\", \"receiving_ip\": \"\", "
"\"failed_sessions\": 100, \"domain_sessions\": 5629, \"share\": 0.0178,\n"
"   \"severity\": \"critical\", \"reporters\": 1, \"first_day\": "
"\"2016-04-01\", \"last_day\": \"2016-04-01\",\n"
"   \"result_types\": {\"certificate-expired\": 100}, \"reason_codes\": [], "
"\"top_reporters\": [{\"reporter\": \"company-x\", \"failed_sessions\": "
"100}]},\n"
"  {\"domain\": \"company-y.example\", \"receiving_ip\": \"203.0.113.58\", "
"\"failed_sessions\": 3, \"domain_sessions\": 5629, \"share\": 0.0005,\n"
"   \"severity\": \"critical\", \"reporters\": 1, \"first_day\": "
"\"2016-04-01\", \"last_day\": \"2016-04-01\",\n"
"   \"result_types\": {\"validation-failure\": 3}, \"reason_codes\": "
"[{\"code\": \"X509_V_ERR_PROXY_PATH_LENGTH_EXCEEDED\", \"failed_sessions\": "
"3}], \"top_reporters\": [{\"reporter\": \"company-x\", \"failed_sessions\": "
"3}]}]}\n");
	expect_cli("failures --domain random.net", 0,
"Failed sessions by result-type, every stored report: 0 failed sessions\n"
"\n"
"No failures in this window.\n");
}

Test(models, readiness_writers)
{
	struct rtu_run	r;

	r = rtu_tlsrpt(&db, "TLSRPT_NOW=2016-04-02T06:00:00Z",
	    "readiness --domain " CY " --days 1 --format json");
	cr_expect_eq(r.status, 2, "NOT READY: %s", r.out);
	cr_expect_not_null(strstr(r.out, "\"verdict\": \"NOT READY\""), "%s",
	    r.out);
	cr_expect_not_null(strstr(r.out, "\"coverage\": {\"days\": 1, "
	    "\"window_days\": 1, \"reports\": 1, \"min_days\": 7, "
	    "\"min_reporters\": 2, \"reporters\": [{\"reporter\": "
	    "\"company-x\", \"days\": 1}]}"), "%s", r.out);
	cr_expect_not_null(strstr(r.out, "\"would_refuse\": {\"sessions\": 303,"
	    " \"sts_sessions\": 5629, \"rate\": 0.053828, \"max_rate\": "
	    "0.000000"), "%s", r.out);
	cr_expect_not_null(strstr(r.out, "{\"host\": "
	    "\"mx-backup.mail.company-y.example\", \"failed_sessions\": 3, "
	    "\"covered\": true}"), "%s", r.out);
	free(r.out);
	r = rtu_tlsrpt(&db, "TLSRPT_NOW=2016-04-02T06:00:00Z",
	    "readiness --domain " CY " --days 1");
	cr_expect_eq(r.status, 2);
	cr_expect_not_null(strstr(r.out, "MTA-STS readiness of " CY
	    ": NOT READY\n(reports starting from 2016-04-01T00:00:00Z before "
	    "2016-04-02T00:00:00Z)\n"), "%s", r.out);
	cr_expect_not_null(strstr(r.out, "Sessions enforce would refuse (303, "
	    "5.38%):\n"), "%s", r.out);
	cr_expect_not_null(strstr(r.out, "  mx-backup.mail.company-y.example"
	    "         covered     3 failed\n"), "%s", r.out);
	free(r.out);
}
