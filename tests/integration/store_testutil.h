/*
 * store_testutil.h -- helpers for the store/ tests: a fresh database per
 * test in the PostgreSQL that tests/with-pg.sh starts, reports parsed
 * from JSON written in the test, and counting queries.
 *
 * Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
 */

#ifndef TLSRPT_STORE_TESTUTIL_H
#define TLSRPT_STORE_TESTUTIL_H

#include <stddef.h>
#include <stdint.h>

#include "ingest.h"
#include "store.h"

/* stu_parse(), stu_report(), stu_policy(), stu_detail(), stu_join() */
#include "json_testutil.h"

struct stu_db {
	char	name[64];		/* t_<pid>_<label> */
	char	conninfo[2048];		/* TLSRPT_TEST_DB with that dbname */
};

/*
 * CREATE DATABASE t_<pid>_<label> on the server of TLSRPT_TEST_DB and
 * fill db.  Fails the test (never skips it) when TLSRPT_TEST_DB is unset
 * or the server cannot be reached.
 */
void	stu_db_create(struct stu_db *, const char *label);

/* DROP DATABASE ... WITH (FORCE); quiet. */
void	stu_db_drop(const struct stu_db *);

/* store_open on db, asserting success; migrated when migrate is 1. */
struct store	*stu_open(const struct stu_db *, int migrate);

/* The first column of the first row of sql, as an integer (-1 NULL). */
int64_t	stu_int(const struct stu_db *, const char *sql);

/* The same as text into buf ("" NULL); returns buf. */
char	*stu_text(const struct stu_db *, const char *sql, char *buf,
	    size_t bufsz);

/* Run a statement, asserting success. */
void	stu_exec(const struct stu_db *, const char *sql);

#endif
