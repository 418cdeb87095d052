/*
 * live_smtp.c -- an MX on port 25 for tlsrpt check: the greeting, EHLO,
 * STARTTLS (RFC 3207), the TLS version and the certificate (chain to the
 * trust store, the MX host name by RFC 6125, the days to expiry).
 *
 * Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
 *
 * Reply lines are at most LIM_LIVE_SMTP_LINE_BYTES, a reply at most
 * LIM_LIVE_SMTP_LINES_MAX lines; everything before the deadline.  No
 * mail is sent: QUIT follows the handshake.
 */

#include <sys/socket.h>

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "live_int.h"
#include "tlsrpt_limits.h"

#define LS_EHLO_NAME	"tlsrpt-check.invalid"

struct ls_rd {
	int	 fd;
	char	 buf[1024];
	size_t	 pos, len;
	int64_t	 deadline;
};

static int	ls_reply(struct ls_rd *, int *, int *);
static int	ls_send(int, const char *, int64_t);
static void	ls_session(int, const char *, const char *,
		    const struct ldns_q *, int64_t, struct ls_result *);

void
live_smtp_probe(const char *host, const struct live_addr *addrs,
    size_t naddrs, const char *ca_file, const struct ldns_q *tlsa,
    int64_t deadline, struct ls_result *out)
{
	char	err[256];
	size_t	i;
	int	fd;

	memset(out, 0, sizeof(*out));
	out->tls.not_after = INT64_MIN;
	out->status = LS_CONNECT;
	snprintf(out->detail, sizeof(out->detail), "%s has no address", host);
	for (i = 0; i < naddrs; i++) {
		if ((fd = live_connect(&addrs[i], deadline, err,
		    sizeof(err))) == -1) {
			out->status = errno == ETIMEDOUT ? LS_TIMEOUT :
			    LS_CONNECT;
			snprintf(out->detail, sizeof(out->detail), "%s", err);
			continue;
		}
		ls_session(fd, host, ca_file, tlsa, deadline, out);
		close(fd);
		break;
	}
}

static void
ls_session(int fd, const char *host, const char *ca_file,
    const struct ldns_q *tlsa, int64_t deadline, struct ls_result *out)
{
	struct ls_rd	 rd;
	struct ltls	*t = NULL;
	char		 err[256];
	int		 code, tls = 0;

	memset(&rd, 0, sizeof(rd));
	rd.fd = fd;
	rd.deadline = deadline;
	if (ls_reply(&rd, &code, NULL) == -1 || code != 220) {
		snprintf(out->detail, sizeof(out->detail), "%s: no 220 "
		    "greeting on port 25", host);
		goto protocol;
	}
	if (ls_send(fd, "EHLO " LS_EHLO_NAME "\r\n", deadline) == -1 ||
	    ls_reply(&rd, &code, &tls) == -1 || code != 250) {
		snprintf(out->detail, sizeof(out->detail), "%s: EHLO was not "
		    "answered 250", host);
		goto protocol;
	}
	if (!tls) {
		out->status = LS_NO_STARTTLS;
		snprintf(out->detail, sizeof(out->detail), "%s does not offer "
		    "STARTTLS", host);
		(void)ls_send(fd, "QUIT\r\n", deadline);
		return;
	}
	if (ls_send(fd, "STARTTLS\r\n", deadline) == -1 ||
	    ls_reply(&rd, &code, NULL) == -1 || code != 220) {
		out->status = LS_STARTTLS_REFUSED;
		snprintf(out->detail, sizeof(out->detail), "%s offers "
		    "STARTTLS but did not answer it with 220", host);
		return;
	}
	if (rd.pos != rd.len) {
		/* bytes after the 220: RFC 3207 §5 forbids them */
		snprintf(out->detail, sizeof(out->detail), "%s sent data "
		    "after its STARTTLS 220", host);
		goto protocol;
	}
	if ((t = ltls_handshake(fd, host, ca_file, 0, tlsa, deadline,
	    &out->tls, err, sizeof(err))) == NULL) {
		out->status = errno == ETIMEDOUT ? LS_TIMEOUT : LS_TLS;
		snprintf(out->detail, sizeof(out->detail), "%s", err);
		return;
	}
	(void)ltls_write(t, "QUIT\r\n", 6, deadline);
	ltls_free(t);
	out->status = LS_OK;
	return;
protocol:
	out->status = errno == ETIMEDOUT ? LS_TIMEOUT : LS_PROTOCOL;
	if (out->status == LS_TIMEOUT)
		snprintf(out->detail, sizeof(out->detail), "%s did not answer "
		    "on port 25 in time", host);
}

/*
 * One reply: its code, and in *starttls (when not NULL) whether a line
 * is the STARTTLS keyword.  -1 on a malformed, too long or unfinished
 * reply.
 */
static int
ls_reply(struct ls_rd *rd, int *code, int *starttls)
{
	char	 line[LIM_LIVE_SMTP_LINE_BYTES + 1];
	size_t	 n;
	ssize_t	 r;
	int	 lines, c, last;

	errno = 0;
	for (lines = 0; lines < LIM_LIVE_SMTP_LINES_MAX; lines++) {
		n = 0;
		for (;;) {
			if (rd->pos == rd->len) {
				if (live_wait(rd->fd, POLLIN, rd->deadline) ==
				    -1)
					return -1;
				r = read(rd->fd, rd->buf, sizeof(rd->buf));
				if (r == -1 && (errno == EAGAIN ||
				    errno == EINTR))
					continue;
				if (r <= 0)
					return -1;
				rd->pos = 0;
				rd->len = (size_t)r;
			}
			c = (unsigned char)rd->buf[rd->pos++];
			if (c == '\n')
				break;
			if (n == LIM_LIVE_SMTP_LINE_BYTES)
				return -1;
			line[n++] = (char)c;
		}
		if (n > 0 && line[n - 1] == '\r')
			n--;
		line[n] = '\0';
		if (n < 3 || sscanf(line, "%3d", code) != 1 ||
		    (n > 3 && line[3] != ' ' && line[3] != '-'))
			return -1;
		last = n == 3 || line[3] == ' ';
		if (starttls != NULL && n >= 12 &&
		    strncasecmp(line + 4, "STARTTLS", 8) == 0 &&
		    (line[12] == '\0' || line[12] == ' '))
			*starttls = 1;
		if (last)
			return 0;
	}
	return -1;
}

static int
ls_send(int fd, const char *s, int64_t deadline)
{
	size_t	off = 0, len = strlen(s);
	ssize_t	w;

	while (off < len) {
		if (live_wait(fd, POLLOUT, deadline) == -1)
			return -1;
		w = send(fd, s + off, len - off, MSG_NOSIGNAL);
		if (w == -1 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (w == -1)
			return -1;
		off += (size_t)w;
	}
	return 0;
}
