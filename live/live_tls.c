/*
 * live_tls.c -- connections with a deadline and the GnuTLS client of
 * tlsrpt check (the policy fetch and STARTTLS).
 *
 * Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
 *
 * Sockets are non-blocking and every wait is a poll() bounded by the
 * caller's deadline.  The certificate is verified after the handshake
 * (gnutls_certificate_verify_peers3 with the host name: the chain to
 * --ca-file or the system store, and the RFC 6125 name rules), so that
 * a failure is reported by what failed rather than as a failed
 * handshake.
 */

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/dane.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "live_int.h"
#include "tlsrpt_limits.h"

#define LTLS_PRIO_MIN12	"NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2"
#define LTLS_PRIO_ANY	"NORMAL:+VERS-TLS1.1:+VERS-TLS1.0"

struct ltls {
	gnutls_session_t			 s;
	gnutls_certificate_credentials_t	 cred;
	int					 fd;
};

static void	ltls_verify(struct ltls *, const char *, struct ltls_info *);
static int	ltls_dane_ee(dane_state_t, const struct ldns_q *,
		    const gnutls_datum_t *, unsigned int);
static void	ltls_dane(struct ltls *, const struct ldns_q *,
		    struct ltls_info *);
static int	ltls_wait(struct ltls *, int64_t);

int64_t
live_now_ms(void)
{
	struct timespec	ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) == -1)
		return 0;
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

size_t
live_addrs(const struct ldns_q *a4, const struct ldns_q *a6, int port,
    struct live_addr *out, size_t max)
{
	struct sockaddr_in	*s4;
	struct sockaddr_in6	*s6;
	size_t			 n = 0, i;

	for (i = 0; a4 != NULL && a4->status == LDNS_OK && i < a4->nrr &&
	    n < max; i++) {
		if (a4->rrlen[i] != 4)
			continue;
		memset(&out[n], 0, sizeof(out[n]));
		s4 = (struct sockaddr_in *)&out[n].ss;
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		memcpy(&s4->sin_addr, a4->rr[i], 4);
		out[n++].len = sizeof(*s4);
	}
	for (i = 0; a6 != NULL && a6->status == LDNS_OK && i < a6->nrr &&
	    n < max; i++) {
		if (a6->rrlen[i] != 16)
			continue;
		memset(&out[n], 0, sizeof(out[n]));
		s6 = (struct sockaddr_in6 *)&out[n].ss;
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		memcpy(&s6->sin6_addr, a6->rr[i], 16);
		out[n++].len = sizeof(*s6);
	}
	return n;
}

int
live_wait(int fd, short events, int64_t deadline)
{
	struct pollfd	pfd;
	int64_t		now;
	int		rc;

	for (;;) {
		if ((now = live_now_ms()) >= deadline) {
			errno = ETIMEDOUT;
			return -1;
		}
		pfd.fd = fd;
		pfd.events = events;
		pfd.revents = 0;
		rc = poll(&pfd, 1, (int)(deadline - now));
		if (rc == -1 && errno == EINTR)
			continue;
		if (rc == -1)
			return -1;
		if (rc > 0)
			return 0;
	}
}

int
live_connect(const struct live_addr *ad, int64_t deadline, char *err,
    size_t errsz)
{
	char		 host[INET6_ADDRSTRLEN] = "?";
	const void	*ap;
	socklen_t	 sl;
	int		 fd, fl, soerr = 0, port;

	if (ad->ss.ss_family == AF_INET) {
		ap = &((const struct sockaddr_in *)&ad->ss)->sin_addr;
		port = ntohs(((const struct sockaddr_in *)&ad->ss)->sin_port);
	} else {
		ap = &((const struct sockaddr_in6 *)&ad->ss)->sin6_addr;
		port = ntohs(((const struct sockaddr_in6 *)&ad->ss)->
		    sin6_port);
	}
	(void)inet_ntop(ad->ss.ss_family, ap, host, sizeof(host));
	if ((fd = socket(ad->ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0)) ==
	    -1) {
		snprintf(err, errsz, "socket: %s", strerror(errno));
		return -1;
	}
	if ((fl = fcntl(fd, F_GETFL)) == -1 ||
	    fcntl(fd, F_SETFL, fl | O_NONBLOCK) == -1) {
		snprintf(err, errsz, "fcntl: %s", strerror(errno));
		goto fail;
	}
	if (connect(fd, (const struct sockaddr *)&ad->ss, ad->len) == 0)
		return fd;
	if (errno != EINPROGRESS) {
		soerr = errno;
		goto refused;
	}
	if (live_wait(fd, POLLOUT, deadline) == -1) {
		soerr = errno;
		goto refused;
	}
	sl = sizeof(soerr);
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) == -1)
		soerr = errno;
	if (soerr == 0)
		return fd;
refused:
	snprintf(err, errsz, "connect to %s port %d: %s", host, port,
	    strerror(soerr));
fail:
	close(fd);
	return -1;
}

struct ltls *
ltls_handshake(int fd, const char *host, const char *ca_file, int min12,
    const struct ldns_q *tlsa, int64_t deadline, struct ltls_info *info,
    char *err, size_t errsz)
{
	struct ltls	*t;
	int		 rc;

	memset(info, 0, sizeof(*info));
	info->not_after = INT64_MIN;
	if ((t = calloc(1, sizeof(*t))) == NULL) {
		snprintf(err, errsz, "out of memory");
		return NULL;
	}
	t->fd = fd;
	if ((rc = gnutls_certificate_allocate_credentials(&t->cred)) < 0)
		goto gfail;
	if (ca_file != NULL)
		rc = gnutls_certificate_set_x509_trust_file(t->cred, ca_file,
		    GNUTLS_X509_FMT_PEM);
	else
		rc = gnutls_certificate_set_x509_system_trust(t->cred);
	if (rc <= 0) {
		snprintf(err, errsz, "no trusted certificate in %s%s",
		    ca_file != NULL ? ca_file : "the system trust store",
		    rc < 0 ? ": cannot read it" : "");
		goto fail;
	}
	if ((rc = gnutls_init(&t->s, GNUTLS_CLIENT | GNUTLS_NONBLOCK)) < 0 ||
	    (rc = gnutls_priority_set_direct(t->s, min12 ? LTLS_PRIO_MIN12 :
	    LTLS_PRIO_ANY, NULL)) < 0 ||
	    (rc = gnutls_credentials_set(t->s, GNUTLS_CRD_CERTIFICATE,
	    t->cred)) < 0 ||
	    (rc = gnutls_server_name_set(t->s, GNUTLS_NAME_DNS, host,
	    strlen(host))) < 0)
		goto gfail;
	gnutls_transport_set_int(t->s, fd);
	while ((rc = gnutls_handshake(t->s)) < 0) {
		if (gnutls_error_is_fatal(rc)) {
			snprintf(err, errsz, "TLS handshake with %s failed: "
			    "%s%s", host, gnutls_strerror(rc),
			    min12 ? " (TLS 1.2 or later required)" : "");
			goto fail;
		}
		if (ltls_wait(t, deadline) == -1) {
			snprintf(err, errsz, "TLS handshake with %s: %s", host,
			    strerror(errno));
			goto fail;
		}
	}
	switch (gnutls_protocol_get_version(t->s)) {
	case GNUTLS_TLS1_0:
		info->version = 10;
		break;
	case GNUTLS_TLS1_1:
		info->version = 11;
		break;
	case GNUTLS_TLS1_2:
		info->version = 12;
		break;
	case GNUTLS_TLS1_3:
		info->version = 13;
		break;
	default:
		info->version = 0;
		break;
	}
	ltls_verify(t, host, info);
	if (tlsa != NULL && tlsa->status == LDNS_OK && tlsa->nrr > 0)
		ltls_dane(t, tlsa, info);
	return t;
gfail:
	snprintf(err, errsz, "GnuTLS: %s", gnutls_strerror(rc));
fail:
	ltls_free(t);
	return NULL;
}

void
ltls_free(struct ltls *t)
{
	if (t == NULL)
		return;
	if (t->s != NULL)
		gnutls_deinit(t->s);
	if (t->cred != NULL)
		gnutls_certificate_free_credentials(t->cred);
	free(t);
}

ssize_t
ltls_write(struct ltls *t, const void *buf, size_t len, int64_t deadline)
{
	size_t	off = 0;
	ssize_t	rc;

	while (off < len) {
		rc = gnutls_record_send(t->s, (const char *)buf + off,
		    len - off);
		if (rc >= 0) {
			off += (size_t)rc;
			continue;
		}
		if (gnutls_error_is_fatal((int)rc) ||
		    ltls_wait(t, deadline) == -1)
			return -1;
	}
	return (ssize_t)len;
}

ssize_t
ltls_read(struct ltls *t, void *buf, size_t len, int64_t deadline)
{
	ssize_t	rc;

	for (;;) {
		rc = gnutls_record_recv(t->s, buf, len);
		if (rc >= 0)
			return rc;
		/* a peer that closes without close_notify: the end; the
		 * lengths are checked by the caller */
		if (rc == GNUTLS_E_PREMATURE_TERMINATION)
			return 0;
		if (gnutls_error_is_fatal((int)rc) ||
		    ltls_wait(t, deadline) == -1)
			return -1;
	}
}

static int
ltls_wait(struct ltls *t, int64_t deadline)
{
	return live_wait(t->fd, gnutls_record_get_direction(t->s) ? POLLOUT :
	    POLLIN, deadline);
}

static void
ltls_verify(struct ltls *t, const char *host, struct ltls_info *info)
{
	const gnutls_datum_t	*certs;
	gnutls_x509_crt_t	 crt;
	gnutls_datum_t		 out = { NULL, 0 };
	unsigned int		 status = 0, n = 0;
	time_t			 na;
	int			 rc;

	if ((certs = gnutls_certificate_get_peers(t->s, &n)) != NULL &&
	    n > 0 && gnutls_x509_crt_init(&crt) >= 0) {
		if (gnutls_x509_crt_import(crt, &certs[0],
		    GNUTLS_X509_FMT_DER) >= 0 &&
		    (na = gnutls_x509_crt_get_expiration_time(crt)) !=
		    (time_t)-1)
			info->not_after = (int64_t)na;
		gnutls_x509_crt_deinit(crt);
	}
	if ((rc = gnutls_certificate_verify_peers3(t->s, host, &status)) <
	    0) {
		info->verdict = LTLS_INVALID;
		snprintf(info->why, sizeof(info->why), "%s",
		    gnutls_strerror(rc));
		return;
	}
	if (status == 0) {
		info->verdict = LTLS_VERIFIED;
		return;
	}
	if (status & (GNUTLS_CERT_SIGNER_NOT_FOUND | GNUTLS_CERT_SIGNER_NOT_CA))
		info->problems |= LTLS_P_UNTRUSTED;
	if (status & GNUTLS_CERT_UNEXPECTED_OWNER)
		info->problems |= LTLS_P_NAME;
	if (status & GNUTLS_CERT_EXPIRED)
		info->problems |= LTLS_P_EXPIRED;
	if (status & GNUTLS_CERT_EXPIRED)
		info->verdict = LTLS_EXPIRED;
	else if (status & (GNUTLS_CERT_SIGNER_NOT_FOUND |
	    GNUTLS_CERT_SIGNER_NOT_CA))
		info->verdict = LTLS_UNTRUSTED;
	else if (status & GNUTLS_CERT_UNEXPECTED_OWNER)
		info->verdict = LTLS_NAME;
	else
		info->verdict = LTLS_INVALID;
	if (gnutls_certificate_verification_status_print(status,
	    GNUTLS_CRT_X509, &out, 0) >= 0 && out.data != NULL) {
		snprintf(info->why, sizeof(info->why), "%s", out.data);
		gnutls_free(out.data);
	} else
		snprintf(info->why, sizeof(info->why), "status 0x%x", status);
	n = (unsigned int)strlen(info->why);
	while (n > 0 && info->why[n - 1] == ' ')
		info->why[--n] = '\0';
}

/* 1 when the leaf matches one of the DANE-EE (usage 3) records of
 * tlsa by themselves (RFC 7672 §3.1.1: then its names and validity
 * dates are not checked), else 0. */
static int
ltls_dane_ee(dane_state_t st, const struct ldns_q *tlsa,
    const gnutls_datum_t *certs, unsigned int n)
{
	dane_query_t	 q = NULL;
	char		*rr[LIM_LIVE_TLSA_EE_MAX + 1];
	int		 len[LIM_LIVE_TLSA_EE_MAX + 1], ok = 0;
	unsigned int	 verify = 0;
	size_t		 i, k = 0;

	for (i = 0; i < tlsa->nrr && k < LIM_LIVE_TLSA_EE_MAX; i++)
		if (tlsa->rrlen[i] > 3 && tlsa->rr[i][0] == 3) {
			rr[k] = (char *)tlsa->rr[i];
			len[k++] = tlsa->rrlen[i];
		}
	if (k == 0)
		return 0;
	rr[k] = NULL;
	len[k] = 0;
	if (dane_raw_tlsa(st, &q, rr, len, 1, 0) >= 0 &&
	    dane_verify_crt_raw(st, certs, n, GNUTLS_CRT_X509, q, 0, 0,
	    &verify) >= 0 && verify == 0)
		ok = 1;
	if (q != NULL)
		dane_query_deinit(q);
	return ok;
}

/* The presented chain against the TLSA records (RFC 7672 §3, RFC 6698
 * §2.1): GnuTLS's DANE matching on data libunbound validated. */
static void
ltls_dane(struct ltls *t, const struct ldns_q *tlsa, struct ltls_info *info)
{
	const gnutls_datum_t	*certs;
	dane_state_t		 st = NULL;
	dane_query_t		 q = NULL;
	gnutls_datum_t		 out = { NULL, 0 };
	unsigned int		 n = 0, verify = 0;
	int			 rc;

	info->dane = LTLS_DANE_MISMATCH;
	if ((certs = gnutls_certificate_get_peers(t->s, &n)) == NULL ||
	    n == 0) {
		snprintf(info->dane_why, sizeof(info->dane_why), "no "
		    "certificate presented");
		return;
	}
	if ((rc = dane_state_init(&st, DANE_F_IGNORE_DNSSEC |
	    DANE_F_IGNORE_LOCAL_RESOLVER)) < 0 ||
	    (rc = dane_raw_tlsa(st, &q, (char *const *)tlsa->rr,
	    tlsa->rrlen, 1, 0)) < 0 ||
	    (rc = dane_verify_crt_raw(st, certs, n, GNUTLS_CRT_X509, q, 0, 0,
	    &verify)) < 0) {
		snprintf(info->dane_why, sizeof(info->dane_why), "%s",
		    dane_strerror(rc));
		goto out;
	}
	if (verify == 0) {
		info->dane = LTLS_DANE_MATCH;
		info->dane_ee = ltls_dane_ee(st, tlsa, certs, n);
		goto out;
	}
	if (dane_verification_status_print(verify, &out, 0) >= 0 &&
	    out.data != NULL) {
		snprintf(info->dane_why, sizeof(info->dane_why), "%s",
		    out.data);
		gnutls_free(out.data);
	} else
		snprintf(info->dane_why, sizeof(info->dane_why), "status 0x%x",
		    verify);
	n = (unsigned int)strlen(info->dane_why);
	while (n > 0 && info->dane_why[n - 1] == ' ')
		info->dane_why[--n] = '\0';
out:
	if (q != NULL)
		dane_query_deinit(q);
	if (st != NULL)
		dane_state_deinit(st);
}
