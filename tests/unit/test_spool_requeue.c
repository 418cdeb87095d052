/*
 * test_spool_requeue.c -- spool_requeue_bad() on its own (`tlsrpt-httpd
 * --requeue-bad`): a rejected file whose twin waits in new/ stays in
 * bad/, and moves once the twin is gone.  No database; the requeue under
 * faults is tests/integration/test_faults.c.
 *
 * Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
 */

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "core_spool.h"
#include "sh_testutil.h"

/* Regular files in dir (-1 when it cannot be opened). */
static int
count_files(const char *dir)
{
	DIR		*d;
	struct dirent	*de;
	int		 n = 0;

	if ((d = opendir(dir)) == NULL)
		return -1;
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

/* The one file of new/: its name into buf; 0 when there is none. */
static int
only_name(const char *dir, char *buf, size_t bufsz)
{
	DIR		*d;
	struct dirent	*de;
	int		 n = 0;

	cr_assert_not_null(d = opendir(dir));
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.') {
			snprintf(buf, bufsz, "%s", de->d_name);
			n++;
		}
	closedir(d);
	return n == 1;
}

Test(requeue, twin_waiting_stays_in_bad)
{
	struct spool_meta	 meta;
	struct spool		*sp;
	char			 dir[256], err[256], name[SPOOL_NAME_MAX];
	size_t			 moved, left;

	snprintf(dir, sizeof(dir), "/tmp/tlsrpt-requeue.XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	sp = spool_open(dir, err, sizeof(err));
	cr_assert_not_null(sp, "%s", err);
	memset(&meta, 0, sizeof(meta));
	meta.source = "https";
	meta.received = 1763900000;

	/* nothing to do */
	cr_assert_eq(spool_requeue_bad(sp, &moved, &left), 0);
	cr_expect_eq(moved, 0);
	cr_expect_eq(left, 0);

	/* one rejected file, and its twin spooled again meanwhile */
	cr_assert_eq(spool_put(sp, "{}", 2, &meta), SPOOL_STORED);
	cr_assert(only_name(dtu_S("%s/new", dir), name, sizeof(name)));
	cr_assert_eq(spool_reject(sp, name, "test: refused"), 0);
	cr_assert_eq(count_files(dtu_S("%s/bad", dir)), 2);
	cr_assert_eq(spool_put(sp, "{}", 2, &meta), SPOOL_STORED);
	cr_assert_eq(spool_requeue_bad(sp, &moved, &left), 0);
	cr_expect_eq(moved, 0, "never over a file waiting in new/");
	cr_expect_eq(left, 1);
	cr_expect_eq(count_files(dtu_S("%s/bad", dir)), 2);

	/* the twin stored (gone): now it moves, without its reason */
	cr_assert_eq(spool_remove(sp, name), 0);
	cr_assert_eq(spool_sync(sp), 0);
	cr_assert_eq(spool_requeue_bad(sp, &moved, &left), 0);
	cr_expect_eq(moved, 1);
	cr_expect_eq(left, 0);
	cr_expect_eq(count_files(dtu_S("%s/bad", dir)), 0);
	cr_expect_eq(count_files(dtu_S("%s/new", dir)), 1);
	cr_expect_eq(access(dtu_S("%s/new/%s", dir, name), F_OK), 0);
	spool_close(sp);
	(void)!system(dtu_S("rm -rf '%s'", dir));
}
