/*
 * test_digest_mime.c -- the digest message is safe for `sendmail -t`
 * (which without -i ends the message at a lone ".") and for mbox (which
 * turns "From " at a line start into ">From "): body lines that would
 * start so after quoted-printable line wrapping get their first character
 * encoded, and the decoded text is unchanged; a Subject that is not
 * ASCII goes out as an RFC 2047 encoded-word.  Needs PostgreSQL.
 *
 * Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
 *
 * The fixture: one report on 2026-03-09 for esc.example whose failure
 * details carry six result types a sender made up: 200 dots, so that
 * every wrapped line inside them starts with ".", and "From " thirty
 * times behind 0 to 4 "x", so that with any column of the soft line
 * break one of them wraps onto a line that starts with "From ".
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <gmime/gmime.h>

#include "report_testutil.h"

#define NRT	6

static char	rts[NRT][256];

static char *
decoded(GMimeObject *o)
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

Test(digest_mime, dot_and_from_lines, .timeout = 60)
{
	struct stu_db	 db;
	struct store	*st;
	struct rtu_run	 r;
	GMimeStream	*s;
	GMimeParser	*p;
	GMimeMessage	*msg;
	GMimeObject	*body;
	char		*details = NULL, *text, *html;
	const char	*line, *nl, *bodystart;
	size_t		 i, j, len, dots = 0, froms = 0;

	memset(rts, 0, sizeof(rts));
	memset(rts[0], '.', 200);
	for (i = 1; i < NRT; i++) {
		for (j = 0; j < i - 1; j++)
			rts[i][j] = 'x';
		for (; j + 5 < 150; j += 5)
			memcpy(rts[i] + j, "From ", 5);
	}
	for (i = 0; i < NRT; i++)
		details = details == NULL ? rtu_detail(rts[i], "mx.esc.example",
		    NULL, NULL, NULL, 1) : stu_join(details, rtu_detail(rts[i],
		    "mx.esc.example", NULL, NULL, NULL, 1), NULL);
	stu_db_create(&db, "digest_mime");
	st = stu_open(&db, 1);
	rtu_put(st, "Alpha", "esc1", "2026-03-09", rtu_sts("esc.example",
	    rtu_lines("enforce", "*.esc.example"), 10, NRT, details));
	store_close(st);

	r = rtu_tlsrpt(&db, "TLSRPT_NOW=2026-03-10T06:00:00Z",
	    "digest --days 1 --to a@b.example");
	cr_expect_eq(r.status, 1, "warning-level result types: %s", r.out);
	bodystart = strstr(r.out, "\n\n");
	cr_assert_not_null(bodystart);
	for (line = r.out; *line != '\0'; line = nl + 1) {
		if ((nl = strchr(line, '\n')) == NULL)
			nl = line + strlen(line);
		len = (size_t)(nl - line);
		cr_expect_neq(line[0], '.', "a line starts with \".\": %.*s",
		    (int)len, line);
		cr_expect(strncmp(line, "From ", 5) != 0,
		    "a line starts with \"From \": %.*s", (int)len, line);
		if (line > bodystart)
			cr_expect_leq(len, 76, "quoted-printable line of %zu: "
			    "%.*s", len, (int)len, line);
		if (strncmp(line, "=2E", 3) == 0)
			dots++;
		if (strncmp(line, "=46rom ", 7) == 0 ||
		    strncmp(line, "=46=\n", 5) == 0)
			froms++;
		if (*nl == '\0')
			break;
	}
	/* the hazards arose: wrapped lines that began with them */
	cr_expect_gt(dots, 0, "no line began with a dot; the fixture is "
	    "weak:\n%s", r.out);
	cr_expect_gt(froms, 0, "no line began with \"From \"; the fixture is "
	    "weak:\n%s", r.out);

	/* and decoding gives the text back, each result type whole */
	g_mime_init();
	s = g_mime_stream_mem_new_with_buffer(r.out, strlen(r.out));
	p = g_mime_parser_new_with_stream(s);
	msg = g_mime_parser_construct_message(p, NULL);
	cr_assert_not_null(msg, "not a message: %s", r.out);
	body = g_mime_message_get_mime_part(msg);
	cr_assert(GMIME_IS_MULTIPART(body));
	cr_assert_eq(g_mime_multipart_get_count(GMIME_MULTIPART(body)), 2);
	text = decoded(g_mime_multipart_get_part(GMIME_MULTIPART(body), 0));
	html = decoded(g_mime_multipart_get_part(GMIME_MULTIPART(body), 1));
	for (i = 0; i < NRT; i++) {
		cr_expect_not_null(strstr(text, rts[i]), "text/plain lost "
		    "\"%s\":\n%s", rts[i], text);
		cr_expect_not_null(strstr(html, rts[i]), "text/html lost "
		    "\"%s\"", rts[i]);
	}
	cr_expect_not_null(strstr(text, "### esc.example: WARNING\n"), "%s",
	    text);
	free(text);
	free(html);
	g_object_unref(msg);
	g_object_unref(p);
	g_object_unref(s);
	free(r.out);

	/* a Subject that is not ASCII: an RFC 2047 encoded-word, the
	 * header itself plain ASCII */
	r = rtu_tlsrpt(&db, "TLSRPT_NOW=2026-03-10T06:00:00Z",
	    "digest --days 1 --subject 'Gr\xc3\xbc\xc3\x9f\x65'");
	cr_expect_eq(r.status, 1, "%s", r.out);
	line = strstr(r.out, "\nSubject: ");
	cr_assert_not_null(line, "%s", r.out);
	nl = strchr(line + 1, '\n');
	cr_assert_not_null(nl);
	for (bodystart = line + 1; bodystart < nl; bodystart++)
		cr_expect_lt((unsigned char)*bodystart, 0x80, "8-bit Subject: "
		    "%.*s", (int)(nl - line), line);
	cr_expect_not_null(strstr(line, "=?UTF-8?"), "%.*s", (int)(nl - line),
	    line);
	s = g_mime_stream_mem_new_with_buffer(r.out, strlen(r.out));
	p = g_mime_parser_new_with_stream(s);
	msg = g_mime_parser_construct_message(p, NULL);
	cr_assert_not_null(msg);
	cr_expect_str_eq(g_mime_message_get_subject(msg),
	    "[WARNING] Gr\xc3\xbc\xc3\x9f\x65");
	g_object_unref(msg);
	g_object_unref(p);
	g_object_unref(s);
	free(r.out);
	stu_db_drop(&db);
}
