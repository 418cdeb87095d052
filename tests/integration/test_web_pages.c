/*
 * test_web_pages.c -- tlsrpt-web's overview modes and kept answers, the
 * /failures row cap and its JSON against the CLI's, the raw download at
 * the ingest limit, and the log-in check of an unknown name.  The real
 * daemon ($TLSRPT_WEB_BIN) over real HTTPS with curl, a real PostgreSQL
 * filled by the real `tlsrpt import` ($TLSRPT_BIN).
 *
 * Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
 *
 * The fixture, worked out by hand:
 *   m.example  02-01 Reporter One, mode testing,  100 ok
 *              02-02 Reporter Two, mode enforce,  100 ok
 *              02-03 Reporter Two, mode enforce,  100 ok
 *     modes over 02-01..02-03: enforce 2 reports 1 reporter, then
 *     testing 1 report 1 reporter
 *   f.example  02-01 one report, 100 failure details at
 *              mx000..mx099.f.example, MX i failing i + 1 sessions:
 *              by mx, 100 rows on 02-01
 *   g.example  02-02 the same with 101 MX hosts (mx000..mx100): 101
 *              rows on 02-02, the last (fewest) mx000.g.example with 1
 */

#define _GNU_SOURCE
#include <sys/types.h>
#include <sys/wait.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <json-c/json.h>

#include "daemon_testutil.h"
#include "store_testutil.h"
#include "tlsrpt_limits.h"
#include "web_auth.h"

/* crypt(3) yescrypt hash of "alice-pw" (as test_web.c) */
#define H_ALICE	"$y$j9T$abcdefghijklmnop$dypbN0V2hlxjAQqNjTZ0ONR.9BanFD/ZOOwKsAvC703"

static char		 tdir[256];
static struct stu_db	 tdb;
static int		 have_db;
static pid_t		 dpid;
static int		 dport;

static void
setup(void)
{
	snprintf(tdir, sizeof(tdir), "/tmp/tlsrpt-webp-test.XXXXXX");
	cr_assert_not_null(mkdtemp(tdir));
	dtu_sh("cd %s && printf 'cn = localhost\\nip_address = 127.0.0.1\\n"
	    "expiration_days = 30\\ntls_www_server\\nsigning_key\\n' > tmpl && "
	    "certtool --generate-privkey --key-type=ecdsa --outfile w.key "
	    ">/dev/null 2>&1 && certtool --generate-self-signed "
	    "--load-privkey w.key --template tmpl --outfile w.crt "
	    ">/dev/null 2>&1 && mkdir in", tdir);
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

TestSuite(web_pages, .init = setup, .fini = teardown, .timeout = 120);

static void
write_file(const char *name, const char *s, size_t n)
{
	dtu_write_file(dtu_S("%s/%s", tdir, name), s, n);
}

/* A report of one sts policy (mode testing, or enforce) with the
 * failure details d (NULL: none), to in/NAME. */
static void
report(const char *name, const char *org, const char *id, const char *day,
    const char *domain, int enforce, long ok, long failed, const char *d)
{
	char	*p = stu_policy("sts", domain, ok, failed, d);
	char	*j, *m;

	if (enforce && (m = strstr(p, "mode: testing")) != NULL) {
		memcpy(m, "mode: enforce", 13);
	}
	j = stu_report(org, id, day, p);
	write_file(dtu_S("in/%s", name), j, strlen(j));
	free(j);
	free(p);
}

/* n failure details at mx000..: MX i fails i + 1 sessions. */
static char *
details(const char *domain, int n, long *sum)
{
	char	*acc = NULL, *d, *t;
	int	 i;

	*sum = 0;
	for (i = 0; i < n; i++) {
		d = stu_detail("starttls-not-supported", dtu_S("mx%03d.%s", i,
		    domain), i + 1);
		*sum += i + 1;
		if (acc == NULL)
			acc = d;
		else {
			cr_assert_geq(asprintf(&t, "%s,%s", acc, d), 0);
			free(acc);
			free(d);
			acc = t;
		}
	}
	return acc;
}

static void
import(const char *glob, int want_reports)
{
	(void)!system(dtu_S("%s import --db '%s' %s/in/%s >>%s/import.log "
	    "2>&1", dtu_bin("TLSRPT_BIN", "bin/tlsrpt"), tdb.conninfo, tdir,
	    glob, tdir));
	cr_assert_eq(stu_int(&tdb, "SELECT count(*) FROM tlsrpt.report"),
	    want_reports, "see %s/import.log", tdir);
}

static void
fixture(void)
{
	char	*d;
	long	 sum;

	dtu_make_db(&tdb, &have_db, "webpages");
	report("m1.json", "Reporter One", "m1", "2026-02-01", "m.example", 0,
	    100, 0, NULL);
	report("m2.json", "Reporter Two", "m2", "2026-02-02", "m.example", 1,
	    100, 0, NULL);
	report("m3.json", "Reporter Two", "m3", "2026-02-03", "m.example", 1,
	    100, 0, NULL);
	d = details("f.example", 100, &sum);
	report("f1.json", "Reporter One", "f1", "2026-02-01", "f.example", 1,
	    1000, sum, d);
	free(d);
	d = details("g.example", 101, &sum);
	report("g1.json", "Reporter One", "g1", "2026-02-02", "g.example", 1,
	    1000, sum, d);
	free(d);
	import("*.json", 5);
}

static int
css_ok(void *arg)
{
	char	*out;
	int	 c;

	(void)arg;
	out = dtu_run("curl -sk --max-time 20 -o /dev/null -w '%%{http_code}' "
	    "'https://127.0.0.1:%d/style.css'", dport);
	c = atoi(out);
	free(out);
	return c == 200;
}

static void
start_with(const char *extra)
{
	char	*cmd, log[512];

	dport = dtu_free_port();
	snprintf(log, sizeof(log), "%s/web.log", tdir);
	cr_assert_geq(asprintf(&cmd, "exec %s --listen 127.0.0.1:%d "
	    "--tls-cert %s/w.crt --tls-key %s/w.key --db '%s' %s >>%s 2>&1",
	    dtu_bin("TLSRPT_WEB_BIN", "bin/tlsrpt-web"), dport, tdir, tdir,
	    tdb.conninfo, extra, log), 0);
	dpid = dtu_spawn(cmd);
	free(cmd);
	cr_assert(dtu_wait_ready(dpid, css_ok, NULL, "tlsrpt-web", log));
}

static void
start(void)
{
	start_with("");
}

/* GET path: the body, *code. */
static char *
get(const char *path, int *code)
{
	char	*out, *nl;

	out = dtu_run("curl -sk --max-time 60 -w '\\n%%{http_code}' "
	    "'https://127.0.0.1:%d%s'", dport, path);
	nl = strrchr(out, '\n');
	cr_assert_not_null(nl);
	*code = atoi(nl + 1);
	*nl = '\0';
	return out;
}

static json_object *
get_json(const char *path)
{
	json_object	*j;
	char		*b;
	int		 code;

	b = get(path, &code);
	cr_assert_eq(code, 200, "%s: %d %s", path, code, b);
	j = json_tokener_parse(b);
	cr_assert_not_null(j, "%s: not JSON: %.200s", path, b);
	free(b);
	return j;
}

static json_object *
member(json_object *o, const char *k)
{
	json_object	*v = NULL;

	cr_assert(json_object_object_get_ex(o, k, &v), "no \"%s\"", k);
	return v;
}

/* The overview row of domain in /api/overview's answer. */
static json_object *
ov_row(json_object *ov, const char *domain)
{
	json_object	*doms = member(ov, "domains"), *r;
	size_t		 i;

	for (i = 0; i < json_object_array_length(doms); i++) {
		r = json_object_array_get_idx(doms, i);
		if (strcmp(json_object_get_string(member(r, "domain")),
		    domain) == 0)
			return r;
	}
	cr_assert_fail("%s not in the overview", domain);
	return NULL;
}

static long
jint(json_object *o, const char *k)
{
	return (long)json_object_get_int64(member(o, k));
}

static const char *
jstr(json_object *o, const char *k)
{
	return json_object_get_string(member(o, k));
}

/* --- the overview ------------------------------------------------------ */

Test(web_pages, overview_modes_and_new_data)
{
	json_object	*ov, *r, *modes, *m;
	char		*b, *d;
	int		 code;

	fixture();
	start_with("--cache-hold 0");
	ov = get_json("/api/overview?since=2026-02-01&until=2026-02-03");
	r = ov_row(ov, "m.example");
	cr_expect_eq(jint(r, "reports"), 3);
	modes = member(r, "modes");
	cr_assert_eq(json_object_array_length(modes), 2, "%s",
	    json_object_to_json_string(modes));
	m = json_object_array_get_idx(modes, 0);
	cr_expect_str_eq(jstr(m, "mode"), "enforce");
	cr_expect_eq(jint(m, "reports"), 2);
	cr_expect_eq(jint(m, "reporters"), 1);
	m = json_object_array_get_idx(modes, 1);
	cr_expect_str_eq(jstr(m, "mode"), "testing");
	cr_expect_eq(jint(m, "reports"), 1);
	json_object_put(ov);
	/* one day: only the testing report */
	ov = get_json("/api/overview?since=2026-02-01&until=2026-02-01");
	modes = member(ov_row(ov, "m.example"), "modes");
	cr_expect_eq(json_object_array_length(modes), 1);
	cr_expect_str_eq(jstr(json_object_array_get_idx(modes, 0), "mode"),
	    "testing");
	json_object_put(ov);
	/* the page's column */
	b = get("/?since=2026-02-01&until=2026-02-03&q=m.example", &code);
	cr_expect_eq(code, 200);
	cr_expect_not_null(strstr(b, "<th>MTA-STS mode</th>"), "%s", b);
	cr_expect_not_null(strstr(b, "<td class=\"mode\">enforce 2, testing 1"
	    "</td>"), "%s", b);
	free(b);

	/* new data: the kept overview and failures answers go */
	b = get("/api/failures?by=mx&since=2026-02-02&until=2026-02-02",
	    &code);
	cr_expect_not_null(strstr(b, "\"total\": 101,"), "%.300s", b);
	free(b);
	d = stu_detail("starttls-not-supported", "mxnew.m.example", 7);
	report("m4.json", "Reporter One", "m4", "2026-02-03", "m.example", 0,
	    100, 7, d);
	free(d);
	import("m4.json", 6);
	ov = get_json("/api/overview?since=2026-02-01&until=2026-02-03");
	r = ov_row(ov, "m.example");
	cr_expect_eq(jint(r, "reports"), 4);
	cr_expect_eq(jint(r, "failed"), 7);
	cr_expect_str_eq(jstr(r, "status"), "CRITICAL");
	modes = member(r, "modes");
	cr_expect_eq(jint(json_object_array_get_idx(modes, 1), "reports"), 2);
	json_object_put(ov);
	/* g.example's day did not change, but another's did: */
	b = get("/api/failures?by=mx&since=2026-02-02&until=2026-02-03",
	    &code);
	cr_expect_not_null(strstr(b, "\"total\": 102,"), "%.300s", b);
	free(b);
}

/* --- /failures --------------------------------------------------------- */

static size_t
nrows(json_object *f)
{
	return json_object_array_length(member(f, "rows"));
}

Test(web_pages, failures_row_cap)
{
	json_object	*f, *row;
	char		*b;
	int		 code;

	fixture();
	start();
	cr_assert_eq(LIM_WEB_FAILURE_ROWS, 100, "the fixture is for 100");
	/* at the cap: 100 rows, one page */
	f = get_json("/api/failures?by=mx&since=2026-02-01&until=2026-02-01");
	cr_expect_eq(jint(f, "total"), 100);
	cr_expect_eq(nrows(f), 100);
	row = json_object_array_get_idx(member(f, "rows"), 0);
	cr_expect_str_eq(jstr(row, "mx"), "mx099.f.example");
	cr_expect_eq(jint(row, "failed_sessions"), 100);
	json_object_put(f);
	b = get("/failures?by=mx&since=2026-02-01&until=2026-02-01", &code);
	cr_expect_eq(code, 200);
	cr_expect_not_null(strstr(b, "<p>100 rows.</p>"), "%s",
	    strstr(b, "</table>"));
	cr_expect_null(strstr(b, "rel=\"next\""));
	free(b);

	/* one over: 100 rows and a next page with the last one */
	f = get_json("/api/failures?by=mx&since=2026-02-02&until=2026-02-02");
	cr_expect_eq(jint(f, "total"), 101);
	cr_expect_eq(nrows(f), 100);
	row = json_object_array_get_idx(member(f, "rows"), 99);
	cr_expect_str_eq(jstr(row, "mx"), "mx001.g.example");
	cr_expect_eq(jint(row, "failed_sessions"), 2);
	json_object_put(f);
	b = get("/failures?by=mx&since=2026-02-02&until=2026-02-02", &code);
	cr_expect_not_null(strstr(b, "<p>101 rows, page 1; <a rel=\"next\" "
	    "href=\"/failures?page=2&amp;by=mx&amp;since=2026-02-02&amp;"
	    "until=2026-02-02\">next</a>.</p>"), "%s", strstr(b, "</table>"));
	free(b);
	f = get_json("/api/failures?by=mx&since=2026-02-02&until=2026-02-02"
	    "&page=2");
	cr_expect_eq(jint(f, "total"), 101);
	cr_expect_eq(jint(f, "page"), 2);
	cr_assert_eq(nrows(f), 1);
	row = json_object_array_get_idx(member(f, "rows"), 0);
	cr_expect_str_eq(jstr(row, "mx"), "mx000.g.example");
	cr_expect_eq(jint(row, "failed_sessions"), 1);
	cr_expect_eq(jint(row, "domain_sessions"), 1000 + 101 * 102 / 2);
	json_object_put(f);
	f = get_json("/api/failures?by=mx&since=2026-02-02&until=2026-02-02"
	    "&page=3");
	cr_expect_eq(nrows(f), 0);
	json_object_put(f);
}

/* The JSON of /api/failures is `tlsrpt failures --format json`'s. */
Test(web_pages, failures_json_is_the_clis)
{
	json_object	*w, *c;
	char		*out;

	fixture();
	start();
	w = get_json("/api/failures?by=mx,reporter,result-type&"
	    "since=2026-02-01&until=2026-02-03");
	out = dtu_run("%s failures --db '%s' --since 2026-02-01 --until "
	    "2026-02-04 --by mx,reporter,result-type --format json",
	    dtu_bin("TLSRPT_BIN", "bin/tlsrpt"), tdb.conninfo);
	c = json_tokener_parse(out);
	cr_assert_not_null(c, "%.300s", out);
	cr_expect_eq(jint(w, "total"), 201);
	/* the page holds the first 100 of the CLI's 201 rows */
	cr_assert_eq(json_object_array_length(member(c, "rows")), 201);
	cr_assert_eq(nrows(w), 100);
	for (size_t i = 0; i < 100; i++)
		cr_expect(json_object_equal(json_object_array_get_idx(member(w,
		    "rows"), i), json_object_array_get_idx(member(c, "rows"),
		    i)), "row %zu: web %s, CLI %s", i, json_object_to_json_string(
		    json_object_array_get_idx(member(w, "rows"), i)),
		    json_object_to_json_string(json_object_array_get_idx(
		    member(c, "rows"), i)));
	cr_expect(json_object_equal(member(w, "since"), member(c, "since")));
	cr_expect(json_object_equal(member(w, "until"), member(c, "until")));
	cr_expect(json_object_equal(member(w, "by"), member(c, "by")));
	cr_expect(json_object_equal(member(w, "conflicting_copies"),
	    member(c, "conflicting_copies")));
	json_object_put(w);
	json_object_put(c);
	free(out);
}

/* The overview's figures are `tlsrpt summary --format json`'s. */
Test(web_pages, overview_figures_are_the_summarys)
{
	json_object	*w, *c, *doms, *r;
	char		*out;
	size_t		 i;
	static const char *const keys[] = { "reports", "reporters",
		"successful_sessions", "failed_sessions" };

	fixture();
	start();
	w = get_json("/api/overview?since=2026-02-01&until=2026-02-03");
	out = dtu_run("%s summary --db '%s' --since 2026-02-01 --until "
	    "2026-02-04 --format json", dtu_bin("TLSRPT_BIN", "bin/tlsrpt"),
	    tdb.conninfo);
	c = json_tokener_parse(out);
	cr_assert_not_null(c, "%.300s", out);
	doms = member(c, "domains");
	cr_assert_eq(json_object_array_length(doms), 3);
	cr_assert_eq(json_object_array_length(member(w, "domains")), 3);
	for (i = 0; i < json_object_array_length(doms); i++) {
		json_object *cd = json_object_array_get_idx(doms, i);

		r = ov_row(w, jstr(cd, "domain"));
		for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++)
			cr_expect_eq(jint(r, keys[k]), jint(cd, keys[k]),
			    "%s %s: web %ld, CLI %ld", jstr(cd, "domain"),
			    keys[k], jint(r, keys[k]), jint(cd, keys[k]));
	}
	/* and by hand: g.example 1000 ok and 1 + ... + 101 failed */
	r = ov_row(w, "g.example");
	cr_expect_eq(jint(r, "successful_sessions"), 1000);
	cr_expect_eq(jint(r, "failed_sessions"), 101 * 102 / 2);
	json_object_put(w);
	json_object_put(c);
	free(out);
}

/* --- the raw download -------------------------------------------------- */

static long
file_size(const char *name)
{
	char	*out = dtu_run("wc -c < %s/%s", tdir, name);
	long	 n = atol(out);

	free(out);
	return n;
}

Test(web_pages, raw_download_at_the_ingest_limit)
{
	char	*j, *p, *body, key[65], sha[65], *out;
	size_t	 n, pad;
	int	 code;

	dtu_make_db(&tdb, &have_db, "webraw");
	p = stu_policy("sts", "big.example", 10, 0, NULL);
	j = stu_report("Reporter One", "big", "2026-02-05", p);
	free(p);
	n = strlen(j);
	/* the JSON padded with blanks after its "{" to exactly the limit */
	pad = LIM_JSON_MAX_BYTES - n;
	cr_assert_not_null(body = malloc(LIM_JSON_MAX_BYTES));
	body[0] = '{';
	memset(body + 1, ' ', pad);
	memcpy(body + 1 + pad, j + 1, n - 1);
	write_file("in/big.json", body, LIM_JSON_MAX_BYTES);
	free(body);
	free(j);
	/* one byte over: refused by the import, never stored */
	dtu_sh("mkdir -p %s/over && printf ' ' | cat - %s/in/big.json > "
	    "%s/over/big2.json", tdir, tdir, tdir);
	cr_assert_eq(file_size("over/big2.json"), LIM_JSON_MAX_BYTES + 1);
	(void)!system(dtu_S("%s import --db '%s' %s/over/big2.json >>"
	    "%s/import.log 2>&1", dtu_bin("TLSRPT_BIN", "bin/tlsrpt"),
	    tdb.conninfo, tdir, tdir));
	cr_assert_eq(stu_int(&tdb, "SELECT count(*) FROM tlsrpt.report"), 0,
	    "a report over the limit was stored");
	import("big.json", 1);
	stu_text(&tdb, "SELECT encode(report_key, 'hex') FROM tlsrpt.report",
	    key, sizeof(key));
	stu_text(&tdb, "SELECT encode(sha256, 'hex') FROM tlsrpt.report_raw",
	    sha, sizeof(sha));
	start();
	out = dtu_run("curl -sk --max-time 60 -o %s/got.json -w '%%{http_code}'"
	    " 'https://127.0.0.1:%d/raw/%s/%s'", tdir, dport, key, sha);
	code = atoi(out);
	free(out);
	cr_assert_eq(code, 200);
	cr_expect_eq(file_size("got.json"), LIM_JSON_MAX_BYTES);
	cr_expect_eq(system(dtu_S("cmp -s %s/in/big.json %s/got.json", tdir,
	    tdir)), 0, "the download is not the report as sent");
	/* and the daemon serves on */
	cr_expect(css_ok(NULL));
}

/* --- log-ins ----------------------------------------------------------- */

Test(web_pages, unknown_user_is_hashed_too)
{
	struct web_users	*us;
	unsigned long		 h0;
	char			 err[512];

	dtu_write_file(dtu_S("%s/users", tdir), "alice:" H_ALICE
	    ":a.example\n", strlen("alice:" H_ALICE ":a.example\n"));
	us = web_users_load(dtu_S("%s/users", tdir), err, sizeof(err));
	cr_assert_not_null(us, "%s", err);
	h0 = web_users_hashes();
	cr_expect_null(web_users_check(us, "mallory", "alice-pw"));
	cr_expect_eq(web_users_hashes(), h0 + 1, "no hash for an unknown "
	    "name: its refusal is quicker than a known one's");
	cr_expect_null(web_users_check(us, "alice", "wrong"));
	cr_expect_eq(web_users_hashes(), h0 + 2);
	cr_expect_not_null(web_users_check(us, "alice", "alice-pw"));
	cr_expect_eq(web_users_hashes(), h0 + 3);
	/* a name that is a prefix of one, or longer */
	cr_expect_null(web_users_check(us, "alic", "alice-pw"));
	cr_expect_null(web_users_check(us, "alicex", "alice-pw"));
	cr_expect_eq(web_users_hashes(), h0 + 5);
	web_users_free(us);
}

/* Many asking for one window at once: it is computed once. */
Test(web_pages, one_overview_for_many_at_once)
{
	char	*out;

	fixture();
	start();
	dtu_sh("for i in 1 2 3 4 5 6 7 8; do curl -sk -o /dev/null "
	    "'https://127.0.0.1:%d/api/overview?since=2026-02-01&"
	    "until=2026-02-03' & done; wait", dport);
	dtu_sh("curl -sk -o /dev/null 'https://127.0.0.1:%d/?since=2026-02-01&"
	    "until=2026-02-03&page=2&sort=name'", dport);
	out = dtu_run("grep -c 'overview 2026-02-01T00:00:00Z to "
	    "2026-02-04T00:00:00Z: 3 domains computed in' %s/web.log", tdir);
	cr_expect_eq(atoi(out), 1, "computed %s times", out);
	free(out);
	/* another window is another */
	dtu_sh("curl -sk -o /dev/null 'https://127.0.0.1:%d/api/overview?"
	    "since=2026-02-02&until=2026-02-03'", dport);
	/* (the default window, kept ready by the refresher, aside) */
	out = dtu_run("grep -c 'overview 2026-02-0[0-9]T00:00:00Z to "
	    "2026-02-0[0-9]T00:00:00Z: [0-9]* domains computed in' %s/web.log",
	    tdir);
	cr_expect_eq(atoi(out), 2, "computed %s times", out);
	free(out);
}

/*
 * A kept window in use is computed again in the background once its
 * data changed and half the hold passed (web_cache_refresh()), so the
 * next request finds the new figures kept instead of computing them.
 */
Test(web_pages, refreshed_ahead)
{
	json_object	*ov;
	char		*out, *d;
	int		 i, n = 0;

	fixture();
	start_with("--cache-hold 4");
	ov = get_json("/api/overview?since=2026-02-01&until=2026-02-03");
	cr_expect_eq(jint(ov_row(ov, "m.example"), "reports"), 3);
	json_object_put(ov);
	d = stu_detail("starttls-not-supported", "mxnew.m.example", 7);
	report("m4.json", "Reporter One", "m4", "2026-02-03", "m.example", 0,
	    100, 7, d);
	free(d);
	import("m4.json", 6);
	/* no request: the refresher's own (every LIM_WEB_CACHE_REFRESH_SEC) */
	for (i = 0; i < 120 && n == 0; i++) {
		out = dtu_run("grep -c 'overview 2026-02-01T00:00:00Z to "
		    "2026-02-04T00:00:00Z: 3 domains computed in [0-9]* ms "
		    "(refreshed ahead)' %s/web.log", tdir);
		n = atoi(out);
		free(out);
		if (n == 0)
			usleep(500 * 1000);
	}
	cr_assert_eq(n, 1, "not refreshed within 60 s");
	ov = get_json("/api/overview?since=2026-02-01&until=2026-02-03");
	cr_expect_eq(jint(ov_row(ov, "m.example"), "reports"), 4,
	    "the refreshed figures");
	json_object_put(ov);
	out = dtu_run("grep -c 'overview 2026-02-01T00:00:00Z to "
	    "2026-02-04T00:00:00Z: 3 domains computed in' %s/web.log", tdir);
	cr_expect_eq(atoi(out), 2, "computed %s times: the request's first, "
	    "then the refresher's; the last request none", out);
	free(out);
}

/*
 * Two imports at once: the one that drew the lower arrival_id commits
 * last.  The highest arrival_id did not move when it committed, so the
 * data stamp must see it otherwise (the server's count of rows written):
 * with --cache-hold 0 the next request computes the window again.
 */
Test(web_pages, stamp_sees_a_late_commit)
{
	FILE	*t1;
	char	*out, mark[600];
	int	 i, n = 0;

	fixture();
	start_with("--cache-hold 0");
	snprintf(mark, sizeof(mark), "%s/t1.ready", tdir);
	t1 = popen(dtu_S("psql -X -q -v ON_ERROR_STOP=1 '%s' >%s/t1.log 2>&1",
	    tdb.conninfo, tdir), "w");
	cr_assert_not_null(t1);
	fprintf(t1, "BEGIN;\nINSERT INTO tlsrpt.arrival (received_at, source,"
	    " origin, outcome, sha256, reason) VALUES (now(), 'file', 't1',"
	    " 'rejected', '\\x01', 'late');\n\\! touch %s\n", mark);
	cr_assert_eq(fflush(t1), 0);
	for (i = 0; i < 300 && access(mark, F_OK) != 0; i++)
		usleep(100 * 1000);
	cr_assert_eq(access(mark, F_OK), 0, "the first import did not start");
	/* the second draws a higher id and commits first */
	stu_exec(&tdb, "INSERT INTO tlsrpt.arrival (received_at, source, "
	    "origin, outcome, sha256, reason) VALUES (now(), 'file', 't2', "
	    "'rejected', '\\x02', 'early')");
	json_object_put(get_json("/api/overview?since=2026-02-01&"
	    "until=2026-02-03"));
	fprintf(t1, "COMMIT;\n\\q\n");
	cr_assert_eq(pclose(t1), 0, "psql failed: see %s/t1.log", tdir);
	for (i = 0; i < 120 && n < 2; i++) {
		json_object_put(get_json("/api/overview?since=2026-02-01&"
		    "until=2026-02-03"));
		out = dtu_run("grep -c 'overview 2026-02-01T00:00:00Z to "
		    "2026-02-04T00:00:00Z: 3 domains computed in' %s/web.log",
		    tdir);
		n = atoi(out);
		free(out);
		if (n < 2)
			usleep(500 * 1000);
	}
	cr_expect_geq(n, 2, "the late commit was not seen within 60 s");
}

/*
 * The overview's default window (the last 30 days) is made ready at
 * start by the refresher, asked for or not: the first visitor's page is
 * a kept answer.
 */
Test(web_pages, default_window_kept_ready)
{
	char	*out;
	int	 i, n = 0, code;

	fixture();
	start();
	for (i = 0; i < 120 && n == 0; i++) {
		out = dtu_run("grep -c 'computed in [0-9]* ms (refreshed "
		    "ahead: the default window)' %s/web.log", tdir);
		n = atoi(out);
		free(out);
		if (n == 0)
			usleep(500 * 1000);
	}
	cr_assert_eq(n, 1, "the default window not made within 60 s");
	free(get("/", &code));
	cr_expect_eq(code, 200);
	free(get("/api/overview", &code));
	cr_expect_eq(code, 200);
	out = dtu_run("grep -c 'domains computed in' %s/web.log", tdir);
	cr_expect_eq(atoi(out), 1, "computed %s times: the first visitor "
	    "computed it again", out);
	free(out);
}

/* --- --cache-hold ------------------------------------------------------ */

Test(web_pages, cache_hold)
{
	json_object	*ov;
	char		*out, *d;
	int		 code;

	fixture();
	/* over its bound the daemon does not start */
	out = dtu_run("%s --listen 127.0.0.1:%d --db '%s' --cache-hold %d "
	    ">%s/hold.log 2>&1; echo $?", dtu_bin("TLSRPT_WEB_BIN",
	    "bin/tlsrpt-web"), dtu_free_port(), tdb.conninfo,
	    LIM_WEB_CACHE_MAX_AGE_SEC + 1, tdir);
	cr_expect_eq(atoi(out), 2, "--cache-hold %d: exit %s",
	    LIM_WEB_CACHE_MAX_AGE_SEC + 1, out);
	free(out);
	/* at it, the kept answers are used for that long after new data:
	 * the figures of before the import, from the kept copies */
	start_with(dtu_S("--cache-hold %d", LIM_WEB_CACHE_MAX_AGE_SEC));
	ov = get_json("/api/overview?since=2026-02-01&until=2026-02-03");
	cr_expect_eq(jint(ov_row(ov, "m.example"), "reports"), 3);
	json_object_put(ov);
	free(get("/api/failures?by=mx&since=2026-02-02&until=2026-02-03",
	    &code));
	d = stu_detail("starttls-not-supported", "mxnew.m.example", 7);
	report("m4.json", "Reporter One", "m4", "2026-02-03", "m.example", 0,
	    100, 7, d);
	free(d);
	import("m4.json", 6);
	ov = get_json("/api/overview?since=2026-02-01&until=2026-02-03");
	cr_expect_eq(jint(ov_row(ov, "m.example"), "reports"), 3,
	    "not the kept overview");
	json_object_put(ov);
	out = get("/api/failures?by=mx&since=2026-02-02&until=2026-02-03",
	    &code);
	cr_expect_not_null(strstr(out, "\"total\": 101,"), "%.300s", out);
	free(out);
	/* another window is computed now, with the new report */
	ov = get_json("/api/overview?since=2026-02-02&until=2026-02-03");
	cr_expect_eq(jint(ov_row(ov, "m.example"), "reports"), 3);
	cr_expect_eq(jint(ov_row(ov, "m.example"), "failed"), 7);
	json_object_put(ov);
}
