/*
 * test_copy_pg.c -- the COPY encoder (store/store_copy.c) against the real
 * PostgreSQL: what it writes, the server reads back as the same values.
 * Needs PostgreSQL (tests/with-pg.sh); test_copy.c is the part without.
 *
 * Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
 */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <libpq-fe.h>

#include "store_copy.h"
#include "store_testutil.h"

static int
pq_sink(void *arg, const char *buf, size_t len)
{
	return PQputCopyData(arg, buf, (int)len) == 1 ? 0 : -1;
}

/* COPY the rows that fill() writes; returns the SQLSTATE ("" if none). */
static void
copy_rows(PGconn *conn, void (*fill)(struct copy *), char *state)
{
	struct copy	*c;
	PGresult	*res;
	const char	*s;

	state[0] = '\0';
	res = PQexec(conn, "COPY t (i, s, b, a) FROM STDIN");
	cr_assert_eq(PQresultStatus(res), PGRES_COPY_IN, "%s",
	    PQerrorMessage(conn));
	PQclear(res);
	c = malloc(sizeof(*c));
	cr_assert(c != NULL);
	copy_init(c, pq_sink, conn);
	fill(c);
	copy_flush(c);
	cr_assert_eq(c->failed, 0);
	cr_assert_eq(PQputCopyEnd(conn, NULL), 1);
	while ((res = PQgetResult(conn)) != NULL) {
		if (PQresultStatus(res) != PGRES_COMMAND_OK &&
		    (s = PQresultErrorField(res, PG_DIAG_SQLSTATE)) != NULL)
			snprintf(state, 6, "%s", s);
		PQclear(res);
	}
	free(c);
}

static char	 ascii[128];		/* 0x01-0x7f */
static char	*longstr;		/* beyond the buffer, all escapes */
static unsigned char bytes[256];
static const char *const elems[] = {
	"a", "b\"c", "d\\e", NULL, "", "x\ty", "NULL", "{,}", "\\N", "l\nm\r",
	"caf\xc3\xa9",
};
#define NELEMS	(sizeof(elems) / sizeof(elems[0]))

static void
init_values(void)
{
	size_t	i, n = 2 * COPY_BUF_BYTES + 5;

	for (i = 1; i < 128; i++)
		ascii[i - 1] = (char)i;
	ascii[127] = '\0';
	for (i = 0; i < 256; i++)
		bytes[i] = (unsigned char)i;
	longstr = malloc(n + 1);
	cr_assert(longstr != NULL);
	for (i = 0; i < n; i++)
		longstr[i] = "\\\t\n\rq"[i % 5];
	longstr[n] = '\0';
}

static void
fill_good(struct copy *c)
{
	static const char *const texts[] = {
		"\\N", "\\.", "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x93\xa7", "",
	};
	size_t	i;

	copy_int(c, 1);
	copy_tab(c);
	copy_text(c, ascii);
	copy_tab(c);
	copy_bytea(c, bytes, sizeof(bytes));
	copy_tab(c);
	copy_array(c, elems, NELEMS);
	copy_eol(c);

	copy_int(c, 2);
	copy_tab(c);
	copy_text(c, longstr);
	copy_tab(c);
	copy_null(c);
	copy_tab(c);
	copy_array(c, NULL, 0);
	copy_eol(c);

	for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		copy_int(c, (int64_t)(3 + i));
		copy_tab(c);
		copy_text(c, texts[i]);
		copy_tab(c);
		copy_bytea(c, (const unsigned char *)"\\", 1);
		copy_tab(c);
		copy_null(c);
		copy_eol(c);
	}
	copy_int(c, 9);
	copy_tab(c);
	copy_text(c, NULL);
	copy_tab(c);
	copy_bytea(c, NULL, 0);
	copy_tab(c);
	copy_null(c);
	copy_eol(c);
}

static void
fill_bad_utf8(struct copy *c)
{
	copy_int(c, 10);
	copy_tab(c);
	copy_text(c, "bad \xff\xfe here");
	copy_tab(c);
	copy_null(c);
	copy_tab(c);
	copy_null(c);
	copy_eol(c);
}

/* One value of (i, col), binary: its bytes and length (-1 NULL). */
static int
get(PGconn *conn, int i, const char *col, char **v)
{
	char		 sql[128];
	PGresult	*res;
	int		 n;

	snprintf(sql, sizeof(sql), "SELECT %s FROM t WHERE i = %d", col, i);
	res = PQexecParams(conn, sql, 0, NULL, NULL, NULL, NULL, 1);
	cr_assert_eq(PQresultStatus(res), PGRES_TUPLES_OK, "%s",
	    PQerrorMessage(conn));
	cr_assert_eq(PQntuples(res), 1, "%s", sql);
	if (PQgetisnull(res, 0, 0)) {
		PQclear(res);
		*v = NULL;
		return -1;
	}
	n = PQgetlength(res, 0, 0);
	*v = malloc((size_t)n + 1);
	cr_assert(*v != NULL);
	memcpy(*v, PQgetvalue(res, 0, 0), (size_t)n);
	(*v)[n] = '\0';
	PQclear(res);
	return n;
}

static void
expect_value(PGconn *conn, int i, const char *col, const void *want,
    int wantlen)
{
	char	*v;
	int	 n;

	n = get(conn, i, col, &v);
	cr_assert_eq(n, wantlen, "row %d %s: length %d, want %d", i, col, n,
	    wantlen);
	if (n > 0)
		cr_assert(memcmp(v, want, (size_t)n) == 0, "row %d %s", i,
		    col);
	free(v);
}

Test(copy_pg, round_trip)
{
	struct stu_db	 db;
	PGconn		*conn;
	PGresult	*res;
	char		 state[6], sql[128];
	size_t		 k;

	init_values();
	stu_db_create(&db, "copy");
	conn = PQconnectdb(db.conninfo);
	cr_assert_eq(PQstatus(conn), CONNECTION_OK, "%s", PQerrorMessage(conn));
	res = PQexec(conn, "SET client_encoding = 'UTF8'; CREATE TABLE t"
	    " (i integer PRIMARY KEY, s text, b bytea, a text[])");
	cr_assert_eq(PQresultStatus(res), PGRES_COMMAND_OK, "%s",
	    PQerrorMessage(conn));
	PQclear(res);

	copy_rows(conn, fill_good, state);
	cr_assert_str_eq(state, "");
	expect_value(conn, 1, "s", ascii, 127);
	expect_value(conn, 1, "b", bytes, 256);
	expect_value(conn, 2, "s", longstr, (int)strlen(longstr));
	expect_value(conn, 2, "b", NULL, -1);
	expect_value(conn, 2, "pg_catalog.cardinality(a)::text", "0", 1);
	expect_value(conn, 3, "s", "\\N", 2);
	expect_value(conn, 4, "s", "\\.", 2);
	expect_value(conn, 5, "s", "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x93\xa7",
	    14);
	expect_value(conn, 6, "s", "", 0);
	expect_value(conn, 6, "b", "\\", 1);
	expect_value(conn, 9, "s", NULL, -1);
	expect_value(conn, 9, "b", "", 0);
	expect_value(conn, 1, "pg_catalog.cardinality(a)::text", "11", 2);
	for (k = 0; k < NELEMS; k++) {
		snprintf(sql, sizeof(sql), "a[%zu]", k + 1);
		expect_value(conn, 1, sql, elems[k], elems[k] != NULL ?
		    (int)strlen(elems[k]) : -1);
	}

	/* bytes that are not UTF-8 go as they are: the server refuses */
	copy_rows(conn, fill_bad_utf8, state);
	cr_assert_str_eq(state, "22021");
	res = PQexec(conn, "SELECT count(*) FROM t");
	cr_assert_str_eq(PQgetvalue(res, 0, 0), "7");
	PQclear(res);

	PQfinish(conn);
	free(longstr);
	stu_db_drop(&db);
}
