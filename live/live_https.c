/*
 * live_https.c -- the MTA-STS policy fetch of tlsrpt check: GET
 * https://mta-sts.D/.well-known/mta-sts.txt as RFC 8461 §3.3 wants it.
 *
 * Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
 *
 * TLS 1.2 or later, a certificate valid for mta-sts.D (live_tls.c),
 * status 200 only and no redirect followed (§3.3: "HTTP 3xx redirects
 * MUST NOT be followed"), media type text/plain, a body of at most
 * LIM_LIVE_POLICY_BYTES (a Content-Length over it is refused before a
 * byte of the body is read; chunked bodies are counted as decoded), the
 * header at most LIM_LIVE_HTTP_HEADER_BYTES, all before the deadline.
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "live_int.h"
#include "tlsrpt_limits.h"
#include "util.h"

#define LH_PATH		"/.well-known/mta-sts.txt"
#define LH_CHUNK_LINE	256	/* a chunk-size line */

/* Buffered reads over the TLS session. */
struct lh_rd {
	struct ltls	*t;
	char		 buf[4096];
	size_t		 pos, len;
	int64_t		 deadline;
	int		 timeout;
};

static int	lh_get(struct lh_rd *, const char *, struct lh_result *);
static int	lh_byte(struct lh_rd *);
static int	lh_line(struct lh_rd *, char *, size_t, size_t *);
static int	lh_read(struct lh_rd *, char *, size_t);
static int	lh_media_is(const char *, const char *);
static int	lh_has_chunked(const char *);

void
live_https_fetch(const char *host, const struct live_addr *addrs,
    size_t naddrs, const char *ca_file, int64_t deadline,
    struct lh_result *out)
{
	struct lh_rd	*rd = NULL;
	struct ltls	*t = NULL;
	char		 err[256];
	size_t		 i;
	int		 fd = -1;

	memset(out, 0, sizeof(*out));
	out->status = LH_CONNECT;
	snprintf(out->detail, sizeof(out->detail), "%s has no address",
	    host);
	for (i = 0; i < naddrs; i++) {
		if ((fd = live_connect(&addrs[i], deadline, err,
		    sizeof(err))) == -1) {
			out->status = errno == ETIMEDOUT ? LH_TIMEOUT :
			    LH_CONNECT;
			snprintf(out->detail, sizeof(out->detail), "%s", err);
			continue;
		}
		if ((t = ltls_handshake(fd, host, ca_file, 1, NULL, deadline,
		    &out->tls, err, sizeof(err))) == NULL) {
			out->status = errno == ETIMEDOUT ? LH_TIMEOUT : LH_TLS;
			snprintf(out->detail, sizeof(out->detail), "%s", err);
			close(fd);
			fd = -1;
			continue;
		}
		break;
	}
	if (t == NULL)
		goto out;
	if (out->tls.verdict != LTLS_VERIFIED) {
		out->status = LH_CERT;
		snprintf(out->detail, sizeof(out->detail), "the certificate "
		    "of %s: %s", host, out->tls.why);
		goto out;
	}
	if ((rd = calloc(1, sizeof(*rd))) == NULL) {
		out->status = LH_HTTP;
		snprintf(out->detail, sizeof(out->detail), "out of memory");
		goto out;
	}
	rd->t = t;
	rd->deadline = deadline;
	if (lh_get(rd, host, out) == -1 && rd->timeout) {
		out->status = LH_TIMEOUT;
		snprintf(out->detail, sizeof(out->detail), "https://%s" LH_PATH
		    " did not answer in time", host);
	}
out:
	free(rd);
	ltls_free(t);
	if (fd != -1)
		close(fd);
}

/* The request and the answer; -1 with out->status set. */
static int
lh_get(struct lh_rd *rd, const char *host, struct lh_result *out)
{
	char	 req[512], line[LIM_LIVE_HTTP_HEADER_BYTES + 1];
	char	 ctype[256] = "", loc[256] = "", *v, *e;
	size_t	 n, hbytes = 0, max = LIM_LIVE_POLICY_BYTES;
	int64_t	 clen = -1, sz;
	int	 chunked = 0, first = 1, len;

	len = snprintf(req, sizeof(req), "GET " LH_PATH " HTTP/1.1\r\n"
	    "Host: %s\r\nUser-Agent: tlsrpt-check\r\nAccept: text/plain\r\n"
	    "Connection: close\r\n\r\n", host);
	if (len < 0 || (size_t)len >= sizeof(req) ||
	    ltls_write(rd->t, req, (size_t)len, rd->deadline) == -1) {
		rd->timeout = errno == ETIMEDOUT;
		out->status = LH_HTTP;
		snprintf(out->detail, sizeof(out->detail), "cannot send the "
		    "request to %s", host);
		return -1;
	}
	for (;;) {
		if (hbytes >= LIM_LIVE_HTTP_HEADER_BYTES ||
		    lh_line(rd, line, LIM_LIVE_HTTP_HEADER_BYTES - hbytes,
		    &n) == -1) {
			out->status = LH_HTTP;
			snprintf(out->detail, sizeof(out->detail), "no "
			    "complete HTTP header within %d bytes",
			    LIM_LIVE_HTTP_HEADER_BYTES);
			return -1;
		}
		hbytes += n + 2;
		if (first) {
			first = 0;
			if ((strncmp(line, "HTTP/1.1 ", 9) != 0 &&
			    strncmp(line, "HTTP/1.0 ", 9) != 0) ||
			    strlen(line) < 12 ||
			    sscanf(line + 9, "%3d", &out->http_status) != 1) {
				out->status = LH_HTTP;
				snprintf(out->detail, sizeof(out->detail),
				    "not an HTTP/1.x answer");
				return -1;
			}
			continue;
		}
		if (n == 0)
			break;
		if ((v = strchr(line, ':')) == NULL)
			continue;
		*v++ = '\0';
		v += strspn(v, " \t");
		for (e = v + strlen(v); e > v && (e[-1] == ' ' ||
		    e[-1] == '\t'); e--)
			*--e = '\0';
		if (strcasecmp(line, "Content-Type") == 0)
			snprintf(ctype, sizeof(ctype), "%s", v);
		else if (strcasecmp(line, "Location") == 0)
			snprintf(loc, sizeof(loc), "%s", v);
		else if (strcasecmp(line, "Transfer-Encoding") == 0)
			chunked = lh_has_chunked(v);
		else if (strcasecmp(line, "Content-Length") == 0 &&
		    util_strtoi64(v, 0, INT64_MAX, &clen) == -1) {
			out->status = LH_HTTP;
			snprintf(out->detail, sizeof(out->detail), "a bad "
			    "Content-Length");
			return -1;
		}
	}
	if (out->http_status >= 300 && out->http_status < 400) {
		out->status = LH_REDIRECT;
		snprintf(out->detail, sizeof(out->detail), "https://%s" LH_PATH
		    " answered %d%s%s; redirects are not followed", host,
		    out->http_status, loc[0] != '\0' ? " to " : "", loc);
		for (v = out->detail; *v != '\0'; v++)
			if ((unsigned char)*v < 0x20 || *v == 0x7f)
				*v = '?';
		return -1;
	}
	if (out->http_status != 200) {
		out->status = LH_STATUS;
		snprintf(out->detail, sizeof(out->detail), "https://%s" LH_PATH
		    " answered %d, not 200", host, out->http_status);
		return -1;
	}
	if (!lh_media_is(ctype, "text/plain")) {
		out->status = LH_CTYPE;
		for (v = ctype; *v != '\0'; v++)
			if ((unsigned char)*v < 0x20 || *v == 0x7f)
				*v = '?';
		snprintf(out->detail, sizeof(out->detail), "https://%s" LH_PATH
		    " is %s%s%s, not text/plain", host,
		    ctype[0] != '\0' ? "\"" : "",
		    ctype[0] != '\0' ? ctype : "without a Content-Type",
		    ctype[0] != '\0' ? "\"" : "");
		return -1;
	}
	out->len = 0;
	if (!chunked && clen > (int64_t)max)
		goto toobig;
	if (chunked) {
		for (;;) {
			if (lh_line(rd, line, LH_CHUNK_LINE, &n) == -1 ||
			    (sz = (int64_t)strtoll(line, &e, 16)) < 0 ||
			    e == line)
				goto truncated;
			if (sz == 0)
				break;
			if (sz > (int64_t)(max - out->len))
				goto toobig;
			if (lh_read(rd, out->body + out->len, (size_t)sz) ==
			    -1)
				goto truncated;
			out->len += (size_t)sz;
			if (lh_line(rd, line, LH_CHUNK_LINE, &n) == -1 ||
			    n != 0)
				goto truncated;
		}
	} else if (clen >= 0) {
		if (lh_read(rd, out->body, (size_t)clen) == -1)
			goto truncated;
		out->len = (size_t)clen;
	} else {
		/* until the end, one byte past the limit at most */
		while ((len = lh_byte(rd)) >= 0) {
			if (out->len == max)
				goto toobig;
			out->body[out->len++] = (char)len;
		}
		if (rd->timeout)
			return -1;
	}
	out->body[out->len] = '\0';
	out->status = LH_OK;
	return 0;
toobig:
	out->status = LH_TOOBIG;
	if (clen < 0 || chunked)
		snprintf(out->detail, sizeof(out->detail), "https://%s"
		    LH_PATH " is over %d bytes", host, LIM_LIVE_POLICY_BYTES);
	else
		snprintf(out->detail, sizeof(out->detail), "https://%s" LH_PATH
		    " is %lld bytes, over %d", host, (long long)clen,
		    LIM_LIVE_POLICY_BYTES);
	return -1;
truncated:
	out->status = LH_HTTP;
	snprintf(out->detail, sizeof(out->detail), "the body of https://%s"
	    LH_PATH " ended early or is malformed", host);
	return -1;
}

/* The next byte, or -1 at the end or on an error (rd->timeout set). */
static int
lh_byte(struct lh_rd *rd)
{
	ssize_t	n;

	if (rd->pos == rd->len) {
		n = ltls_read(rd->t, rd->buf, sizeof(rd->buf), rd->deadline);
		if (n <= 0) {
			rd->timeout = n == -1 && errno == ETIMEDOUT;
			return -1;
		}
		rd->pos = 0;
		rd->len = (size_t)n;
	}
	return (unsigned char)rd->buf[rd->pos++];
}

/* A line ending in CRLF (or LF) of at most max bytes before it, into
 * line (NUL-terminated, max + 1 bytes room); *n its length. */
static int
lh_line(struct lh_rd *rd, char *line, size_t max, size_t *n)
{
	int	c;

	*n = 0;
	while ((c = lh_byte(rd)) != -1) {
		if (c == '\n') {
			if (*n > 0 && line[*n - 1] == '\r')
				(*n)--;
			line[*n] = '\0';
			return 0;
		}
		if (*n == max)
			return -1;
		line[(*n)++] = (char)c;
	}
	return -1;
}

static int
lh_read(struct lh_rd *rd, char *dst, size_t len)
{
	size_t	i;
	int	c;

	for (i = 0; i < len; i++) {
		if ((c = lh_byte(rd)) == -1)
			return -1;
		dst[i] = (char)c;
	}
	return 0;
}

/* 1 when the media type of a Content-Type value is type (RFC 9110
 * §8.3.1: case-insensitive, parameters after ';'). */
static int
lh_media_is(const char *v, const char *type)
{
	size_t	n = strlen(type);

	if (strncasecmp(v, type, n) != 0)
		return 0;
	v += n;
	v += strspn(v, " \t");
	return *v == '\0' || *v == ';';
}

/* 1 when a Transfer-Encoding value names chunked (RFC 9112 §6.1). */
static int
lh_has_chunked(const char *v)
{
	for (; *v != '\0'; v++)
		if (strncasecmp(v, "chunked", 7) == 0)
			return 1;
	return 0;
}
