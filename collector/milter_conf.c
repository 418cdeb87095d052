/*
 * milter_conf.c -- options and config file of tlsrpt-milter: its table
 * of long options, also the keys of the config file (the engine, shared
 * with tlsrpt-httpd, is collector/core_conf.c), its defaults and checks.
 *
 * Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
 */

#include <ctype.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core_conf.h"
#include "dkim_verify.h"
#include "milter_conf.h"
#include "tlsrpt_limits.h"

#define MCONF_DEFAULT_SOCKET	"inet:8895@127.0.0.1"
#define MCONF_DEFAULT_TIMEOUT	600	/* seconds of MTA silence */

#define OFF(m)	offsetof(struct milt_conf, m)

static const struct conf_opt opts[] = {
	{ "config", CONF_STR, OFF(config), "FILE",
	    "read options from FILE (keys are the long option names)" },
	{ "socket", CONF_STR, OFF(socket), "SPEC",
	    "unix:PATH or inet:PORT@ADDR (" MCONF_DEFAULT_SOCKET ")" },
	{ "rcpt", CONF_LIST, OFF(rcpt), "ADDR",
	    "the rua address reports are mailed to; repeatable; required" },
	{ "action", CONF_STR, OFF(action), "accept|discard",
	    "what becomes of a spooled report mail (accept: delivered, "
	    "with an X-TLSRPT-Collector header)" },
	{ "spool", CONF_STR, OFF(spool), "DIR",
	    "spool directory (./var/spool)" },
	{ "db", CONF_STR, OFF(db), "CONNINFO",
	    "PostgreSQL (libpq string or URI; default TLSRPT_DB)" },
	{ "domain", CONF_LIST, OFF(domain), "DOMAIN",
	    "accept reports about DOMAIN only (and its subdomains); repeatable" },
	{ "max-size", CONF_SIZE, OFF(max_size), "BYTES",
	    "larger messages are not looked at (26214400)" },
	{ "authserv-id", CONF_STR, OFF(authserv_id), "ID",
	    "record (never trust) the Authentication-Results of this "
	    "authserv-id (default: the MTA's host name, macro {j})" },
	{ "require-dkim", CONF_FLAG, OFF(require_dkim), NULL,
	    "reject reports without a passing DKIM signature of the "
	    "submitter (kept in SPOOL/bad)" },
	{ "dkim-keys", CONF_STR, OFF(dkim_keys), "FILE",
	    "DKIM keys from FILE, not DNS (tests, offline use; lines "
	    "\"SEL._domainkey.DOMAIN v=DKIM1;k=rsa;p=...\")" },
	{ "timeout", CONF_UINT, OFF(timeout), "SEC",
	    "give up on an MTA silent that long (600)" },
	{ "rejects-keep", CONF_UINT, OFF(rejects_keep), "N",
	    "files kept in SPOOL/bad, the oldest dropped (1000; 0: no cap)" },
	{ "max-inflight", CONF_UINT, OFF(max_inflight), "N",
	    "messages for --rcpt received or parsed at once; more get 451 (16)" },
	{ "user", CONF_STR, OFF(user), "USER",
	    "drop root for USER after opening the socket" },
	{ "syslog", CONF_FLAG, OFF(syslog), NULL, "log to syslog, not stderr" },
	{ "verbose", CONF_FLAG, OFF(verbose), NULL, "log debug lines too" },
	{ "requeue-bad", CONF_FLAG, OFF(requeue_bad), NULL,
	    "move SPOOL/bad back to SPOOL/new for another try, then exit "
	    "(safe while a daemon runs)" },
};

static int	 conf_finish(struct milt_conf *, char *, size_t);
static void	 lower(char *);

void
mconf_usage(void)
{
	printf("usage: tlsrpt-milter --rcpt ADDR [--option value ...]\n"
	    "Collects SMTP TLS reports (RFC 8460) mailed to the rua address "
	    "at SMTP time\nand spools them for PostgreSQL.\n\n");
	conf_print_opts(opts, CONF_NOPTS(opts), 30);
}

struct milt_conf *
mconf_load(int argc, char *const argv[], char *err, size_t errsz)
{
	struct milt_conf	*c = NULL;

	if ((c = calloc(1, sizeof(*c))) == NULL) {
		snprintf(err, errsz, "out of memory");
		return NULL;
	}
	c->max_size = LIM_MAIL_MAX_BYTES;
	c->timeout = MCONF_DEFAULT_TIMEOUT;
	c->rejects_keep = LIM_SPOOL_BAD_FILES;
	c->max_inflight = LIM_MILTER_INFLIGHT_MAX;

	/* --help and --version: no checks, main() prints and exits */
	if (conf_parse(opts, CONF_NOPTS(opts), c, argc, argv,
	    &c->foreground_help, err, errsz) == -1 ||
	    (c->foreground_help == 0 && conf_finish(c, err, errsz) == -1)) {
		mconf_free(c);
		return NULL;
	}
	return c;
}

void
mconf_free(struct milt_conf *c)
{
	if (c == NULL)
		return;
	dkv_free(c->dkv);
	conf_release(opts, CONF_NOPTS(opts), c);
	free(c);
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
	char	*r;
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
	if (c->rcpt.n == 0 && !c->requeue_bad) {
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
	conf_list_domains(&c->domain);
	if (c->authserv_id != NULL && c->authserv_id[0] == '\0') {
		snprintf(err, errsz, "--authserv-id must not be empty");
		return -1;
	}
	if (c->timeout == 0) {
		snprintf(err, errsz, "--timeout must be at least 1 second");
		return -1;
	}
	/* DKIM is verified here, never taken from a header */
	if ((c->dkv = dkv_new(c->dkim_keys, err, errsz)) == NULL)
		return -1;
	return 0;
 nomem:
	snprintf(err, errsz, "out of memory");
	return -1;
}
