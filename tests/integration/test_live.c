/*
 * test_live.c -- tlsrpt check ($TLSRPT_BIN) against real servers on a
 * loopback address of its own: nsd serving the zone example., nginx
 * serving the policies over HTTPS with certificates of a test CA
 * (tests/live/servers.sh writes them), and, for port 25, a private
 * Postfix with STARTTLS (tests/live/smtp.sh).
 *
 * Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
 *
 * Needs root (ports 53, 443 and 25) and nsd, nginx, certtool: without
 * them the tests fail, saying so; they never pass unrun.  Each test
 * process takes its own 127.77.X.Y from its pid, so tests run in
 * parallel.  The findings expected for each scenario domain are worked
 * out here from what servers.sh publishes (its comments say what each
 * domain gets wrong), never taken from the program.
 */

#include <sys/socket.h>
#include <sys/wait.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <gmime/gmime.h>
#include <json-c/json.h>

#include "daemon_testutil.h"
#include "report_testutil.h"
#include "store.h"
#include "testutil.h"
#include "tlsrpt_limits.h"

#define RUA	"mailto:tlsrpt@collector.example"
#define NOW	"2026-12-01T12:00:00Z"

static char	lv_dir[64];
static char	lv_ip[32];
static pid_t	lv_nsd = -1, lv_nginx = -1;
static pid_t	lv_web = -1;		/* tlsrpt-web, when a test starts it */

static int
lv_tcp_ready(void *arg)
{
	struct sockaddr_in	sin;
	int			fd, ok;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)(intptr_t)arg);
	cr_assert_eq(inet_pton(AF_INET, lv_ip, &sin.sin_addr), 1);
	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) == -1)
		return 0;
	ok = connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0;
	close(fd);
	return ok;
}

static void
lv_need(const char *prog)
{
	cr_assert_eq(system(dtu_S("command -v %s >/dev/null 2>&1 || "
	    "test -x /usr/sbin/%s", prog, prog)), 0, "%s is not installed "
	    "(scripts/deps.sh test): the live check tests did not run", prog);
}

static void
lv_setup(void)
{
	pid_t	p = getpid();

	cr_assert_eq(geteuid(), 0, "tlsrpt check tests need root (ports 53 "
	    "and 443 on 127.77.x.y): they did not run");
	lv_need("nsd");
	lv_need("nginx");
	lv_need("certtool");
	snprintf(lv_ip, sizeof(lv_ip), "127.77.%d.%d", (int)(p / 250 % 250) +
	    1, (int)(p % 250) + 1);
	snprintf(lv_dir, sizeof(lv_dir), "/tmp/tlsrpt-live.XXXXXX");
	cr_assert_not_null(mkdtemp(lv_dir));
	dtu_sh("tests/live/servers.sh %s %s", lv_dir, lv_ip);
	lv_nsd = dtu_spawn(dtu_S("exec nsd -d -c %s/nsd.conf >%s/nsd.out "
	    "2>&1", lv_dir, lv_dir));
	lv_nginx = dtu_spawn(dtu_S("exec nginx -p %s -c %s/nginx.conf "
	    ">%s/nginx.out 2>&1", lv_dir, lv_dir, lv_dir));
	cr_assert(dtu_wait_ready(lv_nsd, lv_tcp_ready, (void *)(intptr_t)53,
	    "nsd", dtu_S("%s/nsd.log", lv_dir)), "nsd did not start");
	cr_assert(dtu_wait_ready(lv_nginx, lv_tcp_ready,
	    (void *)(intptr_t)443, "nginx", dtu_S("%s/nginx.err", lv_dir)),
	    "nginx did not start");
}

static void
lv_teardown(void)
{
	int	st;

	if (lv_web > 0)
		(void)dtu_stop(lv_web, SIGTERM, 40, &st);
	if (lv_nginx > 0)
		(void)dtu_stop(lv_nginx, SIGTERM, 40, &st);
	if (lv_nsd > 0)
		(void)dtu_stop(lv_nsd, SIGTERM, 40, &st);
	if (lv_dir[0] != '\0' && strncmp(lv_dir, "/tmp/tlsrpt-live.", 17) == 0)
		(void)system(dtu_S("rm -rf %s", lv_dir));
}

/* tlsrpt check with the test servers and args; its stdout (malloc'd)
 * and exit status. */
static char *
lv_check(int *rc, const char *args)
{
	struct tu_str	 out = { 0 }, cmd = { 0 };
	char		 buf[4096], *err;
	FILE		*p;
	size_t		 n;
	int		 st;

	/* without --db in args, not held against any reports; args may be
	 * longer than dtu_S() holds */
	tu_str_add(&cmd, "%s %s check --resolver %s --ca-file %s/ca.pem "
	    "--trust-anchor none --rua " RUA " --timeout 20 %s 2>%s/err",
	    strstr(args, "--db") != NULL ? "TLSRPT_NOW=" NOW :
	    "env -u TLSRPT_DB", dtu_bin("TLSRPT_BIN", "bin/tlsrpt"), lv_ip,
	    lv_dir, args, lv_dir);
	p = popen(cmd.s, "r");
	cr_assert_not_null(p);
	free(cmd.s);
	tu_str_add(&out, "%s", "");
	while ((n = fread(buf, 1, sizeof(buf) - 1, p)) > 0) {
		buf[n] = '\0';
		tu_str_add(&out, "%s", buf);
	}
	st = pclose(p);
	cr_assert(WIFEXITED(st), "tlsrpt check died: %s", out.s);
	*rc = WEXITSTATUS(st);
	/* its stderr went to a file: a sanitizer report there fails the
	 * test (make check's second pass, tests/run-suite.sh --sanitized) */
	err = dtu_run("grep -E 'ERROR: (AddressSanitizer|LeakSanitizer)|"
	    "runtime error:' %s/err || true", lv_dir);
	cr_assert_str_empty(err, "tlsrpt check: %s", err);
	free(err);
	return out.s;
}

/* The domain object named d in a check --format json answer. */
static json_object *
lv_domain(json_object *root, const char *d)
{
	json_object	*doms, *o, *name;
	size_t		 i;

	cr_assert(json_object_object_get_ex(root, "domains", &doms));
	for (i = 0; i < json_object_array_length(doms); i++) {
		o = json_object_array_get_idx(doms, i);
		if (json_object_object_get_ex(o, "domain", &name) &&
		    strcmp(json_object_get_string(name), d) == 0)
			return o;
	}
	cr_assert_fail("no domain %s in the answer", d);
	return NULL;
}

/* "severity:code severity:code ..." of a domain's findings; static. */
static const char *
lv_findings(json_object *dom, const char *want_in_what)
{
	static char	 buf[1024];
	json_object	*fs, *f, *v;
	size_t		 i, o = 0;
	int		 seen = want_in_what == NULL;

	buf[0] = '\0';
	cr_assert(json_object_object_get_ex(dom, "findings", &fs));
	for (i = 0; i < json_object_array_length(fs); i++) {
		f = json_object_array_get_idx(fs, i);
		cr_assert(json_object_object_get_ex(f, "severity", &v));
		o += (size_t)snprintf(buf + o, sizeof(buf) - o, "%s%s:",
		    o ? " " : "", json_object_get_string(v));
		cr_assert(json_object_object_get_ex(f, "code", &v));
		o += (size_t)snprintf(buf + o, sizeof(buf) - o, "%s",
		    json_object_get_string(v));
		/* every finding has its RFC section and a next step */
		cr_assert(json_object_object_get_ex(f, "rfc", &v));
		cr_assert(strncmp(json_object_get_string(v), "RFC ", 4) == 0);
		cr_assert(json_object_object_get_ex(f, "next", &v));
		cr_assert_gt(strlen(json_object_get_string(v)), 10);
		cr_assert(json_object_object_get_ex(f, "what", &v));
		if (want_in_what != NULL &&
		    strstr(json_object_get_string(v), want_in_what) != NULL)
			seen = 1;
		cr_assert_lt(o, sizeof(buf) - 1);
	}
	cr_expect(seen, "no finding of %s says \"%s\"",
	    json_object_to_json_string(dom), want_in_what);
	return buf;
}

TestSuite(live, .init = lv_setup, .fini = lv_teardown, .timeout = 180);

static int	lv_smtp_started;

static void
lv_smtp_setup(void)
{
	lv_setup();
	lv_need("postfix");
	dtu_sh("tests/live/smtp.sh start %s", lv_dir);
	lv_smtp_started = 1;
}

static void
lv_smtp_teardown(void)
{
	if (lv_smtp_started)
		(void)system(dtu_S("tests/live/smtp.sh stop %s", lv_dir));
	lv_teardown();
}

TestSuite(live_smtp, .init = lv_smtp_setup, .fini = lv_smtp_teardown,
    .timeout = 180);

/*
 * Every scenario domain of servers.sh in one run, each with exactly the
 * findings its setup calls for, in the check's order.
 */
Test(live, scenarios_dns_policy_tlsrpt_mx)
{
	static const struct {
		const char	*domain;
		const char	*want;		/* severity:code ... */
		const char	*what;		/* in a finding's text */
	} t[] = {
		{ "good.example", "", NULL },
		{ "nosts.example", "warning:sts-record-missing",
		    "_mta-sts.nosts.example" },
		{ "tworec.example", "warning:sts-record-multiple",
		    "2 TXT records" },
		{ "badid.example", "warning:sts-record-invalid",
		    "\"2026-01-01\"" },
		{ "p404.example", "warning:policy-status", "answered 404" },
		{ "redir.example", "warning:policy-redirect",
		    "301 to https://www.redir.example/mta-sts.txt" },
		{ "ctype.example", "warning:policy-media-type",
		    "\"text/html\"" },
		/* 64 KiB + 1 refused, 64 KiB exactly is a policy */
		{ "big.example", "warning:policy-too-large",
		    "65537 bytes, over 65536" },
		{ "exact.example", "", NULL },
		{ "wrongcert.example", "critical:policy-certificate",
		    "mta-sts.wrongcert.example" },
		{ "comma.example", "warning:tlsrpt-rua-invalid",
		    "\"b@comma.example\"" },
		{ "notfirst.example", "warning:tlsrpt-rua-not-first",
		    "rua URI 2 of 2" },
		/* enforce: refused mail, critical */
		{ "uncovered.example", "critical:mx-not-covered",
		    "MX mx2.uncovered.example" },
		{ "stale.example", "warning:mx-pattern-stale",
		    "\"mx: old.stale.example\"" },
		/* a NUL byte ends the C string, not the record */
		{ "nulsts.example", "warning:sts-record-invalid",
		    "NUL byte (after \"v=STSv1; id=1\")" },
		{ "nulrpt.example", "warning:tlsrpt-record-invalid",
		    "NUL byte" },
		/* testing: a warning; "*." covers one label only */
		{ "deep.example", "warning:mx-not-covered",
		    "MX a.b.deep.example" },
	};
	struct tu_str	 args = { 0 };
	json_object	*root, *d;
	char		*out;
	size_t		 i;
	int		 rc;

	tu_str_add(&args, "--format json --no-smtp");
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		tu_str_add(&args, " --domain %s", t[i].domain);
	out = lv_check(&rc, args.s);
	cr_assert_eq(rc, 2, "exit %d (a critical finding): %s", rc, out);
	root = json_tokener_parse(out);
	cr_assert_not_null(root, "not JSON: %s", out);
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		d = lv_domain(root, t[i].domain);
		cr_expect_str_eq(lv_findings(d, t[i].what), t[i].want,
		    "%s: %s", t[i].domain, json_object_to_json_string(d));
	}
	json_object_put(root);
	free(out);
	free(args.s);
}

/* What the check found for the good domain: the record's id, the policy
 * as parsed, the rua list, MX hosts by preference, each covered. */
Test(live, good_domain_details)
{
	json_object	*root, *d, *v, *p, *mx;
	char		*out;
	int		 rc;

	out = lv_check(&rc, "--format json --no-smtp --domain GOOD.example.");
	cr_assert_eq(rc, 0, "exit %d: %s", rc, out);
	root = json_tokener_parse(out);
	cr_assert_not_null(root, "%s", out);
	d = lv_domain(root, "good.example");
	cr_assert(json_object_object_get_ex(d, "result", &v));
	cr_expect_str_eq(json_object_get_string(v), "ok");
	cr_assert(json_object_object_get_ex(d, "sts_id", &v));
	cr_expect_str_eq(json_object_get_string(v), "20260101T01");
	cr_assert(json_object_object_get_ex(d, "policy", &p));
	cr_assert(json_object_object_get_ex(p, "mode", &v));
	cr_expect_str_eq(json_object_get_string(v), "testing");
	cr_assert(json_object_object_get_ex(p, "max_age", &v));
	cr_expect_eq(json_object_get_int64(v), 86400);
	cr_assert(json_object_object_get_ex(p, "mx", &v));
	cr_expect_str_eq(json_object_to_json_string_ext(v,
	    JSON_C_TO_STRING_PLAIN), "[\"mx1.good.example\","
	    "\"*.backup.good.example\"]");
	cr_assert(json_object_object_get_ex(d, "rua", &v));
	cr_expect_str_eq(json_object_to_json_string_ext(v,
	    JSON_C_TO_STRING_PLAIN), "[\"" RUA "\","
	    "\"https:\\/\\/tlsrpt.good.example\\/v1\\/report\"]");
	cr_assert(json_object_object_get_ex(d, "mx", &mx));
	cr_assert_eq(json_object_array_length(mx), 2);
	v = json_object_array_get_idx(mx, 0);
	cr_expect_str_eq(json_object_to_json_string_ext(v,
	    JSON_C_TO_STRING_PLAIN), "{\"host\":\"mx1.good.example\","
	    "\"preference\":10,\"covered\":true}");
	v = json_object_array_get_idx(mx, 1);
	cr_expect_str_eq(json_object_to_json_string_ext(v,
	    JSON_C_TO_STRING_PLAIN), "{\"host\":\"mx2.backup.good.example\","
	    "\"preference\":20,\"covered\":true}");
	json_object_put(root);
	free(out);
}

/* Exit codes: 0 nothing, 1 a warning, 2 a critical finding, 3 could not
 * run; and the text format says the same. */
Test(live, exit_codes_and_text)
{
	char	*out;
	int	 rc;

	out = lv_check(&rc, "--no-smtp --domain good.example");
	cr_expect_eq(rc, 0, "%s", out);
	cr_expect_str_eq(out, "good.example: ok\n"
	    "  _mta-sts id 20260101T01; policy mode testing, max_age 86400, "
	    "2 mx lines\n"
	    "  MX 10 mx1.good.example\n"
	    "  MX 20 mx2.backup.good.example\n"
	    "(no --db and no $TLSRPT_DB: not held against the stored "
	    "reports)\n");
	free(out);
	out = lv_check(&rc, "--no-smtp --domain stale.example");
	cr_expect_eq(rc, 1, "%s", out);
	cr_expect_not_null(strstr(out, "stale.example: warning (0 critical, "
	    "1 warning)\n"), "%s", out);
	cr_expect_not_null(strstr(out, "  warning  mx-pattern-stale: policy "
	    "line \"mx: old.stale.example\" matches no MX of stale.example "
	    "(RFC 8461 §4.1)\n           next: remove the mx: line from the "
	    "policy or publish the MX it was for, then change the id of "
	    "_mta-sts.stale.example\n"), "%s", out);
	free(out);
	out = lv_check(&rc, "--no-smtp --domain good.example --domain "
	    "wrongcert.example");
	cr_expect_eq(rc, 2, "%s", out);
	free(out);
	out = lv_check(&rc, "--no-smtp");
	cr_expect_eq(rc, 3, "no --domain: %s", out);
	free(out);
	out = lv_check(&rc, "--no-smtp --domain 'not a domain'");
	cr_expect_eq(rc, 3, "%s", out);
	free(out);
	out = lv_check(&rc, "--no-smtp --timeout 0 --domain good.example");
	cr_expect_eq(rc, 3, "%s", out);
	free(out);
	out = lv_check(&rc, "--no-smtp --format csv --domain good.example");
	cr_expect_eq(rc, 3, "%s", out);
	free(out);
	out = lv_check(&rc, "--no-smtp --ca-file /nonexistent --domain "
	    "good.example");
	/* an unreadable CA file: could not run */
	cr_expect_eq(rc, 3, "%s", out);
	free(out);
}

/*
 * 40 domains (bulk01..bulk40 of servers.sh), more than LIM_LIVE_PARALLEL,
 * given in a shuffled order: every one with its findings, in the order
 * given.  That they were checked at once is seen by nginx, not by the
 * program: it serves each policy over a few seconds and logs, at the end
 * of each, how many connections it has open; one domain after the other
 * would always be 1, and never more than LIM_LIVE_PARALLEL at once.
 */
#define LV_BULK	40

static void
lv_bulk_order(int *order)
{
	int	i;

	/* 7 is prime to 40: 8, 15, 22, 29, 36, 3, ... each once */
	for (i = 0; i < LV_BULK; i++)
		order[i] = (i * 7 + 7) % LV_BULK + 1;
}

Test(live, many_domains_at_once)
{
	struct tu_str	 args = { 0 };
	json_object	*root, *doms, *d, *v;
	char		*out, *log, *line, *save = NULL, host[128], want[64];
	int		 order[LV_BULK], seen[LV_BULK + 1], i, rc, n, peak = 0;
	int		 active, lines = 0;

	lv_bulk_order(order);
	tu_str_add(&args, "--format json --no-smtp");
	for (i = 0; i < LV_BULK; i++)
		tu_str_add(&args, " --domain bulk%02d.example", order[i]);
	out = lv_check(&rc, args.s);
	/* a quarter without _smtp._tls: warnings, nothing critical */
	cr_assert_eq(rc, 1, "exit %d: %s", rc, out);
	root = json_tokener_parse(out);
	cr_assert_not_null(root, "not JSON: %s", out);
	cr_assert(json_object_object_get_ex(root, "domains", &doms));
	cr_assert_eq(json_object_array_length(doms), LV_BULK);
	for (i = 0; i < LV_BULK; i++) {
		d = json_object_array_get_idx(doms, (size_t)i);
		cr_assert(json_object_object_get_ex(d, "domain", &v));
		snprintf(want, sizeof(want), "bulk%02d.example", order[i]);
		cr_expect_str_eq(json_object_get_string(v), want,
		    "answer %d is not of the domain given %d", i, i);
		cr_expect_str_eq(lv_findings(d, NULL), order[i] % 4 == 0 ?
		    "warning:tlsrpt-record-missing" : "", "%s: %s", want,
		    json_object_to_json_string(d));
	}
	json_object_put(root);
	free(out);

	/* nginx's side: every policy fetched once, at times many at once */
	memset(seen, 0, sizeof(seen));
	log = dtu_run("cat %s/bulk.log", lv_dir);
	for (line = strtok_r(log, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		cr_assert_eq(sscanf(line, "%127s %d", host, &active), 2,
		    "bulk.log: \"%s\"", line);
		cr_assert_eq(sscanf(host, "mta-sts.bulk%d.example", &n), 1,
		    "%s", host);
		cr_assert(n >= 1 && n <= LV_BULK, "%s", host);
		seen[n]++;
		lines++;
		if (active > peak)
			peak = active;
	}
	cr_expect_eq(lines, LV_BULK, "%d fetches logged", lines);
	for (i = 1; i <= LV_BULK; i++)
		cr_expect_eq(seen[i], 1, "bulk%02d fetched %d times", i,
		    seen[i]);
	cr_expect_gt(peak, 1, "nginx never had two connections open: the "
	    "domains were checked one after the other");
	cr_expect_leq(peak, LIM_LIVE_PARALLEL, "nginx had %d connections "
	    "open at once", peak);
	free(log);
	free(args.s);
}

/*
 * The bound of many domains: a resolver that never answers, 40 domains
 * with --timeout 2: at most ceil(40 / LIM_LIVE_PARALLEL) = 2 deadlines,
 * 4 s; asserted with a generous margin (one after the other would be
 * 80 s).  Every domain says its lookups went unanswered.
 */
Test(live, many_domains_total_deadline)
{
	struct sockaddr_in	 sin;
	struct timespec		 t0, t1;
	socklen_t		 sl = sizeof(sin);
	struct tu_str		 args = { 0 }, o = { 0 }, c = { 0 };
	json_object		*root, *doms, *d;
	char			 buf[4096], *cmd;
	double			 secs;
	size_t			 n;
	int			 fd, rc, st, i;
	FILE			*p;

	fd = socket(AF_INET, SOCK_DGRAM, 0);
	cr_assert_geq(fd, 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	cr_assert_eq(inet_pton(AF_INET, lv_ip, &sin.sin_addr), 1);
	cr_assert_eq(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	cr_assert_eq(getsockname(fd, (struct sockaddr *)&sin, &sl), 0);
	for (i = 1; i <= LV_BULK; i++)
		tu_str_add(&args, " --domain bulk%02d.example", i);
	tu_str_add(&c, "env -u TLSRPT_DB %s check --resolver %s@%d "
	    "--trust-anchor none --no-smtp --timeout 2 --format json%s "
	    "2>%s/err", dtu_bin("TLSRPT_BIN", "bin/tlsrpt"), lv_ip,
	    ntohs(sin.sin_port), args.s, lv_dir);
	cmd = c.s;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	p = popen(cmd, "r");
	cr_assert_not_null(p);
	tu_str_add(&o, "%s", "");
	while ((n = fread(buf, 1, sizeof(buf) - 1, p)) > 0) {
		buf[n] = '\0';
		tu_str_add(&o, "%s", buf);
	}
	st = pclose(p);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	secs = (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) /
	    1e9;
	cr_assert(WIFEXITED(st));
	rc = WEXITSTATUS(st);
	cr_expect_eq(rc, 1, "%s", o.s);
	cr_expect_lt(secs, 30.0, "40 domains took %.1f s with --timeout 2",
	    secs);
	root = json_tokener_parse(o.s);
	cr_assert_not_null(root, "not JSON: %s", o.s);
	cr_assert(json_object_object_get_ex(root, "domains", &doms));
	cr_assert_eq(json_object_array_length(doms), LV_BULK);
	for (i = 0; i < LV_BULK; i++) {
		d = json_object_array_get_idx(doms, (size_t)i);
		cr_expect_not_null(strstr(json_object_to_json_string(d),
		    "no answer before the deadline"), "%s",
		    json_object_to_json_string(d));
	}
	json_object_put(root);
	close(fd);
	free(cmd);
	free(o.s);
	free(args.s);
}

/*
 * A resolver that never answers: the check ends by its deadline
 * (--timeout 2, asserted with a generous margin) and says which
 * lookups went unanswered.
 */
Test(live, deadline_with_a_silent_resolver)
{
	struct sockaddr_in	 sin;
	struct timespec		 t0, t1;
	socklen_t		 sl = sizeof(sin);
	char			*out, *cmd;
	double			 secs;
	int			 fd, rc, st;
	FILE			*p;
	struct tu_str		 o = { 0 };
	char			 buf[4096];
	size_t			 n;

	fd = socket(AF_INET, SOCK_DGRAM, 0);
	cr_assert_geq(fd, 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	cr_assert_eq(inet_pton(AF_INET, lv_ip, &sin.sin_addr), 1);
	cr_assert_eq(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	cr_assert_eq(getsockname(fd, (struct sockaddr *)&sin, &sl), 0);
	cmd = strdup(dtu_S("env -u TLSRPT_DB %s check --resolver %s@%d "
	    "--trust-anchor none "
	    "--no-smtp --timeout 2 --format json --domain good.example",
	    dtu_bin("TLSRPT_BIN", "bin/tlsrpt"), lv_ip,
	    ntohs(sin.sin_port)));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	p = popen(cmd, "r");
	cr_assert_not_null(p);
	tu_str_add(&o, "%s", "");
	while ((n = fread(buf, 1, sizeof(buf) - 1, p)) > 0) {
		buf[n] = '\0';
		tu_str_add(&o, "%s", buf);
	}
	st = pclose(p);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	out = o.s;
	secs = (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) /
	    1e9;
	cr_assert(WIFEXITED(st));
	rc = WEXITSTATUS(st);
	cr_expect_eq(rc, 1, "%s", out);
	cr_expect_lt(secs, 15.0, "took %.1f s with --timeout 2", secs);
	cr_expect_not_null(strstr(out, "_mta-sts.good.example TXT: no answer "
	    "before the deadline"), "%s", out);
	cr_expect_not_null(strstr(out, "good.example MX: no answer before "
	    "the deadline"), "%s", out);
	close(fd);
	free(cmd);
	free(out);
}

/*
 * Port 25 of each MX scenario of servers.sh (one private Postfix, one
 * smtpd per address): STARTTLS, the chain to the test CA, the name, the
 * days left (certificates made just now: valid N days is N - 1 whole
 * days left).  Their DNS and policies are right, so only these count.
 */
Test(live_smtp, starttls_certificates_expiry)
{
	static const struct {
		const char	*domain;
		const char	*want;
		const char	*what;
	} t[] = {
		{ "mxgood.example", "", NULL },
		{ "mxexpired.example", "critical:mx-certificate-expired",
		    "MX mx1.mxexpired.example: the certificate has expired" },
		{ "mxnotls.example", "critical:mx-no-starttls",
		    "mx1.mxnotls.example does not offer STARTTLS" },
		{ "mxname.example", "critical:mx-certificate-name",
		    "does not name mx1.mxname.example" },
		{ "mxsoon.example", "warning:mx-certificate-expiring",
		    "expires in 4 days" },
		{ "mxuntrusted.example", "critical:mx-certificate-untrusted",
		    "issuer is unknown" },
		/* both problems, not only the first */
		{ "mxexpself.example", "critical:mx-certificate-untrusted "
		    "critical:mx-certificate-expired",
		    "MX mx1.mxexpself.example: the certificate has expired" },
		/* 14 days left: none; 13: a warning; 2: critical */
		{ "mxday14.example", "", NULL },
		{ "mxday13.example", "warning:mx-certificate-expiring",
		    "expires in 13 days" },
		{ "mxday2.example", "critical:mx-certificate-expiring",
		    "expires in 2 days" },
	};
	struct tu_str	 args = { 0 };
	json_object	*root, *d, *mx, *m, *v;
	char		*out;
	size_t		 i;
	int		 rc;

	tu_str_add(&args, "--format json");
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		tu_str_add(&args, " --domain %s", t[i].domain);
	out = lv_check(&rc, args.s);
	cr_assert_eq(rc, 2, "exit %d: %s", rc, out);
	root = json_tokener_parse(out);
	cr_assert_not_null(root, "not JSON: %s", out);
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		d = lv_domain(root, t[i].domain);
		cr_expect_str_eq(lv_findings(d, t[i].what), t[i].want,
		    "%s: %s", t[i].domain, json_object_to_json_string(d));
	}
	/* what the good MX presented */
	d = lv_domain(root, "mxgood.example");
	cr_assert(json_object_object_get_ex(d, "mx", &mx));
	cr_assert_eq(json_object_array_length(mx), 1);
	m = json_object_array_get_idx(mx, 0);
	cr_assert(json_object_object_get_ex(m, "starttls", &v));
	cr_expect(json_object_get_boolean(v));
	cr_assert(json_object_object_get_ex(m, "tls_version", &v));
	cr_expect(strcmp(json_object_get_string(v), "1.2") == 0 ||
	    strcmp(json_object_get_string(v), "1.3") == 0, "%s",
	    json_object_get_string(v));
	cr_assert(json_object_object_get_ex(m, "certificate_valid", &v));
	cr_expect(json_object_get_boolean(v));
	cr_assert(json_object_object_get_ex(m, "certificate_days", &v));
	cr_expect_eq(json_object_get_int64(v), 19);
	/* and the one without STARTTLS */
	d = lv_domain(root, "mxnotls.example");
	cr_assert(json_object_object_get_ex(d, "mx", &mx));
	m = json_object_array_get_idx(mx, 0);
	cr_assert(json_object_object_get_ex(m, "starttls", &v));
	cr_expect(!json_object_get_boolean(v));
	json_object_put(root);
	free(out);
	free(args.s);
}

/*
 * DANE (RFC 7672) in the DNSSEC-signed zone, validated from the zone's
 * own key (--trust-anchor DIR/ta.key): a TLSA record matching the MX's
 * key, one of another key, and one whose signature was broken after
 * signing.  Everything else of these domains is right and validates.
 */
Test(live_smtp, dane_match_mismatch_bogus)
{
	static const struct {
		const char	*domain;
		const char	*want;
		const char	*what;
		const char	*dane;		/* the MX's "dane", or NULL */
	} t[] = {
		{ "danematch.example", "", NULL, "match" },
		{ "danemismatch.example", "critical:mx-dane-mismatch",
		    "matches no TLSA record of _25._tcp.mx1.danemismatch."
		    "example", "mismatch" },
		{ "danebogus.example", "critical:dnssec-bogus",
		    "_25._tcp.mx1.danebogus.example TLSA: DNSSEC validation "
		    "failed", NULL },
		/* no TLSA at all: no DANE, nothing wrong */
		{ "mxgood.example", "", NULL, NULL },
		/* DANE-EE matches: the wrong name and the 1 day left are
		 * notes, not findings (RFC 7672 §3.1.1) */
		{ "daneee.example", "ok:mx-dane-ee-waived "
		    "ok:mx-dane-ee-waived", "MX mx1.daneee.example: the "
		    "certificate does not name mx1.daneee.example "
		    "(mx-certificate-name); waived: a DANE-EE TLSA record of "
		    "_25._tcp.mx1.daneee.example matches", "match" },
	};
	struct tu_str	 args = { 0 };
	json_object	*root, *d, *mx, *m, *v;
	char		*out;
	size_t		 i;
	int		 rc;

	/* the anchor replaces "none" (the later option wins) */
	tu_str_add(&args, "--format json --trust-anchor %s/ta.key", lv_dir);
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		tu_str_add(&args, " --domain %s", t[i].domain);
	out = lv_check(&rc, args.s);
	cr_assert_eq(rc, 2, "exit %d: %s", rc, out);
	root = json_tokener_parse(out);
	cr_assert_not_null(root, "not JSON: %s", out);
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		d = lv_domain(root, t[i].domain);
		cr_expect_str_eq(lv_findings(d, t[i].what), t[i].want,
		    "%s: %s", t[i].domain, json_object_to_json_string(d));
		cr_assert(json_object_object_get_ex(d, "mx", &mx));
		m = json_object_array_get_idx(mx, 0);
		if (t[i].dane == NULL)
			cr_expect(!json_object_object_get_ex(m, "dane", &v),
			    "%s", json_object_to_json_string(m));
		else {
			cr_assert(json_object_object_get_ex(m, "dane", &v),
			    "%s", json_object_to_json_string(m));
			cr_expect_str_eq(json_object_get_string(v),
			    t[i].dane);
		}
	}
	json_object_put(root);
	free(out);
	free(args.s);
}

/* The words of s (space-separated) sorted, into a static buffer. */
static const char *
lv_sorted(const char *s)
{
	static char	 buf[1024];
	char		*w[64], tmp[1024], *p, *save = NULL;
	size_t		 n = 0, i, j, o = 0;

	snprintf(tmp, sizeof(tmp), "%s", s);
	for (p = strtok_r(tmp, " ", &save); p != NULL && n < 64;
	    p = strtok_r(NULL, " ", &save))
		w[n++] = p;
	for (i = 1; i < n; i++)
		for (j = i; j > 0 && strcmp(w[j - 1], w[j]) > 0; j--) {
			p = w[j];
			w[j] = w[j - 1];
			w[j - 1] = p;
		}
	buf[0] = '\0';
	for (i = 0; i < n; i++)
		o += (size_t)snprintf(buf + o, sizeof(buf) - o, "%s%s",
		    i ? " " : "", w[i]);
	return buf;
}

/*
 * Held against the stored reports (a real PostgreSQL, reports stored
 * through the store): good.example publishes mode testing, mx lines
 * mx1.good.example and *.backup.good.example, max_age 86400 (servers.sh);
 * the clock is 2026-12-01 12:00 UTC and the window 14 days.
 *   Alpha, 2026-11-29: mode enforce, mx1 only, max_age 604800, and 3
 *     failed sessions at old-mx.good.example: cached at the latest at
 *     the end of 11-29, so until 11-30 + 7 days = 2026-12-07;
 *   Gamma, 2026-11-30, and Delta, 2026-11-25: testing, mx1 only, max_age
 *     86400: Gamma's copy lives until 12-01 + 1 day = 2026-12-02, Delta's
 *     ran out on 11-27 (not fetched again), and Delta is quiet since;
 *   Beta, 2026-11-20: the live policy exactly; quiet since.
 * (The store keeps reporter names in lower case.)
 */
Test(live, held_against_the_reports)
{
	static const char *const what[] = {
		"alpha applied mode enforce (live testing), max_age 604800 "
		    "(live 86400), mx mx1.good.example (live mx1.good.example "
		    "*.backup.good.example) on 2026-11-29; still cached, "
		    "expected until 2026-12-07",
		"gamma applied mx mx1.good.example (live mx1.good.example "
		    "*.backup.good.example) on 2026-11-30; still cached, "
		    "expected until 2026-12-02",
		"delta applied mx mx1.good.example (live mx1.good.example "
		    "*.backup.good.example) on 2026-11-25; past its max_age: "
		    "the live policy was not fetched",
		"reports name MX old-mx.good.example (3 failed sessions) that "
		    "is not a live MX of good.example",
		"beta sent no report after 2026-11-20",
		"delta sent no report after 2026-11-25",
	};
	struct stu_db	 db;
	struct store	*st;
	json_object	*root, *d, *fs, *v;
	char		*out;
	size_t		 i, j;
	int		 have = 0, rc, seen;
	const char	*old = "version: STSv1|mode: testing|mx: "
			    "mx1.good.example|max_age: 86400";

	dtu_make_db(&db, &have, "live_reports");
	st = stu_open(&db, 0);
	rtu_put(st, "Alpha", "a1", "2026-11-29", rtu_sts("good.example",
	    "version: STSv1|mode: enforce|mx: mx1.good.example|max_age: "
	    "604800", 100, 3, rtu_detail("certificate-expired",
	    "old-mx.good.example", NULL, NULL, NULL, 3)));
	rtu_put(st, "Gamma", "g1", "2026-11-30", rtu_sts("good.example", old,
	    10, 0, NULL));
	rtu_put(st, "Delta", "d1", "2026-11-25", rtu_sts("good.example", old,
	    10, 0, NULL));
	rtu_put(st, "Beta", "b1", "2026-11-20", rtu_sts("good.example",
	    "version: STSv1|mode: testing|mx: mx1.good.example|mx: "
	    "*.backup.good.example|max_age: 86400", 50, 0, NULL));
	store_close(st);

	out = lv_check(&rc, dtu_S("--no-smtp --format json --days 14 --db "
	    "'%s' --domain good.example", db.conninfo));
	cr_assert_eq(rc, 1, "exit %d: %s", rc, out);
	root = json_tokener_parse(out);
	cr_assert_not_null(root, "not JSON: %s", out);
	cr_assert(json_object_object_get_ex(root, "held_against_reports",
	    &v));
	cr_expect(json_object_get_boolean(v));
	d = lv_domain(root, "good.example");
	cr_expect_str_eq(lv_sorted(lv_findings(d, NULL)), lv_sorted(
	    "warning:reports-policy-cached warning:reports-policy-cached "
	    "warning:reports-policy-old warning:reports-mx-unknown "
	    "warning:reports-reporter-stopped "
	    "warning:reports-reporter-stopped"), "%s",
	    json_object_to_json_string(d));
	cr_assert(json_object_object_get_ex(d, "findings", &fs));
	for (i = 0; i < sizeof(what) / sizeof(what[0]); i++) {
		for (seen = 0, j = 0; j < json_object_array_length(fs); j++) {
			cr_assert(json_object_object_get_ex(
			    json_object_array_get_idx(fs, j), "what", &v));
			seen |= strcmp(json_object_get_string(v), what[i]) ==
			    0;
		}
		cr_expect(seen, "no finding \"%s\" in %s", what[i],
		    json_object_to_json_string(fs));
	}
	json_object_put(root);
	free(out);

	/* --all: the domains with reports in the window, here one */
	out = lv_check(&rc, dtu_S("--no-smtp --format json --all --days 14 "
	    "--db '%s'", db.conninfo));
	cr_expect_eq(rc, 1, "exit %d: %s", rc, out);
	root = json_tokener_parse(out);
	cr_assert_not_null(root, "not JSON: %s", out);
	cr_assert(json_object_object_get_ex(root, "domains", &fs));
	cr_assert_eq(json_object_array_length(fs), 1, "%s", out);
	cr_assert(json_object_object_get_ex(json_object_array_get_idx(fs, 0),
	    "domain", &v));
	cr_expect_str_eq(json_object_get_string(v), "good.example");
	json_object_put(root);
	free(out);
	/* --days 1: since 2026-11-30 12:00, no report starts in it */
	out = lv_check(&rc, dtu_S("--no-smtp --all --days 1 --db '%s'",
	    db.conninfo));
	cr_expect_eq(rc, 0, "exit %d: %s", rc, out);
	cr_expect_str_eq(out, "no policy domain has reports in the last 1 "
	    "days\n", "%s", out);
	free(out);
	stu_db_drop(&db);
}

/* `tlsrpt readiness --live`: its stdout and exit status. */
static char *
lv_readiness(int *rc, const struct stu_db *db, const char *domain,
    const char *more)
{
	char	*out, *cmd;
	int	 st;

	cmd = strdup(dtu_S("TLSRPT_NOW=" NOW " %s readiness --domain %s "
	    "--days 14 --live --resolver %s --ca-file %s/ca.pem "
	    "--trust-anchor none --timeout 20 --db '%s' %s; echo \"rc=$?\"",
	    dtu_bin("TLSRPT_BIN", "bin/tlsrpt"), domain, lv_ip, lv_dir,
	    db->conninfo, more));
	out = dtu_run("%s", cmd);
	free(cmd);
	cr_assert_not_null(strstr(out, "rc="), "%s", out);
	st = atoi(strrchr(out, '=') + 1);
	*strstr(out, "rc=") = '\0';
	*rc = st;
	return out;
}

/*
 * readiness --live: eight days of reports from two reporters applying
 * the live policy, no failures: READY from the reports (7 days and 2
 * reporters wanted).  good.example's live setup has no critical finding
 * (its MX hosts do not answer on port 25 here: warnings), so READY
 * stays; wrongcert.example, with the same reports, presents a wrong
 * certificate for mta-sts (critical), so the verdict becomes NOT READY.
 */
Test(live, readiness_live)
{
	const char	*good = "version: STSv1|mode: testing|mx: "
			    "mx1.good.example|mx: *.backup.good.example|"
			    "max_age: 86400";
	const char	*wrong = "version: STSv1|mode: testing|mx: "
			    "mx1.wrongcert.example|max_age: 86400";
	struct stu_db	 db;
	struct store	*st;
	json_object	*root, *v;
	char		*out, id[32];
	int		 have = 0, rc, i;

	dtu_make_db(&db, &have, "live_readiness");
	st = stu_open(&db, 0);
	for (i = 0; i < 8; i++) {
		snprintf(id, sizeof(id), "a%d", i);
		rtu_put(st, "Alpha", id, rtu_day("2026-11-23", i),
		    rtu_sts("good.example", good, 100, 0, NULL));
		snprintf(id, sizeof(id), "b%d", i);
		rtu_put(st, "Beta", id, rtu_day("2026-11-23", i),
		    rtu_sts("good.example", good, 100, 0, NULL));
		snprintf(id, sizeof(id), "c%d", i);
		rtu_put(st, "Alpha", id, rtu_day("2026-11-23", i),
		    rtu_sts("wrongcert.example", wrong, 100, 0, NULL));
		snprintf(id, sizeof(id), "d%d", i);
		rtu_put(st, "Beta", id, rtu_day("2026-11-23", i),
		    rtu_sts("wrongcert.example", wrong, 100, 0, NULL));
	}
	store_close(st);

	out = lv_readiness(&rc, &db, "good.example", "");
	cr_expect_eq(rc, 0, "%s", out);
	cr_expect_not_null(strstr(out, "\nlive check (now):\ngood.example: "
	    "warning (0 critical, 2 warnings)\n"), "%s", out);
	cr_expect_not_null(strstr(out, "verdict with the live check: READY\n"),
	    "%s", out);
	free(out);

	out = lv_readiness(&rc, &db, "wrongcert.example", "");
	cr_expect_eq(rc, 2, "%s", out);
	cr_expect_not_null(strstr(out, "critical policy-certificate"), "%s",
	    out);
	cr_expect_not_null(strstr(out, "verdict with the live check: NOT "
	    "READY: the live setup has critical findings\n"), "%s", out);
	free(out);

	out = lv_readiness(&rc, &db, "wrongcert.example", "--format json");
	cr_expect_eq(rc, 2, "%s", out);
	root = json_tokener_parse(out);
	cr_assert_not_null(root, "not JSON: %s", out);
	cr_assert(json_object_object_get_ex(root, "readiness", &v));
	cr_assert(json_object_object_get_ex(v, "verdict", &v), "%s", out);
	cr_expect_str_eq(json_object_get_string(v), "READY");
	cr_assert(json_object_object_get_ex(root, "verdict", &v));
	cr_expect_str_eq(json_object_get_string(v), "NOT READY");
	cr_assert(json_object_object_get_ex(root, "live", &v));
	/* its MX does not answer here; no valid live policy for the
	 * policy both reporters still apply */
	cr_expect_str_eq(lv_findings(v, "a policy (mode testing) while no "
	    "valid policy is published now"), "critical:policy-certificate "
	    "warning:mx-unreachable warning:reports-policy-cached "
	    "warning:reports-policy-cached");
	json_object_put(root);
	free(out);
	stu_db_drop(&db);
}

/* The decoded content of a MIME leaf part (malloc'd). */
static char *
lv_part(GMimeObject *o)
{
	GMimeDataWrapper	*w;
	GMimeStream		*mem;
	GByteArray		*ba;
	char			*s;

	cr_assert(GMIME_IS_PART(o));
	w = g_mime_part_get_content(GMIME_PART(o));
	cr_assert_not_null(w);
	mem = g_mime_stream_mem_new();
	cr_assert_geq(g_mime_data_wrapper_write_to_stream(w, mem), 0);
	ba = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(mem));
	s = strndup((const char *)ba->data, ba->len);
	g_object_unref(mem);
	return s;
}

/*
 * digest --live: yesterday's reports of three domains, every session
 * successful under mode enforce (so no readiness verdict), so the
 * reports alone say OK for all three (checked first,
 * without --live).  Live (servers.sh, the private Postfix):
 *   mxsoon.example   its MX's certificate is valid 5 more days, made
 *                    just now: 4 whole days left, under 14: a warning;
 *   nosts.example    no _mta-sts record (a warning), and its MX
 *                    mx1.nosts.example is on the test address, where
 *                    nothing listens on port 25 (a warning);
 *   mxgood.example   nothing found: stays a quiet OK row.
 * So the digest is WARNING (exit 1, Subject "[WARNING] ..."), and the
 * text and HTML parts, parsed back with GMime, show both.
 */
Test(live_smtp, digest_live)
{
	static const char *const doms[] = { "mxsoon.example",
	    "nosts.example", "mxgood.example" };
	struct stu_db	 db;
	struct store	*st;
	struct rtu_run	 r;
	GMimeStream	*s;
	GMimeParser	*p;
	GMimeMessage	*msg;
	GMimeObject	*body;
	char		*text, *html, id[16], *ok;
	size_t		 i;
	int		 have = 0;

	dtu_make_db(&db, &have, "live_digest");
	st = stu_open(&db, 0);
	for (i = 0; i < sizeof(doms) / sizeof(doms[0]); i++) {
		snprintf(id, sizeof(id), "dg%zu", i);
		rtu_put(st, "Alpha", id, "2026-11-30", rtu_sts(doms[i],
		    "version: STSv1|mode: enforce|mx: mx1.x.example|max_age: "
		    "86400", 100, 0, NULL));
	}
	store_close(st);

	r = rtu_tlsrpt(&db, "TLSRPT_NOW=" NOW, "digest --days 1 --to "
	    "a@b.example");
	cr_expect_eq(r.status, 0, "without --live all OK: %s", r.out);
	cr_expect_null(strstr(r.out, "Live setup"), "%s", r.out);
	free(r.out);

	r = rtu_tlsrpt(&db, "TLSRPT_NOW=" NOW, "digest --days 1 --to "
	    "a@b.example --live --resolver %s --ca-file %s/ca.pem "
	    "--trust-anchor none --timeout 20", lv_ip, lv_dir);
	cr_expect_eq(r.status, 1, "exit %d: %s", r.status, r.out);
	cr_expect_null(strstr(r.out, "Sanitizer"), "%s", r.out);
	cr_expect_null(strstr(r.out, "runtime error:"), "%s", r.out);
	g_mime_init();
	s = g_mime_stream_mem_new_with_buffer(r.out, strlen(r.out));
	p = g_mime_parser_new_with_stream(s);
	msg = g_mime_parser_construct_message(p, NULL);
	cr_assert_not_null(msg, "not a message: %s", r.out);
	cr_expect_str_eq(g_mime_message_get_subject(msg), "[WARNING] TLS "
	    "report digest 2026-11-30: 0 critical, 2 warning, 1 ok");
	body = g_mime_message_get_mime_part(msg);
	cr_assert(GMIME_IS_MULTIPART(body));
	cr_assert_eq(g_mime_multipart_get_count(GMIME_MULTIPART(body)), 2);
	text = lv_part(g_mime_multipart_get_part(GMIME_MULTIPART(body), 0));
	html = lv_part(g_mime_multipart_get_part(GMIME_MULTIPART(body), 1));

	cr_expect_not_null(strstr(text, "Overall: WARNING -- 0 critical, 2 "
	    "warning, 1 ok (3 domains)\n"), "%s", text);
	cr_expect_not_null(strstr(text, "### mxsoon.example: WARNING\n"),
	    "%s", text);
	cr_expect_not_null(strstr(text, "Live setup now: WARNING\n"
	    "  MX certificate of mx1.mxsoon.example: 4 days left\n"
	    "  - warning mx-certificate-expiring: "), "%s", text);
	cr_expect_not_null(strstr(text, "### nosts.example: WARNING\n"),
	    "%s", text);
	cr_expect_not_null(strstr(text, "  - warning sts-record-missing: "
	    "_mta-sts.nosts.example has no TXT record"), "%s", text);
	cr_expect_not_null(strstr(text, "  - warning mx-unreachable: MX "
	    "mx1.nosts.example"), "%s", text);
	cr_expect_not_null(strstr(text, "    next: "), "%s", text);
	/* the quiet one: a row of the OK list, no live section */
	ok = strstr(text, "### OK, nothing failed\n  mxgood.example ");
	cr_expect_not_null(ok, "%s", text);
	cr_expect_null(strstr(text, "mx1.mxgood.example"), "%s", text);

	cr_expect_not_null(strstr(html, "<b>Live setup now:</b> "), "%s",
	    html);
	cr_expect_not_null(strstr(html, "mx1.mxsoon.example</td><td style="
	    "\"padding:3px 8px;border-bottom:1px solid #ddd;text-align:"
	    "right\">4</td>"), "%s", html);
	cr_expect_not_null(strstr(html, "<li><b>warning</b> "
	    "mx-certificate-expiring: "), "%s", html);
	cr_expect_not_null(strstr(html, "<li><b>warning</b> "
	    "sts-record-missing: "), "%s", html);
	free(text);
	free(html);
	g_object_unref(msg);
	g_object_unref(p);
	g_object_unref(s);
	free(r.out);

	/* --live options are checked like check's */
	r = rtu_tlsrpt(&db, "TLSRPT_NOW=" NOW, "digest --days 1 --live "
	    "--timeout 0");
	cr_expect_eq(r.status, 3, "%s", r.out);
	free(r.out);
	r = rtu_tlsrpt(&db, "TLSRPT_NOW=" NOW, "digest --days 1 --live "
	    "--ca-file /nonexistent");
	cr_expect_eq(r.status, 3, "%s", r.out);
	free(r.out);
	stu_db_drop(&db);
}

/*
 * The DANE-EE waiver needs validated TLSA records: daneee.example
 * without DNSSEC validation (--trust-anchor none) has its certificate's
 * wrong name and its 1 day left (valid 2 more days, made just now) as
 * critical findings; with the zone's trust anchor they are "ok" notes
 * that say why, and the MX is marked dane_ee.  A DANE-EE record that
 * matches a valid certificate (danematch.example) adds nothing.
 */
Test(live_smtp, dane_ee_waiver_needs_dnssec)
{
	json_object	*root, *d, *mx, *m, *v;
	char		*out;
	int		 rc;

	out = lv_check(&rc, "--format json --domain daneee.example");
	cr_assert_eq(rc, 2, "exit %d: %s", rc, out);
	root = json_tokener_parse(out);
	cr_assert_not_null(root, "not JSON: %s", out);
	d = lv_domain(root, "daneee.example");
	cr_expect_str_eq(lv_findings(d, "the certificate expires in 1 day"),
	    "critical:mx-certificate-name critical:mx-certificate-expiring",
	    "%s", json_object_to_json_string(d));
	json_object_put(root);
	free(out);

	out = lv_check(&rc, dtu_S("--format json --trust-anchor %s/ta.key "
	    "--domain daneee.example --domain danematch.example", lv_dir));
	cr_assert_eq(rc, 0, "notes only, exit %d: %s", rc, out);
	root = json_tokener_parse(out);
	cr_assert_not_null(root, "not JSON: %s", out);
	d = lv_domain(root, "daneee.example");
	cr_expect_str_eq(lv_findings(d, "MX mx1.daneee.example: the "
	    "certificate expires in 1 day (mx-certificate-expiring); waived: "
	    "a DANE-EE TLSA record of _25._tcp.mx1.daneee.example matches"),
	    "ok:mx-dane-ee-waived ok:mx-dane-ee-waived", "%s",
	    json_object_to_json_string(d));
	cr_assert(json_object_object_get_ex(d, "result", &v));
	cr_expect_str_eq(json_object_get_string(v), "ok");
	cr_assert(json_object_object_get_ex(d, "mx", &mx));
	m = json_object_array_get_idx(mx, 0);
	cr_expect(json_object_object_get_ex(m, "dane_ee", &v) &&
	    json_object_get_boolean(v), "%s", json_object_to_json_string(m));
	d = lv_domain(root, "danematch.example");
	cr_expect_str_eq(lv_findings(d, NULL), "", "%s",
	    json_object_to_json_string(d));
	json_object_put(root);
	free(out);

	/* and the text says "ok", counting no warning */
	out = lv_check(&rc, dtu_S("--trust-anchor %s/ta.key --domain "
	    "daneee.example", lv_dir));
	cr_expect_eq(rc, 0, "%s", out);
	cr_expect_not_null(strstr(out, "daneee.example: ok\n"), "%s", out);
	cr_expect_not_null(strstr(out, ", DANE match (DANE-EE)\n"), "%s",
	    out);
	cr_expect_not_null(strstr(out, "  ok       mx-dane-ee-waived: MX "
	    "mx1.daneee.example: the certificate does not name "), "%s", out);
	free(out);
}

/*
 * tlsrpt check --store (issue 11 item 4): the results go into the
 * database (schema/010_live_check.sql) and the real tlsrpt-web shows the
 * last one on the domain page and in its JSON, escaped.  The figures
 * come from servers.sh: stale.example has the one warning
 * mx-pattern-stale (see exit_codes_and_text), hostile.example the one
 * warning sts-record-invalid whose text quotes the id
 * <script>alert(1)</script>, good.example none; latin.example's one
 * warning quotes the byte 0xe9, not UTF-8, which jsonb would refuse: it
 * is stored as '?'.  The database holds no report, so nothing is added
 * by the comparison with the reports.
 */
static int	lv_web_port;

static int
lv_web_ready(void *arg)
{
	char	*out;
	int	 ok;

	(void)arg;
	out = dtu_run("curl -s --max-time 5 -o /dev/null -w '%%{http_code}' "
	    "http://127.0.0.1:%d/style.css", lv_web_port);
	ok = strcmp(out, "200") == 0;
	free(out);
	return ok;
}

/* GET path from the dashboard: the body (malloc'd), *code. */
static char *
lv_web_get(const char *path, int *code)
{
	char	*out, *nl;

	out = dtu_run("curl -s --max-time 20 -w '\\n%%{http_code}' "
	    "'http://127.0.0.1:%d%s'", lv_web_port, path);
	nl = strrchr(out, '\n');
	cr_assert_not_null(nl, "%s", out);
	*code = atoi(nl + 1);
	*nl = '\0';
	return out;
}

Test(live, stored_check_on_the_dashboard)
{
	static const char stale_row[] = "<tr><td class=\"WARNING\">warning"
	    "</td><td>mx-pattern-stale</td><td>policy line &quot;mx: "
	    "old.stale.example&quot; matches no MX of stale.example</td><td>"
	    "RFC 8461 §4.1</td><td>remove the mx: line from the policy or "
	    "publish the MX it was for, then change the id of "
	    "_mta-sts.stale.example</td></tr>";
	static const char hostile_what[] = "_mta-sts.hostile.example: id "
	    "\"<script>alert(1)</script>\" is not 1 to 32 letters and digits";
	struct stu_db	 db;
	json_object	*root, *lc, *v, *f;
	char		*out, *body, *err;
	int		 have = 0, rc, code;

	dtu_make_db(&db, &have, "live_store");
	out = lv_check(&rc, dtu_S("--no-smtp --store --db '%s' --domain "
	    "stale.example --domain hostile.example --domain good.example "
	    "--domain latin.example", db.conninfo));
	cr_expect_eq(rc, 1, "exit %d (warnings): %s", rc, out);
	cr_expect_not_null(strstr(out, "stale.example: warning (0 critical, "
	    "1 warning)\n"), "%s", out);
	cr_expect_not_null(strstr(out, "\n(4 of 4 checks stored; the newest "
	    "30 of each domain are kept)\n"), "%s", out);
	cr_expect_not_null(strstr(out, "id \"caf\xe9\" is not"), "%s", out);
	free(out);
	cr_expect_eq(stu_int(&db, "SELECT count(*) FROM tlsrpt.live_check"),
	    4);
	cr_expect_eq(stu_int(&db, "SELECT count(*) FROM tlsrpt.live_check "
	    "WHERE domain = 'latin.example' AND check_json->'findings'->0->>"
	    "'what' = '_mta-sts.latin.example: id \"caf?\" is not 1 to 32 "
	    "letters and digits'"), 1);
	cr_expect_eq(stu_int(&db, "SELECT count(*) FROM tlsrpt.live_check "
	    "WHERE checked_at = '" NOW "' AND report_days = 14 AND ((domain = "
	    "'stale.example' AND result = 'warning' AND warnings = 1) OR "
	    "(domain = 'hostile.example' AND result = 'warning' AND warnings "
	    "= 1) OR (domain = 'good.example' AND result = 'ok' AND warnings "
	    "= 0)) AND critical = 0"), 3);

	lv_web_port = dtu_free_port();
	lv_web = dtu_spawn(dtu_S("exec %s --listen 127.0.0.1:%d --db '%s' "
	    ">%s/web.log 2>&1", dtu_bin("TLSRPT_WEB_BIN", "bin/tlsrpt-web"),
	    lv_web_port, db.conninfo, lv_dir));
	cr_assert(dtu_wait_ready(lv_web, lv_web_ready, NULL, "tlsrpt-web",
	    dtu_S("%s/web.log", lv_dir)));

	/* when, the verdict, the MX as found, the finding */
	body = lv_web_get("/domain/stale.example", &code);
	cr_expect_eq(code, 200);
	cr_expect_not_null(strstr(body, "<p id=\"live-check\">Checked <time>"
	    NOW "</time>"), "%s", body);
	cr_expect_not_null(strstr(body, ": <b class=\"WARNING\" id=\""
	    "live-result\">warning</b>, 0 critical, 1 warning; held against "
	    "the reports of the 14 days before it. _mta-sts id 20260101T01. "
	    "Policy mode testing. 1 check of this domain stored.</p>"), "%s",
	    body);
	cr_expect_not_null(strstr(body, "<tr><td>mx1.stale.example</td><td "
	    "class=\"n\">10</td><td>yes</td><td>not tried</td>"), "%s", body);
	cr_expect_not_null(strstr(body, stale_row), "%s", body);
	free(body);

	/* markup in a finding is text, in the page and in the JSON */
	body = lv_web_get("/domain/hostile.example", &code);
	cr_expect_eq(code, 200);
	cr_expect_not_null(strstr(body, "<td>_mta-sts.hostile.example: id "
	    "&quot;&lt;script&gt;alert(1)&lt;/script&gt;&quot; is not 1 to 32 "
	    "letters and digits</td>"), "%s", body);
	cr_expect_null(strstr(body, "<script"), "%s", body);
	free(body);
	body = lv_web_get("/api/domain/hostile.example", &code);
	cr_expect_eq(code, 200);
	cr_expect_null(strchr(body, '<'), "%s", body);
	root = json_tokener_parse(body);
	cr_assert_not_null(root, "not JSON: %s", body);
	cr_assert(json_object_object_get_ex(root, "live_check", &lc), "%s",
	    body);
	cr_assert(json_object_object_get_ex(lc, "checked_at", &v));
	cr_expect_str_eq(json_object_get_string(v), NOW);
	cr_assert(json_object_object_get_ex(lc, "result", &v));
	cr_expect_str_eq(json_object_get_string(v), "warning");
	cr_assert(json_object_object_get_ex(lc, "check", &v));
	cr_expect_str_eq(lv_findings(v, hostile_what),
	    "warning:sts-record-invalid");
	cr_assert(json_object_object_get_ex(v, "findings", &f));
	cr_assert(json_object_object_get_ex(json_object_array_get_idx(f, 0),
	    "what", &v));
	cr_expect_str_eq(json_object_get_string(v), hostile_what);
	json_object_put(root);
	free(body);

	/* no findings; and a domain never checked says how to store one */
	body = lv_web_get("/domain/good.example", &code);
	cr_expect_eq(code, 200);
	cr_expect_not_null(strstr(body, "<b class=\"OK\" id=\"live-result\">"
	    "ok</b>, 0 critical, 0 warnings;"), "%s", body);
	cr_expect_not_null(strstr(body, "<p id=\"live-findings\">No findings."
	    "</p>"), "%s", body);
	free(body);
	body = lv_web_get("/domain/nosts.example", &code);
	cr_expect_eq(code, 200);
	cr_expect_not_null(strstr(body, "No live check stored; run <code>"
	    "tlsrpt check --store --domain nosts.example</code>"), "%s", body);
	free(body);
	body = lv_web_get("/api/domain/nosts.example", &code);
	cr_expect_eq(code, 200);
	cr_expect_not_null(strstr(body, "\"live_check\": null"), "%s", body);
	free(body);

	/*
	 * A database that refuses the write (read-only): the check is
	 * printed as ever, one line says what was not stored, exit 3.
	 */
	out = lv_check(&rc, dtu_S("--no-smtp --store --db \"%s options="
	    "'-c default_transaction_read_only=on'\" --domain good.example",
	    db.conninfo));
	cr_expect_eq(rc, 3, "exit %d: %s", rc, out);
	cr_expect_not_null(strstr(out, "good.example: ok\n"), "%s", out);
	cr_expect_not_null(strstr(out, "(0 of 1 check stored;"), "%s", out);
	free(out);
	err = dtu_run("cat %s/err", lv_dir);
	cr_expect_str_eq(err, "tlsrpt: check --store: good.example: cannot "
	    "store the check: cannot execute INSERT in a read-only transaction "
	    "(SQLSTATE 25006); the domains after it are not stored either\n",
	    "%s", err);
	free(err);
	cr_expect_eq(stu_int(&db, "SELECT count(*) FROM tlsrpt.live_check"),
	    4);
	/* --store without a database: could not run, nothing checked */
	out = lv_check(&rc, "--no-smtp --store --domain good.example");
	cr_expect_eq(rc, 3, "exit %d: %s", rc, out);
	cr_expect_str_empty(out, "%s", out);
	free(out);
	err = dtu_run("cat %s/err", lv_dir);
	cr_expect_str_eq(err, "tlsrpt: --store needs a database: --db "
	    "CONNINFO or $TLSRPT_DB\n", "%s", err);
	free(err);
	stu_db_drop(&db);
}
