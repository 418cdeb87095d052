/*
 * test_digest.c -- `tlsrpt digest`: the message parsed back with GMime
 * (headers, both parts, the Subject's status), its "new" and "gone
 * silent" sections, HTML escaping, exit codes.
 *
 * Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
 *
 * Now is 2026-03-10T06:00:00Z and --days 3: this period is 03-07..03-09,
 * the previous one 03-04..03-06.
 *  ok.example      Alpha every day, clean, mode enforce.
 *  crit.example    Alpha every day, mode testing, sts 100/f: before,
 *                  starttls at mx1 (1 a day); now also certificate-expired
 *                  at x<script>.crit.example (2 a day): a new result type
 *                  and a new failing MX.  Beta on the 3 days before, none
 *                  now: gone silent.
 *  warn.example    Alpha every day, sts-policy-fetch-error 1 a day.
 *  silent.example  Gamma on 2 of the 3 days before (most): gone silent;
 *                  Delta on 1 of them: not most, not listed.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <gmime/gmime.h>

#include "report_testutil.h"

#define NOW	"TLSRPT_NOW=2026-03-10T06:00:00Z"
#define DAY0	"2026-03-04"
#define EVIL_MX	"x<script>.crit.example"

static void
fixture(struct stu_db *db, const char *label)
{
	struct store	*st;
	char		 id[64];
	const char	*day, *testing, *enforce;
	int		 i;

	stu_db_create(db, label);
	st = stu_open(db, 1);
	for (i = 0; i < 6; i++) {
		day = rtu_day(DAY0, i);
		testing = rtu_lines("testing", "*.crit.example");
		snprintf(id, sizeof(id), "ok%d", i);
		rtu_put(st, "Alpha", id, day, rtu_sts("ok.example",
		    rtu_lines("enforce", "*.ok.example"), 100, 0, NULL));
		snprintf(id, sizeof(id), "crit%d", i);
		day = rtu_day(DAY0, i);
		testing = rtu_lines("testing", "*.crit.example");
		if (i < 3)
			rtu_put(st, "Alpha", id, day, rtu_sts("crit.example",
			    testing, 100, 1, rtu_detail(
			    "starttls-not-supported", "mx1.crit.example",
			    NULL, NULL, NULL, 1)));
		else
			rtu_put(st, "Alpha", id, day, rtu_sts("crit.example",
			    testing, 100, 3, stu_join(rtu_detail(
			    "starttls-not-supported", "mx1.crit.example",
			    NULL, NULL, NULL, 1), rtu_detail(
			    "certificate-expired", EVIL_MX, NULL, NULL, NULL,
			    2), NULL)));
		day = rtu_day(DAY0, i);
		if (i < 3) {
			snprintf(id, sizeof(id), "beta%d", i);
			rtu_put(st, "Beta", id, day, rtu_sts("crit.example",
			    rtu_lines("testing", "*.crit.example"), 100, 0,
			    NULL));
		}
		snprintf(id, sizeof(id), "warn%d", i);
		enforce = rtu_lines("enforce", "*.warn.example");
		day = rtu_day(DAY0, i);
		rtu_put(st, "Alpha", id, day, rtu_sts("warn.example", enforce,
		    100, 1, rtu_detail("sts-policy-fetch-error", NULL, NULL,
		    NULL, NULL, 1)));
	}
	rtu_put(st, "Gamma", "s1", "2026-03-04", rtu_sts("silent.example",
	    NULL, 10, 0, NULL));
	rtu_put(st, "Gamma", "s2", "2026-03-05", rtu_sts("silent.example",
	    NULL, 10, 0, NULL));
	rtu_put(st, "Delta", "s3", "2026-03-04", rtu_sts("silent.example",
	    NULL, 10, 0, NULL));
	store_close(st);
}

struct mail {
	GMimeMessage	*msg;
	char		*subject;	/* decoded */
	char		*text;		/* decoded parts */
	char		*html;
};

static char *
part_text(GMimeObject *o)
{
	GMimeDataWrapper	*w;
	GMimeStream		*mem;
	GByteArray		*ba;
	char			*s;

	cr_assert(GMIME_IS_PART(o));
	w = g_mime_part_get_content(GMIME_PART(o));
	cr_assert_not_null(w);
	mem = g_mime_stream_mem_new();
	cr_assert_geq(g_mime_data_wrapper_write_to_stream(w, mem), 0);
	ba = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(mem));
	s = strndup((const char *)ba->data, ba->len);
	g_object_unref(mem);
	return s;
}

/* Parse the digest; asserts the headers and the structure. */
static void
parse(const char *out, struct mail *m)
{
	GMimeStream		*s;
	GMimeParser		*p;
	GMimeObject		*body, *a, *b;
	GMimeContentType	*ct;
	InternetAddressList	*to;

	memset(m, 0, sizeof(*m));
	g_mime_init();
	s = g_mime_stream_mem_new_with_buffer(out, strlen(out));
	p = g_mime_parser_new_with_stream(s);
	m->msg = g_mime_parser_construct_message(p, NULL);
	cr_assert_not_null(m->msg, "not a message: %s", out);
	g_object_unref(p);
	g_object_unref(s);

	cr_assert_not_null(g_mime_message_get_subject(m->msg));
	m->subject = strdup(g_mime_message_get_subject(m->msg));
	cr_expect_not_null(g_mime_message_get_date(m->msg), "Date: %s", out);
	cr_expect_not_null(g_mime_message_get_message_id(m->msg));
	cr_expect_not_null(strchr(g_mime_message_get_message_id(m->msg), '@'));
	to = g_mime_message_get_to(m->msg);
	cr_expect_geq(internet_address_list_length(to), 1);
	cr_expect_eq(internet_address_list_length(
	    g_mime_message_get_from(m->msg)), 1);
	cr_expect_str_eq(g_mime_object_get_header(GMIME_OBJECT(m->msg),
	    "MIME-Version"), "1.0");

	body = g_mime_message_get_mime_part(m->msg);
	cr_assert(GMIME_IS_MULTIPART(body), "not multipart");
	ct = g_mime_object_get_content_type(body);
	cr_expect(g_mime_content_type_is_type(ct, "multipart", "alternative"));
	cr_assert_eq(g_mime_multipart_get_count(GMIME_MULTIPART(body)), 2);
	a = g_mime_multipart_get_part(GMIME_MULTIPART(body), 0);
	b = g_mime_multipart_get_part(GMIME_MULTIPART(body), 1);
	cr_expect(g_mime_content_type_is_type(g_mime_object_get_content_type(
	    a), "text", "plain"), "first part text/plain");
	cr_expect(g_mime_content_type_is_type(g_mime_object_get_content_type(
	    b), "text", "html"), "second part text/html (the preferred one "
	    "last)");
	m->text = part_text(a);
	m->html = part_text(b);
	/* a lone "." ends the message for sendmail -t without -i */
	cr_expect_null(strstr(out, "\n.\n"));
}

static void
mail_free(struct mail *m)
{
	g_object_unref(m->msg);
	free(m->subject);
	free(m->text);
	free(m->html);
}

Test(digest, message_sections, .timeout = 60)
{
	struct stu_db	 db;
	struct rtu_run	 r;
	struct mail	 m;
	char		*crit, *sil;

	fixture(&db, "dg_main");
	r = rtu_tlsrpt(&db, NOW, "digest --days 3 --to a@example.org --to "
	    "b@example.org --from tlsrpt@example.org");
	cr_expect_eq(r.status, 2, "critical: exit 2");
	parse(r.out, &m);
	cr_expect(strncmp(m.subject, "[CRITICAL] ", 11) == 0, "Subject: %s",
	    m.subject);
	cr_expect_not_null(strstr(m.subject, "2026-03-07 to 2026-03-09"),
	    "%s", m.subject);
	cr_expect_not_null(strstr(m.subject, "1 critical, 2 warning, 1 ok"),
	    "%s", m.subject);
	cr_expect_eq(internet_address_list_length(g_mime_message_get_to(
	    m.msg)), 2);

	/* crit.example: figures, new, gone silent, readiness */
	crit = strstr(m.text, "### crit.example: CRITICAL\n");
	cr_assert_not_null(crit, "%s", m.text);
	cr_expect(strncmp(crit + 27, "Sessions: 309 (previous period 603), "
	    "failure rate 2.91% (previous 0.50%)\n", 71) == 0, "%s", crit);
	cr_expect_not_null(strstr(crit, "New result types: "
	    "certificate-expired (6, critical)\n"), "%s", crit);
	cr_expect_not_null(strstr(crit, "New failing MX hosts: " EVIL_MX
	    "\n"), "%s", crit);
	cr_expect_null(strstr(crit, "New result types: starttls"), "%s",
	    crit);
	cr_expect_not_null(strstr(crit, "Gone silent: beta (reported on 3 "
	    "days"), "%s", crit);
	cr_expect_not_null(strstr(crit, "MTA-STS readiness for enforce (last "
	    "14 days): NOT READY"), "%s", crit);
	/* warn.example: nothing new, no readiness (mode enforce) */
	cr_expect_not_null(strstr(m.text, "### warn.example: WARNING\n"),
	    "%s", m.text);
	cr_expect_null(strstr(strstr(m.text, "### warn.example"),
	    "MTA-STS readiness"), "%s", m.text);
	/* silent.example: no reports now, Gamma gone silent, Delta not */
	sil = strstr(m.text, "### silent.example: WARNING\n");
	cr_assert_not_null(sil, "%s", m.text);
	cr_expect_not_null(strstr(sil, "Sessions: 0 (previous period 30)"),
	    "%s", sil);
	cr_expect_not_null(strstr(sil, "Gone silent: gamma (reported on 2 "
	    "days"), "%s", sil);
	cr_expect_null(strstr(m.text, "delta"), "%s", m.text);
	/* ok.example in the quiet list */
	cr_expect_not_null(strstr(m.text, "### OK, nothing failed\n  "
	    "ok.example"), "%s", m.text);
	cr_expect(strstr(m.text, "### crit.example") < strstr(m.text,
	    "### warn.example"), "critical first");

	/* HTML: the same sections, report text escaped */
	cr_expect_not_null(strstr(m.html, "<table"), "%s", m.html);
	cr_expect_not_null(strstr(m.html, "x&lt;script&gt;.crit.example"),
	    "%s", m.html);
	cr_expect_null(strstr(m.html, "<script"), "%s", m.html);
	cr_expect_null(strstr(m.html, "<img"), "%s", m.html);
	cr_expect_not_null(strstr(m.html, "<b>Gone silent:</b> beta"), "%s",
	    m.html);
	cr_expect_not_null(strstr(m.html, "<b>New result types:</b> "
	    "certificate-expired"), "%s", m.html);
	mail_free(&m);
	free(r.out);
	stu_db_drop(&db);
}

Test(digest, subject_status_and_exit_codes, .timeout = 60)
{
	struct stu_db	db;
	struct rtu_run	r;
	struct mail	m;

	fixture(&db, "dg_status");
	r = rtu_tlsrpt(&db, NOW, "digest --days 3 --domain ok.example "
	    "--subject 'Zürich daily'");
	cr_expect_eq(r.status, 0, "%s", r.out);
	parse(r.out, &m);
	cr_expect_str_eq(m.subject, "[OK] Zürich daily");
	mail_free(&m);
	free(r.out);

	r = rtu_tlsrpt(&db, NOW, "digest --days 3 --domain warn.example");
	cr_expect_eq(r.status, 1, "%s", r.out);
	parse(r.out, &m);
	cr_expect(strncmp(m.subject, "[WARNING] ", 10) == 0, "%s", m.subject);
	mail_free(&m);
	free(r.out);

	/* only a reporter gone silent: a warning */
	r = rtu_tlsrpt(&db, NOW, "digest --days 3 --domain silent.example");
	cr_expect_eq(r.status, 1, "%s", r.out);
	free(r.out);

	/* a quiet day (nothing now, nothing before): OK */
	r = rtu_tlsrpt(&db, "TLSRPT_NOW=2027-01-01T00:00:00Z", "digest");
	cr_expect_eq(r.status, 0, "%s", r.out);
	parse(r.out, &m);
	cr_expect(strncmp(m.subject, "[OK] ", 5) == 0, "%s", m.subject);
	cr_expect_not_null(strstr(m.text, "No reports"), "%s", m.text);
	mail_free(&m);
	free(r.out);

	/* header injection and bad options: exit 3, nothing on stdout */
	r = rtu_tlsrpt(&db, NOW, "digest --to \"$(printf 'a@b\\nBcc: x@y')\"");
	cr_expect_eq(r.status, 3, "%s", r.out);
	cr_expect_null(strstr(r.out, "Subject:"), "%s", r.out);
	free(r.out);
	r = rtu_tlsrpt(&db, NOW, "digest --to nobody");
	cr_expect_eq(r.status, 3, "%s", r.out);
	free(r.out);
	r = rtu_tlsrpt(&db, NOW, "digest --format json");
	cr_expect_eq(r.status, 3, "%s", r.out);
	free(r.out);
	stu_db_drop(&db);
}
