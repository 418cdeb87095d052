/*
 * milter_testutil.h -- the milter callbacks driven through the shim as an
 * MTA would drive them (no MTA, no database): a test directory, a front
 * (struct milt_front) over a spool in it, fake libmilter calls that
 * record what the milter asked for, DKIM keys in a key file.  Shared by
 * tests/unit/test_milter_cb.c and tests/integration/test_milter.c.  They
 * fail the calling test (cr_assert) when something they need does not
 * work.
 *
 * Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
 */

#ifndef TLSRPT_MILTER_TESTUTIL_H
#define TLSRPT_MILTER_TESTUTIL_H

#include <stddef.h>

#include <libmilter/mfapi.h>

#include "dkim_testutil.h"
#include "milter_msg.h"
#include "milter_shim.h"

struct fake {
	void	*priv;
	char	 added[4][512];		/* "Name: value" */
	int	 nadded;
	int	 deleted;		/* chgheader(NULL) calls */
	char	 delrcpt[4][128];
	int	 ndelrcpt;
	char	 reply[256];
	int	 nosym;			/* getsymval gives NULL */
	int	 leadspc;		/* offer SMFIP_HDR_LEADSPC */
};

extern char		 tdir[256];
int count_files(const char *dir);
char *cat_dir(const char *dir);
void mk_tdir(void);
extern int	 spool_mounted;
void rm_tdir(void);
char *gz_mail(const char *domain, const char *id, const char *extra_hdr,
    const unsigned char *gz, size_t gzlen);
char *report_mail(const char *domain, const char *id, const char *extra_hdr);
extern const struct milt_ops fake_ops;
extern struct milt_front	 cfr;
extern struct spool		*csp;
extern int			 have_front;
void keys_init(void);
extern struct dtk_key	 dkey;
void dkim_publish(const char *domain, ...);
void cb_setup(void);
void cb_teardown(void);
void front(const char *opts);
sfsistat feed(struct fake *f, const char *rcpts, const char *msg, size_t len,
    const char **stage);
void close_conn(struct fake *f);
char *spool_text(const char *sub);

#endif
