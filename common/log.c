/*
 * log.c -- OpenBSD-style logging to stderr or syslog.
 *
 * Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
 */

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

#define LOG_LINE_MAX	2048

static int		 log_stderr = 1;
static int		 log_verbose;
static const char	*log_ident = "tlsrpt";

static void	logit(int, const char *, ...)
		    __attribute__((format(printf, 2, 3)));
static void	vlog_errno(int, int, const char *, va_list)
		    __attribute__((format(printf, 3, 0)));

void
log_init(int to_stderr, const char *ident, int facility, int verbose)
{
	log_stderr = to_stderr;
	log_verbose = verbose;
	if (ident != NULL)
		log_ident = ident;
	if (!to_stderr)
		openlog(log_ident, LOG_PID | LOG_NDELAY, facility);
}

void
log_setverbose(int v)
{
	log_verbose = v;
}

int
log_getverbose(void)
{
	return log_verbose;
}

void
vlog(int pri, const char *fmt, va_list ap)
{
	char		 line[LOG_LINE_MAX];
	struct tm	 tm;
	time_t		 now;
	size_t		 n = 0, room;
	int		 r;

	if (pri == LOG_DEBUG && !log_verbose)
		return;
	if (!log_stderr) {
		if (vsnprintf(line, sizeof(line), fmt, ap) >= 0)
			syslog(pri, "%s", line);
		return;
	}
	now = time(NULL);
	if (gmtime_r(&now, &tm) != NULL)
		n = strftime(line, sizeof(line), "%Y-%m-%dT%H:%M:%SZ ", &tm);
	room = sizeof(line) - n - 1;		/* keep one byte for '\n' */
	r = vsnprintf(line + n, room, fmt, ap);
	if (r < 0)
		return;
	n += (size_t)r < room ? (size_t)r : room - 1;
	line[n++] = '\n';
	(void)!write(STDERR_FILENO, line, n);	/* one write: one line */
}

static void
logit(int pri, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vlog(pri, fmt, ap);
	va_end(ap);
}

static void
vlog_errno(int pri, int saved, const char *fmt, va_list ap)
{
	char	msg[LOG_LINE_MAX];

	if (vsnprintf(msg, sizeof(msg), fmt, ap) < 0)
		msg[0] = '\0';
	logit(pri, "%s: %s", msg, strerror(saved));
}

void
log_warn(const char *fmt, ...)
{
	va_list	ap;
	int	saved = errno;

	va_start(ap, fmt);
	vlog_errno(LOG_WARNING, saved, fmt, ap);
	va_end(ap);
	errno = saved;
}

void
log_warnx(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vlog(LOG_WARNING, fmt, ap);
	va_end(ap);
}

void
log_info(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vlog(LOG_INFO, fmt, ap);
	va_end(ap);
}

void
log_debug(const char *fmt, ...)
{
	va_list	ap;

	if (!log_verbose)
		return;
	va_start(ap, fmt);
	vlog(LOG_DEBUG, fmt, ap);
	va_end(ap);
}

void
fatal(const char *fmt, ...)
{
	va_list	ap;
	int	saved = errno;

	va_start(ap, fmt);
	vlog_errno(LOG_CRIT, saved, fmt, ap);
	va_end(ap);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vlog(LOG_CRIT, fmt, ap);
	va_end(ap);
	exit(1);
}

const char *
log_escape(char *dst, size_t dstsz, const char *src, size_t srclen)
{
	size_t	i, n = 0;

	if (dstsz == 0)
		return "";
	if (src == NULL) {
		snprintf(dst, dstsz, "-");
		return dst;
	}
	for (i = 0; i < srclen && n + 1 < dstsz; i++) {
		unsigned char c = (unsigned char)src[i];

		dst[n++] = (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') ?
		    (char)c : '?';
	}
	dst[n] = '\0';
	return dst;
}
