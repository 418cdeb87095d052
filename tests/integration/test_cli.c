/*
 * test_cli.c -- the tlsrpt program end to end: files on disk, `tlsrpt
 * migrate`, `tlsrpt import`, `tlsrpt summary` against a real PostgreSQL,
 * with the expected figures worked out by hand below.
 *
 * Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
 */

#define _GNU_SOURCE
#include <sys/stat.h>
#include <sys/wait.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <json-c/json.h>

#include "store_testutil.h"
#include "testutil.h"

struct run {
	int	 status;	/* exit code */
	char	*out;		/* stdout and stderr, malloc'd */
};

static const char *
bin(void)
{
	const char	*b = getenv("TLSRPT_BIN");

	return b != NULL && *b != '\0' ? b : "bin/tlsrpt";
}

/* Runs `tlsrpt ARGS` with --db of db appended to the command. */
static struct run
tlsrpt(const struct stu_db *db, const char *fmt, ...)
{
	struct run	 r = { 0, NULL };
	struct tu_str	 out = { 0 };
	char		*args = NULL, *cmd = NULL, line[4096];
	va_list		 ap;
	FILE		*p;
	int		 st;

	va_start(ap, fmt);
	cr_assert_geq(vasprintf(&args, fmt, ap), 0);
	va_end(ap);
	cr_assert_geq(asprintf(&cmd, "%s %s --db '%s' 2>&1", bin(), args,
	    db->conninfo), 0);
	p = popen(cmd, "r");
	cr_assert_not_null(p, "cannot run %s", cmd);
	tu_str_add(&out, "%s", "");
	while (fgets(line, sizeof(line), p) != NULL)
		tu_str_add(&out, "%s", line);
	st = pclose(p);
	cr_assert(WIFEXITED(st), "%s: did not exit", cmd);
	r.status = WEXITSTATUS(st);
	r.out = out.s;
	free(args);
	free(cmd);
	return r;
}

static void
write_file(const char *dir, const char *name, const void *buf, size_t len)
{
	char	path[4096];
	FILE	*f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	cr_assert_not_null(f, "%s", path);
	cr_assert_eq(fwrite(buf, 1, len, f), len);
	cr_assert_eq(fclose(f), 0);
}

static void
rm_tree(const char *dir)
{
	char	*cmd = NULL;

	cr_assert_geq(asprintf(&cmd, "rm -rf '%s'", dir), 0);
	cr_expect_eq(system(cmd), 0);
	free(cmd);
}

static struct json_object *
domain_of(struct json_object *root, const char *name)
{
	struct json_object	*doms, *d, *n;
	size_t			 i;

	cr_assert(json_object_object_get_ex(root, "domains", &doms));
	for (i = 0; i < json_object_array_length(doms); i++) {
		d = json_object_array_get_idx(doms, i);
		if (json_object_object_get_ex(d, "domain", &n) &&
		    strcmp(json_object_get_string(n), name) == 0)
			return d;
	}
	cr_assert_fail("domain %s not in the summary", name);
	return NULL;
}

static int64_t
ival(struct json_object *o, const char *key)
{
	struct json_object	*v;

	cr_assert(json_object_object_get_ex(o, key, &v), "no key %s", key);
	cr_assert(json_object_is_type(v, json_type_int), "%s not an int",
	    key);
	return json_object_get_int64(v);
}

static int64_t
rtval(struct json_object *d, const char *rt)
{
	struct json_object	*rts, *v;

	cr_assert(json_object_object_get_ex(d, "result_types", &rts));
	if (!json_object_object_get_ex(rts, rt, &v))
		return 0;
	return json_object_get_int64(v);
}

/*
 * The fixture, and what the accounting rule makes of it over the window
 * [2026-03-01, 2026-03-10):
 *
 * A  Alpha a1 2026-03-02  x: sts 100/10 (starttls 4, host-mismatch 6)
 *                            tlsa 100/10 (tlsa-invalid 10)
 *                         tie in sessions: sts counts, tlsa does not.
 * B  Beta b1 2026-03-03   x: no-policy-found 5/0, sts 20/3 (expired 1:
 *                            details need not add up), sts 30/2
 *                            (starttls 2): all three add up.
 * C  Alpha c1 2026-03-03  x: sts 7/0
 *                         y: sts 50/5 (fetch-error 5), tlsa 60/1
 *                            (dnssec-invalid 1): tlsa has more sessions.
 * D  Gamma d1 2026-03-10  x: sts 1000/0: starts at `until`, outside.
 * A again, gzipped and pretty-printed differently: a duplicate.
 *
 * x: reports 3, reporters 2 (alpha, beta), successful 100+55+7 = 162,
 *    failed 10+5+0 = 15, starttls 4+2 = 6, host-mismatch 6, expired 1.
 * y: reports 1, reporters 1, successful 60, failed 1, dnssec-invalid 1.
 */
static void
make_fixture(const char *dir)
{
	char		*a, *b, *c, *d, *a2, *p;
	unsigned char	*gz;
	size_t		 gl;

	a = stu_report("Alpha", "a1", "2026-03-02", p = stu_join(
	    stu_policy("sts", "x.example", 100, 10, stu_join(
	    stu_detail("starttls-not-supported", "mx1.x.example", 4),
	    stu_detail("certificate-host-mismatch", "mx2.x.example", 6),
	    NULL)),
	    stu_policy("tlsa", "x.example", 100, 10,
	    stu_detail("tlsa-invalid", "mx1.x.example", 10)), NULL));
	free(p);
	b = stu_report("Beta", "b1", "2026-03-03", p = stu_join(
	    stu_policy("no-policy-found", "x.example", 5, 0, NULL),
	    stu_policy("sts", "x.example", 20, 3,
	    stu_detail("certificate-expired", "mx1.x.example", 1)),
	    stu_policy("sts", "x.example", 30, 2,
	    stu_detail("starttls-not-supported", "mx2.x.example", 2)), NULL));
	free(p);
	c = stu_report("Alpha", "c1", "2026-03-03", p = stu_join(
	    stu_policy("sts", "x.example", 7, 0, NULL),
	    stu_policy("sts", "y.example", 50, 5,
	    stu_detail("sts-policy-fetch-error", "", 5)),
	    stu_policy("tlsa", "y.example", 60, 1,
	    stu_detail("dnssec-invalid", "mx.y.example", 1)), NULL));
	free(p);
	d = stu_report("Gamma", "d1", "2026-03-10", p =
	    stu_policy("sts", "x.example", 1000, 0, NULL));
	free(p);
	write_file(dir, "a.json", a, strlen(a));
	write_file(dir, "b.json", b, strlen(b));
	write_file(dir, "c.json", c, strlen(c));
	write_file(dir, "d.json", d, strlen(d));
	/* the same report A, other bytes: leading white space, gzipped */
	cr_assert_geq(asprintf(&a2, "\n  %s\n", a), 0);
	gz = tu_gzip(a2, strlen(a2), &gl);
	write_file(dir, "e-same-as-a.json.gz", gz, gl);
	write_file(dir, "f-not-a-report.txt", "hello\n", 6);
	free(a);
	free(b);
	free(c);
	free(d);
	free(a2);
	free(gz);
}

Test(cli, import_and_summary_figures, .timeout = 120)
{
	struct stu_db		 db;
	struct run		 r;
	struct json_object	*root, *x, *y, *flags, *f, *v;
	char			 dir[] = "/tmp/tlsrpt-cli.XXXXXX";

	cr_assert_not_null(mkdtemp(dir));
	stu_db_create(&db, "cli_fig");
	make_fixture(dir);

	r = tlsrpt(&db, "summary");
	cr_expect_eq(r.status, 3, "summary before migrate: %s", r.out);
	cr_expect_not_null(strstr(r.out, "migrate"), "%s", r.out);
	free(r.out);
	r = tlsrpt(&db, "migrate");
	cr_expect_eq(r.status, 0, "%s", r.out);
	free(r.out);
	r = tlsrpt(&db, "migrate");
	cr_expect_eq(r.status, 0, "%s", r.out);
	cr_expect_not_null(strstr(r.out, "up to date"), "%s", r.out);
	free(r.out);

	r = tlsrpt(&db, "import %s", dir);
	cr_expect_eq(r.status, 1, "a rejection makes import exit 1: %s",
	    r.out);
	cr_expect_not_null(strstr(r.out, "/a.json: stored\n"), "%s", r.out);
	cr_expect_not_null(strstr(r.out, "/b.json: stored"), "%s", r.out);
	cr_expect_not_null(strstr(r.out, "/d.json: stored\n"), "%s", r.out);
	cr_expect_not_null(strstr(r.out, "/e-same-as-a.json.gz: duplicate\n"),
	    "%s", r.out);
	cr_expect_not_null(strstr(r.out, "/f-not-a-report.txt: rejected: "),
	    "%s", r.out);
	free(r.out);
	cr_expect_eq(stu_int(&db, "SELECT count(*) FROM tlsrpt.report"), 4);

	/* importing again: everything is a duplicate, nothing rejected */
	r = tlsrpt(&db, "import %s/a.json %s/c.json", dir, dir);
	cr_expect_eq(r.status, 0, "%s", r.out);
	cr_expect_not_null(strstr(r.out, "/c.json: duplicate\n"), "%s", r.out);
	free(r.out);

	r = tlsrpt(&db, "summary --since 2026-03-01 --until 2026-03-10 "
	    "--format json");
	cr_expect_eq(r.status, 2, "critical flags: exit 2: %s", r.out);
	root = json_tokener_parse(r.out);
	cr_assert_not_null(root, "summary is not JSON: %s", r.out);
	cr_expect_str_eq(json_object_get_string(json_object_object_get(root,
	    "since")), "2026-03-01T00:00:00Z");
	cr_expect_str_eq(json_object_get_string(json_object_object_get(root,
	    "until")), "2026-03-10T00:00:00Z");
	cr_expect_eq(json_object_array_length(json_object_object_get(root,
	    "domains")), 2);
	x = domain_of(root, "x.example");
	cr_expect_eq(ival(x, "reports"), 3);
	cr_expect_eq(ival(x, "reporters"), 2);
	cr_expect_eq(ival(x, "successful_sessions"), 162);
	cr_expect_eq(ival(x, "failed_sessions"), 15);
	cr_expect_eq(rtval(x, "starttls-not-supported"), 6);
	cr_expect_eq(rtval(x, "certificate-host-mismatch"), 6);
	cr_expect_eq(rtval(x, "certificate-expired"), 1);
	cr_expect_eq(rtval(x, "tlsa-invalid"), 0, "tlsa entry not counted");
	cr_assert(json_object_object_get_ex(x, "failure_rate", &v));
	cr_expect_float_eq(json_object_get_double(v), 15.0 / 177.0, 0.0001);
	cr_assert(json_object_object_get_ex(x, "flags", &flags));
	cr_expect_eq(json_object_array_length(flags), 3);
	f = json_object_array_get_idx(flags, 0);
	cr_expect_str_eq(json_object_get_string(json_object_object_get(f,
	    "severity")), "critical");
	cr_expect_not_null(json_object_object_get(f, "meaning"));
	y = domain_of(root, "y.example");
	cr_expect_eq(ival(y, "reports"), 1);
	cr_expect_eq(ival(y, "reporters"), 1);
	cr_expect_eq(ival(y, "successful_sessions"), 60);
	cr_expect_eq(ival(y, "failed_sessions"), 1);
	cr_expect_eq(rtval(y, "dnssec-invalid"), 1);
	cr_expect_eq(rtval(y, "sts-policy-fetch-error"), 0);
	json_object_put(root);
	free(r.out);

	/* the window includes D when until moves one second on */
	r = tlsrpt(&db, "summary --since 2026-03-01 --until "
	    "2026-03-10T00:00:01Z --domain x.example --format json");
	root = json_tokener_parse(r.out);
	cr_assert_not_null(root, "%s", r.out);
	x = domain_of(root, "x.example");
	cr_expect_eq(ival(x, "reports"), 4);
	cr_expect_eq(ival(x, "successful_sessions"), 1162);
	cr_expect_eq(json_object_array_length(json_object_object_get(root,
	    "domains")), 1, "--domain filters");
	json_object_put(root);
	free(r.out);

	/* text and csv carry the same figures */
	r = tlsrpt(&db, "summary --since 2026-03-01 --until 2026-03-10");
	cr_expect_eq(r.status, 2);
	cr_expect_not_null(strstr(r.out, "x.example"), "%s", r.out);
	cr_expect_not_null(strstr(r.out, "CRITICAL"), "%s", r.out);
	cr_expect_not_null(strstr(r.out, "162"), "%s", r.out);
	free(r.out);
	r = tlsrpt(&db, "summary --since 2026-03-01 --until 2026-03-10 "
	    "--format csv");
	cr_expect_not_null(strstr(r.out, "x.example,3,2,162,15,0.0847,"
	    "critical,"), "%s", r.out);
	cr_expect_not_null(strstr(r.out, "y.example,1,1,60,1,0.0164,"
	    "critical,dnssec-invalid=1"), "%s", r.out);
	free(r.out);

	/* nothing flagged: exit 0; an empty window is not an error */
	r = tlsrpt(&db, "summary --since 2026-03-10 --until 2026-03-11");
	cr_expect_eq(r.status, 0, "%s", r.out);
	free(r.out);
	r = tlsrpt(&db, "summary --since 2030-01-01");
	cr_expect_eq(r.status, 0, "%s", r.out);
	cr_expect_not_null(strstr(r.out, "No reports"), "%s", r.out);
	free(r.out);

	stu_db_drop(&db);
	rm_tree(dir);
}

Test(cli, warning_only_exits_1)
{
	struct stu_db	 db;
	struct run	 r;
	char		 dir[] = "/tmp/tlsrpt-cli.XXXXXX";
	char		*j, *p;

	cr_assert_not_null(mkdtemp(dir));
	stu_db_create(&db, "cli_warn");
	j = stu_report("Org", "w1", "2026-04-01", p = stu_policy("sts",
	    "z.example", 10, 2, stu_detail("sts-policy-fetch-error", "", 2)));
	write_file(dir, "w.json", j, strlen(j));
	free(j);
	free(p);
	free(tlsrpt(&db, "migrate").out);
	r = tlsrpt(&db, "import %s/w.json", dir);
	cr_expect_eq(r.status, 0, "%s", r.out);
	free(r.out);
	r = tlsrpt(&db, "summary");
	cr_expect_eq(r.status, 1, "warning flags: exit 1: %s", r.out);
	cr_expect_not_null(strstr(r.out, "WARNING"), "%s", r.out);
	free(r.out);
	stu_db_drop(&db);
	rm_tree(dir);
}

Test(cli, bad_options_exit_3)
{
	struct stu_db	 db;
	struct run	 r;

	stu_db_create(&db, "cli_opts");
	free(tlsrpt(&db, "migrate").out);
	r = tlsrpt(&db, "summary --days 0");
	cr_expect_eq(r.status, 3, "%s", r.out);
	cr_expect_not_null(strstr(r.out, "--days"), "%s", r.out);
	free(r.out);
	r = tlsrpt(&db, "summary --since yesterday");
	cr_expect_eq(r.status, 3, "%s", r.out);
	free(r.out);
	r = tlsrpt(&db, "summary --format xml");
	cr_expect_eq(r.status, 3, "%s", r.out);
	free(r.out);
	r = tlsrpt(&db, "summary --since 2026-02-01 --until 2026-01-01");
	cr_expect_eq(r.status, 3, "%s", r.out);
	free(r.out);
	r = tlsrpt(&db, "frobnicate");
	cr_expect_eq(r.status, 3, "%s", r.out);
	free(r.out);
	r = tlsrpt(&db, "import");
	cr_expect_eq(r.status, 3, "%s", r.out);
	free(r.out);
	r = tlsrpt(&db, "summary --help");
	cr_expect_eq(r.status, 0, "%s", r.out);
	cr_expect_not_null(strstr(r.out, "Exit status"), "%s", r.out);
	free(r.out);
	stu_db_drop(&db);

	/* an unreachable database: exit 3 with a one-line reason */
	{
		struct stu_db	bad;

		snprintf(bad.conninfo, sizeof(bad.conninfo),
		    "host=/nonexistent dbname=x connect_timeout=2");
		r = tlsrpt(&bad, "summary");
		cr_expect_eq(r.status, 3, "%s", r.out);
		cr_expect_not_null(strstr(r.out, "cannot connect"), "%s",
		    r.out);
		free(r.out);
	}
}

/* Every corpus file: reports are stored (or duplicates of one another),
 * every negative file is rejected with a reason. */
Test(cli, corpus_import, .timeout = 120)
{
	static const char *negatives[] = { "INDEX.md", "sha256sums.txt",
	    "empty_tlsrpt-rs.eml",
	    "google-2019_belastingdienst-slides_transcript.txt",
	    "legacy-draft-example_mrisher-smtp-sts_reporting-md.txt" };
	struct stu_db	 db;
	struct run	 r;
	struct dirent	*de;
	DIR		*d;
	char		 want[512], *line;
	size_t		 i, nfiles = 0;
	int		 neg;

	stu_db_create(&db, "cli_corpus");
	free(tlsrpt(&db, "migrate").out);
	r = tlsrpt(&db, "import %s", tu_corpus_dir());
	cr_expect_eq(r.status, 1, "negatives are rejected: exit 1");
	d = opendir(tu_corpus_dir());
	cr_assert_not_null(d);
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		nfiles++;
		neg = 0;
		for (i = 0; i < sizeof(negatives) / sizeof(negatives[0]); i++)
			if (strcmp(de->d_name, negatives[i]) == 0)
				neg = 1;
		snprintf(want, sizeof(want), "/%s: %s", de->d_name,
		    neg ? "rejected: " : "");
		line = strstr(r.out, want);
		cr_expect_not_null(line, "%s: no line \"%s\" in\n%s",
		    de->d_name, want, r.out);
		if (line != NULL && !neg)
			cr_expect(strncmp(line + strlen(want), "stored", 6) ==
			    0 || strncmp(line + strlen(want), "duplicate", 9) ==
			    0, "%s: %.80s", de->d_name, line);
	}
	closedir(d);
	cr_expect_geq(nfiles, 60);
	/* 61 samples hold about 42 distinct reports */
	cr_expect_geq(stu_int(&db, "SELECT count(*) FROM tlsrpt.report"), 35);
	cr_expect_eq(stu_int(&db, "SELECT count(*) FROM tlsrpt.rejection"), 5);
	free(r.out);
	stu_db_drop(&db);
}
