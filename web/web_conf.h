/*
 * web_conf.h -- the configuration of tlsrpt-web: defaults, a config file
 * (--config, the long option names as keys), then the command line
 * (collector/core_conf.h).
 *
 * Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
 */

#ifndef TLSRPT_WEB_CONF_H
#define TLSRPT_WEB_CONF_H

#include <sys/socket.h>

#include "core_conf.h"

struct web_conf {
	char			*config;
	char			*listen;	/* ADDR:PORT */
	char			*db;
	char			*tls_cert, *tls_key, *tls_priorities;
	char			*users;		/* FILE, or NULL */
	struct conf_list	 trusted_proxy;
	char			*user;
	unsigned		 conn_max;
	unsigned		 timeout;
	unsigned		 cache_hold;	/* --cache-hold SEC */
	int			 syslog, verbose;
	int			 help;		/* 1 --help, 2 --version */
	/* derived */
	int			 plain;		/* no --tls-cert */
	int			 loopback;	/* --listen is 127/8 or ::1 */
	char			*cert_pem, *key_pem;	/* owned */
};

/* NULL with a one-line reason in err; release with web_conf_free(). */
struct web_conf	*web_conf_load(int argc, char *const argv[], char *err,
		    size_t errsz);
void		 web_conf_free(struct web_conf *);
void		 web_conf_usage(void);

/* 1 when sa is a loopback address, or a --trusted-proxy one. */
int	web_is_loopback(const struct sockaddr *sa);
int	web_is_proxy(const struct web_conf *, const struct sockaddr *sa);

#endif
