/*
 * test_milter.c -- tlsrpt-milter with a real PostgreSQL (a fresh
 * database per test on the server of tests/with-pg.sh): the worker's
 * side of what the milter spools (the callbacks driven through the shim,
 * tests/lib/milter_testutil.c), `summary --trusted-only`, and end to end
 * through a private Postfix on loopback with the real milter, a real
 * SMTP client (tests/milter/smtp_send.py) and miltertest.  The callbacks
 * alone: tests/unit/test_milter_cb.c.
 *
 * Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
 *
 * Every Postfix and milter a test starts is stopped in the test's own
 * teardown (.fini, which also runs after a failed assertion); the milter
 * also gets PR_SET_PDEATHSIG.  The Postfix tests are skipped, loudly,
 * when not root or Postfix is not installed.
 */

#define _GNU_SOURCE
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <libmilter/mfapi.h>

#include "daemon_testutil.h"
#include "dkim_testutil.h"
#include "dkim_verify.h"
#include "ingest.h"
#include "milter_conf.h"
#include "milter_msg.h"
#include "milter_shim.h"
#include "milter_testutil.h"
#include "core_spool.h"
#include "store.h"
#include "store_testutil.h"
#include "testutil.h"
#include "tlsrpt_limits.h"
#include "core_worker.h"


#define PF	"tests/milter/postfix.sh"
#define SEND	"tests/milter/smtp_send.py"
#define RUA	"tlsrpt@tlsrpt.test"

static struct stu_db	 tdb;
static int		 have_db;

static void
make_db(const char *label)
{
	dtu_make_db(&tdb, &have_db, label);
}

static void
drop_db(void)
{
	if (have_db)
		stu_db_drop(&tdb);
	have_db = 0;
}

/* --- the worker stores what the milter spooled --------------------------- */

static void
worker_teardown(void)
{
	cb_teardown();
	drop_db();
}

TestSuite(milter_worker, .init = mk_tdir, .fini = worker_teardown,
    .timeout = 60);

/* Wait until expr (a SQL count) reaches want; 20 s. */
static int64_t
wait_count(const char *sql, int64_t want)
{
	int64_t	n = -1;
	int	i;

	for (i = 0; i < 400; i++) {
		if ((n = stu_int(&tdb, sql)) >= want)
			break;
		usleep(50 * 1000);
	}
	return n;
}

Test(milter_worker, dkim_recorded_and_rejects_kept)
{
	struct spool		*sp;
	struct worker		*w;
	struct worker_conf	 wc;
	struct spool_meta	 sm;
	struct store		*st;
	struct store_window	 win;
	struct store_domain_summary *ds;
	unsigned char		*m, *m2;
	size_t			 len, len2, n;
	char			 err[256], buf[256];

	make_db("m_worker");
	sp = spool_open(dtu_S("%s/spool", tdir), err, sizeof(err));
	cr_assert_not_null(sp, "%s", err);
	m = tu_load("google_mox_1.eml", &len);
	m2 = tu_load("mailru_tlsrpt-rs_1.eml", &len2);

	memset(&sm, 0, sizeof(sm));
	sm.source = "mail";
	sm.origin = "mx.google.com [192.0.2.1]";
	sm.received = 1767225600;
	sm.extra[0] = "x-dkim: pass d=google.com aligned";
	cr_expect_eq(spool_put(sp, m, len, &sm), SPOOL_STORED);
	sm.extra[0] = "x-dkim: none";
	sm.extra[1] = "x-reject: dkim: no passing DKIM signature of the "
	    "reporting domain (none)";
	cr_expect_eq(spool_put(sp, m2, len2, &sm), SPOOL_STORED);
	/* a second arrival of the Google report, untrusted: no downgrade */
	m[len - 1] = m[len - 1] == '\n' ? ' ' : '\n';
	sm.extra[0] = "x-dkim: pass d=evil.test unaligned";
	sm.extra[1] = NULL;
	cr_expect_eq(spool_put(sp, m, len, &sm), SPOOL_STORED);

	memset(&wc, 0, sizeof(wc));
	wc.conninfo = tdb.conninfo;
	w = worker_start(sp, &wc, err, sizeof(err));
	cr_assert_not_null(w, "%s", err);
	/* stored, duplicate, rejected */
	n = (size_t)wait_count("SELECT count(*) FROM tlsrpt.arrival", 3);
	cr_expect_eq(n, 3, "arrivals %zu", n);
	cr_expect_eq(wait_count("SELECT count(*) FROM tlsrpt.rejection", 1),
	    1);
	worker_stop(w);
	cr_expect_str_eq(stu_text(&tdb, "SELECT dkim || ' ' || trusted FROM "
	    "tlsrpt.report", buf, sizeof(buf)),
	    "pass d=google.com aligned true");
	cr_expect_str_eq(stu_text(&tdb, "SELECT reason FROM tlsrpt.rejection",
	    buf, sizeof(buf)), "dkim: no passing DKIM signature of the "
	    "reporting domain (none)");
	cr_expect_eq(count_files(dtu_S("%s/spool/bad", tdir)), 2, "file and "
	    "reason");
	cr_expect_eq(count_files(dtu_S("%s/spool/new", tdir)), 0);

	/* summary --trusted-only: the same figures as the rollup for the
	 * trusted report; nothing from an untrusted one */
	st = stu_open(&tdb, 0);
	memset(&win, 0, sizeof(win));
	win.until = INT64_MAX;
	win.trusted_only = 1;
	cr_assert_eq(store_summary(st, &win, &ds, &n), 0, "%s",
	    store_errstr(st));
	cr_expect_eq(n, 1);
	if (n == 1) {
		cr_expect_str_eq(ds[0].domain, "test.xmox.nl");
		cr_expect_eq(ds[0].reports, 1);
	}
	store_summary_free(ds, n);
	stu_exec(&tdb, "UPDATE tlsrpt.report SET trusted = false");
	cr_assert_eq(store_summary(st, &win, &ds, &n), 0);
	cr_expect_eq(n, 0);
	store_summary_free(ds, n);
	store_close(st);
	spool_close(sp);
	free(m);
	free(m2);
}

/*
 * A refused mail (foreign domain) is spooled cut to LIM_REJECT_KEEP_BYTES,
 * recorded by the worker, and bad/ keeps --rejects-keep of them, the
 * oldest dropped.
 */
Test(milter_worker, refused_mail_cut_and_capped)
{
	struct fake		 f;
	struct worker		*w;
	struct worker_conf	 wc;
	struct tu_str		 pad = { 0 };
	struct stat		 sb;
	const char		*stage;
	char			*m, err[256], *out;
	int			 i;

	make_db("m_capped");
	keys_init();
	milt_shim_set(&fake_ops);
	front("--domain example.com --rejects-keep 2");
	for (i = 0; i < 1200; i++)		/* 84 KB of header */
		tu_str_add(&pad, "%s%.68s\r\n", i ? "\t" : "X-Pad: ",
		    "padpadpadpadpadpadpadpadpadpadpadpadpadpadpadpadpadpadpad"
		    "padpadpadpad");
	for (i = 0; i < 3; i++) {
		memset(&f, 0, sizeof(f));
		m = report_mail(dtu_S("d%d.test", i), dtu_S("cap-%d", i),
		    i == 0 ? pad.s : NULL);
		cr_expect_eq(feed(&f, RUA, m, strlen(m), &stage),
		    SMFIS_CONTINUE);
		cr_expect(strncmp(f.added[0], "X-TLSRPT-Collector: rejected "
		    "domain: ", 37) == 0, "%s", f.added[0]);
		close_conn(&f);
		if (i == 0)
			cr_expect_gt(strlen(m), LIM_REJECT_KEEP_BYTES + 4096);
		free(m);
		/* distinct mtimes: the oldest is the first */
		dtu_sh("touch -d '@%d' %s/spool/new/*", 1767225600 + i, tdir);
		if (i == 0) {
			out = dtu_run("ls %s/spool/new", tdir);
			out[strcspn(out, "\n")] = '\0';
			cr_assert_eq(stat(dtu_S("%s/spool/new/%s", tdir, out),
			    &sb), 0);
			cr_expect_leq(sb.st_size, LIM_REJECT_KEEP_BYTES + 8192,
			    "cut: %lld", (long long)sb.st_size);
			free(out);
		}
		if (i < 2) {	/* one at a time through the worker */
			memset(&wc, 0, sizeof(wc));
			wc.conninfo = tdb.conninfo;
			w = worker_start(csp, &wc, err, sizeof(err));
			cr_assert_not_null(w, "%s", err);
			cr_expect_eq(wait_count("SELECT count(*) FROM "
			    "tlsrpt.rejection", i + 1), i + 1);
			worker_stop(w);
		}
	}
	memset(&wc, 0, sizeof(wc));
	wc.conninfo = tdb.conninfo;
	w = worker_start(csp, &wc, err, sizeof(err));
	cr_assert_not_null(w, "%s", err);
	cr_expect_eq(wait_count("SELECT count(*) FROM tlsrpt.rejection", 3),
	    3);
	worker_stop(w);
	cr_expect_eq(stu_int(&tdb, "SELECT count(*) FROM tlsrpt.rejection "
	    "WHERE raw_len > 65536 OR length(raw) > 65536"), 0,
	    "the rows hold what was kept");
	cr_expect_eq(count_files(dtu_S("%s/spool/new", tdir)), 0);
	cr_expect_eq(count_files(dtu_S("%s/spool/bad", tdir)), 4,
	    "two files and their reasons");
	out = dtu_run("cat %s/spool/bad/*.reason", tdir);
	cr_expect(strstr(out, "d0.test") == NULL, "the oldest went: %s", out);
	cr_expect(strstr(out, "d1.test") != NULL && strstr(out, "d2.test") !=
	    NULL, "%s", out);
	free(out);
	free(pad.s);
}

Test(milter_worker, trusted_only_matches_the_rollup)
{
	struct store		*st;
	struct store_window	 win;
	struct store_domain_summary *a, *b;
	struct tlsrpt_report	*rep[3];
	struct store_arrival	 arr[3];
	enum store_outcome	 out[3];
	char			*j[3], *d, *p;
	size_t			 na, nb, i, k;

	make_db("m_trusted");
	st = stu_open(&tdb, 0);
	d = stu_join(stu_detail("certificate-expired", "mx1.t.example", 7),
	    stu_detail("starttls-not-supported", NULL, 3), NULL);
	p = stu_join(stu_policy("sts", "t.example", 90, 10, d),
	    stu_policy("tlsa", "t.example", 90, 10, NULL),
	    stu_policy("no-policy-found", "u.example", 5, 0, NULL), NULL);
	j[0] = stu_report("Org A", "a1", "2026-01-01", p);
	free(d);
	free(p);
	d = stu_detail("validation-failure", "mx2", 2);
	p = stu_policy("sts", "t.example", 40, 2, d);
	j[1] = stu_report("Org B", "b1", "2026-01-02", p);
	free(d);
	free(p);
	p = stu_policy("sts", "t.example", 1000, 500, NULL);
	j[2] = stu_report("Org C", "c1", "2026-01-02", p);
	free(p);
	for (i = 0; i < 3; i++) {
		rep[i] = stu_parse(j[i]);
		arr[i].source = "mail";
		arr[i].origin = NULL;
		arr[i].received_at = 1767225600;
		/* const-free copies for the test: set the verdict */
		rep[i]->dkim = i < 2 ? "pass d=x.test aligned" : "none";
		rep[i]->trusted = i < 2;
	}
	cr_assert_eq(store_put_reports(st, rep, arr, 3, out), 0, "%s",
	    store_errstr(st));
	memset(&win, 0, sizeof(win));
	win.until = INT64_MAX;
	/* the rollup over everything but the untrusted c1 ... */
	stu_exec(&tdb, "DELETE FROM tlsrpt.rollup WHERE reporter = 'org c'");
	cr_assert_eq(store_summary(st, &win, &a, &na), 0, "%s",
	    store_errstr(st));
	win.trusted_only = 1;
	cr_assert_eq(store_summary(st, &win, &b, &nb), 0, "%s",
	    store_errstr(st));
	/* ... equals the base tables over the trusted ones */
	cr_assert_eq(na, nb);
	for (i = 0; i < na; i++) {
		cr_expect_str_eq(a[i].domain, b[i].domain);
		cr_expect_eq(a[i].reports, b[i].reports, "%s", a[i].domain);
		cr_expect_eq(a[i].reporters, b[i].reporters);
		cr_expect_eq(a[i].successful, b[i].successful, "%s %lld %lld",
		    a[i].domain, (long long)a[i].successful,
		    (long long)b[i].successful);
		cr_expect_eq(a[i].failed, b[i].failed);
		cr_expect_eq(a[i].nrts, b[i].nrts);
		for (k = 0; k < a[i].nrts && k < b[i].nrts; k++) {
			cr_expect_str_eq(a[i].rts[k].result_type,
			    b[i].rts[k].result_type);
			cr_expect_eq(a[i].rts[k].failed_sessions,
			    b[i].rts[k].failed_sessions);
		}
	}
	store_summary_free(a, na);
	store_summary_free(b, nb);
	for (i = 0; i < 3; i++) {
		rep[i]->dkim = NULL;
		tlsrpt_report_free(rep[i]);
		free(j[i]);
	}
	store_close(st);
}

/* --- end to end: Postfix, the milter, PostgreSQL -------------------------- */

static pid_t	 mpid;
static int	 mport, sport;
static int	 pf_up;

static int
port_open(int port)
{
	struct sockaddr_in	sin;
	int			fd, ok;

	fd = socket(AF_INET, SOCK_STREAM, 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((unsigned short)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ok = connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0;
	close(fd);
	return ok;
}

static int
milter_listens(void *arg)
{
	(void)arg;
	return port_open(mport);
}

static void
milter_start(const char *extra)
{
	char	*cmd;

	mport = dtu_free_port();
	cr_assert_geq(asprintf(&cmd, "exec %s --socket inet:%d@127.0.0.1 "
	    "--rcpt " RUA " --spool %s/spool --db '%s' --authserv-id "
	    "mx.tlsrpt.test --dkim-keys %s/keys %s >>%s/milter.log 2>&1",
	    dtu_bin("TLSRPT_MILTER_BIN", "bin/tlsrpt-milter"), mport, tdir,
	    tdb.conninfo, tdir, extra, tdir), 0);
	mpid = dtu_spawn(cmd);
	free(cmd);
	cr_assert(dtu_wait_ready(mpid, milter_listens, NULL, "tlsrpt-milter",
	    dtu_S("%s/milter.log", tdir)), "tlsrpt-milter does not listen");
}

/* SIGTERM: the milter must exit 0, with no sanitizer report. */
static void
milter_stop(void)
{
	char	*log;
	int	 st = -1, exited;

	if (mpid <= 0)
		return;
	exited = dtu_stop(mpid, SIGTERM, 400, &st);
	mpid = 0;
	cr_expect(exited, "no exit 20 s after SIGTERM");
	cr_expect(WIFEXITED(st) && WEXITSTATUS(st) == 0,
	    "exit status %d after SIGTERM; see %s/milter.log", st, tdir);
	log = dtu_run("cat %s/milter.log", tdir);
	cr_expect(strstr(log, "Sanitizer") == NULL && strstr(log,
	    "runtime error") == NULL, "%s", log);
	free(log);
}

static void
pf_setup(void)
{
	mk_tdir();
	keys_init();
	mpid = 0;
	pf_up = 0;
	if (geteuid() != 0 || system("command -v postfix >/dev/null 2>&1 || "
	    "test -x /usr/sbin/postfix") != 0)
		cr_skip_test("needs root and Postfix (apt-get install "
		    "postfix): the end-to-end milter tests did not run");
}

static void
pf_teardown(void)
{
	if (pf_up)
		(void)!system(dtu_S(PF " stop %s/pf", tdir));
	pf_up = 0;
	milter_stop();
	drop_db();
	dtk_key_free(&dkey);
	rm_tdir();
}

/* Postfix on a free port with our milter; the milter already runs. */
static void
pf_start(void)
{
	sport = dtu_free_port();
	pf_up = 1;
	dtu_sh(PF " start %s/pf %d inet:127.0.0.1:%d", tdir, sport, mport);
}

/* Files delivered to the Maildir of user (tlsrpt, user, other). */
static int
delivered(const char *user)
{
	return count_files(dtu_S("%s/pf/mail/%s/new", tdir, user));
}

/* Wait until user's Maildir holds want messages; 20 s. */
static int
wait_delivered(const char *user, int want)
{
	int	i, n = 0;

	for (i = 0; i < 400; i++) {
		if ((n = delivered(user)) >= want)
			break;
		usleep(50 * 1000);
	}
	return n;
}

/* Wait until dir holds want files (a file and its reason are two); 20 s. */
static int
wait_files(const char *dir, int want)
{
	int	i, n = 0;

	for (i = 0; i < 400; i++) {
		if ((n = count_files(dir)) >= want)
			break;
		usleep(50 * 1000);
	}
	return n;
}

/* Codes smtp_send.py printed, in order, into codes; returns how many. */
static int
send_files(const char *rcpts, const char *opts, const char *files,
    int *codes, int max)
{
	char	*out, *line, *save = NULL;
	int	 n = 0;

	out = dtu_run("python3 " SEND " %s %d %s %s", opts, sport, rcpts,
	    files);
	for (line = strtok_r(out, "\n", &save); line != NULL && n < max;
	    line = strtok_r(NULL, "\n", &save))
		codes[n++] = atoi(line);
	free(out);
	return n;
}

TestSuite(milter_postfix, .init = pf_setup, .fini = pf_teardown,
    .timeout = 90);

Test(milter_postfix, corpus_and_plain_mail)
{
	char	*files, *maildir, *plain, *got;
	int	 codes[64], n, i, neml;

	make_db("m_pf_corpus");
	milter_start("");
	pf_start();
	files = dtu_run("ls %s/*.eml | tr '\\n' ' '", tu_corpus_dir());
	got = dtu_run("ls %s/*.eml | wc -l", tu_corpus_dir());
	neml = atoi(got);
	free(got);
	cr_assert_gt(neml, 10);
	n = send_files(RUA, "-j 4", files, codes, 64);
	cr_assert_eq(n, neml);
	for (i = 0; i < n; i++)
		cr_expect_eq(codes[i], 250, "message %d: %d", i, codes[i]);
	/* a plain mail to another recipient: untouched */
	plain = strdup("From: a@sender.test\r\nTo: user@tlsrpt.test\r\n"
	    "Subject: plain\r\nMessage-ID: <p1@sender.test>\r\n\r\n"
	    "Just a mail.\r\nWith two lines.\r\n");
	dtu_write_file(dtu_S("%s/plain.eml", tdir), plain, strlen(plain));
	cr_expect_eq(send_files("user@tlsrpt.test", "", dtu_S("%s/plain.eml",
	    tdir), codes, 1), 1);
	cr_expect_eq(codes[0], 250);

	/* every report stored, the empty one rejected and delivered; none
	 * trusted: the key file has no key of their signers */
	cr_expect_eq(wait_count("SELECT count(*) FROM tlsrpt.arrival WHERE "
	    "source = 'mail'", neml - 1), neml - 1);
	cr_expect_eq(stu_int(&tdb, "SELECT count(*) FROM tlsrpt.report WHERE "
	    "(dkim = 'none' OR dkim LIKE 'fail d=% (dkim=permerror)') AND NOT "
	    "trusted"), stu_int(&tdb, "SELECT count(*) FROM tlsrpt.report"));
	cr_expect_eq(stu_int(&tdb, "SELECT count(*) FROM tlsrpt.rejection"),
	    0);
	cr_expect_eq(wait_delivered("tlsrpt", neml), neml);
	maildir = cat_dir(dtu_S("%s/pf/mail/tlsrpt/new", tdir));
	for (i = 0, got = maildir; (got = strstr(got,
	    "X-TLSRPT-Collector: spooled")) != NULL; got++)
		i++;
	cr_expect_eq(i, neml - 1, "spooled headers: %d", i);
	cr_expect(strstr(maildir, "X-TLSRPT-Collector: rejected no-report")
	    != NULL);
	free(maildir);
	cr_expect_eq(wait_delivered("user", 1), 1);
	got = cat_dir(dtu_S("%s/pf/mail/user/new", tdir));
	cr_expect(strstr(got, "X-TLSRPT") == NULL, "%s", got);
	cr_expect(strstr(got, "\nSubject: plain\nMessage-ID: <p1@sender.test>"
	    "\n") != NULL, "headers changed: %s", got);
	cr_expect(strstr(got, "\n\nJust a mail.\nWith two lines.\n") != NULL,
	    "body changed: %s", got);
	free(got);
	free(plain);
	free(files);
}

Test(milter_postfix, spool_unwritable_tempfails_then_retry_stores)
{
	int	 codes[4];
	char	*f;

	make_db("m_pf_tempfail");
	milter_start("");
	pf_start();
	if (system(dtu_S("chattr +i %s/spool/tmp 2>/dev/null", tdir)) != 0)
		cr_skip_test("chattr +i not supported here: cannot make the "
		    "spool unwritable for root");
	f = strdup(dtu_S("%s/google_mox_1.eml", tu_corpus_dir()));
	cr_expect_eq(send_files(RUA, "", f, codes, 1), 1);
	cr_expect(codes[0] >= 400 && codes[0] < 500, "got %d", codes[0]);
	cr_expect_eq(delivered("tlsrpt"), 0);
	dtu_sh("chattr -i %s/spool/tmp", tdir);
	/* the sending MTA retries */
	cr_expect_eq(send_files(RUA, "", f, codes, 1), 1);
	cr_expect_eq(codes[0], 250);
	cr_expect_eq(wait_count("SELECT count(*) FROM tlsrpt.report", 1), 1);
	cr_expect_eq(wait_delivered("tlsrpt", 1), 1);
	free(f);
}

/*
 * The spool on a 2 MiB tmpfs filled to ENOSPC: 451 (the sender keeps
 * the mail), never a 250 that is lost; with space back the retry is
 * stored.
 */
Test(milter_postfix, disk_full_tempfails_then_retry_stores)
{
	char	*list, *files[64], *save = NULL, *p;
	int	 codes[4], n = 0, i, acked = 0, failed = -1;

	make_db("m_pf_full");
	dtu_sh("mkdir -p %s/spool", tdir);
	if (system(dtu_S("mount -t tmpfs -o size=2m tmpfs %s/spool", tdir)) !=
	    0)
		cr_skip_test("mount -t tmpfs not permitted here");
	spool_mounted = 1;
	milter_start("");
	pf_start();
	/* the report mails of the corpus, each a distinct report */
	list = dtu_run("ls %s/*.eml | grep -v empty_", tu_corpus_dir());
	for (p = strtok_r(list, "\n", &save); p != NULL && n < 64;
	    p = strtok_r(NULL, "\n", &save))
		files[n++] = p;
	cr_assert_gt(n, 8);
	for (i = 0; i < 3; i++) {
		cr_expect_eq(send_files(RUA, "", files[i], codes, 1), 1);
		cr_expect_eq(codes[0], 250);
		acked += codes[0] == 250;
	}
	cr_expect_eq(wait_count("SELECT count(*) FROM tlsrpt.arrival", 3), 3);
	(void)!system(dtu_S("dd if=/dev/zero of=%s/spool/fill bs=4096 "
	    "2>/dev/null", tdir));
	dtu_sh("test -s %s/spool/fill", tdir);
	/* stored files' space may take a few more, then 451 */
	for (i = 3; i < n && failed == -1; i++) {
		cr_expect_eq(send_files(RUA, "", files[i], codes, 1), 1);
		cr_expect(codes[0] == 250 || (codes[0] >= 400 &&
		    codes[0] < 500), "%s: %d", files[i], codes[0]);
		if (codes[0] == 250)
			acked++;
		else
			failed = i;
	}
	cr_assert_neq(failed, -1, "a full spool tempfails");
	dtu_sh("rm -f %s/spool/fill", tdir);
	cr_expect_eq(send_files(RUA, "", files[failed], codes, 1), 1);
	cr_expect_eq(codes[0], 250, "space is back: the retry is taken");
	acked += codes[0] == 250;
	cr_expect_eq(wait_count("SELECT count(*) FROM tlsrpt.arrival",
	    acked), acked);
	cr_expect_eq(stu_int(&tdb, "SELECT count(*) FROM tlsrpt.arrival"),
	    acked, "each acknowledged mail once");
	cr_expect_eq(wait_delivered("tlsrpt", acked), acked);
	free(list);
}

Test(milter_postfix, discard_only_stored_reports)
{
	int	 codes[4];
	char	*got;

	make_db("m_pf_discard");
	milter_start("--action discard");
	pf_start();
	cr_expect_eq(send_files(RUA, "", dtu_S("%s/google_mox_1.eml %s/empty_"
	    "tlsrpt-rs.eml", tu_corpus_dir(), tu_corpus_dir()), codes, 2), 2);
	cr_expect_eq(codes[0], 250);
	cr_expect_eq(codes[1], 250);
	/* a report for us and someone else: they keep their copy */
	cr_expect_eq(send_files(RUA ",user@tlsrpt.test", "", dtu_S("%s/mailru_"
	    "tlsrpt-rs_1.eml", tu_corpus_dir()), codes, 1), 1);
	cr_expect_eq(codes[0], 250);
	cr_expect_eq(wait_count("SELECT count(*) FROM tlsrpt.report", 2), 2);
	cr_expect_eq(wait_delivered("user", 1), 1);
	cr_expect_eq(wait_delivered("tlsrpt", 1), 1);
	usleep(500 * 1000);
	cr_expect_eq(delivered("tlsrpt"), 1, "only the non-report");
	got = cat_dir(dtu_S("%s/pf/mail/tlsrpt/new", tdir));
	cr_expect(strstr(got, "X-TLSRPT-Collector: rejected no-report") !=
	    NULL, "%s", got);
	free(got);
}

/*
 * Through a real Postfix: a report signed with simple/simple (every byte
 * of the header fields as signed, so the milter's copy must be the
 * message as received) and one with relaxed/relaxed are trusted; an
 * unsigned "Google" report with our MTA's forged verdict is rejected.
 */
Test(milter_postfix, require_dkim)
{
	int	 codes[4];
	char	*m, *s, *t, buf[512];

	make_db("m_pf_dkim");
	dkim_publish("google.com", "reporter.test", NULL);
	milter_start("--require-dkim");
	pf_start();
	m = dtk_report_mail("Google Inc.", "google.com", "a.example", "p1",
	    NULL);
	s = dtk_sign(m, strlen(m), "google.com", "s1", &dkey, 0);
	dtu_write_file(dtu_S("%s/simple.eml", tdir), s, strlen(s));
	free(s);
	free(m);
	m = dtk_report_mail("reporter.test", "reporter.test", "b.example",
	    "p2", NULL);
	s = dtk_sign(m, strlen(m), "reporter.test", "s1", &dkey, 1);
	dtu_write_file(dtu_S("%s/relaxed.eml", tdir), s, strlen(s));
	free(s);
	free(m);
	m = dtk_report_mail("Google Inc.", "google.com", "c.example", "p3",
	    "Authentication-Results: mx.tlsrpt.test; dkim=pass "
	    "header.d=google.com header.s=20210112\r\n");
	dtu_write_file(dtu_S("%s/forged.eml", tdir), m, strlen(m));
	free(m);
	cr_expect_eq(send_files(RUA, "", dtu_S("%s/simple.eml %s/relaxed.eml "
	    "%s/forged.eml", tdir, tdir, tdir), codes, 3), 3);
	cr_expect_eq(codes[0], 250);
	cr_expect_eq(codes[1], 250);
	cr_expect_eq(codes[2], 250);
	cr_expect_eq(wait_count("SELECT count(*) FROM tlsrpt.rejection", 1),
	    1);
	cr_expect_eq(wait_count("SELECT count(*) FROM tlsrpt.report", 2), 2);
	cr_expect_str_eq(stu_text(&tdb, "SELECT string_agg(p.policy_domain || "
	    "' ' || r.dkim || ' ' || r.trusted, '; ' ORDER BY "
	    "p.policy_domain) FROM tlsrpt.report r JOIN tlsrpt.policy p "
	    "USING (report_no)", buf, sizeof(buf)),
	    "a.example pass d=google.com aligned true; "
	    "b.example pass d=reporter.test aligned true");
	cr_expect_str_eq(stu_text(&tdb, "SELECT reason FROM tlsrpt.rejection",
	    buf, sizeof(buf)), "dkim: no passing DKIM signature of the "
	    "reporting domain (none (a-r: dkim=pass header.d=google.com))");
	/* the rejection is recorded, then its file moved to bad/ */
	cr_expect_eq(wait_files(dtu_S("%s/spool/bad", tdir), 2), 2);
	/* the rejected one is delivered, and says why */
	cr_expect_eq(wait_delivered("tlsrpt", 3), 3);
	t = cat_dir(dtu_S("%s/pf/mail/tlsrpt/new", tdir));
	cr_expect(strstr(t, "X-TLSRPT-Collector: rejected dkim: ") != NULL,
	    "%s", t);
	free(t);
}

Test(milter_postfix, parallel_sessions)
{
	struct tu_str	 files = { 0 };
	int		 codes[32], i, n;
	char		*m, *s, id[32];

	make_db("m_pf_parallel");
	dkim_publish("reporter.test", NULL);
	milter_start("");
	pf_start();
	tu_str_add(&files, "%s", "");
	/* signed: 20 verifications at once in the milter's threads */
	for (i = 0; i < 20; i++) {
		snprintf(id, sizeof(id), "par-%02d", i);
		m = report_mail(dtu_S("d%02d.example", i), id, NULL);
		s = dtk_sign(m, strlen(m), "reporter.test", "s1", &dkey, i % 2);
		dtu_write_file(dtu_S("%s/p%02d.eml", tdir, i), s, strlen(s));
		tu_str_add(&files, " %s/p%02d.eml", tdir, i);
		free(s);
		free(m);
	}
	n = send_files(RUA, "-j 20", files.s, codes, 32);
	cr_expect_eq(n, 20);
	for (i = 0; i < n; i++)
		cr_expect_eq(codes[i], 250, "session %d: %d", i, codes[i]);
	cr_expect_eq(wait_count("SELECT count(*) FROM tlsrpt.report", 20),
	    20);
	cr_expect_eq(stu_int(&tdb, "SELECT count(DISTINCT policy_domain) FROM "
	    "tlsrpt.policy"), 20);
	cr_expect_eq(stu_int(&tdb, "SELECT count(*) FROM tlsrpt.report WHERE "
	    "trusted AND dkim = 'pass d=reporter.test aligned'"), 20);
	cr_expect_eq(wait_delivered("tlsrpt", 20), 20);
	free(files.s);
}

/* --- the protocol as an MTA sees it: miltertest ---------------------------- */

static void
mt_setup(void)
{
	mk_tdir();
	keys_init();
	mpid = 0;
	pf_up = 0;
	if (system("command -v miltertest >/dev/null 2>&1") != 0)
		cr_skip_test("miltertest not installed (apt-get install "
		    "miltertest): tests/milter/protocol.lua did not run");
}

TestSuite(milter_miltertest, .init = mt_setup, .fini = pf_teardown,
    .timeout = 60);

Test(milter_miltertest, protocol)
{
	char	*out, buf[256];

	make_db("m_mt");
	milter_start("");
	out = dtu_run("MILTER_SOCK=inet:%d@127.0.0.1 "
	    "REPORT_EML=%s/google_mox_1.eml miltertest -s "
	    "tests/milter/protocol.lua 2>&1; echo rc=$?", mport,
	    tu_corpus_dir());
	cr_expect(strstr(out, "rc=0") != NULL, "%s", out);
	free(out);
	cr_expect_eq(wait_count("SELECT count(*) FROM tlsrpt.report", 1), 1);
	/* the script's "Authentication-Results: mx.tlsrpt.test; dkim=pass
	 * header.d=google.com" is recorded, not believed */
	cr_expect_str_eq(stu_text(&tdb, "SELECT dkim || ' ' || trusted FROM "
	    "tlsrpt.report", buf, sizeof(buf)), "fail d=google.com "
	    "(dkim=permerror) (a-r: dkim=pass header.d=google.com) false");
}
