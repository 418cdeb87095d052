/*
 * http_conf.h -- the configuration of tlsrpt-httpd: defaults from
 * common/tlsrpt_limits.h, then a config file (--config), then the command
 * line (collector/core_conf.h).  The file takes the long option names as
 * keys, one per line:
 *
 *	# comment
 *	listen 127.0.0.1:8443
 *	listen [::1]:8443
 *	domain example.com
 *	plain			(a flag alone means yes)
 *
 * A struct httpd_conf is immutable once loaded: SIGHUP loads a new one
 * and swaps it by reference.
 *
 * Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
 */

#ifndef TLSRPT_HTTPD_CONF_H
#define TLSRPT_HTTPD_CONF_H

#include <sys/socket.h>

#include <stddef.h>

#include "core_conf.h"			/* struct conf_list, CONF_LIST_MAX */

struct conf_addr {
	struct sockaddr_storage	 ss;
	socklen_t		 len;
};

struct httpd_conf {
	char			*config;	/* --config file */
	struct conf_list	 listen;
	char			*tls_cert;	/* paths */
	char			*tls_key;
	char			*tls_priorities;
	int			 plain;
	struct conf_list	 trusted_proxy;
	struct conf_addr	 proxies[CONF_LIST_MAX];
	char			*path;
	char			*spool;
	char			*db;
	struct conf_list	 domain;	/* lower case */
	size_t			 body_max;
	size_t			 json_max;
	unsigned		 conn_max;
	unsigned		 conn_per_ip;
	size_t			 conn_mem;
	unsigned		 timeout;	/* idle, seconds */
	unsigned		 request_timeout;
	unsigned		 rejects_keep;
	size_t			 body_budget;	/* bodies held, all requests */
	size_t			 parse_budget;	/* report text in parses */
	unsigned		 header_timeout; /* handshake + headers, s */
	char			*admin_listen;	/* ADDR:PORT, or NULL */
	char			*user;
	int			 syslog;
	int			 verbose;
	int			 foreground_help;	/* --help or --version */
	int			 requeue_bad;	/* --requeue-bad, then exit */
	/* loaded by conf_load_tls(): PEM text, owned */
	char			*cert_pem;
	char			*key_pem;
};

/*
 * Build a configuration from defaults, the file named by --config (if
 * any) and argv (argv[0] skipped).  Returns a new conf owned by the caller
 * (release with conf_free()), or NULL with a one-line reason in err.
 */
struct httpd_conf	*conf_load(int argc, char *const argv[], char *err,
			    size_t errsz);
void			 conf_free(struct httpd_conf *);

/* Read the certificate and key PEM files (unless plain); 0 or -1 + err. */
int	conf_load_tls(struct httpd_conf *, char *err, size_t errsz);

/* 1 when addr is a --trusted-proxy address. */
int	conf_is_trusted_proxy(const struct httpd_conf *,
	    const struct sockaddr *addr);

void	conf_usage(void);

#endif
