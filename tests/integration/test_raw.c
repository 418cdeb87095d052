/*
 * test_raw.c -- tlsrpt raw: the JSON of a stored report, byte for byte as
 * it arrived (gunzipped), whatever form report_raw keeps it in; content
 * variants; unknown keys.  Real PostgreSQL, the real tlsrpt binary; the
 * expected bytes are the files the test imported (gunzipped by zlib in
 * the test), the SHA-256 of a variant comes from sha256sum(1).
 *
 * Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
 */

#define _GNU_SOURCE
#include <sys/stat.h>
#include <sys/wait.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "store_testutil.h"
#include "testutil.h"

#define GZ_FILE		"google_mail-tls-rpt_report.json.gz"
#define JSON_FILE	"microsoft_dmarc-report-viewer-issue57.json"

static struct stu_db	db;
static char		tdir[256];

static void
setup(void)
{
	snprintf(tdir, sizeof(tdir), "%s/tlsrpt-raw.XXXXXX",
	    getenv("TMPDIR") != NULL ? getenv("TMPDIR") : "/tmp");
	cr_assert_not_null(mkdtemp(tdir));
	stu_db_create(&db, "raw");
}

static void
teardown(void)
{
	char	*cmd = NULL;

	stu_db_drop(&db);
	cr_assert_geq(asprintf(&cmd, "rm -rf '%s'", tdir), 0);
	(void)system(cmd);
	free(cmd);
}

TestSuite(raw, .init = setup, .fini = teardown, .timeout = 60);

static const char *
bin(void)
{
	const char	*b = getenv("TLSRPT_BIN");

	return b != NULL && *b != '\0' ? b : "bin/tlsrpt";
}

/* Runs tlsrpt ARGS --db ..., stdout to tdir/out, stderr to tdir/err;
 * the exit status. */
static int
run(const char *args)
{
	char	*cmd = NULL;
	int	 st;

	cr_assert_geq(asprintf(&cmd, "%s %s --db '%s' >'%s/out' 2>'%s/err'",
	    bin(), args, db.conninfo, tdir, tdir), 0);
	st = system(cmd);
	free(cmd);
	cr_assert(WIFEXITED(st));
	return WEXITSTATUS(st);
}

static unsigned char *
load(const char *name, size_t *len)
{
	char	path[512];

	snprintf(path, sizeof(path), "%s/%s", tdir, name);
	return tu_load(path, len);
}

static void
put(const char *name, const void *buf, size_t len)
{
	char	 path[512];
	FILE	*f;

	snprintf(path, sizeof(path), "%s/in/%s", tdir, name);
	cr_assert_not_null(f = fopen(path, "wb"), "%s", path);
	cr_assert_eq(fwrite(buf, 1, len, f), len);
	cr_assert_eq(fclose(f), 0);
}

/* The report key (hex) of the report imported from file NAME. */
static char *
key_of(const char *name, char *buf, size_t bufsz)
{
	char	sql[512];

	snprintf(sql, sizeof(sql), "SELECT encode(r.report_key, 'hex') FROM "
	    "tlsrpt.arrival a JOIN tlsrpt.report r USING (report_no) WHERE "
	    "a.origin LIKE '%%/%s' LIMIT 1", name);
	stu_text(&db, sql, buf, bufsz);
	cr_assert_eq(strlen(buf), 64, "no report from %s", name);
	return buf;
}

/* The output of the last run equals want[0..len). */
static void
expect_out(const unsigned char *want, size_t len, const char *what)
{
	unsigned char	*got;
	size_t		 n;

	got = load("out", &n);
	cr_expect_eq(n, len, "%s: %zu bytes, want %zu", what, n, len);
	cr_expect(n == len && memcmp(got, want, len) == 0,
	    "%s: other bytes", what);
	free(got);
}

static int
err_has(const char *s)
{
	unsigned char	*e;
	size_t		 n;
	int		 has;

	e = load("err", &n);
	has = memmem(e, n, s, strlen(s)) != NULL;
	free(e);
	return has;
}

Test(raw, bytes_as_they_arrived_and_variants)
{
	unsigned char	*gz, *json, *plain, *variant;
	char		 path[512], cmd[1024], kgz[80], kjs[80], sha[80];
	char		 args[512];
	size_t		 gzlen, jlen, plen;
	FILE		*p;

	snprintf(path, sizeof(path), "%s/in", tdir);
	cr_assert_eq(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/%s", tu_corpus_dir(), GZ_FILE);
	cr_assert_not_null(gz = tu_load(path, &gzlen));
	cr_assert_not_null(plain = tu_gunzip_all(gz, gzlen, 1 << 24, &plen));
	snprintf(path, sizeof(path), "%s/%s", tu_corpus_dir(), JSON_FILE);
	cr_assert_not_null(json = tu_load(path, &jlen));
	put("a.json.gz", gz, gzlen);
	put("b.json", json, jlen);
	cr_assert_eq(run("migrate"), 0);
	snprintf(args, sizeof(args), "import '%s/in'", tdir);
	cr_assert_eq(run(args), 0, "import failed");

	/* stored gzip-packed; written as the JSON inside the gzip */
	snprintf(args, sizeof(args), "raw %s", key_of("a.json.gz", kgz,
	    sizeof(kgz)));
	cr_expect_eq(run(args), 0);
	expect_out(plain, plen, GZ_FILE);
	snprintf(args, sizeof(args), "raw %s", key_of("b.json", kjs,
	    sizeof(kjs)));
	cr_expect_eq(run(args), 0);
	expect_out(json, jlen, JSON_FILE);

	/* the same report with other bytes: a second content variant */
	cr_assert_not_null(variant = malloc(jlen + 2));
	memcpy(variant, json, jlen);
	memcpy(variant + jlen, " \n", 2);
	snprintf(path, sizeof(path), "%s/in2", tdir);
	cr_assert_eq(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/in2/c.json", tdir);
	p = fopen(path, "wb");
	cr_assert_not_null(p);
	cr_assert_eq(fwrite(variant, 1, jlen + 2, p), jlen + 2);
	cr_assert_eq(fclose(p), 0);
	snprintf(args, sizeof(args), "import '%s/in2'", tdir);
	cr_assert_eq(run(args), 0, "import of the variant failed");
	cr_assert_eq(stu_int(&db, "SELECT count(*) FROM tlsrpt.report_raw"),
	    3, "the variant is stored beside the first bytes");
	snprintf(args, sizeof(args), "raw %s", kjs);
	cr_expect_eq(run(args), 1, "two variants, none named");
	cr_expect(err_has("2 content variants"));
	snprintf(cmd, sizeof(cmd), "sha256sum '%s'", path);
	cr_assert_not_null(p = popen(cmd, "r"));
	cr_assert_not_null(fgets(sha, sizeof(sha), p));
	pclose(p);
	sha[64] = '\0';
	cr_expect(err_has(sha), "the variants are listed");
	snprintf(args, sizeof(args), "raw %s %s", kjs, sha);
	cr_expect_eq(run(args), 0);
	expect_out(variant, jlen + 2, "the named variant");

	/* unknown report, unknown variant, not a key */
	cr_expect_eq(run("raw 00000000000000000000000000000000000000000000"
	    "00000000000000000000"), 1);
	cr_expect(err_has("no report"));
	snprintf(args, sizeof(args), "raw %s 000000000000000000000000000000"
	    "0000000000000000000000000000000000", kgz);
	cr_expect_eq(run(args), 1);
	cr_expect(err_has("no variant"));
	cr_expect_eq(run("raw not-a-key"), 1);
	cr_expect_eq(run("raw"), 3, "no key: usage");
	free(gz);
	free(plain);
	free(json);
	free(variant);
}
