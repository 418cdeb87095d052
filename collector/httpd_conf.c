/*
 * httpd_conf.c -- options and config file of tlsrpt-httpd.
 *
 * Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
 */

#include <sys/socket.h>
#include <sys/stat.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "httpd_conf.h"
#include "tlsrpt_limits.h"
#include "util.h"

#define CONF_LINE_MAX		4096
#define CONF_PEM_MAX_BYTES	(1024 * 1024)
#define CONF_DEFAULT_PRIO \
	"SECURE256:+SECURE128:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2:" \
	"-RSA:%SERVER_PRECEDENCE"

enum opt_kind { O_STR, O_LIST, O_FLAG, O_SIZE, O_UINT };

struct opt {
	const char	*name;
	enum opt_kind	 kind;
	size_t		 off;
	const char	*arg;		/* for usage */
	const char	*help;
};

#define OFF(m)	offsetof(struct httpd_conf, m)

static const struct opt opts[] = {
	{ "config", O_STR, OFF(config), "FILE",
	    "read options from FILE (keys are the long option names)" },
	{ "listen", O_LIST, OFF(listen), "ADDR:PORT",
	    "listen there; repeatable; [V6]:PORT for IPv6 (127.0.0.1:8443)" },
	{ "tls-cert", O_STR, OFF(tls_cert), "FILE", "PEM certificate chain" },
	{ "tls-key", O_STR, OFF(tls_key), "FILE", "PEM private key" },
	{ "tls-priorities", O_STR, OFF(tls_priorities), "STRING",
	    "GnuTLS priority string (TLS 1.2 and 1.3 only by default)" },
	{ "plain", O_FLAG, OFF(plain), NULL,
	    "plain HTTP behind a reverse proxy" },
	{ "trusted-proxy", O_LIST, OFF(trusted_proxy), "ADDR",
	    "trust X-Forwarded-For from ADDR (with --plain); repeatable" },
	{ "path", O_STR, OFF(path), "PATH",
	    "report path (/v1/report; \"/\" is accepted too)" },
	{ "spool", O_STR, OFF(spool), "DIR", "spool directory (./var/spool)" },
	{ "db", O_STR, OFF(db), "CONNINFO",
	    "PostgreSQL (libpq string or URI; default TLSRPT_DB)" },
	{ "domain", O_LIST, OFF(domain), "DOMAIN",
	    "accept reports about DOMAIN only (and its subdomains); repeatable" },
	{ "body-max", O_SIZE, OFF(body_max), "BYTES",
	    "largest request body (10485760)" },
	{ "json-max", O_SIZE, OFF(json_max), "BYTES",
	    "largest decompressed report (20971520)" },
	{ "max-connections", O_UINT, OFF(conn_max), "N",
	    "connections at once (512)" },
	{ "max-connections-per-ip", O_UINT, OFF(conn_per_ip), "N",
	    "connections at once from one address (32; 0: no limit)" },
	{ "connection-memory", O_SIZE, OFF(conn_mem), "BYTES",
	    "memory for the headers of one connection (65536)" },
	{ "timeout", O_UINT, OFF(timeout), "SEC",
	    "close a connection idle that long (30)" },
	{ "request-timeout", O_UINT, OFF(request_timeout), "SEC",
	    "close a connection whose request takes longer (120)" },
	{ "rejects-keep", O_UINT, OFF(rejects_keep), "N",
	    "rejected bodies kept in SPOOL/rejects (1000)" },
	{ "user", O_STR, OFF(user), "USER", "drop root for USER after binding" },
	{ "syslog", O_FLAG, OFF(syslog), NULL, "log to syslog, not stderr" },
	{ "verbose", O_FLAG, OFF(verbose), NULL, "log debug lines too" },
};

static const struct opt	*opt_find(const char *, size_t);
static int	 opt_set(struct httpd_conf *, const struct opt *,
		    const char *, int, char *, size_t);
static int	 conf_file(struct httpd_conf *, const char *, char *, size_t);
static int	 conf_finish(struct httpd_conf *, char *, size_t);
static char	*read_file(const char *, size_t, char *, size_t);
static int	 parse_size(const char *, size_t *);

void
conf_usage(void)
{
	const struct opt	*o;
	char			 lhs[64];

	printf("usage: tlsrpt-httpd [--option value ...]\n"
	    "Receives SMTP TLS reports (RFC 8460) by HTTPS and spools them "
	    "for PostgreSQL.\n\n");
	for (o = opts; o < opts + sizeof(opts) / sizeof(opts[0]); o++) {
		snprintf(lhs, sizeof(lhs), "--%s%s%s", o->name,
		    o->arg ? " " : "", o->arg ? o->arg : "");
		printf("  %-34s %s\n", lhs, o->help);
	}
	printf("  %-34s %s\n  %-34s %s\n", "--help", "this text",
	    "--version", "print the version");
}

struct httpd_conf *
conf_load(int argc, char *const argv[], char *err, size_t errsz)
{
	struct httpd_conf	*c = NULL;
	const struct opt	*o;
	const char		*a, *eq, *val;
	int			 i, ok = 0;

	if ((c = calloc(1, sizeof(*c))) == NULL) {
		snprintf(err, errsz, "out of memory");
		return NULL;
	}
	c->body_max = LIM_HTTP_BODY_MAX_BYTES;
	c->json_max = LIM_JSON_MAX_BYTES;
	c->conn_max = LIM_HTTP_CONN_MAX;
	c->conn_per_ip = LIM_HTTP_CONN_PER_IP_MAX;
	c->conn_mem = LIM_HTTP_CONN_MEM_BYTES;
	c->timeout = LIM_HTTP_IDLE_TIMEOUT_SEC;
	c->request_timeout = LIM_HTTP_REQUEST_TIMEOUT_SEC;
	c->rejects_keep = LIM_HTTP_REJECTS_KEEP_FILES;

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
		conf_free(c);
		return NULL;
	}
	return c;
}

void
conf_free(struct httpd_conf *c)
{
	const struct opt	*o;
	struct conf_list	*l;
	size_t			 i;

	if (c == NULL)
		return;
	for (o = opts; o < opts + sizeof(opts) / sizeof(opts[0]); o++) {
		if (o->kind == O_STR)
			free(*(char **)(void *)((char *)c + o->off));
		else if (o->kind == O_LIST) {
			l = (struct conf_list *)(void *)((char *)c + o->off);
			for (i = 0; i < l->n; i++)
				free(l->v[i]);
		}
	}
	free(c->cert_pem);
	free(c->key_pem);
	free(c);
}

int
conf_load_tls(struct httpd_conf *c, char *err, size_t errsz)
{
	if (c->plain)
		return 0;
	if ((c->cert_pem = read_file(c->tls_cert, CONF_PEM_MAX_BYTES, err,
	    errsz)) == NULL)
		return -1;
	if ((c->key_pem = read_file(c->tls_key, CONF_PEM_MAX_BYTES, err,
	    errsz)) == NULL)
		return -1;
	return 0;
}

int
conf_is_trusted_proxy(const struct httpd_conf *c, const struct sockaddr *sa)
{
	const struct sockaddr_in	*a4, *b4;
	const struct sockaddr_in6	*a6, *b6;
	size_t				 i;

	for (i = 0; i < c->trusted_proxy.n; i++) {
		const struct sockaddr *p =
		    (const struct sockaddr *)&c->proxies[i].ss;

		if (p->sa_family != sa->sa_family)
			continue;
		if (sa->sa_family == AF_INET) {
			a4 = (const struct sockaddr_in *)(const void *)sa;
			b4 = (const struct sockaddr_in *)(const void *)p;
			if (a4->sin_addr.s_addr == b4->sin_addr.s_addr)
				return 1;
		} else if (sa->sa_family == AF_INET6) {
			a6 = (const struct sockaddr_in6 *)(const void *)sa;
			b6 = (const struct sockaddr_in6 *)(const void *)p;
			if (memcmp(&a6->sin6_addr, &b6->sin6_addr,
			    sizeof(a6->sin6_addr)) == 0)
				return 1;
		}
	}
	return 0;
}

int
conf_split_hostport(const char *s, char *host, size_t hostsz, char *port,
    size_t portsz)
{
	const char	*colon, *h;
	size_t		 hl;

	if (s[0] == '[') {
		if ((colon = strstr(s, "]:")) == NULL)
			return -1;
		h = s + 1;
		hl = (size_t)(colon - h);
		colon++;
	} else {
		if ((colon = strrchr(s, ':')) == NULL)
			return -1;
		h = s;
		hl = (size_t)(colon - s);
	}
	if (hl == 0 || hl >= hostsz || strlen(colon + 1) == 0 ||
	    strlen(colon + 1) >= portsz)
		return -1;
	memcpy(host, h, hl);
	host[hl] = '\0';
	snprintf(port, portsz, "%s", colon + 1);
	return 0;
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
opt_set(struct httpd_conf *c, const struct opt *o, const char *val,
    int from_argv, char *err, size_t errsz)
{
	void			*p = (char *)c + o->off;
	struct conf_list	*l;
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
		if (l->n == CONF_LIST_MAX) {
			snprintf(err, errsz, "--%s: at most %d values",
			    o->name, CONF_LIST_MAX);
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
conf_file(struct httpd_conf *c, const char *path, char *err, size_t errsz)
{
	const struct opt	*o;
	FILE			*f = NULL;
	char			 line[CONF_LINE_MAX], *k, *v, *e;
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

static int
conf_finish(struct httpd_conf *c, char *err, size_t errsz)
{
	struct sockaddr_in	*s4;
	struct sockaddr_in6	*s6;
	char			*d, host[256], port[16];
	size_t			 i;

	if (c->listen.n == 0 && (c->listen.v[c->listen.n++] =
	    strdup("127.0.0.1:8443")) == NULL)
		goto nomem;
	for (i = 0; i < c->listen.n; i++)
		if (conf_split_hostport(c->listen.v[i], host, sizeof(host),
		    port, sizeof(port)) == -1) {
			snprintf(err, errsz, "--listen %s: not ADDR:PORT or "
			    "[V6]:PORT", c->listen.v[i]);
			return -1;
		}
	if (c->path == NULL && (c->path = strdup("/v1/report")) == NULL)
		goto nomem;
	if (c->path[0] != '/') {
		snprintf(err, errsz, "--path %s: must start with /", c->path);
		return -1;
	}
	if (c->spool == NULL && (c->spool = strdup("./var/spool")) == NULL)
		goto nomem;
	if (c->tls_priorities == NULL &&
	    (c->tls_priorities = strdup(CONF_DEFAULT_PRIO)) == NULL)
		goto nomem;
	if (!c->plain && (c->tls_cert == NULL || c->tls_key == NULL)) {
		snprintf(err, errsz, "TLS needs --tls-cert and --tls-key "
		    "(or --plain behind a reverse proxy)");
		return -1;
	}
	if (c->trusted_proxy.n > 0 && !c->plain) {
		snprintf(err, errsz, "--trusted-proxy needs --plain");
		return -1;
	}
	for (i = 0; i < c->trusted_proxy.n; i++) {
		memset(&c->proxies[i], 0, sizeof(c->proxies[i]));
		s4 = (struct sockaddr_in *)(void *)&c->proxies[i].ss;
		s6 = (struct sockaddr_in6 *)(void *)&c->proxies[i].ss;
		if (inet_pton(AF_INET, c->trusted_proxy.v[i],
		    &s4->sin_addr) == 1) {
			s4->sin_family = AF_INET;
			c->proxies[i].len = sizeof(*s4);
		} else if (inet_pton(AF_INET6, c->trusted_proxy.v[i],
		    &s6->sin6_addr) == 1) {
			s6->sin6_family = AF_INET6;
			c->proxies[i].len = sizeof(*s6);
		} else {
			snprintf(err, errsz, "--trusted-proxy %s: not an IP "
			    "address", c->trusted_proxy.v[i]);
			return -1;
		}
	}
	for (i = 0; i < c->domain.n; i++) {
		for (d = c->domain.v[i]; *d != '\0'; d++)
			*d = (char)tolower((unsigned char)*d);
		if (d > c->domain.v[i] && d[-1] == '.')
			d[-1] = '\0';
	}
	if (c->timeout == 0 || c->request_timeout == 0) {
		snprintf(err, errsz, "--timeout and --request-timeout must "
		    "be at least 1 second");
		return -1;
	}
	if (c->conn_max == 0) {
		snprintf(err, errsz, "--max-connections must be at least 1");
		return -1;
	}
	return 0;
 nomem:
	snprintf(err, errsz, "out of memory");
	return -1;
}

static char *
read_file(const char *path, size_t max, char *err, size_t errsz)
{
	struct stat	 st;
	char		*buf = NULL;
	ssize_t		 r;
	size_t		 len = 0;
	int		 fd = -1, ok = 0;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1 ||
	    fstat(fd, &st) == -1) {
		snprintf(err, errsz, "cannot read %s: %s", path,
		    strerror(errno));
		goto out;
	}
	if (st.st_size < 0 || (size_t)st.st_size > max) {
		snprintf(err, errsz, "%s: larger than %zu bytes", path, max);
		goto out;
	}
	if ((buf = malloc((size_t)st.st_size + 1)) == NULL) {
		snprintf(err, errsz, "out of memory");
		goto out;
	}
	while (len < (size_t)st.st_size) {
		r = read(fd, buf + len, (size_t)st.st_size - len);
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0) {
			snprintf(err, errsz, "cannot read %s: %s", path,
			    r == 0 ? "short read" : strerror(errno));
			goto out;
		}
		len += (size_t)r;
	}
	buf[len] = '\0';
	ok = 1;
 out:
	if (fd != -1)
		close(fd);
	if (!ok) {
		free(buf);
		return NULL;
	}
	return buf;
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
