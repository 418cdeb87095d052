/*
 * test_mime.c -- ingest_message(): the report out of real and crafted mail.
 *
 * Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
 *
 * The corpus is read from $TLSRPT_CORPUS, else tests/data/corpus (tests
 * run from the repository root).
 */

#include <dirent.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <glib.h>
#include <json-c/json.h>

#include "ingest.h"
#include "testutil.h"

struct eml_case {
	const char		*file;
	enum ingest_status	 want;
	const char		*idjson;	/* report-id from this file */
	const char		*id;		/* or this one */
	const char		*filename;	/* NULL: none expected */
	const char		*domain;
	const char		*submitter;
};

static const struct eml_case eml_cases[] = {
	{ "empty_tlsrpt-rs.eml", INGEST_E_NOREPORT, NULL, NULL,
	    NULL, NULL, NULL },
	{ "google-style_stalwart_rpt02.eml", INGEST_OK,
	    "google-style_stalwart_rpt02.json", NULL,
	    "mail.sender.example!example.com!1013662812!1013749130.json",
	    "example.net", "mail.sender.example.com" },
	{ "google_blogreen-mbox_1.eml", INGEST_OK,
	    "google_blogreen-mbox_1_extracted.json", NULL,
	    "google.com!blogreen.org!1675296000!1675382399!001.json.gz",
	    "blogreen.org", "google.com" },
	{ "google_deltachat-core_tlsrpt.eml", INGEST_OK,
	    "google_deltachat-core_tlsrpt_extracted.json", NULL,
	    "google.com!nine.testrun.org!1705708800!1705795199!001.json.gz",
	    "nine.testrun.org", "google.com" },
	{ "google_internet-message-parser_1.eml", INGEST_OK,
	    "google_internet-message-parser_1_extracted.json", NULL,
	    "google.com!digilicious.com!1641686400!1641772799!001.json.gz",
	    NULL, NULL },
	{ "google_mail-tls-rpt_fastmail.eml", INGEST_OK,
	    "google_mail-tls-rpt_fastmail_extracted.json", NULL,
	    "google.com!fastmaildmarc.com!1583107200!1583193599!"
	    "001.json.gz",
	    "fastmaildmarc.com", "google.com" },
	{ "google_mox_1.eml", INGEST_OK, "google_mox_1_extracted.json", NULL,
	    "google.com!test.xmox.nl!1663200000!1663286399!001.json.gz",
	    "test.xmox.nl", "google.com" },
	{ "google_parsedmarc_1.eml", INGEST_OK,
	    "google_parsedmarc_1_extracted.json", NULL,
	    "google.com!cardinalhealth.ca!1725321600!1725407999!001.json.gz",
	    "cardinalhealth.ca", "google.com" },
	{ "google_tlsrpt-digest_failure.eml", INGEST_OK,
	    "google_tlsrpt-digest_failure_extracted.json", NULL,
	    "google.com!example.com!1778544000!1778630399!001.json.gz",
	    "example.com", "google.com" },
	{ "google_tlsrpt-digest_success1.eml", INGEST_OK,
	    "google_tlsrpt-digest_success1_extracted.json", NULL,
	    "google.com!example.com!1778457600!1778543999!001.json.gz",
	    "example.com", "google.com" },
	{ "google_tlsrpt-digest_success2.eml", INGEST_OK,
	    "google_tlsrpt-digest_success2_extracted.json", NULL,
	    "google.com!example.com!1778544000!1778630399!001.json.gz",
	    "example.com", "google.com" },
	{ "google_tlsrpt-rs_1.eml", INGEST_OK,
	    "google_tlsrpt-rs_1_extracted.json", NULL,
	    "google.com!krvtz.net!1726358400!1726444799!001.json.gz",
	    "krvtz.net", "google.com" },
	{ "google_tlsrpt-rs_2.eml", INGEST_OK,
	    "google_tlsrpt-rs_2_extracted.json", NULL,
	    "google.com!krvtz.net!1726617600!1726703999!001.json.gz",
	    "krvtz.net", "google.com" },
	{ "mailru_tlsrpt-rs_1.eml", INGEST_OK,
	    "mailru_tlsrpt-rs_1_extracted.json", NULL,
	    "mail.ru!krvtz.net!1674604800!1674691200!001.json.gz",
	    "krvtz.net", "mail.ru" },
	{ "microsoft_mox_1.eml", INGEST_OK,
	    "microsoft_mox_1_extracted.json", NULL,
	    "microsoft.com!test.xmox.nl!1673308800!1673395199!"
	    "133198585438131172.json.gz",
	    "test.xmox.nl", "microsoft.com" },
	{ "microsoft_tlsrpt-digest_success.eml", INGEST_OK,
	    "microsoft_tlsrpt-digest_success_extracted.json", NULL,
	    "microsoft.com!example.com!1778630400!1778716799!"
	    "134232617934286362.json.gz",
	    "example.com", "microsoft.com" },
	{ "microsoft_tlsrpt-rs_1.eml", INGEST_OK,
	    "microsoft_tlsrpt-rs_1_extracted.json", NULL,
	    "microsoft.com!krvtz.net!1726185600!1726271999!"
	    "133708152202987951.json.gz",
	    "krvtz.net", "microsoft.com" },
	{ "rfc8460-example_stalwart_rpt01.eml", INGEST_OK, NULL,
	    "5065427c-23d3-47ca-b6e0-946ea0e8c4be",
	    "mail.sender.example!example.com!1013662812!1013749130.json.gz",
	    "example.net", "mail.sender.example.com" },
};

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

/* A small valid report, and a second one to tell them apart. */
#define REPORT_JSON(id)							\
	"{\"organization-name\":\"Crafted Inc.\",\"date-range\":"	\
	"{\"start-datetime\":\"2024-01-01T00:00:00Z\","			\
	"\"end-datetime\":\"2024-01-01T23:59:59Z\"},"			\
	"\"contact-info\":\"tlsrpt@example.org\",\"report-id\":\"" id	\
	"\",\"policies\":[{\"policy\":{\"policy-type\":"		\
	"\"no-policy-found\",\"policy-domain\":\"example.com\"},"	\
	"\"summary\":{\"total-successful-session-count\":1,"		\
	"\"total-failure-session-count\":0}}]}"
static const char report_a[] = REPORT_JSON("crafted-a");
static const char report_b[] = REPORT_JSON("crafted-b");

/* report-id of a JSON file in the corpus, g_malloc'd; NULL on failure. */
static char *
json_report_id(const char *name)
{
	struct json_object	*root, *v;
	unsigned char		*buf;
	char			*id = NULL;
	size_t			 len;

	buf = tu_load(name, &len);
	root = json_tokener_parse((const char *)buf);
	if (root != NULL && json_object_object_get_ex(root, "report-id", &v) &&
	    json_object_is_type(v, json_type_string))
		id = g_strdup(json_object_get_string(v));
	json_object_put(root);
	free(buf);
	return id;
}

static int
streq_null(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

#define S(x)	((x) != NULL ? (x) : "(null)")

static struct ingest_limits
limits(void)
{
	struct ingest_limits	lim;

	ingest_limits_default(&lim);
	return lim;
}

/* ---- builders for crafted messages ---------------------------------- */

static GString *
gzip_of(const char *s, size_t len)
{
	GString		*out;
	unsigned char	*gz;
	size_t		 n;

	gz = tu_gzip(s, len, &n);
	out = g_string_new_len((const char *)gz, (gssize)n);
	free(gz);
	return out;
}

/* base64, wrapped at 76 columns with "\n". */
static GString *
b64_of(const char *s, size_t len)
{
	GString	*out;
	gchar	*b;
	size_t	 i, n;

	b = g_base64_encode((const guchar *)s, len);
	n = strlen(b);
	out = g_string_new(NULL);
	for (i = 0; i < n; i += 76) {
		g_string_append_len(out, b + i, (gssize)MIN(76, n - i));
		g_string_append_c(out, '\n');
	}
	g_free(b);
	return out;
}

static GString *
b64_gzip(const char *s)
{
	GString	*gz, *b;

	gz = gzip_of(s, strlen(s));
	b = b64_of(gz->str, gz->len);
	g_string_free(gz, TRUE);
	return b;
}

/* quoted-printable: '{' and '=' encoded, soft breaks every 60 bytes. */
static GString *
qp_of(const char *s)
{
	GString	*out = g_string_new(NULL);
	size_t	 col = 0;

	for (; *s != '\0'; s++) {
		if (*s == '{' || *s == '=') {
			g_string_append_printf(out, "=%02X", (unsigned char)*s);
			col += 3;
		} else {
			g_string_append_c(out, *s);
			col++;
		}
		if (col >= 60) {
			g_string_append(out, "=\n");
			col = 0;
		}
	}
	g_string_append_c(out, '\n');
	return out;
}

/* A message from "\n" text: CRLF line ends unless lf_only. */
static GString *
eol(GString *s, int lf_only)
{
	GString	*out;
	size_t	 i;

	if (lf_only)
		return s;
	out = g_string_sized_new(s->len + s->len / 40);
	for (i = 0; i < s->len; i++) {
		if (s->str[i] == '\n')
			g_string_append_c(out, '\r');
		g_string_append_c(out, s->str[i]);
	}
	g_string_free(s, TRUE);
	return out;
}

#define HDRS								\
	"From: reporter <noreply@reporter.example>\n"			\
	"To: tlsrpt@example.com\n"					\
	"Date: Tue, 02 Jan 2024 00:10:00 +0000\n"			\
	"Message-ID: <crafted@reporter.example>\n"			\
	"Subject: Report Domain: example.com Submitter: reporter.example\n" \
	" Report-ID: <crafted@reporter.example>\n"			\
	"TLS-Report-Domain: example.com\n"				\
	"TLS-Report-Submitter:  reporter.example \n"			\
	"MIME-Version: 1.0\n"

/* A multipart/report mail with a text part and one report part. */
static GString *
report_mail(const char *report_type, const char *part_hdrs,
    const GString *body, int lf_only)
{
	GString	*m = g_string_new(HDRS);

	g_string_append_printf(m, "Content-Type: multipart/report; "
	    "boundary=\"BOUND\"; report-type=%s\n\n"
	    "--BOUND\nContent-Type: text/plain\n\nA TLS report.\n\n"
	    "--BOUND\n%s\n%s\n--BOUND--\n", report_type, part_hdrs, body->str);
	return eol(m, lf_only);
}

struct run {
	enum ingest_status	 st;
	struct tlsrpt_report	*rep;
	struct ingest_err	 err;
};

static void
run_msg(const GString *m, const struct ingest_limits *lim, struct run *r)
{
	memset(r, 0, sizeof(*r));
	r->st = ingest_message((const unsigned char *)m->str, m->len, lim,
	    &r->rep, &r->err);
	if (r->st != INGEST_OK)
		cr_expect_null(r->rep, "report returned with status %s",
		    ingest_status_str(r->st));
}

static void
expect_ok(const struct run *r, const char *label, const char *id)
{
	cr_expect_eq(r->st, INGEST_OK, "%s: got %s (%s)", label,
	    ingest_status_str(r->st), r->err.msg);
	if (r->st == INGEST_OK && r->rep != NULL)
		cr_expect_str_eq(r->rep->report_id, id, "%s: report-id",
		    label);
}

/* ---- the corpus ----------------------------------------------------- */

Test(mime, corpus)
{
	struct ingest_limits	 lim = limits();
	const struct eml_case	*c;
	struct tlsrpt_report	*rep;
	struct ingest_err	 err;
	unsigned char		*buf;
	char			*want_id;
	enum ingest_status	 st;
	size_t			 len;

	for (c = eml_cases; c < eml_cases + NELEM(eml_cases); c++) {
		buf = tu_load(c->file, &len);
		rep = NULL;
		st = ingest_message(buf, len, &lim, &rep, &err);
		cr_expect_eq(st, c->want, "%s: got %s (%s), want %s", c->file,
		    ingest_status_str(st), err.msg,
		    ingest_status_str(c->want));
		if (st != INGEST_OK || rep == NULL) {
			cr_expect_null(rep, "%s: report with an error",
			    c->file);
			if (st == INGEST_E_NOREPORT)
				cr_expect(strstr(err.msg, "no TLS report") !=
				    NULL, "%s: message \"%s\"", c->file,
				    err.msg);
			free(buf);
			continue;
		}
		want_id = c->idjson != NULL ? json_report_id(c->idjson) :
		    g_strdup(c->id);
		cr_expect_not_null(want_id, "%s: no report-id in %s", c->file,
		    S(c->idjson));
		if (want_id != NULL)
			cr_expect_str_eq(rep->report_id, want_id,
			    "%s: report-id", c->file);
		cr_expect(streq_null(rep->filename, c->filename),
		    "%s: filename \"%s\", want \"%s\"", c->file,
		    S(rep->filename), S(c->filename));
		cr_expect(streq_null(rep->hdr_domain, c->domain),
		    "%s: TLS-Report-Domain \"%s\", want \"%s\"", c->file,
		    S(rep->hdr_domain), S(c->domain));
		cr_expect(streq_null(rep->hdr_submitter, c->submitter),
		    "%s: TLS-Report-Submitter \"%s\", want \"%s\"", c->file,
		    S(rep->hdr_submitter), S(c->submitter));
		cr_expect_not_null(rep->subject, "%s: no subject", c->file);
		if (rep->subject != NULL)
			cr_expect(strchr(rep->subject, '\n') == NULL &&
			    strncmp(rep->subject, "Report", 6) == 0,
			    "%s: subject \"%s\"", c->file, rep->subject);
		g_free(want_id);
		tlsrpt_report_free(rep);
		free(buf);
	}
}

/* Every .eml of the corpus is in the table: new samples get a row. */
Test(mime, corpus_complete)
{
	const struct eml_case	*c;
	struct dirent		*de;
	DIR			*d;
	size_t			 n = 0, len;

	d = opendir(tu_corpus_dir());
	cr_assert_not_null(d, "corpus %s not found (set TLSRPT_CORPUS)",
	    tu_corpus_dir());
	while ((de = readdir(d)) != NULL) {
		len = strlen(de->d_name);
		if (len < 4 || strcmp(de->d_name + len - 4, ".eml") != 0)
			continue;
		n++;
		for (c = eml_cases; c < eml_cases + NELEM(eml_cases); c++)
			if (strcmp(c->file, de->d_name) == 0)
				break;
		cr_expect(c < eml_cases + NELEM(eml_cases),
		    "%s is not in eml_cases", de->d_name);
	}
	closedir(d);
	cr_expect_eq(n, NELEM(eml_cases), "%zu .eml files, %zu rows", n,
	    NELEM(eml_cases));
}

/* The subject is unfolded: Mail.ru folds before every field. */
Test(mime, subject_unfolded)
{
	struct ingest_limits	 lim = limits();
	struct tlsrpt_report	*rep = NULL;
	struct ingest_err	 err;
	unsigned char		*buf;
	size_t			 len;

	buf = tu_load("mailru_tlsrpt-rs_1.eml", &len);
	cr_assert_not_null(buf);
	cr_assert_eq(ingest_message(buf, len, &lim, &rep, &err), INGEST_OK,
	    "%s", err.msg);
	cr_expect_str_eq(rep->subject, "Report Domain: krvtz.net Submitter: "
	    "mail.ru Report-ID: "
	    "<c96d67df-0440-57f7-6e96-c83824d0fdf2@mail.ru>");
	tlsrpt_report_free(rep);
	free(buf);
}

/* A CRLF corpus mail with every CR removed parses the same. */
Test(mime, lf_only_corpus)
{
	static const char *const files[] = {
		"google_mox_1.eml", "mailru_tlsrpt-rs_1.eml",
		"microsoft_tlsrpt-rs_1.eml", "google_parsedmarc_1.eml",
	};
	struct ingest_limits	 lim = limits();
	GString			*m;
	struct run		 r;
	unsigned char		*buf;
	size_t			 i, j, len;

	for (i = 0; i < NELEM(files); i++) {
		buf = tu_load(files[i], &len);
		cr_assert_not_null(buf, "%s", files[i]);
		m = g_string_new(NULL);
		for (j = 0; j < len; j++)
			if (buf[j] != '\r')
				g_string_append_c(m, (char)buf[j]);
		run_msg(m, &lim, &r);
		cr_expect_eq(r.st, INGEST_OK, "%s without CR: %s (%s)",
		    files[i], ingest_status_str(r.st), r.err.msg);
		if (r.rep != NULL)
			cr_expect_not_null(r.rep->filename, "%s", files[i]);
		tlsrpt_report_free(r.rep);
		g_string_free(m, TRUE);
		free(buf);
	}
}

/* ---- crafted messages ----------------------------------------------- */

/* The whole message is the report (QUIRKS A2), CRLF and LF. */
Test(mime, bare_body)
{
	struct ingest_limits	 lim = limits();
	GString			*b64, *m;
	struct run		 r;
	int			 lf;

	for (lf = 0; lf <= 1; lf++) {
		b64 = b64_gzip(report_a);
		m = g_string_new(HDRS);
		g_string_append_printf(m, "Content-Type: "
		    "application/tlsrpt+gzip\n"
		    "Content-Transfer-Encoding: base64\n"
		    "Content-Disposition: attachment;\n"
		    "\tfilename=\"reporter.example!example.com!1704067200!"
		    "1704153599!001.json.gz\"\n\n%s", b64->str);
		m = eol(m, lf);
		run_msg(m, &lim, &r);
		expect_ok(&r, lf ? "bare body LF" : "bare body CRLF",
		    "crafted-a");
		if (r.rep != NULL) {
			cr_expect_str_eq(S(r.rep->filename), "reporter.example!"
			    "example.com!1704067200!1704153599!001.json.gz");
			cr_expect_str_eq(S(r.rep->hdr_domain), "example.com");
			cr_expect_str_eq(S(r.rep->hdr_submitter),
			    "reporter.example", "submitter is trimmed");
			cr_expect_str_eq(S(r.rep->subject), "Report Domain: "
			    "example.com Submitter: reporter.example "
			    "Report-ID: <crafted@reporter.example>");
			cr_expect(r.rep->was_gzip);
		}
		tlsrpt_report_free(r.rep);
		g_string_free(m, TRUE);
		g_string_free(b64, TRUE);
	}
}

/* Bare JSON body, no transfer encoding. */
Test(mime, bare_body_json)
{
	struct ingest_limits	 lim = limits();
	GString			*m;
	struct run		 r;

	m = g_string_new(HDRS);
	g_string_append_printf(m, "Content-Type: application/tlsrpt+json\n\n"
	    "%s\n", report_a);
	m = eol(m, 0);
	run_msg(m, &lim, &r);
	expect_ok(&r, "bare JSON body", "crafted-a");
	if (r.rep != NULL)
		cr_expect(!r.rep->was_gzip);
	tlsrpt_report_free(r.rep);
	g_string_free(m, TRUE);
}

/*
 * A user forwards the report mail as message/rfc822: the report is found
 * and the headers are the inner (reporter's) ones.  Also base64-encoded
 * message/rfc822, which GMime leaves as a leaf.
 */
Test(mime, forwarded)
{
	struct ingest_limits	 lim = limits();
	GString			*b64, *inner, *m, *enc;
	struct run		 r;
	int			 encoded;

	b64 = b64_gzip(report_a);
	inner = report_mail("tlsrpt", "Content-Type: application/tlsrpt+gzip;"
	    " name=\"r.json.gz\"\nContent-Transfer-Encoding: base64\n", b64,
	    1);
	for (encoded = 0; encoded <= 1; encoded++) {
		m = g_string_new("From: user <user@example.com>\n"
		    "To: postmaster@example.com\n"
		    "Subject: Fwd: a TLS report\n"
		    "MIME-Version: 1.0\n"
		    "Content-Type: multipart/mixed; boundary=\"OUTER\"\n\n"
		    "--OUTER\nContent-Type: text/plain\n\nSee attached.\n\n"
		    "--OUTER\nContent-Type: message/rfc822\n");
		if (encoded) {
			enc = b64_of(inner->str, inner->len);
			g_string_append_printf(m, "Content-Transfer-Encoding: "
			    "base64\n\n%s", enc->str);
			g_string_free(enc, TRUE);
		} else
			g_string_append_printf(m, "\n%s", inner->str);
		g_string_append(m, "\n--OUTER--\n");
		m = eol(m, 0);
		run_msg(m, &lim, &r);
		expect_ok(&r, encoded ? "forwarded base64" : "forwarded",
		    "crafted-a");
		if (r.rep != NULL) {
			cr_expect_str_eq(S(r.rep->hdr_domain), "example.com");
			cr_expect_str_eq(S(r.rep->hdr_submitter),
			    "reporter.example");
			cr_expect_str_eq(S(r.rep->filename), "r.json.gz");
			cr_expect(strncmp(S(r.rep->subject), "Report Domain:",
			    14) == 0, "inner subject, got \"%s\"",
			    S(r.rep->subject));
		}
		tlsrpt_report_free(r.rep);
		g_string_free(m, TRUE);
	}
	g_string_free(inner, TRUE);
	g_string_free(b64, TRUE);
}

/* Forwarding is followed a few levels deep, then the walk stops. */
Test(mime, forwarded_deep)
{
	static const struct {
		int			depth;
		enum ingest_status	want;
	} cases[] = {
		{ 1, INGEST_OK }, { 5, INGEST_OK }, { 40, INGEST_E_NOREPORT },
		{ 300, INGEST_E_NOREPORT },
	};
	struct ingest_limits	 lim = limits();
	GString			*b64, *m, *next;
	struct run		 r;
	size_t			 c;
	int			 i;

	b64 = b64_gzip(report_a);
	for (c = 0; c < NELEM(cases); c++) {
		m = report_mail("tlsrpt", "Content-Type: "
		    "application/tlsrpt+gzip\n"
		    "Content-Transfer-Encoding: base64\n", b64, 1);
		for (i = 0; i < cases[c].depth; i++) {
			next = g_string_new("From: a@example.com\n"
			    "Subject: Fwd\nMIME-Version: 1.0\n"
			    "Content-Type: message/rfc822\n\n");
			g_string_append_len(next, m->str, (gssize)m->len);
			g_string_free(m, TRUE);
			m = next;
		}
		run_msg(m, &lim, &r);
		cr_expect_eq(r.st, cases[c].want, "forwarded %d deep: %s (%s)",
		    cases[c].depth, ingest_status_str(r.st), r.err.msg);
		tlsrpt_report_free(r.rep);
		g_string_free(m, TRUE);
	}
	g_string_free(b64, TRUE);
}

/* Nested multiparts are walked; absurd nesting (10,000 "--" lines) is
 * refused before GMime parses it. */
Test(mime, nested_multipart)
{
	static const struct {
		int			depth;
		enum ingest_status	want;
	} cases[] = {
		{ 1, INGEST_OK }, { 10, INGEST_OK },
		{ 100, INGEST_E_NOREPORT }, { 5000, INGEST_E_TOOBIG },
	};
	struct ingest_limits	 lim = limits();
	GString			*m;
	struct run		 r;
	size_t			 c;
	int			 i;

	for (c = 0; c < NELEM(cases); c++) {
		m = g_string_new("From: a@example.com\nMIME-Version: 1.0\n");
		for (i = 0; i < cases[c].depth; i++)
			g_string_append_printf(m, "Content-Type: "
			    "multipart/mixed; boundary=\"b%d\"\n\n--b%d\n",
			    i, i);
		g_string_append_printf(m, "Content-Type: application/json"
		    "\n\n%s\n", report_a);
		for (i = cases[c].depth - 1; i >= 0; i--)
			g_string_append_printf(m, "--b%d--\n", i);
		run_msg(m, &lim, &r);
		cr_expect_eq(r.st, cases[c].want, "nested %d: %s (%s)",
		    cases[c].depth, ingest_status_str(r.st), r.err.msg);
		tlsrpt_report_free(r.rep);
		g_string_free(m, TRUE);
	}
}

/* The media type is a hint; the decoded bytes decide (QUIRKS A4). */
Test(mime, mislabeled)
{
	static const struct {
		const char	*label;
		const char	*hdrs;
		int		 gzip;
		int		 b64;
		const char	*filename;
	} cases[] = {
		{ "octet-stream x.json.gz holding gzip",
		  "Content-Type: application/octet-stream; name=\"x.json.gz\"\n"
		  "Content-Disposition: attachment; filename=\"x.json.gz\"\n",
		  1, 1, "x.json.gz" },
		{ "octet-stream name only",
		  "Content-Type: application/octet-stream; "
		  "name=\"y.json.gz\"\n",
		  1, 1, "y.json.gz" },
		{ "tlsrpt+gzip holding plain JSON",
		  "Content-Type: application/tlsrpt+gzip\n", 0, 1, NULL },
		{ "tlsrpt+json holding gzip",
		  "Content-Type: application/tlsrpt+json\n", 1, 1, NULL },
		{ "bare tlsrpt, no CTE",
		  "Content-Type: application/tlsrpt\n", 0, 0, NULL },
		{ "application/json",
		  "Content-Type: application/json\n", 0, 0, NULL },
		{ "application/gzip",
		  "Content-Type: application/gzip\n", 1, 1, NULL },
		{ "application/x-gzip",
		  "Content-Type: application/x-gzip\n", 1, 1, NULL },
		{ "tlsrpt+x-gzip",
		  "Content-Type: application/tlsrpt+x-gzip\n", 1, 1, NULL },
		{ "upper case type",
		  "Content-Type: APPLICATION/TLSRPT+GZIP\n", 1, 1, NULL },
		{ "octet-stream .json",
		  "Content-Type: application/octet-stream; name=\"r.json\"\n",
		  0, 1, "r.json" },
	};
	struct ingest_limits	 lim = limits();
	GString			*body, *m, *hdrs, *gz;
	struct run		 r;
	size_t			 i;

	for (i = 0; i < NELEM(cases); i++) {
		if (cases[i].gzip) {
			gz = gzip_of(report_a, strlen(report_a));
			cr_assert(cases[i].b64);
			body = b64_of(gz->str, gz->len);
			g_string_free(gz, TRUE);
		} else if (cases[i].b64)
			body = b64_of(report_a, strlen(report_a));
		else
			body = g_string_new(report_a);
		hdrs = g_string_new(cases[i].hdrs);
		if (cases[i].b64)
			g_string_append(hdrs,
			    "Content-Transfer-Encoding: base64\n");
		m = report_mail("tlsrpt", hdrs->str, body, 0);
		run_msg(m, &lim, &r);
		expect_ok(&r, cases[i].label, "crafted-a");
		if (r.rep != NULL) {
			cr_expect_eq(r.rep->was_gzip, cases[i].gzip, "%s",
			    cases[i].label);
			cr_expect(streq_null(r.rep->filename,
			    cases[i].filename), "%s: filename \"%s\"",
			    cases[i].label, S(r.rep->filename));
		}
		tlsrpt_report_free(r.rep);
		g_string_free(m, TRUE);
		g_string_free(hdrs, TRUE);
		g_string_free(body, TRUE);
	}
}

/* A part that says tlsrpt wins over an earlier octet-stream report. */
Test(mime, prefer_tlsrpt_type)
{
	struct ingest_limits	 lim = limits();
	GString			*a, *b, *m;
	struct run		 r;

	a = b64_gzip(report_a);
	b = b64_gzip(report_b);
	m = g_string_new(HDRS);
	g_string_append_printf(m, "Content-Type: multipart/mixed; "
	    "boundary=\"B\"\n\n"
	    "--B\nContent-Type: application/octet-stream; name=\"a.gz\"\n"
	    "Content-Transfer-Encoding: base64\n\n%s\n"
	    "--B\nContent-Type: application/tlsrpt+gzip; name=\"b.json.gz\"\n"
	    "Content-Transfer-Encoding: base64\n\n%s\n--B--\n", a->str,
	    b->str);
	run_msg(m, &lim, &r);
	expect_ok(&r, "prefer tlsrpt type", "crafted-b");
	if (r.rep != NULL)
		cr_expect_str_eq(S(r.rep->filename), "b.json.gz");
	tlsrpt_report_free(r.rep);
	g_string_free(m, TRUE);
	g_string_free(a, TRUE);
	g_string_free(b, TRUE);
}

/* report-type in any quoting, or another report-type altogether. */
Test(mime, report_type_variants)
{
	static const char *const rtypes[] = {
		"tlsrpt", "\"tlsrpt\"", "TLSRPT", "disposition-notification",
		"delivery-status",
	};
	struct ingest_limits	 lim = limits();
	GString			*b64, *m;
	struct run		 r;
	size_t			 i;

	b64 = b64_gzip(report_a);
	for (i = 0; i < NELEM(rtypes); i++) {
		m = report_mail(rtypes[i], "Content-Type: "
		    "application/tlsrpt+gzip\n"
		    "Content-Transfer-Encoding: base64\n", b64, 0);
		run_msg(m, &lim, &r);
		expect_ok(&r, rtypes[i], "crafted-a");
		tlsrpt_report_free(r.rep);
		g_string_free(m, TRUE);
	}
	g_string_free(b64, TRUE);
}

/* Quoted-printable JSON, soft line breaks included; CRLF and LF. */
Test(mime, quoted_printable)
{
	struct ingest_limits	 lim = limits();
	GString			*qp, *m;
	struct run		 r;
	int			 lf;

	for (lf = 0; lf <= 1; lf++) {
		qp = qp_of(report_a);
		m = report_mail("tlsrpt", "Content-Type: "
		    "application/tlsrpt+json\n"
		    "Content-Transfer-Encoding: quoted-printable\n", qp, lf);
		run_msg(m, &lim, &r);
		expect_ok(&r, lf ? "QP LF" : "QP CRLF", "crafted-a");
		tlsrpt_report_free(r.rep);
		g_string_free(m, TRUE);
		g_string_free(qp, TRUE);
	}
}

/* Crafted messages with bare LF line ends. */
Test(mime, lf_only_crafted)
{
	struct ingest_limits	 lim = limits();
	GString			*b64, *m;
	struct run		 r;

	b64 = b64_gzip(report_a);
	m = report_mail("tlsrpt", "Content-Type: application/tlsrpt+gzip; \n"
	    "\tname=\"f.json.gz\"\nContent-Transfer-Encoding: base64\n", b64,
	    1);
	cr_assert(strchr(m->str, '\r') == NULL);
	run_msg(m, &lim, &r);
	expect_ok(&r, "LF only", "crafted-a");
	if (r.rep != NULL)
		cr_expect_str_eq(S(r.rep->filename), "f.json.gz");
	tlsrpt_report_free(r.rep);
	g_string_free(m, TRUE);
	g_string_free(b64, TRUE);
}

/* RFC 2231 continuations and Microsoft's Content-Description. */
Test(mime, filename_sources)
{
	static const struct {
		const char	*hdrs;
		const char	*want;
	} cases[] = {
		{ "Content-Type: application/tlsrpt+gzip\n"
		  "Content-Disposition: attachment;\n"
		  " filename*0=\"microsoft.com!example.com!\";\n"
		  " filename*1=\"1704067200!1704153599!\";\n"
		  " filename*2=\"133198585438131172.json.gz\"\n",
		  "microsoft.com!example.com!1704067200!1704153599!"
		  "133198585438131172.json.gz" },
		{ "Content-Type: application/tlsrpt+gzip;\n"
		  " name*=UTF-8''a%21b.json.gz\n", "a!b.json.gz" },
		{ "Content-Type: application/tlsrpt+gzip\n"
		  "Content-Description:\n"
		  " microsoft.com!example.com!1!2!3.json.gz\n",
		  "microsoft.com!example.com!1!2!3.json.gz" },
		{ "Content-Type: application/tlsrpt+gzip\n"
		  "Content-Description: SMTP TLS report\n", NULL },
		{ "Content-Type: application/tlsrpt+gzip; name=\"n.json.gz\"\n"
		  "Content-Disposition: attachment; filename=\"d.json.gz\"\n",
		  "d.json.gz" },
	};
	struct ingest_limits	 lim = limits();
	GString			*b64, *m, *hdrs;
	struct run		 r;
	size_t			 i;

	b64 = b64_gzip(report_a);
	for (i = 0; i < NELEM(cases); i++) {
		hdrs = g_string_new(cases[i].hdrs);
		g_string_append(hdrs, "Content-Transfer-Encoding: base64\n");
		m = report_mail("tlsrpt", hdrs->str, b64, 0);
		run_msg(m, &lim, &r);
		expect_ok(&r, cases[i].hdrs, "crafted-a");
		if (r.rep != NULL)
			cr_expect(streq_null(r.rep->filename, cases[i].want),
			    "case %zu: filename \"%s\", want \"%s\"", i,
			    S(r.rep->filename), S(cases[i].want));
		tlsrpt_report_free(r.rep);
		g_string_free(m, TRUE);
		g_string_free(hdrs, TRUE);
	}
	g_string_free(b64, TRUE);
}

/* mail_max: at the limit passes, one byte over is refused. */
Test(mime, mail_max)
{
	struct ingest_limits	 lim = limits();
	GString			*b64, *m;
	struct run		 r;

	b64 = b64_gzip(report_a);
	m = report_mail("tlsrpt", "Content-Type: application/tlsrpt+gzip\n"
	    "Content-Transfer-Encoding: base64\n", b64, 0);
	lim.mail_max = m->len;
	run_msg(m, &lim, &r);
	expect_ok(&r, "at mail_max", "crafted-a");
	tlsrpt_report_free(r.rep);
	lim.mail_max = m->len - 1;
	run_msg(m, &lim, &r);
	cr_expect_eq(r.st, INGEST_E_TOOBIG, "over mail_max: %s (%s)",
	    ingest_status_str(r.st), r.err.msg);
	cr_expect_null(r.rep);
	tlsrpt_report_free(r.rep);
	g_string_free(m, TRUE);
	g_string_free(b64, TRUE);
}

/* The decoded part is bounded: compressed_max for gzip, json_max JSON. */
Test(mime, part_limits)
{
	struct ingest_limits	 lim;
	GString			*b64, *m, *gz;
	struct run		 r;

	gz = gzip_of(report_a, strlen(report_a));
	b64 = b64_of(gz->str, gz->len);
	m = report_mail("tlsrpt", "Content-Type: application/tlsrpt+gzip\n"
	    "Content-Transfer-Encoding: base64\n", b64, 0);
	lim = limits();
	lim.compressed_max = gz->len;
	run_msg(m, &lim, &r);
	expect_ok(&r, "gzip at compressed_max", "crafted-a");
	tlsrpt_report_free(r.rep);
	lim.compressed_max = gz->len - 1;
	run_msg(m, &lim, &r);
	cr_expect_eq(r.st, INGEST_E_TOOBIG, "gzip over compressed_max: %s "
	    "(%s)", ingest_status_str(r.st), r.err.msg);
	g_string_free(m, TRUE);
	g_string_free(b64, TRUE);
	g_string_free(gz, TRUE);

	b64 = b64_of(report_a, strlen(report_a));
	m = report_mail("tlsrpt", "Content-Type: application/tlsrpt+json\n"
	    "Content-Transfer-Encoding: base64\n", b64, 0);
	lim = limits();
	lim.json_max = strlen(report_a) - 1;
	run_msg(m, &lim, &r);
	cr_expect_eq(r.st, INGEST_E_TOOBIG, "JSON over json_max: %s (%s)",
	    ingest_status_str(r.st), r.err.msg);
	g_string_free(m, TRUE);
	g_string_free(b64, TRUE);
}

/* Human parts are never the report, even when they hold JSON (A3). */
Test(mime, text_parts_only)
{
	static const struct {
		const char	*label;
		const char	*msg;
		const char	*types;
	} cases[] = {
		{ "text/html only",
		  "Content-Type: text/html; charset=us-ascii\n\n"
		  "<html><body>{\"report-id\":\"x\"}</body></html>\n",
		  "text/html" },
		{ "text/html holding JSON",
		  "Content-Type: text/html\n\n" REPORT_JSON("html") "\n",
		  "text/html" },
		{ "text/plain holding JSON",
		  "Content-Type: text/plain\n\n" REPORT_JSON("plain") "\n",
		  "text/plain" },
		{ "no Content-Type",
		  "\nJust a note.\n", "text/plain" },
		{ "alternative",
		  "Content-Type: multipart/alternative; boundary=\"A\"\n\n"
		  "--A\nContent-Type: text/plain\n\nhi\n"
		  "--A\nContent-Type: text/html\n\n<p>hi</p>\n--A--\n",
		  "text/plain, text/html" },
		{ "a PDF attachment",
		  "Content-Type: multipart/mixed; boundary=\"A\"\n\n"
		  "--A\nContent-Type: text/plain\n\nhi\n"
		  "--A\nContent-Type: application/pdf\n"
		  "Content-Transfer-Encoding: base64\n\nJVBERi0xLjQK\n--A--\n",
		  "text/plain, application/pdf" },
	};
	struct ingest_limits	 lim = limits();
	GString			*m;
	struct run		 r;
	char			 want[128];
	size_t			 i;

	for (i = 0; i < NELEM(cases); i++) {
		m = g_string_new(HDRS);
		g_string_append(m, cases[i].msg);
		m = eol(m, 0);
		run_msg(m, &lim, &r);
		cr_expect_eq(r.st, INGEST_E_NOREPORT, "%s: %s (%s)",
		    cases[i].label, ingest_status_str(r.st), r.err.msg);
		snprintf(want, sizeof(want), "no TLS report in the message "
		    "(parts: %s)", cases[i].types);
		cr_expect_str_eq(r.err.msg, want, "%s", cases[i].label);
		tlsrpt_report_free(r.rep);
		g_string_free(m, TRUE);
	}
}

/* A part that says tlsrpt but holds neither gzip nor JSON: a clear error. */
Test(mime, tlsrpt_part_garbage)
{
	struct ingest_limits	 lim = limits();
	GString			*body, *m;
	struct run		 r;

	body = g_string_new("this is not a report\n");
	m = report_mail("tlsrpt", "Content-Type: application/tlsrpt+gzip\n",
	    body, 0);
	run_msg(m, &lim, &r);
	cr_expect(r.st == INGEST_E_FORMAT || r.st == INGEST_E_GZIP,
	    "garbage tlsrpt part: %s (%s)", ingest_status_str(r.st),
	    r.err.msg);
	tlsrpt_report_free(r.rep);
	g_string_free(m, TRUE);
	g_string_free(body, TRUE);
}

/* An mbox "From " line in front of the message is tolerated. */
Test(mime, mbox_from_line)
{
	struct ingest_limits	 lim = limits();
	GString			*m;
	struct run		 r;
	unsigned char		*buf;
	size_t			 len;

	buf = tu_load("google_mox_1.eml", &len);
	cr_assert_not_null(buf);
	m = g_string_new("From MAILER-DAEMON Thu Jan  1 00:00:00 2024\n");
	g_string_append_len(m, (const char *)buf, (gssize)len);
	run_msg(m, &lim, &r);
	cr_expect_eq(r.st, INGEST_OK, "%s (%s)", ingest_status_str(r.st),
	    r.err.msg);
	tlsrpt_report_free(r.rep);
	g_string_free(m, TRUE);
	free(buf);
}

/* Garbage: FORMAT or NOREPORT, never a crash or a report. */
Test(mime, garbage)
{
	struct ingest_limits	 lim = limits();
	GString			*m;
	struct run		 r;
	unsigned int		 seed = 12345;
	size_t			 i, j, n;

	static const char *const texts[] = {
		"", "\n", "\r\n\r\n", "hello world\n", ":", "::::\n\n{}",
		"From \n", "Content-Type: multipart/report\n\n--\n--\n",
		"Content-Type: multipart/report; boundary=\"\"\n\n--\n",
		"Content-Type: application/tlsrpt+gzip\n"
		"Content-Transfer-Encoding: base64\n\n====\n",
		"Content-Type: message/rfc822\n\n",
		"Content-Type: message/rfc822\n"
		"Content-Transfer-Encoding: base64\n\n!!!!\n",
	};

	for (i = 0; i < NELEM(texts); i++) {
		m = g_string_new(texts[i]);
		run_msg(m, &lim, &r);
		cr_expect(r.st != INGEST_OK && r.st != INGEST_E_NOMEM,
		    "text %zu: %s", i, ingest_status_str(r.st));
		cr_expect(r.err.msg[0] != '\0', "text %zu: no message", i);
		tlsrpt_report_free(r.rep);
		g_string_free(m, TRUE);
	}
	for (i = 0; i < 200; i++) {
		m = g_string_new(NULL);
		n = 1 + i * 37 % 3000;
		for (j = 0; j < n; j++) {
			seed = seed * 1103515245u + 12345u;
			g_string_append_c(m, (char)(seed >> 16));
		}
		run_msg(m, &lim, &r);
		cr_expect(r.st == INGEST_E_FORMAT ||
		    r.st == INGEST_E_NOREPORT, "random %zu: %s (%s)", i,
		    ingest_status_str(r.st), r.err.msg);
		tlsrpt_report_free(r.rep);
		g_string_free(m, TRUE);
	}
}

/* Every prefix of a real mail: no crash, no leak, a status. */
Test(mime, truncated_corpus)
{
	struct ingest_limits	 lim = limits();
	struct tlsrpt_report	*rep;
	struct ingest_err	 err;
	unsigned char		*buf;
	enum ingest_status	 st;
	size_t			 len, n;

	buf = tu_load("microsoft_tlsrpt-rs_1.eml", &len);
	cr_assert_not_null(buf);
	for (n = 0; n <= len; n += 7) {
		rep = NULL;
		st = ingest_message(buf, n, &lim, &rep, &err);
		cr_expect(st == INGEST_OK || rep == NULL, "prefix %zu", n);
		cr_expect(st == INGEST_OK || err.msg[0] != '\0',
		    "prefix %zu: %s without a message", n,
		    ingest_status_str(st));
		tlsrpt_report_free(rep);
	}
	free(buf);
}

/* Many threads at once: GMime init once, no shared state. */
struct thr {
	unsigned char	*buf;
	size_t		 len;
	int		 ok;
};

static void *
thr_main(void *arg)
{
	struct thr		*t = arg;
	struct ingest_limits	 lim = limits();
	struct tlsrpt_report	*rep;
	struct ingest_err	 err;
	int			 i;

	for (i = 0; i < 20; i++) {
		rep = NULL;
		if (ingest_message(t->buf, t->len, &lim, &rep, &err) ==
		    INGEST_OK)
			t->ok++;
		tlsrpt_report_free(rep);
	}
	return NULL;
}

Test(mime, threads)
{
	static const char *const files[] = {
		"google_mox_1.eml", "mailru_tlsrpt-rs_1.eml",
		"microsoft_tlsrpt-rs_1.eml", "google_parsedmarc_1.eml",
		"rfc8460-example_stalwart_rpt01.eml",
		"microsoft_mox_1.eml", "google_tlsrpt-rs_1.eml",
		"google-style_stalwart_rpt02.eml",
	};
	pthread_t	tid[NELEM(files)];
	struct thr	t[NELEM(files)];
	size_t		i;

	for (i = 0; i < NELEM(files); i++) {
		memset(&t[i], 0, sizeof(t[i]));
		t[i].buf = tu_load(files[i], &t[i].len);
		cr_assert_not_null(t[i].buf, "%s", files[i]);
	}
	for (i = 0; i < NELEM(files); i++)
		cr_assert_eq(pthread_create(&tid[i], NULL, thr_main, &t[i]),
		    0);
	for (i = 0; i < NELEM(files); i++) {
		pthread_join(tid[i], NULL);
		cr_expect_eq(t[i].ok, 20, "%s: %d of 20", files[i], t[i].ok);
		free(t[i].buf);
	}
}

/*
 * GLib 2.74 hands GObjects out of g_slice magazines, which keep them
 * reachable: LeakSanitizer would never see a missed g_object_unref().
 * Plain malloc makes leaks visible.  Runs before GLib's first g_slice use.
 */
__attribute__((constructor)) static void
slice_plain_malloc(void)
{
	setenv("G_SLICE", "always-malloc", 0);
}

/* ---- memory bounded by input: counted before GMime parses ------------ */

/* The report part first, then k tiny parts: k + 2 lines start with "--"
 * (the report's delimiter, one per tiny part, the close delimiter); the
 * header-like lines are 4 + h (From, MIME-Version, Content-Type, h X-H
 * fields, the part's Content-Type). */
static GString *
parts_mail(int k, int h)
{
	GString	*m = g_string_new("From: a@example.com\nMIME-Version: 1.0\n");
	int	 i;

	for (i = 0; i < h; i++)
		g_string_append_printf(m, "X-H: %d\n", i);
	g_string_append_printf(m, "Content-Type: multipart/mixed; "
	    "boundary=\"b\"\n\n--b\nContent-Type: application/tlsrpt+json\n"
	    "\n%s\n", report_a);
	for (i = 0; i < k; i++)
		g_string_append(m, "--b\n\nz\n");
	g_string_append(m, "--b--\n");
	return m;
}

Test(mime, limit_delimiter_lines)
{
	struct ingest_limits	 lim = limits();
	GString			*m;
	struct run		 r;

	cr_assert_eq(lim.mime_delims_max, 4000);
	lim.mime_delims_max = 10;
	m = parts_mail(8, 0);
	run_msg(m, &lim, &r);
	expect_ok(&r, "10 delimiter lines", "crafted-a");
	tlsrpt_report_free(r.rep);
	g_string_free(m, TRUE);
	m = parts_mail(9, 0);
	run_msg(m, &lim, &r);
	cr_expect_eq(r.st, INGEST_E_TOOBIG, "11 delimiter lines: %s (%s)",
	    ingest_status_str(r.st), r.err.msg);
	cr_expect_not_null(strstr(r.err.msg, "more than 10 MIME boundary "
	    "lines"), "%s", r.err.msg);
	g_string_free(m, TRUE);
}

Test(mime, limit_header_lines)
{
	struct ingest_limits	 lim = limits();
	GString			*m;
	struct run		 r;

	cr_assert_eq(lim.mime_headers_max, 20000);
	lim.mime_headers_max = 50;
	m = parts_mail(0, 46);
	run_msg(m, &lim, &r);
	expect_ok(&r, "50 header lines", "crafted-a");
	tlsrpt_report_free(r.rep);
	g_string_free(m, TRUE);
	m = parts_mail(0, 47);
	run_msg(m, &lim, &r);
	cr_expect_eq(r.st, INGEST_E_TOOBIG, "51 header lines: %s (%s)",
	    ingest_status_str(r.st), r.err.msg);
	cr_expect_not_null(strstr(r.err.msg, "more than 50 header lines"),
	    "%s", r.err.msg);
	g_string_free(m, TRUE);
}

/* A forwarded message decoded out of a base64 part shares the budget of
 * the mail around it: 2 delimiter lines outside, k + 2 inside. */
Test(mime, limit_delimiter_lines_forwarded)
{
	struct ingest_limits	 lim = limits();
	GString			*inner, *m;
	struct run		 r;
	gchar			*b64;
	size_t			 i, n;
	int			 k;

	lim.mime_delims_max = 10;
	for (k = 6; k <= 7; k++) {
		inner = parts_mail(k, 0);
		b64 = g_base64_encode((const guchar *)inner->str, inner->len);
		m = g_string_new("From: b@example.com\nMIME-Version: 1.0\n"
		    "Content-Type: multipart/mixed; boundary=\"o\"\n\n--o\n"
		    "Content-Type: message/rfc822\n"
		    "Content-Transfer-Encoding: base64\n\n");
		for (i = 0, n = strlen(b64); i < n; i += 76) {
			g_string_append_len(m, b64 + i, (gssize)(n - i < 76 ?
			    n - i : 76));
			g_string_append_c(m, '\n');
		}
		g_string_append(m, "--o--\n");
		run_msg(m, &lim, &r);
		if (k == 6)
			expect_ok(&r, "10 delimiter lines in all", "crafted-a");
		else
			cr_expect_eq(r.st, INGEST_E_TOOBIG, "11 in all: %s (%s)",
			    ingest_status_str(r.st), r.err.msg);
		tlsrpt_report_free(r.rep);
		g_free(b64);
		g_string_free(inner, TRUE);
		g_string_free(m, TRUE);
	}
}
