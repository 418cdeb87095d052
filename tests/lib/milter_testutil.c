/*
 * milter_testutil.c -- the milter callbacks driven through the shim (no
 * MTA, no database), see milter_testutil.h.
 *
 * Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
 */

#define _GNU_SOURCE
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <dirent.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <libmilter/mfapi.h>

#include "core_spool.h"
#include "dkim_testutil.h"
#include "json_testutil.h"
#include "milter_conf.h"
#include "milter_msg.h"
#include "milter_shim.h"
#include "milter_testutil.h"
#include "sh_testutil.h"
#include "testutil.h"

#define RUA	"tlsrpt@tlsrpt.test"
/* --- helpers shared by the suites ------------------------------------- */

char		 tdir[256];

/* Regular files in dir (0 when it does not exist). */
int
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
char *
cat_dir(const char *dir)
{
	return dtu_run("cat %s/* 2>/dev/null", dir);
}

void
mk_tdir(void)
{
	snprintf(tdir, sizeof(tdir), "%s/tlsrpt-milter.XXXXXX",
	    getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	cr_assert_not_null(mkdtemp(tdir));
	/* Postfix's children (user postfix, nobody) work below it */
	cr_assert_eq(chmod(tdir, 0755), 0);
}

int	 spool_mounted;		/* a tmpfs on tdir/spool */

void
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


static const char base64_chars[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* An RFC 8460 §5.3 message with gz (gzipped JSON) attached. */
char *
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
char *
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

/* --- the callbacks, through the shim ------------------------------------ */


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

const struct milt_ops fake_ops = {
	f_getpriv, f_setpriv, f_getsymval, f_addheader, f_chgheader,
	f_delrcpt, f_setreply,
};

struct milt_front	 cfr;
struct spool		*csp;
int			 have_front;

/* The DKIM key file of the milters of the tests: empty until a test
 * publishes a key (dkim_publish()); never DNS. */
void
keys_init(void)
{
	dtu_write_file(dtu_S("%s/keys", tdir), "", 0);
}

struct dtk_key	 dkey;

/* A key of our own as s1._domainkey of each domain given. */
void
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

void
cb_setup(void)
{
	mk_tdir();
	keys_init();
	milt_shim_set(&fake_ops);
}

void
cb_teardown(void)
{
	if (have_front)
		milt_front_fini(&cfr);
	have_front = 0;
	spool_close(csp);
	csp = NULL;
	dtk_key_free(&dkey);
	rm_tdir();
}

/* A front with these options (besides --rcpt and --spool). */
void
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
	cr_assert_eq(milt_front_init(&cfr, c, csp, NULL, NULL), 0);
	have_front = 1;
}

/*
 * Feed one message through the callbacks as an MTA would: connect,
 * MAIL, RCPT (comma-separated rcpts), DATA, headers (unfolded), body in
 * chunks; stop where a callback answers other than CONTINUE.  Returns
 * that answer, or eom's.  *stage says which callback answered.
 */
sfsistat
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

void
close_conn(struct fake *f)
{
	milt_close((SMFICTX *)(void *)f);
	cr_expect_null(f->priv);
}

/* The one file of DIR whose name does not end in .reason (malloc'd). */
char *
spool_text(const char *sub)
{
	return dtu_run("for f in %s/spool/%s/*; do case $f in *.reason) ;; "
	    "*) cat \"$f\";; esac; done 2>/dev/null", tdir, sub);
}
