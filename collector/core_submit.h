/*
 * core_submit.h -- the one verdict of both front-ends: what to do with the
 * bytes a peer submitted (an HTTPS body, a mail at end of data).
 *
 * Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
 *
 * submit_verdict() sniffs (ingest_sniff()), parses with the bounded
 * ingest entry points, checks the --domain allow-list and the DKIM
 * requirement, keeps refused bytes in SPOOL/bad (spool_keep(), the one
 * format of refused bytes) and spools what is accepted.  It does no
 * protocol work: tlsrpt-httpd maps the verdict to a status code
 * (http_req.c), tlsrpt-milter to an SMFIS_* answer and its header
 * (milter_msg.c), and each counts it in its own counters.  It never
 * calls fatal(): every failure is a class and a one-line reason.
 *
 *	class			HTTPS		mail (milter)
 *	SUBMIT_STORED		201		spooled, 250
 *	SUBMIT_DUPLICATE	200		duplicate, 250
 *	SUBMIT_REFUSED_MEDIA	415 kept	(mail is always parsed)
 *	SUBMIT_TOO_BIG		413 kept	rejected TOKEN, 250
 *	SUBMIT_NOT_A_REPORT	400 kept	rejected TOKEN, 250
 *	SUBMIT_FORBIDDEN_DOMAIN	403		rejected domain, kept, 250
 *	SUBMIT_UNTRUSTED	403		rejected dkim, kept, 250
 *	SUBMIT_TEMPFAIL		503		451 (the spool failed)
 *	SUBMIT_NOMEM		503		451 (out of memory)
 *
 * A report with one listed policy domain is accepted whole: the policies
 * of unlisted domains are flagged (v->foreign, an "x-foreign-policies: N
 * of M" spool line, the front's log line), not dropped, because a DANE
 * policy domain may be an MX host name outside the list.
 *
 * "kept": HTTPS keeps the first keep_max bytes directly in bad/ (no
 * database row); the milter spools its domain and dkim refusals, cut
 * to keep_max bytes, with an "x-reject" line, and the worker records
 * them in tlsrpt.rejection before moving them to bad/.
 *
 * Thread-safe: a struct submit_ctx is read-only during calls (but for
 * the recent set, which locks itself).
 */

#ifndef TLSRPT_SUBMIT_H
#define TLSRPT_SUBMIT_H

#include <stddef.h>
#include <stdint.h>

#include "core_conf.h"
#include "ingest.h"
#include "core_spool.h"

struct submit_recent;

#define SUBMIT_REASON_MAX	512	/* a one-line reason, with its NUL */
#define SUBMIT_DKIM_MAX		256	/* the x-dkim verdict */
#define SUBMIT_ORG_MAX		128	/* the reporter, escaped for logs */
#define SUBMIT_EXTRA_MAX	4	/* spool lines a front adds */

enum submit_transport {
	SUBMIT_HTTPS = 0,	/* a gzip or JSON body */
	SUBMIT_MAIL,		/* a whole RFC 5322 message */
};

enum submit_class {
	SUBMIT_STORED = 0,
	SUBMIT_DUPLICATE,
	SUBMIT_REFUSED_MEDIA,
	SUBMIT_TOO_BIG,
	SUBMIT_NOT_A_REPORT,
	SUBMIT_FORBIDDEN_DOMAIN,
	SUBMIT_UNTRUSTED,
	SUBMIT_TEMPFAIL,
	SUBMIT_NOMEM,
	SUBMIT_NCLASS
};

/* What a front runs with; everything borrowed, read-only in calls. */
struct submit_ctx {
	struct spool		*spool;
	void			(*stored)(void *); /* after a store; may be NULL */
	void			*stored_arg;	/* its argument */
	struct submit_recent	*recent;	/* may be NULL; see below */
	const struct conf_list	*domains;	/* allow-list; NULL or empty: all */
	int			 require_dkim;	/* refuse untrusted (mail) */
	struct ingest_limits	 lim;
	size_t			 keep_max;	/* bytes of a refusal kept;
						 * 0: HTTPS keeps none */
};

/*
 * Fills the verdict string (the x-dkim line, at most outsz bytes with
 * its NUL) for the parsed rep, which stays the caller's; returns 1 when
 * it makes the report trusted.
 */
typedef int	(*submit_trust_fn)(void *arg, const struct tlsrpt_report *rep,
		    char *out, size_t outsz);

/* One submission; everything borrowed. */
struct submit_in {
	enum submit_transport	 transport;
	const unsigned char	*buf;
	size_t			 len;
	const char		*peer;		/* the spool's origin; may be NULL */
	const char		*content_type;	/* HTTPS, as sent; may be NULL */
	/*
	 * The report domain for policies without policy-domain (HTTPS:
	 * tlsrpt-httpd's single --domain; mail has TLS-Report-Domain).
	 */
	const char		*report_domain;
	/* "key: value" spool lines of the front (user-agent, queue id) */
	const char		*extra[SUBMIT_EXTRA_MAX];
	/* mail: the trust verdict, from trust() after the parse when set,
	 * else dkim and trusted as given (dkim NULL: none recorded) */
	submit_trust_fn		 trust;
	void			*trust_arg;
	const char		*dkim;
	int			 trusted;
};

struct submit_verdict {
	enum submit_class	 cls;
	const char		*token;		/* static: "stored", "json", ... */
	char			 reason[SUBMIT_REASON_MAX]; /* one line */
	enum ingest_status	 ingest;	/* of the parse; OK if none */
	int			 spooled;	/* spool_put() was called */
	enum spool_put_result	 spool;		/* its outcome */
	int			 spool_errno;	/* with SPOOL_FAILED */
	int			 kept;		/* refused bytes in bad/ */
	int			 trusted;
	char			 dkim[SUBMIT_DKIM_MAX];	/* "" when none */
	char			 org[SUBMIT_ORG_MAX];	/* "-" before a parse */
	size_t			 npolicies;	/* of the parsed report */
	size_t			 foreign;	/* those about unlisted domains */
};

/*
 * Decide about in under ctx, into v (filled on every path).  Returns
 * v->cls.  A stored report calls ctx->stored.
 */
enum submit_class	 submit_verdict(const struct submit_ctx *ctx,
			    const struct submit_in *in,
			    struct submit_verdict *v);

/* A short stable name of a class ("stored", "too-big", ...). */
const char	*submit_class_str(enum submit_class);

/*
 * A lossy set of the digests of bodies stored lately: an HTTPS body
 * seen there is a duplicate without a parse.  n digests at most; NULL
 * when out of memory.  Thread-safe.
 */
struct submit_recent	*submit_recent_new(size_t n);
void			 submit_recent_free(struct submit_recent *);

/*
 * 1 when one of rep's policy domains is a listed domain or below one
 * (or domains is empty); else 0 with why saying what the report is
 * about (each domain once, escaped, bounded).  rep borrowed.
 */
int	submit_domain_allowed(const struct conf_list *domains,
	    const struct tlsrpt_report *rep, char *why, size_t whysz);

#endif
