/*
 * dkim_testutil.c -- keys, signatures and key files for the DKIM tests
 * (see dkim_testutil.h).
 */

#define _GNU_SOURCE
#include <sys/types.h>

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <opendkim/dkim.h>

#include "sh_testutil.h"
#include "dkim_testutil.h"
#include "json_testutil.h"
#include "testutil.h"

static const char b64[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static unsigned char *
unconst(const void *p)
{
	union {
		const void	*c;
		unsigned char	*m;
	} u;

	u.c = p;
	return u.m;
}

void
dtk_key_new(struct dtk_key *k, const char *dir)
{
	char	*pub;
	size_t	 n;

	memset(k, 0, sizeof(*k));
	dtu_sh("openssl genrsa -out %s/dkim.pem 2048 2>/dev/null", dir);
	k->pem = (char *)tu_load(dtu_S("%s/dkim.pem", dir), &n);
	pub = dtu_run("openssl rsa -in %s/dkim.pem -pubout -outform DER "
	    "2>/dev/null | base64 -w0", dir);
	n = strlen(pub);
	while (n > 0 && (pub[n - 1] == '\n' || pub[n - 1] == '\r'))
		pub[--n] = '\0';
	cr_assert_gt(n, 300, "no public key: \"%s\"", pub);
	cr_assert_geq(asprintf(&k->record, "v=DKIM1;k=rsa;p=%s", pub), 0);
	free(pub);
	dtu_sh("rm -f %s/dkim.pem", dir);
}

void
dtk_key_free(struct dtk_key *k)
{
	free(k->pem);
	free(k->record);
	memset(k, 0, sizeof(*k));
}

void
dtk_keyfile_add(const char *path, const char *sel, const char *domain,
    const struct dtk_key *k)
{
	FILE	*f;

	cr_assert_not_null(f = fopen(path, "a"), "%s", path);
	fprintf(f, "%s._domainkey.%s %s\n", sel, domain, k->record);
	cr_assert_eq(fclose(f), 0);
}

char *
dtk_sign(const char *msg, size_t len, const char *domain, const char *sel,
    const struct dtk_key *k, int relaxed)
{
	DKIM_LIB	*lib;
	DKIM		*d;
	DKIM_STAT	 st;
	const char	*p = msg, *end = msg + len, *nl, *q, *fe, *next;
	dkim_canon_t	 c = relaxed ? DKIM_CANON_RELAXED : DKIM_CANON_SIMPLE;
	unsigned char	 sig[4096];
	char		*out;
	size_t		 flen;

	cr_assert_not_null(lib = dkim_init(NULL, NULL));
	d = dkim_sign(lib, unconst("test"), NULL, unconst(k->pem),
	    unconst(sel), unconst(domain), c, c, DKIM_SIGN_RSASHA256, -1,
	    &st);
	cr_assert_not_null(d, "dkim_sign: %d", st);
	/* one line: the header as hashed, whatever the canonicalization */
	cr_assert_eq(dkim_set_margin(d, 0), DKIM_STAT_OK);
	while (p < end && !(p[0] == '\r' && p + 1 < end && p[1] == '\n')) {
		for (q = p;;) {
			nl = memchr(q, '\n', (size_t)(end - q));
			cr_assert_not_null(nl, "no end of header");
			if (nl[1] == ' ' || nl[1] == '\t') {
				q = nl + 1;
				continue;
			}
			fe = nl;
			next = nl + 1;
			break;
		}
		flen = (size_t)(fe - p);
		if (flen > 0 && p[flen - 1] == '\r')
			flen--;
		cr_assert_eq(dkim_header(d, unconst(p), flen), DKIM_STAT_OK,
		    "dkim_header: %s", dkim_geterror(d));
		p = next;
	}
	cr_assert(p < end, "no body");
	p += 2;
	cr_assert_eq(dkim_eoh(d), DKIM_STAT_OK, "dkim_eoh: %s",
	    dkim_geterror(d));
	if (p < end)
		cr_assert_eq(dkim_body(d, unconst(p), (size_t)(end - p)),
		    DKIM_STAT_OK);
	cr_assert_eq(dkim_eom(d, NULL), DKIM_STAT_OK, "dkim_eom: %s",
	    dkim_geterror(d));
	cr_assert_eq(dkim_getsighdr(d, sig, sizeof(sig),
	    strlen(DKIM_SIGNHEADER) + 2), DKIM_STAT_OK, "dkim_getsighdr: %s",
	    dkim_geterror(d));
	cr_assert_geq(asprintf(&out, "%s: %s\r\n%.*s", DKIM_SIGNHEADER,
	    (char *)sig, (int)len, msg), 0);
	dkim_free(d);
	dkim_close(lib);
	return out;
}

char *
dtk_report_mail(const char *org, const char *sub, const char *domain,
    const char *id, const char *extra_hdr)
{
	struct tu_str	 m = { 0 };
	unsigned char	*gz;
	char		*json, *pol, *det;
	size_t		 gzlen, i, col = 0;
	unsigned	 v;

	det = stu_detail("certificate-expired", "mx.example", 1);
	pol = stu_policy("sts", domain, 10, 1, det);
	free(det);
	json = stu_report(org, id, "2026-01-01", pol);
	gz = tu_gzip(json, strlen(json), &gzlen);
	tu_str_add(&m, "%sFrom: tlsrpt@%s\r\nTo: tlsrpt@tlsrpt.test\r\n"
	    "Subject: Report Domain: %s Submitter: %s Report-ID: <%s@%s>\r\n"
	    "Date: Fri, 02 Jan 2026 10:00:00 +0000\r\n"
	    "Message-ID: <%s.msg@%s>\r\n"
	    "TLS-Report-Domain: %s\r\nTLS-Report-Submitter: %s\r\n"
	    "MIME-Version: 1.0\r\nContent-Type: multipart/report;\r\n"
	    "\treport-type=tlsrpt; boundary=\"b1\"\r\n\r\n--b1\r\n"
	    "Content-Type: text/plain\r\n\r\nA report.\r\n--b1\r\n"
	    "Content-Type: application/tlsrpt+gzip\r\n"
	    "Content-Transfer-Encoding: base64\r\n"
	    "Content-Disposition: attachment; filename=\"%s!%s!"
	    "1767225600!1767311999!%s.json.gz\"\r\n\r\n",
	    extra_hdr != NULL ? extra_hdr : "", sub, domain, sub, id, sub, id,
	    sub, domain, sub, sub, domain, id);
	for (i = 0; i < gzlen; i += 3) {
		v = (unsigned)gz[i] << 16;
		if (i + 1 < gzlen)
			v |= (unsigned)gz[i + 1] << 8;
		if (i + 2 < gzlen)
			v |= gz[i + 2];
		tu_str_add(&m, "%c%c%c%c", b64[(v >> 18) & 63],
		    b64[(v >> 12) & 63], i + 1 < gzlen ? b64[(v >> 6) & 63] :
		    '=', i + 2 < gzlen ? b64[v & 63] : '=');
		if ((col += 4) >= 76) {
			tu_str_add(&m, "\r\n");
			col = 0;
		}
	}
	tu_str_add(&m, "\r\n--b1--\r\n");
	free(gz);
	free(json);
	free(pol);
	return m.s;
}
