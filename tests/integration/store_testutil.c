/*
 * store_testutil.c -- helpers for the store/ tests, see store_testutil.h.
 *
 * Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
 */

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <libpq-fe.h>

#include "ingest.h"
#include "store.h"
#include "json_testutil.h"
#include "store_testutil.h"

static PGconn	*connect_to(const char *base, const char *dbname);
static void	 append_kv(char *, size_t, const char *, const char *);

void
stu_db_create(struct stu_db *db, const char *label)
{
	const char	*base;
	char		 sql[256];
	PGconn		*c;
	PGresult	*res;

	base = getenv("TLSRPT_TEST_DB");
	cr_assert(base != NULL && *base != '\0', "TLSRPT_TEST_DB is not set:"
	    " run the tests through tests/with-pg.sh");
	snprintf(db->name, sizeof(db->name), "t_%ld_%s", (long)getpid(),
	    label);
	c = connect_to(base, NULL);
	snprintf(sql, sizeof(sql), "CREATE DATABASE \"%s\"", db->name);
	res = PQexec(c, sql);
	cr_assert(PQresultStatus(res) == PGRES_COMMAND_OK, "%s: %s", sql,
	    PQerrorMessage(c));
	PQclear(res);
	PQfinish(c);

	/* base with dbname replaced, as key='value' pairs */
	{
		PQconninfoOption	*opts, *o;
		char			*err = NULL;

		opts = PQconninfoParse(base, &err);
		cr_assert(opts != NULL, "TLSRPT_TEST_DB: %s",
		    err != NULL ? err : "cannot parse");
		db->conninfo[0] = '\0';
		for (o = opts; o->keyword != NULL; o++) {
			if (strcmp(o->keyword, "dbname") == 0 ||
			    o->val == NULL)
				continue;
			append_kv(db->conninfo, sizeof(db->conninfo),
			    o->keyword, o->val);
		}
		append_kv(db->conninfo, sizeof(db->conninfo), "dbname",
		    db->name);
		PQconninfoFree(opts);
	}
}

void
stu_db_drop(const struct stu_db *db)
{
	char		 sql[256];
	PGconn		*c;
	PGresult	*res;

	c = connect_to(getenv("TLSRPT_TEST_DB"), NULL);
	snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS \"%s\""
	    " WITH (FORCE)", db->name);
	res = PQexec(c, sql);
	PQclear(res);
	PQfinish(c);
}

struct store *
stu_open(const struct stu_db *db, int migrate)
{
	struct store	*st;
	char		 err[512];

	st = store_open(db->conninfo, err, sizeof(err));
	cr_assert(st != NULL, "store_open: %s", err);
	if (migrate)
		cr_assert(store_migrate(st, NULL) == 0, "store_migrate: %s",
		    store_errstr(st));
	return st;
}

int64_t
stu_int(const struct stu_db *db, const char *sql)
{
	PGconn		*c;
	PGresult	*res;
	int64_t		 v = -1;

	c = connect_to(db->conninfo, NULL);
	res = PQexec(c, sql);
	cr_assert(PQresultStatus(res) == PGRES_TUPLES_OK, "%s: %s", sql,
	    PQerrorMessage(c));
	cr_assert(PQntuples(res) == 1, "%s: %d rows", sql, PQntuples(res));
	if (!PQgetisnull(res, 0, 0))
		v = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);
	PQfinish(c);
	return v;
}

char *
stu_text(const struct stu_db *db, const char *sql, char *buf, size_t bufsz)
{
	PGconn		*c;
	PGresult	*res;

	c = connect_to(db->conninfo, NULL);
	res = PQexec(c, sql);
	cr_assert(PQresultStatus(res) == PGRES_TUPLES_OK, "%s: %s", sql,
	    PQerrorMessage(c));
	cr_assert(PQntuples(res) == 1, "%s: %d rows", sql, PQntuples(res));
	snprintf(buf, bufsz, "%s", PQgetvalue(res, 0, 0));
	PQclear(res);
	PQfinish(c);
	return buf;
}

void
stu_exec(const struct stu_db *db, const char *sql)
{
	PGconn		*c;
	PGresult	*res;

	c = connect_to(db->conninfo, NULL);
	res = PQexec(c, sql);
	cr_assert(PQresultStatus(res) == PGRES_COMMAND_OK ||
	    PQresultStatus(res) == PGRES_TUPLES_OK, "%s: %s", sql,
	    PQerrorMessage(c));
	PQclear(res);
	PQfinish(c);
}

static PGconn *
connect_to(const char *base, const char *dbname)
{
	PGconn	*c;

	(void)dbname;
	c = PQconnectdb(base);
	cr_assert(PQstatus(c) == CONNECTION_OK, "connect %s: %s", base,
	    PQerrorMessage(c));
	return c;
}

static void
append_kv(char *dst, size_t dstsz, const char *k, const char *v)
{
	size_t	n = strlen(dst);

	if (n > 0 && n + 1 < dstsz)
		dst[n++] = ' ';
	n += (size_t)snprintf(dst + n, n < dstsz ? dstsz - n : 0, "%s='", k);
	for (; *v != '\0' && n + 3 < dstsz; v++) {
		if (*v == '\'' || *v == '\\')
			dst[n++] = '\\';
		dst[n++] = *v;
	}
	if (n + 2 < dstsz) {
		dst[n++] = '\'';
		dst[n] = '\0';
	}
}
