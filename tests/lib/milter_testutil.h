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

/* The test's directory (mk_tdir(): TMPDIR/tlsrpt-milter.XXXXXX, mode
 * 0755 for Postfix's children); rm_tdir() removes it, unmounting the
 * tmpfs of tdir/spool first when spool_mounted. */
extern char	 tdir[256];
extern int	 spool_mounted;
void	 mk_tdir(void);
void	 rm_tdir(void);

/* Regular files in dir (0 when it does not exist); their contents
 * concatenated (malloc'd). */
int	 count_files(const char *dir);
char	*cat_dir(const char *dir);

/* An RFC 8460 section 5.3 message with gz attached, or with a gzipped
 * report for domain; malloc'd. */
char	*gz_mail(const char *domain, const char *id, const char *extra_hdr,
	    const unsigned char *gz, size_t gzlen);
char	*report_mail(const char *domain, const char *id,
	    const char *extra_hdr);

/* The fake libmilter calls (given to milt_shim_set() by cb_setup()),
 * the front of the test and its spool (tdir/spool; front() makes them). */
extern const struct milt_ops	 fake_ops;
extern struct milt_front	 cfr;
extern struct spool		*csp;
extern int			 have_front;

/* The DKIM key file tdir/keys: empty (keys_init()) until dkim_publish()
 * adds dkey as s1._domainkey of each domain of the NULL-ended list. */
extern struct dtk_key	 dkey;
void	 keys_init(void);
void	 dkim_publish(const char *domain, ...);

/* The fixture of the callback suites: tdir, keys, the shim; teardown
 * closes the front and the spool and removes tdir. */
void	 cb_setup(void);
void	 cb_teardown(void);

/* A front with these options (besides --rcpt, --spool, --dkim-keys). */
void	 front(const char *opts);

/* One message through the callbacks as an MTA would: connect, MAIL,
 * RCPT (comma-separated rcpts), DATA, headers, body in chunks; the
 * answer of the callback that stopped it (*stage names it), or eom's. */
sfsistat feed(struct fake *f, const char *rcpts, const char *msg,
	    size_t len, const char **stage);
void	 close_conn(struct fake *f);

/* The one file of tdir/spool/sub not ending in .reason (malloc'd). */
char	*spool_text(const char *sub);

#endif
