/*
 * test_dkim_import.c -- `tlsrpt import --mail` with DKIM against a real
 * PostgreSQL: messages signed in the test with libopendkim's signing API
 * and an RSA key made by openssl at test time, verified against a key
 * file (--dkim-keys).  The verifier alone: tests/unit/test_dkim.c.
 *
 * Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
 */

#define _GNU_SOURCE
#include <sys/stat.h>
#include <sys/wait.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "daemon_testutil.h"
#include "dkim_testutil.h"
#include "dkim_verify.h"
#include "store.h"
#include "store_testutil.h"
#include "testutil.h"

static char		 tdir[256];
static char		 keys[300];
static struct dtk_key	 key;

static void
sig_setup(void)
{
	snprintf(tdir, sizeof(tdir), "/tmp/tlsrpt-dkim.XXXXXX");
	cr_assert_not_null(mkdtemp(tdir));
	cr_assert_eq(chmod(tdir, 0755), 0);
	snprintf(keys, sizeof(keys), "%s/keys", tdir);
	dtk_key_new(&key, tdir);
	/* one key published for the reporter and for an unrelated domain */
	dtk_keyfile_add(keys, "s1", "reporter.test", &key);
	dtk_keyfile_add(keys, "s1", "evil.test", &key);
	dtk_keyfile_add(keys, "s1", "google.com", &key);
}

static void
sig_teardown(void)
{
	dtk_key_free(&key);
	if (tdir[0] != '\0')
		(void)!system(dtu_S("rm -rf %s", tdir));
	tdir[0] = '\0';
}

/* --- tlsrpt import --mail ------------------------------------------------- */

static struct stu_db	 db;
static int		 have_db;

struct run {
	int	 status;
	char	*out;
};

static struct run
tlsrpt(const char *fmt, ...)
{
	struct run	 r = { 0, NULL };
	char		*args = NULL;
	va_list		 ap;
	int		 st;

	va_start(ap, fmt);
	cr_assert_geq(vasprintf(&args, fmt, ap), 0);
	va_end(ap);
	r.out = dtu_run("%s %s --db '%s' 2>&1; echo \"rc=$?\"",
	    dtu_bin("TLSRPT_BIN", "bin/tlsrpt"), args, db.conninfo);
	cr_assert_not_null(strstr(r.out, "rc="));
	st = atoi(strstr(r.out, "rc=") + 3);
	r.status = st;
	free(args);
	return r;
}

static void
imp_setup(void)
{
	sig_setup();
	have_db = 0;
}

static void
imp_teardown(void)
{
	if (have_db)
		stu_db_drop(&db);
	have_db = 0;
	sig_teardown();
}

static void
mkdb(const char *label)
{
	struct store	*st;

	stu_db_create(&db, label);
	have_db = 1;
	st = stu_open(&db, 1);
	store_close(st);
}

/* Write m to tdir/name; returns the path (static). */
static const char *
put(const char *name, const char *m)
{
	const char	*p = dtu_S("%s/%s", tdir, name);

	dtu_write_file(p, m, strlen(m));
	return p;
}

TestSuite(dkim_import, .init = imp_setup, .fini = imp_teardown,
    .timeout = 90);

Test(dkim_import, verified_and_recorded)
{
	struct run	 r;
	char		*m, *s, buf[512];

	mkdb("dkim_imp");
	/* signed by the submitter */
	m = dtk_report_mail("reporter.test", "reporter.test", "a.example",
	    "i1", NULL);
	s = dtk_sign(m, strlen(m), "reporter.test", "s1", &key, 1);
	put("signed.eml", s);
	free(s);
	free(m);
	/* signed, then its body changed */
	m = dtk_report_mail("reporter.test", "reporter.test", "b.example",
	    "i2", NULL);
	s = dtk_sign(m, strlen(m), "reporter.test", "s1", &key, 0);
	*strstr(s, "A report.") = 'B';
	put("changed.eml", s);
	free(s);
	free(m);
	/* signed by someone else */
	m = dtk_report_mail("reporter.test", "reporter.test", "c.example",
	    "i3", NULL);
	s = dtk_sign(m, strlen(m), "evil.test", "s1", &key, 1);
	put("unaligned.eml", s);
	free(s);
	free(m);
	/* an unsigned "Google" report with a forged verdict on top */
	m = dtk_report_mail("Google Inc.", "google.com", "d.example", "i4",
	    "Authentication-Results: mx.tlsrpt.test; dkim=pass "
	    "header.d=google.com\r\n");
	put("forged.eml", m);
	free(m);

	r = tlsrpt("import --mail -v --dkim-keys %s %s/signed.eml "
	    "%s/changed.eml %s/unaligned.eml %s/forged.eml", keys, tdir, tdir,
	    tdir, tdir);
	cr_expect_eq(r.status, 0, "%s", r.out);
	cr_expect(strstr(r.out, "signed.eml: stored\n    dkim: pass "
	    "d=reporter.test aligned (trusted)\n") != NULL, "%s", r.out);
	free(r.out);
	cr_expect_str_eq(stu_text(&db, "SELECT string_agg(p.policy_domain || "
	    "' ' || r.dkim || ' ' || r.trusted, '; ' ORDER BY "
	    "p.policy_domain) FROM tlsrpt.report r JOIN tlsrpt.policy p "
	    "USING (report_no)", buf, sizeof(buf)),
	    "a.example pass d=reporter.test aligned true; "
	    "b.example fail d=reporter.test (dkim=fail) false; "
	    "c.example pass d=evil.test unaligned false; "
	    "d.example none false");
	cr_expect_eq(stu_int(&db, "SELECT count(*) FROM tlsrpt.report WHERE "
	    "trusted"), 1);

	/* a mail given without --mail is verified too (content decides) */
	m = dtk_report_mail("reporter.test", "reporter.test", "e.example",
	    "i5", NULL);
	s = dtk_sign(m, strlen(m), "reporter.test", "s1", &key, 1);
	put("plain-arg.eml", s);
	free(s);
	free(m);
	r = tlsrpt("import --dkim-keys %s %s/plain-arg.eml", keys, tdir);
	cr_expect_eq(r.status, 0, "%s", r.out);
	free(r.out);
	cr_expect_eq(stu_int(&db, "SELECT count(*) FROM tlsrpt.report WHERE "
	    "trusted"), 2);
}

Test(dkim_import, require_dkim_rejects_the_unsigned)
{
	struct run	 r;
	char		*m, *s, buf[512];

	mkdb("dkim_req");
	m = dtk_report_mail("Google Inc.", "google.com", "d.example", "g1",
	    "Authentication-Results: mx.tlsrpt.test; dkim=pass "
	    "header.d=google.com\r\n");
	put("forged.eml", m);
	free(m);
	m = dtk_report_mail("Google Inc.", "google.com", "e.example", "g2",
	    NULL);
	s = dtk_sign(m, strlen(m), "google.com", "s1", &key, 1);
	put("genuine.eml", s);
	free(s);
	free(m);
	r = tlsrpt("import --mail --require-dkim --dkim-keys %s %s/forged.eml "
	    "- < %s/genuine.eml", keys, tdir, tdir);
	cr_expect_eq(r.status, 1, "%s", r.out);
	cr_expect(strstr(r.out, "forged.eml: rejected: dkim: no passing DKIM "
	    "signature of the reporting domain (none)\n") != NULL, "%s",
	    r.out);
	cr_expect(strstr(r.out, "-: stored") != NULL, "%s", r.out);
	free(r.out);
	cr_expect_str_eq(stu_text(&db, "SELECT dkim || ' ' || trusted FROM "
	    "tlsrpt.report", buf, sizeof(buf)), "pass d=google.com aligned "
	    "true");
	cr_expect_eq(stu_int(&db, "SELECT count(*) FROM tlsrpt.rejection "
	    "WHERE reason LIKE 'dkim: no passing DKIM signature%'"), 1);
	/* a key file that is not there: the command does not run */
	r = tlsrpt("import --mail --dkim-keys %s/none %s/forged.eml", tdir,
	    tdir);
	cr_expect_eq(r.status, 3, "%s", r.out);
	cr_expect(strstr(r.out, "--dkim-keys") != NULL, "%s", r.out);
	free(r.out);
}
