/*
 * dkim_verify.h -- DKIM verification of a whole mail message with
 * libopendkim, and the trust verdict of a mailed TLS report (RFC 8460
 * §3): trusted only when a signature this project verified passes for a
 * domain aligned with TLS-Report-Submitter or the contact-info domain.
 *
 * Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
 *
 * Not in ingest/: verifying asks DNS for keys (libopendkim's own
 * resolver, res_nquery), or, for tests and offline use, reads a key file
 * (libopendkim's DKIM_QUERY_FILE: one "SELECTOR._domainkey.DOMAIN
 * v=DKIM1; k=rsa; p=..." line per key).  Used by tlsrpt-milter and
 * `tlsrpt import`.
 *
 * Threads: one struct dkv may serve many threads at once (libopendkim's
 * library handle is shared; each message gets a handle of its own).
 */

#ifndef TLSRPT_DKIM_VERIFY_H
#define TLSRPT_DKIM_VERIFY_H

#include <stddef.h>

#include "tlsrpt_limits.h"

#define DKV_DOMAIN_MAX		256	/* a DNS name and its NUL */
#define DKV_SELECTOR_MAX	64
#define DKV_VERDICT_MAX		256	/* what the spool's x-dkim line holds */

struct dkv;

/* One signature of the message, as this project verified it. */
struct dkv_sig {
	char	result[16];		/* pass, fail, permerror, temperror */
	char	d[DKV_DOMAIN_MAX];	/* d=, lower case; "" when absent */
	char	s[DKV_SELECTOR_MAX];	/* s= */
};

/* What dkv_check() found. */
struct dkv_result {
	struct dkv_sig	sigs[LIM_DKIM_SIGS_MAX];
	size_t		nsigs;		/* verified (at most the limit) */
	size_t		nignored;	/* signatures past the limit */
	int		trusted;	/* pass + aligned */
	char		verdict[DKV_VERDICT_MAX];
};

/*
 * A verifier.  keyfile NULL: keys from DNS (production); otherwise the
 * keys are read from that file only (tests, offline use), which must be
 * readable now.  Returns a new verifier owned by the caller (release
 * with dkv_free()), or NULL with a one-line reason in err.
 */
struct dkv	*dkv_new(const char *keyfile, char *err, size_t errsz);
void		 dkv_free(struct dkv *);

/*
 * Verify the signatures of msg[0..len) (a whole RFC 5322 message:
 * header fields, blank line, body; CRLF or LF line ends) and judge them
 * for a report whose TLS-Report-Submitter is submitter and contact-info
 * is contact (either may be NULL).  info (may be NULL): text appended to
 * the verdict for the record only (what an Authentication-Results header
 * claimed); it never changes the trust.  All arguments are borrowed.
 * Fills *res; returns res->trusted (1 or 0), or -1 when the message
 * could not be looked at (out of memory; res says "temperror").
 */
int	dkv_check(struct dkv *, const unsigned char *msg, size_t len,
	    const char *submitter, const char *contact, const char *info,
	    struct dkv_result *res);

/*
 * The verdict recorded with a report (the spool's x-dkim line, the
 * report's dkim column) into out, from the n signature results of sigs:
 *	"pass d=D[,D...] aligned"	a passing signature by the submitter
 *	"pass d=D[,D...] unaligned"	passing, but by other domains
 *	"fail d=D (dkim=RESULT)"	signatures, none passing
 *	"none"				no signature
 * then " (INFO)" when info is given and fits.  A passing d= is aligned
 * with a domain X (the TLS-Report-Submitter header, or the domain of
 * contact-info) when d equals X, or one is a subdomain of the other and
 * the shorter has a dot (relaxed, as DMARC without a public suffix list:
 * d=google.com signs for smtp-tls-reporting@google.com and for a
 * submitter mail.google.com; d=com signs for nothing).  The word
 * " aligned" appears in a trusted verdict only (the ingest worker reads
 * it back from the spool): info is dropped when it holds that word.
 * Returns 1 when trusted (pass + aligned).
 */
int	dkv_verdict(const struct dkv_sig *sigs, size_t n,
	    const char *submitter, const char *contact, const char *info,
	    char *out, size_t outsz);

#endif
