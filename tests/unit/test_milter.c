/*
 * test_milter.c -- tlsrpt-milter: the DKIM verdict (signatures verified
 * by the milter itself; Authentication-Results only recorded), the
 * callbacks driven
 * through the shim (no MTA), the worker's side of what the milter
 * spools, `summary --trusted-only`, and end to end through a private
 * Postfix on loopback with the real milter, a real SMTP client
 * (tests/milter/smtp_send.py) and a real PostgreSQL (a fresh database
 * per test on the server of tests/with-pg.sh).
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
#include "core_spool.h"
#include "store.h"
#include "store_testutil.h"
#include "testutil.h"
#include "tlsrpt_limits.h"
#include "core_worker.h"

#define PF	"tests/milter/postfix.sh"
#define SEND	"tests/milter/smtp_send.py"
#define RUA	"tlsrpt@tlsrpt.test"

/* --- helpers shared by the suites ------------------------------------- */

static char		 tdir[256];
static struct stu_db	 tdb;
static int		 have_db;

/* Regular files in dir (0 when it does not exist). */
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

/* The concatenated contents of the files of dir (malloc'd). */
static char *
cat_dir(const char *dir)
{
	return dtu_run("cat %s/* 2>/dev/null", dir);
}

static void
mk_tdir(void)
{
	snprintf(tdir, sizeof(tdir), "%s/tlsrpt-milter.XXXXXX",
	    getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	cr_assert_not_null(mkdtemp(tdir));
	/* Postfix's children (user postfix, nobody) work below it */
	cr_assert_eq(chmod(tdir, 0755), 0);
}

static int	 spool_mounted;		/* a tmpfs on tdir/spool */

static void
rm_tdir(void)
{
	if (spool_mounted)
		(void)!system(dtu_S("umount %s/spool", tdir));
	spool_mounted = 0;
	if (tdir[0] != '\0') {
		(void)!system(dtu_S("chattr -R -i %s >/dev/null 2>&1; "
		    "rm -rf %s", tdir, tdir));
		tdir[0] = '\0';
	}
}

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

static const char base64_chars[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* An RFC 8460 §5.3 message with gz (gzipped JSON) attached. */
static char *
gz_mail(const char *domain, const char *id, const char *extra_hdr,
    const unsigned char *gz, size_t gzlen)
{
	struct tu_str	 m = { 0 };
	size_t		 i, col = 0;
	unsigned	 v;

	tu_str_add(&m, "%sFrom: tlsrpt@reporter.test\r\n"
	    "To: " RUA "\r\nSubject: Report Domain: %s Submitter: "
	    "reporter.test Report-ID: <%s@reporter.test>\r\n"
	    "TLS-Report-Domain: %s\r\nTLS-Report-Submitter: reporter.test\r\n"
	    "MIME-Version: 1.0\r\nContent-Type: multipart/report; "
	    "report-type=tlsrpt; boundary=\"b1\"\r\n\r\n--b1\r\n"
	    "Content-Type: text/plain\r\n\r\nA report.\r\n--b1\r\n"
	    "Content-Type: application/tlsrpt+gzip\r\n"
	    "Content-Transfer-Encoding: base64\r\n"
	    "Content-Disposition: attachment; filename=\"reporter.test!%s!"
	    "1767225600!1767311999!%s.json.gz\"\r\n\r\n",
	    extra_hdr != NULL ? extra_hdr : "", domain, id, domain, domain,
	    id);
	for (i = 0; i < gzlen; i += 3) {
		v = (unsigned)gz[i] << 16;
		if (i + 1 < gzlen)
			v |= (unsigned)gz[i + 1] << 8;
		if (i + 2 < gzlen)
			v |= gz[i + 2];
		tu_str_add(&m, "%c%c%c%c", base64_chars[(v >> 18) & 63],
		    base64_chars[(v >> 12) & 63],
		    i + 1 < gzlen ? base64_chars[(v >> 6) & 63] : '=',
		    i + 2 < gzlen ? base64_chars[v & 63] : '=');
		if ((col += 4) >= 76) {
			tu_str_add(&m, "\r\n");
			col = 0;
		}
	}
	tu_str_add(&m, "\r\n--b1--\r\n");
	return m.s;
}

/* An RFC 8460 §5.3 message with a gzipped report for domain. */
static char *
report_mail(const char *domain, const char *id, const char *extra_hdr)
{
	unsigned char	*gz;
	char		*json, *pol, *det, *m;
	size_t		 gzlen;

	det = stu_detail("certificate-expired", "mx.example", 1);
	pol = stu_policy("sts", domain, 10, 1, det);
	free(det);
	json = stu_report("Example Reporter", id, "2026-01-01", pol);
	gz = tu_gzip(json, strlen(json), &gzlen);
	m = gz_mail(domain, id, extra_hdr, gz, gzlen);
	free(gz);
	free(json);
	free(pol);
	return m;
}

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

/* --- the callbacks, through the shim ------------------------------------ */

struct fake {
	void	*priv;
	char	 added[4][512];		/* "Name: value" */
	int	 nadded;
	int	 deleted;		/* chgheader(NULL) calls */
	char	 delrcpt[4][128];
	int	 ndelrcpt;
	char	 reply[256];
	int	 nosym;			/* getsymval gives NULL */
	int	 leadspc;		/* offer SMFIP_HDR_LEADSPC */
};

static void *
f_getpriv(SMFICTX *ctx)
{
	return ((struct fake *)(void *)ctx)->priv;
}

static int
f_setpriv(SMFICTX *ctx, void *p)
{
	((struct fake *)(void *)ctx)->priv = p;
	return MI_SUCCESS;
}

static char *
f_getsymval(SMFICTX *ctx, char *name)
{
	static char	qid[] = "QID1", j[] = "mx.tlsrpt.test";

	if (((struct fake *)(void *)ctx)->nosym)
		return NULL;
	if (strcmp(name, "i") == 0)
		return qid;
	if (strcmp(name, "j") == 0)
		return j;
	return NULL;
}

static int
f_addheader(SMFICTX *ctx, char *name, char *value)
{
	struct fake	*f = (struct fake *)(void *)ctx;

	cr_assert_lt(f->nadded, 4);
	snprintf(f->added[f->nadded++], sizeof(f->added[0]), "%s: %s", name,
	    value);
	return MI_SUCCESS;
}

static int
f_chgheader(SMFICTX *ctx, char *name, int idx, char *value)
{
	struct fake	*f = (struct fake *)(void *)ctx;

	cr_expect_str_eq(name, MILT_HEADER);
	cr_expect_gt(idx, 0);
	if (value == NULL)
		f->deleted++;
	return MI_SUCCESS;
}

static int
f_delrcpt(SMFICTX *ctx, char *rcpt)
{
	struct fake	*f = (struct fake *)(void *)ctx;

	cr_assert_lt(f->ndelrcpt, 4);
	snprintf(f->delrcpt[f->ndelrcpt++], sizeof(f->delrcpt[0]), "%s",
	    rcpt);
	return MI_SUCCESS;
}

static int
f_setreply(SMFICTX *ctx, char *rcode, char *xcode, char *msg)
{
	struct fake	*f = (struct fake *)(void *)ctx;

	snprintf(f->reply, sizeof(f->reply), "%s %s %s", rcode, xcode, msg);
	return MI_SUCCESS;
}

static const struct milt_ops fake_ops = {
	f_getpriv, f_setpriv, f_getsymval, f_addheader, f_chgheader,
	f_delrcpt, f_setreply,
};

static struct milt_front	 cfr;
static struct spool		*csp;
static int			 have_front;

/* The DKIM key file of the milters of the tests: empty until a test
 * publishes a key (dkim_publish()); never DNS. */
static void
keys_init(void)
{
	dtu_write_file(dtu_S("%s/keys", tdir), "", 0);
}

static struct dtk_key	 dkey;

/* A key of our own as s1._domainkey of each domain given. */
static void
dkim_publish(const char *domain, ...)
{
	va_list		 ap;
	const char	*d;

	if (dkey.pem == NULL)
		dtk_key_new(&dkey, tdir);
	va_start(ap, domain);
	for (d = domain; d != NULL; d = va_arg(ap, const char *))
		dtk_keyfile_add(dtu_S("%s/keys", tdir), "s1", d, &dkey);
	va_end(ap);
}

static void
cb_setup(void)
{
	mk_tdir();
	keys_init();
	milt_shim_set(&fake_ops);
}

static void
cb_teardown(void)
{
	if (have_front)
		milt_front_fini(&cfr);
	have_front = 0;
	spool_close(csp);
	csp = NULL;
	dtk_key_free(&dkey);
	rm_tdir();
	drop_db();
}

/* A front with these options (besides --rcpt and --spool). */
static void
front(const char *opts)
{
	struct milt_conf	*c;
	char			 err[256], *argv[32], *cmd, *p, *save = NULL;
	int			 argc = 0;
	char			 spool[300];

	if (have_front) {
		milt_front_fini(&cfr);
		have_front = 0;
	}
	snprintf(spool, sizeof(spool), "%s/spool", tdir);
	if (csp == NULL) {
		csp = spool_open(spool, err, sizeof(err));
		cr_assert_not_null(csp, "%s", err);
	}
	cr_assert_geq(asprintf(&cmd, "x --rcpt <TLSRPT@tlsrpt.test> --spool "
	    "%s --dkim-keys %s/keys %s", spool, tdir, opts), 0);
	for (p = strtok_r(cmd, " ", &save); p != NULL && argc < 31;
	    p = strtok_r(NULL, " ", &save))
		argv[argc++] = p;
	argv[argc] = NULL;
	c = mconf_load(argc, argv, err, sizeof(err));
	cr_assert_not_null(c, "%s", err);
	free(cmd);
	cr_assert_eq(milt_front_init(&cfr, c, csp, NULL), 0);
	have_front = 1;
}

/*
 * Feed one message through the callbacks as an MTA would: connect,
 * MAIL, RCPT (comma-separated rcpts), DATA, headers (unfolded), body in
 * chunks; stop where a callback answers other than CONTINUE.  Returns
 * that answer, or eom's.  *stage says which callback answered.
 */
static sfsistat
feed(struct fake *f, const char *rcpts, const char *msg, size_t len,
    const char **stage)
{
	struct sockaddr_in	 sin;
	char			*rc, *r, *save = NULL, *argv[3], *hv;
	char			 name[256], *value;
	const char		*p = msg, *end = msg + len, *eol, *colon;
	char			 from[] = "<reporter@sender.test>";
	sfsistat		 s;
	size_t			 n;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(0x7f000001);
	if (f->leadspc && f->priv == NULL) {
		unsigned long	a, b, c, d;

		*stage = "negotiate";
		cr_assert_eq(milt_negotiate((SMFICTX *)(void *)f, 0x1ff,
		    0x1fffff, 0, 0, &a, &b, &c, &d), SMFIS_CONTINUE);
		cr_expect_eq(b, SMFIP_HDR_LEADSPC);
		cr_expect_eq(a, MILT_FLAGS);
	}
	*stage = "connect";
	if ((s = milt_connect((SMFICTX *)(void *)f, (char *)"[127.0.0.1]",
	    (struct sockaddr *)&sin)) != SMFIS_CONTINUE)
		return s;
	*stage = "envfrom";
	argv[0] = from;
	argv[1] = NULL;
	if ((s = milt_envfrom((SMFICTX *)(void *)f, argv)) != SMFIS_CONTINUE)
		return s;
	rc = strdup(rcpts);
	*stage = "envrcpt";
	for (r = strtok_r(rc, ",", &save); r != NULL;
	    r = strtok_r(NULL, ",", &save)) {
		argv[0] = r;
		if ((s = milt_envrcpt((SMFICTX *)(void *)f, argv)) !=
		    SMFIS_CONTINUE) {
			free(rc);
			return s;
		}
	}
	free(rc);
	*stage = "data";
	if ((s = milt_data((SMFICTX *)(void *)f)) != SMFIS_CONTINUE)
		return s;
	*stage = "header";
	while (p < end && *p != '\r' && *p != '\n') {
		/* one header with its continuation lines */
		colon = memchr(p, ':', (size_t)(end - p));
		cr_assert_not_null(colon);
		n = (size_t)(colon - p);
		cr_assert_lt(n, sizeof(name));
		memcpy(name, p, n);
		name[n] = '\0';
		p = colon + 1;
		while (!f->leadspc && p < end && (*p == ' ' || *p == '\t'))
			p++;
		for (eol = p; ; eol++) {
			eol = memchr(eol, '\n', (size_t)(end - eol));
			cr_assert_not_null(eol);
			if (eol + 1 >= end || (eol[1] != ' ' && eol[1] != '\t'))
				break;
		}
		hv = strndup(p, (size_t)(eol - p));
		value = hv;
		n = strlen(value);
		while (n > 0 && (value[n - 1] == '\r' || value[n - 1] == '\n'))
			value[--n] = '\0';
		s = milt_header((SMFICTX *)(void *)f, name, value);
		free(hv);
		if (s != SMFIS_CONTINUE)
			return s;
		p = eol + 1;
	}
	if (p < end && *p == '\r')
		p++;
	if (p < end && *p == '\n')
		p++;
	*stage = "eoh";
	if ((s = milt_eoh((SMFICTX *)(void *)f)) != SMFIS_CONTINUE)
		return s;
	*stage = "body";
	while (p < end) {
		n = (size_t)(end - p) < 1000 ? (size_t)(end - p) : 1000;
		if ((s = milt_body((SMFICTX *)(void *)f, (unsigned char *)
		    (uintptr_t)p, n)) != SMFIS_CONTINUE)
			return s;
		p += n;
	}
	*stage = "eom";
	return milt_eom((SMFICTX *)(void *)f);
}

static void
close_conn(struct fake *f)
{
	milt_close((SMFICTX *)(void *)f);
	cr_expect_null(f->priv);
}

/* The one file of DIR whose name does not end in .reason (malloc'd). */
static char *
spool_text(const char *sub)
{
	return dtu_run("for f in %s/spool/%s/*; do case $f in *.reason) ;; "
	    "*) cat \"$f\";; esac; done 2>/dev/null", tdir, sub);
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

/* --- the worker stores what the milter spooled --------------------------- */

TestSuite(milter_worker, .init = mk_tdir, .fini = cb_teardown,
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
	    "USING (report_key)", buf, sizeof(buf)),
	    "a.example pass d=google.com aligned true; "
	    "b.example pass d=reporter.test aligned true");
	cr_expect_str_eq(stu_text(&tdb, "SELECT reason FROM tlsrpt.rejection",
	    buf, sizeof(buf)), "dkim: no passing DKIM signature of the "
	    "reporting domain (none (a-r: dkim=pass header.d=google.com))");
	cr_expect_eq(count_files(dtu_S("%s/spool/bad", tdir)), 2);
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
