/*
 * log.h -- OpenBSD-style logging to stderr or syslog, and log_escape()
 * for text that came from a peer.
 *
 * Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
 *
 * Every function is thread-safe: a line is formatted into a local buffer
 * and written with one write(2) (stderr) or one syslog(3) call.  fatal()
 * and fatalx() exit(1): call them only at startup or for a broken
 * internal invariant, never on a path a peer can reach.
 */

#ifndef TLSRPT_LOG_H
#define TLSRPT_LOG_H

#include <stdarg.h>
#include <stddef.h>

/*
 * to_stderr 1: lines go to stderr with a timestamp; 0: to syslog with
 * ident (borrowed for the life of the process) and facility.  verbose 1
 * lets log_debug() through.
 */
void	log_init(int to_stderr, const char *ident, int facility, int verbose);
void	log_setverbose(int);
int	log_getverbose(void);

/* log_warn appends ": strerror(errno)"; log_warnx does not. */
void	log_warn(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_warnx(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_info(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_debug(const char *, ...) __attribute__((format(printf, 1, 2)));
void	vlog(int pri, const char *, va_list)
	    __attribute__((format(printf, 2, 0)));
void	fatal(const char *, ...) __attribute__((format(printf, 1, 2)))
	    __attribute__((noreturn));
void	fatalx(const char *, ...) __attribute__((format(printf, 1, 2)))
	    __attribute__((noreturn));

/*
 * Copy untrusted text for logging: at most dstsz - 1 bytes of src[0..
 * srclen); bytes outside printable ASCII, '"' and '\\' become '?'.  A
 * NULL src gives "-".  Always terminates dst (dstsz > 0); returns dst.
 */
const char	*log_escape(char *dst, size_t dstsz, const char *src,
		    size_t srclen);

#endif
