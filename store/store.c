/*
 * store.c -- connections to PostgreSQL and the error vocabulary of store/.
 *
 * Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
 */

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "ingest.h"
#include "store.h"
#include "store_int.h"
#include "util.h"

/*
 * Every name in store/ is schema-qualified: trust no search_path.  And a
 * commit must survive a crash of the server: the worker removes a spool
 * file once its transaction committed, so synchronous_commit = off (a
 * server tuned for speed) would lose acknowledged reports in a crash;
 * "local" is the least that keeps them.  The other settings are kept.
 */
#define SQL_SESSION							\
	"SELECT pg_catalog.set_config('search_path', '', false),"	\
	" pg_catalog.set_config('synchronous_commit', CASE"		\
	" pg_catalog.current_setting('synchronous_commit') WHEN 'off'"	\
	" THEN 'local' ELSE pg_catalog.current_setting("		\
	"'synchronous_commit') END, false)"

static void	quiet_notices(void *, const char *);
static int	sarray_room(struct sarray *, size_t);
static void	one_line(char *);
static enum store_err_class classify(const struct store *, const char *);

struct store *
store_open(const char *conninfo, char *err, size_t errsz)
{
	struct store	*st = NULL, *ret = NULL;
	PGresult	*res = NULL;

	if (err != NULL && errsz > 0)
		err[0] = '\0';
	if (conninfo == NULL || *conninfo == '\0')
		conninfo = getenv("TLSRPT_DB");
	if (conninfo == NULL)
		conninfo = "";		/* libpq defaults: PGHOST, ... */
	if ((st = calloc(1, sizeof(*st))) == NULL) {
		if (err != NULL)
			snprintf(err, errsz, "database: out of memory");
		goto out;
	}
	st->conn = PQconnectdb(conninfo);
	if (st->conn == NULL) {
		if (err != NULL)
			snprintf(err, errsz, "database: out of memory");
		goto out;
	}
	if (PQstatus(st->conn) != CONNECTION_OK) {
		store_seterr(st, "cannot connect to the database (check --db"
		    " or TLSRPT_DB)", NULL);
		if (err != NULL)
			snprintf(err, errsz, "%s", st->err);
		goto out;
	}
	PQsetNoticeProcessor(st->conn, quiet_notices, NULL);
	if (PQsetClientEncoding(st->conn, "UTF8") != 0) {
		store_seterr(st, "database: cannot use UTF8", NULL);
		if (err != NULL)
			snprintf(err, errsz, "%s", st->err);
		goto out;
	}
	if ((res = store_exec(st, "database: cannot set search_path",
	    SQL_SESSION, 0, NULL, PGRES_TUPLES_OK)) == NULL) {
		if (err != NULL)
			snprintf(err, errsz, "%s", st->err);
		goto out;
	}
	ret = st;
	st = NULL;
 out:
	PQclear(res);
	store_close(st);
	return ret;
}

void
store_close(struct store *st)
{
	if (st == NULL)
		return;
	PQfinish(st->conn);	/* NULL is a no-op */
	store_put_reset(st, 0);
	ingest_packer_free(st->packer);
	free(st);
}

const char *
store_errstr(const struct store *st)
{
	if (st == NULL)
		return "database: out of memory";
	return st->err[0] != '\0' ? st->err : "database: no error";
}

int
store_err_transient(const struct store *st)
{
	return st == NULL || st->transient;
}

void
store_seterr(struct store *st, const char *what, const PGresult *res)
{
	const char	*msg = NULL, *state = NULL;
	if (res != NULL) {
		msg = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
		state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
	}
	if (msg == NULL)
		msg = PQerrorMessage(st->conn);
	if (msg == NULL || *msg == '\0')
		msg = "unknown error";
	snprintf(st->sqlstate, sizeof(st->sqlstate), "%s",
	    state != NULL ? state : "");
	if (state != NULL)
		snprintf(st->err, sizeof(st->err), "%s: %s (SQLSTATE %s)", what,
		    msg, state);
	else
		snprintf(st->err, sizeof(st->err), "%s: %s", what, msg);
	one_line(st->err);

	st->eclass = classify(st, state);
	st->transient = st->eclass != STORE_EC_REPORT;
}

void
store_seterrx(struct store *st, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(st->err, sizeof(st->err), fmt, ap);
	va_end(ap);
	one_line(st->err);
	st->sqlstate[0] = '\0';
	/* ours, not the report's: out of memory, a schema not migrated */
	st->eclass = STORE_EC_OTHER;
	st->transient = 1;
}

void
store_seterr_report(struct store *st, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(st->err, sizeof(st->err), fmt, ap);
	va_end(ap);
	one_line(st->err);
	st->sqlstate[0] = '\0';
	st->eclass = STORE_EC_REPORT;
	st->transient = 0;
}

enum store_err_class
store_err_class(const struct store *st)
{
	if (st == NULL)
		return STORE_EC_RESOURCES;	/* store_open() out of memory */
	return st->eclass;
}

const char *
store_err_sqlstate(const struct store *st)
{
	return st != NULL ? st->sqlstate : "";
}

const char *
store_err_class_str(enum store_err_class c)
{
	static const char *const names[STORE_EC_N] = {
		"none", "report", "connection", "timeout", "read-only",
		"privilege", "schema", "shutdown", "resources", "conflict",
		"other",
	};

	if ((unsigned)c >= STORE_EC_N)
		return "other";
	return names[c];
}

const char *
store_put_why(const struct store *st, size_t i)
{
	if (st == NULL || st->why == NULL || i >= st->nwhy)
		return NULL;
	return st->why[i];
}

void
store_put_reset(struct store *st, size_t n)
{
	size_t	i;

	if (st->why != NULL)
		for (i = 0; i < st->nwhy; i++)
			free(st->why[i]);
	free(st->why);
	st->why = NULL;
	free(st->putflags);	/* store_put.c: store_put_flags() */
	st->putflags = NULL;
	st->nwhy = n;
}

void
store_put_fail(struct store *st, size_t i)
{
	if (i >= st->nwhy)
		return;
	if (st->why == NULL && (st->why = calloc(st->nwhy,
	    sizeof(*st->why))) == NULL)
		return;		/* the reason is lost, not the outcome */
	free(st->why[i]);
	st->why[i] = strdup(st->err);
}

int
store_err_retry(const struct store *st)
{
	/*
	 * 40001 serialization_failure, 40P01 deadlock_detected, and
	 * 23505 unique_violation: another importer stored one of the
	 * batch's reports after we looked; the next try sees it.
	 */
	return strcmp(st->sqlstate, "40001") == 0 ||
	    strcmp(st->sqlstate, "40P01") == 0 ||
	    strcmp(st->sqlstate, "23505") == 0;
}

PGresult *
store_exec(struct store *st, const char *what, const char *sql, int n,
    const char *const *pv, ExecStatusType want)
{
	PGresult	*res;

	res = PQexecParams(st->conn, sql, n, NULL, pv, NULL, NULL, 0);
	if (PQresultStatus(res) != want) {
		store_seterr(st, what, res);
		PQclear(res);
		return NULL;
	}
	return res;
}

int
store_cmd(struct store *st, const char *what, const char *sql, int n,
    const char *const *pv)
{
	PGresult	*res;

	if ((res = store_exec(st, what, sql, n, pv, PGRES_COMMAND_OK)) ==
	    NULL)
		return -1;
	PQclear(res);
	return 0;
}

void
store_rollback(struct store *st)
{
	PGresult	*res;

	if (PQtransactionStatus(st->conn) == PQTRANS_IDLE)
		return;
	/* The error that made us roll back is the one worth keeping. */
	res = PQexecParams(st->conn, "ROLLBACK", 0, NULL, NULL, NULL, NULL, 0);
	PQclear(res);
}

void
store_sarray_init(struct sarray *a)
{
	a->s = NULL;
	a->len = 0;
	a->cap = 0;
	a->err = 0;
}

/* Room for n more bytes, and the closing brace and NUL. */
static int
sarray_room(struct sarray *a, size_t n)
{
	char	*ns;
	size_t	 ncap;

	if (a->err)
		return -1;
	if (n > SIZE_MAX / 4 - a->len - 2) {
		a->err = 1;
		return -1;
	}
	if (a->len + n + 2 <= a->cap)
		return 0;
	ncap = a->cap != 0 ? a->cap : 256;
	while (ncap < a->len + n + 2)
		ncap *= 2;
	if ((ns = realloc(a->s, ncap)) == NULL) {
		a->err = 1;
		return -1;
	}
	a->s = ns;
	a->cap = ncap;
	return 0;
}

int
store_sarray_add(struct sarray *a, const char *v)
{
	const char	*p;

	if (v == NULL)
		v = "";
	/* worst case: every byte escaped, quotes, separator */
	if (sarray_room(a, 2 * strlen(v) + 4) == -1)
		return -1;
	a->s[a->len] = a->len == 0 ? '{' : ',';
	a->len++;
	a->s[a->len++] = '"';
	for (p = v; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\')
			a->s[a->len++] = '\\';
		a->s[a->len++] = *p;
	}
	a->s[a->len++] = '"';
	return 0;
}

const char *
store_sarray_end(struct sarray *a)
{
	if (sarray_room(a, 1) == -1)
		return NULL;
	if (a->len == 0)
		a->s[a->len++] = '{';
	a->s[a->len++] = '}';
	a->s[a->len] = '\0';
	return a->s;
}

void
store_sarray_free(struct sarray *a)
{
	free(a->s);
	store_sarray_init(a);
}

/*
 * What an error means, from its SQLSTATE (NULL: none came back).  Only
 * a fact about the data sent (classes 22 data exception and 23 integrity
 * constraint violation) is the report's fault; a unique violation there
 * is a race with another importer, which the next try sees through.
 * Everything else, known or not, says that the database cannot be used
 * now: the report is kept and tried again later.
 */
static enum store_err_class
classify(const struct store *st, const char *state)
{
	if (PQstatus(st->conn) == CONNECTION_BAD)
		return STORE_EC_CONNECTION;
	if (state == NULL || strlen(state) != 5)
		return STORE_EC_CONNECTION;	/* no answer from the server */
	if (strcmp(state, "23505") == 0 || strncmp(state, "40", 2) == 0)
		return STORE_EC_CONFLICT;
	if (strncmp(state, "22", 2) == 0 || strncmp(state, "23", 2) == 0)
		return STORE_EC_REPORT;
	if (strncmp(state, "08", 2) == 0)
		return STORE_EC_CONNECTION;
	if (strcmp(state, "57014") == 0 || strcmp(state, "55P03") == 0 ||
	    strcmp(state, "25P03") == 0)
		return STORE_EC_TIMEOUT;
	if (strcmp(state, "25006") == 0)
		return STORE_EC_READ_ONLY;
	if (strcmp(state, "42501") == 0)
		return STORE_EC_PRIVILEGE;
	if (strncmp(state, "42", 2) == 0 || strcmp(state, "3F000") == 0 ||
	    strcmp(state, "3D000") == 0)
		return STORE_EC_SCHEMA;
	if (strncmp(state, "57P", 3) == 0)
		return STORE_EC_SHUTDOWN;
	if (strncmp(state, "53", 2) == 0)
		return STORE_EC_RESOURCES;
	return STORE_EC_OTHER;
}

/* Notices (IF NOT EXISTS ... skipping) are not errors; say nothing. */
static void
quiet_notices(void *arg, const char *msg)
{
	(void)arg;
	(void)msg;
}

static void
one_line(char *s)
{
	size_t	n;

	for (n = 0; s[n] != '\0'; n++)
		if (s[n] == '\n' || s[n] == '\r' || s[n] == '\t')
			s[n] = ' ';
	/* libpq messages end with a newline, now a trailing blank */
	while (n > 0 && s[n - 1] == ' ')
		s[--n] = '\0';
}

int64_t
store_getint(const PGresult *res, int row, int col)
{
	int64_t	v;

	if (PQgetisnull(res, row, col) ||
	    util_strtoi64(PQgetvalue(res, row, col), INT64_MIN, INT64_MAX,
	    &v) == -1)
		return 0;
	return v;
}
