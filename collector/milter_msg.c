/*
 * milter_msg.c -- the callbacks of tlsrpt-milter: which messages to look
 * at, the bounded copy of a looked-at message, and what to do with it at
 * end of message (see milter_msg.h).
 *
 * Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
 *
 * Threads: libmilter calls back from a thread per connection.  A
 * connection context is that thread's alone; the front is shared: its
 * conf pointer under front->mtx (each connection holds a reference to
 * the conf it started with), its counters atomic, the spool and worker
 * thread-safe by their own contracts.
 */

#include <sys/socket.h>
#include <sys/types.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <libmilter/mfapi.h>

#include "bbuf.h"
#include "core_daemon.h"
#include "ingest.h"
#include "log.h"
#include "milter_conf.h"
#include "milter_msg.h"
#include "milter_shim.h"
#include "core_spool.h"
#include "core_submit.h"
#include "tlsrpt_limits.h"
#include "util.h"

#define MILT_RCPT_MAX		16	/* listed recipients remembered */
#define MILT_PEER_MAX		320	/* "host [addr]" */
#define MILT_REASON_MAX		200	/* in the header */
#define MILT_QID_MAX		64
#define MILT_ESC_MAX		128	/* a peer string in a log line */
#define MILT_EXTRA_MAX		(MILT_QID_MAX + 16)	/* x-queue-id line */

struct milt_msg {
	uint64_t		 id;		/* log id */
	int			 listed;	/* a --rcpt recipient */
	int			 slot;		/* holds one of --max-inflight */
	int			 others;	/* recipients not listed */
	char			*rcpts[MILT_RCPT_MAX];	/* listed, as sent */
	size_t			 nrcpts;
	int			 too_big;	/* not collecting any more */
	size_t			 declared;	/* SIZE= of MAIL FROM */
	struct bbuf		 buf;		/* headers, blank line, body */
	int			 nours;		/* X-TLSRPT-Collector seen */
	int			 have_ar;	/* our A-R header seen */
	struct milt_dkim	 dkim[MILT_DKIM_MAX];
	size_t			 ndkim;
};

struct milt_conn {
	struct milt_conf	*conf;		/* a reference, see conf_get */
	int			 leadspc;	/* header values as sent, with
						   their leading white space */
	char			 peer[MILT_PEER_MAX];
	char			 mta[MILT_DOMAIN_MAX];	/* {j} */
	struct milt_msg		 msg;
};

static struct milt_front	*front;

static struct milt_conf	*conf_get(void);
static void		 conf_put(struct milt_conf *);
static struct milt_conn	*conn_get(SMFICTX *);
static void		 msg_reset(struct milt_msg *);
static int		 collecting(const struct milt_msg *);
static void		 append(struct milt_conn *, const void *, size_t);
static void		 append_crlf(struct milt_conn *, const char *);
static int		 rcpt_listed(const struct milt_conf *, const char *);
static const char	*authserv_id(const struct milt_conn *);
static int		 milt_trust(void *, const struct tlsrpt_report *,
			    char *, size_t);
static sfsistat		 reply(SMFICTX *, struct milt_conn *,
			    const struct submit_verdict *, const char *);
static sfsistat		 finish(SMFICTX *, struct milt_conn *,
			    const char *, const char *);
static void		 add_header(SMFICTX *, struct milt_conn *,
			    const char *);
static void		 clean_text(char *, size_t, const char *);

/* --- the front -------------------------------------------------------- */

int
milt_front_init(struct milt_front *f, struct milt_conf *conf,
    struct spool *sp, void (*stored)(void *), void *stored_arg)
{
	int	e;

	memset(f, 0, sizeof(*f));
	if ((e = pthread_mutex_init(&f->mtx, NULL)) != 0) {
		mconf_free(conf);
		errno = e;
		return -1;
	}
	conf->refs = 1;			/* the front's own */
	f->conf = conf;
	f->spool = sp;
	f->stored = stored;
	f->stored_arg = stored_arg;
	if (sp != NULL)
		spool_set_bad_limits(sp, conf->rejects_keep,
		    LIM_SPOOL_BAD_BYTES);
	atomic_init(&f->conns, 0);
	atomic_init(&f->msgs, 0);
	atomic_init(&f->inflight, 0);
	atomic_init(&f->seq, 0);
	front = f;
	return 0;
}

void
milt_front_fini(struct milt_front *f)
{
	if (f == NULL)
		return;
	if (front == f)
		front = NULL;
	mconf_free(f->conf);		/* connections are gone by now */
	f->conf = NULL;
	pthread_mutex_destroy(&f->mtx);
}

void
milt_front_swap(struct milt_front *f, struct milt_conf *conf)
{
	struct milt_conf	*old;

	conf->refs = 1;
	if (f->spool != NULL)
		spool_set_bad_limits(f->spool, conf->rejects_keep,
		    LIM_SPOOL_BAD_BYTES);
	pthread_mutex_lock(&f->mtx);
	old = f->conf;
	f->conf = conf;
	if (--old->refs > 0)
		old = NULL;		/* its last connection frees it */
	pthread_mutex_unlock(&f->mtx);
	mconf_free(old);
}

static struct milt_conf *
conf_get(void)
{
	struct milt_conf	*c;

	pthread_mutex_lock(&front->mtx);
	c = front->conf;
	c->refs++;
	pthread_mutex_unlock(&front->mtx);
	return c;
}

static void
conf_put(struct milt_conf *c)
{
	int	last;

	if (c == NULL)
		return;
	pthread_mutex_lock(&front->mtx);
	last = --c->refs == 0;
	pthread_mutex_unlock(&front->mtx);
	if (last)
		mconf_free(c);
}

/* --- contexts --------------------------------------------------------- */

/* The connection context, made here when connect did not run. */
static struct milt_conn *
conn_get(SMFICTX *ctx)
{
	struct milt_conn	*mc;

	if ((mc = milt_getpriv(ctx)) != NULL)
		return mc;
	if ((mc = calloc(1, sizeof(*mc))) == NULL)
		return NULL;
	if (milt_setpriv(ctx, mc) != MI_SUCCESS) {
		free(mc);
		return NULL;
	}
	mc->conf = conf_get();
	snprintf(mc->peer, sizeof(mc->peer), "unknown");
	bbuf_init(&mc->msg.buf, mc->conf->max_size);
	atomic_fetch_add(&front->conns, 1);
	return mc;
}

static void
msg_reset(struct milt_msg *mm)
{
	size_t	i;

	if (mm->slot)
		atomic_fetch_sub(&front->inflight, 1);
	mm->slot = 0;
	for (i = 0; i < mm->nrcpts; i++)
		free(mm->rcpts[i]);
	bbuf_reset(&mm->buf);
	mm->nrcpts = 0;
	mm->listed = 0;
	mm->others = 0;
	mm->too_big = 0;
	mm->declared = 0;
	mm->nours = 0;
	mm->have_ar = 0;
	mm->ndkim = 0;
	mm->id = 0;
}

static int
collecting(const struct milt_msg *mm)
{
	return mm->listed && !mm->too_big;
}

/* Copy message bytes; past --max-size stop copying and let mail flow. */
static void
append(struct milt_conn *mc, const void *p, size_t n)
{
	struct milt_msg	*mm = &mc->msg;

	if (!collecting(mm))
		return;
	if (bbuf_append(&mm->buf, p, n) == -1) {
		log_warnx("%" PRIx64 " milter skip reason=%s limit=%zu", mm->id,
		    errno == ERANGE ? "too-big" : "no-memory", mm->buf.max);
		mm->too_big = 1;
		bbuf_reset(&mm->buf);
	}
}

/*
 * A header value as the MTA passed it: the line breaks of a folded field
 * come as LF (sendmail, Postfix); the message had CRLF.  The buffer is
 * the message as received, for the DKIM signature over it.
 */
static void
append_crlf(struct milt_conn *mc, const char *v)
{
	const char	*nl;

	while ((nl = strchr(v, '\n')) != NULL) {
		if (nl > v && nl[-1] == '\r') {
			append(mc, v, (size_t)(nl + 1 - v));
		} else {
			append(mc, v, (size_t)(nl - v));
			append(mc, "\r\n", 2);
		}
		v = nl + 1;
	}
	append(mc, v, strlen(v));
}

/* --- callbacks -------------------------------------------------------- */

/*
 * Ask for the header values with their leading white space
 * (SMFIP_HDR_LEADSPC) when the MTA offers it, so that the buffered
 * message is byte for byte what was signed ("simple" header
 * canonicalization); every other step as libmilter's default.
 */
sfsistat
milt_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1,
    unsigned long f2, unsigned long f3, unsigned long *pf0,
    unsigned long *pf1, unsigned long *pf2, unsigned long *pf3)
{
	struct milt_conn	*mc;

	(void)f2;
	(void)f3;
	*pf0 = f0 & MILT_FLAGS;
	*pf1 = f1 & SMFIP_HDR_LEADSPC;
	*pf2 = 0;
	*pf3 = 0;
	if ((mc = conn_get(ctx)) != NULL)
		mc->leadspc = (*pf1 & SMFIP_HDR_LEADSPC) != 0;
	return SMFIS_CONTINUE;
}

sfsistat
milt_connect(SMFICTX *ctx, char *host, _SOCK_ADDR *sa)
{
	struct milt_conn	*mc;
	char			 addr[INET6_ADDRSTRLEN], h[MILT_ESC_MAX];
	const char		*j;

	if ((mc = conn_get(ctx)) == NULL) {
		log_warnx("milter connect: out of memory; not looking");
		return SMFIS_ACCEPT;
	}
	addr[0] = '\0';
	if (sa != NULL && sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((struct sockaddr_in *)(void *)sa)->
		    sin_addr, addr, sizeof(addr));
	else if (sa != NULL && sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((struct sockaddr_in6 *)(void *)sa)->
		    sin6_addr, addr, sizeof(addr));
	log_escape(h, sizeof(h), host, host != NULL ? strlen(host) : 0);
	if (addr[0] != '\0' && h[0] != '[')	/* "[addr]": no name */
		snprintf(mc->peer, sizeof(mc->peer), "%s [%s]", h, addr);
	else
		snprintf(mc->peer, sizeof(mc->peer), "%s", h);
	if ((j = milt_getsymval(ctx, "j")) != NULL)
		snprintf(mc->mta, sizeof(mc->mta), "%s", j);
	return SMFIS_CONTINUE;
}

sfsistat
milt_envfrom(SMFICTX *ctx, char **argv)
{
	struct milt_conn	*mc;
	int64_t			 n;
	size_t			 i;

	if ((mc = conn_get(ctx)) == NULL)
		return SMFIS_ACCEPT;	/* fail open */
	msg_reset(&mc->msg);
	mc->msg.id = atomic_fetch_add(&front->seq, 1) + 1;
	/* a declared size over the limit: never buffer a byte of it */
	for (i = 1; argv != NULL && argv[0] != NULL && argv[i] != NULL; i++)
		if (strncasecmp(argv[i], "SIZE=", 5) == 0 &&
		    util_strtoi64(argv[i] + 5, 0, INT64_MAX, &n) == 0)
			mc->msg.declared = (size_t)n;
	return SMFIS_CONTINUE;
}

sfsistat
milt_envrcpt(SMFICTX *ctx, char **argv)
{
	struct milt_conn	*mc;
	struct milt_msg		*mm;

	if ((mc = milt_getpriv(ctx)) == NULL || argv == NULL ||
	    argv[0] == NULL)
		return SMFIS_CONTINUE;
	mm = &mc->msg;
	if (!rcpt_listed(mc->conf, argv[0])) {
		mm->others = 1;
		return SMFIS_CONTINUE;
	}
	/* a bounded number of messages buffered at once: the first listed
	 * recipient takes a slot until the message ends; none left, 451 */
	if (!mm->listed && mc->conf->max_inflight > 0) {
		if (atomic_fetch_add(&front->inflight, 1) >=
		    (int)mc->conf->max_inflight) {
			atomic_fetch_sub(&front->inflight, 1);
			atomic_fetch_add(&front->st.busy, 1);
			log_warnx("%" PRIx64 " milter busy peer=\"%s\": %u "
			    "messages in flight, recipient deferred", mm->id,
			    mc->peer, mc->conf->max_inflight);
			milt_setreply(ctx, "451", "4.3.2", "tlsrpt-milter: "
			    "too many reports at once, try again later");
			return SMFIS_TEMPFAIL;
		}
		mm->slot = 1;
	}
	if (!mm->listed)
		atomic_fetch_add(&front->st.seen, 1);
	mm->listed = 1;
	if (mm->nrcpts < MILT_RCPT_MAX &&
	    (mm->rcpts[mm->nrcpts] = strdup(argv[0])) != NULL)
		mm->nrcpts++;
	else
		mm->others = 1;		/* cannot delete it: keep delivery */
	return SMFIS_CONTINUE;
}

/* Past RCPT: a message for no listed recipient is none of our business. */
sfsistat
milt_data(SMFICTX *ctx)
{
	struct milt_conn	*mc;
	struct milt_msg		*mm;

	if ((mc = milt_getpriv(ctx)) == NULL || !mc->msg.listed)
		return SMFIS_ACCEPT;
	mm = &mc->msg;
	if (mm->declared > mc->conf->max_size && !mm->too_big) {
		mm->too_big = 1;
		log_info("%" PRIx64 " milter skip reason=too-big declared=%zu "
		    "limit=%zu", mm->id, mm->declared, mc->conf->max_size);
	}
	return SMFIS_CONTINUE;
}

sfsistat
milt_header(SMFICTX *ctx, char *name, char *value)
{
	struct milt_conn	*mc;
	struct milt_msg		*mm;

	if ((mc = milt_getpriv(ctx)) == NULL || !mc->msg.listed)
		return SMFIS_ACCEPT;
	mm = &mc->msg;
	if (name == NULL || value == NULL)
		return SMFIS_CONTINUE;
	if (mm->declared > mc->conf->max_size)
		mm->too_big = 1;
	if (strcasecmp(name, MILT_HEADER) == 0)
		mm->nours++;
	/* the topmost A-R of our authserv-id: the one our MTA wrote */
	if (!mm->have_ar && strcasecmp(name, "Authentication-Results") == 0)
		mm->have_ar = milt_ar_parse(value, authserv_id(mc), mm->dkim,
		    MILT_DKIM_MAX, &mm->ndkim);
	append(mc, name, strlen(name));
	append(mc, mc->leadspc ? ":" : ": ", mc->leadspc ? 1 : 2);
	append_crlf(mc, value);
	append(mc, "\r\n", 2);
	return SMFIS_CONTINUE;
}

sfsistat
milt_eoh(SMFICTX *ctx)
{
	struct milt_conn	*mc;

	if ((mc = milt_getpriv(ctx)) == NULL || !mc->msg.listed)
		return SMFIS_ACCEPT;
	append(mc, "\r\n", 2);
	return SMFIS_CONTINUE;
}

sfsistat
milt_body(SMFICTX *ctx, unsigned char *chunk, size_t len)
{
	struct milt_conn	*mc;

	if ((mc = milt_getpriv(ctx)) == NULL || !mc->msg.listed)
		return SMFIS_ACCEPT;
	append(mc, chunk, len);		/* not NUL-terminated; copied */
	return SMFIS_CONTINUE;
}

sfsistat
milt_eom(SMFICTX *ctx)
{
	struct milt_conn	*mc;
	struct milt_msg		*mm;
	struct submit_ctx	 sc;
	struct submit_in	 in;
	struct submit_verdict	 v;
	char			 xqid[MILT_EXTRA_MAX];
	const char		*qid;
	sfsistat		 rv;

	if ((mc = milt_getpriv(ctx)) == NULL || !mc->msg.listed)
		return SMFIS_CONTINUE;
	mm = &mc->msg;
	if ((qid = milt_getsymval(ctx, "i")) == NULL)
		qid = "-";
	if (mm->too_big) {
		atomic_fetch_add(&front->st.too_big, 1);
		log_info("%" PRIx64 " milter accepted qid=%s reason=too-big "
		    "limit=%zu: delivered untouched", mm->id, qid,
		    mc->conf->max_size);
		msg_reset(mm);
		return SMFIS_CONTINUE;
	}
	atomic_fetch_add(&front->msgs, 1);
	memset(&sc, 0, sizeof(sc));
	sc.spool = front->spool;
	sc.stored = front->stored;
	sc.stored_arg = front->stored_arg;
	sc.domains = &mc->conf->domain;
	sc.require_dkim = mc->conf->require_dkim;
	ingest_limits_default(&sc.lim);
	sc.lim.mail_max = mc->conf->max_size;
	sc.keep_max = LIM_REJECT_KEEP_BYTES;
	memset(&in, 0, sizeof(in));
	in.transport = SUBMIT_MAIL;
	in.buf = mm->buf.data;
	in.len = mm->buf.len;
	in.peer = mc->peer;
	snprintf(xqid, sizeof(xqid), "x-queue-id: %s", qid);
	in.extra[0] = xqid;
	in.trust = milt_trust;
	in.trust_arg = mc;
	(void)submit_verdict(&sc, &in, &v);
	rv = reply(ctx, mc, &v, qid);
	msg_reset(mm);
	atomic_fetch_sub(&front->msgs, 1);
	return rv;
}

/*
 * The DKIM verdict of the message for its parsed report: "pass d=...
 * aligned" and 1 when trusted (milt_dkim_check(): libopendkim over
 * the message as received).  arg is the struct milt_conn: the whole
 * message is in its msg.buf.
 */
static int
milt_trust(void *arg, const struct tlsrpt_report *rep, char *out,
    size_t outsz)
{
	struct milt_conn	*mc = arg;

	return milt_dkim_check(mc->conf->dkv, mc->msg.buf.data,
	    mc->msg.buf.len, mc->msg.dkim, mc->msg.ndkim, rep->hdr_submitter,
	    rep->contact_info, out, outsz);
}

sfsistat
milt_abort(SMFICTX *ctx)
{
	struct milt_conn	*mc;

	if ((mc = milt_getpriv(ctx)) != NULL)
		msg_reset(&mc->msg);
	return SMFIS_CONTINUE;
}

sfsistat
milt_close(SMFICTX *ctx)
{
	struct milt_conn	*mc;

	if ((mc = milt_getpriv(ctx)) == NULL)	/* may be the only call */
		return SMFIS_CONTINUE;
	msg_reset(&mc->msg);
	conf_put(mc->conf);
	free(mc);
	milt_setpriv(ctx, NULL);
	atomic_fetch_sub(&front->conns, 1);
	return SMFIS_CONTINUE;
}

/* --- end of message --------------------------------------------------- */

/*
 * The verdict as the MTA's answer: 451 when the spool (or memory) failed,
 * else accept (or discard) with our header saying what became of it.
 */
static sfsistat
reply(SMFICTX *ctx, struct milt_conn *mc, const struct submit_verdict *v,
    const char *qid)
{
	struct milt_msg		*mm = &mc->msg;
	char			 esc[MILT_ESC_MAX], reason[SUBMIT_REASON_MAX + 32];
	char			 desc[SUBMIT_REASON_MAX + 64];
	size_t			 i;

	snprintf(reason, sizeof(reason), "%s: %s", v->token, v->reason);
	switch (v->cls) {
	case SUBMIT_TEMPFAIL:
	case SUBMIT_NOMEM:
		atomic_fetch_add(&front->st.tempfail, 1);
		errno = v->spool_errno;
		if (v->cls == SUBMIT_TEMPFAIL)
			log_warn("%" PRIx64 " milter tempfail qid=%s "
			    "peer=\"%s\": cannot spool the report", mm->id,
			    qid, mc->peer);
		else
			log_warnx("%" PRIx64 " milter tempfail qid=%s "
			    "peer=\"%s\": out of memory", mm->id, qid,
			    mc->peer);
		milt_setreply(ctx, "451", "4.3.0", v->cls == SUBMIT_TEMPFAIL ?
		    "tlsrpt-milter: cannot store the report now, try again "
		    "later" : "tlsrpt-milter: out of memory, try again later");
		return SMFIS_TEMPFAIL;
	case SUBMIT_REFUSED_MEDIA:
	case SUBMIT_TOO_BIG:
	case SUBMIT_NOT_A_REPORT:
		atomic_fetch_add(&front->st.no_report, 1);
		log_info("%" PRIx64 " milter accepted qid=%s peer=\"%s\" "
		    "reason=no-report detail=\"%s\"", mm->id, qid, mc->peer,
		    log_escape(desc, sizeof(desc), reason, strlen(reason)));
		return finish(ctx, mc, "rejected", reason);
	case SUBMIT_FORBIDDEN_DOMAIN:
	case SUBMIT_UNTRUSTED:
		atomic_fetch_add(&front->st.rejected, 1);
		log_info("%" PRIx64 " milter rejected qid=%s peer=\"%s\" "
		    "reason=\"%s\": kept in bad/, delivered", mm->id, qid,
		    mc->peer, log_escape(esc, sizeof(esc), reason,
		    strlen(reason)));
		return finish(ctx, mc, "rejected", reason);
	case SUBMIT_STORED:
	case SUBMIT_DUPLICATE:
	default:
		break;
	}
	if (v->cls == SUBMIT_DUPLICATE)
		atomic_fetch_add(&front->st.duplicates, 1);
	else
		atomic_fetch_add(&front->st.spooled, 1);
	if (v->trusted)
		atomic_fetch_add(&front->st.trusted, 1);
	log_info("%" PRIx64 " milter %s qid=%s peer=\"%s\" org=\"%s\" "
	    "dkim=\"%s\"%s", mm->id, v->cls == SUBMIT_DUPLICATE ?
	    "duplicate" : "spooled", qid, mc->peer, v->org, v->dkim[0] !=
	    '\0' ? v->dkim : "-", v->foreign > 0 ? " foreign-policies=yes" :
	    "");
	if (mc->conf->discard) {
		atomic_fetch_add(&front->st.discarded, 1);
		if (!mm->others)
			return SMFIS_DISCARD;
		/* other recipients keep their copy; ours are dropped */
		for (i = 0; i < mm->nrcpts; i++)
			if (milt_delrcpt(ctx, mm->rcpts[i]) != MI_SUCCESS)
				log_warnx("%" PRIx64 " milter cannot remove a "
				    "recipient", mm->id);
	}
	return finish(ctx, mc, v->cls == SUBMIT_DUPLICATE ? "duplicate" :
	    "spooled", NULL);
}

/* Accept, with our header saying outcome (and reason). */
static sfsistat
finish(SMFICTX *ctx, struct milt_conn *mc, const char *outcome,
    const char *reason)
{
	char	val[MILT_REASON_MAX + 32], clean[MILT_REASON_MAX];

	if (reason != NULL) {
		clean_text(clean, sizeof(clean), reason);
		snprintf(val, sizeof(val), "%s %s", outcome, clean);
	} else
		snprintf(val, sizeof(val), "%s", outcome);
	add_header(ctx, mc, val);
	return SMFIS_CONTINUE;
}

/* Replace the X-TLSRPT-Collector headers the message came with. */
static void
add_header(SMFICTX *ctx, struct milt_conn *mc, const char *val)
{
	char	sp[MILT_REASON_MAX + 40];
	int	i;

	for (i = mc->msg.nours; i > 0; i--)
		(void)milt_chgheader(ctx, MILT_HEADER, i, NULL);
	/* with SMFIP_HDR_LEADSPC the MTA adds no space after the colon */
	snprintf(sp, sizeof(sp), "%s%s", mc->leadspc ? " " : "", val);
	if (milt_addheader(ctx, MILT_HEADER, sp) != MI_SUCCESS)
		log_warnx("%" PRIx64 " milter cannot add the %s header",
		    mc->msg.id, MILT_HEADER);
}

/* One line of printable ASCII for a header: others become '?'. */
static void
clean_text(char *dst, size_t dstsz, const char *src)
{
	size_t	i;

	for (i = 0; src != NULL && src[i] != '\0' && i + 1 < dstsz; i++)
		dst[i] = (src[i] >= 0x20 && src[i] < 0x7f) ? src[i] : '?';
	dst[i] = '\0';
}

/* "<Tlsrpt@Example.COM>" is listed as tlsrpt@example.com. */
static int
rcpt_listed(const struct milt_conf *c, const char *arg)
{
	const char	*p = arg;
	size_t		 n, i;

	while (*p == ' ' || *p == '<')
		p++;
	n = strlen(p);
	while (n > 0 && (p[n - 1] == '>' || p[n - 1] == ' '))
		n--;
	for (i = 0; i < c->rcpt.n; i++)
		if (strlen(c->rcpt.v[i]) == n &&
		    strncasecmp(c->rcpt.v[i], p, n) == 0)
			return 1;
	return 0;
}

static const char *
authserv_id(const struct milt_conn *mc)
{
	if (mc->conf->authserv_id != NULL)
		return mc->conf->authserv_id;
	return mc->mta[0] != '\0' ? mc->mta : NULL;
}
