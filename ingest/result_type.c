/*
 * result_type.c -- the RFC 8460 §4.3 result types: which are known, how
 * severe each is (DESIGN.md flag severity), and what each means.
 *
 * Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
 */

#include <stddef.h>
#include <string.h>

#include "ingest_int.h"

struct rtype {
	const char	*name;
	const char	*severity;	/* NULL: not a flag */
	const char	*meaning;
};

static const struct rtype rtypes[] = {
	{ "starttls-not-supported", "critical",
	  "an MX did not offer STARTTLS: downgrade attack or misconfigured MX" },
	{ "certificate-host-mismatch", "critical",
	  "an MX certificate does not name the host: wrong certificate or "
	  "an MX not covered by the policy" },
	{ "certificate-expired", "critical",
	  "an MX presented an expired certificate: renew it" },
	{ "certificate-not-trusted", "critical",
	  "an MX certificate does not chain to a trusted root: self-signed "
	  "or missing intermediate" },
	{ "validation-failure", "critical",
	  "the sender could not validate the MX: see failure-reason-code" },
	{ "tlsa-invalid", "critical",
	  "the TLSA records do not match the MX certificate (DANE)" },
	{ "dnssec-invalid", "critical",
	  "DNSSEC validation of the TLSA records failed" },
	{ "dane-required", "critical",
	  "DANE was required but the MX offered no usable TLSA records" },
	{ "sts-webpki-invalid", "critical",
	  "the MTA-STS policy host's HTTPS certificate is not valid" },
	{ "sts-policy-fetch-error", "warning",
	  "senders could not fetch the MTA-STS policy: check "
	  "mta-sts.<domain>/.well-known/mta-sts.txt" },
	{ "sts-policy-invalid", "warning",
	  "senders found the MTA-STS policy invalid: check its syntax" },
};

int
result_type_known(const char *rt)
{
	size_t	i;

	/* every known type starts with one of these letters */
	if (*rt != 's' && *rt != 'c' && *rt != 'v' && *rt != 't' &&
	    *rt != 'd')
		return 0;
	for (i = 0; i < sizeof(rtypes) / sizeof(rtypes[0]); i++)
		if (rtypes[i].name[0] == *rt && strcmp(rtypes[i].name, rt) == 0)
			return 1;
	return 0;
}

const char *
tlsrpt_result_severity(const char *rt)
{
	size_t	i;

	for (i = 0; i < sizeof(rtypes) / sizeof(rtypes[0]); i++)
		if (strcmp(rtypes[i].name, rt) == 0)
			return rtypes[i].severity;
	return "warning";	/* a type the RFC does not name */
}

const char *
tlsrpt_result_meaning(const char *rt)
{
	size_t	i;

	for (i = 0; i < sizeof(rtypes) / sizeof(rtypes[0]); i++)
		if (strcmp(rtypes[i].name, rt) == 0)
			return rtypes[i].meaning;
	return "a result type RFC 8460 does not name: see the raw report";
}

const char *
tlsrpt_ptype_str(enum tlsrpt_ptype t)
{
	switch (t) {
	case TLSRPT_PT_STS:
		return "sts";
	case TLSRPT_PT_TLSA:
		return "tlsa";
	case TLSRPT_PT_NOPOLICY:
		return "no-policy-found";
	case TLSRPT_PT_OTHER:
		break;
	}
	return "other";
}

const char *
sts_mode_str(enum sts_mode m)
{
	switch (m) {
	case STS_MODE_ENFORCE:
		return "enforce";
	case STS_MODE_TESTING:
		return "testing";
	case STS_MODE_NONE:
		return "none";
	case STS_MODE_INVALID:
		return "invalid";
	case STS_MODE_UNSET:
		break;
	}
	return "";
}

const char *
tlsrpt_dsrc_str(enum tlsrpt_dsrc d)
{
	switch (d) {
	case TLSRPT_DS_REPORT:
		return "report";
	case TLSRPT_DS_HEADER:
		return "header";
	case TLSRPT_DS_FILENAME:
		return "filename";
	case TLSRPT_DS_SIBLING:
		return "sibling";
	case TLSRPT_DS_REPORTID:
		return "report-id";
	case TLSRPT_DS_UNKNOWN:
		break;
	}
	return "unknown";
}
