/*
 * test_identity_httpd.c -- issue 13 end to end: a Postfix report through
 * sys4's tlsrpt-reporter reaches a domain with both rua addresses.  The
 * gzip body is POSTed to the real tlsrpt-httpd as sys4's curl does it
 * (--header 'Content-Type: application/tlsrpt+gzip' --data-binary @-),
 * and the reporter's mail is imported by `tlsrpt import --mail` at the
 * same moment; a second tlsrpt-httpd with its own spool on the same
 * PostgreSQL gets the body too (a backup node).  Whatever the order the
 * worker and the importer commit in, the database ends with one report
 * under the domain, its figures once, and every arrival.
 */

#define _GNU_SOURCE	/* asprintf */

#include <sys/wait.h>

#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "daemon_testutil.h"
#include "store_testutil.h"
#include "testutil.h"

#define DAY0		1795996800	/* 2026-11-30T00:00:00Z */
#define SUBMITTER	"mx.sender.test"
#define DOMAIN		"nopol.test"

static char		 tdir[256];
static struct stu_db	 tdb;
static int		 have_db;
static pid_t		 pids[2];
static int		 ports[2];

static void
setup(void)
{
	snprintf(tdir, sizeof(tdir), "/tmp/tlsrpt-idh-test.XXXXXX");
	cr_assert_not_null(mkdtemp(tdir));
	dtu_sh("cd %s && printf 'cn = localhost\\nip_address = 127.0.0.1\\n"
	    "expiration_days = 30\\ntls_www_server\\nsigning_key\\n' > tmpl && "
	    "certtool --generate-privkey --key-type=ecdsa --outfile a.key "
	    ">/dev/null 2>&1 && certtool --generate-self-signed "
	    "--load-privkey a.key --template tmpl --outfile a.crt "
	    ">/dev/null 2>&1", tdir);
	have_db = 0;
	pids[0] = pids[1] = 0;
}

static void
teardown(void)
{
	int	i, st;

	for (i = 0; i < 2; i++)
		if (pids[i] > 0)
			(void)dtu_stop(pids[i], SIGKILL, 200, &st);
	if (have_db)
		stu_db_drop(&tdb);
	if (tdir[0] != '\0' && getenv("TLSRPT_TEST_KEEP") == NULL)
		(void)!system(dtu_S("rm -rf '%s'", tdir));
}

static int
ready(void *arg)
{
	char	*out;
	int	 code;

	out = dtu_run("curl -sk --max-time 5 -o /dev/null -w '%%{http_code}'"
	    " https://127.0.0.1:%d/metrics", *(int *)arg);
	code = atoi(out);
	free(out);
	return code == 200;
}

static void
start(int i)
{
	char	*cmd;

	ports[i] = dtu_free_port();
	cr_assert_geq(asprintf(&cmd, "exec %s --listen 127.0.0.1:%d "
	    "--tls-cert %s/a.crt --tls-key %s/a.key --spool %s/spool%d "
	    "--db '%s' >>%s/httpd-%d.log 2>&1", dtu_bin("TLSRPT_HTTPD_BIN",
	    "bin/tlsrpt-httpd"), ports[i], tdir, tdir, tdir, i, tdb.conninfo,
	    tdir, i), 0);
	pids[i] = dtu_spawn(cmd);
	free(cmd);
	cr_assert(dtu_wait_ready(pids[i], ready, &ports[i], "tlsrpt-httpd",
	    dtu_S("%s/httpd-%d.log", tdir, i)));
}

/* sys4 reportd's JSON (json.dumps) and mail (email, policy SMTP); the
 * same shapes as test_identity.c. */
static char *
sys4_json(const char *id)
{
	char	*s;

	cr_assert_geq(asprintf(&s, "{\"organization-name\": \"Sender Mail"
	    " Ltd\", \"date-range\": {\"start-datetime\":"
	    " \"2026-11-30T00:00:00Z\", \"end-datetime\":"
	    " \"2026-11-30T23:59:59Z\"}, \"contact-info\":"
	    " \"tlsrpt@" SUBMITTER "\", \"policies\": [{\"summary\":"
	    " {\"total-failure-session-count\": 0,"
	    " \"total-successful-session-count\": 4}, \"policy\":"
	    " {\"policy-type\": \"no-policy-found\"}, \"failure-details\":"
	    " []}], \"report-id\": \"%s\"}", id), 0);
	return s;
}

static void
write_mail(const char *path, const char *id, const char *gzpath)
{
	char	*b64, *m;

	b64 = dtu_run("base64 -w 76 %s | sed 's/$/\\r/'", gzpath);
	cr_assert_geq(asprintf(&m,
	    "Subject: Report Domain: " DOMAIN " Submitter: " SUBMITTER
	    " Report-ID: <%s@" SUBMITTER ">\r\n"
	    "From: tlsrpt-noreply@" SUBMITTER "\r\n"
	    "To: tlsrpt@" DOMAIN "\r\n"
	    "Message-ID: <176409720123.4242.1234567890@" SUBMITTER ">\r\n"
	    "TLS-Report-Domain: " DOMAIN "\r\n"
	    "TLS-Report-Submitter: " SUBMITTER "\r\n"
	    "TLS-Required: No\r\n"
	    "MIME-Version: 1.0\r\n"
	    "Content-Type: multipart/report; report-type=\"tlsrpt\";"
	    " boundary=\"===============4242424242424242424==\"\r\n"
	    "\r\n"
	    "--===============4242424242424242424==\r\n"
	    "Content-Type: text/plain; charset=\"us-ascii\"\r\n"
	    "Content-Transfer-Encoding: 7bit\r\n"
	    "\r\n"
	    "This is an aggregate TLS report from Sender Mail Ltd\r\n"
	    "\r\n"
	    "--===============4242424242424242424==\r\n"
	    "Content-Type: application/tlsrpt+gzip\r\n"
	    "Content-Transfer-Encoding: base64\r\n"
	    "Content-Disposition: attachment;\r\n"
	    " filename=\"" SUBMITTER "!" DOMAIN "!%d!%d!1.json.gz\"\r\n"
	    "MIME-Version: 1.0\r\n"
	    "\r\n"
	    "%s"
	    "\r\n"
	    "--===============4242424242424242424==--\r\n",
	    id, DAY0, DAY0 + 86399, b64), 0);
	dtu_write_file(path, m, strlen(m));
	free(b64);
	free(m);
}

Test(identity_httpd, sys4_by_https_on_two_nodes_and_mail_at_once,
    .init = setup, .fini = teardown, .timeout = 180)
{
	const char	*bin = dtu_bin("TLSRPT_BIN", "bin/tlsrpt");
	char		 id[96], gz[512], eml[512];
	char		*json, *cmd;
	unsigned char	*g;
	size_t		 gl;
	pid_t		 kid[3];
	int		 round, k, st, ms;
	int64_t		 n;

	dtu_make_db(&tdb, &have_db, "idh_two");
	start(0);
	start(1);
	for (round = 0; round < 4; round++) {
		snprintf(id, sizeof(id), "2026-11-30T00:00:00Z_idx%d_" DOMAIN,
		    round + 1);
		json = sys4_json(id);
		g = tu_gzip(json, strlen(json), &gl);
		snprintf(gz, sizeof(gz), "%s/r%d.json.gz", tdir, round);
		dtu_write_file(gz, g, gl);
		snprintf(eml, sizeof(eml), "%s/r%d.eml", tdir, round);
		write_mail(eml, id, gz);
		free(g);
		free(json);
		for (k = 0; k < 3; k++) {
			if (k < 2)
				cr_assert_geq(asprintf(&cmd, "curl --silent -k"
				    " --fail --header 'Content-Type:"
				    " application/tlsrpt+gzip' --data-binary"
				    " @- https://127.0.0.1:%d/v1/report"
				    " <%s >/dev/null", ports[k], gz), 0);
			else
				cr_assert_geq(asprintf(&cmd, "exec %s import"
				    " --mail %s --db '%s' >/dev/null", bin, eml,
				    tdb.conninfo), 0);
			kid[k] = dtu_spawn(cmd);
			free(cmd);
		}
		for (k = 0; k < 3; k++) {
			cr_assert_eq(waitpid(kid[k], &st, 0), kid[k]);
			cr_expect(WIFEXITED(st) && WEXITSTATUS(st) == 0,
			    "round %d, sender %d failed", round, k);
		}
	}
	/* 4 reports x 3 arrivals, once the workers have drained */
	for (ms = 0; ms < 60000; ms += 100) {
		n = stu_int(&tdb, "SELECT count(*) FROM tlsrpt.arrival");
		if (n >= 12)
			break;
		usleep(100000);
	}
	cr_expect_eq(stu_int(&tdb, "SELECT count(*) FROM tlsrpt.arrival"), 12);
	cr_expect_eq(stu_int(&tdb, "SELECT count(*) FROM tlsrpt.arrival"
	    " WHERE outcome = 'stored'"), 4);
	cr_expect_eq(stu_int(&tdb, "SELECT count(*) FROM tlsrpt.arrival"
	    " WHERE source = 'https'"), 8);
	cr_expect_eq(stu_int(&tdb, "SELECT count(*) FROM tlsrpt.report"), 4);
	cr_expect_eq(stu_int(&tdb, "SELECT count(*) FROM tlsrpt.policy"
	    " WHERE policy_domain = '" DOMAIN "'"), 4);
	cr_expect_eq(stu_int(&tdb, "SELECT count(*) FROM tlsrpt.rollup"
	    " WHERE policy_domain <> '" DOMAIN "'"), 0);
	cr_expect_eq(stu_int(&tdb, "SELECT sum(reports) FROM tlsrpt.rollup"),
	    4);
	cr_expect_eq(stu_int(&tdb, "SELECT sum(successful_sessions) FROM"
	    " tlsrpt.rollup"), 16);
	cr_expect_eq(stu_int(&tdb, "SELECT count(*) FROM tlsrpt.report r,"
	    " unnest(r.warnings) w WHERE w LIKE 'tls-report-domain-differs%'"),
	    0);
}
