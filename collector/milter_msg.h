/*
 * milter_msg.h -- the callbacks of tlsrpt-milter, their two contexts and
 * the state they share.  Included only by milter*.c and the tests.
 *
 * Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
 *
 * Lifecycle (STYLE.md R11): a connection context is made in connect (or
 * by the first callback that finds none) and freed in close, which may
 * be the only callback.  The message context is reset in envfrom and
 * abort, and its buffer freed at the end of each message.  A message is
 * looked at only when one of its recipients is a --rcpt address; any
 * other message is accepted at DATA (or at its first header) and its
 * body never reaches us.  At end of message the buffered message is
 * parsed (ingest_message(), no database work) and spooled; only then is
 * the MTA answered.  A spool failure, or no memory, answers 451 (the
 * sender retries); so does a listed recipient while --max-inflight
 * messages for listed recipients are being received or parsed (451 at
 * RCPT: that recipient only).  Nothing else of ours delays or refuses
 * mail.
 *
 * The header added to a looked-at message (--action accept, or when the
 * report is not spooled as a report):
 *
 *	X-TLSRPT-Collector: spooled			durably in the spool;
 *							the database follows
 *	X-TLSRPT-Collector: duplicate			the same bytes wait
 *							in the spool already
 *	X-TLSRPT-Collector: rejected TOKEN: why	not stored as a report:
 *		no-report, json, gzip, ...	(ingest_status_str): not a report;
 *		domain				about no --domain;
 *		dkim				--require-dkim and no passing
 *						aligned signature.
 *
 * The milter knows the spool outcome only, never the database's, hence
 * "spooled" where the issue says "stored".  domain and dkim rejections
 * are spooled with an "x-reject" line: the worker records them as
 * rejections and moves them to SPOOL/bad.  X-TLSRPT-Collector headers
 * the message already had are removed from looked-at messages.
 */

#ifndef TLSRPT_MILTER_MSG_H
#define TLSRPT_MILTER_MSG_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libmilter/mfapi.h>

#include "ingest.h"
#include "milter_conf.h"

struct spool;

#define MILT_HEADER		"X-TLSRPT-Collector"
#define MILT_DKIM_MAX		8	/* dkim results kept per message */
#define MILT_DOMAIN_MAX		256	/* a DNS name and its NUL */
#define MILT_VERDICT_MAX	256	/* the x-dkim line */

/* Counters; atomics, read by the main loop for its log lines. */
struct milt_stats {
	atomic_uint_fast64_t	seen;		/* listed recipient */
	atomic_uint_fast64_t	spooled;
	atomic_uint_fast64_t	duplicates;
	atomic_uint_fast64_t	rejected;	/* domain, dkim */
	atomic_uint_fast64_t	no_report;	/* accepted, not a report */
	atomic_uint_fast64_t	too_big;	/* accepted, not looked at */
	atomic_uint_fast64_t	tempfail;	/* spool failed: 451 */
	atomic_uint_fast64_t	discarded;
	atomic_uint_fast64_t	trusted;	/* spooled with aligned DKIM */
	atomic_uint_fast64_t	busy;		/* 451 at RCPT: --max-inflight */
};

struct milt_front {
	pthread_mutex_t		 mtx;		/* guards conf */
	struct milt_conf	*conf;		/* current; owned */
	struct spool		*spool;		/* borrowed */
	void			(*stored)(void *); /* after a store; may be NULL */
	void			*stored_arg;	/* borrowed */
	atomic_int		 conns;		/* connection contexts */
	atomic_int		 msgs;		/* messages at EOM now */
	atomic_int		 inflight;	/* listed messages not ended */
	atomic_uint_fast64_t	 seq;		/* log ids */
	struct milt_stats	 st;
};

/*
 * Set up the one front of the process: conf becomes owned by it, spool
 * is borrowed; stored(stored_arg) runs after each report stored (the
 * worker's wake-up, worker_wake(); NULL: none).  Call before the first
 * callback; milt_front_fini() after the last.  0, or -1 with errno.
 */
int	milt_front_init(struct milt_front *, struct milt_conf *conf,
	    struct spool *sp, void (*stored)(void *), void *stored_arg);
void	milt_front_fini(struct milt_front *);

/* SIGHUP: conf (owned from here on) serves connections made from now
 * on; the old one is freed when its last connection closes. */
void	milt_front_swap(struct milt_front *, struct milt_conf *conf);

/* The callbacks, for struct smfiDesc and the tests. */
sfsistat	milt_negotiate(SMFICTX *, unsigned long, unsigned long,
		    unsigned long, unsigned long, unsigned long *,
		    unsigned long *, unsigned long *, unsigned long *);
sfsistat	milt_connect(SMFICTX *, char *, _SOCK_ADDR *);
sfsistat	milt_envfrom(SMFICTX *, char **);
sfsistat	milt_envrcpt(SMFICTX *, char **);
sfsistat	milt_data(SMFICTX *);
sfsistat	milt_header(SMFICTX *, char *, char *);
sfsistat	milt_eoh(SMFICTX *);
sfsistat	milt_body(SMFICTX *, unsigned char *, size_t);
sfsistat	milt_eom(SMFICTX *);
sfsistat	milt_abort(SMFICTX *);
sfsistat	milt_close(SMFICTX *);

/* The smfi_* actions the callbacks may take (SMFIF_*). */
#define MILT_FLAGS	(SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_DELRCPT)

/* --- DKIM verdict (exported for the tests) ---------------------------- */

/* One dkim result of an Authentication-Results header (RFC 8601). */
struct milt_dkim {
	char	result[16];		/* pass, fail, none, ... lower case */
	char	d[MILT_DOMAIN_MAX];	/* header.d (or header.i's domain) */
};

/*
 * Parse one Authentication-Results value.  Returns 1 when its authserv-id
 * is authserv_id (case-insensitive), after appending its dkim results to
 * res[*n..max) (more are dropped); 0 when the header is someone else's
 * (nothing appended).  Comments and quoted strings are understood; never
 * fails on content.
 */
int	milt_ar_parse(const char *value, const char *authserv_id,
	    struct milt_dkim *res, size_t max, size_t *n);

struct dkv;

/*
 * The DKIM verdict of the buffered message msg[0..len) as received:
 * verified by this process (dkv_check(), dkim/dkim_verify.h) for the
 * report's submitter and contact_info, into out (the spool's x-dkim
 * line; see dkv_verdict() for its forms).  The dkim results of our
 * MTA's Authentication-Results (ar[0..nar)) are appended as information
 * only: "none (a-r: dkim=pass header.d=google.com)" is not trusted.
 * Returns 1 when trusted (a verified, passing, aligned signature).
 */
int	milt_dkim_check(struct dkv *v, const unsigned char *msg, size_t len,
	    const struct milt_dkim *ar, size_t nar, const char *submitter,
	    const char *contact_info, char *out, size_t outsz);

#endif
