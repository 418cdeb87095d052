/*
 * store_rows.c -- the COPY rows of a stored report, table by table, see
 * store_rows.h.  Each writer goes with its COPY statement's column list.
 *
 * Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
 */

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "ingest.h"
#include "rollup.h"
#include "store.h"
#include "store_copy.h"
#include "store_rows.h"

#define SQL_COPY_REPORT							\
	"COPY tlsrpt.report (report_key, sha256, org_name, reporter,"	\
	" report_id, contact_info, date_start, date_end, warnings,"	\
	" was_gzip, filename, hdr_domain, hdr_submitter, subject,"	\
	" received_at, dkim, trusted, figures, report_no) FROM STDIN"

#define SQL_COPY_POLICY							\
	"COPY tlsrpt.policy (report_no, idx, policy_domain, policy_type,"\
	" policy_type_raw, domain_source, policy_strings, mx_hosts,"	\
	" sts_version_ok, sts_mode, sts_max_age, sts_mx, sts_problems,"	\
	" successful_sessions, failed_sessions, counted) FROM STDIN"

#define SQL_COPY_DETAIL							\
	"COPY tlsrpt.failure_detail (report_no, policy_idx, idx,"	\
	" result_type, result_known, sending_ip,"			\
	" sending_ip_inet, receiving_ip, receiving_ip_inet, receiving_mx,"\
	" receiving_helo, additional_info, reason_code, failed_sessions)"\
	" FROM STDIN"

#define SQL_COPY_RAW							\
	"COPY tlsrpt.report_raw (report_no, sha256, body) FROM STDIN"

static void	report_row(struct copy *, const struct tlsrpt_report *,
		    const struct store_arrival *, int64_t);
static void	policy_rows(struct copy *, const struct tlsrpt_report *,
		    const struct store_arrival *, int64_t);
static void	detail_rows(struct copy *, const struct tlsrpt_report *,
		    const struct store_arrival *, int64_t);

const struct store_table store_report_tables[STORE_REPORT_TABLES] = {
	{ SQL_COPY_REPORT, report_row, "cannot store reports", 0 },
	{ SQL_COPY_POLICY, policy_rows, "cannot store policies", 0 },
	{ SQL_COPY_DETAIL, detail_rows, "cannot store failure details", 0 },
	{ SQL_COPY_RAW, NULL, "cannot store raw reports", 1 },
};

static void
report_row(struct copy *c, const struct tlsrpt_report *rep,
    const struct store_arrival *arr, int64_t no)
{
	copy_key(c, rep->key);
	copy_tab(c);
	copy_key(c, rep->sha256);
	copy_tab(c);
	copy_text0(c, rep->org_name);
	copy_tab(c);
	copy_text0(c, rep->reporter);
	copy_tab(c);
	copy_text0(c, rep->report_id);
	copy_tab(c);
	copy_text(c, rep->contact_info);
	copy_tab(c);
	copy_time(c, rep->start);
	copy_tab(c);
	copy_time(c, rep->end);
	copy_tab(c);
	copy_array(c, rep->warnings, rep->nwarnings);
	copy_tab(c);
	copy_bool(c, rep->was_gzip);
	copy_tab(c);
	copy_text(c, rep->filename);
	copy_tab(c);
	copy_text(c, rep->hdr_domain);
	copy_tab(c);
	copy_text(c, rep->hdr_submitter);
	copy_tab(c);
	copy_text(c, rep->subject);
	copy_tab(c);
	copy_time(c, arr->received_at);
	copy_tab(c);
	copy_text(c, rep->dkim);
	copy_tab(c);
	if (rep->dkim != NULL)
		copy_bool(c, rep->trusted);
	else
		copy_null(c);
	copy_tab(c);
	copy_key(c, rep->figures);
	copy_tab(c);
	copy_int(c, no);
	copy_eol(c);
}

static void
policy_rows(struct copy *c, const struct tlsrpt_report *rep,
    const struct store_arrival *arr, int64_t no)
{
	const struct tlsrpt_policy	*pol;
	const struct sts_policy		*sts;
	size_t				 i;

	for (i = 0; i < rep->npolicies; i++) {
		pol = &rep->policies[i];
		sts = &pol->sts;
		copy_int(c, no);
		copy_tab(c);
		copy_int(c, (int64_t)i);
		copy_tab(c);
		copy_text0(c, pol->domain);
		copy_tab(c);
		copy_text(c, tlsrpt_ptype_str(pol->type));
		copy_tab(c);
		copy_text(c, pol->type_raw);
		copy_tab(c);
		copy_text(c, tlsrpt_dsrc_str(pol->domain_src));
		copy_tab(c);
		copy_array(c, pol->strings, pol->nstrings);
		copy_tab(c);
		copy_array(c, pol->mx_hosts, pol->nmx_hosts);
		copy_tab(c);
		if (sts->present) {
			copy_bool(c, sts->version_ok);
			copy_tab(c);
			/* no mode line: NULL, not sts_mode_str()'s "" */
			copy_text(c, sts->mode == STS_MODE_UNSET ? NULL :
			    sts_mode_str(sts->mode));
			copy_tab(c);
			if (sts->max_age >= 0)
				copy_int(c, sts->max_age);
			else
				copy_null(c);
			copy_tab(c);
			/* schema 009: NULL when it is mx_hosts */
			if (store_sts_mx_is_mx_hosts(pol))
				copy_null(c);
			else
				copy_array(c, (const char *const *)sts->mx,
				    sts->nmx);
			copy_tab(c);
			copy_int(c, sts->problems);
		} else {
			copy_null(c);
			copy_tab(c);
			copy_null(c);
			copy_tab(c);
			copy_null(c);
			copy_tab(c);
			copy_null(c);
			copy_tab(c);
			copy_null(c);
		}
		copy_tab(c);
		copy_int(c, (int64_t)pol->successful);
		copy_tab(c);
		copy_int(c, (int64_t)pol->failed);
		copy_tab(c);
		copy_bool(c, pol->counted);
		copy_eol(c);
	}
}

static void
detail_rows(struct copy *c, const struct tlsrpt_report *rep,
    const struct store_arrival *arr, int64_t no)
{
	const struct tlsrpt_policy	*pol;
	const struct tlsrpt_detail	*d;
	size_t				 i, j;

	for (i = 0; i < rep->npolicies; i++) {
		pol = &rep->policies[i];
		for (j = 0; j < pol->ndetails; j++) {
			d = &pol->details[j];
			copy_int(c, no);
			copy_tab(c);
			copy_int(c, (int64_t)i);
			copy_tab(c);
			copy_int(c, (int64_t)j);
			copy_tab(c);
			/* never '': that marks the rollup's totals rows */
			copy_text(c, d->result_type != NULL &&
			    *d->result_type != '\0' ? d->result_type :
			    "unknown");
			copy_tab(c);
			copy_bool(c, d->result_known);
			copy_tab(c);
			copy_text(c, store_ip_as_sent(d->sending_ip,
			    d->sending_ip_norm));
			copy_tab(c);
			copy_text(c, d->sending_ip_norm);
			copy_tab(c);
			copy_text(c, store_ip_as_sent(d->receiving_ip,
			    d->receiving_ip_norm));
			copy_tab(c);
			copy_text(c, d->receiving_ip_norm);
			copy_tab(c);
			copy_text(c, d->receiving_mx);
			copy_tab(c);
			copy_text(c, d->receiving_helo);
			copy_tab(c);
			copy_text(c, d->additional_info);
			copy_tab(c);
			copy_text(c, d->reason_code);
			copy_tab(c);
			copy_int(c, (int64_t)d->failed_sessions);
			copy_eol(c);
		}
	}
}

/* norm is ingest's canonical text (report_json.c norm_ip()): the dotted
 * quad, or RFC 5952 for IPv6 as glibc's inet_ntop() and PostgreSQL both
 * write it; an IPv6 text with an embedded IPv4 address is kept, the two
 * may write those differently. */
const char *
store_ip_as_sent(const char *ip, const char *norm)
{
	if (ip == NULL || norm == NULL || strcmp(ip, norm) != 0)
		return ip;
	if (strchr(norm, ':') != NULL && strchr(norm, '.') != NULL)
		return ip;
	return NULL;
}

int
store_sts_mx_is_mx_hosts(const struct tlsrpt_policy *pol)
{
	const struct sts_policy	*sts = &pol->sts;
	size_t			 i;

	if (sts->nmx != pol->nmx_hosts)
		return 0;
	for (i = 0; i < sts->nmx; i++)
		if (sts->mx[i] == NULL || pol->mx_hosts[i] == NULL ||
		    strcmp(sts->mx[i], pol->mx_hosts[i]) != 0)
			return 0;
	return 1;
}

void
store_row_raw(struct copy *c, const struct tlsrpt_report *rep, int64_t no,
    const unsigned char *body, size_t len)
{
	(void)rep;
	copy_int(c, no);
	copy_tab(c);
	copy_key(c, rep->sha256);
	copy_tab(c);
	copy_bytea(c, body, len);
	copy_eol(c);
}

void
store_row_arrival(struct copy *c, const struct tlsrpt_report *rep,
    int64_t no, const struct store_arrival *arr, int stored, const char *note)
{
	copy_time(c, arr->received_at);
	copy_tab(c);
	copy_text(c, arr->source != NULL ? arr->source : "unknown");
	copy_tab(c);
	copy_text(c, arr->origin);
	copy_tab(c);
	copy_text(c, stored ? "stored" : "duplicate");
	copy_tab(c);
	copy_int(c, no);
	copy_tab(c);
	copy_key(c, rep->sha256);
	copy_tab(c);
	copy_null(c);
	copy_tab(c);
	copy_text(c, note);
	copy_eol(c);
}

void
store_row_rollup(struct copy *c, const struct rollup_row *r)
{
	copy_text(c, r->domain);
	copy_tab(c);
	copy_time(c, r->start);
	copy_tab(c);
	copy_text(c, r->reporter);
	copy_tab(c);
	copy_text(c, r->ptype);
	copy_tab(c);
	copy_text(c, r->result_type);
	copy_tab(c);
	copy_text(c, r->mx);
	copy_tab(c);
	copy_int(c, r->reports);
	copy_tab(c);
	copy_int(c, r->successful);
	copy_tab(c);
	copy_int(c, r->failed);
	copy_eol(c);
}
