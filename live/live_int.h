/*
 * live_int.h -- private to live/: DNS queries, connections with a
 * deadline, the TLS client, the policy fetch, the SMTP probe.
 *
 * Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
 */

#ifndef TLSRPT_LIVE_INT_H
#define TLSRPT_LIVE_INT_H

#include <sys/socket.h>

#include <stddef.h>
#include <stdint.h>

#include "live.h"
#include "tlsrpt_limits.h"

/* The monotonic clock in milliseconds; deadlines are on it. */
int64_t	live_now_ms(void);

/* --- live_dns.c: libunbound ------------------------------------------ */

#define LDNS_T_A	1
#define LDNS_T_MX	15
#define LDNS_T_TXT	16
#define LDNS_T_AAAA	28
#define LDNS_T_TLSA	52

enum ldns_status {
	LDNS_PENDING = 0,
	LDNS_OK,		/* answered with data */
	LDNS_NODATA,		/* NXDOMAIN or no record of the type */
	LDNS_FAIL,		/* SERVFAIL, REFUSED, a network error */
	LDNS_BOGUS,		/* DNSSEC validation failed */
	LDNS_TIMEOUT,		/* not answered by the deadline */
};

/* One question and its answer.  The rdata copies live in the arena
 * passed to ldns_run(). */
struct ldns_q {
	const char		 *name;
	int			  type;
	enum ldns_status	  status;
	int			  secure;	/* DNSSEC validated */
	int			  rcode;
	const char		 *why;		/* bogus or failure reason */
	unsigned char		**rr;		/* rdata, wire format; NULL-ended */
	int			 *rrlen;
	size_t			  nrr;
	int			  async_id;
};

struct ldns;

/* A resolver for opts (--resolver, --trust-anchor); NULL with err. */
struct ldns	*ldns_new(const struct live_opts *, char *err, size_t errsz);
void		 ldns_free(struct ldns *);
/* 1 when answers are DNSSEC-validated (a trust anchor is loaded). */
int		 ldns_validating(const struct ldns *);

/*
 * Ask all of q[0..n) at once and wait until each is answered or the
 * deadline (live_now_ms() scale) passes.  Returns 0, or -1 when out of
 * memory or libunbound failed (err says why).
 */
int	ldns_run(struct ldns *, struct ldns_q *q, size_t n, int64_t deadline,
	    struct arena *a, char *err, size_t errsz);

/* The TXT strings of rdata concatenated (RFC 7208 §3.3 style), into a
 * (NUL-terminated).  NULL when out of memory or malformed.  *nul is 1
 * when the strings hold a NUL byte: the C string ends before the record
 * does, and no record grammar allows one. */
char	*ldns_txt(struct arena *a, const unsigned char *rd, int len, int *nul);

/* The MX preference and host (lower case, no trailing dot); -1 when
 * malformed or out of memory. */
int	ldns_mx(struct arena *a, const unsigned char *rd, int len, int *pref,
	    char **host);

/* --- live_tls.c: connections with a deadline, the GnuTLS client ------- */

struct live_addr {
	struct sockaddr_storage	 ss;
	socklen_t		 len;
};

/* The addresses of A and AAAA answers, port set; returns how many (at
 * most max). */
size_t	live_addrs(const struct ldns_q *a4, const struct ldns_q *a6, int port,
	    struct live_addr *out, size_t max);

/* A connected non-blocking TCP socket, or -1 with err. */
int	live_connect(const struct live_addr *, int64_t deadline, char *err,
	    size_t errsz);

/* Wait until fd is readable (events POLLIN) or writable; 0, or -1 on
 * timeout (errno ETIMEDOUT) or a poll error. */
int	live_wait(int fd, short events, int64_t deadline);

struct ltls;

enum ltls_verdict {
	LTLS_VERIFIED = 0,
	LTLS_NAME,		/* the chain is valid, the name is not in it */
	LTLS_UNTRUSTED,		/* no path to a trusted root */
	LTLS_EXPIRED,		/* a certificate of the chain expired */
	LTLS_INVALID,		/* another verification failure */
};

/* Every problem of a verification, not only the verdict's: a self-signed
 * certificate that has also expired is both. */
#define LTLS_P_UNTRUSTED	0x01
#define LTLS_P_NAME		0x02
#define LTLS_P_EXPIRED		0x04

enum ltls_dane {
	LTLS_DANE_NONE = 0,	/* no TLSA records were given */
	LTLS_DANE_MATCH,	/* the chain matches one (RFC 7672 §3) */
	LTLS_DANE_MISMATCH,	/* it matches none */
};

/* What a handshake learnt. */
struct ltls_info {
	int			 version;	/* 10, 11, 12, 13 */
	enum ltls_verdict	 verdict;	/* the first of problems */
	unsigned		 problems;	/* LTLS_P_* */
	char			 why[256];	/* GnuTLS's words */
	int64_t			 not_after;	/* leaf; INT64_MIN unknown */
	enum ltls_dane		 dane;
	int			 dane_ee;	/* a DANE-EE (usage 3) record
						 * matches (RFC 7672 §3.1.1) */
	char			 dane_why[256];
};

/*
 * TLS client handshake on fd (which stays the caller's) for host (SNI,
 * RFC 6125 name check), trusting ca_file or the system store.  min12: 1
 * refuses TLS below 1.2.  tlsa: NULL, or validated TLSA records the
 * chain is matched against (GnuTLS DANE).  Returns a session (free with
 * ltls_free()) and fills *info, or NULL with err when the handshake
 * failed.
 */
struct ltls	*ltls_handshake(int fd, const char *host, const char *ca_file,
		    int min12, const struct ldns_q *tlsa, int64_t deadline,
		    struct ltls_info *info, char *err, size_t errsz);
void		 ltls_free(struct ltls *);
/* Like write(2)/read(2) with the deadline: bytes, 0 at the end (read),
 * -1 on error or timeout. */
ssize_t		 ltls_write(struct ltls *, const void *, size_t, int64_t);
ssize_t		 ltls_read(struct ltls *, void *, size_t, int64_t);

/* --- live_https.c: the policy fetch (RFC 8461 §3.3) ------------------- */

enum lh_status {
	LH_OK = 0,
	LH_CONNECT,		/* no address answered */
	LH_TLS,			/* handshake failed (TLS < 1.2 included) */
	LH_CERT,		/* certificate not valid for mta-sts.D */
	LH_HTTP,		/* not an HTTP/1.x answer, headers too long */
	LH_REDIRECT,		/* 3xx, not followed */
	LH_STATUS,		/* another status than 200 */
	LH_CTYPE,		/* not text/plain */
	LH_TOOBIG,		/* body over LIM_LIVE_POLICY_BYTES */
	LH_TIMEOUT,
};

struct lh_result {
	enum lh_status		 status;
	int			 http_status;
	struct ltls_info	 tls;
	char			 detail[512];	/* printable, for the finding */
	size_t			 len;
	char			 body[LIM_LIVE_POLICY_BYTES + 1]; /* NUL-ended */
};

/* GET https://host/.well-known/mta-sts.txt over one of addrs into *out
 * (the caller's; a large struct, allocate it).  Thread-safe. */
void	live_https_fetch(const char *host, const struct live_addr *addrs,
	    size_t naddrs, const char *ca_file, int64_t deadline,
	    struct lh_result *out);

/* --- live_smtp.c: port 25 (RFC 3207) ---------------------------------- */

enum ls_status {
	LS_OK = 0,
	LS_CONNECT,		/* no address answered */
	LS_PROTOCOL,		/* no 220 greeting, EHLO refused, ... */
	LS_NO_STARTTLS,		/* not offered in the EHLO answer */
	LS_STARTTLS_REFUSED,	/* offered, then not 220 */
	LS_TLS,			/* handshake failed */
	LS_TIMEOUT,
};

struct ls_result {
	enum ls_status		 status;
	struct ltls_info	 tls;
	char			 detail[512];
};

/* EHLO, STARTTLS and the handshake with host over one of addrs; tlsa as
 * for ltls_handshake().  Thread-safe. */
void	live_smtp_probe(const char *host, const struct live_addr *addrs,
	    size_t naddrs, const char *ca_file, const struct ldns_q *tlsa,
	    int64_t deadline, struct ls_result *out);

#endif
