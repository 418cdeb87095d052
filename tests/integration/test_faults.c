/*
 * test_faults.c -- fault injection against the real services: a
 * PostgreSQL of the test's own (copied from the template cluster of
 * tests/with-pg.sh, so that it can be stopped, restarted and made
 * read-only without disturbing the other suites), the real tlsrpt-httpd
 * taking real reports over HTTPS from curl, the real tlsrpt-milter behind
 * a real Postfix, and their ingest workers storing what they spooled.
 *
 * Each test injects one fault while reports arrive, takes it away, and
 * checks the promise of issue 8: every report that was acknowledged (HTTP
 * 201/200, SMTP 250) is stored exactly once, whatever failed meanwhile,
 * and bad/ holds only real rejects.  The oracle is the set of report-ids
 * the test sent and saw acknowledged, counted in the database with SQL.
 * Progress is polled with bounded deadlines, never a fixed wait; the
 * kill -9 rounds kill after a random number of answers (posts or mails),
 * so the fault comes during the stream however fast the machine is.
 *
 * Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
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
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <libpq-fe.h>

#include "daemon_testutil.h"
#include "core_spool.h"
#include "store.h"
#include "store_testutil.h"
#include "testutil.h"

#define PF	"tests/milter/postfix.sh"
#define SEND	"tests/milter/smtp_send.py"
#define RUA	"tlsrpt@tlsrpt.test"

#define IDS_MAX		4096	/* report-ids one test sends */
#define FAULT_SEEN_S	30	/* for the worker to run into the fault */
#define DRAIN_S		90	/* for the spool to drain once it is gone */
#define KILL_ROUNDS	20
#define HTTPD_ROUND_POSTS 40
#define MILTER_ROUND_MAILS 12

/* This test's PostgreSQL. */
static char	 pgdir[256];		/* TLSRPT_PG_TMP/f<pid> */
static char	 admin[512];		/* superuser, database faults */
static int	 pg_up;

static char	 tdir[256];		/* spool, certificates, logs */

static pid_t	 hpid;			/* tlsrpt-httpd */
static int	 hport;
static pid_t	 mpid;			/* tlsrpt-milter */
static int	 mport, sport;
static int	 pf_up;

/* The report-ids sent, and which were acknowledged. */
static char	*ids[IDS_MAX];
static int	 acked[IDS_MAX];
static int	 nids;

/* --- the test's own PostgreSQL ----------------------------------------- */

static const char *
env(const char *name)
{
	const char	*v = getenv(name);

	cr_assert(v != NULL, "%s is not set: run the tests through "
	    "tests/with-pg.sh", name);
	return v;
}

static void
pg_ctl(const char *args)
{
	dtu_sh("%s %s/pg_ctl -D %s/data -l %s/server.log -w -t 60 %s "
	    ">/dev/null", env("TLSRPT_PG_AS"), env("TLSRPT_PG_BINDIR"), pgdir,
	    pgdir, args);
}

static void
pg_start(void)
{
	pg_ctl(dtu_S("-o \"-c listen_addresses='' -c "
	    "unix_socket_directories='%s' -c fsync=off -c "
	    "synchronous_commit=off -c full_page_writes=off\" start", pgdir));
	pg_up = 1;
}

/* A statement on conninfo; 0, or -1 when it failed (quietly). */
static int
q_try(const char *conninfo, const char *sql)
{
	PGconn		*c;
	PGresult	*res;
	int		 ok;

	c = PQconnectdb(conninfo);
	if (PQstatus(c) != CONNECTION_OK) {
		PQfinish(c);
		return -1;
	}
	res = PQexec(c, sql);
	ok = PQresultStatus(res) == PGRES_COMMAND_OK ||
	    PQresultStatus(res) == PGRES_TUPLES_OK;
	PQclear(res);
	PQfinish(c);
	return ok ? 0 : -1;
}

/* Run sql as the superuser; the test fails unless it works. */
static void
q_exec(const char *sql)
{
	PGconn		*c;
	PGresult	*res;

	c = PQconnectdb(admin);
	cr_assert(PQstatus(c) == CONNECTION_OK, "%s", PQerrorMessage(c));
	res = PQexec(c, sql);
	cr_assert(PQresultStatus(res) == PGRES_COMMAND_OK ||
	    PQresultStatus(res) == PGRES_TUPLES_OK, "%s: %s", sql,
	    PQerrorMessage(c));
	PQclear(res);
	PQfinish(c);
}

/* The first value of sql as an integer; -1 when it cannot be had now
 * (the server restarting, ...). */
static int64_t
q_int(const char *sql)
{
	PGconn		*c;
	PGresult	*res;
	int64_t		 v = -1;

	c = PQconnectdb(admin);
	if (PQstatus(c) == CONNECTION_OK) {
		res = PQexec(c, sql);
		if (PQresultStatus(res) == PGRES_TUPLES_OK &&
		    PQntuples(res) > 0 && !PQgetisnull(res, 0, 0))
			v = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
		PQclear(res);
	}
	PQfinish(c);
	return v;
}

/* A server of our own, a database "faults" in it, migrated. */
static void
pg_setup(void)
{
	struct store	*st;
	char		 err[256];

	snprintf(pgdir, sizeof(pgdir), "%s/f%ld", env("TLSRPT_PG_TMP"),
	    (long)getpid());
	dtu_sh("rm -rf %s && mkdir %s && cp -a %s %s/data && "
	    "chown -R --reference=%s %s", pgdir, pgdir,
	    env("TLSRPT_PG_TEMPLATE"), pgdir, env("TLSRPT_PG_TEMPLATE"),
	    pgdir);
	pg_start();
	cr_assert_eq(q_try(dtu_S("host=%s user=tlsrpt dbname=postgres",
	    pgdir), "CREATE DATABASE faults"), 0);
	snprintf(admin, sizeof(admin), "host=%s user=tlsrpt dbname=faults",
	    pgdir);
	st = store_open(admin, err, sizeof(err));
	cr_assert_not_null(st, "%s", err);
	cr_assert_eq(store_migrate(st, NULL), 0, "%s", store_errstr(st));
	store_close(st);
}

static void
pg_teardown(void)
{
	if (pg_up)
		(void)!system(dtu_S("%s %s/pg_ctl -D %s/data -m immediate stop "
		    ">/dev/null 2>&1", getenv("TLSRPT_PG_AS"),
		    getenv("TLSRPT_PG_BINDIR"), pgdir));
	pg_up = 0;
	if (pgdir[0] != '\0' && getenv("TLSRPT_TEST_KEEP") == NULL)
		(void)!system(dtu_S("rm -rf '%s'", pgdir));
}

/*
 * A role that is not a superuser, with what the daemons need (SELECT,
 * INSERT, UPDATE, DELETE on the tables, the sequences, temporary tables):
 * its conninfo.
 */
static const char *
make_writer(void)
{
	static char	ci[512];

	q_exec("CREATE ROLE tlsrpt_w LOGIN");
	q_exec("GRANT USAGE ON SCHEMA tlsrpt TO tlsrpt_w");
	q_exec("GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN "
	    "SCHEMA tlsrpt TO tlsrpt_w");
	q_exec("GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA tlsrpt TO "
	    "tlsrpt_w");
	q_exec("GRANT TEMPORARY ON DATABASE faults TO tlsrpt_w");
	snprintf(ci, sizeof(ci), "host=%s user=tlsrpt_w dbname=faults",
	    pgdir);
	return ci;
}

/* --- files and the oracle ------------------------------------------------ */

static void
setup(void)
{
	snprintf(tdir, sizeof(tdir), "/tmp/tlsrpt-faults.XXXXXX");
	cr_assert_not_null(mkdtemp(tdir));
	/* Postfix's children (user postfix, nobody) work below it */
	cr_assert_eq(chmod(tdir, 0755), 0);
	hpid = mpid = 0;
	pf_up = 0;
	nids = 0;
	pg_setup();
}

static void
teardown(void)
{
	int	st, i;

	if (hpid > 0)
		(void)dtu_stop(hpid, SIGKILL, 100, &st);
	hpid = 0;
	if (pf_up)
		(void)!system(dtu_S(PF " stop %s/pf", tdir));
	pf_up = 0;
	if (mpid > 0)
		(void)dtu_stop(mpid, SIGKILL, 100, &st);
	mpid = 0;
	pg_teardown();
	for (i = 0; i < nids; i++)
		free(ids[i]);
	nids = 0;
	if (tdir[0] != '\0' && getenv("TLSRPT_TEST_KEEP") == NULL)
		(void)!system(dtu_S("rm -rf '%s'", tdir));
}

/* A new report-id; its index. */
static int
new_id(const char *fmt, ...)
{
	va_list	ap;
	int	i;

	cr_assert_lt(nids, IDS_MAX);
	i = nids++;
	va_start(ap, fmt);
	cr_assert_geq(vasprintf(&ids[i], fmt, ap), 0);
	va_end(ap);
	acked[i] = 0;
	return i;
}

static int
count_files(const char *dir)
{
	DIR		*d;
	struct dirent	*de;
	int		 n = 0;

	if ((d = opendir(dir)) == NULL)
		return -1;
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

/*
 * The invariant: wait (at most secs) until every acknowledged report-id
 * is stored, then every report is stored once at most, the acknowledged
 * ones exactly once, and bad/ is empty.  Returns the acknowledged ones.
 */
static int
check_invariant(const char *what, int secs)
{
	struct tu_str	 in = { 0 };
	char		 sql[512];
	int64_t		 got = -1, dup, lost;
	int		 i, nack = 0, t;

	tu_str_add(&in, "'{");
	for (i = 0; i < nids; i++)
		if (acked[i])
			tu_str_add(&in, "%s\"%s\"", nack++ ? "," : "",
			    ids[i]);
	tu_str_add(&in, "}'::text[]");
	snprintf(sql, sizeof(sql), "SELECT count(DISTINCT report_id) FROM "
	    "tlsrpt.report WHERE report_id = ANY(");
	for (t = 0; t < secs * 10; t++) {
		char	*q;

		cr_assert_geq(asprintf(&q, "%s%s)", sql, in.s), 0);
		got = q_int(q);
		free(q);
		if (got == nack)
			break;
		usleep(100 * 1000);
	}
	dup = q_int("SELECT count(*) FROM (SELECT report_id FROM "
	    "tlsrpt.report GROUP BY report_id HAVING count(*) > 1) d");
	lost = count_files(dtu_S("%s/spool/bad", tdir));
	cr_log_info("%s: %d of %d reports acknowledged; %lld of them stored "
	    "after the fault; %lld stored twice; %lld files in bad/", what,
	    nack, nids, (long long)got, (long long)dup, (long long)lost);
	cr_expect_eq(got, nack, "%s: acknowledged reports stored: %lld of "
	    "%d", what, (long long)got, nack);
	cr_expect_eq(dup, 0, "%s: reports stored twice", what);
	cr_expect_eq(lost, 0, "%s: files in bad/ (no real reject was sent)",
	    what);
	free(in.s);
	return nack;
}

/* --- tlsrpt-httpd -------------------------------------------------------- */

static void
make_cert(void)
{
	dtu_sh("cd %s && printf 'cn = localhost\\nip_address = 127.0.0.1\\n"
	    "expiration_days = 30\\ntls_www_server\\nsigning_key\\n' > tmpl && "
	    "certtool --generate-privkey --key-type=ecdsa --outfile a.key "
	    ">/dev/null 2>&1 && certtool --generate-self-signed "
	    "--load-privkey a.key --template tmpl --outfile a.crt "
	    ">/dev/null 2>&1", tdir);
}

static char *
get(const char *path)
{
	return dtu_run("curl -sk --max-time 10 https://127.0.0.1:%d%s",
	    hport, path);
}

static int
answers(void *arg)
{
	char	*out;
	int	 ok;

	(void)arg;
	out = dtu_run("curl -sk --max-time 5 -o /dev/null -w '%%{http_code}' "
	    "https://127.0.0.1:%d/metrics", hport);
	ok = atoi(out) == 200;
	free(out);
	return ok;
}

/* Start tlsrpt-httpd on db (port 0: a free one). */
static void
httpd_start(const char *db, int port)
{
	char	*cmd;

	hport = port != 0 ? port : dtu_free_port();
	cr_assert_geq(asprintf(&cmd, "exec %s --listen 127.0.0.1:%d "
	    "--tls-cert %s/a.crt --tls-key %s/a.key --spool %s/spool "
	    "--db '%s' >>%s/httpd.log 2>&1", dtu_bin("TLSRPT_HTTPD_BIN",
	    "bin/tlsrpt-httpd"), hport, tdir, tdir, tdir, db, tdir), 0);
	hpid = dtu_spawn(cmd);
	free(cmd);
	cr_assert(dtu_wait_ready(hpid, answers, NULL, "tlsrpt-httpd",
	    dtu_S("%s/httpd.log", tdir)), "tlsrpt-httpd does not answer");
}

static void
httpd_stop(void)
{
	char	*log;
	int	 st = -1;

	cr_expect(dtu_stop(hpid, SIGTERM, 400, &st), "no exit after SIGTERM");
	hpid = 0;
	cr_expect(WIFEXITED(st) && WEXITSTATUS(st) == 0, "exit status %d",
	    st);
	log = dtu_run("cat %s/httpd.log", tdir);
	cr_expect(strstr(log, "Sanitizer") == NULL && strstr(log,
	    "runtime error") == NULL, "%s", log);
	free(log);
}

/* A small gzipped report with report-id ids[i] into tdir; its path. */
static const char *
report_file(int i)
{
	char		*json, *pol;
	unsigned char	*g;
	size_t		 gl;
	const char	*path;

	pol = stu_policy("sts", "faults.example", 100, 2, NULL);
	json = stu_report("Fault Org", ids[i], "2026-01-05", pol);
	free(pol);
	g = tu_gzip(json, strlen(json), &gl);
	path = dtu_S("%s/r-%s.json.gz", tdir, ids[i]);
	dtu_write_file(path, g, gl);
	free(g);
	free(json);
	return path;
}

/*
 * Post n new reports (ids PREFIX-0 ...) over one kept connection (curl -K)
 * in the background; read the codes with posts_end().
 */
struct posts {
	FILE	*p;
	int	 first, n;
	int	 seen, acked;	/* answers read so far, and 201/200 of them */
};

static void
posts_begin(struct posts *ps, const char *prefix, int n)
{
	char	 cfg[512];
	FILE	*f;
	int	 i, k;

	snprintf(cfg, sizeof(cfg), "%s/%s.curlrc", tdir, prefix);
	f = fopen(cfg, "w");
	cr_assert_not_null(f);
	ps->first = nids;
	ps->n = n;
	ps->seen = ps->acked = 0;
	for (i = 0; i < n; i++) {
		k = new_id("%s-%d", prefix, i);
		fprintf(f, "%surl = \"https://127.0.0.1:%d/v1/report\"\n"
		    "data-binary = \"@%s\"\nheader = \"Content-Type: "
		    "application/tlsrpt+gzip\"\noutput = \"/dev/null\"\n"
		    "write-out = \"%%{http_code}\\n\"\ninsecure\n"
		    "max-time = 10\n", i ? "next\n" : "", hport,
		    report_file(k));
	}
	cr_assert_eq(fclose(f), 0);
	/* one line per answer as it comes (stdio would hold them) */
	ps->p = popen(dtu_S("stdbuf -oL curl -s -K %s 2>/dev/null", cfg),
	    "r");
	cr_assert_not_null(ps->p);
}

/* Read curl's answers until upto of them are in (or curl ended); mark
 * what got 201 or 200. */
static void
posts_read(struct posts *ps, int upto)
{
	char	line[64];
	int	code;

	while (ps->seen < upto && ps->seen < ps->n &&
	    fgets(line, sizeof(line), ps->p) != NULL) {
		code = atoi(line);
		if (code == 201 || code == 200) {
			acked[ps->first + ps->seen] = 1;
			ps->acked++;
		}
		ps->seen++;
	}
}

/* Wait for curl; mark what got 201 or 200.  Returns how many did. */
static int
posts_end(struct posts *ps)
{
	posts_read(ps, ps->n);
	pclose(ps->p);
	ps->p = NULL;
	return ps->acked;
}

/* A value of /metrics ("name{labels}"), -1 when it is not there. */
static int64_t
metric(const char *name)
{
	char	*out, *p;
	int64_t	 v = -1;
	size_t	 l = strlen(name);

	out = get("/metrics");
	for (p = out; p != NULL && *p != '\0'; ) {
		if (strncmp(p, name, l) == 0 && p[l] == ' ') {
			v = strtoll(p + l + 1, NULL, 10);
			break;
		}
		if ((p = strchr(p, '\n')) != NULL)
			p++;
	}
	free(out);
	return v;
}

/*
 * Wait until the worker counted a database failure of class cls (at most
 * FAULT_SEEN_S): the fault was met, not slept through.  Returns 1 when
 * it was.
 */
static int
fault_seen(const char *cls, int64_t before)
{
	char	name[128];
	int	i;

	snprintf(name, sizeof(name),
	    "tlsrpt_db_errors_by_class_total{class=\"%s\"}", cls);
	for (i = 0; i < FAULT_SEEN_S * 10; i++) {
		if (metric(name) > before)
			return 1;
		usleep(100 * 1000);
	}
	return 0;
}

static int64_t
class_count(const char *cls)
{
	return metric(dtu_S("tlsrpt_db_errors_by_class_total{class=\"%s\"}",
	    cls));
}

/* /healthz while the fault lasts: 503, naming the class. */
static void
expect_health(const char *cls)
{
	char	*h;

	h = get("/healthz");
	cr_expect(strstr(h, "\"status\": \"degraded\"") != NULL, "%s", h);
	cr_expect(strstr(h, dtu_S("\"database_error_class\": \"%s\"", cls)) !=
	    NULL, "%s", h);
	free(h);
}

/* The first report stored: the worker's connection is open before the
 * fault comes. */
static void
warm_up(void)
{
	struct posts	ps;

	posts_begin(&ps, "warm", 1);
	cr_assert_eq(posts_end(&ps), 1);
	cr_assert_eq(check_invariant("warm-up", DRAIN_S), 1);
}

TestSuite(faults, .init = setup, .fini = teardown, .timeout = 300);

/* --- a statement timeout while a lock is held ---------------------------- */

Test(faults, statement_timeout_with_lock_held)
{
	struct posts	 ps;
	PGconn		*locker;
	PGresult	*res;
	int		 seen;

	make_cert();
	httpd_start(dtu_S("%s options=-cstatement_timeout=500", admin), 0);
	warm_up();
	locker = PQconnectdb(admin);
	cr_assert(PQstatus(locker) == CONNECTION_OK);
	res = PQexec(locker, "BEGIN; LOCK TABLE tlsrpt.report IN ACCESS "
	    "EXCLUSIVE MODE");
	cr_assert(PQresultStatus(res) == PGRES_COMMAND_OK, "%s",
	    PQerrorMessage(locker));
	PQclear(res);
	posts_begin(&ps, "lock", 30);
	cr_expect_eq(posts_end(&ps), 30, "201 while the table is locked");
	seen = fault_seen("timeout", 0);
	if (seen)
		expect_health("timeout");
	res = PQexec(locker, "ROLLBACK");
	PQclear(res);
	PQfinish(locker);
	cr_expect(seen, "the worker never timed out on the lock");
	check_invariant("statement timeout + lock", DRAIN_S);
	httpd_stop();
}

/* --- read-only on open connections --------------------------------------- */

Test(faults, read_only_flip)
{
	struct posts	ps;
	int		seen;

	make_cert();
	httpd_start(admin, 0);
	warm_up();
	q_exec("ALTER SYSTEM SET default_transaction_read_only = on");
	q_exec("SELECT pg_reload_conf()");
	posts_begin(&ps, "ro", 30);
	cr_expect_eq(posts_end(&ps), 30);
	seen = fault_seen("read-only", 0);
	if (seen)
		expect_health("read-only");
	cr_assert_eq(q_try(dtu_S("%s options=-cdefault_transaction_read_only"
	    "=off", admin), "ALTER SYSTEM RESET default_transaction_read_only"),
	    0);
	q_exec("SELECT pg_reload_conf()");
	cr_expect(seen, "the worker never met the read-only server");
	check_invariant("read-only flip", DRAIN_S);
	httpd_stop();
}

/* --- privileges revoked, then granted ------------------------------------ */

Test(faults, privileges_revoked_then_granted)
{
	struct posts	 ps;
	const char	*w;
	int		 seen;

	make_cert();
	w = make_writer();
	httpd_start(w, 0);
	warm_up();
	q_exec("REVOKE INSERT ON tlsrpt.report FROM tlsrpt_w");
	posts_begin(&ps, "priv", 30);
	cr_expect_eq(posts_end(&ps), 30);
	seen = fault_seen("privilege", 0);
	if (seen)
		expect_health("privilege");
	q_exec("GRANT INSERT ON tlsrpt.report TO tlsrpt_w");
	cr_expect(seen, "the worker never met the revoked privilege");
	check_invariant("privileges revoked", DRAIN_S);
	httpd_stop();
}

/* --- the worker's backend terminated mid-batch --------------------------- */

Test(faults, terminate_backend_mid_batch)
{
	struct posts	 ps;
	int64_t		 n, last = 0;
	int		 kills = 0, i;

	make_cert();
	httpd_start(admin, 0);
	warm_up();
	posts_begin(&ps, "term", 800);
	for (i = 0; i < 3000 && kills < 6; i++) {	/* 60 s */
		n = q_int("SELECT count(*) FROM tlsrpt.report");
		if (n > last) {		/* storing: a batch may be open */
			if (q_int("SELECT count(*) FROM (SELECT "
			    "pg_terminate_backend(pid) FROM pg_stat_activity "
			    "WHERE datname = 'faults' AND backend_type = "
			    "'client backend' AND pid <> pg_backend_pid()) t")
			    > 0)
				kills++;
			last = n;
		}
		usleep(20 * 1000);
	}
	posts_end(&ps);
	cr_log_info("terminate: %d backends terminated", kills);
	cr_expect_geq(kills, 3, "backends terminated while storing");
	cr_expect_geq(class_count("connection") + class_count("shutdown"), 1);
	check_invariant("pg_terminate_backend", DRAIN_S);
	httpd_stop();
}

/* --- the server restarted mid-batch -------------------------------------- */

/*
 * A batch of posts starts before the first restart and a new one after
 * each restart but the last, so that the worker has reports to store
 * again after every restart, however fast the previous batch drained.
 */
#define RESTART_BATCH_POSTS 250

Test(faults, server_restart_mid_batch)
{
	static const char *const modes[] = { "fast", "immediate", "fast",
	    "immediate" };
	enum { NMODES = sizeof(modes) / sizeof(modes[0]) };
	struct posts	 ps[NMODES];
	char		 prefix[32];
	int64_t		 n = 0, last;
	size_t		 m = 0, nb = 0, b;
	int		 i;

	make_cert();
	httpd_start(admin, 0);
	warm_up();
	posts_begin(&ps[nb++], "restart0", RESTART_BATCH_POSTS);
	last = q_int("SELECT count(*) FROM tlsrpt.report");
	for (i = 0; i < 3000 && m < NMODES; i++) {
		n = q_int("SELECT count(*) FROM tlsrpt.report");
		if (n > last) {		/* storing: a batch may be open */
			/* restart keeps the options (postmaster.opts) */
			pg_ctl(dtu_S("-m %s restart", modes[m]));
			m++;
			last = q_int("SELECT count(*) FROM tlsrpt.report");
			/* posted after last was read: the count moves again */
			if (m < NMODES) {
				snprintf(prefix, sizeof(prefix), "restart%zu",
				    m);
				posts_begin(&ps[nb++], prefix,
				    RESTART_BATCH_POSTS);
			}
		}
		usleep(20 * 1000);
	}
	for (b = 0; b < nb; b++)
		posts_end(&ps[b]);
	cr_log_info("restart: %zu restarts", m);
	cr_expect_eq(m, NMODES, "restarts made");
	check_invariant("server restart", DRAIN_S);
	httpd_stop();
}

/* --- a report the database refuses, and the requeue of bad/ -------------- */

/*
 * A real reject (a CHECK the operator added: SQLSTATE 23514, a fact
 * about the report), first while its rejection cannot be recorded (a
 * trigger refusing the insert with 42501): the file waits in new/; then
 * recorded: bad/; then the CHECK dropped and bad/ requeued while the
 * daemon runs: stored.
 */
Test(faults, report_fault_rejection_and_requeue)
{
	struct posts	 ps;
	char		*out;
	int		 i;

	make_cert();
	httpd_start(admin, 0);
	warm_up();
	q_exec("CREATE FUNCTION tlsrpt.no_rej() RETURNS trigger LANGUAGE "
	    "plpgsql AS $$BEGIN RAISE EXCEPTION 'no rejections now' USING "
	    "ERRCODE = '42501'; END$$");
	q_exec("CREATE TRIGGER no_rej BEFORE INSERT ON tlsrpt.rejection FOR "
	    "EACH ROW EXECUTE FUNCTION tlsrpt.no_rej()");
	q_exec("ALTER TABLE tlsrpt.report ADD CONSTRAINT no_refused CHECK "
	    "(report_id NOT LIKE 'refused-%') NOT VALID");
	posts_begin(&ps, "refused", 2);
	cr_expect_eq(posts_end(&ps), 2);
	cr_expect(fault_seen("privilege", 0), "the rejection was refused");
	cr_expect_eq(count_files(dtu_S("%s/spool/bad", tdir)), 0,
	    "bad/ before the rejection is recorded");
	cr_expect_eq(count_files(dtu_S("%s/spool/new", tdir)), 2);

	q_exec("DROP TRIGGER no_rej ON tlsrpt.rejection");
	for (i = 0; i < DRAIN_S * 10; i++) {
		if (count_files(dtu_S("%s/spool/bad", tdir)) == 4)
			break;
		usleep(100 * 1000);
	}
	cr_expect_eq(count_files(dtu_S("%s/spool/bad", tdir)), 4,
	    "two files and their reasons in bad/");
	cr_expect_eq(q_int("SELECT count(*) FROM tlsrpt.rejection WHERE "
	    "reason LIKE '%no_refused%'"), 2);
	cr_expect_eq(q_int("SELECT count(*) FROM tlsrpt.report WHERE "
	    "report_id LIKE 'refused-%'"), 0);
	/* counted just after the move to bad/ */
	for (i = 0; i < DRAIN_S * 10 && class_count("report") != 2; i++)
		usleep(100 * 1000);
	cr_expect_eq(class_count("report"), 2, "rejected as the report's "
	    "fault");

	q_exec("ALTER TABLE tlsrpt.report DROP CONSTRAINT no_refused");
	out = dtu_run("%s --requeue-bad --spool %s/spool", dtu_bin(
	    "TLSRPT_HTTPD_BIN", "bin/tlsrpt-httpd"), tdir);
	cr_expect(strstr(out, "requeued 2 file(s)") != NULL, "%s", out);
	free(out);
	check_invariant("requeue after the fix", DRAIN_S);
	httpd_stop();
}

/* --- kill -9 of tlsrpt-httpd, again and again ---------------------------- */

Test(faults, httpd_kill9_rounds)
{
	struct posts	 ps;
	unsigned	 seed;
	char		 prefix[32];
	int		 r, port, st, nack = 0;

	seed = (unsigned)time(NULL) ^ (unsigned)getpid();
	cr_log_info("httpd kill -9: seed %u", seed);
	make_cert();
	port = dtu_free_port();
	for (r = 0; r < KILL_ROUNDS; r++) {
		httpd_start(admin, port);
		snprintf(prefix, sizeof(prefix), "h%d", r);
		posts_begin(&ps, prefix, HTTPD_ROUND_POSTS);
		/* the fault: after a random number of answers, so that it
		 * comes during the stream however fast the machine is */
		posts_read(&ps, 1 + (int)(rand_r(&seed) %
		    (HTTPD_ROUND_POSTS - 2)));
		(void)dtu_stop(hpid, SIGKILL, 100, &st);
		hpid = 0;
		nack += posts_end(&ps);
	}
	cr_log_info("httpd kill -9: %d rounds, %d of %d posts acknowledged",
	    KILL_ROUNDS, nack, nids);
	cr_expect_gt(nack, 0, "some posts were acknowledged");
	cr_expect_lt(nack, nids, "some kills came during the stream");
	httpd_start(admin, port);
	check_invariant("httpd kill -9 rounds", DRAIN_S);
	httpd_stop();
}

/* --- kill -9 of tlsrpt-milter behind Postfix, again and again ------------ */

static const char b64[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* An RFC 8460 section 5.3 mail with report ids[i], gzipped, into tdir. */
static const char *
report_mail(int i)
{
	struct tu_str	 m = { 0 };
	unsigned char	*gz;
	char		*json, *pol;
	size_t		 gzlen, k, col = 0;
	unsigned	 v;
	const char	*path;

	pol = stu_policy("sts", "faults.example", 10, 1, NULL);
	json = stu_report("Mail Reporter", ids[i], "2026-01-01", pol);
	free(pol);
	gz = tu_gzip(json, strlen(json), &gzlen);
	tu_str_add(&m, "From: tlsrpt@reporter.test\r\nTo: " RUA "\r\n"
	    "Subject: Report Domain: faults.example Submitter: reporter.test "
	    "Report-ID: <%s@reporter.test>\r\n"
	    "TLS-Report-Domain: faults.example\r\n"
	    "TLS-Report-Submitter: reporter.test\r\n"
	    "MIME-Version: 1.0\r\nContent-Type: multipart/report; "
	    "report-type=tlsrpt; boundary=\"b1\"\r\n\r\n--b1\r\n"
	    "Content-Type: text/plain\r\n\r\nA report.\r\n--b1\r\n"
	    "Content-Type: application/tlsrpt+gzip\r\n"
	    "Content-Transfer-Encoding: base64\r\n"
	    "Content-Disposition: attachment; filename=\"reporter.test!"
	    "faults.example!1767225600!1767311999!%s.json.gz\"\r\n\r\n",
	    ids[i], ids[i]);
	for (k = 0; k < gzlen; k += 3) {
		v = (unsigned)gz[k] << 16;
		if (k + 1 < gzlen)
			v |= (unsigned)gz[k + 1] << 8;
		if (k + 2 < gzlen)
			v |= gz[k + 2];
		tu_str_add(&m, "%c%c%c%c", b64[(v >> 18) & 63],
		    b64[(v >> 12) & 63], k + 1 < gzlen ? b64[(v >> 6) & 63] :
		    '=', k + 2 < gzlen ? b64[v & 63] : '=');
		if ((col += 4) >= 76) {
			tu_str_add(&m, "\r\n");
			col = 0;
		}
	}
	tu_str_add(&m, "\r\n--b1--\r\n");
	path = dtu_S("%s/m-%s.eml", tdir, ids[i]);
	dtu_write_file(path, m.s, m.len);
	free(m.s);
	free(gz);
	free(json);
	return path;
}

static int
milter_listens(void *arg)
{
	struct sockaddr_in	sin;
	int			fd, ok;

	(void)arg;
	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) == -1)
		return 0;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((unsigned short)mport);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ok = connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0;
	close(fd);
	return ok;
}

static void
milter_start(void)
{
	char	*cmd;

	cr_assert_geq(asprintf(&cmd, "exec %s --socket inet:%d@127.0.0.1 "
	    "--rcpt " RUA " --spool %s/spool --db '%s' --authserv-id "
	    "mx.tlsrpt.test >>%s/milter.log 2>&1",
	    dtu_bin("TLSRPT_MILTER_BIN", "bin/tlsrpt-milter"), mport, tdir,
	    admin, tdir), 0);
	mpid = dtu_spawn(cmd);
	free(cmd);
	cr_assert(dtu_wait_ready(mpid, milter_listens, NULL, "tlsrpt-milter",
	    dtu_S("%s/milter.log", tdir)), "tlsrpt-milter does not listen");
}

/*
 * One line of smtp_send.py ("CODE .../m-ID.eml"): mark ID acknowledged
 * on 250.  Returns 1 when it was, else 0.
 */
static int
milter_line(char *line, int first)
{
	char	*sp;
	int	 code, k, n = 0;

	code = atoi(line);
	if ((sp = strstr(line, "/m-")) == NULL)
		return 0;
	sp += 3;
	sp[strcspn(sp, ".")] = '\0';
	for (k = first; k < nids; k++)
		if (strcmp(ids[k], sp) == 0 && code == 250) {
			acked[k] = 1;
			n = 1;
		}
	return n;
}

Test(faults, milter_kill9_rounds)
{
	struct tu_str	 files;
	unsigned	 seed;
	char		 line[1024];
	FILE		*p;
	int		 r, i, k, st, nack = 0, first, before;

	if (geteuid() != 0 || system("command -v postfix >/dev/null 2>&1 || "
	    "test -x /usr/sbin/postfix") != 0)
		cr_skip_test("needs root and Postfix (apt-get install "
		    "postfix): the milter kill -9 rounds did not run");
	seed = (unsigned)time(NULL) ^ (unsigned)getpid();
	cr_log_info("milter kill -9: seed %u", seed);
	mport = dtu_free_port();
	milter_start();
	sport = dtu_free_port();
	pf_up = 1;
	dtu_sh(PF " start %s/pf %d inet:127.0.0.1:%d", tdir, sport, mport);
	for (r = 0; r < KILL_ROUNDS; r++) {
		if (mpid == 0)
			milter_start();
		memset(&files, 0, sizeof(files));
		first = nids;
		for (i = 0; i < MILTER_ROUND_MAILS; i++) {
			k = new_id("m%d-%d", r, i);
			tu_str_add(&files, " %s", report_mail(k));
		}
		p = popen(dtu_S("python3 " SEND " -j 4 %d " RUA "%s", sport,
		    files.s), "r");
		cr_assert_not_null(p);
		/*
		 * The fault: among the sessions, after a random number of
		 * them (1 .. MILTER_ROUND_MAILS - 2) came back, whatever the
		 * speed of the machine; the sender prints a line per mail
		 * as it completes.
		 */
		before = 1 + (int)(rand_r(&seed) % (MILTER_ROUND_MAILS - 2));
		for (i = 0; i < before && fgets(line, sizeof(line), p) !=
		    NULL; i++)
			nack += milter_line(line, first);
		(void)dtu_stop(mpid, SIGKILL, 100, &st);
		mpid = 0;
		while (fgets(line, sizeof(line), p) != NULL)
			nack += milter_line(line, first);
		pclose(p);
		free(files.s);
	}
	cr_log_info("milter kill -9: %d rounds, %d of %d mails acknowledged",
	    KILL_ROUNDS, nack, nids);
	cr_expect_gt(nack, 0, "some mails were acknowledged");
	cr_expect_lt(nack, nids, "some kills came during the sessions");
	milter_start();
	check_invariant("milter kill -9 rounds", DRAIN_S);
}
