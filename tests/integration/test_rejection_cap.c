/*
 * test_rejection_cap.c -- rejections bounded per day (issue 12, item 7;
 * schema/007_rejection_cap.sql), through the real `tlsrpt import`
 * against the real PostgreSQL: at the cap kept, one over only counted,
 * for the count and for the excerpt bytes, and several importers at
 * once holding to one cap.  Needs PostgreSQL and bin/tlsrpt.
 *
 * Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
 */

#define _GNU_SOURCE
#include <sys/types.h>
#include <sys/wait.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <libpq-fe.h>

#include "daemon_testutil.h"
#include "store_testutil.h"
#include "testutil.h"
#include "tlsrpt_limits.h"

#define CAPPED		"(not recorded: the day's rejection cap is reached)"

static struct stu_db	 tdb;
static int		 have_db;
static char		 tdir[256];

static void
setup(void)
{
	struct store	*st;

	snprintf(tdir, sizeof(tdir), "/tmp/tlsrpt-rejcap-test.XXXXXX");
	cr_assert_not_null(mkdtemp(tdir));
	stu_db_create(&tdb, "rejcap");
	have_db = 1;
	st = stu_open(&tdb, 1);
	store_close(st);
}

static void
teardown(void)
{
	if (have_db)
		stu_db_drop(&tdb);
	if (tdir[0] != '\0')
		(void)!system(dtu_S("rm -rf '%s'", tdir));
}

TestSuite(rejection_cap, .init = setup, .fini = teardown, .timeout = 180);

/* tlsrpt import ARGS --db (this test's database): the output, malloc'd.
 * The arrivals are now (import takes the clock, not TLSRPT_NOW). */
static char *
import(const char *fmt, ...)
{
	struct tu_str	 out = { 0 };
	char		*args = NULL, *cmd = NULL, line[4096];
	va_list		 ap;
	FILE		*p;
	int		 st;

	va_start(ap, fmt);
	cr_assert_geq(vasprintf(&args, fmt, ap), 0);
	va_end(ap);
	cr_assert_geq(asprintf(&cmd, "%s import --db '%s' %s 2>&1",
	    dtu_bin("TLSRPT_BIN", "bin/tlsrpt"), tdb.conninfo, args), 0);
	p = popen(cmd, "r");
	cr_assert_not_null(p, "cannot run %s", cmd);
	tu_str_add(&out, "%s", "");
	while (fgets(line, sizeof(line), p) != NULL)
		tu_str_add(&out, "%s", line);
	st = pclose(p);
	cr_assert(WIFEXITED(st), "%s: did not exit", cmd);
	free(args);
	free(cmd);
	return out.s;
}

/* tdir/name with n bytes that are no report (no gzip, JSON or mail). */
static const char *
junk(const char *name, size_t n, char fill)
{
	const char	*path = dtu_S("%s/%s", tdir, name);
	char		*b;

	b = malloc(n + 1);
	cr_assert_not_null(b);
	memset(b, fill, n);
	dtu_write_file(path, b, n);
	free(b);
	return path;
}

/* The output line of path: "PATH: rejected: ...", asserting there is one. */
static const char *
line_of(const char *out, const char *path)
{
	static char	 buf[1024];
	const char	*p, *e;
	char		 key[512];

	snprintf(key, sizeof(key), "%s: ", path);
	p = strstr(out, key);
	cr_assert_not_null(p, "no line for %s in:\n%s", path, out);
	e = strchr(p, '\n');
	snprintf(buf, sizeof(buf), "%.*s", e != NULL ? (int)(e - p) :
	    (int)strlen(p), p);
	return buf;
}

static int64_t
q(const char *sql)
{
	return stu_int(&tdb, sql);
}

/* What schema 007 installs is what the limits header documents. */
Test(rejection_cap, defaults_are_the_documented_limits)
{
	cr_assert_eq(q("SELECT rows_per_day FROM tlsrpt.rejection_cap"),
	    LIM_REJECTIONS_DAY_MAX);
	cr_assert_eq(q("SELECT bytes_per_day FROM tlsrpt.rejection_cap"),
	    LIM_REJECTIONS_DAY_BYTES);
	cr_assert_eq(LIM_REJECTIONS_DAY_MAX, 10000);
	cr_assert_eq(LIM_REJECTIONS_DAY_BYTES, 67108864);
	cr_assert_eq(q("SELECT count(*) FROM tlsrpt.rejection_cap"), 1);
}

/*
 * Count: a cap of 3 a day.  Four junk files in one import: the first
 * three recorded (the third at the cap), the fourth only counted; the
 * next day starts again.
 */
Test(rejection_cap, count_at_the_cap_kept_one_over_counted)
{
	char		*p[4];
	char		*out;
	int		 i;

	stu_exec(&tdb, "UPDATE tlsrpt.rejection_cap SET rows_per_day = 3");
	for (i = 0; i < 4; i++)
		p[i] = strdup(junk(dtu_S("junk%d", i), (size_t)(10 + i),
		    (char)('a' + i)));
	out = import("'%s' '%s' '%s' '%s'", p[0], p[1], p[2], p[3]);
	for (i = 0; i < 3; i++) {
		cr_expect(strstr(line_of(out, p[i]), ": rejected: ") != NULL,
		    "%s", out);
		cr_expect(strstr(line_of(out, p[i]), CAPPED) == NULL, "%s",
		    out);
	}
	cr_expect(strstr(line_of(out, p[3]), ": rejected: ") != NULL);
	cr_expect(strstr(line_of(out, p[3]), CAPPED) != NULL, "%s", out);
	free(out);

	cr_assert_eq(q("SELECT count(*) FROM tlsrpt.rejection"), 3);
	cr_assert_eq(q("SELECT count(*) FROM tlsrpt.arrival"
	    " WHERE outcome = 'rejected'"), 3);
	stu_exec(&tdb, dtu_S("CREATE TABLE want (o text); INSERT INTO want"
	    " VALUES ('%s'), ('%s'), ('%s')", p[0], p[1], p[2]));
	cr_assert_eq(q("SELECT count(*) FROM tlsrpt.rejection r JOIN want w"
	    " ON w.o = r.origin"), 3, "the first three are the ones kept");
	/* 10 + 11 + 12 bytes kept; the 13 of the fourth only counted */
	cr_assert_eq(q("SELECT kept FROM tlsrpt.rejection_day"
), 3);
	cr_assert_eq(q("SELECT kept_bytes FROM tlsrpt.rejection_day"
), 33);
	cr_assert_eq(q("SELECT dropped FROM tlsrpt.rejection_day"
), 1);
	cr_assert_eq(q("SELECT dropped_bytes FROM tlsrpt.rejection_day"
), 13);

	/* the same day, with the cap raised by one: one more kept */
	stu_exec(&tdb, "UPDATE tlsrpt.rejection_cap SET rows_per_day = 4");
	out = import("'%s' '%s'", p[2], p[3]);
	cr_expect(strstr(line_of(out, p[2]), CAPPED) == NULL, "%s", out);
	cr_expect(strstr(line_of(out, p[3]), CAPPED) != NULL, "%s", out);
	free(out);
	cr_assert_eq(q("SELECT kept FROM tlsrpt.rejection_day"), 4);
	cr_assert_eq(q("SELECT dropped FROM tlsrpt.rejection_day"), 2);

	/* the day's count made yesterday's: today starts again at 0 */
	stu_exec(&tdb, "UPDATE tlsrpt.rejection_day SET day = day - 1");
	out = import("'%s'", p[3]);
	cr_expect(strstr(line_of(out, p[3]), CAPPED) == NULL, "%s", out);
	free(out);
	cr_assert_eq(q("SELECT count(*) FROM tlsrpt.rejection"), 5);
	cr_assert_eq(q("SELECT count(*) FROM tlsrpt.rejection_day"), 2);
	cr_assert_eq(q("SELECT kept FROM tlsrpt.rejection_day"
	    " ORDER BY day DESC LIMIT 1"), 1);
	for (i = 0; i < 4; i++)
		free(p[i]);
}

/*
 * Bytes: a cap of 100 excerpt bytes a day.  60 then 40 bytes: kept, 100
 * at the cap; then 1 byte over it, and 70,000 bytes (whose excerpt
 * would be the first LIM_REJECT_KEEP_BYTES), only counted, each with its
 * whole size.
 */
Test(rejection_cap, bytes_at_the_cap_kept_one_over_counted)
{
	char		*a, *b, *c, *d;
	char		*out;

	stu_exec(&tdb, "UPDATE tlsrpt.rejection_cap SET bytes_per_day = 100");
	a = strdup(junk("a", 60, 'x'));
	b = strdup(junk("b", 40, 'y'));
	c = strdup(junk("c", 1, 'z'));
	d = strdup(junk("d", 70000, 'w'));
	out = import("'%s' '%s' '%s' '%s'", a, b, c, d);
	cr_expect(strstr(line_of(out, a), CAPPED) == NULL, "%s", out);
	cr_expect(strstr(line_of(out, b), CAPPED) == NULL, "%s", out);
	cr_expect(strstr(line_of(out, c), CAPPED) != NULL, "%s", out);
	cr_expect(strstr(line_of(out, d), CAPPED) != NULL, "%s", out);
	free(out);
	cr_assert_eq(q("SELECT count(*) FROM tlsrpt.rejection"), 2);
	cr_assert_eq(q("SELECT sum(octet_length(raw)) FROM tlsrpt.rejection"),
	    100);
	cr_assert_eq(q("SELECT kept_bytes FROM tlsrpt.rejection_day"
), 100);
	cr_assert_eq(q("SELECT dropped FROM tlsrpt.rejection_day"
), 2);
	cr_assert_eq(q("SELECT dropped_bytes FROM tlsrpt.rejection_day"
), 70001);
	free(a);
	free(b);
	free(c);
	free(d);
}

/*
 * Several importers at once, each its own connection as two collector
 * nodes would be: 4 processes of 100 rejections each against a cap of
 * 150 keep exactly 150 between them and count the other 250.
 */
Test(rejection_cap, concurrent_importers_share_one_cap)
{
	char	*cmd, *args[4], *out;
	size_t	 k, i;
	int	 n;

	stu_exec(&tdb, "UPDATE tlsrpt.rejection_cap SET rows_per_day = 150");
	for (k = 0; k < 4; k++) {
		args[k] = strdup("");
		for (i = 0; i < 100; i++) {
			char	*t;

			cr_assert_geq(asprintf(&t, "%s '%s'", args[k],
			    junk(dtu_S("n%zu_%zu", k, i), 20 + i,
			    (char)('a' + k))), 0);
			free(args[k]);
			args[k] = t;
		}
	}
	cr_assert_geq(asprintf(&cmd, "%s", ""), 0);
	for (k = 0; k < 4; k++) {
		char	*t;

		/* each in the background, all started before any waits */
		cr_assert_geq(asprintf(&t, "%s %s import --db '%s' %s >"
		    " '%s/out%zu' 2>&1 &", cmd, dtu_bin("TLSRPT_BIN",
		    "bin/tlsrpt"), tdb.conninfo, args[k], tdir, k), 0);
		free(cmd);
		cmd = t;
	}
	{
		char	*t;

		cr_assert_geq(asprintf(&t, "%s wait; cd '%s' && cat out0 out1"
		    " out2 out3", cmd, tdir), 0);
		free(cmd);
		cmd = t;
	}
	out = dtu_run("%s", cmd);
	for (n = 0, i = 0; out[i] != '\0'; i++)
		if (strncmp(out + i, CAPPED, strlen(CAPPED)) == 0)
			n++;
	cr_assert_eq(n, 250, "lines capped: %d\n%s", n, out);
	cr_assert_eq(q("SELECT count(*) FROM tlsrpt.rejection"), 150);
	cr_assert_eq(q("SELECT count(*) FROM tlsrpt.arrival"
	    " WHERE outcome = 'rejected'"), 150);
	cr_assert_eq(q("SELECT kept FROM tlsrpt.rejection_day"), 150);
	cr_assert_eq(q("SELECT dropped FROM tlsrpt.rejection_day"), 250);
	free(out);
	free(cmd);
	for (k = 0; k < 4; k++)
		free(args[k]);
}

/*
 * The lock that makes the cap hold between nodes: with the day's count
 * one below the cap (cap 2, one kept), a session records a rejection in
 * an open transaction (the count now at the cap, not committed).  An
 * import of one more must wait on the day's row, not decide on the
 * count it could read (1: kept, and the cap overrun), and once the
 * session commits it is only counted.
 */
Test(rejection_cap, a_writer_waits_for_the_days_row)
{
	PGconn		*a;
	PGresult	*res;
	char		*path, *outp, *out;
	size_t		 len;
	pid_t		 pid;
	int		 st, i, waiting = 0;

	stu_exec(&tdb, "UPDATE tlsrpt.rejection_cap SET rows_per_day = 2");
	stu_exec(&tdb, "SELECT tlsrpt.rejection_put(now(), 'test', 'first',"
	    " 'r', '\\x00'::bytea, '\\x'::bytea, 0)");
	a = PQconnectdb(tdb.conninfo);
	cr_assert_eq(PQstatus(a), CONNECTION_OK, "%s", PQerrorMessage(a));
	res = PQexec(a, "BEGIN; SELECT tlsrpt.rejection_put(now(), 'test',"
	    " 'held', 'r', '\\x00'::bytea, '\\x'::bytea, 0)");
	cr_assert_eq(PQresultStatus(res), PGRES_TUPLES_OK, "%s",
	    PQerrorMessage(a));
	cr_assert_str_eq(PQgetvalue(res, 0, 0), "t");
	PQclear(res);

	path = strdup(junk("late", 5, 'q'));
	outp = strdup(dtu_S("%s/late.out", tdir));
	pid = dtu_spawn(dtu_S("%s import --db '%s' '%s' > '%s' 2>&1",
	    dtu_bin("TLSRPT_BIN", "bin/tlsrpt"), tdb.conninfo, path, outp));
	/* the import's backend waits on a lock (30 s at most) */
	for (i = 0; i < 300 && !waiting; i++) {
		waiting = q("SELECT count(*) FROM pg_catalog.pg_stat_activity"
		    " WHERE datname = current_database() AND"
		    " wait_event_type = 'Lock'") > 0;
		if (!waiting)
			usleep(100000);
	}
	cr_assert(waiting, "the import never waited for the day's row");
	res = PQexec(a, "COMMIT");
	cr_assert_eq(PQresultStatus(res), PGRES_COMMAND_OK);
	PQclear(res);
	PQfinish(a);
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	out = (char *)tu_load(outp, &len);
	cr_assert_not_null(out);
	cr_expect(strstr(out, CAPPED) != NULL, "%.*s", (int)len, out);
	cr_assert_eq(q("SELECT kept FROM tlsrpt.rejection_day"), 2);
	cr_assert_eq(q("SELECT dropped FROM tlsrpt.rejection_day"), 1);
	cr_assert_eq(q("SELECT count(*) FROM tlsrpt.rejection"), 2);
	free(out);
	free(path);
	free(outp);
}
