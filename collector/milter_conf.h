/*
 * milter_conf.h -- the configuration of tlsrpt-milter: defaults from
 * common/tlsrpt_limits.h, then a config file (--config), then the command
 * line (collector/core_conf.h).  The file takes the long option names as
 * keys, one per line:
 *
 *	# comment
 *	socket unix:/var/spool/postfix/tlsrpt/milter.sock
 *	rcpt tlsrpt@example.com
 *	rcpt tls-reports@example.com
 *	require-dkim		(a flag alone means yes)
 *
 * A struct milt_conf is immutable once loaded: SIGHUP loads a new one
 * and swaps it by reference (milter_msg.h, milt_front_swap()).
 *
 * Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
 */

#ifndef TLSRPT_MILTER_CONF_H
#define TLSRPT_MILTER_CONF_H

#include <stddef.h>

#include "core_conf.h"			/* struct conf_list */

struct dkv;

struct milt_conf {
	char			*config;	/* --config file */
	char			*socket;	/* unix:PATH or inet:PORT@ADDR */
	struct conf_list	 rcpt;		/* lower case, no <> */
	char			*action;	/* "accept" or "discard" */
	int			 discard;	/* action is discard */
	char			*spool;
	char			*db;
	struct conf_list	 domain;	/* lower case */
	size_t			 max_size;	/* a whole message, bytes */
	char			*authserv_id;	/* NULL: the MTA's {j} */
	int			 require_dkim;
	char			*dkim_keys;	/* NULL: keys from DNS */
	struct dkv		*dkv;		/* the verifier; owned */
	unsigned		 timeout;	/* MTA silence, seconds */
	unsigned		 rejects_keep;	/* files in SPOOL/bad; 0 no cap */
	unsigned		 max_inflight;	/* messages at EOM at once */
	char			*user;
	int			 syslog;
	int			 verbose;
	int			 foreground_help; /* --help or --version */
	int			 requeue_bad;	/* --requeue-bad, then exit */
	unsigned		 refs;		/* milt_front's business */
};

/*
 * Build a configuration from defaults, the file named by --config (if
 * any) and argv (argv[0] skipped).  Returns a new conf owned by the
 * caller (release with mconf_free()), or NULL with a one-line reason in
 * err.
 */
struct milt_conf	*mconf_load(int argc, char *const argv[], char *err,
			    size_t errsz);
void			 mconf_free(struct milt_conf *);
void			 mconf_usage(void);

#endif
