/*
 * dkim_testutil.h -- DKIM for the tests: an RSA key made at test time
 * (the openssl command), messages signed with libopendkim's own signing
 * API, and the key file of libopendkim's file query method that
 * `--dkim-keys FILE` reads instead of DNS.
 */

#ifndef TLSRPT_DKIM_TESTUTIL_H
#define TLSRPT_DKIM_TESTUTIL_H

#include <stddef.h>

/* One signing key: a PEM private key and its DNS record text. */
struct dtk_key {
	char	*pem;		/* malloc'd */
	char	*record;	/* "v=DKIM1;k=rsa;p=BASE64", malloc'd */
};

/*
 * A new 2048-bit RSA key, made with `openssl genrsa` under dir (which
 * must exist).  Aborts the test when it cannot.  Release with
 * dtk_key_free().
 */
void	 dtk_key_new(struct dtk_key *, const char *dir);
void	 dtk_key_free(struct dtk_key *);

/*
 * Append "SELECTOR._domainkey.DOMAIN RECORD" to the key file path
 * (created when missing).
 */
void	 dtk_keyfile_add(const char *path, const char *selector,
	    const char *domain, const struct dtk_key *);

/*
 * msg[0..len) (CRLF line ends) signed by domain with selector and key:
 * a new malloc'd, NUL-terminated message, the DKIM-Signature field
 * first (relaxed/relaxed when relaxed, else simple/simple; rsa-sha256,
 * every header field signed).  Aborts the test when libopendkim fails.
 */
char	*dtk_sign(const char *msg, size_t len, const char *domain,
	    const char *selector, const struct dtk_key *, int relaxed);

/*
 * An RFC 8460 §5.3 report mail (CRLF, a gzipped report, base64) from
 * TLS-Report-Submitter submitter (From: tlsrpt@submitter) about policy
 * domain domain, to tlsrpt@tlsrpt.test, with extra_hdr (may be NULL)
 * first.  The report's organization is org, its contact-info
 * tlsrpt@org.  malloc'd, NUL-terminated.
 */
char	*dtk_report_mail(const char *org, const char *submitter,
	    const char *domain, const char *id, const char *extra_hdr);

#endif
