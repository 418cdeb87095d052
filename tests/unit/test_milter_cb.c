/*
 * test_milter_cb.c -- tlsrpt-milter without an MTA or a database: the
 * DKIM verdict (signatures verified by the milter itself;
 * Authentication-Results only recorded), the callbacks driven through
 * the shim (tests/lib/milter_testutil.c), the options.  The worker's
 * side, Postfix and miltertest: tests/integration/test_milter.c.
 *
 * Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
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

#include "dkim_testutil.h"
#include "dkim_verify.h"
#include "ingest.h"
#include "milter_conf.h"
#include "milter_msg.h"
#include "milter_shim.h"
#include "core_spool.h"
#include "json_testutil.h"
#include "milter_testutil.h"
#include "sh_testutil.h"
#include "testutil.h"
#include "tlsrpt_limits.h"

#define RUA	"tlsrpt@tlsrpt.test"

/* --- Authentication-Results: recorded, never trusted ------------------- */

struct ar_case {
	const char	*label;
	const char	*value;
	int		 ours;
	const char	*want;		/* verdict of an unsigned message */
};

#define AR_PASS	"none (a-r: dkim=pass header.d=google.com)"

static const struct ar_case ar_cases[] = {
	{ "pass aligned", "mx.tlsrpt.test; dkim=pass header.d=google.com "
	    "header.s=20230601 header.b=abc", 1, AR_PASS },
	{ "comments, version, case", "  MX.TLSRPT.TEST 1 (our mx); "
	    "DKIM=Pass (2048-bit key) Header.D=Google.COM; spf=pass "
	    "smtp.mailfrom=google.com", 1, AR_PASS },
	{ "header.i only", "mx.tlsrpt.test; dkim=pass "
	    "header.i=@google.com", 1, AR_PASS },
	{ "other domain", "mx.tlsrpt.test; dkim=pass header.d=evil.test",
	    1, "none (a-r: dkim=pass header.d=evil.test)" },
	{ "fail", "mx.tlsrpt.test; dkim=fail (bad signature) "
	    "header.d=google.com", 1,
	    "none (a-r: dkim=fail header.d=google.com)" },
	{ "one of two passes", "mx.tlsrpt.test; dkim=fail header.d=x.test;"
	    " dkim=pass header.d=google.com", 1, "none (a-r: dkim=fail "
	    "header.d=x.test, dkim=pass header.d=google.com)" },
	{ "none", "mx.tlsrpt.test; none", 1, "none" },
	{ "quoted d", "mx.tlsrpt.test; dkim=pass header.d=\"google.com\"", 1,
	    AR_PASS },
	{ "the word", "mx.tlsrpt.test; dkim=pass header.d=aligned", 1,
	    "none" },
	{ "someone else's", "mx.google.com; dkim=pass header.d=google.com",
	    0, "none" },
	{ "prefix of ours", "mx.tlsrpt.test.evil; dkim=pass "
	    "header.d=google.com", 0, "none" },
	{ "empty", "", 0, "none" },
};

/* Whatever our MTA's header says of an unsigned message: not trusted. */
Test(milter_dkim, ar_is_information_only)
{
	const struct ar_case	*c;
	struct milt_dkim	 res[MILT_DKIM_MAX];
	struct dkv		*v;
	char			 verdict[MILT_VERDICT_MAX], err[256];
	const char		 m[] = "From: tlsrpt@google.com\r\n"
	    "TLS-Report-Submitter: google.com\r\n\r\nbody\r\n";
	size_t			 n;
	int			 ours, t;

	cr_assert_not_null(v = dkv_new(NULL, err, sizeof(err)), "%s", err);
	for (c = ar_cases; c < ar_cases + sizeof(ar_cases) /
	    sizeof(ar_cases[0]); c++) {
		n = 0;
		ours = milt_ar_parse(c->value, "mx.tlsrpt.test", res,
		    MILT_DKIM_MAX, &n);
		cr_expect_eq(ours, c->ours, "%s: ours %d", c->label, ours);
		t = milt_dkim_check(v, (const unsigned char *)m, strlen(m),
		    res, n, "google.com", "smtp-tls-reporting@google.com",
		    verdict, sizeof(verdict));
		cr_expect_str_eq(verdict, c->want, "%s: got \"%s\"", c->label,
		    verdict);
		cr_expect_eq(t, 0, "%s: trusted", c->label);
	}
	dkv_free(v);
}

TestSuite(milter_cb, .init = cb_setup, .fini = cb_teardown, .timeout = 30);

Test(milter_cb, unlisted_is_never_buffered)
{
	struct fake	 f;
	const char	*stage;
	const char	 msg[] = "Subject: hi\r\n\r\nhello\r\n";

	memset(&f, 0, sizeof(f));
	front("");
	cr_expect_eq(feed(&f, "<user@tlsrpt.test>,<other@tlsrpt.test>", msg,
	    strlen(msg), &stage), SMFIS_ACCEPT);
	cr_expect_str_eq(stage, "data");
	cr_expect_eq(f.nadded, 0);
	/* an MTA that does not send DATA: the first header */
	cr_expect_eq(milt_header((SMFICTX *)(void *)&f, (char *)"Subject",
	    (char *)"x"), SMFIS_ACCEPT);
	cr_expect_eq(milt_body((SMFICTX *)(void *)&f, (unsigned char *)"x",
	    1), SMFIS_ACCEPT);
	close_conn(&f);
	cr_expect_eq(count_files(dtu_S("%s/spool/new", tdir)), 0);
	cr_expect_eq(atomic_load(&cfr.st.seen), 0);
}

Test(milter_cb, corpus_report_spooled_then_duplicate)
{
	struct fake	 f;
	const char	*stage;
	unsigned char	*m;
	char		*sp;
	size_t		 len;

	memset(&f, 0, sizeof(f));
	front("");
	m = tu_load("google_mox_1.eml", &len);
	cr_expect_eq(feed(&f, "<user@tlsrpt.test>,<Tlsrpt@TLSRPT.test>",
	    (char *)m, len, &stage), SMFIS_CONTINUE);
	cr_expect_str_eq(stage, "eom");
	cr_expect_eq(f.nadded, 1);
	cr_expect_str_eq(f.added[0], "X-TLSRPT-Collector: spooled");
	cr_expect_eq(count_files(dtu_S("%s/spool/new", tdir)), 1);
	sp = spool_text("new");
	cr_expect(strstr(sp, "source: mail\n") != NULL, "%s", sp);
	/* signed by google.com, whose key is not in the key file */
	cr_expect(strstr(sp, "x-dkim: fail d=google.com (dkim=permerror)\n")
	    != NULL, "%s", sp);
	cr_expect(strstr(sp, "x-queue-id: QID1\n") != NULL, "%s", sp);
	cr_expect(strstr(sp, "x-tls-report-submitter: google.com") != NULL,
	    "%s", sp);
	free(sp);
	/* the same bytes again on the same connection */
	f.nadded = 0;
	cr_expect_eq(feed(&f, "<tlsrpt@tlsrpt.test>", (char *)m, len,
	    &stage), SMFIS_CONTINUE);
	cr_expect_str_eq(f.added[0], "X-TLSRPT-Collector: duplicate");
	cr_expect_eq(count_files(dtu_S("%s/spool/new", tdir)), 1);
	close_conn(&f);
	cr_expect_eq(atomic_load(&cfr.st.spooled), 1);
	cr_expect_eq(atomic_load(&cfr.st.duplicates), 1);
	free(m);
}

Test(milter_cb, no_report_is_accepted_and_counted)
{
	struct fake	 f;
	const char	*stage;
	unsigned char	*m;
	size_t		 len;

	memset(&f, 0, sizeof(f));
	front("--action discard");
	m = tu_load("empty_tlsrpt-rs.eml", &len);
	cr_expect_eq(feed(&f, "<tlsrpt@tlsrpt.test>", (char *)m, len, &stage),
	    SMFIS_CONTINUE, "never discarded");
	cr_expect_eq(f.nadded, 1);
	cr_expect(strncmp(f.added[0], "X-TLSRPT-Collector: rejected "
	    "no-report: ", 39) == 0, "%s", f.added[0]);
	cr_expect_eq(count_files(dtu_S("%s/spool/new", tdir)), 0);
	cr_expect_eq(atomic_load(&cfr.st.no_report), 1);
	close_conn(&f);
	free(m);
}

/* VmData of this process, bytes: what RLIMIT_DATA counts. */
static size_t
vm_data(void)
{
	FILE		*fp;
	char		 line[256];
	unsigned long	 kb = 0;

	if ((fp = fopen("/proc/self/status", "r")) == NULL)
		return 0;
	while (fgets(line, sizeof(line), fp) != NULL)
		if (sscanf(line, "VmData: %lu kB", &kb) == 1)
			break;
	fclose(fp);
	return (size_t)kb * 1024;
}

/*
 * Out of memory at end of message is ours: 451 (the MTA keeps the mail
 * and retries), never "no report".  A child under a data limit a few MiB
 * above what it holds gets a mail whose attachment unzips to 16 MiB.
 */
Test(milter_cb, out_of_memory_tempfails, .timeout = 60)
{
	struct fake	 f;
	struct rlimit	 rl;
	const char	*stage;
	unsigned char	*json, *gz;
	char		*m;
	size_t		 i, n = 16u << 20, gzlen;
	uint32_t	 x = 2463534242u;
	sfsistat	 s;
	pid_t		 pid;
	int		 st;

#if defined(__SANITIZE_ADDRESS__)
	cr_skip_test("a data-limit test: runs in the plain pass only");
#endif
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
	m = gz_mail("big.test", "big-1", NULL, gz, gzlen);
	free(gz);
	memset(&f, 0, sizeof(f));
	front("");
	fflush(NULL);
	if ((pid = fork()) == 0) {
		rl.rlim_cur = vm_data() + strlen(m) * 4 + (4u << 20);
		rl.rlim_max = RLIM_INFINITY;
		if (setrlimit(RLIMIT_DATA, &rl) == -1)
			_exit(2);
		s = feed(&f, RUA, m, strlen(m), &stage);
		if (s != SMFIS_TEMPFAIL)
			fprintf(stderr, "answer %d at %s: %s\n", (int)s, stage,
			    f.nadded > 0 ? f.added[0] : "-");
		_exit(s == SMFIS_TEMPFAIL && strcmp(stage, "eom") == 0 &&
		    strncmp(f.reply, "451 4.3.0 ", 10) == 0 ? 0 : 3);
	}
	cr_assert_gt(pid, 0);
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	cr_expect(WIFEXITED(st) && WEXITSTATUS(st) == 0, "status %d",
	    WIFEXITED(st) ? WEXITSTATUS(st) : -1000 - WTERMSIG(st));
	cr_expect_eq(count_files(dtu_S("%s/spool/new", tdir)), 0);
	/* with the memory: a verdict of its own (the JSON is no report) */
	cr_expect_eq(feed(&f, RUA, m, strlen(m), &stage), SMFIS_CONTINUE);
	cr_expect(strncmp(f.added[0], "X-TLSRPT-Collector: rejected ", 29) ==
	    0, "%s", f.added[0]);
	close_conn(&f);
	free(m);
}

/* connect, MAIL, RCPT to the rua address: RCPT's answer. */
static sfsistat
open_msg(struct fake *f)
{
	struct sockaddr_in	 sin;
	char			 from[] = "<reporter@sender.test>";
	char			 rcpt[] = RUA;
	char			*argv[2];

	memset(f, 0, sizeof(*f));
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(0x7f000001);
	cr_assert_eq(milt_connect((SMFICTX *)(void *)f, (char *)"[127.0.0.1]",
	    (struct sockaddr *)&sin), SMFIS_CONTINUE);
	argv[0] = from;
	argv[1] = NULL;
	cr_assert_eq(milt_envfrom((SMFICTX *)(void *)f, argv), SMFIS_CONTINUE);
	argv[0] = rcpt;
	return milt_envrcpt((SMFICTX *)(void *)f, argv);
}

/*
 * --max-inflight N: N messages for the rua address at once pass, the one
 * over gets 451 at RCPT; a slot comes back at end of message, abort and
 * close.
 */
Test(milter_cb, inflight_bounded)
{
	struct fake	 f[4];
	const char	*stage;
	unsigned char	*m;
	size_t		 len;

	front("--max-inflight 2");
	cr_expect_eq(open_msg(&f[0]), SMFIS_CONTINUE);
	cr_expect_eq(open_msg(&f[1]), SMFIS_CONTINUE, "at the limit");
	cr_expect_eq(open_msg(&f[2]), SMFIS_TEMPFAIL, "one over");
	cr_expect(strncmp(f[2].reply, "451 4.3.2 ", 10) == 0, "%s",
	    f[2].reply);
	cr_expect_eq(atomic_load(&cfr.st.busy), 1);
	cr_expect_eq(atomic_load(&cfr.inflight), 2);
	/* the deferred one holds nothing; its connection goes on */
	close_conn(&f[2]);
	cr_expect_eq(atomic_load(&cfr.inflight), 2);
	/* abort gives a slot back */
	cr_expect_eq(milt_abort((SMFICTX *)(void *)&f[0]), SMFIS_CONTINUE);
	cr_expect_eq(atomic_load(&cfr.inflight), 1);
	cr_expect_eq(open_msg(&f[2]), SMFIS_CONTINUE);
	cr_expect_eq(open_msg(&f[3]), SMFIS_TEMPFAIL);
	close_conn(&f[3]);
	/* so does close, and end of message (a whole one, stored) */
	close_conn(&f[1]);
	close_conn(&f[2]);
	close_conn(&f[0]);
	cr_expect_eq(atomic_load(&cfr.inflight), 0);
	m = tu_load("google_mox_1.eml", &len);
	memset(&f[0], 0, sizeof(f[0]));
	cr_expect_eq(feed(&f[0], RUA, (char *)m, len, &stage),
	    SMFIS_CONTINUE);
	cr_expect_str_eq(f[0].added[0], "X-TLSRPT-Collector: spooled");
	cr_expect_eq(atomic_load(&cfr.inflight), 0);
	memset(&f[1], 0, sizeof(f[1]));
	cr_expect_eq(feed(&f[1], RUA, (char *)m, len, &stage),
	    SMFIS_CONTINUE);
	cr_expect_eq(atomic_load(&cfr.inflight), 0);
	close_conn(&f[0]);
	close_conn(&f[1]);
	free(m);
}

Test(milter_cb, too_big_is_untouched)
{
	struct fake	 f;
	const char	*stage;
	unsigned char	*m;
	char		*argv[3], from[] = "<a@b.test>", size[] = "SIZE=999999";
	size_t		 len;

	memset(&f, 0, sizeof(f));
	front("--max-size 2k");
	m = tu_load("google_mox_1.eml", &len);
	cr_assert_gt(len, 2048);
	cr_expect_eq(feed(&f, RUA, (char *)m, len, &stage), SMFIS_CONTINUE);
	cr_expect_str_eq(stage, "eom");
	cr_expect_eq(f.nadded, 0, "untouched");
	cr_expect_eq(count_files(dtu_S("%s/spool/new", tdir)), 0);
	cr_expect_eq(atomic_load(&cfr.st.too_big), 1);
	/* a declared SIZE over the limit: not a byte is copied */
	argv[0] = from;
	argv[1] = size;
	argv[2] = NULL;
	cr_expect_eq(milt_envfrom((SMFICTX *)(void *)&f, argv),
	    SMFIS_CONTINUE);
	argv[0] = (char *)RUA;
	argv[1] = NULL;
	cr_expect_eq(milt_envrcpt((SMFICTX *)(void *)&f, argv),
	    SMFIS_CONTINUE);
	cr_expect_eq(milt_data((SMFICTX *)(void *)&f), SMFIS_CONTINUE);
	cr_expect_eq(milt_eom((SMFICTX *)(void *)&f), SMFIS_CONTINUE);
	cr_expect_eq(atomic_load(&cfr.st.too_big), 2);
	close_conn(&f);
	free(m);
}

Test(milter_cb, require_dkim)
{
	struct fake	 f;
	const char	*stage;
	char		*m, *m2, *sp;

	memset(&f, 0, sizeof(f));
	dkim_publish("google.com", NULL);
	front("--require-dkim");
	/* unsigned, with a verdict of someone else's and of our own MTA */
	m = dtk_report_mail("Google Inc.", "google.com", "example.com", "q1",
	    "Authentication-Results: mx.tlsrpt.test;\r\n\tdkim=pass "
	    "header.d=google.com\r\nAuthentication-Results: mx.evil.test; "
	    "dkim=pass header.d=google.com\r\n");
	cr_expect_eq(feed(&f, RUA, m, strlen(m), &stage), SMFIS_CONTINUE);
	cr_expect(strncmp(f.added[0], "X-TLSRPT-Collector: rejected dkim: ",
	    35) == 0, "%s", f.added[0]);
	sp = spool_text("new");
	cr_expect(strstr(sp, "x-reject: dkim: no passing DKIM signature of "
	    "the reporting domain (none (a-r: dkim=pass header.d=google.com))"
	    "\n") != NULL, "%s", sp);
	free(sp);
	free(m);
	/* signed by Google (our test key for google.com) */
	f.nadded = 0;
	m = dtk_report_mail("Google Inc.", "google.com", "example.com", "q2",
	    NULL);
	m2 = dtk_sign(m, strlen(m), "google.com", "s1", &dkey, 0);
	cr_expect_eq(feed(&f, RUA, m2, strlen(m2), &stage), SMFIS_CONTINUE);
	cr_expect_str_eq(f.added[0], "X-TLSRPT-Collector: spooled");
	cr_expect_eq(count_files(dtu_S("%s/spool/new", tdir)), 2);
	sp = spool_text("new");
	cr_expect(strstr(sp, "x-dkim: pass d=google.com aligned\n") != NULL,
	    "%s", sp);
	free(sp);
	cr_expect_eq(atomic_load(&cfr.st.trusted), 1);
	cr_expect_eq(atomic_load(&cfr.st.rejected), 1);
	close_conn(&f);
	free(m2);
	free(m);
}

/*
 * Issue 8: "Authentication-Results: <our MTA>; dkim=pass
 * header.d=google.com" on an unsigned "Google" report made it trusted
 * (the test in this place expected "x-dkim: pass d=google.com aligned").
 * Now only a signature verified here counts.
 */
Test(milter_cb, forged_verdict_of_our_mta_is_not_trust)
{
	struct fake	 f;
	const char	*stage;
	char		*m, *sp;

	memset(&f, 0, sizeof(f));
	front("");		/* no --authserv-id: {j} is mx.tlsrpt.test */
	m = dtk_report_mail("Google Inc.", "google.com", "example.com", "q3",
	    "Authentication-Results: mx.tlsrpt.test; dkim=pass "
	    "header.d=google.com\r\n");
	cr_expect_eq(feed(&f, RUA, m, strlen(m), &stage), SMFIS_CONTINUE);
	cr_expect_str_eq(f.added[0], "X-TLSRPT-Collector: spooled");
	sp = spool_text("new");
	cr_expect(strstr(sp, "x-dkim: none (a-r: dkim=pass "
	    "header.d=google.com)\n") != NULL, "%s", sp);
	free(sp);
	cr_expect_eq(atomic_load(&cfr.st.trusted), 0);
	close_conn(&f);
	free(m);
}

/* Signed, then changed; signed by another domain: spooled, untrusted. */
Test(milter_cb, verified_as_received)
{
	struct fake	 f;
	const char	*stage;
	char		*m, *s, *sp;

	memset(&f, 0, sizeof(f));
	dkim_publish("reporter.test", "evil.test", NULL);
	front("");
	m = dtk_report_mail("reporter.test", "reporter.test", "a.example",
	    "v1", NULL);
	s = dtk_sign(m, strlen(m), "reporter.test", "s1", &dkey, 0);
	*strstr(s, "A report.") = 'B';
	cr_expect_eq(feed(&f, RUA, s, strlen(s), &stage), SMFIS_CONTINUE);
	free(s);
	free(m);
	m = dtk_report_mail("reporter.test", "reporter.test", "b.example",
	    "v2", NULL);
	s = dtk_sign(m, strlen(m), "evil.test", "s1", &dkey, 1);
	cr_expect_eq(feed(&f, RUA, s, strlen(s), &stage), SMFIS_CONTINUE);
	free(s);
	free(m);
	m = dtk_report_mail("reporter.test", "reporter.test", "c.example",
	    "v3", NULL);
	s = dtk_sign(m, strlen(m), "reporter.test", "s1", &dkey, 1);
	cr_expect_eq(feed(&f, RUA, s, strlen(s), &stage), SMFIS_CONTINUE);
	free(s);
	free(m);
	cr_expect_eq(count_files(dtu_S("%s/spool/new", tdir)), 3);
	sp = spool_text("new");
	cr_expect(strstr(sp, "x-dkim: fail d=reporter.test (dkim=fail)\n") !=
	    NULL, "%s", sp);
	cr_expect(strstr(sp, "x-dkim: pass d=evil.test unaligned\n") != NULL,
	    "%s", sp);
	cr_expect(strstr(sp, "x-dkim: pass d=reporter.test aligned\n") !=
	    NULL, "%s", sp);
	free(sp);
	cr_expect_eq(atomic_load(&cfr.st.trusted), 1);
	close_conn(&f);
}

/*
 * "simple" header canonicalization hashes the white space after the
 * colon: only with SMFIP_HDR_LEADSPC does the milter's copy keep it.
 */
Test(milter_cb, header_white_space_as_received)
{
	struct fake	 f;
	const char	*stage;
	char		*m, *s, *sp;
	int		 i;

	dkim_publish("reporter.test", NULL);
	front("");
	for (i = 0; i < 2; i++) {
		memset(&f, 0, sizeof(f));
		f.leadspc = i == 0;
		m = dtk_report_mail("reporter.test", "reporter.test",
		    i == 0 ? "a.example" : "b.example", "w1", "X-Odd:two  "
		    "spaces\r\nX-Tab:\t tab\r\n");
		s = dtk_sign(m, strlen(m), "reporter.test", "s1", &dkey, 0);
		cr_expect_eq(feed(&f, RUA, s, strlen(s), &stage),
		    SMFIS_CONTINUE);
		close_conn(&f);
		free(s);
		free(m);
		if (i == 0)
			cr_expect_str_eq(f.added[0], "X-TLSRPT-Collector:  "
			    "spooled", "the value has its own space");
	}
	sp = spool_text("new");
	cr_expect(strstr(sp, "x-dkim: pass d=reporter.test aligned\n") !=
	    NULL, "%s", sp);
	cr_expect(strstr(sp, "\r\nX-Odd:two  spaces\r\nX-Tab:\t tab\r\n")
	    != NULL, "the bytes as sent: %s", sp);
	/* an MTA without it: "Name: value" rebuilt, the signature breaks */
	cr_expect(strstr(sp, "x-dkim: fail d=reporter.test (dkim=fail)\n") !=
	    NULL, "%s", sp);
	free(sp);
}

Test(milter_cb, domain_allow_list)
{
	struct fake	 f;
	const char	*stage;
	unsigned char	*m;
	size_t		 len;

	memset(&f, 0, sizeof(f));
	front("--domain example.com --domain Test.Xmox.NL.");
	m = tu_load("google_mox_1.eml", &len);	/* test.xmox.nl */
	cr_expect_eq(feed(&f, RUA, (char *)m, len, &stage), SMFIS_CONTINUE);
	cr_expect_str_eq(f.added[0], "X-TLSRPT-Collector: spooled");
	free(m);
	f.nadded = 0;
	m = tu_load("mailru_tlsrpt-rs_1.eml", &len);
	cr_expect_eq(feed(&f, RUA, (char *)m, len, &stage), SMFIS_CONTINUE);
	cr_expect(strncmp(f.added[0], "X-TLSRPT-Collector: rejected domain: "
	    "report is about ", 53) == 0, "%s", f.added[0]);
	close_conn(&f);
	free(m);
}

Test(milter_cb, spool_failure_is_a_tempfail)
{
	struct fake	 f;
	const char	*stage;
	unsigned char	*m;
	size_t		 len;

	memset(&f, 0, sizeof(f));
	front("--action discard");
	/* as root chmod stops nothing: take tmp/ away */
	dtu_sh("rm -rf %s/spool/tmp && touch %s/spool/tmp", tdir, tdir);
	m = tu_load("google_mox_1.eml", &len);
	cr_expect_eq(feed(&f, RUA, (char *)m, len, &stage), SMFIS_TEMPFAIL);
	cr_expect_str_eq(stage, "eom");
	cr_expect(strncmp(f.reply, "451 4.3.0 ", 10) == 0, "%s", f.reply);
	cr_expect_eq(f.nadded, 0);
	cr_expect_eq(atomic_load(&cfr.st.tempfail), 1);
	close_conn(&f);
	free(m);
}

Test(milter_cb, discard)
{
	struct fake	 f;
	const char	*stage;
	unsigned char	*m;
	size_t		 len;

	memset(&f, 0, sizeof(f));
	front("--action discard");
	m = tu_load("google_mox_1.eml", &len);
	cr_expect_eq(feed(&f, RUA, (char *)m, len, &stage), SMFIS_DISCARD);
	cr_expect_eq(f.nadded, 0);
	free(m);
	/* with another recipient: only ours is dropped */
	m = tu_load("mailru_tlsrpt-rs_1.eml", &len);
	cr_expect_eq(feed(&f, "<user@tlsrpt.test>,<tlsrpt@tlsrpt.test>",
	    (char *)m, len, &stage), SMFIS_CONTINUE);
	cr_expect_eq(f.ndelrcpt, 1);
	cr_expect_str_eq(f.delrcpt[0], "<tlsrpt@tlsrpt.test>");
	cr_expect_str_eq(f.added[0], "X-TLSRPT-Collector: spooled");
	close_conn(&f);
	free(m);
}

Test(milter_cb, lifecycle)
{
	struct fake	 f, g;
	const char	*stage;
	unsigned char	*m;
	char		*m2;
	size_t		 len;

	memset(&f, 0, sizeof(f));
	memset(&g, 0, sizeof(g));
	front("");
	/* close may be the only callback */
	cr_expect_eq(milt_close((SMFICTX *)(void *)&f), SMFIS_CONTINUE);
	/* abort in the middle; the next message starts clean */
	m = tu_load("google_mox_1.eml", &len);
	f.nosym = 1;
	cr_expect_eq(feed(&f, RUA, "Subject: x\r\n\r\n", 14, &stage),
	    SMFIS_CONTINUE);
	cr_expect_eq(milt_abort((SMFICTX *)(void *)&f), SMFIS_CONTINUE);
	/* forged X-TLSRPT-Collector headers go */
	cr_assert_geq(asprintf(&m2, "X-TLSRPT-Collector: spooled\r\n"
	    "x-tlsrpt-collector: duplicate\r\n%s", m), 0);
	f.nadded = 0;
	cr_expect_eq(feed(&f, RUA, m2, strlen(m2), &stage), SMFIS_CONTINUE);
	cr_expect_eq(f.deleted, 2);
	cr_expect_eq(f.nadded, 1);
	close_conn(&f);
	/* a connection that ends without eom or abort frees its message */
	{
		char	*argv[] = { (char *)RUA, NULL };

		cr_expect_eq(milt_envfrom((SMFICTX *)(void *)&g, argv),
		    SMFIS_CONTINUE);
		cr_expect_eq(milt_envrcpt((SMFICTX *)(void *)&g, argv),
		    SMFIS_CONTINUE);
		cr_expect_eq(milt_header((SMFICTX *)(void *)&g,
		    (char *)"Subject", (char *)"x"), SMFIS_CONTINUE);
		cr_expect_eq(milt_eoh((SMFICTX *)(void *)&g), SMFIS_CONTINUE);
		cr_expect_eq(milt_body((SMFICTX *)(void *)&g,
		    (unsigned char *)m, 100), SMFIS_CONTINUE);
	}
	close_conn(&g);
	cr_expect_eq(atomic_load(&cfr.conns), 0);
	/* SIGHUP: a new conf for new connections; the old one is freed
	 * with its last connection */
	memset(&g, 0, sizeof(g));
	cr_expect_eq(milt_connect((SMFICTX *)(void *)&g, NULL, NULL),
	    SMFIS_CONTINUE);
	{
		char	*argv[] = { (char *)"x", (char *)"--rcpt",
		    (char *)"new@tlsrpt.test", NULL };
		char	 err[128];

		milt_front_swap(&cfr, mconf_load(3, argv, err, sizeof(err)));
	}
	close_conn(&g);
	memset(&g, 0, sizeof(g));
	cr_expect_eq(feed(&g, RUA, m2, strlen(m2), &stage), SMFIS_ACCEPT,
	    "tlsrpt@ is no longer listed");
	close_conn(&g);
	free(m2);
	free(m);
}

Test(milter_conf, options)
{
	struct milt_conf	*c;
	char			 err[256], path[300];
	char	*a1[] = { (char *)"x", (char *)"--rcpt",
	    (char *)"<Mailto:TLSRPT@Example.COM>", (char *)"--action=discard",
	    NULL };
	char	*a2[] = { (char *)"x", NULL };
	char	*a3[] = { (char *)"x", (char *)"--rcpt", (char *)"a@b",
	    (char *)"--action", (char *)"bounce", NULL };
	char	*a4[] = { (char *)"x", (char *)"--config", path, (char *)"--rcpt",
	    (char *)"argv@b.test", NULL };
	char	*a5[] = { (char *)"x", (char *)"--rcpt", (char *)"nobody",
	    NULL };

	c = mconf_load(4, a1, err, sizeof(err));
	cr_assert_not_null(c, "%s", err);
	cr_expect_str_eq(c->rcpt.v[0], "tlsrpt@example.com");
	cr_expect_eq(c->discard, 1);
	cr_expect_str_eq(c->socket, "inet:8895@127.0.0.1");
	cr_expect_eq(c->max_size, (size_t)26214400);
	mconf_free(c);
	cr_expect_null(mconf_load(1, a2, err, sizeof(err)));
	cr_expect(strstr(err, "--rcpt") != NULL, "%s", err);
	cr_expect_null(mconf_load(5, a3, err, sizeof(err)));
	cr_expect_null(mconf_load(3, a5, err, sizeof(err)));

	mk_tdir();
	snprintf(path, sizeof(path), "%s/milter.conf", tdir);
	dtu_sh("printf '# c\\nsocket unix:%s/s.sock\\nrcpt file@b.test\\n"
	    "require-dkim\\nmax-size 1m\\ndomain Example.COM\\n' > %s", tdir,
	    path);
	c = mconf_load(5, a4, err, sizeof(err));
	cr_assert_not_null(c, "%s", err);
	cr_expect_eq(c->rcpt.n, 1, "argv replaces the file's list");
	cr_expect_str_eq(c->rcpt.v[0], "argv@b.test");
	cr_expect_eq(c->require_dkim, 1);
	cr_expect_eq(c->max_size, (size_t)1048576);
	cr_expect_str_eq(c->domain.v[0], "example.com");
	mconf_free(c);
	dtu_sh("echo 'bogus 1' >> %s", path);
	cr_expect_null(mconf_load(5, a4, err, sizeof(err)));
	cr_expect(strstr(err, "unknown key") != NULL, "%s", err);
	rm_tdir();
}

