/*
 * test_scaleout.c -- several collector nodes, one PostgreSQL (issue 12
 * item 8).  Two tlsrpt-httpd and one tlsrpt-milter, each with its own
 * spool and ingest worker, store into one database.  Each round the
 * same report goes to all three at once (curl to both HTTPS nodes,
 * miltertest to the milter, each after a random delay of 0 to 20 ms, in
 * a random order), a different report every round.  Then the database
 * must hold each report once, every arrival (3 per report: 2 https, 1
 * mail, exactly one "stored"), no rejection, nothing in any bad/, and
 * figures (rollup and `tlsrpt summary`) equal to those worked out here
 * from the reports sent.
 *
 * Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
 *
 * Needs PostgreSQL, the daemons, curl and miltertest.
 */

#define _GNU_SOURCE	/* asprintf */

#include <sys/wait.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <dirent.h>
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

#define ROUNDS		50
#define NODES		3	/* httpd 0, httpd 1, milter */
#define DOMAINS		3	/* sts domains a0..a2.scale.test */
#define RUA		"tlsrpt@tlsrpt.test"
#define SUBMITTER	"reporter.test"
#define NPF_DOMAIN	"b.scale.test"

static char		 tdir[256];
static struct stu_db	 tdb;
static int		 have_db;
static pid_t		 pids[NODES];
static int		 ports[NODES];

static void
setup(void)
{
	snprintf(tdir, sizeof(tdir), "/tmp/tlsrpt-scaleout.XXXXXX");
	cr_assert_not_null(mkdtemp(tdir));
	memset(pids, 0, sizeof(pids));
	have_db = 0;
	if (system("command -v miltertest >/dev/null 2>&1") != 0)
		cr_skip_test("miltertest not installed (apt-get install "
		    "miltertest): the scale-out test did not run");
	dtu_sh("cd %s && printf 'cn = localhost\\nip_address = 127.0.0.1\\n"
	    "expiration_days = 30\\ntls_www_server\\nsigning_key\\n' > tmpl && "
	    "certtool --generate-privkey --key-type=ecdsa --outfile a.key "
	    ">/dev/null 2>&1 && certtool --generate-self-signed "
	    "--load-privkey a.key --template tmpl --outfile a.crt "
	    ">/dev/null 2>&1", tdir);
}

static void
teardown(void)
{
	int	i, st;

	for (i = 0; i < NODES; i++)
		if (pids[i] > 0)
			(void)dtu_stop(pids[i], SIGKILL, 200, &st);
	if (have_db)
		stu_db_drop(&tdb);
	if (tdir[0] != '\0' && getenv("TLSRPT_TEST_KEEP") == NULL)
		(void)!system(dtu_S("rm -rf '%s'", tdir));
}

static int
https_ready(void *arg)
{
	char	*out;
	int	 code;

	out = dtu_run("curl -sk --max-time 5 -o /dev/null -w '%%{http_code}'"
	    " https://127.0.0.1:%d/metrics", *(int *)arg);
	code = atoi(out);
	free(out);
	return code == 200;
}

static int
milter_ready(void *arg)
{
	struct sockaddr_in	sin;
	int			fd, ok;

	fd = socket(AF_INET, SOCK_STREAM, 0);
	cr_assert_geq(fd, 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((unsigned short)*(int *)arg);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ok = connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0;
	close(fd);
	return ok;
}

static void
start(int i)
{
	char	*cmd;

	ports[i] = dtu_free_port();
	if (i < 2)
		cr_assert_geq(asprintf(&cmd, "exec %s --listen 127.0.0.1:%d "
		    "--tls-cert %s/a.crt --tls-key %s/a.key --spool %s/spool%d"
		    " --db '%s' >>%s/node-%d.log 2>&1",
		    dtu_bin("TLSRPT_HTTPD_BIN", "bin/tlsrpt-httpd"), ports[i],
		    tdir, tdir, tdir, i, tdb.conninfo, tdir, i), 0);
	else
		cr_assert_geq(asprintf(&cmd, "exec %s --socket "
		    "inet:%d@127.0.0.1 --rcpt " RUA " --spool %s/spool%d "
		    "--db '%s' --authserv-id mx.tlsrpt.test "
		    ">>%s/node-%d.log 2>&1",
		    dtu_bin("TLSRPT_MILTER_BIN", "bin/tlsrpt-milter"),
		    ports[i], tdir, i, tdb.conninfo, tdir, i), 0);
	pids[i] = dtu_spawn(cmd);
	free(cmd);
	cr_assert(dtu_wait_ready(pids[i], i < 2 ? https_ready : milter_ready,
	    &ports[i], i < 2 ? "tlsrpt-httpd" : "tlsrpt-milter",
	    dtu_S("%s/node-%d.log", tdir, i)));
}

/* The figures of round r's report. */
static int64_t
sts_ok(int r)
{
	return 100 + r;
}

static int64_t
sts_expired(int r)
{
	return 1 + r % 4;
}

static int64_t
sts_starttls(int r)
{
	return r % 3;		/* 0: no such failure detail */
}

static int64_t
npf_ok(int r)
{
	return 7 + 2 * r;
}

/* Round r's report: an sts policy of a(r % DOMAINS) with one or two
 * failure details, and no-policy-found for b; one day for all rounds,
 * so that the rounds add up in the same rollup rows. */
static char *
report_json(int r)
{
	char	*s, det2[512];

	det2[0] = '\0';
	if (sts_starttls(r) > 0)
		snprintf(det2, sizeof(det2), ", {\"result-type\":"
		    " \"starttls-not-supported\", \"sending-mta-ip\":"
		    " \"198.51.100.%d\", \"receiving-mx-hostname\":"
		    " \"MX2.a%d.scale.test\", \"failed-session-count\": %lld}",
		    r % 250, r % DOMAINS, (long long)sts_starttls(r));
	cr_assert_geq(asprintf(&s, "{\"organization-name\": \"Scale Org\","
	    " \"date-range\": {\"start-datetime\": \"2026-11-30T00:00:00Z\","
	    " \"end-datetime\": \"2026-11-30T23:59:59Z\"}, \"contact-info\":"
	    " \"tlsrpt@" SUBMITTER "\", \"report-id\": \"scale-%03d\","
	    " \"policies\": [{\"policy\": {\"policy-type\": \"sts\","
	    " \"policy-string\": [\"version: STSv1\", \"mode: enforce\","
	    " \"mx: mx1.a%d.scale.test\", \"max_age: 86400\"],"
	    " \"policy-domain\": \"a%d.scale.test\", \"mx-host\":"
	    " [\"mx1.a%d.scale.test\"]}, \"summary\":"
	    " {\"total-successful-session-count\": %lld,"
	    " \"total-failure-session-count\": %lld}, \"failure-details\":"
	    " [{\"result-type\": \"certificate-expired\", \"sending-mta-ip\":"
	    " \"192.0.2.%d\", \"receiving-mx-hostname\": \"mx1.a%d.scale.test\","
	    " \"failed-session-count\": %lld}%s]}, {\"policy\":"
	    " {\"policy-type\": \"no-policy-found\", \"policy-domain\": \""
	    NPF_DOMAIN "\"}, \"summary\": {\"total-successful-session-count\":"
	    " %lld, \"total-failure-session-count\": 0}}]}",
	    r, r % DOMAINS, r % DOMAINS, r % DOMAINS,
	    (long long)sts_ok(r), (long long)(sts_expired(r) +
	    sts_starttls(r)), r % 250, r % DOMAINS,
	    (long long)sts_expired(r), det2, (long long)npf_ok(r)), 0);
	return s;
}

/* An RFC 8460 section 5.3 mail carrying gzpath, as reporters send it. */
static void
write_mail(const char *path, int r, const char *gzpath)
{
	char	*b64, *m;

	b64 = dtu_run("base64 -w 76 %s | sed 's/$/\\r/'", gzpath);
	cr_assert_geq(asprintf(&m,
	    "Subject: Report Domain: a%d.scale.test Submitter: " SUBMITTER
	    " Report-ID: <scale-%03d@" SUBMITTER ">\r\n"
	    "From: tlsrpt-noreply@" SUBMITTER "\r\n"
	    "To: " RUA "\r\n"
	    "Date: Tue, 01 Dec 2026 06:00:00 +0000\r\n"
	    "Message-ID: <scale-%03d@" SUBMITTER ">\r\n"
	    "TLS-Report-Domain: a%d.scale.test\r\n"
	    "TLS-Report-Submitter: " SUBMITTER "\r\n"
	    "MIME-Version: 1.0\r\n"
	    "Content-Type: multipart/report; report-type=\"tlsrpt\";"
	    " boundary=\"==scale==\"\r\n"
	    "\r\n"
	    "--==scale==\r\n"
	    "Content-Type: text/plain; charset=\"us-ascii\"\r\n"
	    "\r\n"
	    "This is an aggregate TLS report.\r\n"
	    "\r\n"
	    "--==scale==\r\n"
	    "Content-Type: application/tlsrpt+gzip\r\n"
	    "Content-Transfer-Encoding: base64\r\n"
	    "Content-Disposition: attachment;\r\n"
	    " filename=\"" SUBMITTER "!a%d.scale.test!1796083200!1796169599!"
	    "%03d.json.gz\"\r\n"
	    "\r\n"
	    "%s"
	    "\r\n"
	    "--==scale==--\r\n",
	    r % DOMAINS, r, r, r % DOMAINS, r % DOMAINS, r, b64), 0);
	dtu_write_file(path, m, strlen(m));
	free(b64);
	free(m);
}

/* Files in dir, "." names left out; 0 when it does not exist. */
static int
count_files(const char *dir)
{
	struct dirent	*de;
	DIR		*d;
	int		 n = 0;

	if ((d = opendir(dir)) == NULL)
		return 0;
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

/* Wait (60 s at most) until sql counts want; its last value. */
static int64_t
wait_count(const char *sql, int64_t want)
{
	int64_t	n = -1;
	int	ms;

	for (ms = 0; ms < 60000; ms += 100) {
		if ((n = stu_int(&tdb, sql)) >= want)
			break;
		usleep(100000);
	}
	return n;
}

/* Wait (60 s at most) until dir holds want files; how many it holds. */
static int
wait_files(const char *dir, int want)
{
	int	n = -1, ms;

	for (ms = 0; ms < 60000; ms += 100) {
		if ((n = count_files(dir)) == want)
			break;
		usleep(100000);
	}
	return n;
}

/* Wait for the senders of round r; each must have succeeded. */
static void
reap(const pid_t *kid, int r)
{
	int	k, st;

	for (k = 0; k < NODES; k++) {
		cr_assert_eq(waitpid(kid[k], &st, 0), kid[k]);
		cr_expect(WIFEXITED(st) && WEXITSTATUS(st) == 0,
		    "round %d, node %d: status %d (see %s)", r, k, st,
		    k == 2 ? dtu_S("%s/mt-%03d.log", tdir, r) : "curl");
	}
}

Test(scaleout, two_httpd_one_milter_one_database, .init = setup,
    .fini = teardown, .timeout = 600)
{
	int64_t		 ok[DOMAINS] = { 0 }, fail[DOMAINS] = { 0 };
	int64_t		 expired[DOMAINS] = { 0 }, starttls[DOMAINS] = { 0 };
	int64_t		 reports[DOMAINS] = { 0 };
	int64_t		 npf = 0, ndet = 0;
	char		 gz[512], eml[512], sql[512];
	char		*json, *cmd, *out;
	unsigned char	*g;
	size_t		 gl;
	pid_t		 kid[2][NODES];
	unsigned	 seed;
	int		 round, k, j, t, d, order[NODES];

	seed = (unsigned)getpid();
	srandom(seed);
	cr_log_info("scaleout: random seed %u", seed);
	dtu_make_db(&tdb, &have_db, "scaleout");
	for (k = 0; k < NODES; k++)
		start(k);
	for (round = 0; round < ROUNDS; round++) {
		json = report_json(round);
		g = tu_gzip(json, strlen(json), &gl);
		snprintf(gz, sizeof(gz), "%s/r%03d.json.gz", tdir, round);
		dtu_write_file(gz, g, gl);
		snprintf(eml, sizeof(eml), "%s/r%03d.eml", tdir, round);
		write_mail(eml, round, gz);
		free(g);
		free(json);

		d = round % DOMAINS;
		reports[d]++;
		ok[d] += sts_ok(round);
		expired[d] += sts_expired(round);
		starttls[d] += sts_starttls(round);
		fail[d] += sts_expired(round) + sts_starttls(round);
		npf += npf_ok(round);
		ndet += 1 + (sts_starttls(round) > 0);

		/* the three at once, in a random order, each a little late */
		for (k = 0; k < NODES; k++)
			order[k] = k;
		for (k = NODES - 1; k > 0; k--) {
			j = (int)(random() % (k + 1));
			t = order[k];
			order[k] = order[j];
			order[j] = t;
		}
		for (j = 0; j < NODES; j++) {
			k = order[j];
			if (k < 2)
				cr_assert_geq(asprintf(&cmd, "sleep 0.%03ld;"
				    " exec curl --silent -k --fail --max-time 30"
				    " --header 'Content-Type:"
				    " application/tlsrpt+gzip' --data-binary"
				    " @%s https://127.0.0.1:%d/v1/report"
				    " >/dev/null", random() % 20, gz,
				    ports[k]), 0);
			else
				cr_assert_geq(asprintf(&cmd, "sleep 0.%03ld;"
				    " MILTER_SOCK=inet:%d@127.0.0.1"
				    " REPORT_EML=%s RCPT=" RUA " exec miltertest"
				    " -s tests/milter/send.lua >%s/mt-%03d.log"
				    " 2>&1", random() % 20, ports[k], eml, tdir,
				    round), 0);
			kid[round % 2][k] = dtu_spawn(cmd);
			free(cmd);
		}
		/* two rounds in flight: the reports of rounds r and r + 1
		 * race for the rollup rows of NPF_DOMAIN too */
		if (round > 0)
			reap(kid[(round - 1) % 2], round - 1);
	}
	reap(kid[(ROUNDS - 1) % 2], ROUNDS - 1);

	/* every arrival recorded once the three workers have drained */
	cr_expect_eq(wait_count("SELECT count(*) FROM tlsrpt.arrival",
	    NODES * ROUNDS), NODES * ROUNDS);
	/* a worker removes its files after the commit that stored them */
	for (k = 0; k < NODES; k++)
		cr_expect_eq(wait_files(dtu_S("%s/spool%d/new", tdir, k), 0),
		    0, "node %d has files left in new/", k);
	/* give a late writer a moment to show itself */
	usleep(500000);
	cr_expect_eq(stu_int(&tdb, "SELECT count(*) FROM tlsrpt.arrival"),
	    NODES * ROUNDS);
	cr_expect_eq(stu_int(&tdb, "SELECT count(*) FROM tlsrpt.report"),
	    ROUNDS);
	cr_expect_eq(stu_int(&tdb, "SELECT count(DISTINCT report_id) FROM "
	    "tlsrpt.report"), ROUNDS);
	cr_expect_eq(stu_int(&tdb, "SELECT count(*) FROM tlsrpt.arrival "
	    "WHERE outcome = 'stored'"), ROUNDS);
	cr_expect_eq(stu_int(&tdb, "SELECT count(*) FROM tlsrpt.arrival "
	    "WHERE outcome = 'duplicate'"), (NODES - 1) * ROUNDS);
	cr_expect_eq(stu_int(&tdb, "SELECT count(*) FROM tlsrpt.arrival "
	    "WHERE source = 'https'"), 2 * ROUNDS);
	cr_expect_eq(stu_int(&tdb, "SELECT count(*) FROM tlsrpt.arrival "
	    "WHERE source = 'mail'"), ROUNDS);
	/* 3 arrivals for every report, one of them the stored one */
	cr_expect_eq(stu_int(&tdb, "SELECT count(*) FROM (SELECT report_no "
	    "FROM tlsrpt.arrival GROUP BY report_no HAVING count(*) = 3 AND "
	    "count(*) FILTER (WHERE outcome = 'stored') = 1 AND "
	    "count(*) FILTER (WHERE source = 'mail') = 1) x JOIN tlsrpt.report "
	    "USING (report_no)"), ROUNDS);
	cr_expect_eq(stu_int(&tdb, "SELECT count(*) FROM tlsrpt.arrival "
	    "WHERE note IS NOT NULL"), 0);
	/* the transactions the three workers had to retry */
	cr_log_info("scaleout: %lld transactions rolled back",
	    (long long)stu_int(&tdb, "SELECT xact_rollback FROM "
	    "pg_stat_database WHERE datname = current_database()"));
	/* no batch failed for good */
	cr_expect_eq(stu_int(&tdb, "SELECT count(*) FROM tlsrpt.rejection"),
	    0);
	for (k = 0; k < NODES; k++)
		cr_expect_eq(count_files(dtu_S("%s/spool%d/bad", tdir, k)), 0,
		    "node %d has files in bad/", k);
	/* the milter's verdict (no signature) whoever stored first */
	cr_expect_eq(stu_int(&tdb, "SELECT count(*) FROM tlsrpt.report WHERE "
	    "dkim = 'none' AND NOT trusted"), ROUNDS);

	/* the base tables: each report's rows once */
	cr_expect_eq(stu_int(&tdb, "SELECT count(*) FROM tlsrpt.policy"),
	    2 * ROUNDS);
	cr_expect_eq(stu_int(&tdb, "SELECT count(*) FROM "
	    "tlsrpt.failure_detail"), ndet);
	cr_expect_eq(stu_int(&tdb, "SELECT count(*) FROM tlsrpt.report_raw"),
	    ROUNDS);
	/* the rollup: the figures worked out above */
	for (d = 0; d < DOMAINS; d++) {
		snprintf(sql, sizeof(sql), "SELECT sum(reports) FROM "
		    "tlsrpt.rollup WHERE result_type = '' AND policy_domain = "
		    "'a%d.scale.test'", d);
		cr_expect_eq(stu_int(&tdb, sql), reports[d], "a%d reports", d);
		snprintf(sql, sizeof(sql), "SELECT sum(successful_sessions) "
		    "FROM tlsrpt.rollup WHERE result_type = '' AND "
		    "policy_domain = 'a%d.scale.test'", d);
		cr_expect_eq(stu_int(&tdb, sql), ok[d], "a%d successful", d);
		snprintf(sql, sizeof(sql), "SELECT sum(failed_sessions) "
		    "FROM tlsrpt.rollup WHERE result_type = '' AND "
		    "policy_domain = 'a%d.scale.test'", d);
		cr_expect_eq(stu_int(&tdb, sql), fail[d], "a%d failed", d);
		snprintf(sql, sizeof(sql), "SELECT sum(failed_sessions) "
		    "FROM tlsrpt.rollup WHERE result_type = "
		    "'certificate-expired' AND mx_host = 'mx1.a%d.scale.test' "
		    "AND policy_domain = 'a%d.scale.test'", d, d);
		cr_expect_eq(stu_int(&tdb, sql), expired[d], "a%d expired", d);
		snprintf(sql, sizeof(sql), "SELECT COALESCE(sum("
		    "failed_sessions), 0) FROM tlsrpt.rollup WHERE result_type "
		    "= 'starttls-not-supported' AND mx_host = "
		    "'mx2.a%d.scale.test' AND policy_domain = 'a%d.scale.test'",
		    d, d);
		cr_expect_eq(stu_int(&tdb, sql), starttls[d], "a%d starttls",
		    d);
	}
	cr_expect_eq(stu_int(&tdb, "SELECT sum(reports) FROM tlsrpt.rollup "
	    "WHERE result_type = '' AND policy_domain = '" NPF_DOMAIN "'"),
	    ROUNDS);
	cr_expect_eq(stu_int(&tdb, "SELECT sum(successful_sessions) FROM "
	    "tlsrpt.rollup WHERE policy_domain = '" NPF_DOMAIN "'"), npf);
	cr_expect_eq(stu_int(&tdb, "SELECT count(DISTINCT (policy_domain, "
	    "period_start, reporter, policy_type, result_type, mx_host)) FROM "
	    "tlsrpt.rollup"), stu_int(&tdb, "SELECT count(*) FROM "
	    "tlsrpt.rollup"));

	/* and as the CLI answers: one domain's line, worked out above */
	out = dtu_run("%s summary --db '%s' --since 2026-11-30 --until "
	    "2026-12-01 --domain a1.scale.test --format csv | tail -n 1",
	    dtu_bin("TLSRPT_BIN", "bin/tlsrpt"), tdb.conninfo);
	snprintf(sql, sizeof(sql), "a1.scale.test,%lld,1,%lld,%lld",
	    (long long)reports[1], (long long)ok[1], (long long)fail[1]);
	cr_expect(strstr(out, sql) != NULL, "summary: %s, want %s...", out,
	    sql);
	free(out);
}
