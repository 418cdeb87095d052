/*
 * test_ingest.c -- ingest/ over the shared corpus and at every limit.
 *
 * Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
 */

#define _GNU_SOURCE
#include <sys/resource.h>
#include <sys/wait.h>

#include <fcntl.h>
#include <stdint.h>
#include <unistd.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <zlib.h>

#include "ingest.h"
#include "json_testutil.h"
#include "tlsrpt_limits.h"
#include "testutil.h"

/* --- the corpus: every report imports, every negative is rejected ----- */

struct corpus_case {
	const char		*file;
	enum ingest_status	 want;
	size_t			 npolicies;
	const char		*report_id;
	const char		*warnings[6];	/* the tokens, exactly */
};

/*
 * The corpus and what ingest must make of each file: the status, the
 * policies, the report-id and the exact set of warning tokens (no other
 * may appear), each worked out from the file and its row in
 * tests/data/corpus/INDEX.md.  mailru_tlsrpt-rs_1_extracted.json is the
 * report of mailru_tlsrpt-rs_1.json (an sts policy without policy-string)
 * and microsoft_dmarc-report-viewer_no-ip-and-mx.json has "the same
 * deviations" as issue57 (an sts policy without policy-string).
 */

static const struct corpus_case corpus[] = {
	{ "google-anon_parsedmarc_smtp_tls.json", INGEST_OK, 1,
	  "2024-01-09T00:00:00Z_example.com", { NULL } },
	{ "google-style-malformed_stalwart_rpt03.json", INGEST_OK, 2,
	  "2019-04-14T00:00:00Z_example.org",
	  { "session-count-missing", "policy-type-unknown",
	    "policy-domain-missing" } },
	{ "google-style_stalwart_rpt02.json", INGEST_OK, 1,
	  "2020-01-01T00:00:00Z_example.com", { "date-range-not-daily" } },
	{ "google_blogreen-mbox_1_extracted.json", INGEST_OK, 1,
	  "2023-02-02T00:00:00Z_blogreen.org", { NULL } },
	{ "google_deltachat-core_tlsrpt_extracted.json", INGEST_OK, 1,
	  "2024-01-20T00:00:00Z_nine.testrun.org", { NULL } },
	{ "google_dmarc-metrics-exporter-issue52.json", INGEST_OK, 1,
	  "2025-06-01T00:00:00Z_maxchernoff.ca", { NULL } },
	{ "google_dmarc-report-viewer_1.json", INGEST_OK, 1,
	  "2025-05-22T00:00:00Z_foo-bar.io", { NULL } },
	{ "google_dmarc-report-viewer_no-policy.json", INGEST_OK, 1,
	  "2025-03-27T00:00:00Z_foo-bar.io", { NULL } },
	{ "google_docker-dmarc-report-issue43.json", INGEST_OK, 1,
	  "2023-10-06T00:00:00Z_mydomain.com", { NULL } },
	{ "google_gcf-bigquery_multi-policy.json", INGEST_OK, 3,
	  "2020-02-06T00:00:00Z_test.mailflow.ovh", { NULL } },
	{ "google_internet-message-parser_1_extracted.json", INGEST_OK, 1,
	  "2022-01-09T00:00:00Z_digilicious.com",
	  { "policy-string-trailing-space" } },
	{ "google_mail-tls-rpt_fastmail_extracted.json", INGEST_OK, 1,
	  "2020-03-02T00:00:00Z_fastmaildmarc.com", { NULL } },
	{ "google_mail-tls-rpt_report.json", INGEST_OK, 1,
	  "2020-03-02T00:00:00Z_fastmaildmarc.com", { NULL } },
	{ "google_mail-tls-rpt_report.json.gz", INGEST_OK, 1,
	  "2020-03-02T00:00:00Z_fastmaildmarc.com", { NULL } },
	{ "google_mox_1_extracted.json", INGEST_OK, 1,
	  "2022-09-15T00:00:00Z_test.xmox.nl", { NULL } },
	{ "google_network-journal_1.json", INGEST_OK, 1,
	  "2025-09-21T00:00:00Z_example.com", { NULL } },
	{ "google_parsedmarc_1_extracted.json", INGEST_OK, 1,
	  "2024-09-03T00:00:00Z_cardinalhealth.ca", { NULL } },
	{ "google_tlsrpt-digest_failure_extracted.json", INGEST_OK, 1,
	  "2026-02-08T00:00:00Z_example.com", { NULL } },
	{ "google_tlsrpt-digest_success1_extracted.json", INGEST_OK, 1,
	  "2026-05-11T00:00:00Z_example.com", { NULL } },
	{ "google_tlsrpt-digest_success2_extracted.json", INGEST_OK, 1,
	  "2026-05-12T00:00:00Z_example.com", { NULL } },
	{ "google_tlsrpt-rs_1_extracted.json", INGEST_OK, 1,
	  "2024-09-15T00:00:00Z_krvtz.net", { NULL } },
	{ "google_tlsrpt-rs_2_extracted.json", INGEST_OK, 1,
	  "2024-09-18T00:00:00Z_krvtz.net", { NULL } },
	{ "mailru_parsedmarc_1.json", INGEST_OK, 1,
	  "b28254de-7b2e-be36-bb5c-4c3b92da8b25@mail.ru",
	  { "sts-policy-string-missing", "failure-details-sum-differs" } },
	{ "mailru_tlsrpt-rs_1.json", INGEST_OK, 1,
	  "c96d67df-0440-57f7-6e96-c83824d0fdf2@mail.ru",
	  { "sts-policy-string-missing" } },
	{ "mailru_tlsrpt-rs_1_extracted.json", INGEST_OK, 1,
	  "c96d67df-0440-57f7-6e96-c83824d0fdf2@mail.ru",
	  { "sts-policy-string-missing" } },
	{ "microsoft-doctored_tls-rpt-monitor_1.json", INGEST_OK, 1,
	  "133988091029006454+josh.scot",
	  { "result-type-unknown", "ip-invalid", "key-alias",
	    "failure-details-sum-differs" } },
	{ "microsoft_dmarc-report-viewer-issue57.json", INGEST_OK, 1,
	  "133944884956529435+", { "sts-policy-string-missing" } },
	{ "microsoft_dmarc-report-viewer_no-ip-and-mx.json", INGEST_OK, 1,
	  "1234567890+", { "sts-policy-string-missing" } },
	{ "microsoft_dmarc-report-viewer_sts-tlsa.json", INGEST_OK, 2,
	  "133925885310113267+random.net",
	  { "tlsa-policy-string-json-encoded" } },
	{ "microsoft_mox_1_extracted.json", INGEST_OK, 1,
	  "133198585438131172+test.xmox.nl", { "datetime-without-zone" } },
	{ "microsoft_tls-rpt-monitor_1.json.gz", INGEST_OK, 1,
	  "133988091029006454+josh.scot", { NULL } },
	{ "microsoft_tlsrpt-digest_success_extracted.json", INGEST_OK, 1,
	  "134232617934286362+example.com", { NULL } },
	{ "microsoft_tlsrpt-rs_1_extracted.json", INGEST_OK, 2,
	  "133708152202987951+krvtz.net",
	  { "tlsa-policy-string-json-encoded" } },
	{ "postfix-sys4-tlsrpt-reporter_issue51.json", INGEST_OK, 1,
	  "2025-09-20T00:00:00Z_idx1_mpi-klsb.mpg.de",
	  { "policy-domain-missing" } },
	{ "refluxstop-de_dmarc-report-viewer-issue71.json", INGEST_OK, 1,
	  "1768089600_5665667737528564296", { "contact-info-null" } },
	{ "rfc8460-example_parsedmarc.json", INGEST_OK, 1,
	  "5065427c-23d3-47ca-b6e0-946ea0e8c4be", { "string-not-array" } },
	{ "socketlabs-edited_gcf-bigquery_ludemo.json", INGEST_OK, 2,
	  "13B8FEDF21D3DBD6997654968E563122",
	  { "date-range-reversed", "key-alias" } },
	{ "socketlabs_gcf-bigquery_1.json", INGEST_OK, 2,
	  "13B8FEDF21D3DBD6997654968E563122", { "key-alias" } },
	{ "stalwart-egressif_parsedmarc-issue575.json", INGEST_OK, 1,
	  "1730332800_11732957880687192466", { "contact-info-null" } },
	{ "stalwart-like_dmarc-report-viewer_no-contact.json", INGEST_OK, 1,
	  "123_456", { "contact-info-null", "mx-host-prefixed" } },
	{ "synthetic-empty-fields_parsedmarc.json", INGEST_OK, 1,
	  "2024-06-01T00:00:00Z_example.com", { NULL } },
	/* negatives: not reports */
	{ "google-2019_belastingdienst-slides_transcript.txt", INGEST_E_JSON,
	  0, NULL, { NULL } },
	{ "legacy-draft-example_mrisher-smtp-sts_reporting-md.txt",
	  INGEST_E_JSON, 0, NULL, { NULL } },
	{ "sha256sums.txt", INGEST_E_FORMAT, 0, NULL, { NULL } },
};

/* 1 when the token of warning line (before ": ") is in c's list. */
static int
listed(const struct corpus_case *c, const char *line)
{
	size_t	w, n;

	n = strcspn(line, ":");
	for (w = 0; w < 6 && c->warnings[w] != NULL; w++)
		if (strlen(c->warnings[w]) == n &&
		    strncmp(c->warnings[w], line, n) == 0)
			return 1;
	return 0;
}

Test(ingest, corpus_files)
{
	struct ingest_limits	 lim;
	const struct corpus_case *c;
	struct tlsrpt_report	*rep;
	struct ingest_meta	 meta;
	struct ingest_err	 err;
	enum ingest_status	 st;
	unsigned char		*buf;
	size_t			 len, w;

	ingest_limits_default(&lim);
	for (c = corpus; c < corpus + sizeof(corpus) / sizeof(corpus[0]);
	    c++) {
		buf = tu_load(c->file, &len);
		memset(&meta, 0, sizeof(meta));
		meta.filename = c->file;
		st = ingest_any(buf, len, &meta, &lim, &rep, &err);
		cr_expect_eq(st, c->want, "%s: got %s (%s), want %s", c->file,
		    ingest_status_str(st), err.msg, ingest_status_str(c->want));
		if (st == INGEST_OK) {
			cr_expect_eq(rep->npolicies, c->npolicies,
			    "%s: %zu policies", c->file, rep->npolicies);
			cr_expect_str_eq(rep->report_id, c->report_id, "%s",
			    c->file);
			for (w = 0; w < 6 && c->warnings[w] != NULL; w++)
				cr_expect(tu_has_warning(rep, c->warnings[w]),
				    "%s: no warning %s", c->file,
				    c->warnings[w]);
			for (w = 0; w < rep->nwarnings; w++)
				cr_expect(listed(c, rep->warnings[w]),
				    "%s: unexpected warning %s", c->file,
				    rep->warnings[w]);
		} else {
			cr_expect_null(rep);
			cr_expect_neq(err.msg[0], '\0', "%s: empty reason",
			    c->file);
			cr_expect_null(strchr(err.msg, '\n'), "%s: reason is "
			    "not one line", c->file);
		}
		tlsrpt_report_free(rep);
		free(buf);
	}
}

/* The same report as .json and .json.gz, compact or pretty: one key. */
Test(ingest, dedup_key_is_content_independent)
{
	struct ingest_limits	 lim;
	struct tlsrpt_report	*a, *b, *c, *d;
	struct ingest_err	 err;
	unsigned char		*j, *g, *x, *y;
	size_t			 jl, gl, xl, yl;

	ingest_limits_default(&lim);
	j = tu_load("google_mail-tls-rpt_report.json", &jl);
	g = tu_load("google_mail-tls-rpt_report.json.gz", &gl);
	x = tu_load("mailru_tlsrpt-rs_1.json", &xl);	/* pretty */
	y = tu_load("mailru_tlsrpt-rs_1_extracted.json", &yl);	/* compact */
	cr_assert_eq(ingest_any(j, jl, NULL, &lim, &a, &err), INGEST_OK);
	cr_assert_eq(ingest_any(g, gl, NULL, &lim, &b, &err), INGEST_OK);
	cr_assert_eq(ingest_any(x, xl, NULL, &lim, &c, &err), INGEST_OK);
	cr_assert_eq(ingest_any(y, yl, NULL, &lim, &d, &err), INGEST_OK);
	cr_expect_eq(memcmp(a->key, b->key, 32), 0);
	cr_expect_eq(memcmp(a->sha256, b->sha256, 32), 0, "same JSON");
	cr_expect(b->was_gzip && !a->was_gzip);
	cr_expect_eq(memcmp(c->key, d->key, 32), 0);
	cr_expect_neq(memcmp(c->sha256, d->sha256, 32), 0, "other bytes");
	cr_expect_neq(memcmp(a->key, c->key, 32), 0);
	tlsrpt_report_free(a);
	tlsrpt_report_free(b);
	tlsrpt_report_free(c);
	tlsrpt_report_free(d);
	free(j);
	free(g);
	free(x);
	free(y);
}

/* --- the accounting rule and the domain fallback --------------------- */

Test(ingest, accounting_sts_and_tlsa_counted_once)
{
	struct tlsrpt_report	*rep;
	struct ingest_err	 err;
	char			*p1, *p2, *p3, *p4, *all, *json;

	p1 = stu_policy("sts", "a.example", 10, 2, NULL);
	p2 = stu_policy("tlsa", "a.example", 10, 3, NULL);	/* more */
	p3 = stu_policy("sts", "b.example", 5, 0, NULL);
	p4 = stu_policy("tlsa", "b.example", 5, 0, NULL);	/* tie */
	all = NULL;
	cr_assert_geq(asprintf(&all, "%s,%s,%s,%s", p1, p2, p3, p4), 0);
	json = stu_report("Org", "r1", "2026-01-01", all);
	cr_assert_eq(tu_parse(json, NULL, &rep, &err), INGEST_OK, "%s",
	    err.msg);
	cr_expect_eq(rep->policies[0].counted, 0);
	cr_expect_eq(rep->policies[1].counted, 1, "tlsa has more sessions");
	cr_expect_eq(rep->policies[2].counted, 1, "tie goes to sts");
	cr_expect_eq(rep->policies[3].counted, 0);
	tlsrpt_report_free(rep);
	free(p1);
	free(p2);
	free(p3);
	free(p4);
	free(all);
	free(json);
}

Test(ingest, domain_fallback_order)
{
	static const char *nodom = "{\"policy\":{\"policy-type\":"
	    "\"no-policy-found\"},\"summary\":{\"total-successful-session-"
	    "count\":1,\"total-failure-session-count\":0}}";
	struct ingest_limits	 lim;
	struct tlsrpt_report	*rep;
	struct ingest_meta	 meta;
	struct ingest_err	 err;
	char			*sib, *pols, *json, *json2;

	ingest_limits_default(&lim);
	sib = stu_policy("sts", "sib.example", 1, 0, NULL);
	cr_assert_geq(asprintf(&pols, "%s,%s", nodom, sib), 0);
	json = stu_report("Org", "r", "2026-01-01", pols);
	json2 = stu_report("Org", "r", "2026-01-01", nodom);

	memset(&meta, 0, sizeof(meta));
	meta.report_domain = "Hdr.Example.";
	meta.filename = "google.com!file.example!1!2!001.json.gz";
	cr_assert_eq(ingest_payload((unsigned char *)json, strlen(json), &meta,
	    &lim, &rep, &err), INGEST_OK);
	cr_expect_str_eq(rep->policies[0].domain, "hdr.example");
	cr_expect_eq(rep->policies[0].domain_src, TLSRPT_DS_HEADER);
	tlsrpt_report_free(rep);

	meta.report_domain = NULL;
	cr_assert_eq(ingest_payload((unsigned char *)json, strlen(json), &meta,
	    &lim, &rep, &err), INGEST_OK);
	cr_expect_str_eq(rep->policies[0].domain, "file.example");
	cr_expect_eq(rep->policies[0].domain_src, TLSRPT_DS_FILENAME);
	tlsrpt_report_free(rep);

	meta.filename = "report.json";
	cr_assert_eq(ingest_payload((unsigned char *)json, strlen(json), &meta,
	    &lim, &rep, &err), INGEST_OK);
	cr_expect_str_eq(rep->policies[0].domain, "sib.example");
	cr_expect_eq(rep->policies[0].domain_src, TLSRPT_DS_SIBLING);
	tlsrpt_report_free(rep);

	cr_assert_eq(ingest_payload((unsigned char *)json2, strlen(json2),
	    &meta, &lim, &rep, &err), INGEST_OK);
	cr_expect_str_eq(rep->policies[0].domain, "");
	cr_expect_eq(rep->policies[0].domain_src, TLSRPT_DS_UNKNOWN);
	cr_expect(tu_has_warning(rep, "policy-domain-missing"));
	tlsrpt_report_free(rep);
	free(sib);
	free(pols);
	free(json);
	free(json2);
}

/* --- schema leniency and strictness ---------------------------------- */

struct json_case {
	const char		*label;
	const char		*json;
	enum ingest_status	 want;
	const char		*warning;	/* or the error substring */
};

#define R(pol)	"{\"organization-name\":\"O\",\"date-range\":{\"start-"	\
	"datetime\":\"2026-01-01T00:00:00Z\",\"end-datetime\":"		\
	"\"2026-01-01T23:59:59Z\"},\"contact-info\":\"a@b.c\","		\
	"\"report-id\":\"x\",\"policies\":[" pol "]}"
#define P(extra) "{\"policy\":{\"policy-type\":\"sts\",\"policy-domain\":" \
	"\"d.example\"},\"summary\":{\"total-successful-session-count\":1," \
	"\"total-failure-session-count\":1}" extra "}"
#define D(fields) P(",\"failure-details\":[{\"result-type\":"		\
	"\"starttls-not-supported\",\"failed-session-count\":1" fields "}]")

static const struct json_case jcases[] = {
	{ "plain", R(P("")), INGEST_OK, NULL },
	{ "details null", R(P(",\"failure-details\":null")), INGEST_OK,
	  "failure-details-null" },
	{ "ipv6 not canonical", R(D(",\"sending-mta-ip\":"
	  "\"2001:db8:abcd:0012::1\"")), INGEST_OK, NULL },
	{ "ip empty string", R(D(",\"sending-mta-ip\":\"\"")), INGEST_OK,
	  NULL },
	{ "ip garbage", R(D(",\"receiving-ip\":\"999.1.1.1\"")), INGEST_OK,
	  "ip-invalid" },
	{ "helo null", R(D(",\"receiving-mx-helo\":null")), INGEST_OK, NULL },
	{ "bom", "\xef\xbb\xbf" R(P("")), INGEST_OK, "utf8-bom" },
	{ "offset date", "{\"organization-name\":\"O\",\"date-range\":{"
	  "\"start-datetime\":\"2026-01-01T01:00:00+01:00\",\"end-datetime\":"
	  "\"2026-01-02T00:59:59.5+01:00\"},\"report-id\":\"x\",\"policies\":"
	  "[]}", INGEST_OK, "policies-empty" },
	{ "count as string", R("{\"policy\":{\"policy-type\":\"sts\"},"
	  "\"summary\":{\"total-successful-session-count\":\"5\"}}"),
	  INGEST_E_SCHEMA, "not an integer" },
	{ "negative count", R("{\"policy\":{\"policy-type\":\"sts\"},"
	  "\"summary\":{\"total-successful-session-count\":-1}}"),
	  INGEST_E_SCHEMA, "out of range" },
	{ "count over 2^53", R("{\"policy\":{\"policy-type\":\"sts\"},"
	  "\"summary\":{\"total-successful-session-count\":9007199254740993}}"),
	  INGEST_E_SCHEMA, "out of range" },
	{ "count 2^53", R("{\"policy\":{\"policy-type\":\"sts\"},"
	  "\"summary\":{\"total-successful-session-count\":9007199254740992}}"),
	  INGEST_OK, NULL },
	{ "float count", R("{\"policy\":{\"policy-type\":\"sts\"},"
	  "\"summary\":{\"total-successful-session-count\":1.5}}"),
	  INGEST_E_SCHEMA, "not an integer" },
	{ "duplicate key", "{\"organization-name\":\"O\","
	  "\"organization-name\":\"P\",\"date-range\":{\"start-datetime\":"
	  "\"2026-01-01T00:00:00Z\",\"end-datetime\":\"2026-01-01T23:59:59Z\"},"
	  "\"report-id\":\"x\",\"policies\":[]}", INGEST_E_JSON, "duplicate" },
	{ "colon in strings is no key", R(D(",\"failure-reason-code\":"
	  "\"a:b\\\":c\"")), INGEST_OK, NULL },
	{ "single quotes", "{'organization-name':'O'}", INGEST_E_JSON, NULL },
	{ "bad utf-8", "{\"organization-name\":\"\xff\xfe\"}", INGEST_E_JSON,
	  NULL },
	{ "utf-8 2, 3 and 4 bytes", R(D(",\"failure-reason-code\":"
	  "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"")), INGEST_OK, NULL },
	{ "utf-8 overlong", R(D(",\"failure-reason-code\":\"\xc0\xaf\"")),
	  INGEST_E_JSON, "UTF-8" },
	{ "utf-8 surrogate", R(D(",\"failure-reason-code\":\"\xed\xa0\x80\"")),
	  INGEST_E_JSON, "UTF-8" },
	{ "utf-8 above U+10FFFF", R(D(",\"failure-reason-code\":"
	  "\"\xf4\x90\x80\x80\"")), INGEST_E_JSON, "UTF-8" },
	{ "utf-8 truncated", R(D(",\"failure-reason-code\":\"\xe2\x82\"")),
	  INGEST_E_JSON, "UTF-8" },
	{ "duplicate key in an unknown member", R(P(",\"x-ext\":{\"a\":1,"
	  "\"a\":2}")), INGEST_E_JSON, "duplicate" },
	{ "unknown members without duplicates", R(P(",\"x-ext\":{\"a\":1,"
	  "\"b\":[{\"c\":\"x:y\"}]}")), INGEST_OK, NULL },
	{ "duplicate key in a detail", R(D(",\"receiving-ip\":\"192.0.2.1\","
	  "\"receiving-ip\":\"192.0.2.2\"")), INGEST_E_JSON, "duplicate" },
	{ "escaped quotes and colons", R(D(",\"failure-reason-code\":"
	  "\"\\\\\\\":\\\\\"")), INGEST_OK, NULL },
	{ "trailing garbage", R(P("")) "x", INGEST_E_JSON, "syntax error" },
	{ "truncated", "{\"organization-name\":\"O\"", INGEST_E_JSON,
	  "ends early" },
	{ "array top", "[1,2]", INGEST_E_SCHEMA, "not an object" },
	{ "no policies", "{\"organization-name\":\"O\",\"date-range\":{"
	  "\"start-datetime\":\"2026-01-01T00:00:00Z\",\"end-datetime\":"
	  "\"2026-01-01T23:59:59Z\"}}", INGEST_E_SCHEMA, "policies" },
	{ "draft policy", "{\"organization-name\":\"O\",\"date-range\":{"
	  "\"start-datetime\":\"2026-01-01T00:00:00Z\",\"end-datetime\":"
	  "\"2026-01-01T23:59:59Z\"},\"policy\":{}}", INGEST_E_SCHEMA,
	  "draft" },
	{ "no date-range", "{\"policies\":[]}", INGEST_E_SCHEMA, "date-range" },
	{ "bad date", "{\"date-range\":{\"start-datetime\":\"yesterday\","
	  "\"end-datetime\":\"2026-01-01T00:00:00Z\"},\"policies\":[]}",
	  INGEST_E_SCHEMA, "RFC 3339" },
	{ "feb 30", "{\"date-range\":{\"start-datetime\":"
	  "\"2026-02-30T00:00:00Z\",\"end-datetime\":\"2026-03-01T00:00:00Z\"},"
	  "\"policies\":[]}", INGEST_E_SCHEMA, "RFC 3339" },
	{ "policy without type", R("{\"policy\":{},\"summary\":{}}"),
	  INGEST_E_SCHEMA, "policy-type: missing" },
	{ "policy not object", R("5"), INGEST_E_SCHEMA, "not an object" },
	{ "org not a string", "{\"organization-name\":5,\"date-range\":{"
	  "\"start-datetime\":\"2026-01-01T00:00:00Z\",\"end-datetime\":"
	  "\"2026-01-01T23:59:59Z\"},\"policies\":[]}", INGEST_E_SCHEMA,
	  "organization-name: not a string" },
	{ "mx-host-pattern alias", R("{\"policy\":{\"policy-type\":\"sts\","
	  "\"mx-host-pattern\":[\"*.d.example\"]},\"summary\":{}}"),
	  INGEST_OK, "key-alias" },
};

Test(ingest, json_cases)
{
	const struct json_case	*c;
	struct tlsrpt_report	*rep;
	struct ingest_err	 err;
	enum ingest_status	 st;

	for (c = jcases; c < jcases + sizeof(jcases) / sizeof(jcases[0]);
	    c++) {
		st = tu_parse(c->json, NULL, &rep, &err);
		cr_expect_eq(st, c->want, "%s: got %s (%s)", c->label,
		    ingest_status_str(st), err.msg);
		if (st == INGEST_OK && c->warning != NULL)
			cr_expect(tu_has_warning(rep, c->warning),
			    "%s: no warning %s", c->label, c->warning);
		if (st != INGEST_OK && c->warning != NULL)
			cr_expect_not_null(strstr(err.msg, c->warning),
			    "%s: reason \"%s\" lacks \"%s\"", c->label,
			    err.msg, c->warning);
		tlsrpt_report_free(rep);
	}
}

Test(ingest, ipv6_normalised)
{
	struct tlsrpt_report	*rep;
	struct ingest_err	 err;

	cr_assert_eq(tu_parse(R(D(",\"sending-mta-ip\":"
	    "\"2001:DB8:abcd:0012::1\",\"receiving-ip\":\"192.0.2.1\"")),
	    NULL, &rep, &err), INGEST_OK, "%s", err.msg);
	cr_expect_str_eq(rep->policies[0].details[0].sending_ip_norm,
	    "2001:db8:abcd:12::1");
	cr_expect_str_eq(rep->policies[0].details[0].sending_ip,
	    "2001:DB8:abcd:0012::1");
	cr_expect_str_eq(rep->policies[0].details[0].receiving_ip_norm,
	    "192.0.2.1");
	tlsrpt_report_free(rep);
}

/* --- gzip ------------------------------------------------------------- */

Test(ingest, gzip_members_truncation_corruption)
{
	struct ingest_limits	 lim;
	struct tlsrpt_report	*rep;
	struct ingest_err	 err;
	const char		*json = R(P(""));
	unsigned char		*gz, *two, *bad;
	size_t			 gl, half = strlen(json) / 2;
	unsigned char		*g1, *g2;
	size_t			 l1, l2;

	ingest_limits_default(&lim);
	/* two members: RFC 1952 allows it; the halves are joined */
	g1 = tu_gzip(json, half, &l1);
	g2 = tu_gzip(json + half, strlen(json) - half, &l2);
	two = malloc(l1 + l2);
	memcpy(two, g1, l1);
	memcpy(two + l1, g2, l2);
	cr_expect_eq(ingest_payload(two, l1 + l2, NULL, &lim, &rep, &err),
	    INGEST_OK, "%s", err.msg);
	tlsrpt_report_free(rep);

	gz = tu_gzip(json, strlen(json), &gl);
	cr_expect_eq(ingest_payload(gz, gl - 10, NULL, &lim, &rep, &err),
	    INGEST_E_GZIP);
	cr_expect_not_null(strstr(err.msg, "truncated"), "%s", err.msg);

	bad = malloc(gl + 4);
	memcpy(bad, gz, gl);
	bad[gl / 2] ^= 0x55;
	cr_expect_neq(ingest_payload(bad, gl, NULL, &lim, &rep, &err),
	    INGEST_OK);
	cr_expect_null(rep);

	/* trailing bytes that are not a member: tolerated, recorded */
	memcpy(bad, gz, gl);
	memcpy(bad + gl, "\0\0\0\0", 4);
	cr_expect_eq(ingest_payload(bad, gl + 4, NULL, &lim, &rep, &err),
	    INGEST_OK, "%s", err.msg);
	cr_expect(rep != NULL && tu_has_warning(rep, "gzip-trailing-bytes"));
	tlsrpt_report_free(rep);

	/* gzip of something that is not JSON */
	free(gz);
	gz = tu_gzip("hello", 5, &gl);
	cr_expect_eq(ingest_payload(gz, gl, NULL, &lim, &rep, &err),
	    INGEST_E_FORMAT);
	free(gz);
	free(g1);
	free(g2);
	free(two);
	free(bad);
}

/*
 * A gzip bomb: 1 GiB of JSON white space inflates no further than the
 * decompressed-size cap, in bounded memory.
 */
Test(ingest, gzip_bomb_1gib, .timeout = 300)
{
	struct ingest_limits	 lim;
	struct tlsrpt_report	*rep;
	struct ingest_err	 err;
	struct rusage		 ru;
	z_stream		 zs;
	unsigned char		*in, *out;
	size_t			 cap = 8 * 1024 * 1024, total = 0;
	const size_t		 gib = (size_t)1 << 30, step = 1 << 20;

	in = malloc(step);
	memset(in, ' ', step);
	in[0] = '{';
	out = malloc(cap);
	memset(&zs, 0, sizeof(zs));
	cr_assert_eq(deflateInit2(&zs, 9, Z_DEFLATED, 15 + 16, 9,
	    Z_DEFAULT_STRATEGY), Z_OK);
	zs.next_out = out;
	zs.avail_out = (uInt)cap;
	while (total < gib) {
		zs.next_in = in;
		zs.avail_in = (uInt)step;
		total += step;
		cr_assert_neq(deflate(&zs, total < gib ? Z_NO_FLUSH :
		    Z_FINISH), Z_STREAM_ERROR);
		in[0] = ' ';
		cr_assert_gt(zs.avail_out, 0, "bomb larger than expected");
	}
	deflateEnd(&zs);
	ingest_limits_default(&lim);
	cr_expect_eq(ingest_payload(out, cap - zs.avail_out, NULL, &lim, &rep,
	    &err), INGEST_E_TOOBIG, "%s", err.msg);
	cr_expect_not_null(strstr(err.msg, "limit"), "%s", err.msg);
	cr_assert_eq(getrusage(RUSAGE_SELF, &ru), 0);
	/* ru_maxrss is in KiB; far below 1 GiB even under ASan */
	cr_expect_lt(ru.ru_maxrss, 400 * 1024, "peak RSS %ld KiB",
	    ru.ru_maxrss);
	free(in);
	free(out);
}

/* --- limits, each at the limit and one over ---------------------------- */

Test(ingest, limit_compressed_size)
{
	struct ingest_limits	 lim;
	struct tlsrpt_report	*rep;
	struct ingest_err	 err;
	unsigned char		*gz;
	size_t			 gl;
	const char		*json = R(P(""));

	ingest_limits_default(&lim);
	gz = tu_gzip(json, strlen(json), &gl);
	lim.compressed_max = gl;
	cr_expect_eq(ingest_payload(gz, gl, NULL, &lim, &rep, &err), INGEST_OK,
	    "%s", err.msg);
	tlsrpt_report_free(rep);
	lim.compressed_max = gl - 1;
	cr_expect_eq(ingest_payload(gz, gl, NULL, &lim, &rep, &err),
	    INGEST_E_TOOBIG);
	free(gz);
}

Test(ingest, limit_decompressed_size)
{
	struct ingest_limits	 lim;
	struct tlsrpt_report	*rep;
	struct ingest_err	 err;
	unsigned char		*gz;
	size_t			 gl, jl;
	const char		*json = R(P(""));

	jl = strlen(json);
	ingest_limits_default(&lim);
	gz = tu_gzip(json, jl, &gl);
	lim.json_max = jl;		/* gzip: exactly at the cap */
	cr_expect_eq(ingest_payload(gz, gl, NULL, &lim, &rep, &err), INGEST_OK,
	    "%s", err.msg);
	tlsrpt_report_free(rep);
	cr_expect_eq(ingest_payload((const unsigned char *)json, jl, NULL,
	    &lim, &rep, &err), INGEST_OK, "%s", err.msg);
	tlsrpt_report_free(rep);
	lim.json_max = jl - 1;
	cr_expect_eq(ingest_payload(gz, gl, NULL, &lim, &rep, &err),
	    INGEST_E_TOOBIG);
	cr_expect_eq(ingest_payload((const unsigned char *)json, jl, NULL,
	    &lim, &rep, &err), INGEST_E_TOOBIG);
	free(gz);
}

Test(ingest, limit_ratio)
{
	struct ingest_limits	 lim;
	struct tlsrpt_report	*rep;
	struct ingest_err	 err;
	struct tu_str		 s = { 0 };
	unsigned char		*gz;
	size_t			 gl, jl;

	/* a report padded with white space compresses very well */
	tu_str_add(&s, "%s", R(P("")));
	while (s.len < 200000)
		tu_str_add(&s, "%s", "                                ");
	jl = s.len;
	gz = tu_gzip(s.s, jl, &gl);
	ingest_limits_default(&lim);
	lim.ratio_floor = 0;
	lim.ratio_max = (unsigned)(jl / gl);	/* jl <= max * gl + gl - 1 */
	while ((size_t)lim.ratio_max * gl < jl)
		lim.ratio_max++;		/* at the limit: passes */
	cr_expect_eq(ingest_payload(gz, gl, NULL, &lim, &rep, &err), INGEST_OK,
	    "%s", err.msg);
	tlsrpt_report_free(rep);
	lim.ratio_max--;			/* now jl > max * gl */
	cr_expect_eq(ingest_payload(gz, gl, NULL, &lim, &rep, &err),
	    INGEST_E_TOOBIG);
	cr_expect_not_null(strstr(err.msg, "ratio"), "%s", err.msg);
	free(gz);
	free(s.s);
}

/* Nesting: the report object is level 1; an unknown member nests on. */
static char *
nested(int levels)
{
	struct tu_str	s = { 0 };
	int		i;

	tu_str_add(&s, "{\"x\":");
	for (i = 1; i < levels; i++)
		tu_str_add(&s, "[");
	tu_str_add(&s, "0");
	for (i = 1; i < levels; i++)
		tu_str_add(&s, "]");
	tu_str_add(&s, ",\"date-range\":{\"start-datetime\":"
	    "\"2026-01-01T00:00:00Z\",\"end-datetime\":\"2026-01-01T23:59:59Z\"},"
	    "\"policies\":[]}");
	return s.s;
}

Test(ingest, limit_depth)
{
	struct ingest_limits	 lim;
	struct tlsrpt_report	*rep;
	struct ingest_err	 err;
	char			*ok, *over;

	ingest_limits_default(&lim);
	ok = nested(lim.depth_max);
	over = nested(lim.depth_max + 1);
	cr_expect_eq(tu_parse(ok, &lim, &rep, &err), INGEST_OK, "%s", err.msg);
	tlsrpt_report_free(rep);
	/* DESIGN: deeper than the limit does not parse as a report (400),
	 * it is no size limit (413) */
	cr_expect_eq(tu_parse(over, &lim, &rep, &err), INGEST_E_JSON);
	cr_expect_not_null(strstr(err.msg, "nested deeper than 16"), "%s",
	    err.msg);
	free(ok);
	free(over);
}

Test(ingest, nested_100000_deep)
{
	struct tlsrpt_report	*rep;
	struct ingest_err	 err;
	struct rusage		 ru;
	char			*deep;
	unsigned char		*gz;
	size_t			 gl;
	struct ingest_limits	 lim;

	deep = nested(100000);
	cr_expect_eq(tu_parse(deep, NULL, &rep, &err), INGEST_E_JSON);
	cr_expect_not_null(strstr(err.msg, "nested"), "%s", err.msg);
	ingest_limits_default(&lim);
	gz = tu_gzip(deep, strlen(deep), &gl);
	cr_expect_eq(ingest_payload(gz, gl, NULL, &lim, &rep, &err),
	    INGEST_E_JSON);
	cr_assert_eq(getrusage(RUSAGE_SELF, &ru), 0);
	free(deep);
	free(gz);
}

Test(ingest, limit_string_length)
{
	struct ingest_limits	 lim;
	struct tlsrpt_report	*rep;
	struct ingest_err	 err;
	struct tu_str		 at = { 0 }, over = { 0 };
	char			*pad;

	ingest_limits_default(&lim);
	pad = malloc(lim.string_max + 2);
	memset(pad, 'a', lim.string_max + 1);
	pad[lim.string_max] = '\0';
	tu_str_add(&at, "{\"organization-name\":\"%s\",\"date-range\":{"
	    "\"start-datetime\":\"2026-01-01T00:00:00Z\",\"end-datetime\":"
	    "\"2026-01-01T23:59:59Z\"},\"policies\":[]}", pad);
	pad[lim.string_max] = 'a';
	pad[lim.string_max + 1] = '\0';
	tu_str_add(&over, "{\"organization-name\":\"%s\",\"date-range\":{"
	    "\"start-datetime\":\"2026-01-01T00:00:00Z\",\"end-datetime\":"
	    "\"2026-01-01T23:59:59Z\"},\"policies\":[]}", pad);
	cr_expect_eq(tu_parse(at.s, &lim, &rep, &err), INGEST_OK, "%s",
	    err.msg);
	tlsrpt_report_free(rep);
	cr_expect_eq(tu_parse(over.s, &lim, &rep, &err), INGEST_E_TOOBIG);
	cr_expect_not_null(strstr(err.msg, "organization-name"), "%s",
	    err.msg);
	free(pad);
	free(at.s);
	free(over.s);
}

static char *
n_policies(size_t n)
{
	struct tu_str	s = { 0 };
	size_t		i;

	for (i = 0; i < n; i++)
		tu_str_add(&s, "%s" P(""), i > 0 ? "," : "");
	return s.s;
}

Test(ingest, limit_policies)
{
	struct ingest_limits	 lim;
	struct tlsrpt_report	*rep;
	struct ingest_err	 err;
	char			*p, *json;

	ingest_limits_default(&lim);
	p = n_policies(lim.policies_max);
	json = stu_report("O", "x", "2026-01-01", p);
	cr_expect_eq(tu_parse(json, &lim, &rep, &err), INGEST_OK, "%s",
	    err.msg);
	tlsrpt_report_free(rep);
	free(p);
	free(json);
	p = n_policies(lim.policies_max + 1);
	json = stu_report("O", "x", "2026-01-01", p);
	cr_expect_eq(tu_parse(json, &lim, &rep, &err), INGEST_E_TOOBIG);
	free(p);
	free(json);
}

static char *
mx_policy(size_t n)
{
	struct tu_str	s = { 0 };
	size_t		i;

	tu_str_add(&s, "{\"policy\":{\"policy-type\":\"sts\",\"mx-host\":[");
	for (i = 0; i < n; i++)
		tu_str_add(&s, "%s\"mx%zu.example\"", i > 0 ? "," : "", i);
	tu_str_add(&s, "]},\"summary\":{}}");
	return s.s;
}

Test(ingest, limit_array_of_strings)
{
	struct ingest_limits	 lim;
	struct tlsrpt_report	*rep;
	struct ingest_err	 err;
	char			*p, *json;

	ingest_limits_default(&lim);
	p = mx_policy(lim.strings_max);
	json = stu_report("O", "x", "2026-01-01", p);
	cr_expect_eq(tu_parse(json, &lim, &rep, &err), INGEST_OK, "%s",
	    err.msg);
	cr_expect(rep != NULL && rep->policies[0].nmx_hosts == lim.strings_max);
	tlsrpt_report_free(rep);
	free(p);
	free(json);
	p = mx_policy(lim.strings_max + 1);
	json = stu_report("O", "x", "2026-01-01", p);
	cr_expect_eq(tu_parse(json, &lim, &rep, &err), INGEST_E_TOOBIG);
	free(p);
	free(json);
}

static char *
many_details(size_t n)
{
	struct tu_str	d = { 0 };
	char		*pol;
	char		*json;
	size_t		i;

	for (i = 0; i < n; i++)
		tu_str_add(&d, "%s{\"result-type\":\"certificate-expired\","
		    "\"sending-mta-ip\":\"192.0.2.%zu\",\"receiving-ip\":"
		    "\"198.51.100.%zu\",\"receiving-mx-hostname\":"
		    "\"mx%zu.d.example\",\"failed-session-count\":1}",
		    i > 0 ? "," : "", i % 256, i % 200, i % 7);
	pol = stu_policy("sts", "d.example", 0, (long)n, d.s != NULL ? d.s :
	    "");
	json = stu_report("O", "x", "2026-01-01", pol);
	free(d.s);
	free(pol);
	return json;
}

Test(ingest, limit_details_100000, .timeout = 120)
{
	struct ingest_limits	 lim;
	struct tlsrpt_report	*rep;
	struct ingest_err	 err;
	char			*json;

	ingest_limits_default(&lim);
	cr_assert_eq(lim.details_max, 100000);
	json = many_details(lim.details_max);
	cr_expect_eq(tu_parse(json, &lim, &rep, &err), INGEST_OK, "%s",
	    err.msg);
	cr_expect(rep != NULL && rep->policies[0].ndetails == 100000);
	cr_expect(rep != NULL && !tu_has_warning(rep,
	    "failure-details-sum-differs"));
	tlsrpt_report_free(rep);
	free(json);
	lim.details_max = 999;
	json = many_details(1000);
	cr_expect_eq(tu_parse(json, &lim, &rep, &err), INGEST_E_TOOBIG);
	cr_expect_not_null(strstr(err.msg, "failure details"), "%s", err.msg);
	free(json);
}

/* --- RFC 8461 policy strings and MX patterns --------------------------- */

Test(ingest, sts_policy_lines)
{
	static const char *const good[] = { "version: STSv1\r",
	    "max_age:86400 ", "mode: testing", "mx: *.Example.com.",
	    "mx: mx1.example.net", "x-ext: 1" };
	static const char *const bad[] = { "version: STSv2", "mode: report",
	    "mode: enforce", "max_age: 99999999999", "junk" };
	struct arena		a = { 0 };
	struct sts_policy	p;

	cr_assert_eq(sts_policy_parse(&a, good, 6, &p), 0);
	cr_expect(p.version_ok);
	cr_expect_eq(p.mode, STS_MODE_TESTING);
	cr_expect_eq(p.max_age, 86400);
	cr_expect_eq(p.nmx, 2);
	cr_expect_str_eq(p.mx[0], "*.example.com");
	cr_expect_eq(p.problems, 0, "problems %#x", p.problems);

	cr_assert_eq(sts_policy_parse(&a, bad, 5, &p), 0);
	cr_expect(!p.version_ok);
	cr_expect_eq(p.mode, STS_MODE_INVALID, "first mode wins");
	cr_expect(p.problems & STS_P_NO_VERSION);
	cr_expect(p.problems & STS_P_BAD_MODE);
	cr_expect(p.problems & STS_P_DUP_FIELD);
	cr_expect(p.problems & STS_P_BAD_MAX_AGE);
	cr_expect(p.problems & STS_P_NO_MX);
	cr_expect(p.problems & STS_P_BAD_LINE);

	cr_assert_eq(sts_policy_parse(&a, NULL, 0, &p), 0);
	cr_expect(!p.present);
	arena_free(&a);
}

Test(ingest, sts_max_age_boundary)
{
	static const char *const at[] = { "version: STSv1", "mode: none",
	    "max_age: 31557600" };
	static const char *const over[] = { "version: STSv1", "mode: none",
	    "max_age: 31557601" };
	struct arena		a = { 0 };
	struct sts_policy	p;

	cr_assert_eq(sts_policy_parse(&a, at, 3, &p), 0);
	cr_expect_eq(p.problems, 0, "mode none needs no mx: %#x", p.problems);
	cr_assert_eq(sts_policy_parse(&a, over, 3, &p), 0);
	cr_expect(p.problems & STS_P_BAD_MAX_AGE);
	arena_free(&a);
}

Test(ingest, mx_match)
{
	cr_expect(sts_mx_match("mail.example.com", "MAIL.example.com."));
	cr_expect(sts_mx_match("*.example.com", "mail.example.com"));
	cr_expect(!sts_mx_match("*.example.com", "example.com"));
	cr_expect(!sts_mx_match("*.example.com", "a.b.example.com"));
	cr_expect(!sts_mx_match("*.example.com", ".example.com"));
	cr_expect(!sts_mx_match("*.example.com", "mail.example.org"));
	cr_expect(!sts_mx_match("mail.example.com", "mail2.example.com"));
	cr_expect(!sts_mx_match("", "example.com"));
}

Test(ingest, filename_domain)
{
	char	d[64];
	int64_t	b, e;

	cr_expect_eq(ingest_filename_domain(
	    "google.com!Example.COM!1725321600!1725407999!001.json.gz", d,
	    sizeof(d), &b, &e), 0);
	cr_expect_str_eq(d, "example.com");
	cr_expect_eq(b, 1725321600);
	cr_expect_eq(e, 1725407999);
	cr_expect_eq(ingest_filename_domain(
	    "/x/mx.egressif.io!a.example!1730332800!1730419200.json", d,
	    sizeof(d), NULL, NULL), 0);
	cr_expect_str_eq(d, "a.example");
	cr_expect_eq(ingest_filename_domain("report.json.gz", d, sizeof(d), NULL,
	    NULL),
	    -1);
	cr_expect_eq(ingest_filename_domain("a!b!c!d.json", d, sizeof(d), NULL,
	    NULL), -1);
	cr_expect_eq(ingest_filename_domain("a!b!1!2.zip", d, sizeof(d), NULL,
	    NULL), -1);
	cr_expect_eq(ingest_filename_domain("a!b c!1!2.json", d, sizeof(d), NULL,
	    NULL), -1);
}

Test(ingest, severities)
{
	cr_expect_str_eq(tlsrpt_result_severity("starttls-not-supported"),
	    "critical");
	cr_expect_str_eq(tlsrpt_result_severity("sts-policy-fetch-error"),
	    "warning");
	cr_expect_str_eq(tlsrpt_result_severity("Testing"), "warning");
	cr_expect_not_null(tlsrpt_result_meaning("no-such-type"));
}

/* --- what the mail said against what the body says --------------------- */

struct mail_warn_case {
	const char	*file;
	const char	*warning;
	int		 present;
};

static const struct mail_warn_case mail_warns[] = {
	{ "google_internet-message-parser_1.eml", "tls-report-domain-missing",
	  1 },
	{ "google_internet-message-parser_1.eml",
	  "tls-report-submitter-missing", 1 },
	{ "mailru_tlsrpt-rs_1.eml", "submitter-contact-mismatch", 1 },
	{ "google_tlsrpt-digest_failure.eml", "filename-dates-differ", 1 },
	{ "google-style_stalwart_rpt02.eml", "content-type-mislabeled", 1 },
	{ "google_mox_1.eml", "content-type-mislabeled", 0 },
	{ "google_mox_1.eml", "tls-report-domain-missing", 0 },
	{ "google_mox_1.eml", "not-multipart-report", 0 },
	{ "microsoft_tlsrpt-rs_1.eml", "filename-dates-differ", 0 },
	{ "microsoft_tlsrpt-rs_1.eml", "submitter-contact-mismatch", 0 },
};

Test(ingest, mail_transport_warnings)
{
	const struct mail_warn_case	*c;
	struct ingest_limits		 lim;
	struct tlsrpt_report		*rep;
	struct ingest_err		 err;
	unsigned char			*buf;
	size_t				 len;

	ingest_limits_default(&lim);
	for (c = mail_warns; c < mail_warns + sizeof(mail_warns) /
	    sizeof(mail_warns[0]); c++) {
		buf = tu_load(c->file, &len);
		cr_assert_eq(ingest_message(buf, len, &lim, &rep, &err),
		    INGEST_OK, "%s: %s", c->file, err.msg);
		cr_expect_eq(tu_has_warning(rep, c->warning), c->present,
		    "%s: warning %s %s", c->file, c->warning,
		    c->present ? "missing" : "unexpected");
		tlsrpt_report_free(rep);
		free(buf);
	}
}

/* --- memory bounded by input (README, Limits) -------------------------- */

/* A report with no policies and an unknown member "x" holding the array
 * [ITEM,ITEM,...] of n items.  By hand: its values besides the items are
 * 8 (the object, "O", date-range, its two dates, "x", policies, the
 * array); by README's cost table its tree without the items is 2,512
 * bytes: objects 2 x 800; members organization-name 32+16, date-range,
 * start-datetime, end-datetime, report-id, policies, x 32 each; strings
 * "O" and "x" 80 each, the dates (20 bytes) 96 each; arrays 2 x 160;
 * twice the longest string (a date, 20 bytes) 40. */
#define SKEL_VALUES	8
#define SKEL_TREE	2552

static char *
junk_report(const char *item, size_t n)
{
	struct tu_str	s = { 0 };
	size_t		i;

	tu_str_add(&s, "{\"organization-name\":\"O\",\"date-range\":{"
	    "\"start-datetime\":\"2026-01-01T00:00:00Z\",\"end-datetime\":"
	    "\"2026-01-01T23:59:59Z\"},\"report-id\":\"x\",\"policies\":[],"
	    "\"x\":[");
	for (i = 0; i < n; i++)
		tu_str_add(&s, "%s%s", i > 0 ? "," : "", item);
	tu_str_add(&s, "]}");
	return s.s;
}

/* LIM_JSON_VALUES_MAX at its default: at the limit parses, one over is
 * refused before json-c runs. */
Test(ingest, limit_json_values, .timeout = 120)
{
	struct ingest_limits	 lim;
	struct tlsrpt_report	*rep;
	struct ingest_err	 err;
	char			*ok, *over;

	ingest_limits_default(&lim);
	cr_assert_eq(lim.json_values_max, 1200000);
	ok = junk_report("0", lim.json_values_max - SKEL_VALUES);
	over = junk_report("0", lim.json_values_max - SKEL_VALUES + 1);
	cr_expect_eq(tu_parse(ok, &lim, &rep, &err), INGEST_OK, "%s", err.msg);
	tlsrpt_report_free(rep);
	cr_expect_eq(tu_parse(over, &lim, &rep, &err), INGEST_E_TOOBIG);
	cr_expect_not_null(strstr(err.msg, "more than 1200000 JSON values"),
	    "%s", err.msg);
	free(ok);
	free(over);
}

/* The tree estimate at a small limit: empty objects cost 816 bytes each
 * (800 and an array slot of 16). */
Test(ingest, limit_json_tree)
{
	struct ingest_limits	 lim;
	struct tlsrpt_report	*rep;
	struct ingest_err	 err;
	char			*ok, *over;
	size_t			 n;

	ingest_limits_default(&lim);
	lim.json_tree_max = 1024 * 1024;
	n = (lim.json_tree_max - SKEL_TREE) / 816;
	cr_assert_eq(n, 1281);
	ok = junk_report("{}", n);
	over = junk_report("{}", n + 1);
	cr_expect_eq(tu_parse(ok, &lim, &rep, &err), INGEST_OK, "%s", err.msg);
	tlsrpt_report_free(rep);
	cr_expect_eq(tu_parse(over, &lim, &rep, &err), INGEST_E_TOOBIG);
	cr_expect_not_null(strstr(err.msg, "over 1 MiB"), "%s", err.msg);
	free(ok);
	free(over);
}

/* The shapes that cost json-c the most per byte, at the default limits:
 * each is refused, and by the estimate, before json-c runs. */
Test(ingest, json_amplification_refused)
{
	static const char *const items[] = { "{}", "[]", "{\"a\":{}}",
	    "[[[]]]", "0", "\"\"" };
	struct ingest_limits	 lim;
	struct tlsrpt_report	*rep;
	struct ingest_err	 err;
	struct rusage		 ru0, ru1;
	char			*json;
	size_t			 i, n;

	ingest_limits_default(&lim);
	for (i = 0; i < sizeof(items) / sizeof(items[0]); i++) {
		/* 10 MiB of the item and its comma */
		n = (10 * 1024 * 1024) / (strlen(items[i]) + 1);
		json = junk_report(items[i], n);
		cr_assert_eq(getrusage(RUSAGE_SELF, &ru0), 0);
		cr_expect_eq(tu_parse(json, &lim, &rep, &err),
		    INGEST_E_TOOBIG, "%s x %zu: %s", items[i], n, err.msg);
		cr_assert_eq(getrusage(RUSAGE_SELF, &ru1), 0);
		/* the peak may only grow by the bound of one parse */
		cr_expect_leq(ru1.ru_maxrss - ru0.ru_maxrss,
		    (long)(LIM_JSON_TREE_BYTES / 1024), "%s: peak +%ld KiB",
		    items[i], ru1.ru_maxrss - ru0.ru_maxrss);
		free(json);
	}
}

/* \u0000 would truncate the stored value: the report is refused. */
Test(ingest, json_nul_refused)
{
	static const struct {
		const char		*json;
		enum ingest_status	 want;
	} cases[] = {
		{ R(D(",\"failure-reason-code\":\"a\\u0000b\"")),
		  INGEST_E_JSON },
		{ R(P(",\"x-ext\":\"\\u0000\"")), INGEST_E_JSON },
		{ R(P(",\"x-ext\\u0000\":1")), INGEST_E_JSON },
		/* an escaped backslash, then the text u0000 */
		{ R(D(",\"failure-reason-code\":\"\\\\u0000\"")), INGEST_OK },
		{ R(D(",\"failure-reason-code\":\"\\u0001\"")), INGEST_OK },
	};
	struct tlsrpt_report	*rep;
	struct ingest_err	 err;
	size_t			 i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cr_expect_eq(tu_parse(cases[i].json, NULL, &rep, &err),
		    cases[i].want, "case %zu: %s", i, err.msg);
		if (cases[i].want != INGEST_OK)
			cr_expect_not_null(strstr(err.msg, "NUL"), "case %zu: "
			    "%s", i, err.msg);
		tlsrpt_report_free(rep);
	}
}

/*
 * json-c 0.16 reports a failed malloc as no error at all: the parse must
 * say INGEST_E_NOMEM (503 at the HTTP front, tempfail at the milter), not
 * "syntax error ... success".  The test runs itself again in a process of
 * its own whose memory is capped: RLIMIT_AS, or under AddressSanitizer
 * (which reserves terabytes of address space) its soft RSS limit with
 * malloc returning NULL.  The limits let through 9 MB of empty objects,
 * about 2.4 GB for json-c.  The capped process writes the status to a
 * file and leaves at once with _exit(): past the cap nothing else there
 * may allocate (Criterion's own reporting included).
 */
Test(ingest_oom, json_nomem, .timeout = 120)
{
	struct ingest_limits	 lim;
	struct tlsrpt_report	*rep = NULL;
	struct ingest_err	 err;
	char			*json, *asan, *env[5], msg[INGEST_ERR_MAX + 32];
	char			 path[] = "/tmp/tlsrpt-oom.XXXXXX";
	const char		*out;
	ssize_t			 n;
	size_t			 got = 0;
	pid_t			 pid;
	int			 st, fd, devnull;

	if ((out = getenv("TLSRPT_OOM_OUT")) == NULL) {
		cr_assert_geq(fd = mkstemp(path), 0);
		asan = getenv("ASAN_OPTIONS");
		cr_assert_geq(asprintf(&env[0], "ASAN_OPTIONS=%s%s"
		    "allocator_may_return_null=1:soft_rss_limit_mb=600:"
		    "detect_leaks=0", asan != NULL ? asan : "",
		    asan != NULL ? ":" : ""), 0);
		cr_assert_geq(asprintf(&env[1], "TLSRPT_OOM_OUT=%s", path), 0);
		env[2] = (char *)(uintptr_t)"G_SLICE=always-malloc";
		env[3] = NULL;
		cr_assert_geq(pid = fork(), 0);
		if (pid == 0) {
			if ((devnull = open("/dev/null", O_WRONLY)) != -1) {
				dup2(devnull, 1);
				dup2(devnull, 2);
			}
			execle("/proc/self/exe", "unit-tests", "--filter",
			    "ingest_oom/json_nomem", "-j1", (char *)NULL, env);
			_exit(127);
		}
		free(env[0]);
		free(env[1]);
		cr_assert_eq(waitpid(pid, &st, 0), pid);
		while (got + 1 < sizeof(msg) && (n = read(fd, msg + got,
		    sizeof(msg) - 1 - got)) > 0)
			got += (size_t)n;
		msg[got] = '\0';
		close(fd);
		(void)unlink(path);
		cr_assert_gt(got, 0, "no status from the capped run (exit "
		    "status %d)", st);
		cr_expect_eq(atoi(msg), INGEST_E_NOMEM, "capped run: %s", msg);
		cr_expect_not_null(strstr(msg, "no-memory rep=0 out of memory"),
		    "capped run: %s", msg);
		return;
	}
	ingest_limits_default(&lim);
	lim.json_values_max = SIZE_MAX;
	lim.json_tree_max = SIZE_MAX;
	json = junk_report("{}", 3000000);
#ifndef __SANITIZE_ADDRESS__
	{
		struct rlimit	rl = { 512UL << 20, 512UL << 20 };

		cr_assert_eq(setrlimit(RLIMIT_AS, &rl), 0);
	}
#endif
	st = (int)tu_parse(json, &lim, &rep, &err);
	/* no malloc from here on: snprintf of %d and %s does not */
	n = snprintf(msg, sizeof(msg), "%d %s rep=%d %s", st,
	    ingest_status_str((enum ingest_status)st), rep != NULL, err.msg);
	if (n > 0 && (fd = open(out, O_WRONLY | O_TRUNC)) != -1) {
		(void)!write(fd, msg, (size_t)n);
		close(fd);
	}
	_exit(0);
}
