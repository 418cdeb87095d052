/*
 * fuzz_ingest.c -- libFuzzer target over the three ingest entry points.
 *
 * Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
 *
 * Every input goes through ingest_any(), ingest_payload() (with a file
 * name, so that the §5.1 domain fallback runs) and ingest_message(), so
 * that seeds from the corpus need no selector byte: .eml seeds reach GMime
 * both through ingest_any and directly, .json/.json.gz seeds reach the
 * gunzip and JSON walk.  Limits are tight so that one input is fast.  A
 * parsed report is walked completely so that ASan sees every pointer.
 *
 * Built by `make fuzz` with clang -fsanitize=fuzzer,address,undefined.
 */

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "ingest.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static size_t	sink;

static void
touch(const char *s)
{
	if (s != NULL)
		sink += strlen(s);
}

static void
walk(const struct tlsrpt_report *rep)
{
	const struct tlsrpt_policy	*p;
	const struct tlsrpt_detail	*d;
	size_t				 i, j;

	touch(rep->org_name);
	touch(rep->reporter);
	touch(rep->report_id);
	touch(rep->contact_info);
	touch(rep->filename);
	touch(rep->hdr_domain);
	touch(rep->hdr_submitter);
	touch(rep->subject);
	for (i = 0; i < rep->nwarnings; i++)
		touch(rep->warnings[i]);
	if (rep->json_len > 0)
		sink += rep->json[0] + rep->json[rep->json_len - 1];
	for (i = 0; i < rep->npolicies; i++) {
		p = &rep->policies[i];
		touch(p->type_raw);
		touch(p->domain);
		touch(tlsrpt_ptype_str(p->type));
		touch(sts_mode_str(p->sts.mode));
		for (j = 0; j < p->nstrings; j++)
			touch(p->strings[j]);
		for (j = 0; j < p->nmx_hosts; j++)
			touch(p->mx_hosts[j]);
		for (j = 0; j < p->sts.nmx; j++) {
			touch(p->sts.mx[j]);
			if (p->nmx_hosts > 0)
				sink += sts_mx_match(p->sts.mx[j],
				    p->mx_hosts[0]);
		}
		for (j = 0; j < p->ndetails; j++) {
			d = &p->details[j];
			touch(d->result_type);
			touch(tlsrpt_result_severity(d->result_type));
			touch(tlsrpt_result_meaning(d->result_type));
			touch(d->sending_ip);
			touch(d->sending_ip_norm);
			touch(d->receiving_ip);
			touch(d->receiving_ip_norm);
			touch(d->receiving_mx);
			touch(d->receiving_helo);
			touch(d->additional_info);
			touch(d->reason_code);
		}
	}
}

static void
check(enum ingest_status st, struct tlsrpt_report *rep,
    const struct ingest_err *err)
{
	/* a status outside the enum, or a report on failure, is a bug */
	if (st > INGEST_E_NOMEM || (st == INGEST_OK) != (rep != NULL))
		__builtin_trap();
	if (memchr(err->msg, '\0', sizeof(err->msg)) == NULL)
		__builtin_trap();
	touch(ingest_status_str(st));
	if (rep != NULL)
		walk(rep);
	tlsrpt_report_free(rep);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct ingest_meta	 meta = {
		.filename = "google.com!fuzz.example!1700000000!1700086399!"
		    "001.json.gz",
		.report_domain = NULL,
		.submitter = "google.com",
		.subject = NULL,
	};
	struct ingest_limits		 lim;
	struct tlsrpt_report		*rep;
	struct ingest_err		 err;
	enum ingest_status		 st;

	ingest_limits_default(&lim);
	lim.compressed_max = 64 * 1024;
	lim.json_max = 256 * 1024;
	lim.ratio_max = 100;
	lim.ratio_floor = 16 * 1024;
	lim.mail_max = 256 * 1024;
	lim.depth_max = 16;
	lim.string_max = 1024;
	lim.policies_max = 32;
	lim.strings_max = 32;
	lim.details_max = 256;
	/* memory bounded by input: a tree of at most 32 MiB, so that
	 * anything past -malloc_limit_mb / -rss_limit_mb (Makefile) is an
	 * amplification the pre-scans missed */
	lim.json_values_max = 100000;
	lim.json_tree_max = 32 * 1024 * 1024;
	lim.mime_delims_max = 200;
	lim.mime_headers_max = 2000;

	rep = NULL;
	st = ingest_any(data, size, NULL, &lim, &rep, &err);
	check(st, rep, &err);

	rep = NULL;
	st = ingest_payload(data, size, &meta, &lim, &rep, &err);
	check(st, rep, &err);

	rep = NULL;
	st = ingest_message(data, size, &lim, &rep, &err);
	check(st, rep, &err);
	return 0;
}
