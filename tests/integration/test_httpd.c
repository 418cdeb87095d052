/*
 * test_httpd.c -- tlsrpt-httpd end to end: the real daemon (fork/exec of
 * $TLSRPT_HTTPD_BIN), real HTTPS with curl, a real PostgreSQL (a fresh
 * database per test on the server of tests/with-pg.sh).
 *
 * Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
 *
 * Every daemon a test starts is killed on every path: SIGTERM in the
 * test's own teardown (.fini, which also runs after a failed assertion),
 * and PR_SET_PDEATHSIG as the last resort.
 */

#define _GNU_SOURCE
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "daemon_testutil.h"
#include "ingest.h"
#include "store_testutil.h"
#include "testutil.h"

#define MAXD	4

struct daemon {
	pid_t	pid;
	int	port;
	char	log[512];
	char	db[2048];
};

static char		 tdir[256];	/* this test's temp dir */
static struct daemon	 ds[MAXD];
static int		 nds;
static struct stu_db	 tdb;
static int		 have_db;
static int		 mounted;	/* a tmpfs on tdir/spool */

static void
make_cert(const char *name)
{
	dtu_sh("cd %s && printf 'cn = localhost\\nip_address = 127.0.0.1\\n"
	    "expiration_days = 30\\ntls_www_server\\nsigning_key\\n' > tmpl && "
	    "certtool --generate-privkey --key-type=ecdsa --outfile %s.key "
	    ">/dev/null 2>&1 && certtool --generate-self-signed "
	    "--load-privkey %s.key --template tmpl --outfile %s.crt "
	    ">/dev/null 2>&1", tdir, name, name, name);
}

static void
setup(void)
{
	snprintf(tdir, sizeof(tdir), "/tmp/tlsrpt-httpd-test.XXXXXX");
	cr_assert_not_null(mkdtemp(tdir));
	make_cert("a");
	nds = 0;
	have_db = 0;
}

static void
kill_daemon(struct daemon *d, int sig)
{
	int	st;

	if (d->pid <= 0)
		return;
	(void)dtu_stop(d->pid, sig, 200, &st);	/* 10 s */
	d->pid = 0;
}

static void
teardown(void)
{
	int	i;

	for (i = 0; i < nds; i++)
		kill_daemon(&ds[i], SIGKILL);
	if (mounted)
		(void)!system(dtu_S("umount '%s/spool'", tdir));
	mounted = 0;
	if (have_db)
		stu_db_drop(&tdb);
	if (tdir[0] != '\0' && getenv("TLSRPT_TEST_KEEP") == NULL)
		(void)!system(dtu_S("rm -rf '%s'", tdir));
}

/* The database of this test, migrated. */
static void
make_db(const char *label)
{
	dtu_make_db(&tdb, &have_db, label);
}

static int
curl_code(const char *url_args)
{
	char	*out;
	int	 code;

	out = dtu_run("curl -sk --max-time 20 -o /dev/null -w '%%{http_code}' "
	    "%s", url_args);
	code = atoi(out);
	free(out);
	return code;
}

static char *
url(const struct daemon *d, const char *path)
{
	static char	u[2][128];
	static int	i;

	i ^= 1;
	snprintf(u[i], sizeof(u[i]), "https://127.0.0.1:%d%s", d->port, path);
	return u[i];
}

static int
metrics_ok(void *arg)
{
	return curl_code(url(arg, "/metrics")) == 200;
}

/*
 * Start the daemon with --db db (NULL: this test's database) and extra
 * arguments; wait until it answers.  port 0: a free one.
 */
static struct daemon *
start(const char *db, int port, const char *fmt, ...)
{
	struct daemon	*d;
	char		*extra = NULL, *cmd;
	va_list		 ap;

	cr_assert_lt(nds, MAXD);
	d = &ds[nds++];
	memset(d, 0, sizeof(*d));
	d->port = port ? port : dtu_free_port();
	snprintf(d->db, sizeof(d->db), "%s", db ? db : tdb.conninfo);
	snprintf(d->log, sizeof(d->log), "%s/httpd-%d.log", tdir, nds);
	va_start(ap, fmt);
	cr_assert_geq(vasprintf(&extra, fmt, ap), 0);
	va_end(ap);
	cr_assert_geq(asprintf(&cmd, "exec %s --listen 127.0.0.1:%d "
	    "--tls-cert %s/a.crt --tls-key %s/a.key --spool %s/spool "
	    "--db '%s' %s >>%s 2>&1", dtu_bin("TLSRPT_HTTPD_BIN",
	    "bin/tlsrpt-httpd"), d->port, tdir, tdir, tdir, d->db, extra,
	    d->log), 0);
	d->pid = dtu_spawn(cmd);
	free(cmd);
	free(extra);
	cr_assert(dtu_wait_ready(d->pid, metrics_ok, d, "tlsrpt-httpd",
	    d->log), "tlsrpt-httpd does not answer; see %s", d->log);
	return d;
}

/* SIGTERM: the daemon must finish and exit 0. */
static void
stop(struct daemon *d)
{
	int	st = -1, exited;

	exited = dtu_stop(d->pid, SIGTERM, 200, &st);
	d->pid = 0;
	cr_assert(exited, "no exit 10 s after SIGTERM");
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0,
	    "exit status %d after SIGTERM; see %s", st, d->log);
}

/* A distinct small report about domain, gzipped into tdir/NAME. */
static char *
report_file(const char *name, const char *domain, const char *id, int gz)
{
	static char	 path[512];
	char		*json, *pol;
	unsigned char	*g;
	size_t		 gl;

	pol = stu_policy("sts", domain, 100, 2, NULL);
	json = stu_report("Test Org", id, "2026-01-05", pol);
	free(pol);
	snprintf(path, sizeof(path), "%s/%s", tdir, name);
	if (gz) {
		g = tu_gzip(json, strlen(json), &gl);
		dtu_write_file(path, g, gl);
		free(g);
	} else
		dtu_write_file(path, json, strlen(json));
	free(json);
	return path;
}

static int
post(const struct daemon *d, const char *file, const char *ctype)
{
	char	args[1024];

	snprintf(args, sizeof(args), "%s%s%s --data-binary @%s %s",
	    ctype ? "-H 'Content-Type: " : "", ctype ? ctype : "",
	    ctype ? "'" : "", file, url(d, "/v1/report"));
	return curl_code(args);
}

/* Wait until sql counts want (at most secs); returns the last count. */
static int64_t
wait_count(const char *sql, int64_t want, int secs)
{
	int64_t	n = -1;
	int	i;

	for (i = 0; i < secs * 10; i++) {
		if ((n = stu_int(&tdb, sql)) == want)
			break;
		usleep(100 * 1000);
	}
	return n;
}

TestSuite(httpd, .init = setup, .fini = teardown, .timeout = 60);

/* --- every status code ------------------------------------------------- */

Test(httpd, statuses)
{
	struct daemon	*d;
	char		*out, *f, big[300];
	int		 i;

	make_db("h_status");
	d = start(NULL, 0, "--domain allowed.example --body-max 65536 "
	    "--json-max 1048576");

	f = report_file("ok.json.gz", "allowed.example", "s-1", 1);
	cr_expect_eq(post(d, f, "application/tlsrpt+gzip"), 201);
	cr_expect_eq(post(d, f, "application/tlsrpt+gzip"), 200,
	    "a byte-identical resubmission");
	/* wrong Content-Type: sniffing corrects it */
	f = report_file("mislabeled.json.gz", "mx1.allowed.example", "s-2", 1);
	cr_expect_eq(post(d, f, "application/json"), 201);
	f = report_file("plain.json", "allowed.example", "s-3", 0);
	cr_expect_eq(post(d, f, "application/tlsrpt+gzip"), 201);
	f = report_file("noct.json", "allowed.example", "s-4", 0);
	cr_expect_eq(post(d, f, NULL), 201);

	f = report_file("other.json.gz", "other.example", "s-5", 1);
	out = dtu_run("curl -sk --data-binary @%s %s", f, url(d, "/v1/report"));
	cr_expect(strstr(out, "other.example") != NULL, "403 names the "
	    "domain: %s", out);
	free(out);
	cr_expect_eq(post(d, f, NULL), 403);

	snprintf(big, sizeof(big), "%s/junk", tdir);
	dtu_write_file(big, "hello, world", 12);
	cr_expect_eq(post(d, big, "application/tlsrpt+json"), 415);
	dtu_write_file(big, "{\"a\": 1}", 8);
	out = dtu_run("curl -sk --data-binary @%s %s", big,
	    url(d, "/v1/report"));
	cr_expect(strstr(out, "not a TLS report") != NULL, "%s", out);
	cr_expect(strchr(out, '\n') == out + strlen(out) - 1, "one line: %s",
	    out);
	free(out);
	cr_expect_eq(post(d, big, NULL), 400);
	dtu_write_file(big, "\x1f\x8b\x08\x00garbage", 12);
	cr_expect_eq(post(d, big, NULL), 400, "corrupt gzip");
	cr_expect_eq(curl_code(url(d, "/v1/report")), 405);
	cr_expect_eq(curl_code(dtu_S("-X PUT %s", url(d, "/v1/report"))), 405);
	cr_expect_eq(curl_code(url(d, "/elsewhere")), 404);

	/* declared too big: refused before the body */
	dtu_sh("head -c 70000 /dev/zero > %s/big", tdir);
	snprintf(big, sizeof(big), "%s/big", tdir);
	cr_expect_eq(post(d, big, NULL), 413);
	/* chunked: no Content-Length, counted while it streams */
	cr_expect_eq(curl_code(dtu_S("-H 'Transfer-Encoding: chunked' "
	    "--data-binary @%s %s", big, url(d, "/v1/report"))), 413);
	/* a gzip bomb: small body, decompressed over --json-max */
	dtu_sh("head -c 3000000 /dev/zero | gzip -9 > %s/bomb.gz", tdir);
	snprintf(big, sizeof(big), "%s/bomb.gz", tdir);
	cr_expect_eq(post(d, big, NULL), 413);

	cr_expect_eq(wait_count("SELECT count(*) FROM tlsrpt.report", 4, 15),
	    4);
	cr_expect_eq(curl_code(url(d, "/healthz")), 200);
	/* the worker counts a batch after its commit and the removal of its
	 * files: wait for the count (15 s), then read the rest with it */
	for (i = 0;; i++) {
		out = dtu_run("curl -sk %s", url(d, "/metrics"));
		if (strstr(out, "tlsrpt_reports_stored_total 4\n") != NULL ||
		    i == 150)
			break;
		free(out);
		usleep(100 * 1000);
	}
	cr_expect(strstr(out, "tlsrpt_http_requests_total{code=\"201\"} 4") !=
	    NULL, "%s", out);
	cr_expect(strstr(out, "tlsrpt_reports_stored_total 4") != NULL,
	    "%s", out);
	cr_expect(strstr(out, "tlsrpt_http_rejected_total{reason=\"domain\"} "
	    "2") != NULL, "%s", out);
	free(out);
	/* the rejected bodies are kept for inspection */
	out = dtu_run("ls %s/spool/bad | grep -c reason", tdir);
	i = atoi(out);
	free(out);
	cr_expect_geq(i, 3, "rejects kept: %d", i);
	stop(d);
}

/* --- the corpus, gzipped and as JSON ----------------------------------- */

/*
 * Every report of tests/data/corpus/ (each file with ".json" in its
 * name), POSTed as it is and in the other form (gzipped by the test, or
 * gunzipped by gzip(1)), in this order; then the two not-JSON texts.
 * The statuses are worked out from the corpus (INDEX.md, sha256sums.txt,
 * the files), never asked of the code under test:
 * - every .json and .json.gz file is an RFC 8460 report (INDEX.md; the
 *   deviations noted there are warnings, not refusals): 201;
 * - 200 only for a byte-identical resubmission (README, "What a sender
 *   gets"): google_mail-tls-rpt_report.json has the bytes of
 *   google_mail-tls-rpt_fastmail_extracted.json (same sha256), so it and
 *   its gzip (the same gzip of the same bytes) answer 200, and so does
 *   google_mail-tls-rpt_report.json.gz gunzipped (INDEX.md: "the
 *   identical payload"); the .json.gz as it is has other bytes than the
 *   test's gzip: 201;
 * - the slide transcript and the legacy draft example are not valid JSON
 *   (INDEX.md): 400, gzipped too.
 * The reports are 37: the 41 files hold three reports twice or three
 *   times (same organization, report-id and date-range): the
 *   fastmail/report.json/report.json.gz triple, mailru_tlsrpt-rs_1 .json
 *   and _extracted.json, and microsoft-doctored_tls-rpt-monitor_1.json
 *   with microsoft_tls-rpt-monitor_1.json.gz.  Each 201 is one arrival.
 */
struct corpus_post {
	const char	*file;
	int		 as_is;		/* HTTP status of the file's bytes */
	int		 other;		/* ... of the other form */
};

static const struct corpus_post corpus_posts[] = {
	{ "google-anon_parsedmarc_smtp_tls.json", 201, 201 },
	{ "google-style-malformed_stalwart_rpt03.json", 201, 201 },
	{ "google-style_stalwart_rpt02.json", 201, 201 },
	{ "google_blogreen-mbox_1_extracted.json", 201, 201 },
	{ "google_deltachat-core_tlsrpt_extracted.json", 201, 201 },
	{ "google_dmarc-metrics-exporter-issue52.json", 201, 201 },
	{ "google_dmarc-report-viewer_1.json", 201, 201 },
	{ "google_dmarc-report-viewer_no-policy.json", 201, 201 },
	{ "google_docker-dmarc-report-issue43.json", 201, 201 },
	{ "google_gcf-bigquery_multi-policy.json", 201, 201 },
	{ "google_internet-message-parser_1_extracted.json", 201, 201 },
	{ "google_mail-tls-rpt_fastmail_extracted.json", 201, 201 },
	{ "google_mail-tls-rpt_report.json", 200, 200 },
	{ "google_mail-tls-rpt_report.json.gz", 201, 200 },
	{ "google_mox_1_extracted.json", 201, 201 },
	{ "google_network-journal_1.json", 201, 201 },
	{ "google_parsedmarc_1_extracted.json", 201, 201 },
	{ "google_tlsrpt-digest_failure_extracted.json", 201, 201 },
	{ "google_tlsrpt-digest_success1_extracted.json", 201, 201 },
	{ "google_tlsrpt-digest_success2_extracted.json", 201, 201 },
	{ "google_tlsrpt-rs_1_extracted.json", 201, 201 },
	{ "google_tlsrpt-rs_2_extracted.json", 201, 201 },
	{ "mailru_parsedmarc_1.json", 201, 201 },
	{ "mailru_tlsrpt-rs_1.json", 201, 201 },
	{ "mailru_tlsrpt-rs_1_extracted.json", 201, 201 },
	{ "microsoft-doctored_tls-rpt-monitor_1.json", 201, 201 },
	{ "microsoft_dmarc-report-viewer-issue57.json", 201, 201 },
	{ "microsoft_dmarc-report-viewer_no-ip-and-mx.json", 201, 201 },
	{ "microsoft_dmarc-report-viewer_sts-tlsa.json", 201, 201 },
	{ "microsoft_mox_1_extracted.json", 201, 201 },
	{ "microsoft_tls-rpt-monitor_1.json.gz", 201, 201 },
	{ "microsoft_tlsrpt-digest_success_extracted.json", 201, 201 },
	{ "microsoft_tlsrpt-rs_1_extracted.json", 201, 201 },
	{ "postfix-sys4-tlsrpt-reporter_issue51.json", 201, 201 },
	{ "refluxstop-de_dmarc-report-viewer-issue71.json", 201, 201 },
	{ "rfc8460-example_parsedmarc.json", 201, 201 },
	{ "socketlabs-edited_gcf-bigquery_ludemo.json", 201, 201 },
	{ "socketlabs_gcf-bigquery_1.json", 201, 201 },
	{ "stalwart-egressif_parsedmarc-issue575.json", 201, 201 },
	{ "stalwart-like_dmarc-report-viewer_no-contact.json", 201, 201 },
	{ "synthetic-empty-fields_parsedmarc.json", 201, 201 },
	/* not reports */
	{ "google-2019_belastingdienst-slides_transcript.txt", 400, 400 },
	{ "legacy-draft-example_mrisher-smtp-sts_reporting-md.txt", 400, 400 },
};
#define CORPUS_POSTS	(sizeof(corpus_posts) / sizeof(corpus_posts[0]))
#define CORPUS_REPORTS	37

/* The entry of corpus_posts for name, or NULL. */
static const struct corpus_post *
corpus_post(const char *name)
{
	size_t	i;

	for (i = 0; i < CORPUS_POSTS; i++)
		if (strcmp(corpus_posts[i].file, name) == 0)
			return &corpus_posts[i];
	return NULL;
}

Test(httpd, corpus)
{
	const struct corpus_post *c;
	struct daemon		*d;
	struct dirent		*de;
	struct tu_str		 args = { 0 }, want = { 0 };
	unsigned char		*raw, *gz;
	size_t			 len, gzlen, i;
	char			 path[512], *out, *w, *o, *wl, *ol;
	const char		*ctype[2];
	DIR			*dir;
	int			 n = 0, f, is_gz, created = 0;

	/* the table is the corpus: a file added there must be added here */
	dir = opendir(tu_corpus_dir());
	cr_assert_not_null(dir);
	while ((de = readdir(dir)) != NULL)
		if (strstr(de->d_name, ".json") != NULL)
			cr_expect_not_null(corpus_post(de->d_name), "%s: not in "
			    "corpus_posts", de->d_name);
	closedir(dir);

	make_db("h_corpus");
	d = start(NULL, 0, "");
	tu_str_add(&args, "curl -sk --max-time 30 -w '%%{http_code}\\n' -o "
	    "/dev/null");
	tu_str_add(&want, "%s", "");
	for (i = 0; i < CORPUS_POSTS; i++) {
		c = &corpus_posts[i];
		raw = tu_load(c->file, &len);
		is_gz = strcmp(c->file + strlen(c->file) - 3, ".gz") == 0;
		ctype[0] = is_gz ? "gzip" : "json";
		ctype[1] = is_gz ? "json" : "gzip";
		for (f = 0; f < 2; f++) {
			snprintf(path, sizeof(path), "%s/c%d", tdir, n);
			if (f == 0)
				dtu_write_file(path, raw, len);
			else if (is_gz)
				dtu_sh("gzip -dc < %s/%s > %s", tu_corpus_dir(),
				    c->file, path);
			else {
				gz = tu_gzip(raw, len, &gzlen);
				dtu_write_file(path, gz, gzlen);
				free(gz);
			}
			tu_str_add(&args, " %s-H 'Content-Type: application/"
			    "tlsrpt+%s' --data-binary @%s %s",
			    n ? "--next -sk -o /dev/null -w "
			    "'%{http_code}\\n' " : "", ctype[f], path,
			    url(d, "/v1/report"));
			tu_str_add(&want, "%d %s%s\n", f ? c->other : c->as_is,
			    c->file, f ? " (other form)" : "");
			created += (f ? c->other : c->as_is) == 201;
			n++;
		}
		free(raw);
	}
	out = dtu_run("%s", args.s);
	w = want.s, o = out;
	while ((wl = strsep(&w, "\n")) != NULL && *wl != '\0') {
		ol = strsep(&o, "\n");
		cr_expect(ol != NULL && atoi(ol) == atoi(wl),
		    "%s: got %s", wl, ol ? ol : "nothing");
	}
	/* 41 reports posted twice, three of the posts byte-identical */
	cr_expect_eq(created, 2 * 41 - 3, "corpus_posts: %d times 201",
	    created);
	cr_expect_eq(wait_count("SELECT count(*) FROM tlsrpt.report",
	    CORPUS_REPORTS, 20), CORPUS_REPORTS, "every report stored once");
	cr_expect_eq(stu_int(&tdb, "SELECT count(*) FROM tlsrpt.arrival "
	    "WHERE source = 'https'"), (int64_t)created,
	    "one arrival per 201");
	free(out);
	free(args.s);
	free(want.s);
	stop(d);
}

/* --- 200 at once -------------------------------------------------------- */

/*
 * What is asserted is that every post is taken and stored once, not how
 * fast: 200 TLS handshakes and fsynced puts at once take the sanitized
 * daemon on a loaded 2-core machine tens of seconds (all 200 handshakes
 * share the CPU, so the last ones end late), so each transfer may take
 * 120 s, the handshake and headers too (--header-timeout, 10 s by
 * default, cut some of them: its own test is httpd_conn::
 * header_deadline), the storing another 120 s, and the test 300 s.
 */
Test(httpd, concurrent, .timeout = 300)
{
	struct daemon	*d;
	struct tu_str	 args = { 0 };
	char		 name[64], id[64], *out, *p, *ev;
	int		 i, n201 = 0, n000 = 0;

	make_db("h_conc");
	d = start(NULL, 0, "--max-connections-per-ip 300 --header-timeout 120 "
	    "--timeout 120");
	tu_str_add(&args, "curl -sZ --parallel-max 200 --parallel-immediate");
	for (i = 0; i < 200; i++) {
		snprintf(name, sizeof(name), "r%d.json.gz", i);
		snprintf(id, sizeof(id), "conc-%d", i);
		tu_str_add(&args, " %s-sk --max-time 120 -o /dev/null -w "
		    "'%%{http_code}\\n' -H 'Content-Type: application/"
		    "tlsrpt+gzip' --data-binary @%s %s", i ? "--next " : "",
		    report_file(name, "conc.example", id, 1),
		    url(d, "/v1/report"));
	}
	tu_str_add(&args, " 2>/dev/null");
	out = dtu_run("%s", args.s);
	for (p = out; (p = strstr(p, "201")) != NULL; p += 3)
		n201++;
	for (p = out; (p = strstr(p, "000")) != NULL; p += 3)
		n000++;
	/* on failure, why: the daemon's cuts, not 200 lines of codes */
	ev = n201 == 200 ? strdup("") : dtu_run("curl -sk %s | grep "
	    "'^tlsrpt_http_connection_events_total' | tr '\\n' ' '",
	    url(d, "/metrics"));
	cr_expect_eq(n201, 200, "201s: %d of 200, %d without an answer; %s",
	    n201, n000, ev);
	free(ev);
	cr_expect_eq(wait_count("SELECT count(*) FROM tlsrpt.report", 200,
	    120), 200);
	cr_expect_eq(stu_int(&tdb, "SELECT count(*) FROM tlsrpt.arrival"),
	    200, "each stored once");
	free(out);
	free(args.s);
	stop(d);
}

/* --- kill -9 during a stream of posts ---------------------------------- */

/*
 * kill -9 in the middle of a stream of posts, then a restart: every post
 * that got 201 is in the database exactly once.  The kill is timed by
 * what the daemon has done (reports already stored), not by the clock,
 * and the stream is long enough to be still running then.
 */
#define KILL9_POSTS	1500
#define KILL9_AFTER	10	/* reports stored before the kill */

/* 1500 fsynced POSTs: slow on a loaded machine, hence its own timeout */
Test(httpd, kill9, .timeout = 180)
{
	struct daemon	*d;
	char		 name[64], id[64], sql[256], line[64], cfg[512];
	int		 i, port, acked = 0, stored, n;
	FILE		*p, *f;

	make_db("h_kill9");
	d = start(NULL, 0, "");
	port = d->port;
	/* one curl, one kept connection, KILL9_POSTS transfers (curl -K) */
	snprintf(cfg, sizeof(cfg), "%s/kill9.curlrc", tdir);
	f = fopen(cfg, "w");
	cr_assert_not_null(f);
	for (i = 0; i < KILL9_POSTS; i++) {
		snprintf(name, sizeof(name), "k%d.json.gz", i);
		snprintf(id, sizeof(id), "kill-%d", i);
		fprintf(f, "%surl = \"%s\"\ndata-binary = \"@%s\"\n"
		    "output = \"/dev/null\"\nwrite-out = \"%%{http_code}\\n\"\n"
		    "insecure\nmax-time = 10\n", i ? "next\n" : "",
		    url(d, "/v1/report"), report_file(name, "kill.example",
		    id, 1));
	}
	cr_assert_eq(fclose(f), 0);
	p = popen(dtu_S("curl -s -K %s 2>/dev/null", cfg), "r");
	cr_assert_not_null(p);
	for (i = 0; i < 200; i++) {		/* at most 20 s */
		if (stu_int(&tdb, "SELECT count(*) FROM tlsrpt.report") >=
		    KILL9_AFTER)
			break;
		usleep(100 * 1000);
	}
	kill_daemon(d, SIGKILL);
	d = start(NULL, port, "");
	for (n = 0; fgets(line, sizeof(line), p) != NULL && n < KILL9_POSTS;
	    n++) {
		if (atoi(line) != 201)
			continue;
		acked++;
		snprintf(sql, sizeof(sql), "SELECT count(*) FROM tlsrpt.report "
		    "WHERE report_id = 'kill-%d'", n);
		cr_expect_eq(wait_count(sql, 1, 10), 1, "kill-%d got 201", n);
	}
	pclose(p);
	cr_log_info("kill9: %d of %d acknowledged before kill -9", acked,
	    KILL9_POSTS);
	cr_expect_geq(acked, KILL9_AFTER, "posts acked before the kill");
	cr_expect_lt(acked, KILL9_POSTS, "the kill came during the stream");
	stored = (int)stu_int(&tdb, "SELECT count(*) FROM tlsrpt.report");
	cr_expect_geq(stored, acked);
	stop(d);
}

/* --- PostgreSQL unreachable, then back --------------------------------- */

Test(httpd, db_down)
{
	struct daemon	*d;
	struct stu_db	 late;
	char		 name[64], id[64], *out;
	int		 i;

	stu_db_create(&late, "h_late");		/* its conninfo, then gone */
	stu_db_drop(&late);
	d = start(late.conninfo, 0, "");
	for (i = 0; i < 20; i++) {
		snprintf(name, sizeof(name), "d%d.json.gz", i);
		snprintf(id, sizeof(id), "down-%d", i);
		cr_expect_eq(post(d, report_file(name, "down.example", id, 1),
		    "application/tlsrpt+gzip"), 201);
	}
	cr_expect_eq(curl_code(url(d, "/healthz")), 503);
	out = dtu_run("curl -sk %s", url(d, "/healthz"));
	cr_expect(strstr(out, "\"database_reachable\": false") != NULL, "%s",
	    out);
	cr_expect(strstr(out, "\"spool_files\": 20") != NULL, "%s", out);
	free(out);

	tdb = late;
	make_db("h_late");			/* the database comes up */
	cr_expect_eq(wait_count("SELECT count(*) FROM tlsrpt.report", 20, 25),
	    20, "the worker stored the spool once the database was back");
	/* the worker marks the database up after the commit and the
	 * removal of the batch's files: a moment later */
	for (i = 0; i < 150 && curl_code(url(d, "/healthz")) != 200; i++)
		usleep(100 * 1000);
	cr_expect_eq(curl_code(url(d, "/healthz")), 200);
	stop(d);
}

/* --- a spool that cannot take reports ---------------------------------- */

Test(httpd, spool_unwritable)
{
	struct daemon	*d;
	char		*out, *f;

	make_db("h_spool");
	d = start(NULL, 0, "");
	/* as root chmod stops nothing: take tmp/ away, put a file there */
	dtu_sh("rm -rf %s/spool/tmp && touch %s/spool/tmp", tdir, tdir);
	f = report_file("u.json.gz", "spool.example", "u-1", 1);
	out = dtu_run("curl -sk -D - -o /dev/null --data-binary @%s %s", f,
	    url(d, "/v1/report"));
	cr_expect(strstr(out, " 503") != NULL, "%s", out);
	cr_expect(strcasestr(out, "Retry-After:") != NULL, "%s", out);
	free(out);
	/* and keeps serving */
	cr_expect_eq(curl_code(url(d, "/healthz")), 503);
	cr_expect_eq(curl_code(url(d, "/metrics")), 200);
	dtu_sh("printf '{}' > %s/e.json", tdir);
	cr_expect_eq(post(d, dtu_S("%s/e.json", tdir), NULL), 400);
	cr_expect_eq(post(d, f, NULL), 503);
	stop(d);
}

/* --- a full disk ------------------------------------------------------- */

/* A file filling the tmpfs of the spool until ENOSPC. */
static void
fill_spool(void)
{
	(void)!system(dtu_S("dd if=/dev/zero of=%s/spool/fill bs=4096 "
	    "2>/dev/null", tdir));
	dtu_sh("test -s %s/spool/fill", tdir);
}

/*
 * The spool on a 2 MiB tmpfs filled to ENOSPC: 503 with Retry-After (or
 * 201 while the space of stored files is reused), never a 201 that is
 * lost; once space returns, serving resumes and everything acknowledged
 * is stored exactly once.
 */
Test(httpd, disk_full)
{
	struct daemon	*d;
	char		*f, *out, name[64];
	int		 i, code, acked = 0, refused = 0;

	make_db("h_full");
	dtu_sh("mkdir -p %s/spool", tdir);
	if (system(dtu_S("mount -t tmpfs -o size=2m tmpfs %s/spool", tdir)) !=
	    0)
		cr_skip_test("mount -t tmpfs not permitted here");
	mounted = 1;
	d = start(NULL, 0, "");
	for (i = 0; i < 5; i++) {
		snprintf(name, sizeof(name), "a%d.json.gz", i);
		f = report_file(name, "full.example", dtu_S("a-%d", i), 1);
		cr_expect_eq(post(d, f, NULL), 201);
		acked++;
	}
	cr_expect_eq(wait_count("SELECT count(*) FROM tlsrpt.report", 5, 15),
	    5);
	fill_spool();
	/* until the first 503, which must say when to retry; the space of
	 * stored files may take a few more first */
	for (i = 0; i < 200 && refused == 0; i++) {
		snprintf(name, sizeof(name), "b%d.json.gz", i);
		f = report_file(name, "full.example", dtu_S("b-%d", i), 1);
		out = dtu_run("curl -sk -D - -o /dev/null --data-binary @%s "
		    "%s", f, url(d, "/v1/report"));
		code = strncmp(out, "HTTP/1.1 ", 9) == 0 ? atoi(out + 9) : 0;
		cr_expect(code == 201 || code == 503, "report %d: %s", i,
		    out);
		if (code == 503)
			cr_expect(strcasestr(out, "Retry-After: 60") != NULL,
			    "%s", out);
		acked += code == 201;
		refused += code == 503;
		free(out);
	}
	cr_expect_gt(refused, 0, "a full spool refuses");
	cr_expect_eq(curl_code(url(d, "/healthz")), 503);
	cr_expect_eq(curl_code(url(d, "/metrics")), 200, "still serving");

	dtu_sh("rm -f %s/spool/fill", tdir);
	f = report_file("c.json.gz", "full.example", "c-1", 1);
	cr_expect_eq(post(d, f, NULL), 201, "space is back");
	acked++;
	cr_expect_eq(curl_code(url(d, "/healthz")), 200);
	cr_expect_eq(wait_count("SELECT count(*) FROM tlsrpt.report",
	    acked, 20), acked, "%d acknowledged", acked);
	cr_expect_eq(stu_int(&tdb, "SELECT count(*) FROM tlsrpt.arrival"),
	    acked, "each once");
	cr_expect_eq(stu_int(&tdb, "SELECT count(*) FROM tlsrpt.rejection"),
	    0);
	/* the worker removes a file after the commit that stored it */
	for (i = 0;; i++) {			/* 20 s */
		out = dtu_run("find %s/spool/new %s/spool/bad -type f | wc -l",
		    tdir, tdir);
		if (atoi(out) == 0 || i == 200)
			break;
		free(out);
		usleep(100 * 1000);
	}
	cr_expect_eq(atoi(out), 0, "spool left: %s", out);
	free(out);
	stop(d);
}

/* --- out of memory is ours: 503, not 400 ------------------------------ */

/* VmData of process pid, bytes. */
static size_t
vm_data_of(pid_t pid)
{
	char	*out;
	size_t	 kb;

	out = dtu_run("awk '/^VmData:/ { print $2 }' /proc/%d/status",
	    (int)pid);
	kb = (size_t)strtoull(out, NULL, 10);
	free(out);
	return kb * 1024;
}

/*
 * The running daemon under a data limit (prlimit(1) on its pid) a few
 * MiB above what it holds: a gzip body of ~0.5 MB that unzips to 16 MiB
 * is answered 503 with Retry-After (the sender retries), and with the
 * limit lifted the same body gets its verdict (400: not a report).
 */
Test(httpd, out_of_memory_is_503)
{
	struct daemon	*d;
	unsigned char	*json, *gz;
	char		 f[512], *out;
	size_t		 i, n = 16u << 20, gzlen;
	uint32_t	 x = 2463534242u;

#if defined(__SANITIZE_ADDRESS__)
	cr_skip_test("a data-limit test: runs in the plain pass only");
#endif
	make_db("h_nomem");
	json = malloc(n);
	cr_assert_not_null(json);
	memcpy(json, "{\"x\":\"", 6);
	for (i = 6; i < n - 2; i++) {		/* mostly repeats: ~30:1 */
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		json[i] = (i % 64) == 0 ? "0123456789abcdef"[x & 15] :
		    "abcdefgh"[i % 8];
	}
	memcpy(json + n - 2, "\"}", 2);
	gz = tu_gzip(json, n, &gzlen);
	free(json);
	cr_assert_lt(gzlen, 1u << 20);
	cr_assert_gt(n / gzlen, 2);
	cr_assert_lt(n / gzlen, 1000, "within the ratio limit");
	snprintf(f, sizeof(f), "%s/big.json.gz", tdir);
	dtu_write_file(f, gz, gzlen);
	free(gz);
	d = start(NULL, 0, "");
	/* the soft limit only: lifting it again needs no privilege */
	dtu_sh("prlimit --pid %d --data=%zu:", (int)d->pid,
	    vm_data_of(d->pid) + (6u << 20));
	out = dtu_run("curl -sk -D - --data-binary @%s %s", f,
	    url(d, "/v1/report"));
	cr_expect(strncmp(out, "HTTP/1.1 503", 12) == 0, "%s", out);
	cr_expect(strcasestr(out, "Retry-After: 60") != NULL, "%s", out);
	cr_expect(strstr(out, "out of memory") != NULL, "%s", out);
	free(out);
	dtu_sh("prlimit --pid %d --data=unlimited:", (int)d->pid);
	cr_expect_eq(post(d, f, NULL), 400, "the verdict, memory back");
	cr_expect_eq(curl_code(url(d, "/healthz")), 200);
	stop(d);
}

/* --- a single --domain names the policies that name none ------------- */

Test(httpd, single_domain_fills_policy_domain)
{
	struct daemon	*d, *d2;
	char		 f[512], buf[128];
	const char	 json[] = "{\"organization-name\":\"sonne.test\","
	    "\"date-range\":{\"start-datetime\":\"2025-09-20T00:00:00Z\","
	    "\"end-datetime\":\"2025-09-20T23:59:59Z\"},\"contact-info\":"
	    "\"smtp-tls-reporting@sonne.test\",\"policies\":[{\"summary\":"
	    "{\"total-failure-session-count\":0,"
	    "\"total-successful-session-count\":1},\"policy\":"
	    "{\"policy-type\":\"no-policy-found\"},\"failure-details\":[]}],"
	    "\"report-id\":\"plain-id-1\"}";

	make_db("h_onedom");
	snprintf(f, sizeof(f), "%s/nopol.json", tdir);
	dtu_write_file(f, json, strlen(json));
	/* two domains: which one? none, and the report is about none */
	d2 = start(NULL, 0, "--domain nopol.test --domain other.test");
	cr_expect_eq(post(d2, f, "application/tlsrpt+json"), 403);
	stop(d2);
	d = start(NULL, 0, "--domain nopol.test");
	cr_expect_eq(post(d, f, "application/tlsrpt+json"), 201);
	cr_expect_eq(wait_count("SELECT count(*) FROM tlsrpt.report", 1, 15),
	    1);
	cr_expect_str_eq(stu_text(&tdb, "SELECT string_agg(policy_domain, "
	    "',') FROM tlsrpt.policy", buf, sizeof(buf)), "nopol.test");
	stop(d);
}

/* --- a slow client is cut off ------------------------------------------ */

/* Seconds until the server closes a connection we leave idle. */
static double
idle_close_secs(int port, int max)
{
	struct sockaddr_in	 sin;
	struct timespec		 t0, t1;
	struct pollfd		 pfd;
	char			 c;
	int			 fd;

	fd = socket(AF_INET, SOCK_STREAM, 0);
	cr_assert_geq(fd, 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((unsigned short)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cr_assert_eq(connect(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	pfd.fd = fd;
	pfd.events = POLLIN;
	if (poll(&pfd, 1, max * 1000) == 1)
		(void)!read(fd, &c, 1);		/* EOF or reset */
	clock_gettime(CLOCK_MONOTONIC, &t1);
	close(fd);
	return (double)(t1.tv_sec - t0.tv_sec) +
	    (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
}

Test(httpd, slow_client)
{
	struct daemon	*d;
	struct timespec	 t0, t1;
	const char	*f;
	double		 secs;
	int		 code;

	make_db("h_slow");
	d = start(NULL, 0, "--timeout 1 --request-timeout 2");
	dtu_sh("head -c 4000 /dev/zero | tr '\\0' ' ' > %s/slow.json", tdir);
	f = dtu_S("%s/slow.json", tdir);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	code = curl_code(dtu_S("--limit-rate 200 --data-binary @%s %s", f,
	    url(d, "/v1/report")));
	clock_gettime(CLOCK_MONOTONIC, &t1);
	secs = (double)(t1.tv_sec - t0.tv_sec) +
	    (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	cr_expect_eq(code, 0, "a slow upload is cut, not answered: %d", code);
	cr_expect_lt(secs, 8.0, "cut off after %.1f s (20 s at full length)",
	    secs);
	/* a connection that never even starts TLS */
	secs = idle_close_secs(d->port, 8);
	cr_expect_lt(secs, 5.0, "idle connection closed after %.1f s", secs);
	cr_expect_eq(curl_code(url(d, "/metrics")), 200, "still serving");
	stop(d);
}

/* --- SIGHUP: a new certificate for the next connection ----------------- */

static char *
fingerprint(const struct daemon *d)
{
	return dtu_run("echo | gnutls-cli --insecure --print-cert -p %d "
	    "127.0.0.1 2>/dev/null | grep -o 'pin-sha256=\"[^\"]*\"' | head -1",
	    d->port);
}

Test(httpd, sighup_cert)
{
	struct daemon	*d;
	char		*fa, *fb, *f;
	int		 i;

	make_db("h_hup");
	d = start(NULL, 0, "");
	fa = fingerprint(d);
	cr_assert_gt(strlen(fa), 20, "fingerprint: %s", fa);
	make_cert("b");
	dtu_sh("cp %s/b.crt %s/a.crt && cp %s/b.key %s/a.key", tdir, tdir, tdir,
	    tdir);
	kill(d->pid, SIGHUP);
	/* the reload is asynchronous: poll, for at most 10 s */
	for (i = 0;; i++) {
		fb = fingerprint(d);
		if ((strlen(fb) > 20 && strcmp(fa, fb) != 0) || i == 100)
			break;
		free(fb);
		usleep(100 * 1000);
	}
	cr_expect_gt(strlen(fb), 20);
	cr_expect_neq(strcmp(fa, fb), 0, "new certificate served: %s", fb);
	f = report_file("hup.json.gz", "hup.example", "hup-1", 1);
	cr_expect_eq(post(d, f, NULL), 201, "serving after the reload");
	/* a broken certificate on reload: the running one stays */
	dtu_sh("echo broken > %s/a.crt", tdir);
	kill(d->pid, SIGHUP);
	usleep(300 * 1000);
	cr_expect_eq(curl_code(url(d, "/metrics")), 200);
	free(fa);
	free(fb);
	stop(d);
}
