/*
 * test_prune.c -- `tlsrpt prune` against a real PostgreSQL: what goes
 * and what stays, table by table, with the figures worked out below;
 * --dry-run; and a prune while the real tlsrpt-httpd is storing.
 *
 * Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
 */

#define _GNU_SOURCE
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "daemon_testutil.h"
#include "store_testutil.h"
#include "testutil.h"
#include "util.h"

/*
 * The clock of every prune here: 2026-03-11 12:00 UTC.  --older-than 30
 * keeps the 30 days before 2026-03-11 00:00, so the cutoff is
 * 2026-03-11 - 30 days = 2026-02-09T00:00:00Z.
 */
#define NOW		"2026-03-11T12:00:00Z"
#define CUTOFF		"2026-02-09T00:00:00Z"

static struct stu_db	 tdb;
static int		 have_db;
static char		 tdir[256];
static pid_t		 httpd_pid;

static void
setup(void)
{
	snprintf(tdir, sizeof(tdir), "/tmp/tlsrpt-prune-test.XXXXXX");
	cr_assert_not_null(mkdtemp(tdir));
	have_db = 0;
	httpd_pid = 0;
}

static void
teardown(void)
{
	int	st;

	if (httpd_pid > 0)
		(void)dtu_stop(httpd_pid, SIGKILL, 200, &st);
	if (have_db)
		stu_db_drop(&tdb);
	if (tdir[0] != '\0' && getenv("TLSRPT_TEST_KEEP") == NULL)
		(void)!system(dtu_S("rm -rf '%s'", tdir));
}

TestSuite(prune, .init = setup, .fini = teardown, .timeout = 180);

struct run {
	int	 status;
	char	*out;		/* stdout and stderr, malloc'd */
};

/* TLSRPT_NOW=NOW tlsrpt ARGS --db (this test's database). */
static struct run
tlsrpt(const char *fmt, ...)
{
	struct run	 r = { 0, NULL };
	struct tu_str	 out = { 0 };
	char		*args = NULL, *cmd = NULL, line[4096];
	va_list		 ap;
	FILE		*p;
	int		 st;

	va_start(ap, fmt);
	cr_assert_geq(vasprintf(&args, fmt, ap), 0);
	va_end(ap);
	cr_assert_geq(asprintf(&cmd, "TLSRPT_NOW=%s %s %s --db '%s' 2>&1",
	    NOW, dtu_bin("TLSRPT_BIN", "bin/tlsrpt"), args, tdb.conninfo), 0);
	p = popen(cmd, "r");
	cr_assert_not_null(p, "cannot run %s", cmd);
	tu_str_add(&out, "%s", "");
	while (fgets(line, sizeof(line), p) != NULL)
		tu_str_add(&out, "%s", line);
	st = pclose(p);
	cr_assert(WIFEXITED(st), "%s: did not exit", cmd);
	r.status = WEXITSTATUS(st);
	r.out = out.s;
	free(args);
	free(cmd);
	return r;
}

/* Store n report JSONs (each parsed, then freed) as arrived at t. */
static void
put(struct store *st, char **json, size_t n, const char *when)
{
	struct tlsrpt_report	**reps;
	struct store_arrival	 *arr;
	enum store_outcome	 *out;
	int64_t			  t;
	size_t			  i;

	cr_assert_eq(util_parse_date_or_datetime(when, &t), 0);
	reps = calloc(n, sizeof(*reps));
	arr = calloc(n, sizeof(*arr));
	out = calloc(n, sizeof(*out));
	cr_assert(reps != NULL && arr != NULL && out != NULL);
	for (i = 0; i < n; i++) {
		reps[i] = stu_parse(json[i]);
		arr[i].source = "file";
		arr[i].origin = "test";
		arr[i].received_at = t;
	}
	cr_assert_eq(store_put_reports(st, reps, arr, n, out), 0, "%s",
	    store_errstr(st));
	for (i = 0; i < n; i++) {
		cr_assert_neq(out[i], STORE_FAILED, "report %zu: %s", i,
		    store_put_why(st, i));
		tlsrpt_report_free(reps[i]);
	}
	free(reps);
	free(arr);
	free(out);
}

/*
 * A report of day DAY: sts a.example 100 ok, 3 failed (2
 * certificate-expired at mx1, 1 starttls-not-supported at mx2), and sts
 * b.example 50 ok.  2 policies, 2 failure details; in the rollup 4 rows
 * (a totals, a's 2 failure rows, b totals).
 */
static char *
day_report(const char *id, const char *day)
{
	char	*pa, *pb;

	pa = stu_policy("sts", "a.example", 100, 3, stu_join(
	    stu_detail("certificate-expired", "mx1.a.example", 2),
	    stu_detail("starttls-not-supported", "mx2.a.example", 1), NULL));
	pb = stu_policy("sts", "b.example", 50, 0, NULL);
	return stu_report("Prune Org", id, day, stu_join(pa, pb, NULL));
}

struct counts {
	int64_t	report, policy, detail, raw, arrival, rollup, rejection;
};

static struct counts
table_counts(void)
{
	struct counts	c;

	c.report = stu_int(&tdb, "SELECT count(*) FROM tlsrpt.report");
	c.policy = stu_int(&tdb, "SELECT count(*) FROM tlsrpt.policy");
	c.detail = stu_int(&tdb,
	    "SELECT count(*) FROM tlsrpt.failure_detail");
	c.raw = stu_int(&tdb, "SELECT count(*) FROM tlsrpt.report_raw");
	c.arrival = stu_int(&tdb, "SELECT count(*) FROM tlsrpt.arrival");
	c.rollup = stu_int(&tdb, "SELECT count(*) FROM tlsrpt.rollup");
	c.rejection = stu_int(&tdb, "SELECT count(*) FROM tlsrpt.rejection");
	return c;
}

static void
expect_counts(struct counts c, int64_t report, int64_t policy,
    int64_t detail, int64_t raw, int64_t arrival, int64_t rollup,
    int64_t rejection, const char *when)
{
	cr_expect_eq(c.report, report, "%s: reports %lld", when,
	    (long long)c.report);
	cr_expect_eq(c.policy, policy, "%s: policies %lld", when,
	    (long long)c.policy);
	cr_expect_eq(c.detail, detail, "%s: failure details %lld", when,
	    (long long)c.detail);
	cr_expect_eq(c.raw, raw, "%s: raw bodies %lld", when,
	    (long long)c.raw);
	cr_expect_eq(c.arrival, arrival, "%s: arrivals %lld", when,
	    (long long)c.arrival);
	cr_expect_eq(c.rollup, rollup, "%s: rollup rows %lld", when,
	    (long long)c.rollup);
	cr_expect_eq(c.rejection, rejection, "%s: rejections %lld", when,
	    (long long)c.rejection);
}

/* "  NAME   N" in prune's output. */
static void
expect_line(const char *out, const char *name, long n)
{
	char		 want[128];
	const char	*p;
	long		 got;

	p = strstr(out, name);
	cr_assert_not_null(p, "no \"%s\" in:\n%s", name, out);
	p += strlen(name);
	got = strtol(p, NULL, 10);
	snprintf(want, sizeof(want), "%s %ld", name, n);
	cr_expect_eq(got, n, "want \"%s\", got %ld in:\n%s", want, got, out);
}

static void
expect_out(const char *out, const char *head, long reports, long policies,
    long details, long raws, long arrivals, long rollup, long rejections,
    long other)
{
	const char	*p;

	p = strstr(out, head);
	cr_assert_not_null(p, "no \"%s\" in:\n%s", head, out);
	expect_line(p, "reports", reports);
	expect_line(p, "policies", policies);
	expect_line(p, "failure details", details);
	expect_line(p, "raw bodies", raws);
	expect_line(p, "report arrivals", arrivals);
	expect_line(p, "rollup rows", rollup);
	expect_line(p, "rejections", rejections);
	expect_line(p, "other arrivals", other);
}

/* s without white space, malloc'd. */
static char *
squash(const char *s)
{
	char	*o, *p;

	o = p = strdup(s);
	cr_assert_not_null(o);
	for (; *s != '\0'; s++)
		if (*s != ' ' && *s != '\n')
			*p++ = *s;
	*p = '\0';
	return o;
}

/* --- what goes, what stays --------------------------------------------- */

/*
 * Old (their date range ended before the cutoff 2026-02-09T00:00:00Z):
 *   R1 2026-01-10, stored, then a variant (same report, other bytes),
 *      then a byte-identical duplicate: 2 raw bodies, 3 arrivals;
 *   R2 2026-01-20, R3 2026-02-08 (ends 23:59:59, before the cutoff).
 * Kept:
 *   K1 2026-02-09 (starts at the cutoff), K2 2026-02-20, K3 2026-03-10;
 *   S from 2026-02-08T12:00 to 2026-02-09T12:00: it ends after the
 *      cutoff, so it stays, but its rollup period starts before it, so
 *      its 2 rollup rows (totals, one failure row) go.
 * Rejections: one received 2026-01-01 (goes), one 2026-03-01 (stays);
 * each has its arrival.  One arrival of 2026-01-02 names a report that
 * is not stored (goes).
 *
 * Before: reports 7; policies 6 * 2 + 1 = 13; failure details
 * 6 * 2 + 1 = 13; raw bodies 7 + 1 = 8; arrivals 7 + 2 (R1) + 2
 * (rejections) + 1 (orphan) = 12; rollup 6 * 4 + 2 = 26; rejections 2.
 * Removed: reports 3, policies 6, details 6, raw bodies 4, report
 * arrivals 5, rollup 3 * 4 + 2 = 14, rejections 1, other arrivals 2.
 * After: reports 4, policies 7, details 7, raw 4, arrivals 4 + 1 = 5,
 * rollup 12, rejections 1.
 */
Test(prune, figures)
{
	struct store	*st;
	struct run	 r, s1, f1, s2, f2;
	char		*j[6], *v, *sj, *sq;
	const char	*days[6] = { "2026-01-10", "2026-01-20", "2026-02-08",
	    "2026-02-09", "2026-02-20", "2026-03-10" };
	char		 id[32];
	size_t		 i;

	dtu_make_db(&tdb, &have_db, "prune_fig");
	st = stu_open(&tdb, 0);
	for (i = 0; i < 6; i++) {
		snprintf(id, sizeof(id), "day-%zu", i);
		j[i] = day_report(id, days[i]);
	}
	put(st, j, 6, "2026-03-10T13:00:00Z");
	/* R1's variant: the same report, one byte more. */
	cr_assert_geq(asprintf(&v, "{ %s", j[0] + 1), 0);
	put(st, &v, 1, "2026-03-10T14:00:00Z");
	put(st, &j[0], 1, "2026-03-10T15:00:00Z");
	sj = strdup("{\"organization-name\":\"Prune Org\",\"date-range\":"
	    "{\"start-datetime\":\"2026-02-08T12:00:00Z\",\"end-datetime\":"
	    "\"2026-02-09T12:00:00Z\"},\"contact-info\":\"x@prune.example\","
	    "\"report-id\":\"straddle\",\"policies\":[");
	cr_assert_not_null(sj);
	{
		char	*pol, *all;

		pol = stu_policy("sts", "a.example", 10, 1, stu_detail(
		    "validation-failure", "mx3.a.example", 1));
		cr_assert_geq(asprintf(&all, "%s%s]}", sj, pol), 0);
		put(st, &all, 1, "2026-03-10T16:00:00Z");
		free(all);
		free(pol);
	}
	{
		struct store_arrival a = { "https", "192.0.2.9", 0 };

		cr_assert_eq(util_parse_date_or_datetime("2026-01-01",
		    &a.received_at), 0);
		cr_assert_eq(store_put_rejection(st, &a, "not a report",
		    (const unsigned char *)"junk", 4, 64), 0);
		cr_assert_eq(util_parse_date_or_datetime("2026-03-01",
		    &a.received_at), 0);
		cr_assert_eq(store_put_rejection(st, &a, "not a report",
		    (const unsigned char *)"junk2", 5, 64), 0);
	}
	stu_exec(&tdb, "INSERT INTO tlsrpt.arrival (received_at, source,"
	    " outcome, report_no, sha256) VALUES ('2026-01-02T00:00:00Z',"
	    " 'file', 'duplicate', -1,"
	    " decode(repeat('cd', 32), 'hex'))");
	store_close(st);
	expect_counts(table_counts(), 7, 13, 13, 8, 12, 26, 2, "before");

	/* The days kept, as summary and failures see them. */
	s1 = tlsrpt("summary --since 2026-02-09 --format json");
	f1 = tlsrpt("failures --since 2026-02-09 --by mx,result-type "
	    "--format json");
	cr_assert_eq(s1.status, 2, "%s", s1.out);	/* critical flags */
	cr_assert_eq(f1.status, 2, "%s", f1.out);
	/* K1..K3: a.example 3 reports, 300 ok, 9 failed; b 3, 150 ok. */
	sq = squash(s1.out);
	cr_expect_not_null(strstr(sq, "{\"domain\":\"a.example\","
	    "\"reports\":3,\"reporters\":1,\"successful_sessions\":300,"
	    "\"failed_sessions\":9,"), "%s", s1.out);
	cr_expect_not_null(strstr(sq, "\"result_types\":"
	    "{\"certificate-expired\":6,\"starttls-not-supported\":3}"),
	    "%s", s1.out);
	cr_expect_not_null(strstr(sq, "{\"domain\":\"b.example\","
	    "\"reports\":3,\"reporters\":1,\"successful_sessions\":150,"
	    "\"failed_sessions\":0,"), "%s", s1.out);
	free(sq);

	r = tlsrpt("prune --older-than 30 --dry-run");
	cr_assert_eq(r.status, 0, "%s", r.out);
	cr_expect_not_null(strstr(r.out, "cutoff " CUTOFF), "%s", r.out);
	expect_out(r.out, "would remove:", 3, 6, 6, 4, 5, 14, 1, 2);
	expect_counts(table_counts(), 7, 13, 13, 8, 12, 26, 2,
	    "after --dry-run");
	free(r.out);

	/* One report a transaction, ten rows of the other tables. */
	r = tlsrpt("prune --older-than 30 --batch 1");
	cr_assert_eq(r.status, 0, "%s", r.out);
	cr_expect_not_null(strstr(r.out, "cutoff " CUTOFF), "%s", r.out);
	expect_out(r.out, "removed:", 3, 6, 6, 4, 5, 14, 1, 2);
	free(r.out);
	expect_counts(table_counts(), 4, 7, 7, 4, 5, 12, 1, "after");
	cr_expect_eq(stu_int(&tdb, "SELECT count(*) FROM tlsrpt.report"
	    " WHERE date_end <= '" CUTOFF "'"), 0);
	cr_expect_eq(stu_int(&tdb, "SELECT count(*) FROM tlsrpt.report"
	    " WHERE report_id = 'straddle'"), 1, "the straddler stays");
	cr_expect_eq(stu_int(&tdb, "SELECT count(*) FROM tlsrpt.rollup"
	    " WHERE period_start < '" CUTOFF "'"), 0);
	cr_expect_eq(stu_int(&tdb, "SELECT count(*) FROM tlsrpt.arrival a"
	    " WHERE report_no IS NOT NULL AND NOT EXISTS (SELECT 1 FROM"
	    " tlsrpt.report r WHERE r.report_no = a.report_no)"), 0,
	    "no arrival left without its report");
	cr_expect_eq(stu_int(&tdb, "SELECT count(*) FROM tlsrpt.rejection"
	    " WHERE received_at >= '2026-03-01'"), 1);

	s2 = tlsrpt("summary --since 2026-02-09 --format json");
	f2 = tlsrpt("failures --since 2026-02-09 --by mx,result-type "
	    "--format json");
	cr_expect_str_eq(s2.out, s1.out, "summary of the days kept changed");
	cr_expect_str_eq(f2.out, f1.out, "failures of the days kept changed");

	/* Again: nothing left to remove. */
	r = tlsrpt("prune --older-than 30");
	cr_assert_eq(r.status, 0, "%s", r.out);
	expect_out(r.out, "removed:", 0, 0, 0, 0, 0, 0, 0, 0);
	free(r.out);
	expect_counts(table_counts(), 4, 7, 7, 4, 5, 12, 1, "second prune");

	for (i = 0; i < 6; i++)
		free(j[i]);
	free(v);
	free(sj);
	free(s1.out);
	free(f1.out);
	free(s2.out);
	free(f2.out);
}

Test(prune, options)
{
	struct run	r;

	dtu_make_db(&tdb, &have_db, "prune_opt");
	r = tlsrpt("prune");
	cr_expect_eq(r.status, 3, "%s", r.out);
	cr_expect_not_null(strstr(r.out, "--older-than"), "%s", r.out);
	free(r.out);
	r = tlsrpt("prune --older-than 0");
	cr_expect_eq(r.status, 3, "%s", r.out);
	cr_expect_not_null(strstr(r.out, "from 1 to"), "%s", r.out);
	free(r.out);
	r = tlsrpt("prune --older-than 3x");
	cr_expect_eq(r.status, 3, "%s", r.out);
	free(r.out);
	r = tlsrpt("prune --older-than 1 --batch 0");
	cr_expect_eq(r.status, 3, "%s", r.out);
	free(r.out);
	/* --older-than 1 on 2026-03-11: the cutoff is 2026-03-10. */
	r = tlsrpt("prune --older-than 1 --dry-run");
	cr_expect_eq(r.status, 0, "%s", r.out);
	cr_expect_not_null(strstr(r.out, "cutoff 2026-03-10T00:00:00Z"), "%s",
	    r.out);
	free(r.out);
}

/* --- prune while tlsrpt-httpd stores ----------------------------------- */

#define OLD_REPORTS	3000	/* stored before, all older than the cutoff */
#define NEW_FILES	2000	/* posted, at most, while prune runs */
#define POSTERS		4	/* parallel sequential posters */

static int
httpd_ready(void *arg)
{
	char	*out;
	int	 ok;

	out = dtu_run("curl -s --max-time 5 -o /dev/null -w '%%{http_code}' "
	    "http://127.0.0.1:%d/healthz", *(int *)arg);
	ok = strcmp(out, "200") == 0;
	free(out);
	return ok;
}

/*
 * 3000 old reports (60 days from 2025-12-01, 50 a day) are in the
 * database; tlsrpt-httpd gets new ones (2026-03-05) from 4 posters, one
 * curl after the other, until prune has finished.  Prune starts once 10
 * new reports are stored, with batches of 20 reports, so it commits 150
 * times while the posts go on.  Both must finish: prune removes exactly
 * the 3000 old reports, every post answered 201 is stored once, and
 * summary's figures of the new day are those of the posts.
 */
Test(prune, while_httpd_stores)
{
	struct store	*st;
	char		*batch[50], *out, *pol, *json, path[512];
	char		 id[64], day[32];
	pid_t		 posters[POSTERS];
	struct run	 r;
	int		 port, i, k, wst;
	int64_t		 n201 = 0, n = 0, stored;
	FILE		*f;
	char		 line[64];

	dtu_make_db(&tdb, &have_db, "prune_httpd");
	st = stu_open(&tdb, 0);
	for (i = 0; i < OLD_REPORTS / 50; i++) {
		/* 2025-12-01 .. 2025-12-31, 2026-01-01 .. 2026-01-29 */
		if (i < 31)
			snprintf(day, sizeof(day), "2025-12-%02d", i + 1);
		else
			snprintf(day, sizeof(day), "2026-01-%02d", i - 30);
		for (k = 0; k < 50; k++) {
			snprintf(id, sizeof(id), "old-%d-%d", i, k);
			batch[k] = day_report(id, day);
		}
		put(st, batch, 50, "2026-01-31T00:00:00Z");
		for (k = 0; k < 50; k++)
			free(batch[k]);
	}
	store_close(st);
	cr_assert_eq(stu_int(&tdb, "SELECT count(*) FROM tlsrpt.report"),
	    OLD_REPORTS);

	dtu_sh("mkdir -p %s/new", tdir);
	for (i = 0; i < NEW_FILES; i++) {
		snprintf(id, sizeof(id), "new-%d", i);
		pol = stu_policy("sts", "new.example", 100, 2, NULL);
		json = stu_report("Live Org", id, "2026-03-05", pol);
		snprintf(path, sizeof(path), "%s/new/%d/r%04d.json", tdir,
		    i % POSTERS, i);
		if (i < POSTERS)
			dtu_sh("mkdir -p %s/new/%d", tdir, i);
		dtu_write_file(path, json, strlen(json));
		free(json);
		free(pol);
	}

	port = dtu_free_port();
	httpd_pid = dtu_spawn(dtu_S("exec %s --plain --listen 127.0.0.1:%d "
	    "--spool %s/spool --db '%s' >>%s/httpd.log 2>&1",
	    dtu_bin("TLSRPT_HTTPD_BIN", "bin/tlsrpt-httpd"), port, tdir,
	    tdb.conninfo, tdir));
	cr_assert(dtu_wait_ready(httpd_pid, httpd_ready, &port,
	    "tlsrpt-httpd", tdir), "tlsrpt-httpd does not answer");

	for (i = 0; i < POSTERS; i++)
		posters[i] = dtu_spawn(dtu_S("for f in %s/new/%d/*.json; do "
		    "[ -e %s/stop ] && break; curl -s --max-time 30 "
		    "-o /dev/null -w '%%{http_code}\\n' -H 'Content-Type: "
		    "application/tlsrpt+json' --data-binary @$f "
		    "http://127.0.0.1:%d/v1/report; done > %s/codes.%d",
		    tdir, i, tdir, port, tdir, i));
	for (i = 0; i < 300 && stu_int(&tdb, "SELECT count(*) FROM"
	    " tlsrpt.report WHERE report_id LIKE 'new-%'") < 10; i++)
		usleep(100 * 1000);
	cr_assert_lt(i, 300, "tlsrpt-httpd stored nothing in 30 s");

	r = tlsrpt("prune --older-than 30 --batch 20");
	dtu_sh("touch %s/stop", tdir);
	for (i = 0; i < POSTERS; i++)
		cr_assert_eq(waitpid(posters[i], &wst, 0), posters[i]);
	cr_assert_eq(r.status, 0, "%s", r.out);
	expect_out(r.out, "removed:", OLD_REPORTS, 2 * OLD_REPORTS,
	    2 * OLD_REPORTS, OLD_REPORTS, OLD_REPORTS, 4 * 60, 0, 0);

	for (i = 0; i < POSTERS; i++) {
		f = fopen(dtu_S("%s/codes.%d", tdir, i), "r");
		cr_assert_not_null(f);
		while (fgets(line, sizeof(line), f) != NULL) {
			n++;
			if (strcmp(line, "201\n") == 0)
				n201++;
		}
		fclose(f);
	}
	cr_expect_eq(n201, n, "%lld of %lld posts answered 201",
	    (long long)n201, (long long)n);
	cr_assert_gt(n201, 10);
	for (i = 0; i < 300; i++) {
		stored = stu_int(&tdb, "SELECT count(*) FROM tlsrpt.report"
		    " WHERE report_id LIKE 'new-%'");
		if (stored == n201)
			break;
		usleep(100 * 1000);
	}
	cr_expect_eq(stored, n201, "new reports stored: %lld of %lld",
	    (long long)stored, (long long)n201);
	cr_expect_eq(stu_int(&tdb, "SELECT count(*) FROM tlsrpt.report"),
	    n201, "only the new reports are left");
	cr_expect_eq(stu_int(&tdb, "SELECT count(*) FROM tlsrpt.arrival"),
	    n201, "one arrival each");
	cr_expect_eq(stu_int(&tdb, "SELECT count(*) FROM tlsrpt.policy"),
	    n201);
	/* The new day in the rollup: n201 reports, 100 ok and 2 failed each. */
	cr_expect_eq(stu_int(&tdb, "SELECT sum(reports) FROM tlsrpt.rollup"
	    " WHERE result_type = '' AND policy_domain = 'new.example'"),
	    n201);
	cr_expect_eq(stu_int(&tdb, "SELECT sum(successful_sessions) FROM"
	    " tlsrpt.rollup WHERE policy_domain = 'new.example'"), 100 * n201);
	cr_expect_eq(stu_int(&tdb, "SELECT count(*) FROM tlsrpt.rollup"
	    " WHERE policy_domain <> 'new.example'"), 0);
	out = dtu_run("ls %s/spool/bad 2>/dev/null | wc -l", tdir);
	cr_expect_eq(atoi(out), 0, "files in spool/bad");
	free(out);
	free(r.out);
}
