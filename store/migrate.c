/*
 * migrate.c -- apply the numbered migrations of schema/ and check them.
 *
 * Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "store.h"
#include "store_int.h"

/*
 * Every migration runs in its own transaction that first takes this
 * transaction-level advisory lock: concurrent `tlsrpt migrate` runs queue
 * behind each other and the later ones find the work done.  The lock
 * needs no table, so it also guards the creation of the schema.
 */
#define MIGRATE_LOCK_CLASS	0x746c7372	/* "tlsr" */
#define MIGRATE_LOCK_OBJ	1

#define SQL_LOCK							\
	"SELECT pg_catalog.pg_advisory_xact_lock($1::integer, $2::integer)"
#define SQL_HAVE_TABLE							\
	"SELECT pg_catalog.to_regclass('tlsrpt.schema_migration') IS NOT NULL"
#define SQL_APPLIED							\
	"SELECT 1 FROM tlsrpt.schema_migration WHERE version = $1::integer"
#define SQL_RECORD							\
	"INSERT INTO tlsrpt.schema_migration (version, name)"		\
	" VALUES ($1::integer, $2)"
#define SQL_VERSIONS							\
	"SELECT version, name FROM tlsrpt.schema_migration ORDER BY version"

static int	migrate_one(struct store *, const struct store_migration *,
		    int *);
static int	have_table(struct store *, int *);

int
store_migrate(struct store *st, int *applied)
{
	const struct store_migration	*m;
	int				 n = 0, done, rc = -1;

	if (applied != NULL)
		*applied = 0;
	for (m = store_migrations; m->name != NULL; m++) {
		if (migrate_one(st, m, &done) == -1)
			goto out;
		n += done;
	}
	rc = 0;
 out:
	if (applied != NULL)
		*applied = n;
	return rc;
}

int
store_check_schema(struct store *st)
{
	const struct store_migration	*m;
	PGresult			*res = NULL;
	int				 have, i, found, v, maxknown = 0;
	int				 rc = -1;

	if (have_table(st, &have) == -1)
		goto out;
	if (!have) {
		store_seterrx(st, "database has no tlsrpt schema: run `tlsrpt"
		    " migrate` first");
		goto out;
	}
	if ((res = store_exec(st, "database: cannot read the schema version",
	    SQL_VERSIONS, 0, NULL, PGRES_TUPLES_OK)) == NULL)
		goto out;
	for (m = store_migrations; m->name != NULL; m++) {
		if (m->version > maxknown)
			maxknown = m->version;
		found = 0;
		for (i = 0; i < PQntuples(res) && !found; i++)
			found = atoi(PQgetvalue(res, i, 0)) == m->version;
		if (!found) {
			store_seterrx(st, "database schema lacks migration %s:"
			    " run `tlsrpt migrate`", m->name);
			goto out;
		}
	}
	for (i = 0; i < PQntuples(res); i++) {
		v = atoi(PQgetvalue(res, i, 0));
		if (v > maxknown) {
			store_seterrx(st, "database schema has migration %s,"
			    " newer than this tlsrpt knows (%d): upgrade tlsrpt",
			    PQgetvalue(res, i, 1), maxknown);
			goto out;
		}
	}
	rc = 0;
 out:
	PQclear(res);
	return rc;
}

/* Apply m unless it is recorded; *done gets 1 when this call applied it. */
static int
migrate_one(struct store *st, const struct store_migration *m, int *done)
{
	PGresult	*res = NULL;
	const char	*pv[2];
	char		 vbuf[16], cls[16], obj[16], what[128];
	int		 have, rc = -1;

	*done = 0;
	snprintf(vbuf, sizeof(vbuf), "%d", m->version);
	snprintf(cls, sizeof(cls), "%d", MIGRATE_LOCK_CLASS);
	snprintf(obj, sizeof(obj), "%d", MIGRATE_LOCK_OBJ);
	snprintf(what, sizeof(what), "migration %s failed", m->name);

	if (store_cmd(st, what, "BEGIN", 0, NULL) == -1)
		goto out;
	pv[0] = cls;
	pv[1] = obj;
	if ((res = store_exec(st, what, SQL_LOCK, 2, pv, PGRES_TUPLES_OK)) ==
	    NULL)
		goto out;
	PQclear(res);
	res = NULL;
	if (have_table(st, &have) == -1)
		goto out;
	if (have) {
		pv[0] = vbuf;
		if ((res = store_exec(st, what, SQL_APPLIED, 1, pv,
		    PGRES_TUPLES_OK)) == NULL)
			goto out;
		if (PQntuples(res) > 0) {	/* already there */
			rc = store_cmd(st, what, "COMMIT", 0, NULL);
			goto out;
		}
		PQclear(res);
		res = NULL;
	}

	/*
	 * A migration is a script of several statements with no parameter,
	 * embedded at build time: the one place where PQexec (the simple
	 * query protocol) is needed instead of PQexecParams.
	 */
	res = PQexec(st->conn, m->sql);
	if (PQresultStatus(res) != PGRES_COMMAND_OK &&
	    PQresultStatus(res) != PGRES_TUPLES_OK) {
		store_seterr(st, what, res);
		goto out;
	}
	PQclear(res);
	res = NULL;
	pv[0] = vbuf;
	pv[1] = m->name;
	if (store_cmd(st, what, SQL_RECORD, 2, pv) == -1)
		goto out;
	if (store_cmd(st, what, "COMMIT", 0, NULL) == -1)
		goto out;
	*done = 1;
	rc = 0;
 out:
	PQclear(res);
	if (rc == -1)
		store_rollback(st);
	return rc;
}

static int
have_table(struct store *st, int *have)
{
	PGresult	*res;

	if ((res = store_exec(st, "database: cannot read the schema version",
	    SQL_HAVE_TABLE, 0, NULL, PGRES_TUPLES_OK)) == NULL)
		return -1;
	*have = PQntuples(res) == 1 && strcmp(PQgetvalue(res, 0, 0), "t") == 0;
	PQclear(res);
	return 0;
}
