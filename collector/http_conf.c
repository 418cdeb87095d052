/*
 * http_conf.c -- options and config file of tlsrpt-httpd.
 *
 * Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
 */

#include <sys/socket.h>
#include <sys/stat.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core_conf.h"
#include "http_conf.h"
#include "tlsrpt_limits.h"

#define CONF_PEM_MAX_BYTES	(1024 * 1024)
/*
 * TLS 1.3 as SECURE256:+SECURE128 has it (AES-GCM, ChaCha20-Poly1305,
 * AES-128-CCM); TLS 1.2 with ECDHE and AEAD ciphers only: no CBC, no
 * SHA-1 MAC, no DHE, no static RSA key exchange.
 */
#define CONF_DEFAULT_PRIO \
	"SECURE256:+SECURE128:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2:" \
	"-RSA:-DHE-RSA:-DHE-DSS:-CIPHER-ALL:+AES-256-GCM:" \
	"+CHACHA20-POLY1305:+AES-128-GCM:+AES-256-CCM:+AES-128-CCM:" \
	"-MAC-ALL:+AEAD:%SERVER_PRECEDENCE"

#define OFF(m)	offsetof(struct httpd_conf, m)

static const struct conf_opt opts[] = {
	{ "config", CONF_STR, OFF(config), "FILE",
	    "read options from FILE (keys are the long option names)" },
	{ "listen", CONF_LIST, OFF(listen), "ADDR:PORT",
	    "listen there; repeatable; [V6]:PORT for IPv6 (127.0.0.1:8443)" },
	{ "tls-cert", CONF_STR, OFF(tls_cert), "FILE",
	    "PEM certificate chain" },
	{ "tls-key", CONF_STR, OFF(tls_key), "FILE", "PEM private key" },
	{ "tls-priorities", CONF_STR, OFF(tls_priorities), "STRING",
	    "GnuTLS priority string (TLS 1.3, and TLS 1.2 with ECDHE and "
	    "AEAD suites only, by default)" },
	{ "plain", CONF_FLAG, OFF(plain), NULL,
	    "plain HTTP behind a reverse proxy" },
	{ "trusted-proxy", CONF_LIST, OFF(trusted_proxy), "ADDR",
	    "trust X-Forwarded-For from ADDR (with --plain); repeatable" },
	{ "path", CONF_STR, OFF(path), "PATH",
	    "report path (/v1/report; \"/\" is accepted too)" },
	{ "spool", CONF_STR, OFF(spool), "DIR",
	    "spool directory (./var/spool)" },
	{ "db", CONF_STR, OFF(db), "CONNINFO",
	    "PostgreSQL (libpq string or URI; default TLSRPT_DB)" },
	{ "domain", CONF_LIST, OFF(domain), "DOMAIN",
	    "accept reports about DOMAIN only (and its subdomains); repeatable" },
	{ "body-max", CONF_SIZE, OFF(body_max), "BYTES",
	    "largest request body (10485760)" },
	{ "json-max", CONF_SIZE, OFF(json_max), "BYTES",
	    "largest decompressed report (20971520)" },
	{ "max-connections", CONF_UINT, OFF(conn_max), "N",
	    "connections at once (512)" },
	{ "max-connections-per-ip", CONF_UINT, OFF(conn_per_ip), "N",
	    "connections at once from one address (32; 0: no limit)" },
	{ "connection-memory", CONF_SIZE, OFF(conn_mem), "BYTES",
	    "memory for the headers of one connection (65536)" },
	{ "timeout", CONF_UINT, OFF(timeout), "SEC",
	    "close a connection idle that long (30)" },
	{ "request-timeout", CONF_UINT, OFF(request_timeout), "SEC",
	    "close a connection whose request takes longer (120)" },
	{ "body-budget", CONF_SIZE, OFF(body_budget), "BYTES",
	    "request bodies held at once, all connections (8 x body-max); "
	    "503 over it" },
	{ "parse-budget", CONF_SIZE, OFF(parse_budget), "BYTES",
	    "report text being parsed at once, reckoned from each body's "
	    "bound (1 x json-max)" },
	{ "header-timeout", CONF_UINT, OFF(header_timeout), "SEC",
	    "close a connection whose TLS handshake and request headers "
	    "take longer (10)" },
	{ "admin-listen", CONF_STR, OFF(admin_listen), "[ADDR:]PORT",
	    "serve /healthz and /metrics there only, plain HTTP (address "
	    "127.0.0.1 unless given)" },
	{ "rejects-keep", CONF_UINT, OFF(rejects_keep), "N",
	    "files kept in SPOOL/bad, the oldest dropped (1000; 0: refused "
	    "bodies are not kept)" },
	{ "user", CONF_STR, OFF(user), "USER",
	    "drop root for USER after binding" },
	{ "syslog", CONF_FLAG, OFF(syslog), NULL, "log to syslog, not stderr" },
	{ "verbose", CONF_FLAG, OFF(verbose), NULL, "log debug lines too" },
	{ "requeue-bad", CONF_FLAG, OFF(requeue_bad), NULL,
	    "move SPOOL/bad back to SPOOL/new for another try, then exit "
	    "(safe while a daemon runs)" },
};

static int	 conf_finish(struct httpd_conf *, char *, size_t);
static int	 admin_addr(struct httpd_conf *, char *, size_t);
static char	*read_file(const char *, size_t, char *, size_t);

void
conf_usage(void)
{
	printf("usage: tlsrpt-httpd [--option value ...]\n"
	    "Receives SMTP TLS reports (RFC 8460) by HTTPS and spools them "
	    "for PostgreSQL.\n\n");
	conf_print_opts(opts, CONF_NOPTS(opts), 34);
}

struct httpd_conf *
conf_load(int argc, char *const argv[], char *err, size_t errsz)
{
	struct httpd_conf	*c = NULL;

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
	c->header_timeout = LIM_HTTP_HEADER_TIMEOUT_SEC;

	/* --help and --version: no checks, main() prints and exits */
	if (conf_parse(opts, CONF_NOPTS(opts), c, argc, argv,
	    &c->foreground_help, err, errsz) == -1 ||
	    (c->foreground_help == 0 && conf_finish(c, err, errsz) == -1)) {
		conf_free(c);
		return NULL;
	}
	return c;
}

void
conf_free(struct httpd_conf *c)
{
	if (c == NULL)
		return;
	conf_release(opts, CONF_NOPTS(opts), c);
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

static int
conf_finish(struct httpd_conf *c, char *err, size_t errsz)
{
	struct sockaddr_in	*s4;
	struct sockaddr_in6	*s6;
	char			 host[256], port[16];
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
	if (!c->plain && !c->requeue_bad && (c->tls_cert == NULL ||
	    c->tls_key == NULL)) {
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
	conf_list_domains(&c->domain);
	if (c->timeout == 0 || c->request_timeout == 0) {
		snprintf(err, errsz, "--timeout and --request-timeout must "
		    "be at least 1 second");
		return -1;
	}
	if (c->conn_max == 0) {
		snprintf(err, errsz, "--max-connections must be at least 1");
		return -1;
	}
	if (c->header_timeout == 0) {
		snprintf(err, errsz, "--header-timeout must be at least 1 "
		    "second");
		return -1;
	}
	/* the budgets default to a multiple of the limit they hold */
	if (c->body_budget == 0)
		c->body_budget = c->body_max > SIZE_MAX /
		    LIM_HTTP_BODY_BUDGET_BODIES ? SIZE_MAX :
		    c->body_max * LIM_HTTP_BODY_BUDGET_BODIES;
	if (c->body_budget < c->body_max) {
		snprintf(err, errsz, "--body-budget %zu: less than --body-max "
		    "%zu", c->body_budget, c->body_max);
		return -1;
	}
	if (c->parse_budget == 0)
		c->parse_budget = c->json_max > SIZE_MAX /
		    LIM_HTTP_PARSE_BUDGET_INPUTS ? SIZE_MAX :
		    c->json_max * LIM_HTTP_PARSE_BUDGET_INPUTS;
	if (c->admin_listen != NULL && admin_addr(c, err, errsz) == -1)
		return -1;
	return 0;
 nomem:
	snprintf(err, errsz, "out of memory");
	return -1;
}

/*
 * --admin-listen PORT means 127.0.0.1:PORT; ADDR:PORT and [V6]:PORT as
 * --listen.  It must not be one of the --listen addresses.
 */
static int
admin_addr(struct httpd_conf *c, char *err, size_t errsz)
{
	char	host[256], port[16], *full;
	size_t	i, n;

	if (strspn(c->admin_listen, "0123456789") ==
	    strlen(c->admin_listen)) {
		n = strlen(c->admin_listen) + sizeof("127.0.0.1:");
		if ((full = malloc(n)) == NULL) {
			snprintf(err, errsz, "out of memory");
			return -1;
		}
		snprintf(full, n, "127.0.0.1:%s", c->admin_listen);
		free(c->admin_listen);
		c->admin_listen = full;
	}
	if (conf_split_hostport(c->admin_listen, host, sizeof(host), port,
	    sizeof(port)) == -1) {
		snprintf(err, errsz, "--admin-listen %s: not PORT, ADDR:PORT "
		    "or [V6]:PORT", c->admin_listen);
		return -1;
	}
	for (i = 0; i < c->listen.n; i++)
		if (strcmp(c->listen.v[i], c->admin_listen) == 0) {
			snprintf(err, errsz, "--admin-listen %s: also a "
			    "--listen address", c->admin_listen);
			return -1;
		}
	return 0;
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
