/*
 * live.h -- tlsrpt check: the live MTA-STS, TLS-RPT and MX setup of a
 * domain, looked up and connected to now (issue 11).  The only header of
 * live/ that other directories include.
 *
 * Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
 *
 * live/ does network I/O (libunbound for DNS, GnuTLS for HTTPS and
 * STARTTLS), so it is not ingest/; the policy text is parsed by ingest's
 * RFC 8461 parser and MX hosts are matched by its §4.1 matcher.
 */

#ifndef TLSRPT_LIVE_H
#define TLSRPT_LIVE_H

#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "ingest.h"

enum live_sev {
	LIVE_OK = 0,		/* a note: something checked is waived */
	LIVE_WARN = 1,		/* leaves the domain unprotected */
	LIVE_CRIT = 2,		/* refuses or endangers mail */
};

/* One finding.  code, rfc and next are static strings; what lives in the
 * result's arena. */
struct live_finding {
	enum live_sev	 sev;
	const char	*code;		/* stable: "sts-record-missing" */
	const char	*what;		/* one line, printable */
	const char	*rfc;		/* "RFC 8461 §3.1" */
	const char	*next;		/* one next step */
};

/* What one run is told; every pointer stays the caller's. */
struct live_opts {
	const char	*resolver;	/* "ADDR[@PORT]"; NULL: resolv.conf */
	const char	*ca_file;	/* PEM; NULL: the system trust store */
	const char	*trust_anchor;	/* DNSSEC anchors file; NULL: the
					 * system's root key when present;
					 * "none": no validation */
	const char	*rua;		/* this collector's rua URI, or NULL */
	int		 timeout_ms;	/* one domain, all of it */
	int		 smtp;		/* 1: connect to each MX on port 25 */
	int		 smtp_port;	/* 25 */
};

/* One MX host as found. */
struct live_mx {
	const char	*host;		/* lower case, no trailing dot */
	int		 pref;
	int		 covered;	/* by a policy mx pattern */
	int		 probed;	/* port 25 was tried */
	int		 starttls;	/* offered */
	int		 tls_version;	/* 12 for TLS 1.2, 13; 0 none */
	int		 cert_ok;	/* chain and name verified */
	int64_t		 cert_days;	/* days to expiry; INT64_MIN unknown */
	int		 dane;		/* 0 no validated TLSA, 1 the chain
					 * matches one, 2 it matches none */
	int		 dane_ee;	/* 1: a DANE-EE record matches: the
					 * certificate's chain, names and
					 * dates are not checked (RFC 7672
					 * §3.1.1) */
};

/* The result of one domain.  Everything lives in a; free with
 * live_result_free(). */
struct live_result {
	const char		*domain;
	const char		*sts_id;	/* NULL: no valid record */
	int			 policy_ok;	/* fetched and parsed */
	struct sts_policy	 policy;
	const char		**rua;
	size_t			 nrua;
	struct live_mx		*mx;
	size_t			 nmx;
	struct live_finding	*f;
	size_t			 nf, fcap;
	struct arena		 a;
};

/*
 * Check domain now, within opts->timeout_ms.  Fills *r (which the caller
 * releases with live_result_free() whatever the return).  Returns 0 when
 * the check ran (what it found is in r->f), -1 when it could not run (a
 * bad --resolver or --trust-anchor, out of memory), err says why.
 */
int	live_check(const struct live_opts *, const char *domain,
	    struct live_result *r, char *err, size_t errsz);
void	live_result_free(struct live_result *);

/*
 * Append a finding to r: code, rfc and next are static strings (a ".D"
 * in next names the domain), what is printf-formatted (control
 * characters become '?').  Returns 0, or -1 when out of memory.  For the
 * findings other layers add (report-cli: the stored reports).
 */
int	live_finding_add(struct live_result *r, enum live_sev sev,
	    const char *code, const char *rfc, const char *next,
	    const char *fmt, ...) __attribute__((format(printf, 6, 7)));

/*
 * Check the n domains doms[] (the caller's), at most LIM_LIVE_PARALLEL
 * at once, each within opts->timeout_ms, so all of them within
 * ceil(n / LIM_LIVE_PARALLEL) timeouts.  Calls each(arg, i, r) on the
 * calling thread for i = 0 .. n - 1 in that order as soon as domain i is
 * done; r is released after each returns (each may add findings to it).
 * Returns 0; -1 when a domain could not be checked (err: "DOMAIN:
 * why") or each returned -1 (err empty: each said why), and no further
 * domain is handed over.
 */
int	live_check_many(const struct live_opts *, const char *const *doms,
	    size_t n, int (*each)(void *arg, size_t i, struct live_result *r),
	    void *arg, char *err, size_t errsz);

/* The worst severity among r's findings. */
enum live_sev	live_worst(const struct live_result *);

/* "ok", "warning", "critical". */
const char	*live_sev_name(enum live_sev);

#endif
