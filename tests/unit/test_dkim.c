/*
 * test_dkim.c -- DKIM verification (dkim/dkim_verify.c) with real
 * libopendkim both ways: messages signed in the test with libopendkim's
 * signing API and an RSA key made by openssl at test time, verified
 * against a key file (libopendkim's file query method, --dkim-keys);
 * the trust verdict and its alignment rule.  No database: `tlsrpt
 * import --mail` is tests/integration/test_dkim_import.c.
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

#include "dkim_testutil.h"
#include "dkim_verify.h"
#include "sh_testutil.h"
#include "testutil.h"

/* --- the verdict: the alignment rule ------------------------------------ */

struct vcase {
	const char	*label;
	const char	*results;	/* "pass:d.test fail:x.test ..." */
	const char	*want;		/* verdict for submitter google.com */
	int		 trusted;
};

static const struct vcase vcases[] = {
	{ "pass aligned", "pass:google.com", "pass d=google.com aligned", 1 },
	{ "parent signs for child", "pass:smtp.google.com",
	    "pass d=smtp.google.com aligned", 1 },
	{ "other domain", "pass:evil.test", "pass d=evil.test unaligned", 0 },
	{ "suffix is not a parent", "pass:oogle.com",
	    "pass d=oogle.com unaligned", 0 },
	{ "tld signs nothing", "pass:com", "pass d=com unaligned", 0 },
	{ "fail", "fail:google.com", "fail d=google.com (dkim=fail)", 0 },
	{ "no key", "permerror:google.com",
	    "fail d=google.com (dkim=permerror)", 0 },
	{ "dns down", "temperror:google.com",
	    "fail d=google.com (dkim=temperror)", 0 },
	{ "one of two passes", "fail:x.test pass:google.com",
	    "pass d=google.com aligned", 1 },
	{ "two pass, one aligned", "pass:evil.test pass:google.com",
	    "pass d=evil.test,google.com aligned", 1 },
	{ "none", "", "none", 0 },
};

/* sigs from "result:domain ..." */
static size_t
mksigs(const char *spec, struct dkv_sig *sigs, size_t max)
{
	char	*s, *tok, *save = NULL, *c;
	size_t	 n = 0;

	s = strdup(spec);
	for (tok = strtok_r(s, " ", &save); tok != NULL && n < max;
	    tok = strtok_r(NULL, " ", &save)) {
		memset(&sigs[n], 0, sizeof(sigs[n]));
		c = strchr(tok, ':');
		cr_assert_not_null(c);
		*c = '\0';
		snprintf(sigs[n].result, sizeof(sigs[n].result), "%s", tok);
		snprintf(sigs[n].d, sizeof(sigs[n].d), "%s", c + 1);
		n++;
	}
	free(s);
	return n;
}

Test(dkim_verdict, table)
{
	const struct vcase	*c;
	struct dkv_sig		 sigs[LIM_DKIM_SIGS_MAX];
	char			 v[DKV_VERDICT_MAX];
	size_t			 n;
	int			 t;

	for (c = vcases; c < vcases + sizeof(vcases) / sizeof(vcases[0]);
	    c++) {
		n = mksigs(c->results, sigs, LIM_DKIM_SIGS_MAX);
		t = dkv_verdict(sigs, n, "google.com",
		    "smtp-tls-reporting@google.com", NULL, v, sizeof(v));
		cr_expect_str_eq(v, c->want, "%s: got \"%s\"", c->label, v);
		cr_expect_eq(t, c->trusted, "%s: trusted %d", c->label, t);
	}
}

Test(dkim_verdict, alignment_sources)
{
	struct dkv_sig	sigs[1];
	char		v[DKV_VERDICT_MAX];

	mksigs("pass:mail.ru", sigs, 1);
	/* Mail.ru: submitter mail.ru, contact-info at corp.mail.ru */
	cr_expect_eq(dkv_verdict(sigs, 1, NULL, "tlsrpt@corp.mail.ru", NULL,
	    v, sizeof(v)), 1, "%s", v);
	cr_expect_eq(dkv_verdict(sigs, 1, " mail.ru. ", NULL, NULL, v,
	    sizeof(v)), 1, "%s", v);
	cr_expect_eq(dkv_verdict(sigs, 1, NULL,
	    "https://reports.mail.ru/tlsrpt", NULL, v, sizeof(v)), 1, "%s", v);
	cr_expect_eq(dkv_verdict(sigs, 1, "example.org",
	    "mailto:x@example.org", NULL, v, sizeof(v)), 0, "%s", v);
	cr_expect_eq(dkv_verdict(sigs, 1, NULL, NULL, NULL, v, sizeof(v)), 0);
	cr_expect_str_eq(v, "pass d=mail.ru unaligned");
	/* a tiny buffer still says what it can, and never "aligned" */
	cr_expect_eq(dkv_verdict(sigs, 1, "mail.ru", NULL, NULL, v, 8), 0);
	cr_expect_str_eq(v, "pass");
}

/* What a header claimed is recorded, never believed, and can never
 * smuggle the word the worker reads trust from. */
Test(dkim_verdict, info_is_information)
{
	struct dkv_sig	sigs[1];
	char		v[DKV_VERDICT_MAX];

	memset(sigs, 0, sizeof(sigs));
	cr_expect_eq(dkv_verdict(sigs, 0, "google.com", NULL,
	    "a-r: dkim=pass header.d=google.com", v, sizeof(v)), 0);
	cr_expect_str_eq(v, "none (a-r: dkim=pass header.d=google.com)");
	mksigs("pass:evil.test", sigs, 1);
	cr_expect_eq(dkv_verdict(sigs, 1, "google.com", NULL,
	    "a-r: x aligned", v, sizeof(v)), 0);
	cr_expect_str_eq(v, "pass d=evil.test unaligned");
	cr_expect_eq(dkv_verdict(sigs, 1, "google.com", NULL,
	    "a-r: dkim=pass header.d=ALIGNED.test", v, sizeof(v)), 0);
	cr_expect_str_eq(v, "pass d=evil.test unaligned");
	/* no room: the info goes, the verdict stays */
	cr_expect_eq(dkv_verdict(sigs, 1, "evil.test", NULL, "a-r: dkim=pass",
	    v, 30), 1);
	cr_expect_str_eq(v, "pass d=evil.test aligned");
}

/* --- real signatures ------------------------------------------------------ */

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

static struct dkv *
verifier(void)
{
	struct dkv	*v;
	char		 err[256];

	v = dkv_new(keys, err, sizeof(err));
	cr_assert_not_null(v, "%s", err);
	return v;
}

/* Verify m for submitter reporter.test; res filled, trusted returned. */
static int
check(struct dkv *v, const char *m, struct dkv_result *res)
{
	return dkv_check(v, (const unsigned char *)m, strlen(m),
	    "reporter.test", "tlsrpt@reporter.test", NULL, res);
}

TestSuite(dkim_sig, .init = sig_setup, .fini = sig_teardown, .timeout = 60);

Test(dkim_sig, signed_report_is_trusted)
{
	struct dkv		*v = verifier();
	struct dkv_result	 res;
	char			*m, *s, *lf, *p, *o;
	int			 relaxed;

	m = dtk_report_mail("reporter.test", "reporter.test", "example.com",
	    "r1", NULL);
	for (relaxed = 0; relaxed < 2; relaxed++) {
		s = dtk_sign(m, strlen(m), "reporter.test", "s1", &key,
		    relaxed);
		cr_expect_eq(check(v, s, &res), 1, "%s", res.verdict);
		cr_expect_str_eq(res.verdict, "pass d=reporter.test aligned");
		cr_expect_eq(res.nsigs, 1);
		cr_expect_str_eq(res.sigs[0].result, "pass");
		cr_expect_str_eq(res.sigs[0].d, "reporter.test");
		cr_expect_str_eq(res.sigs[0].s, "s1");
		/* the same file with LF line ends (a Maildir, an .eml) */
		cr_assert_not_null(lf = strdup(s));
		for (o = lf, p = s; *p != '\0'; p++)
			if (!(p[0] == '\r' && p[1] == '\n'))
				*o++ = *p;
		*o = '\0';
		cr_expect_eq(check(v, lf, &res), 1, "LF %d: %s", relaxed, res.verdict);
		free(lf);
		free(s);
	}
	free(m);
	dkv_free(v);
}

Test(dkim_sig, changed_after_signing_is_not)
{
	struct dkv		*v = verifier();
	struct dkv_result	 res;
	char			*m, *s, *p;

	m = dtk_report_mail("reporter.test", "reporter.test", "example.com",
	    "r2", NULL);
	s = dtk_sign(m, strlen(m), "reporter.test", "s1", &key, 1);
	/* one byte of the body: the text part */
	cr_assert_not_null(p = strstr(s, "A report."));
	*p = 'B';
	cr_expect_eq(check(v, s, &res), 0);
	cr_expect_str_eq(res.verdict, "fail d=reporter.test (dkim=fail)");
	*p = 'A';
	cr_expect_eq(check(v, s, &res), 1, "%s", res.verdict);
	/* a signed header field */
	cr_assert_not_null(p = strstr(s, "TLS-Report-Domain: example.com"));
	p[19] = 'X';
	cr_expect_eq(check(v, s, &res), 0);
	cr_expect_str_eq(res.verdict, "fail d=reporter.test (dkim=fail)");
	free(s);
	free(m);
	dkv_free(v);
}

Test(dkim_sig, unaligned_signer_is_not)
{
	struct dkv		*v = verifier();
	struct dkv_result	 res;
	char			*m, *s;

	m = dtk_report_mail("reporter.test", "reporter.test", "example.com",
	    "r3", NULL);
	s = dtk_sign(m, strlen(m), "evil.test", "s1", &key, 1);
	cr_expect_eq(check(v, s, &res), 0);
	cr_expect_str_eq(res.verdict, "pass d=evil.test unaligned");
	free(s);
	free(m);
	dkv_free(v);
}

Test(dkim_sig, unknown_key_and_unsigned)
{
	struct dkv		*v = verifier();
	struct dkv_result	 res;
	char			*m, *s;

	m = dtk_report_mail("reporter.test", "reporter.test", "example.com",
	    "r4", "Authentication-Results: mx.tlsrpt.test; dkim=pass "
	    "header.d=reporter.test\r\n");
	cr_expect_eq(check(v, m, &res), 0);
	cr_expect_str_eq(res.verdict, "none");
	cr_expect_eq(res.nsigs, 0);
	s = dtk_sign(m, strlen(m), "reporter.test", "nokey", &key, 1);
	cr_expect_eq(check(v, s, &res), 0);
	cr_expect_str_eq(res.verdict, "fail d=reporter.test (dkim=permerror)");
	free(s);
	free(m);
	dkv_free(v);
}

/*
 * LIM_DKIM_SIGS_MAX signatures are verified: the aligned one at that
 * place counts; one place further it is not looked at.
 */
Test(dkim_sig, signature_limit)
{
	struct dkv		*v = verifier();
	struct dkv_result	 res;
	char			*m, *s, *t;
	int			 i, extra;

	for (extra = LIM_DKIM_SIGS_MAX - 1; extra <= LIM_DKIM_SIGS_MAX;
	    extra++) {
		m = dtk_report_mail("reporter.test", "reporter.test",
		    "example.com", "r5", NULL);
		/* the aligned one first: it ends up last, below the others */
		s = dtk_sign(m, strlen(m), "reporter.test", "s1", &key, 1);
		for (i = 0; i < extra; i++) {
			t = dtk_sign(s, strlen(s), "evil.test", "s1", &key, 1);
			free(s);
			s = t;
		}
		if (extra + 1 <= LIM_DKIM_SIGS_MAX) {
			cr_expect_eq(check(v, s, &res), 1, "%d: %s", extra + 1,
			    res.verdict);
			cr_expect_eq(res.nsigs, (size_t)extra + 1);
			cr_expect_eq(res.nignored, 0);
		} else {
			cr_expect_eq(check(v, s, &res), 0, "%d: %s", extra + 1,
			    res.verdict);
			cr_expect_eq(res.nsigs, LIM_DKIM_SIGS_MAX);
			cr_expect_eq(res.nignored, 1);
			cr_expect_str_eq(res.verdict, "pass d=evil.test,"
			    "evil.test,evil.test,evil.test,evil.test,evil.test,"
			    "evil.test,evil.test unaligned");
		}
		free(s);
		free(m);
	}
	dkv_free(v);
}

/* The key source failing at lookup time (DNS down): temperror. */
Test(dkim_sig, key_lookup_failure_is_temporary)
{
	struct dkv		*v = verifier();
	struct dkv_result	 res;
	char			*m, *s;

	m = dtk_report_mail("reporter.test", "reporter.test", "example.com",
	    "r6", NULL);
	s = dtk_sign(m, strlen(m), "reporter.test", "s1", &key, 1);
	cr_expect_eq(check(v, s, &res), 1, "%s", res.verdict);
	cr_assert_eq(unlink(keys), 0);
	cr_expect_eq(check(v, s, &res), 0);
	cr_expect_str_eq(res.verdict, "fail d=reporter.test (dkim=temperror)");
	free(s);
	free(m);
	dkv_free(v);
}

Test(dkim_sig, key_file_must_exist)
{
	char	err[256];

	cr_expect_null(dkv_new(dtu_S("%s/nonexistent", tdir), err,
	    sizeof(err)));
	cr_expect(strstr(err, "--dkim-keys") != NULL && strstr(err,
	    "No such file") != NULL, "%s", err);
	cr_expect_null(dkv_new(tdir, err, sizeof(err)));
	cr_expect(strstr(err, "not a regular file") != NULL, "%s", err);
}
