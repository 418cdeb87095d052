/*
 * mime.c -- take the TLS report out of an RFC 5322 mail message (GMime 3).
 *
 * Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
 *
 * The report is the part whose type says tlsrpt (application/tlsrpt+gzip,
 * +json, bare application/tlsrpt, ...) or, failing that, any other
 * non-text leaf part whose decoded bytes are gzip or JSON.  The
 * Content-Type is only a hint: the decoded bytes decide (QUIRKS A4).
 * multipart/report with any report-type, a bare report body and forwarded
 * message/rfc822 copies are all searched; a text/html human part is never
 * taken (QUIRKS A3).  GMime tolerates a missing close delimiter (A6).
 *
 * Pure: no I/O, no logging.  GMime is initialised once, thread-safely;
 * every object is per call, so calls from many threads do not share state.
 */

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gmime/gmime.h>

#include "bbuf.h"
#include "ingest.h"
#include "tlsrpt_limits.h"
#include "ingest_int.h"


#define SNIFF_BYTES	256	/* decoded bytes enough to tell gzip/JSON */
#define READ_CHUNK	4096	/* encoded bytes read per step */
#define TYPES_MAX	160	/* the part list in a NOREPORT message */

enum kind {
	KIND_NONE = 0,		/* neither gzip nor JSON */
	KIND_GZIP,
	KIND_JSON,
};

/* How good a candidate part is; higher wins, the first of equals wins. */
enum score {
	SC_NONE = 0,
	SC_TLSRPT_ODD,		/* says tlsrpt, holds neither: last resort */
	SC_SNIFFED,		/* another non-text part holding gzip/JSON */
	SC_TLSRPT,		/* says tlsrpt, bytes are gzip or JSON */
};

struct walk {
	const struct ingest_limits *lim;
	GMimePart		*part;	/* the best candidate, borrowed */
	GMimeMessage		*msg;	/* the message enclosing it, borrowed */
	enum score		 score;
	enum kind		 kind;
	size_t			 nparts;
	size_t			 spent;	/* bytes decoded for re-parsing */
	enum ingest_status	 st;	/* INGEST_OK, or a hard failure */
	struct ingest_err	*err;
	GPtrArray		*keep;	/* messages parsed from encoded parts */
	size_t			 delims_left;	/* of lim->mime_delims_max */
	size_t			 headers_left;	/* of lim->mime_headers_max */
	char			 types[TYPES_MAX];
};

static pthread_once_t	gmime_once = PTHREAD_ONCE_INIT;

static void	gmime_init_once(void);
static int	prescan(struct walk *, const unsigned char *, size_t);
static GMimeMessage *parse_message(const unsigned char *, size_t);
static void	walk_message(struct walk *, GMimeMessage *, int);
static void	walk_object(struct walk *, GMimeObject *, GMimeMessage *, int,
		    int);
static void	walk_leaf(struct walk *, GMimePart *, GMimeMessage *, int);
static void	walk_encoded_message(struct walk *, GMimePart *, int);
static void	note_type(struct walk *, GMimeContentType *);
static enum ingest_status part_decode(GMimePart *, size_t, struct bbuf *);
static enum kind sniff(const unsigned char *, size_t);
static int	says_tlsrpt(GMimeContentType *);
static int	is_type(GMimeContentType *, const char *, const char *);
static char	*clean_copy(const char *);
static char	*part_filename(GMimePart *);
static char	*header_copy(GMimeMessage *, const char *);
static unsigned	mime_flags(GMimeMessage *, const struct walk *);
static enum ingest_status fail(struct ingest_err *, enum ingest_status,
		    const char *, ...) __attribute__((format(printf, 3, 4)));

enum ingest_status
ingest_message(const unsigned char *buf, size_t len,
    const struct ingest_limits *lim, struct tlsrpt_report **repp,
    struct ingest_err *err)
{
	GMimeMessage		*msg = NULL;
	struct walk		 w;
	struct bbuf		 dec;
	struct ingest_meta	 meta;
	char			*filename = NULL, *domain = NULL;
	char			*submitter = NULL, *subject = NULL;
	const char		*subj;
	size_t			 cap;
	enum ingest_status	 st;

	*repp = NULL;
	err->msg[0] = '\0';
	memset(&w, 0, sizeof(w));
	bbuf_init(&dec, 0);

	if (len > lim->mail_max) {
		st = fail(err, INGEST_E_TOOBIG, "mail message of %zu bytes "
		    "over the limit of %zu", len, lim->mail_max);
		goto out;
	}
	if (pthread_once(&gmime_once, gmime_init_once) != 0) {
		st = fail(err, INGEST_E_NOMEM, "cannot initialise GMime");
		goto out;
	}
	w.lim = lim;
	w.err = err;
	w.st = INGEST_OK;
	w.delims_left = lim->mime_delims_max;
	w.headers_left = lim->mime_headers_max;
	if (prescan(&w, buf, len) == -1) {
		st = w.st;
		goto out;
	}
	if ((msg = parse_message(buf, len)) == NULL) {
		st = fail(err, INGEST_E_FORMAT, "not a mail message "
		    "(no header fields)");
		goto out;
	}
	if ((w.keep = g_ptr_array_new_with_free_func(g_object_unref)) ==
	    NULL) {
		st = fail(err, INGEST_E_NOMEM, "out of memory");
		goto out;
	}
	walk_message(&w, msg, 0);
	if (w.st != INGEST_OK) {
		st = w.st;
		goto out;
	}
	if (w.part == NULL) {
		st = fail(err, INGEST_E_NOREPORT, "no TLS report in the "
		    "message (parts: %s)", w.types[0] != '\0' ? w.types :
		    "none");
		goto out;
	}

	/* The report part, decoded in full within its limit. */
	switch (w.kind) {
	case KIND_GZIP:
		cap = lim->compressed_max;
		break;
	case KIND_JSON:
		cap = lim->json_max;
		break;
	default:
		cap = lim->compressed_max > lim->json_max ?
		    lim->compressed_max : lim->json_max;
		break;
	}
	bbuf_init(&dec, cap);
	st = part_decode(w.part, 0, &dec);
	if (st == INGEST_E_TOOBIG) {
		st = fail(err, st, "report attachment over the limit of %zu "
		    "bytes (decoded)", cap);
		goto out;
	} else if (st != INGEST_OK) {
		st = fail(err, st, st == INGEST_E_NOMEM ? "out of memory" :
		    "cannot read the report attachment");
		goto out;
	}

	filename = part_filename(w.part);
	domain = header_copy(w.msg, "TLS-Report-Domain");
	submitter = header_copy(w.msg, "TLS-Report-Submitter");
	if ((subj = g_mime_message_get_subject(w.msg)) != NULL)
		subject = clean_copy(subj);
	memset(&meta, 0, sizeof(meta));
	meta.filename = filename;
	meta.report_domain = domain;
	meta.submitter = submitter;
	meta.subject = subject;
	meta.flags = INGEST_MF_MAIL | mime_flags(msg, &w);

	/* Everything needed is copied out: release GMime's objects and its
	 * copy of the mail before json-c builds its tree, so that the peak
	 * of one parse is the larger of the two, not their sum. */
	g_ptr_array_unref(w.keep);
	w.keep = NULL;
	w.part = NULL;
	w.msg = NULL;
	g_object_unref(msg);
	msg = NULL;

	st = ingest_payload(dec.data != NULL ? dec.data :
	    (const unsigned char *)"", dec.len, &meta, lim, repp, err);
 out:
	free(filename);
	free(domain);
	free(submitter);
	free(subject);
	bbuf_reset(&dec);
	if (w.keep != NULL)
		g_ptr_array_unref(w.keep);	/* w.part may live in here */
	if (msg != NULL)
		g_object_unref(msg);
	return st;
}

/*
 * Memory bounded by input: GMime builds an object of about 1.3 KB for
 * each part and each header field before the walk can count anything,
 * so a 15 MB mail of 1.5 million tiny parts cost 2 GB.  Before GMime
 * sees a message, count the lines that could open a part (a boundary
 * delimiter starts with "--") and the lines that could be a header field
 * (a name of letters, digits, '-' or '_', then ':'), and refuse the
 * message when either is over what is left of its limit: the limits hold
 * for the mail and every forwarded message decoded out of it together.
 * Returns 0, or -1 with w->st and w->err set.
 */
static int
prescan(struct walk *w, const unsigned char *buf, size_t len)
{
	const unsigned char	*p = buf, *end = buf + len, *nl, *q;
	size_t			 delims = 0, headers = 0;

	for (; p < end; p = nl + 1) {
		if (*p == '-') {
			if (p + 1 < end && p[1] == '-')
				delims++;
		} else if (g_ascii_isalnum(*p)) {
			for (q = p + 1; q < end && (g_ascii_isalnum(*q) ||
			    *q == '-' || *q == '_'); q++)
				;
			while (q < end && (*q == ' ' || *q == '\t'))
				q++;
			if (q < end && *q == ':')
				headers++;
		}
		if (delims > w->delims_left) {
			w->st = fail(w->err, INGEST_E_TOOBIG, "mail message "
			    "with more than %zu MIME boundary lines (\"--\"): "
			    "refused before parsing", w->lim->mime_delims_max);
			return -1;
		}
		if (headers > w->headers_left) {
			w->st = fail(w->err, INGEST_E_TOOBIG, "mail message "
			    "with more than %zu header lines: refused before "
			    "parsing", w->lim->mime_headers_max);
			return -1;
		}
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			break;
	}
	w->delims_left -= delims;
	w->headers_left -= headers;
	return 0;
}

static void
gmime_init_once(void)
{
	g_mime_init();
}

/*
 * Parse buf as one message.  An mbox "From " line in front is skipped.
 * Returns a new reference, or NULL when buf is not a message at all.
 */
static GMimeMessage *
parse_message(const unsigned char *buf, size_t len)
{
	GMimeStream	*stream = NULL;
	GMimeParser	*parser = NULL;
	GMimeMessage	*msg = NULL;
	GMimeObject	*top;
	const unsigned char *nl;
	int		 nhdr;

	if (len >= 5 && memcmp(buf, "From ", 5) == 0 &&
	    (nl = memchr(buf, '\n', len)) != NULL) {
		len -= (size_t)(nl + 1 - buf);
		buf = nl + 1;
	}
	/* the stream copies buf; GMime wants char and cannot take const */
	stream = g_mime_stream_mem_new_with_buffer((const char *)buf, len);
	if (stream == NULL)
		goto out;
	if ((parser = g_mime_parser_new_with_stream(stream)) == NULL)
		goto out;
	g_mime_parser_set_format(parser, GMIME_FORMAT_MESSAGE);
	if ((msg = g_mime_parser_construct_message(parser, NULL)) == NULL)
		goto out;

	/* Garbage parses as a header-less text body: refuse that. */
	nhdr = g_mime_header_list_get_count(g_mime_object_get_header_list(
	    GMIME_OBJECT(msg)));
	top = g_mime_message_get_mime_part(msg);
	if (top != NULL)
		nhdr += g_mime_header_list_get_count(
		    g_mime_object_get_header_list(top));
	if (nhdr == 0) {
		g_object_unref(msg);
		msg = NULL;
	}
 out:
	if (parser != NULL)
		g_object_unref(parser);
	if (stream != NULL)
		g_object_unref(stream);
	return msg;
}

static void
walk_message(struct walk *w, GMimeMessage *msg, int fwd)
{
	GMimeObject	*top;

	if ((top = g_mime_message_get_mime_part(msg)) != NULL)
		walk_object(w, top, msg, fwd, 0);
}

/* Depth first, in document order; stops at the first hard failure. */
static void
walk_object(struct walk *w, GMimeObject *obj, GMimeMessage *msg, int fwd,
    int nest)
{
	GMimeMessage	*inner;
	int		 i, n;

	if (w->st != INGEST_OK || w->score == SC_TLSRPT ||
	    nest > LIM_MIME_NEST_DEPTH_MAX)
		return;
	if (GMIME_IS_MULTIPART(obj)) {
		n = g_mime_multipart_get_count(GMIME_MULTIPART(obj));
		for (i = 0; i < n; i++)
			walk_object(w, g_mime_multipart_get_part(
			    GMIME_MULTIPART(obj), i), msg, fwd, nest + 1);
	} else if (GMIME_IS_MESSAGE_PART(obj)) {
		inner = g_mime_message_part_get_message(
		    GMIME_MESSAGE_PART(obj));
		if (inner != NULL && fwd < LIM_MIME_FORWARD_DEPTH_MAX)
			walk_message(w, inner, fwd + 1);
	} else if (GMIME_IS_PART(obj))
		walk_leaf(w, GMIME_PART(obj), msg, fwd);
}

static void
walk_leaf(struct walk *w, GMimePart *part, GMimeMessage *msg, int fwd)
{
	GMimeContentType	*ct;
	struct bbuf		 pre;
	enum ingest_status	 st;
	enum score		 sc;
	enum kind		 k;
	int			 tlsrpt;

	if (++w->nparts > LIM_MIME_PARTS_MAX)
		return;
	ct = g_mime_object_get_content_type(GMIME_OBJECT(part));
	note_type(w, ct);
	/* A base64 or QP message/rfc822 stays a leaf in GMime. */
	if (is_type(ct, "message", "rfc822") ||
	    is_type(ct, "message", "global")) {
		walk_encoded_message(w, part, fwd);
		return;
	}
	tlsrpt = says_tlsrpt(ct);
	if (!tlsrpt && (is_type(ct, "text", NULL) ||
	    is_type(ct, "multipart", NULL) || is_type(ct, "message", NULL)))
		return;

	bbuf_init(&pre, SNIFF_BYTES);
	st = part_decode(part, SNIFF_BYTES, &pre);
	k = st == INGEST_OK ? sniff(pre.data, pre.len) : KIND_NONE;
	bbuf_reset(&pre);
	if (st == INGEST_E_NOMEM) {
		w->st = fail(w->err, st, "out of memory");
		return;
	}
	if (tlsrpt)
		sc = k != KIND_NONE ? SC_TLSRPT : SC_TLSRPT_ODD;
	else
		sc = k != KIND_NONE ? SC_SNIFFED : SC_NONE;
	if (sc > w->score) {
		w->score = sc;
		w->part = part;
		w->msg = msg;
		w->kind = k;
	}
}

/*
 * A forwarded message whose body is base64 or quoted-printable (or one
 * GMime left unparsed): decode it and walk it as a message.  All such
 * copies together stay within mail_max.
 */
static void
walk_encoded_message(struct walk *w, GMimePart *part, int fwd)
{
	GMimeMessage		*inner = NULL;
	struct bbuf		 b;
	enum ingest_status	 st;

	bbuf_init(&b, w->lim->mail_max - w->spent);
	if (fwd >= LIM_MIME_FORWARD_DEPTH_MAX || b.max == 0)
		return;
	st = part_decode(part, 0, &b);
	if (st == INGEST_E_NOMEM)
		w->st = fail(w->err, st, "out of memory");
	else if (st == INGEST_OK && b.len != 0) {
		w->spent += b.len;
		if (prescan(w, b.data, b.len) == 0)
			inner = parse_message(b.data, b.len);	/* copies b */
	}
	bbuf_reset(&b);
	if (inner == NULL)
		return;
	g_ptr_array_add(w->keep, inner);	/* w->part may point into it */
	walk_message(w, inner, fwd + 1);
}

/* Append "type/subtype" to the list of parts seen, bounded. */
static void
note_type(struct walk *w, GMimeContentType *ct)
{
	const char	*t, *s;
	size_t		 used;
	int		 n;

	used = strlen(w->types);
	if (used + 5 >= sizeof(w->types))
		return;
	t = ct != NULL ? g_mime_content_type_get_media_type(ct) : NULL;
	s = ct != NULL ? g_mime_content_type_get_media_subtype(ct) : NULL;
	n = snprintf(w->types + used, sizeof(w->types) - used, "%s%s/%s",
	    used != 0 ? ", " : "", t != NULL ? t : "?", s != NULL ? s : "?");
	if (n < 0 || (size_t)n >= sizeof(w->types) - used) {
		/* truncated: end the list with an ellipsis */
		memcpy(w->types + sizeof(w->types) - 4, "...", 4);
	}
}

/*
 * Decode the content of part (its Content-Transfer-Encoding undone) into
 * out, whose max is the cap.  Stops early once stop bytes are there
 * (stop 0: read to the end).  INGEST_E_TOOBIG past the cap,
 * INGEST_E_NOMEM, INGEST_E_FORMAT on a stream error.
 */
static enum ingest_status
part_decode(GMimePart *part, size_t stop, struct bbuf *out)
{
	GMimeDataWrapper	*dw;
	GMimeStream		*stream;
	GMimeContentEncoding	 enc;
	GMimeEncoding		 state;
	char			 in[READ_CHUNK];
	char			 dec[2 * READ_CHUNK + 64];
	ssize_t			 n;
	size_t			 dn;
	int			 decode;

	if ((dw = g_mime_part_get_content(part)) == NULL ||
	    (stream = g_mime_data_wrapper_get_stream(dw)) == NULL)
		return INGEST_OK;	/* no content: empty */
	enc = g_mime_data_wrapper_get_encoding(dw);
	decode = enc == GMIME_CONTENT_ENCODING_BASE64 ||
	    enc == GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE ||
	    enc == GMIME_CONTENT_ENCODING_UUENCODE;
	if (decode)
		g_mime_encoding_init_decode(&state, enc);
	if (g_mime_stream_reset(stream) == -1)
		return INGEST_E_FORMAT;
	for (;;) {
		if ((n = g_mime_stream_read(stream, in, sizeof(in))) < 0)
			return INGEST_E_FORMAT;
		if (n == 0)
			break;
		if (decode) {
			if (g_mime_encoding_outlen(&state, (size_t)n) >
			    sizeof(dec))
				return INGEST_E_FORMAT;	/* cannot happen */
			dn = g_mime_encoding_step(&state, in, (size_t)n, dec);
		} else {
			memcpy(dec, in, (size_t)n);
			dn = (size_t)n;
		}
		if (stop != 0 && dn > stop - out->len)
			dn = stop - out->len;	/* a prefix is enough */
		if (bbuf_append(out, dec, dn) == -1)
			return errno == ERANGE ? INGEST_E_TOOBIG :
			    INGEST_E_NOMEM;
		if (stop != 0 && out->len >= stop)
			break;
	}
	return INGEST_OK;
}

/* gzip by its magic; JSON by a '{' after white space (and a BOM). */
static enum kind
sniff(const unsigned char *p, size_t len)
{
	if (p == NULL)
		return KIND_NONE;
	if (ingest_is_gzip(p, len))
		return KIND_GZIP;
	return json_first_byte(p, len) == '{' ? KIND_JSON : KIND_NONE;
}

/* application/tlsrpt, application/tlsrpt+gzip, +json, +x-gzip, ... */
static int
says_tlsrpt(GMimeContentType *ct)
{
	const char	*s;

	if (!is_type(ct, "application", NULL))
		return 0;
	s = g_mime_content_type_get_media_subtype(ct);
	return s != NULL && g_ascii_strncasecmp(s, "tlsrpt", 6) == 0 &&
	    (s[6] == '\0' || s[6] == '+');
}

/*
 * How the report was packed, for the report's warnings: RFC 8460 §5.3
 * wants multipart/report; report-type=tlsrpt at the top and the report
 * in an application/tlsrpt+gzip or +json part that holds what it says.
 */
static unsigned
mime_flags(GMimeMessage *top, const struct walk *w)
{
	GMimeObject		*body;
	GMimeContentType	*ct;
	const char		*rt, *sub;
	unsigned		 f = 0;

	if (w->msg != top)
		f |= INGEST_MF_FORWARDED;
	body = g_mime_message_get_mime_part(w->msg);
	ct = body != NULL ? g_mime_object_get_content_type(body) : NULL;
	rt = ct != NULL ? g_mime_content_type_get_parameter(ct,
	    "report-type") : NULL;
	if (!is_type(ct, "multipart", "report") || rt == NULL ||
	    g_ascii_strcasecmp(rt, "tlsrpt") != 0)
		f |= INGEST_MF_NOT_REPORT_MIME;
	ct = g_mime_object_get_content_type(GMIME_OBJECT(w->part));
	sub = is_type(ct, "application", NULL) ?
	    g_mime_content_type_get_media_subtype(ct) : NULL;
	if (!says_tlsrpt(ct) || sub == NULL ||
	    (g_ascii_strcasecmp(sub, "tlsrpt+gzip") == 0 &&
	    w->kind != KIND_GZIP) ||
	    (g_ascii_strcasecmp(sub, "tlsrpt+json") == 0 &&
	    w->kind != KIND_JSON) ||
	    (g_ascii_strcasecmp(sub, "tlsrpt+gzip") != 0 &&
	    g_ascii_strcasecmp(sub, "tlsrpt+json") != 0))
		f |= INGEST_MF_MISLABELED;
	return f;
}

/* subtype NULL matches any subtype. */
static int
is_type(GMimeContentType *ct, const char *type, const char *subtype)
{
	const char	*t, *s;

	if (ct == NULL)
		return 0;
	t = g_mime_content_type_get_media_type(ct);
	if (t == NULL || g_ascii_strcasecmp(t, type) != 0)
		return 0;
	if (subtype == NULL)
		return 1;
	s = g_mime_content_type_get_media_subtype(ct);
	return s != NULL && g_ascii_strcasecmp(s, subtype) == 0;
}

/*
 * A malloc'd copy of s with CR and LF removed (unfolding what GMime left)
 * and leading/trailing white space trimmed; NULL when nothing is left or
 * out of memory.
 */
static char *
clean_copy(const char *s)
{
	char	*d, *p;
	size_t	 n;

	if (s == NULL)
		return NULL;
	if ((d = malloc(strlen(s) + 1)) == NULL)
		return NULL;
	for (p = d; *s != '\0'; s++)
		if (*s != '\r' && *s != '\n')
			*p++ = *s;
	*p = '\0';
	for (p = d; *p == ' ' || *p == '\t'; p++)
		;
	n = strlen(p);
	while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
		n--;
	memmove(d, p, n);
	d[n] = '\0';
	if (n == 0) {
		free(d);
		return NULL;
	}
	return d;
}

/*
 * Content-Disposition filename, else Content-Type name (GMime decodes
 * RFC 2231 and RFC 2047), else a Content-Description that looks like a
 * file name (one word: Microsoft puts the name there).
 */
static char *
part_filename(GMimePart *part)
{
	const char	*s;
	char		*d;

	if ((s = g_mime_part_get_filename(part)) != NULL &&
	    (d = clean_copy(s)) != NULL)
		return d;
	s = g_mime_object_get_header(GMIME_OBJECT(part),
	    "Content-Description");
	if ((d = clean_copy(s)) != NULL && strpbrk(d, " \t") != NULL) {
		free(d);
		d = NULL;
	}
	return d;
}

static char *
header_copy(GMimeMessage *msg, const char *name)
{
	return clean_copy(g_mime_object_get_header(GMIME_OBJECT(msg), name));
}

static enum ingest_status
fail(struct ingest_err *err, enum ingest_status st, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return st;
}
