/*
 * web_conf.c -- options and config file of tlsrpt-web.
 *
 * Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
 */

#include <sys/socket.h>
#include <sys/stat.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core_conf.h"
#include "tlsrpt_limits.h"
#include "web_conf.h"

#define WEB_DEFAULT_PRIO \
	"SECURE256:+SECURE128:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2:" \
	"-RSA:-DHE-RSA:-DHE-DSS:-CIPHER-ALL:+AES-256-GCM:" \
	"+CHACHA20-POLY1305:+AES-128-GCM:-MAC-ALL:+AEAD:%SERVER_PRECEDENCE"

#define OFF(m)	offsetof(struct web_conf, m)

static const struct conf_opt opts[] = {
	{ "config", CONF_STR, OFF(config), "FILE",
	    "read options from FILE (keys are the long option names)" },
	{ "listen", CONF_STR, OFF(listen), "ADDR:PORT",
	    "listen there; [V6]:PORT for IPv6 (127.0.0.1:8080)" },
	{ "db", CONF_STR, OFF(db), "CONNINFO",
	    "PostgreSQL (libpq string or URI; default TLSRPT_DB), read only" },
	{ "tls-cert", CONF_STR, OFF(tls_cert), "FILE",
	    "PEM certificate chain: serve HTTPS (plain HTTP without it)" },
	{ "tls-key", CONF_STR, OFF(tls_key), "FILE", "PEM private key" },
	{ "tls-priorities", CONF_STR, OFF(tls_priorities), "STRING",
	    "GnuTLS priority string (TLS 1.3 and 1.2 AEAD by default)" },
	{ "users", CONF_STR, OFF(users), "FILE",
	    "log-ins: NAME:CRYPT-HASH:DOMAIN,*.SUFFIX,... a line "
	    "(without it: loopback only, every domain)" },
	{ "trusted-proxy", CONF_LIST, OFF(trusted_proxy), "ADDR",
	    "a TLS-terminating proxy at ADDR may send Basic log-ins over "
	    "plain HTTP; repeatable" },
	{ "max-connections", CONF_UINT, OFF(conn_max), "N",
	    "connections at once (64)" },
	{ "timeout", CONF_UINT, OFF(timeout), "SEC",
	    "close a connection idle that long (30)" },
	{ "cache-hold", CONF_UINT, OFF(cache_hold), "SEC",
	    "answer from a kept overview that long after new data landed "
	    "(60; 0: never; at most 300)" },
	{ "user", CONF_STR, OFF(user), "USER",
	    "drop root for USER after binding" },
	{ "syslog", CONF_FLAG, OFF(syslog), NULL, "log to syslog, not stderr" },
	{ "verbose", CONF_FLAG, OFF(verbose), NULL, "log every request" },
};

void
web_conf_usage(void)
{
	printf("usage: tlsrpt-web [--option value ...]\n"
	    "Shows the stored SMTP TLS reports (RFC 8460) in a browser, "
	    "read only.\n\n");
	conf_print_opts(opts, CONF_NOPTS(opts), 30);
}

static char *
slurp(const char *path, char *err, size_t errsz)
{
	struct stat	 st;
	char		*buf = NULL;
	size_t		 len = 0;
	ssize_t		 r;
	int		 fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1 ||
	    fstat(fd, &st) == -1) {
		snprintf(err, errsz, "cannot read %s: %s", path,
		    strerror(errno));
		goto fail;
	}
	if (st.st_size < 0 || st.st_size > LIM_WEB_PEM_MAX_BYTES) {
		snprintf(err, errsz, "%s: larger than %d bytes", path,
		    LIM_WEB_PEM_MAX_BYTES);
		goto fail;
	}
	if ((buf = malloc((size_t)st.st_size + 1)) == NULL) {
		snprintf(err, errsz, "out of memory");
		goto fail;
	}
	while (len < (size_t)st.st_size) {
		if ((r = read(fd, buf + len, (size_t)st.st_size - len)) == -1 &&
		    errno == EINTR)
			continue;
		if (r <= 0) {
			snprintf(err, errsz, "cannot read %s", path);
			goto fail;
		}
		len += (size_t)r;
	}
	buf[len] = '\0';
	close(fd);
	return buf;
 fail:
	if (fd != -1)
		close(fd);
	free(buf);
	return NULL;
}

int
web_is_loopback(const struct sockaddr *sa)
{
	const struct sockaddr_in	*s4;
	const struct sockaddr_in6	*s6;

	if (sa->sa_family == AF_INET) {
		s4 = (const struct sockaddr_in *)(const void *)sa;
		return (ntohl(s4->sin_addr.s_addr) >> 24) == 127;
	}
	if (sa->sa_family == AF_INET6) {
		s6 = (const struct sockaddr_in6 *)(const void *)sa;
		return IN6_IS_ADDR_LOOPBACK(&s6->sin6_addr);
	}
	return 0;
}

int
web_is_proxy(const struct web_conf *c, const struct sockaddr *sa)
{
	struct in_addr	 a4;
	struct in6_addr	 a6;
	size_t		 i;

	for (i = 0; i < c->trusted_proxy.n; i++) {
		if (sa->sa_family == AF_INET && inet_pton(AF_INET,
		    c->trusted_proxy.v[i], &a4) == 1 &&
		    ((const struct sockaddr_in *)(const void *)sa)->
		    sin_addr.s_addr == a4.s_addr)
			return 1;
		if (sa->sa_family == AF_INET6 && inet_pton(AF_INET6,
		    c->trusted_proxy.v[i], &a6) == 1 &&
		    memcmp(&((const struct sockaddr_in6 *)(const void *)sa)->
		    sin6_addr, &a6, sizeof(a6)) == 0)
			return 1;
	}
	return 0;
}

static int
finish(struct web_conf *c, char *err, size_t errsz)
{
	struct in_addr	 a4;
	struct in6_addr	 a6;
	char		 host[256], port[16];
	size_t		 i;

	if (c->listen == NULL && (c->listen = strdup("127.0.0.1:8080")) ==
	    NULL)
		goto nomem;
	if (conf_split_hostport(c->listen, host, sizeof(host), port,
	    sizeof(port)) == -1) {
		snprintf(err, errsz, "--listen %s: not ADDR:PORT or [V6]:PORT",
		    c->listen);
		return -1;
	}
	c->loopback = (inet_pton(AF_INET, host, &a4) == 1 &&
	    (ntohl(a4.s_addr) >> 24) == 127) || (inet_pton(AF_INET6, host,
	    &a6) == 1 && IN6_IS_ADDR_LOOPBACK(&a6)) ||
	    strcmp(host, "localhost") == 0;
	for (i = 0; i < c->trusted_proxy.n; i++)
		if (inet_pton(AF_INET, c->trusted_proxy.v[i], &a4) != 1 &&
		    inet_pton(AF_INET6, c->trusted_proxy.v[i], &a6) != 1) {
			snprintf(err, errsz, "--trusted-proxy %s: not an IP "
			    "address", c->trusted_proxy.v[i]);
			return -1;
		}
	if ((c->tls_cert == NULL) != (c->tls_key == NULL)) {
		snprintf(err, errsz, "--tls-cert and --tls-key go together");
		return -1;
	}
	c->plain = c->tls_cert == NULL;
	if (c->users == NULL && !c->loopback) {
		snprintf(err, errsz, "--listen %s: without --users the "
		    "dashboard listens on loopback only", c->listen);
		return -1;
	}
	if (c->users != NULL && c->plain && !c->loopback &&
	    c->trusted_proxy.n == 0) {
		snprintf(err, errsz, "--listen %s: passwords over plain HTTP "
		    "need --tls-cert/--tls-key, or --trusted-proxy for the "
		    "proxy that terminates TLS", c->listen);
		return -1;
	}
	if (c->tls_priorities == NULL &&
	    (c->tls_priorities = strdup(WEB_DEFAULT_PRIO)) == NULL)
		goto nomem;
	if (c->conn_max == 0 || c->timeout == 0) {
		snprintf(err, errsz, "--max-connections and --timeout must be "
		    "at least 1");
		return -1;
	}
	if (c->cache_hold > LIM_WEB_CACHE_MAX_AGE_SEC) {
		snprintf(err, errsz, "--cache-hold %u: at most %d", c->cache_hold,
		    LIM_WEB_CACHE_MAX_AGE_SEC);
		return -1;
	}
	if (!c->plain && ((c->cert_pem = slurp(c->tls_cert, err, errsz)) ==
	    NULL || (c->key_pem = slurp(c->tls_key, err, errsz)) == NULL))
		return -1;
	return 0;
 nomem:
	snprintf(err, errsz, "out of memory");
	return -1;
}

struct web_conf *
web_conf_load(int argc, char *const argv[], char *err, size_t errsz)
{
	struct web_conf	*c;

	if ((c = calloc(1, sizeof(*c))) == NULL) {
		snprintf(err, errsz, "out of memory");
		return NULL;
	}
	c->conn_max = LIM_WEB_CONN_MAX;
	c->timeout = LIM_WEB_IDLE_TIMEOUT_SEC;
	c->cache_hold = LIM_WEB_CACHE_HOLD_SEC;
	if (conf_parse(opts, CONF_NOPTS(opts), c, argc, argv, &c->help, err,
	    errsz) == -1 || (c->help == 0 && finish(c, err, errsz) == -1)) {
		web_conf_free(c);
		return NULL;
	}
	return c;
}

void
web_conf_free(struct web_conf *c)
{
	if (c == NULL)
		return;
	conf_release(opts, CONF_NOPTS(opts), c);
	free(c->cert_pem);
	free(c->key_pem);
	free(c);
}
