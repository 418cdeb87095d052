/*
 * milter_conf.c -- options and config file of tlsrpt-milter (the same
 * shape as tlsrpt-httpd's: one table of long options, also the keys of
 * the config file).
 *
 * Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
 */

#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "milter_conf.h"
#include "tlsrpt_limits.h"
#include "util.h"

#define MCONF_LINE_MAX		4096
#define MCONF_DEFAULT_SOCKET	"inet:8895@127.0.0.1"
#define MCONF_DEFAULT_TIMEOUT	600	/* seconds of MTA silence */

enum opt_kind { O_STR, O_LIST, O_FLAG, O_SIZE, O_UINT };

struct opt {
	const char	*name;
	enum opt_kind	 kind;
	size_t		 off;
	const char	*arg;		/* for usage */
	const char	*help;
};

#define OFF(m)	offsetof(struct milt_conf, m)

static const struct opt opts[] = {
	{ "config", O_STR, OFF(config), "FILE",
	    "read options from FILE (keys are the long option names)" },
	{ "socket", O_STR, OFF(socket), "SPEC",
	    "unix:PATH or inet:PORT@ADDR (" MCONF_DEFAULT_SOCKET ")" },
	{ "rcpt", O_LIST, OFF(rcpt), "ADDR",
	    "the rua address reports are mailed to; repeatable; required" },
	{ "action", O_STR, OFF(action), "accept|discard",
	    "what becomes of a spooled report mail (accept: delivered, "
	    "with an X-TLSRPT-Collector header)" },
	{ "spool", O_STR, OFF(spool), "DIR", "spool directory (./var/spool)" },
	{ "db", O_STR, OFF(db), "CONNINFO",
	    "PostgreSQL (libpq string or URI; default TLSRPT_DB)" },
	{ "domain", O_LIST, OFF(domain), "DOMAIN",
	    "accept reports about DOMAIN only (and its subdomains); repeatable" },
	{ "max-size", O_SIZE, OFF(max_size), "BYTES",
	    "larger messages are not looked at (26214400)" },
	{ "authserv-id", O_STR, OFF(authserv_id), "ID",
	    "trust Authentication-Results with this authserv-id only "
	    "(default: the MTA's host name, macro {j})" },
	{ "require-dkim", O_FLAG, OFF(require_dkim), NULL,
	    "reject reports without a passing DKIM signature of the "
	    "submitter (kept in SPOOL/bad)" },
	{ "timeout", O_UINT, OFF(timeout), "SEC",
	    "give up on an MTA silent that long (600)" },
	{ "user", O_STR, OFF(user), "USER",
	    "drop root for USER after opening the socket" },
	{ "syslog", O_FLAG, OFF(syslog), NULL, "log to syslog, not stderr" },
	{ "verbose", O_FLAG, OFF(verbose), NULL, "log debug lines too" },
};

static const struct opt	*opt_find(const char *, size_t);
static int	 opt_set(struct milt_conf *, const struct opt *,
		    const char *, int, char *, size_t);
static int	 conf_file(struct milt_conf *, const char *, char *, size_t);
static int	 conf_finish(struct milt_conf *, char *, size_t);
static int	 parse_size(const char *, size_t *);
static void	 lower(char *);

void
mconf_usage(void)
{
	const struct opt	*o;
	char			 lhs[64];

	printf("usage: tlsrpt-milter --rcpt ADDR [--option value ...]\n"
	    "Collects SMTP TLS reports (RFC 8460) mailed to the rua address "
	    "at SMTP time\nand spools them for PostgreSQL.\n\n");
	for (o = opts; o < opts + sizeof(opts) / sizeof(opts[0]); o++) {
		snprintf(lhs, sizeof(lhs), "--%s%s%s", o->name,
		    o->arg ? " " : "", o->arg ? o->arg : "");
		printf("  %-30s %s\n", lhs, o->help);
	}
	printf("  %-30s %s\n  %-30s %s\n", "--help", "this text",
	    "--version", "print the version");
}

struct milt_conf *
mconf_load(int argc, char *const argv[], char *err, size_t errsz)
{
	struct milt_conf	*c = NULL;
	const struct opt	*o;
	const char		*a, *eq, *val;
	int			 i, ok = 0;

	if ((c = calloc(1, sizeof(*c))) == NULL) {
		snprintf(err, errsz, "out of memory");
		return NULL;
	}
	c->max_size = LIM_MAIL_MAX_BYTES;
	c->timeout = MCONF_DEFAULT_TIMEOUT;

	/* --config first, wherever it is, so argv overrides the file */
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--config") == 0 && i + 1 < argc)
			a = argv[i + 1];
		else if (strncmp(argv[i], "--config=", 9) == 0)
			a = argv[i] + 9;
		else
			continue;
		if (conf_file(c, a, err, errsz) == -1)
			goto out;
		break;
	}
	for (i = 1; i < argc; i++) {
		a = argv[i];
		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0 ||
		    strcmp(a, "--version") == 0) {
			c->foreground_help = a[2] == 'v' ? 2 : 1;
			ok = 1;
			goto out;
		}
		if (strncmp(a, "--", 2) != 0) {
			snprintf(err, errsz, "unexpected argument \"%s\": "
			    "options are --name value (see --help)", a);
			goto out;
		}
		a += 2;
		eq = strchr(a, '=');
		if ((o = opt_find(a, eq ? (size_t)(eq - a) : strlen(a)))
		    == NULL) {
			snprintf(err, errsz, "unknown option --%s (see --help)",
			    a);
			goto out;
		}
		if (eq != NULL)
			val = eq + 1;
		else if (o->kind == O_FLAG)
			val = "yes";
		else if (i + 1 < argc)
			val = argv[++i];
		else {
			snprintf(err, errsz, "option --%s needs a value",
			    o->name);
			goto out;
		}
		if (o->kind == O_STR && strcmp(o->name, "config") == 0)
			continue;	/* read above */
		if (opt_set(c, o, val, 1, err, errsz) == -1)
			goto out;
	}
	if (conf_finish(c, err, errsz) == -1)
		goto out;
	ok = 1;
 out:
	if (!ok) {
		mconf_free(c);
		return NULL;
	}
	return c;
}

void
mconf_free(struct milt_conf *c)
{
	const struct opt	*o;
	struct mconf_list	*l;
	size_t			 i;

	if (c == NULL)
		return;
	for (o = opts; o < opts + sizeof(opts) / sizeof(opts[0]); o++) {
		if (o->kind == O_STR)
			free(*(char **)(void *)((char *)c + o->off));
		else if (o->kind == O_LIST) {
			l = (struct mconf_list *)(void *)((char *)c + o->off);
			for (i = 0; i < l->n; i++)
				free(l->v[i]);
		}
	}
	free(c);
}

static const struct opt *
opt_find(const char *name, size_t len)
{
	const struct opt	*o;

	for (o = opts; o < opts + sizeof(opts) / sizeof(opts[0]); o++)
		if (strlen(o->name) == len && strncmp(o->name, name, len) == 0)
			return o;
	return NULL;
}

static int
opt_set(struct milt_conf *c, const struct opt *o, const char *val,
    int from_argv, char *err, size_t errsz)
{
	void			*p = (char *)c + o->off;
	struct mconf_list	*l;
	char			*dup;
	size_t			 sz, i;
	int64_t			 n;

	switch (o->kind) {
	case O_FLAG:
		if (strcmp(val, "yes") == 0 || strcmp(val, "1") == 0 ||
		    strcmp(val, "true") == 0)
			*(int *)p = 1;
		else if (strcmp(val, "no") == 0 || strcmp(val, "0") == 0 ||
		    strcmp(val, "false") == 0)
			*(int *)p = 0;
		else
			goto bad;
		return 0;
	case O_SIZE:
		if (parse_size(val, &sz) == -1 || sz == 0)
			goto bad;
		*(size_t *)p = sz;
		return 0;
	case O_UINT:
		if (util_strtoi64(val, 0, 1000000, &n) == -1)
			goto bad;
		*(unsigned *)p = (unsigned)n;
		return 0;
	case O_STR:
		if ((dup = strdup(val)) == NULL)
			goto nomem;
		free(*(char **)p);
		*(char **)p = dup;
		return 0;
	case O_LIST:
		l = p;
		if (from_argv && !l->from_argv) {	/* argv replaces */
			for (i = 0; i < l->n; i++)
				free(l->v[i]);
			l->n = 0;
			l->from_argv = 1;
		}
		if (l->n == MCONF_LIST_MAX) {
			snprintf(err, errsz, "--%s: at most %d values",
			    o->name, MCONF_LIST_MAX);
			return -1;
		}
		if ((dup = strdup(val)) == NULL)
			goto nomem;
		l->v[l->n++] = dup;
		return 0;
	}
 bad:
	snprintf(err, errsz, "--%s: bad value \"%s\"", o->name, val);
	return -1;
 nomem:
	snprintf(err, errsz, "out of memory");
	return -1;
}

static int
conf_file(struct milt_conf *c, const char *path, char *err, size_t errsz)
{
	const struct opt	*o;
	FILE			*f = NULL;
	char			 line[MCONF_LINE_MAX], *k, *v, *e;
	char			 sub[256];
	int			 rc = -1, lineno = 0;

	if ((c->config = strdup(path)) == NULL) {
		snprintf(err, errsz, "out of memory");
		goto out;
	}
	if ((f = fopen(path, "r")) == NULL) {
		snprintf(err, errsz, "cannot read config %s: %s", path,
		    strerror(errno));
		goto out;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		lineno++;
		if (strchr(line, '\n') == NULL && !feof(f)) {
			snprintf(err, errsz, "%s:%d: line too long", path,
			    lineno);
			goto out;
		}
		for (k = line; isspace((unsigned char)*k); k++)
			;
		if (*k == '#' || *k == '\0')
			continue;
		for (e = k + strlen(k); e > k &&
		    isspace((unsigned char)e[-1]); e--)
			;
		*e = '\0';
		for (v = k; *v != '\0' && !isspace((unsigned char)*v) &&
		    *v != '='; v++)
			;
		o = opt_find(k, (size_t)(v - k));
		while (isspace((unsigned char)*v) || *v == '=')
			*v++ = '\0';
		if (o == NULL || strcmp(o->name, "config") == 0) {
			snprintf(err, errsz, "%s:%d: unknown key \"%s\"", path,
			    lineno, k);
			goto out;
		}
		if (*v == '\0' && o->kind != O_FLAG) {
			snprintf(err, errsz, "%s:%d: %s needs a value", path,
			    lineno, o->name);
			goto out;
		}
		if (opt_set(c, o, *v ? v : "yes", 0, sub, sizeof(sub)) == -1) {
			snprintf(err, errsz, "%s:%d: %s", path, lineno, sub);
			goto out;
		}
	}
	if (ferror(f)) {
		snprintf(err, errsz, "cannot read config %s", path);
		goto out;
	}
	rc = 0;
 out:
	if (f != NULL)
		fclose(f);
	return rc;
}

static void
lower(char *s)
{
	for (; *s != '\0'; s++)
		*s = (char)tolower((unsigned char)*s);
}

static int
conf_finish(struct milt_conf *c, char *err, size_t errsz)
{
	char	*r, *d;
	size_t	 i, n;

	if (c->socket == NULL &&
	    (c->socket = strdup(MCONF_DEFAULT_SOCKET)) == NULL)
		goto nomem;
	if (strncmp(c->socket, "unix:", 5) != 0 &&
	    strncmp(c->socket, "local:", 6) != 0 &&
	    strncmp(c->socket, "inet:", 5) != 0 &&
	    strncmp(c->socket, "inet6:", 6) != 0) {
		snprintf(err, errsz, "--socket %s: not unix:PATH or "
		    "inet:PORT@ADDR", c->socket);
		return -1;
	}
	if (c->rcpt.n == 0) {
		snprintf(err, errsz, "--rcpt ADDR is required: the address "
		    "of the rua=mailto: URI (repeatable)");
		return -1;
	}
	for (i = 0; i < c->rcpt.n; i++) {
		r = c->rcpt.v[i];
		lower(r);
		n = strlen(r);
		if (n >= 2 && r[0] == '<' && r[n - 1] == '>') {
			memmove(r, r + 1, n - 2);
			r[n - 2] = '\0';
		}
		if (strncmp(r, "mailto:", 7) == 0)
			memmove(r, r + 7, strlen(r + 7) + 1);
		if (strchr(r, '@') == NULL) {
			snprintf(err, errsz, "--rcpt %s: not a mail address",
			    c->rcpt.v[i]);
			return -1;
		}
	}
	if (c->action == NULL && (c->action = strdup("accept")) == NULL)
		goto nomem;
	if (strcmp(c->action, "accept") == 0)
		c->discard = 0;
	else if (strcmp(c->action, "discard") == 0)
		c->discard = 1;
	else {
		snprintf(err, errsz, "--action %s: accept or discard",
		    c->action);
		return -1;
	}
	if (c->spool == NULL && (c->spool = strdup("./var/spool")) == NULL)
		goto nomem;
	for (i = 0; i < c->domain.n; i++) {
		d = c->domain.v[i];
		lower(d);
		n = strlen(d);
		if (n > 0 && d[n - 1] == '.')
			d[n - 1] = '\0';
	}
	if (c->authserv_id != NULL && c->authserv_id[0] == '\0') {
		snprintf(err, errsz, "--authserv-id must not be empty");
		return -1;
	}
	if (c->timeout == 0) {
		snprintf(err, errsz, "--timeout must be at least 1 second");
		return -1;
	}
	return 0;
 nomem:
	snprintf(err, errsz, "out of memory");
	return -1;
}

/* "1048576", "512k", "10M", "1g" (binary units). */
static int
parse_size(const char *s, size_t *v)
{
	char		 num[32];
	size_t		 l = strlen(s), mul = 1;
	int64_t		 n;

	if (l == 0 || l >= sizeof(num))
		return -1;
	memcpy(num, s, l + 1);
	switch (num[l - 1]) {
	case 'k': case 'K':
		mul = 1024;
		break;
	case 'm': case 'M':
		mul = 1024 * 1024;
		break;
	case 'g': case 'G':
		mul = 1024 * 1024 * 1024;
		break;
	}
	if (mul != 1)
		num[l - 1] = '\0';
	if (util_strtoi64(num, 0, INT64_MAX / (int64_t)mul, &n) == -1)
		return -1;
	*v = (size_t)n * mul;
	return 0;
}
