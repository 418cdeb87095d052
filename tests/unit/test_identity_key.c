/*
 * test_identity_key.c -- one report, one identity, whatever the
 * transport (issue 13), without a database: the key of the sys4
 * tlsrpt-reporter shapes computed apart (tests/lib/identity_testutil.c),
 * the domain taken from a report-id, tls-report-domain-differs.  The
 * same against PostgreSQL: tests/integration/test_identity.c.
 */

#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "identity_testutil.h"
#include "ingest.h"

Test(identity, sys4_key_from_body_alone)
{
	const char		*id = "2026-11-30T00:00:00Z_idx1_" DOMAIN;
	struct tlsrpt_report	*a, *b;
	char			*json, *mail;
	unsigned char		 want[32];

	json = sys4_json(id, 4);
	mail = sys4_mail(json, id, DOMAIN);
	a = parse_json(json, NULL);		/* as tlsrpt-httpd has it */
	b = parse_mail(mail);
	/* no domain in the body: the key covers none */
	expect_key(want, "Sender Mail Ltd", id, DAY0, DAY0 + 86399, NULL, 0);
	cr_expect_eq(memcmp(a->key, want, 32), 0);
	cr_expect_eq(memcmp(b->key, want, 32), 0);
	cr_expect_eq(memcmp(a->figures, b->figures, 32), 0);
	/* the domain: from the report-id by HTTPS, the header by mail */
	cr_expect_str_eq(a->policies[0].domain, DOMAIN);
	cr_expect_eq(a->policies[0].domain_src, TLSRPT_DS_REPORTID);
	cr_expect_str_eq(b->policies[0].domain, DOMAIN);
	cr_expect_eq(b->policies[0].domain_src, TLSRPT_DS_HEADER);
	cr_expect(!has_warning(b, "tls-report-domain-differs"),
	    "a body that names no domain cannot differ from the header");
	cr_expect(has_warning(b, "policy-domain-missing"));
	tlsrpt_report_free(a);
	tlsrpt_report_free(b);
	free(json);
	free(mail);
}

Test(identity, report_id_shapes)
{
	static const struct {
		const char	*id;
		const char	*domain;	/* NULL: none inferred */
	} c[] = {
		{ "2025-09-20T00:00:00Z_idx1_mpi-klsb.mpg.de", "mpi-klsb.mpg.de" },
		{ "2025-09-20T00:00:00Z_idx12_Example.ORG.", "example.org" },
		{ "2024-09-03T00:00:00Z_cardinalhealth.ca", "cardinalhealth.ca" },
		{ "133708152202987951+krvtz.net", "krvtz.net" },
		{ "133944884956529435+", NULL },	/* Microsoft, empty */
		{ "20240903.example.com@mox.example", "example.com" },
		{ "1730332800_11732957880687192466", NULL },	/* Stalwart */
		{ "c96d67df-0440-57f7-6e96-c83824d0fdf2@mail.ru", NULL },
		{ "2025-09-20T00:00:00Z_idx1_bad_name.test", NULL },
		{ "2025-09-20T00:00:00Z_localhost", NULL },	/* one label */
	};
	struct tlsrpt_report	*r;
	char			*json;
	size_t			 i;

	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		json = sys4_json(c[i].id, 1);
		r = parse_json(json, NULL);
		if (c[i].domain == NULL) {
			cr_expect_str_eq(r->policies[0].domain, "", "%s",
			    c[i].id);
			cr_expect_eq(r->policies[0].domain_src,
			    TLSRPT_DS_UNKNOWN, "%s", c[i].id);
		} else {
			cr_expect_str_eq(r->policies[0].domain, c[i].domain,
			    "%s", c[i].id);
			cr_expect_eq(r->policies[0].domain_src,
			    TLSRPT_DS_REPORTID, "%s", c[i].id);
		}
		tlsrpt_report_free(r);
		free(json);
	}
}

Test(identity, differs_only_when_the_body_names_another)
{
	struct ingest_meta	 meta;
	struct tlsrpt_report	*r;
	char			*json;

	memset(&meta, 0, sizeof(meta));
	meta.flags = INGEST_MF_MAIL;
	meta.report_domain = "other.test";
	json = report("Org", "r1", "2026-11-30",
	    pol("sts", "a.test", 1, 0, NULL));
	r = parse_json(json, &meta);
	cr_expect(has_warning(r, "tls-report-domain-differs"));
	tlsrpt_report_free(r);
	meta.report_domain = "a.test";
	r = parse_json(json, &meta);
	cr_expect(!has_warning(r, "tls-report-domain-differs"));
	tlsrpt_report_free(r);
	free(json);
	/* policies: [] names no domain: nothing differs */
	json = report("Org", "r2", "2026-11-30", strdup(""));
	meta.report_domain = "other.test";
	r = parse_json(json, &meta);
	cr_expect(!has_warning(r, "tls-report-domain-differs"));
	tlsrpt_report_free(r);
	free(json);
}
