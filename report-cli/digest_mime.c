/*
 * digest_mime.c -- the digest as a complete RFC 5322 message, built with
 * GMime: multipart/alternative with the text/plain view first and the
 * text/html view last (the preferred one), both UTF-8 quoted-printable;
 * Date, Message-ID, an RFC 2047 Subject when it is not plain ASCII,
 * Auto-Submitted and X-TLSRPT-Status.
 *
 * Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
 *
 * The message goes to `sendmail -t`, which without -i ends it at a line
 * that is a lone ".", and an mbox writer turns "From " at a line start
 * into ">From ".  Only quoted-printable body lines can start so (headers,
 * boundaries and the prologue are ours); such a line gets its first
 * character encoded (=2E, =46) and, to stay within 76 columns, a soft
 * line break after it.  The decoded text is unchanged.
 */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gmime/gmime.h>

#include "digest.h"
#include "util.h"
#include "writers.h"

static char	*render(const struct digest *,
		    void (*)(const struct digest *, FILE *));
static char	*subject_text(const struct digest *,
		    const struct digest_envelope *);
static GMimeObject *text_part(const char *subtype, const char *text);
static int	write_escaped(FILE *, const char *);

int
digest_write_message(const struct digest *dg,
    const struct digest_envelope *env, FILE *f)
{
	GMimeMessage		*msg = NULL;
	GMimeMultipart		*alt = NULL;
	GMimeObject		*part;
	GMimeFormatOptions	*fo = NULL;
	GDateTime		*date = NULL;
	unsigned char		 rnd[12];
	char			 hex[2 * sizeof(rnd) + 1], iso[UTIL_TIME_BUFSZ];
	char			 addr[512], mid[512];
	char			*text = NULL, *html = NULL, *subj = NULL;
	char			*out = NULL;
	size_t			 i;
	int			 rc = -1;

	g_mime_init();		/* counted; ingest may have done it */
	if ((text = render(dg, digest_text)) == NULL ||
	    (html = render(dg, digest_html)) == NULL ||
	    (subj = subject_text(dg, env)) == NULL)
		goto out;

	msg = g_mime_message_new(FALSE);
	if ((date = g_date_time_new_from_unix_utc(env->now)) == NULL)
		goto out;
	g_mime_message_set_date(msg, date);
	if (env->from != NULL)
		snprintf(addr, sizeof(addr), "%s", env->from);
	else
		snprintf(addr, sizeof(addr), "tlsrpt@%s", env->host);
	g_mime_message_add_mailbox(msg, GMIME_ADDRESS_TYPE_FROM, NULL, addr);
	if (env->nto == 0) {
		snprintf(addr, sizeof(addr), "root@%s", env->host);
		g_mime_message_add_mailbox(msg, GMIME_ADDRESS_TYPE_TO, NULL,
		    addr);
	}
	for (i = 0; i < env->nto; i++)
		g_mime_message_add_mailbox(msg, GMIME_ADDRESS_TYPE_TO, NULL,
		    env->to[i]);
	g_mime_message_set_subject(msg, subj, "utf-8");

	if (getentropy(rnd, sizeof(rnd)) == -1)
		for (i = 0; i < sizeof(rnd); i++)	/* unique enough */
			rnd[i] = (unsigned char)((env->now >> (i % 8)) ^
			    getpid() ^ (int)i * 97);
	util_hex(rnd, sizeof(rnd), hex);
	util_format_datetime(env->now, iso, sizeof(iso));
	snprintf(mid, sizeof(mid), "tlsrpt.%.4s%.2s%.2s.%s@%s", iso, iso + 5,
	    iso + 8, hex, env->host);
	g_mime_message_set_message_id(msg, mid);
	g_mime_object_append_header(GMIME_OBJECT(msg), "MIME-Version", "1.0",
	    NULL);
	g_mime_object_append_header(GMIME_OBJECT(msg), "Auto-Submitted",
	    "auto-generated", NULL);
	g_mime_object_append_header(GMIME_OBJECT(msg), "X-TLSRPT-Status",
	    digest_status_str(dg->worst), NULL);

	alt = g_mime_multipart_new_with_subtype("alternative");
	g_mime_multipart_set_prologue(alt, "This is a MIME message with a "
	    "text and an HTML version.");
	part = text_part("plain", text);
	g_mime_multipart_add(alt, part);
	g_object_unref(part);
	part = text_part("html", html);
	g_mime_multipart_add(alt, part);
	g_object_unref(part);
	g_mime_message_set_mime_part(msg, GMIME_OBJECT(alt));

	fo = g_mime_format_options_new();
	g_mime_format_options_set_newline_format(fo, GMIME_NEWLINE_FORMAT_UNIX);
	if ((out = g_mime_object_to_string(GMIME_OBJECT(msg), fo)) == NULL)
		goto out;
	rc = write_escaped(f, out);
 out:
	g_free(out);
	if (fo != NULL)
		g_mime_format_options_free(fo);
	if (alt != NULL)
		g_object_unref(alt);
	if (msg != NULL)
		g_object_unref(msg);
	if (date != NULL)
		g_date_time_unref(date);
	free(subj);
	free(html);
	free(text);
	return rc;
}

/* What fn writes, as one new NUL-terminated string, or NULL. */
static char *
render(const struct digest *dg, void (*fn)(const struct digest *, FILE *))
{
	FILE	*m;
	char	*buf = NULL;
	size_t	 len = 0;

	if ((m = open_memstream(&buf, &len)) == NULL)
		return NULL;
	fn(dg, m);
	if (fclose(m) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

/* "[STATUS] " and the --subject text or the default; new, or NULL. */
static char *
subject_text(const struct digest *dg, const struct digest_envelope *env)
{
	FILE	*m;
	char	*buf = NULL;
	size_t	 len = 0;

	if ((m = open_memstream(&buf, &len)) == NULL)
		return NULL;
	fprintf(m, "[%s] ", digest_status_str(dg->worst));
	if (env->subject != NULL)
		fputs(env->subject, m);
	else {
		fputs("TLS report digest ", m);
		digest_period(m, dg->since, dg->until);
		fprintf(m, ": %zu critical, %zu warning, %zu ok",
		    dg->count[DG_CRITICAL], dg->count[DG_WARNING],
		    dg->count[DG_OK]);
	}
	if (fclose(m) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

/* A text/SUBTYPE part of text, UTF-8, quoted-printable; a new ref. */
static GMimeObject *
text_part(const char *subtype, const char *text)
{
	GMimeTextPart	*tp;

	tp = g_mime_text_part_new_with_subtype(subtype);
	g_mime_text_part_set_text(tp, text);
	g_mime_text_part_set_charset(tp, "utf-8");
	g_mime_part_set_content_encoding(GMIME_PART(tp),
	    GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE);
	return GMIME_OBJECT(tp);
}

/*
 * Write msg to f; in the body, a line that starts with "." or "From "
 * gets that first character encoded and a soft break after it (see the
 * top of this file).  Returns 0, or -1 when f fails.
 */
static int
write_escaped(FILE *f, const char *msg)
{
	const char	*p, *body, *nl;

	if ((body = strstr(msg, "\n\n")) == NULL)
		body = msg + strlen(msg);
	else
		body += 2;
	fwrite(msg, 1, (size_t)(body - msg), f);
	for (p = body; *p != '\0'; p = nl) {
		for (;;) {
			if (*p == '.')
				fputs("=2E", f);
			else if (strncmp(p, "From ", 5) == 0)
				fputs("=46", f);
			else
				break;
			p++;
			if (*p == '\n' || *p == '\0')
				break;	/* the line was "." alone */
			fputs("=\n", f);
		}
		if ((nl = strchr(p, '\n')) == NULL)
			nl = p + strlen(p);
		else
			nl++;
		fwrite(p, 1, (size_t)(nl - p), f);
	}
	return ferror(f) ? -1 : 0;
}
