/*
 * test_web.c -- tlsrpt-web end to end: the real daemon
 * ($TLSRPT_WEB_BIN), real HTTPS with curl, a real PostgreSQL filled by
 * the real `tlsrpt import` ($TLSRPT_BIN) with reports of two tenants.
 * Needs PostgreSQL and the daemons (an integration test).
 *
 * Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
 *
 * The fixture, worked out by hand (window 2026-01-05 .. 2026-01-07):
 *   a.example     01-05  100 ok   0 failed   (Reporter One)
 *                 01-06   90 ok  10 failed   (Reporter One:
 *                                             starttls-not-supported 10
 *                                             at mx1.a.example)
 *                 01-07   50 ok  50 failed   (<script>alert(1)</script>:
 *                                             certificate-expired 30 at
 *                                             mx2.a.example,
 *                                             starttls-not-supported 20
 *                                             at mx1.a.example)
 *     = 3 reports, 2 reporters, 300 sessions, 60 failed, rate 0.2
 *   mail.a.example 01-06   7 ok   0 failed   (Reporter Two)
 *   b.example     01-06   40 ok   4 failed   (Reporter One, tenant B)
 * alice sees a.example and *.a.example, bob b.example, root "*".
 */

#define _GNU_SOURCE
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
#include "tlsrpt_limits.h"

/* crypt(3) yescrypt hashes of "NAME-pw" (python3 crypt.crypt) */
#define H_ALICE	"$y$j9T$abcdefghijklmnop$dypbN0V2hlxjAQqNjTZ0ONR.9BanFD/ZOOwKsAvC703"
#define H_BOB	"$y$j9T$abcdefghijklmnop$xuvgS24mvyC9f13pDFRwaVSXtCDbGH3zY20j/ZvfIt0"
#define H_CAROL	"$y$j9T$abcdefghijklmnop$rCk4JOPd4EJ3IOHvBGaPph8FQ4/jbl43wEiKTJ4web2"
#define H_ROOT	"$y$j9T$abcdefghijklmnop$N6rtWd9l79wT7VEHoqJmFq8egvnkqMocqYrjkNlccJA"

#define WIN	"since=2026-01-05&until=2026-01-07"

static char		 tdir[256];
static struct stu_db	 tdb;
static int		 have_db;
static pid_t		 dpid;
static int		 dport;
static char		 dlog[512];

static void
setup(void)
{
	snprintf(tdir, sizeof(tdir), "/tmp/tlsrpt-web-test.XXXXXX");
	cr_assert_not_null(mkdtemp(tdir));
	dtu_sh("cd %s && printf 'cn = localhost\\nip_address = 127.0.0.1\\n"
	    "expiration_days = 30\\ntls_www_server\\nsigning_key\\n' > tmpl && "
	    "certtool --generate-privkey --key-type=ecdsa --outfile w.key "
	    ">/dev/null 2>&1 && certtool --generate-self-signed "
	    "--load-privkey w.key --template tmpl --outfile w.crt "
	    ">/dev/null 2>&1", tdir);
	have_db = 0;
	dpid = 0;
}

static void
teardown(void)
{
	int	st;

	if (dpid > 0)
		(void)dtu_stop(dpid, SIGKILL, 200, &st);
	dpid = 0;
	if (have_db)
		stu_db_drop(&tdb);
	if (tdir[0] != '\0' && getenv("TLSRPT_TEST_KEEP") == NULL)
		(void)!system(dtu_S("rm -rf '%s'", tdir));
}

TestSuite(web, .init = setup, .fini = teardown, .timeout = 90);

static void
write_str(const char *name, const char *s)
{
	dtu_write_file(dtu_S("%s/%s", tdir, name), s, strlen(s));
}

static void
report(const char *file, const char *org, const char *id, const char *day,
    const char *domain, long ok, long failed, const char *rt, const char *mx,
    long rtn)
{
	char	*d = rt ? stu_detail(rt, mx, rtn) : NULL;
	char	*p = stu_policy("sts", domain, ok, failed, d);
	char	*j = stu_report(org, id, day, p);

	write_str(dtu_S("in/%s", file), j);
	free(j);
	free(p);
	free(d);
}

/* The two tenants' reports, imported by the real CLI. */
static void
fixture(void)
{
	dtu_sh("mkdir -p %s/in", tdir);

	dtu_make_db(&tdb, &have_db, "web");
	report("a1.json", "Reporter One", "a1", "2026-01-05", "a.example", 100,
	    0, NULL, NULL, 0);
	report("a2.json", "Reporter One", "a2", "2026-01-06", "a.example", 90,
	    10, "starttls-not-supported", "mx1.a.example", 10);
	/* hostile: an organization-name and a policy string with markup */
	write_str("in/a3.json", "{\"organization-name\":\"<script>alert(1)"
	    "</script>\",\"date-range\":{\"start-datetime\":"
	    "\"2026-01-07T00:00:00Z\",\"end-datetime\":\"2026-01-07T23:59:59Z\""
	    "},\"contact-info\":\"x@example.net\",\"report-id\":\"a3\","
	    "\"policies\":[{\"policy\":{\"policy-type\":\"sts\","
	    "\"policy-domain\":\"a.example\",\"policy-string\":["
	    "\"version: STSv1\",\"mode: testing\",\"mx: \\\"><svg "
	    "onload=alert(1)>\",\"max_age: 86400\"],\"mx-host\":"
	    "[\"mx1.a.example\"]},\"summary\":{"
	    "\"total-successful-session-count\":50,"
	    "\"total-failure-session-count\":50},\"failure-details\":["
	    "{\"result-type\":\"certificate-expired\",\"receiving-mx-hostname\":"
	    "\"mx2.a.example\",\"failed-session-count\":30},"
	    "{\"result-type\":\"starttls-not-supported\","
	    "\"receiving-mx-hostname\":\"mx1.a.example\","
	    "\"failed-session-count\":20}]}]}");
	report("a4.json", "Reporter Two", "a4", "2026-01-06",
	    "mail.a.example", 7, 0, NULL, NULL, 0);
	report("b1.json", "Reporter One", "b1", "2026-01-06", "b.example", 40,
	    4, "validation-failure", "mx.b.example", 4);
	write_str("in/notes.txt", "not a report at all\n");
	/* exit 1: the text file is rejected (and kept as a rejection) */
	(void)!system(dtu_S("%s import --db '%s' %s/in/* >%s/import.log 2>&1",
	    dtu_bin("TLSRPT_BIN", "bin/tlsrpt"), tdb.conninfo, tdir, tdir));
	cr_assert_eq(stu_int(&tdb, "SELECT count(*) FROM tlsrpt.report"), 5,
	    "see %s/import.log", tdir);
	write_str("users", "# tenants\n"
	    "alice:" H_ALICE ":a.example,*.a.example\n"
	    "bob:" H_BOB ":b.example\n"
	    "root:" H_ROOT ":*\n");
}

static const char *
bin(void)
{
	return dtu_bin("TLSRPT_WEB_BIN", "bin/tlsrpt-web");
}

static int
code_of(const char *url)
{
	char	*out = dtu_run("curl -sk --max-time 20 -o /dev/null -w "
	    "'%%{http_code}' '%s'", url);
	int	 c = atoi(out);

	free(out);
	return c;
}

static int
css_ok(void *arg)
{
	(void)arg;
	return code_of(dtu_S("https://127.0.0.1:%d/style.css", dport)) == 200;
}

static void
start(const char *extra)
{
	char	*cmd;

	dport = dtu_free_port();
	snprintf(dlog, sizeof(dlog), "%s/web.log", tdir);
	cr_assert_geq(asprintf(&cmd, "exec %s --listen 127.0.0.1:%d "
	    "--tls-cert %s/w.crt --tls-key %s/w.key --db '%s' %s >>%s 2>&1",
	    bin(), dport, tdir, tdir, tdb.conninfo, extra, dlog), 0);
	dpid = dtu_spawn(cmd);
	free(cmd);
	cr_assert(dtu_wait_ready(dpid, css_ok, NULL, "tlsrpt-web", dlog));
}

/* GET path as user ("NAME:PASSWORD", NULL: none): the body, *code. */
static char *
get(const char *user, const char *path, int *code)
{
	char	*out, *nl;

	out = dtu_run("curl -sk --max-time 20 %s%s%s -w '\\n%%{http_code}' "
	    "'https://127.0.0.1:%d%s'", user ? "-u '" : "", user ? user : "",
	    user ? "'" : "", dport, path);
	nl = strrchr(out, '\n');
	cr_assert_not_null(nl);
	*code = atoi(nl + 1);
	*nl = '\0';
	return out;
}

static void
expect_code(const char *user, const char *path, int want)
{
	int	 code;
	char	*b = get(user, path, &code);

	cr_expect_eq(code, want, "%s as %s: %d, want %d", path,
	    user ? user : "nobody", code, want);
	free(b);
}

static void
key_of(const char *report_id, char *key, char *sha)
{
	stu_text(&tdb, dtu_S("SELECT encode(report_key, 'hex') FROM "
	    "tlsrpt.report WHERE report_id = '%s'", report_id), key, 65);
	stu_text(&tdb, dtu_S("SELECT encode(r.sha256, 'hex') FROM "
	    "tlsrpt.report_raw r JOIN tlsrpt.report p USING (report_no) "
	    "WHERE p.report_id = '%s'", report_id), sha, 65);
	cr_assert_eq(strlen(key), 64);
	cr_assert_eq(strlen(sha), 64);
}

/* --- tenancy ---------------------------------------------------------- */

Test(web, tenant_sees_only_its_domains)
{
	const char	*A = "alice:alice-pw";
	char		 bkey[65], bsha[65], akey[65], asha[65], *b;
	int		 code;

	fixture();
	start(dtu_S("--users %s/users", tdir));
	key_of("b1", bkey, bsha);
	key_of("a1", akey, asha);

	/* no log-in, a wrong password, an unknown user: 401 */
	expect_code(NULL, "/", 401);
	expect_code("alice:bob-pw", "/", 401);
	expect_code("mallory:alice-pw", "/", 401);
	expect_code(NULL, dtu_S("/api/report/%s", bkey), 401);

	/* alice's overview: her domains, not bob's */
	b = get(A, "/?" WIN, &code);
	cr_expect_eq(code, 200);
	cr_expect_not_null(strstr(b, ">a.example<"));
	cr_expect_not_null(strstr(b, ">mail.a.example<"));
	cr_expect_null(strstr(b, "b.example"), "b.example on alice's page");
	free(b);
	b = get(A, "/api/overview?" WIN, &code);
	cr_expect_eq(code, 200);
	cr_expect_not_null(strstr(b, "\"a.example\""));
	cr_expect_null(strstr(b, "b.example"));
	free(b);
	/* a filter naming bob's domain finds nothing */
	b = get(A, "/?q=b.example&" WIN, &code);
	cr_expect_eq(code, 200);
	cr_expect_null(strstr(b, ">b.example<"));
	free(b);

	/* bob's domain, report and raw body, by URL: 404 each */
	expect_code(A, "/domain/b.example?" WIN, 404);
	expect_code(A, "/api/domain/b.example?" WIN, 404);
	expect_code(A, "/domain/mx.b.example", 404);
	expect_code(A, dtu_S("/report/%s", bkey), 404);
	expect_code(A, dtu_S("/api/report/%s", bkey), 404);
	expect_code(A, dtu_S("/raw/%s/%s", bkey, bsha), 404);
	/* ... and by query parameter: ignored where the path decides */
	b = get(A, dtu_S("/domain/a.example?domain=b.example&key=%s&" WIN,
	    bkey), &code);
	cr_expect_eq(code, 200);
	cr_expect_null(strstr(b, "b.example"));
	cr_expect_null(strstr(b, bkey));
	free(b);
	b = get(A, dtu_S("/api/overview?domain=b.example&" WIN), &code);
	cr_expect_null(strstr(b, "b.example"));
	free(b);
	/* the failures breakdown: hers only */
	b = get(A, "/api/failures?by=mx,result-type&" WIN, &code);
	cr_expect_eq(code, 200);
	cr_expect_not_null(strstr(b, "\"mx\": \"mx1.a.example\""), "%s", b);
	cr_expect_null(strstr(b, "b.example"), "%s", b);
	free(b);
	b = get(A, "/failures?by=reporter&" WIN, &code);
	cr_expect_eq(code, 200);
	cr_expect_null(strstr(b, "b.example"));
	free(b);
	/* a domain of nobody, and the rejections (no domain): 404 */
	expect_code(A, "/domain/c.example", 404);
	expect_code(A, "/rejections", 404);
	expect_code(A, "/api/rejections", 404);

	/* her own report and raw body */
	expect_code(A, dtu_S("/report/%s", akey), 200);
	b = get(A, dtu_S("/raw/%s/%s", akey, asha), &code);
	cr_expect_eq(code, 200);
	cr_expect_not_null(strstr(b, "\"report-id\":\"a1\""));
	free(b);

	/* bob: the other way round */
	expect_code("bob:bob-pw", "/domain/b.example?" WIN, 200);
	expect_code("bob:bob-pw", "/domain/a.example?" WIN, 404);
	expect_code("bob:bob-pw", dtu_S("/raw/%s/%s", akey, asha), 404);
	expect_code("bob:bob-pw", dtu_S("/raw/%s/%s", bkey, bsha), 200);
	/* root sees all, and the rejection */
	b = get("root:root-pw", "/rejections", &code);
	cr_expect_eq(code, 200);
	cr_expect_not_null(strstr(b, "notes.txt"));
	free(b);
}

/* --- figures, against the fixture worked out by hand ------------------- */

Test(web, domain_figures)
{
	char	*b, k2[65], s2[65], k3[65], s3[65];
	int	 code;

	fixture();
	start(dtu_S("--users %s/users", tdir));
	b = get("alice:alice-pw", "/api/domain/a.example?" WIN, &code);
	cr_assert_eq(code, 200, "%s", b);
	cr_expect_not_null(strstr(b, "\"reports\": 3, \"reporters\": 2, "
	    "\"sessions\": 300, \"failed\": 60, \"failure_rate\": 0.200000"),
	    "%s", b);
	cr_expect_not_null(strstr(b, "{\"day\": \"2026-01-05\", \"reports\": "
	    "1, \"successful\": 100, \"failed\": 0, \"failure_rate\": "
	    "0.000000}"));
	cr_expect_not_null(strstr(b, "{\"day\": \"2026-01-06\", \"reports\": "
	    "1, \"successful\": 90, \"failed\": 10, \"failure_rate\": "
	    "0.100000}"));
	cr_expect_not_null(strstr(b, "{\"day\": \"2026-01-07\", \"reports\": "
	    "1, \"successful\": 50, \"failed\": 50, \"failure_rate\": "
	    "0.500000}"));
	/* by result type per day: starttls 10 then 20, certificate 30 */
	cr_expect_not_null(strstr(b, "{\"result_type\": "
	    "\"starttls-not-supported\", \"failed\": 30, \"per_day\": "
	    "[0, 10, 20]}"));
	cr_expect_not_null(strstr(b, "{\"result_type\": "
	    "\"certificate-expired\", \"failed\": 30, \"per_day\": "
	    "[0, 0, 30]}"));
	cr_expect_not_null(strstr(b, "{\"mx\": \"mx1.a.example\", "
	    "\"result_type\": \"starttls-not-supported\", \"failed\": 30, "
	    "\"reporters\": 2, \"first_seen\": \"2026-01-06\", "
	    "\"last_seen\": \"2026-01-07\"}"));
	free(b);

	/* a failures row links to the reports behind it, and only those */
	key_of("a3", k3, s3);
	key_of("a2", k2, s2);
	b = get("alice:alice-pw", "/failures?by=result-type,mx&" WIN, &code);
	cr_expect_eq(code, 200);
	cr_expect_not_null(strstr(b, "<a href=\"/domain/a.example?since="
	    "2026-01-05&amp;until=2026-01-07&amp;rt=certificate-expired&amp;"
	    "mx=mx2.a.example#reports-of\">"), "%s", b);
	free(b);
	b = get("alice:alice-pw", "/domain/a.example?since=2026-01-05&until="
	    "2026-01-07&rt=certificate-expired&mx=mx2.a.example", &code);
	cr_expect_eq(code, 200);
	cr_expect_not_null(strstr(b, k3));
	cr_expect_null(strstr(b, k2));
	free(b);
	b = get("alice:alice-pw", "/domain/a.example?since=2026-01-05&until="
	    "2026-01-07&rt=starttls-not-supported", &code);
	cr_expect_not_null(strstr(b, k3));
	cr_expect_not_null(strstr(b, k2));
	free(b);
	expect_code("alice:alice-pw", "/failures?by=nope", 400);

	/* the chart's titles hold the same numbers */
	b = get("alice:alice-pw", "/domain/a.example?" WIN, &code);
	cr_expect_eq(code, 200);
	cr_expect_not_null(strstr(b, "<title>2026-01-06: 90 successful, 10 "
	    "failed, 10.00% failed</title>"));
	cr_expect_not_null(strstr(b, "<title>2026-01-07 certificate-expired: "
	    "30</title>"));
	free(b);
}

/* --- hostile report data, headers --------------------------------------- */

Test(web, escaped_and_csp)
{
	char	 akey[65], asha[65], *b, *h;
	int	 code;

	fixture();
	start("");		/* no --users: loopback, every domain */
	key_of("a3", akey, asha);
	b = get(NULL, dtu_S("/report/%s", akey), &code);
	cr_expect_eq(code, 200);
	cr_expect_null(strstr(b, "<script>alert"));
	cr_expect_null(strstr(b, "<svg onload"));
	cr_expect_not_null(strstr(b, "&lt;script&gt;alert(1)&lt;/script&gt;"));
	cr_expect_not_null(strstr(b, "&quot;&gt;&lt;svg onload=alert(1)&gt;"));
	cr_expect_null(strstr(b, "<script"), "no script element at all");
	free(b);
	b = get(NULL, "/api/report/" "0000", &code);
	cr_expect_eq(code, 404);
	free(b);
	/* the header on every kind of answer */
	h = dtu_run("for p in / /style.css /nope '/api/overview?" WIN "' "
	    "'/domain/a.example?days=401'; do curl -sk -D - -o /dev/null "
	    "\"https://127.0.0.1:%d$p\" | grep -ci "
	    "'^content-security-policy: default-src .self.'; done", dport);
	cr_expect_str_eq(h, "1\n1\n1\n1\n1\n", "%s", h);
	free(h);
}

/* --- limits: the window ------------------------------------------------ */

Test(web, window_limit)
{
	fixture();
	start("");
	expect_code(NULL, dtu_S("/?days=%d", LIM_WEB_WINDOW_DAYS_MAX), 200);
	expect_code(NULL, dtu_S("/?days=%d", LIM_WEB_WINDOW_DAYS_MAX + 1),
	    400);
	expect_code(NULL, "/domain/a.example?since=2025-01-01&until="
	    "2026-02-04", 200);		/* 400 days */
	expect_code(NULL, "/domain/a.example?since=2025-01-01&until="
	    "2026-02-05", 400);		/* 401 */
	expect_code(NULL, "/?since=2026-13-01", 400);
}

/* --- startup refusals, SIGHUP ------------------------------------------ */

static int
run_status(const char *args, char **out)
{
	char	*o = dtu_run("%s %s 2>&1; echo \"rc=$?\"", bin(), args);
	char	*rc = strstr(o, "rc=");
	int	 st = rc ? atoi(rc + 3) : -1;

	*out = o;
	return st;
}

Test(web, refusals)
{
	char	*o, *line, pats[LIM_WEB_USER_DOMAINS_MAX * 16 + 64];
	size_t	 i, n;

	cr_expect_eq(run_status("--listen 0.0.0.0:1 --db x", &o), 2);
	cr_expect_not_null(strstr(o, "without --users the dashboard listens "
	    "on loopback only"), "%s", o);
	free(o);
	write_str("users", "alice:" H_ALICE ":a.example\n");
	cr_expect_eq(run_status(dtu_S("--listen 0.0.0.0:1 --users %s/users",
	    tdir), &o), 2);
	cr_expect_not_null(strstr(o, "need --tls-cert/--tls-key, or "
	    "--trusted-proxy"), "%s", o);
	free(o);
	cr_expect_eq(run_status("--tls-cert /nonexistent", &o), 2);
	free(o);

	/* at LIM_WEB_USER_DOMAINS_MAX domains a user starts, one over not */
	for (n = LIM_WEB_USER_DOMAINS_MAX; n <= LIM_WEB_USER_DOMAINS_MAX + 1;
	    n++) {
		size_t	len = 0;

		for (i = 0; i < n; i++)
			len += (size_t)snprintf(pats + len, sizeof(pats) - len,
			    "%sd%zu.example", i ? "," : "", i);
		line = NULL;
		cr_assert_geq(asprintf(&line, "alice:%s:%s\n", H_ALICE, pats),
		    0);
		write_str("users", line);
		free(line);
		/*
		 * Refused: it exits 1 by itself.  Taken: it says "ready:"
		 * (its signals are blocked by then, so SIGTERM is an exit
		 * 0); the log is waited on, not a fixed time, at most 60 s.
		 */
		cr_expect_eq(run_status(dtu_S("--listen 127.0.0.1:%d --users "
		    "%s/users --db 'host=/nonexistent' 2>%s/lim.log & p=$!; "
		    "i=0; while [ $i -lt 600 ] && kill -0 $p 2>/dev/null && "
		    "! grep -q ' ready: ' %s/lim.log; do sleep 0.1; "
		    "i=$((i + 1)); done; { kill $p; } 2>/dev/null; wait $p; "
		    "r=$?; cat %s/lim.log; (exit $r)", dtu_free_port(), tdir,
		    tdir, tdir, tdir), &o), n == LIM_WEB_USER_DOMAINS_MAX ?
		    0 : 1, "%zu: %s", n, o);
		free(o);
	}
	write_str("users", "alice:nohash:a.example\n");
	cr_expect_eq(run_status(dtu_S("--users %s/users", tdir), &o), 1);
	cr_expect_not_null(strstr(o, "users:1: the hash is not a crypt(3) "
	    "hash"), "%s", o);
	free(o);
	/* "*." and "." are typos, never every domain (nor none) */
	for (i = 0; i < 4; i++) {
		static const char *const bad[] = { "*.", ".", "*..", "a.*" };

		line = NULL;
		cr_assert_geq(asprintf(&line, "alice:%s:b.example,%s\n",
		    H_ALICE, bad[i]), 0);
		write_str("users", line);
		free(line);
		cr_expect_eq(run_status(dtu_S("--users %s/users", tdir), &o), 1,
		    "%s", bad[i]);
		cr_expect_not_null(strstr(o, "users:1: a pattern other than "
		    "DOMAIN, *.SUFFIX or *"), "%s: %s", bad[i], o);
		free(o);
	}
}

/*
 * Wait (at most 60 s) until the daemon's log holds what, which it writes
 * once the reload it reports is done; the test fails when it never does.
 */
static void
wait_log(const char *what)
{
	char	*out;
	int	 i, found = 0;

	for (i = 0; i < 600 && !found; i++) {
		out = dtu_run("grep -c -F -e '%s' %s", what, dlog);
		found = atoi(out) > 0;
		free(out);
		if (!found)
			usleep(100 * 1000);
	}
	cr_assert(found, "no \"%s\" in %s", what, dlog);
}

Test(web, sighup_reloads_users)
{
	int	st;

	fixture();
	start(dtu_S("--users %s/users", tdir));
	expect_code("carol:carol-pw", "/", 401);
	write_str("users", "alice:" H_ALICE ":a.example\n"
	    "carol:" H_CAROL ":b.example\n");
	cr_assert_eq(kill(dpid, SIGHUP), 0);
	/* the reload is asynchronous: its log line says it is done */
	wait_log(dtu_S("2 users from %s/users", tdir));
	expect_code("carol:carol-pw", "/domain/b.example?" WIN, 200);
	expect_code("bob:bob-pw", "/", 401);
	/* a broken file on SIGHUP: the users loaded before stay */
	write_str("users", "carol\n");
	cr_assert_eq(kill(dpid, SIGHUP), 0);
	wait_log("keeping the users loaded before");
	expect_code("carol:carol-pw", "/domain/b.example?" WIN, 200);
	/* SIGTERM: exit 0 */
	cr_assert(dtu_stop(dpid, SIGTERM, 200, &st));
	dpid = 0;
	cr_expect(WIFEXITED(st) && WEXITSTATUS(st) == 0, "status %d", st);
}
