/*
 * sh_testutil.h -- shell commands and files for the tests (no daemon, no
 * database).  They fail the calling test (cr_assert) when something they
 * need does not work.
 *
 * Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
 */

#ifndef TLSRPT_SH_TESTUTIL_H
#define TLSRPT_SH_TESTUTIL_H

#include <stddef.h>

/* Run a shell command; the test fails unless it exits 0. */
void		 dtu_sh(const char *fmt, ...)
		    __attribute__((format(printf, 1, 2)));

/* A shell command's stdout: malloc'd, owned by the caller. */
char		*dtu_run(const char *fmt, ...)
		    __attribute__((format(printf, 1, 2)));

/* printf into one of 8 static buffers: for arguments, never freed. */
const char	*dtu_S(const char *fmt, ...)
		    __attribute__((format(printf, 1, 2)));

/* Create or truncate path with len bytes of buf. */
void		 dtu_write_file(const char *path, const void *buf,
		    size_t len);

/* The program named by the environment variable env, else dflt. */
const char	*dtu_bin(const char *env, const char *dflt);

#endif
