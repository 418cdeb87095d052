/*
 * live_dns.c -- DNS for tlsrpt check: libunbound, every question of a
 * step asked at once, one deadline, DNSSEC validated when an anchor is
 * configured.
 *
 * Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
 *
 * --resolver ADDR[@PORT] forwards every question to that server
 * (ub_ctx_set_fwd); without it the servers of /etc/resolv.conf.  The
 * trust anchor is --trust-anchor FILE, else the system's root key
 * (Debian dns-root-data) when it is installed; "none" turns validation
 * off.  Answers are copied into the caller's arena before the
 * ub_result is freed, so nothing of libunbound outlives ldns_free().
 */

#include <ctype.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <unbound.h>

#include "live_int.h"

#define LDNS_ROOT_KEY	"/usr/share/dns/root.key"
#define LDNS_CLASS_IN	1

struct ldns {
	struct ub_ctx	*ctx;
	int		 validating;
};

/* What one callback needs: where the answer goes. */
struct ldns_pending {
	struct ldns_q	*q;
	struct arena	*a;
	int		 oom;
};

static void	ldns_cb(void *, int, struct ub_result *);

struct ldns *
ldns_new(const struct live_opts *o, char *err, size_t errsz)
{
	struct ldns	*d;
	const char	*ta = o->trust_anchor;
	int		 rc;

	if ((d = calloc(1, sizeof(*d))) == NULL) {
		snprintf(err, errsz, "out of memory");
		return NULL;
	}
	if ((d->ctx = ub_ctx_create()) == NULL) {
		snprintf(err, errsz, "libunbound: cannot create a context");
		goto fail;
	}
	/* a forwarder on loopback (127.0.0.53, a test server) is fine */
	if ((rc = ub_ctx_set_option(d->ctx, "do-not-query-localhost:",
	    "no")) != 0 ||
	    (rc = ub_ctx_async(d->ctx, 1)) != 0) {
		snprintf(err, errsz, "libunbound: %s", ub_strerror(rc));
		goto fail;
	}
	if (o->resolver != NULL) {
		if ((rc = ub_ctx_set_fwd(d->ctx, o->resolver)) != 0) {
			snprintf(err, errsz, "--resolver \"%s\": %s (ADDR or "
			    "ADDR@PORT)", o->resolver, ub_strerror(rc));
			goto fail;
		}
	} else if ((rc = ub_ctx_resolvconf(d->ctx, NULL)) != 0) {
		snprintf(err, errsz, "cannot read /etc/resolv.conf: %s "
		    "(or give --resolver ADDR)", ub_strerror(rc));
		goto fail;
	}
	if (ta == NULL && access(LDNS_ROOT_KEY, R_OK) == 0)
		ta = LDNS_ROOT_KEY;
	if (ta != NULL && strcmp(ta, "none") != 0 &&
	    (rc = ub_ctx_add_ta_file(d->ctx, ta)) != 0) {
		snprintf(err, errsz, "--trust-anchor \"%s\": %s", ta,
		    ub_strerror(rc));
		goto fail;
	}
	d->validating = ta != NULL && strcmp(ta, "none") != 0;
	return d;
fail:
	ldns_free(d);
	return NULL;
}

int
ldns_validating(const struct ldns *d)
{
	return d->validating;
}

void
ldns_free(struct ldns *d)
{
	if (d == NULL)
		return;
	if (d->ctx != NULL)
		ub_ctx_delete(d->ctx);
	free(d);
}

int
ldns_run(struct ldns *d, struct ldns_q *q, size_t n, int64_t deadline,
    struct arena *a, char *err, size_t errsz)
{
	struct ldns_pending	*p = NULL;
	struct pollfd		 pfd;
	size_t			 i, left;
	int64_t			 now;
	int			 rc, ret = -1;

	if (n == 0)
		return 0;
	if ((p = calloc(n, sizeof(*p))) == NULL) {
		snprintf(err, errsz, "out of memory");
		return -1;
	}
	for (i = 0; i < n; i++) {
		q[i].status = LDNS_PENDING;
		p[i].q = &q[i];
		p[i].a = a;
		if ((rc = ub_resolve_async(d->ctx, q[i].name, q[i].type,
		    LDNS_CLASS_IN, &p[i], ldns_cb, &q[i].async_id)) != 0) {
			q[i].status = LDNS_FAIL;
			q[i].why = ub_strerror(rc);
		}
	}
	for (;;) {
		for (left = 0, i = 0; i < n; i++)
			if (q[i].status == LDNS_PENDING)
				left++;
		if (left == 0)
			break;
		if ((now = live_now_ms()) >= deadline) {
			for (i = 0; i < n; i++)
				if (q[i].status == LDNS_PENDING) {
					(void)ub_cancel(d->ctx,
					    q[i].async_id);
					q[i].status = LDNS_TIMEOUT;
				}
			break;
		}
		pfd.fd = ub_fd(d->ctx);
		pfd.events = POLLIN;
		rc = poll(&pfd, 1, (int)(deadline - now));
		if (rc == -1 && errno != EINTR) {
			snprintf(err, errsz, "poll: %s", strerror(errno));
			goto out;
		}
		if (rc > 0 && (rc = ub_process(d->ctx)) != 0) {
			snprintf(err, errsz, "libunbound: %s",
			    ub_strerror(rc));
			goto out;
		}
	}
	for (i = 0; i < n; i++)
		if (p[i].oom) {
			snprintf(err, errsz, "out of memory");
			goto out;
		}
	ret = 0;
out:
	if (ret == -1)
		for (i = 0; i < n; i++)
			if (q[i].status == LDNS_PENDING) {
				(void)ub_cancel(d->ctx, q[i].async_id);
				q[i].status = LDNS_FAIL;
			}
	free(p);
	return ret;
}

static void
ldns_cb(void *arg, int rc, struct ub_result *res)
{
	struct ldns_pending	*p = arg;
	struct ldns_q		*q = p->q;
	size_t			 i, n;

	if (rc != 0 || res == NULL) {
		q->status = LDNS_FAIL;
		q->why = ub_strerror(rc);
		goto out;
	}
	q->rcode = res->rcode;
	q->secure = res->secure;
	if (res->bogus) {
		q->status = LDNS_BOGUS;
		q->why = res->why_bogus != NULL ?
		    arena_strndup(p->a, res->why_bogus,
		    strlen(res->why_bogus)) : "validation failed";
		if (q->why == NULL)
			p->oom = 1;
		goto out;
	}
	if (res->rcode != 0 && !res->nxdomain) {
		q->status = LDNS_FAIL;
		q->why = res->rcode == 2 ? "SERVFAIL" :
		    res->rcode == 5 ? "REFUSED" : "an error rcode";
		goto out;
	}
	if (!res->havedata) {
		q->status = LDNS_NODATA;
		goto out;
	}
	for (n = 0; res->data[n] != NULL; n++)
		;
	/* rr is NULL-terminated, as GnuTLS's dane_raw_tlsa() wants it */
	q->rr = arena_alloc(p->a, (n + 1) * sizeof(*q->rr));
	q->rrlen = arena_alloc(p->a, (n + 1) * sizeof(*q->rrlen));
	if (q->rr == NULL || q->rrlen == NULL) {
		p->oom = 1;
		q->status = LDNS_FAIL;
		goto out;
	}
	for (i = 0; i < n; i++) {
		q->rr[i] = (unsigned char *)arena_strndup(p->a, res->data[i],
		    (size_t)res->len[i]);
		if (q->rr[i] == NULL) {
			p->oom = 1;
			q->status = LDNS_FAIL;
			goto out;
		}
		q->rrlen[i] = res->len[i];
	}
	q->rr[n] = NULL;
	q->rrlen[n] = 0;
	q->nrr = n;
	q->status = LDNS_OK;
out:
	if (res != NULL)
		ub_resolve_free(res);
}

char *
ldns_txt(struct arena *a, const unsigned char *rd, int len, int *nul)
{
	char	*s;
	size_t	 o = 0, l;
	int	 i = 0;

	*nul = 0;
	if (len < 0 || (s = arena_alloc(a, (size_t)len + 1)) == NULL)
		return NULL;
	while (i < len) {
		l = rd[i++];
		if (l > (size_t)(len - i))
			return NULL;
		if (memchr(rd + i, '\0', l) != NULL)
			*nul = 1;
		memcpy(s + o, rd + i, l);
		o += l;
		i += (int)l;
	}
	s[o] = '\0';
	return s;
}

int
ldns_mx(struct arena *a, const unsigned char *rd, int len, int *pref,
    char **host)
{
	char	 name[256];
	size_t	 o = 0, l, j;
	int	 i = 2;

	if (len < 3)
		return -1;
	*pref = rd[0] << 8 | rd[1];
	while (i < len && rd[i] != 0) {
		l = rd[i++];
		if (l > 63 || l > (size_t)(len - i) ||
		    o + l + 1 >= sizeof(name))
			return -1;
		if (o > 0)
			name[o++] = '.';
		for (j = 0; j < l; j++)
			name[o++] = (char)tolower(rd[i + (int)j]);
		i += (int)l;
	}
	if (i >= len)
		return -1;
	name[o] = '\0';
	if ((*host = arena_strndup(a, name, o)) == NULL)
		return -1;
	return 0;
}
