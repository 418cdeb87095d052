/*
 * test_check_store.c -- the stored live checks (schema/010_live_check.sql,
 * store/store_check.c) in a real PostgreSQL: the retention bound at its
 * limit, `tlsrpt prune` ($TLSRPT_BIN) removing old checks, and the real
 * tlsrpt-web ($TLSRPT_WEB_BIN, curl) showing a check to its tenant only,
 * with markup in every stored field rendered as text.  tlsrpt check
 * --store itself, against the real DNS, HTTPS and SMTP servers, is
 * tested in test_live.c (stored_check_on_the_dashboard).
 *
 * Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
 */

#define _GNU_SOURCE
#include <sys/types.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <json-c/json.h>

#include "daemon_testutil.h"
#include "store.h"
#include "store_check.h"
#include "store_testutil.h"
#include "tlsrpt_limits.h"
#include "util.h"

/* crypt(3) yescrypt hashes of "NAME-pw", as in test_web.c */
#define H_ALICE	"$y$j9T$abcdefghijklmnop$dypbN0V2hlxjAQqNjTZ0ONR.9BanFD/ZOOwKsAvC703"
#define H_BOB	"$y$j9T$abcdefghijklmnop$xuvgS24mvyC9f13pDFRwaVSXtCDbGH3zY20j/ZvfIt0"

#define T0	1764547200	/* 2025-12-01T00:00:00Z */

static char		 tdir[256];
static struct stu_db	 tdb;
static int		 have_db;
static pid_t		 wpid;
static int		 wport;

static void
setup(void)
{
	snprintf(tdir, sizeof(tdir), "/tmp/tlsrpt-check-store.XXXXXX");
	cr_assert_not_null(mkdtemp(tdir));
	have_db = 0;
	wpid = 0;
}

static void
teardown(void)
{
	int	st;

	if (wpid > 0)
		(void)dtu_stop(wpid, SIGTERM, 40, &st);
	if (have_db)
		stu_db_drop(&tdb);
	if (tdir[0] != '\0')
		(void)!system(dtu_S("rm -rf '%s'", tdir));
}

TestSuite(check_store, .init = setup, .fini = teardown, .timeout = 90);

/* Store a check of domain at time at with the JSON object json. */
static int64_t
put(struct store *st, const char *domain, int64_t at, const char *result,
    const char *json)
{
	struct store_check_in	in;
	int64_t			removed = -1;

	memset(&in, 0, sizeof(in));
	in.domain = domain;
	in.checked_at = at;
	in.result = result;
	in.warnings = strcmp(result, "warning") == 0;
	in.critical = strcmp(result, "critical") == 0;
	in.report_days = 14;
	in.json = json;
	cr_assert_eq(store_check_put(st, &in, LIM_LIVE_CHECKS_KEPT,
	    &removed), 0, "store_check_put: %s", store_errstr(st));
	return removed;
}

static int64_t
count(const char *domain)
{
	return stu_int(&tdb, dtu_S("SELECT count(*) FROM tlsrpt.live_check "
	    "WHERE domain = '%s'", domain));
}

static int64_t
oldest(const char *domain)
{
	return stu_int(&tdb, dtu_S("SELECT EXTRACT(epoch FROM "
	    "min(checked_at))::bigint FROM tlsrpt.live_check WHERE domain = "
	    "'%s'", domain));
}

/*
 * The newest LIM_LIVE_CHECKS_KEPT (30) checks of a domain are kept: 30
 * stored, all there; the 31st drops the oldest; a 32nd made before all
 * the others (a late store of an old check) is itself the oldest and is
 * the one dropped.  Another domain's checks are not touched.
 */
Test(check_store, retention_at_the_bound)
{
	struct store_check_in	 in;
	struct store_check	 c;
	struct store		*st;
	int64_t			 i;

	cr_assert_eq(LIM_LIVE_CHECKS_KEPT, 30, "README says 30");
	dtu_make_db(&tdb, &have_db, "check_keep");
	st = stu_open(&tdb, 0);
	cr_expect_eq(put(st, "b.example", T0, "ok", "{}"), 0);
	for (i = 0; i < 30; i++)
		cr_expect_eq(put(st, "a.example", T0 + i * 3600, "warning",
		    dtu_S("{\"n\": %d}", (int)i)), 0, "check %d",
		    (int)i);
	cr_expect_eq(count("a.example"), 30);
	cr_expect_eq(oldest("a.example"), T0);
	/* one over: the oldest goes */
	cr_expect_eq(put(st, "a.example", T0 + 30 * 3600, "critical",
	    "{\"n\": 30}"), 1);
	cr_expect_eq(count("a.example"), 30);
	cr_expect_eq(oldest("a.example"), T0 + 3600);
	/* older than all the kept ones: dropped at once */
	cr_expect_eq(put(st, "a.example", T0 - 86400, "ok", "{\"n\": -1}"),
	    1);
	cr_expect_eq(count("a.example"), 30);
	cr_expect_eq(oldest("a.example"), T0 + 3600);
	cr_expect_eq(count("b.example"), 1);

	/* the newest is the one the dashboard reads */
	cr_assert_eq(store_check_last(st, "a.example", &c), 0, "%s",
	    store_errstr(st));
	cr_expect_eq(c.checked_at, T0 + 30 * 3600);
	cr_expect_str_eq(c.result, "critical");
	cr_expect_eq(c.critical, 1);
	cr_expect_eq(c.report_days, 14);
	cr_expect_eq(c.stored, 30);
	cr_expect_str_eq(c.json, "{\"n\": 30}");
	cr_expect_eq(c.nf, 0);
	arena_free(&c.a);
	cr_expect_eq(store_check_last(st, "c.example", &c), 1);
	arena_free(&c.a);

	/* what the table refuses is an error, and nothing is stored */
	memset(&in, 0, sizeof(in));
	in.domain = "a.example";
	in.checked_at = T0 + 40 * 3600;
	in.result = "fine";
	in.json = "{}";
	cr_expect_eq(store_check_put(st, &in, 30, NULL), -1);
	cr_expect_not_null(strstr(store_errstr(st), "cannot store the check: "),
	    "%s", store_errstr(st));
	in.result = "ok";
	in.json = "[1]";
	cr_expect_eq(store_check_put(st, &in, 30, NULL), -1);
	in.json = "{not json";
	cr_expect_eq(store_check_put(st, &in, 30, NULL), -1);
	cr_expect_eq(store_check_put(st, &in, 0, NULL), -1);
	cr_expect_eq(count("a.example"), 30);
	cr_expect_eq(oldest("a.example"), T0 + 3600);
	store_close(st);
}

/*
 * `tlsrpt prune --older-than 15` on 2026-12-01: the cutoff is
 * 2026-11-16T00:00:00Z; a check made before it goes, one made at it and
 * one after stay.
 */
Test(check_store, prune_removes_old_checks)
{
	struct store	*st;
	char		*out;
	int64_t		 cut = 1794787200;	/* 2026-11-16T00:00:00Z */

	dtu_make_db(&tdb, &have_db, "check_prune");
	st = stu_open(&tdb, 0);
	(void)put(st, "a.example", cut - 1, "ok", "{}");
	(void)put(st, "a.example", cut, "ok", "{}");
	(void)put(st, "b.example", cut + 4 * 86400, "ok", "{}");
	store_close(st);
	out = dtu_run("TLSRPT_NOW=2026-12-01T12:00:00Z %s prune --older-than "
	    "15 --dry-run --db '%s' 2>&1", dtu_bin("TLSRPT_BIN", "bin/tlsrpt"),
	    tdb.conninfo);
	cr_expect_not_null(strstr(out, "cutoff 2026-11-16T00:00:00Z"), "%s",
	    out);
	cr_expect_not_null(strstr(out, "\n  live checks                   1\n"),
	    "%s", out);
	free(out);
	cr_expect_eq(count("a.example"), 2);
	out = dtu_run("TLSRPT_NOW=2026-12-01T12:00:00Z %s prune --older-than "
	    "15 --db '%s' 2>&1", dtu_bin("TLSRPT_BIN", "bin/tlsrpt"),
	    tdb.conninfo);
	cr_expect_not_null(strstr(out, "removed:\n"), "%s", out);
	cr_expect_not_null(strstr(out, "\n  live checks                   1\n"),
	    "%s", out);
	free(out);
	cr_expect_eq(count("a.example"), 1);
	cr_expect_eq(oldest("a.example"), cut);
	cr_expect_eq(count("b.example"), 1);
	out = dtu_run("TLSRPT_NOW=2026-12-01T12:00:00Z %s prune --older-than "
	    "15 --db '%s' 2>&1", dtu_bin("TLSRPT_BIN", "bin/tlsrpt"),
	    tdb.conninfo);
	cr_expect_not_null(strstr(out, "\n  live checks                   0\n"),
	    "%s", out);
	free(out);
}

static int
web_ready(void *arg)
{
	char	*out;
	int	 ok;

	(void)arg;
	out = dtu_run("curl -s --max-time 5 -o /dev/null -w '%%{http_code}' "
	    "http://127.0.0.1:%d/style.css", wport);
	ok = strcmp(out, "200") == 0;
	free(out);
	return ok;
}

/* GET path as user ("NAME:PASSWORD"): the body, *code. */
static char *
get(const char *user, const char *path, int *code)
{
	char	*out, *nl;

	out = dtu_run("curl -s --max-time 20 -u '%s' -w '\\n%%{http_code}' "
	    "'http://127.0.0.1:%d%s'", user, wport, path);
	nl = strrchr(out, '\n');
	cr_assert_not_null(nl, "%s", out);
	*code = atoi(nl + 1);
	*nl = '\0';
	return out;
}

/* Markup in every field of a stored check that the page shows. */
#define A_JSON								\
	"{\"domain\": \"a.example\", \"result\": \"critical\","	\
	" \"sts_id\": \"<img src=x onerror=alert(1)>\","		\
	" \"policy\": {\"mode\": \"<u>testing</u>\", \"max_age\": 1,"	\
	" \"mx\": []}, \"rua\": [], \"mx\": [{\"host\":"		\
	" \"<svg onload=alert(1)>.a.example\", \"preference\": 10,"	\
	" \"covered\": true, \"starttls\": true, \"tls_version\": \"1.3\","\
	" \"certificate_valid\": false, \"certificate_days\": 5,"	\
	" \"dane\": \"<b>match</b>\"}], \"findings\": [{\"severity\":"	\
	" \"critical\", \"code\": \"x-<b>code</b>\", \"what\":"	\
	" \"A-secret </td><script>alert(1)</script>\", \"rfc\":"	\
	" \"RFC <i>1</i>\", \"next\": \"do \\\"this\\\" & 'that'\"}]}"
#define B_JSON								\
	"{\"domain\": \"b.example\", \"result\": \"warning\","		\
	" \"findings\": [{\"severity\": \"warning\", \"code\":"	\
	" \"sts-record-missing\", \"what\": \"B-secret-finding\","	\
	" \"rfc\": \"RFC 8461 §3.1\", \"next\": \"publish it\"}]}"

/*
 * alice sees a.example and *.a.example, bob b.example: each sees the
 * check of his own domain, and the other's is 404 by URL and absent by
 * query parameter, on the page and in the API.  Every stored string is
 * text on the page and has no '<' in the JSON.
 */
Test(check_store, dashboard_tenants_and_markup)
{
	struct store	*st;
	json_object	*root, *lc, *chk, *f, *v;
	char		*body;
	int		 code;

	dtu_make_db(&tdb, &have_db, "check_web");
	st = stu_open(&tdb, 0);
	(void)put(st, "a.example", T0, "critical", A_JSON);
	(void)put(st, "b.example", T0 + 60, "warning", B_JSON);
	store_close(st);
	dtu_write_file(dtu_S("%s/users", tdir), "alice:" H_ALICE
	    ":a.example,*.a.example\nbob:" H_BOB ":b.example\n",
	    strlen("alice:" H_ALICE ":a.example,*.a.example\nbob:" H_BOB
	    ":b.example\n"));
	wport = dtu_free_port();
	wpid = dtu_spawn(dtu_S("exec %s --listen 127.0.0.1:%d --db '%s' "
	    "--users %s/users >%s/web.log 2>&1", dtu_bin("TLSRPT_WEB_BIN",
	    "bin/tlsrpt-web"), wport, tdb.conninfo, tdir, tdir));
	cr_assert(dtu_wait_ready(wpid, web_ready, NULL, "tlsrpt-web",
	    dtu_S("%s/web.log", tdir)));

	body = get("alice:alice-pw", "/domain/a.example", &code);
	cr_expect_eq(code, 200, "%s", body);
	cr_expect_not_null(strstr(body, "<p id=\"live-check\">Checked <time>"
	    "2025-12-01T00:00:00Z</time>"), "%s", body);
	cr_expect_not_null(strstr(body, "<b class=\"CRITICAL\" id=\"live-"
	    "result\">critical</b>, 1 critical, 0 warnings; held against the "
	    "reports of the 14 days before it. _mta-sts id &lt;img src=x "
	    "onerror=alert(1)&gt;. Policy mode &lt;u&gt;testing&lt;/u&gt;. "
	    "1 check of this domain stored.</p>"), "%s", body);
	cr_expect_not_null(strstr(body, "<tr><td>&lt;svg onload=alert(1)&gt;"
	    ".a.example</td><td class=\"n\">10</td><td>yes</td><td>yes</td>"
	    "<td>1.3</td><td>NOT valid</td><td class=\"n\">5</td><td>&lt;b&gt;"
	    "match&lt;/b&gt;</td></tr>"), "%s", body);
	cr_expect_not_null(strstr(body, "<tr><td class=\"CRITICAL\">critical"
	    "</td><td>x-&lt;b&gt;code&lt;/b&gt;</td><td>A-secret &lt;/td&gt;"
	    "&lt;script&gt;alert(1)&lt;/script&gt;</td><td>RFC &lt;i&gt;1&lt;"
	    "/i&gt;</td><td>do &quot;this&quot; &amp; &#39;that&#39;</td>"
	    "</tr>"), "%s", body);
	cr_expect_null(strstr(body, "<script"), "%s", body);
	cr_expect_null(strstr(body, "<svg onload"), "%s", body);
	cr_expect_null(strstr(body, "<img"), "%s", body);
	cr_expect_null(strstr(body, "B-secret"), "%s", body);
	free(body);

	body = get("alice:alice-pw", "/api/domain/a.example", &code);
	cr_expect_eq(code, 200, "%s", body);
	cr_expect_null(strchr(body, '<'), "%s", body);
	root = json_tokener_parse(body);
	cr_assert_not_null(root, "not JSON: %s", body);
	cr_assert(json_object_object_get_ex(root, "live_check", &lc));
	cr_assert(json_object_object_get_ex(lc, "checked_at", &v));
	cr_expect_str_eq(json_object_get_string(v), "2025-12-01T00:00:00Z");
	cr_assert(json_object_object_get_ex(lc, "report_days", &v));
	cr_expect_eq(json_object_get_int(v), 14);
	cr_assert(json_object_object_get_ex(lc, "stored", &v));
	cr_expect_eq(json_object_get_int(v), 1);
	cr_assert(json_object_object_get_ex(lc, "check", &chk));
	cr_assert(json_object_object_get_ex(chk, "sts_id", &v));
	cr_expect_str_eq(json_object_get_string(v),
	    "<img src=x onerror=alert(1)>");
	cr_assert(json_object_object_get_ex(chk, "findings", &f));
	cr_assert_eq(json_object_array_length(f), 1);
	cr_assert(json_object_object_get_ex(json_object_array_get_idx(f, 0),
	    "what", &v));
	cr_expect_str_eq(json_object_get_string(v),
	    "A-secret </td><script>alert(1)</script>");
	cr_assert(json_object_object_get_ex(json_object_array_get_idx(f, 0),
	    "next", &v));
	cr_expect_str_eq(json_object_get_string(v), "do \"this\" & 'that'");
	json_object_put(root);
	free(body);

	/* the other tenant's check: by URL 404, by parameter absent */
	body = get("alice:alice-pw", "/domain/b.example", &code);
	cr_expect_eq(code, 404);
	cr_expect_null(strstr(body, "B-secret"), "%s", body);
	free(body);
	body = get("alice:alice-pw", "/api/domain/b.example", &code);
	cr_expect_eq(code, 404);
	cr_expect_null(strstr(body, "B-secret"), "%s", body);
	free(body);
	body = get("alice:alice-pw", "/domain/a.example?domain=b.example",
	    &code);
	cr_expect_eq(code, 200);
	cr_expect_null(strstr(body, "B-secret"), "%s", body);
	cr_expect_not_null(strstr(body, "A-secret"), "%s", body);
	free(body);
	body = get("alice:alice-pw", "/api/domain/a.example?domain=b.example",
	    &code);
	cr_expect_eq(code, 200);
	cr_expect_null(strstr(body, "B-secret"), "%s", body);
	free(body);
	body = get("alice:alice-pw", "/domain/B.EXAMPLE", &code);
	cr_expect_eq(code, 404);
	cr_expect_null(strstr(body, "B-secret"), "%s", body);
	free(body);
	/* a.example's subdomain is alice's, but has no check */
	body = get("alice:alice-pw", "/domain/mail.a.example", &code);
	cr_expect_eq(code, 200);
	cr_expect_not_null(strstr(body, "No live check stored; run <code>"
	    "tlsrpt check --store --domain mail.a.example</code>"), "%s", body);
	free(body);

	/* bob: his own, and not alice's */
	body = get("bob:bob-pw", "/domain/b.example", &code);
	cr_expect_eq(code, 200);
	cr_expect_not_null(strstr(body, "<td>B-secret-finding</td>"), "%s",
	    body);
	free(body);
	body = get("bob:bob-pw", "/api/domain/a.example", &code);
	cr_expect_eq(code, 404);
	cr_expect_null(strstr(body, "A-secret"), "%s", body);
	free(body);
	body = get("nobody:x", "/domain/a.example", &code);
	cr_expect_eq(code, 401);
	cr_expect_null(strstr(body, "A-secret"), "%s", body);
	free(body);
}
