/*
 * sh_testutil.c -- shell commands and files for the tests, see
 * sh_testutil.h.
 *
 * Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
 */

#define _GNU_SOURCE

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "sh_testutil.h"
#include "testutil.h"

void
dtu_sh(const char *fmt, ...)
{
	char	*cmd;
	va_list	 ap;
	int	 st;

	va_start(ap, fmt);
	cr_assert_geq(vasprintf(&cmd, fmt, ap), 0);
	va_end(ap);
	st = system(cmd);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "failed: %s", cmd);
	free(cmd);
}

char *
dtu_run(const char *fmt, ...)
{
	struct tu_str	 out = { 0 };
	char		*cmd, buf[4096];
	va_list		 ap;
	FILE		*p;
	size_t		 n;

	va_start(ap, fmt);
	cr_assert_geq(vasprintf(&cmd, fmt, ap), 0);
	va_end(ap);
	p = popen(cmd, "r");
	cr_assert_not_null(p, "%s", cmd);
	tu_str_add(&out, "%s", "");
	while ((n = fread(buf, 1, sizeof(buf) - 1, p)) > 0) {
		buf[n] = '\0';
		tu_str_add(&out, "%s", buf);
	}
	pclose(p);
	free(cmd);
	return out.s;
}

const char *
dtu_S(const char *fmt, ...)
{
	static char	buf[8][1024];
	static int	i;
	va_list		ap;

	i = (i + 1) % 8;
	va_start(ap, fmt);
	vsnprintf(buf[i], sizeof(buf[i]), fmt, ap);
	va_end(ap);
	return buf[i];
}

void
dtu_write_file(const char *path, const void *buf, size_t len)
{
	FILE	*f = fopen(path, "wb");

	cr_assert_not_null(f, "%s", path);
	cr_assert_eq(fwrite(buf, 1, len, f), len);
	cr_assert_eq(fclose(f), 0);
}

const char *
dtu_bin(const char *env, const char *dflt)
{
	const char	*b = getenv(env);

	return b != NULL && *b != '\0' ? b : dflt;
}
