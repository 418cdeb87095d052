/*
 * milter_shim.h -- every smfi_* call of the milter callbacks goes through
 * here, so that the callbacks can be driven without an MTA (the OpenDMARC
 * test mode idea): tests/lib/milter_testutil.c installs its own operations
 * and hands the callbacks a context of its own making.
 *
 * Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
 *
 * The operations are set once, before the first callback (milter_main.c sets
 * the libmilter ones before smfi_main()); they are read-only afterwards,
 * so any thread may call these functions.
 */

#ifndef TLSRPT_MILTER_SHIM_H
#define TLSRPT_MILTER_SHIM_H

#include <stdbool.h>

#include <libmilter/mfapi.h>

struct milt_ops {
	void	*(*getpriv)(SMFICTX *);
	int	 (*setpriv)(SMFICTX *, void *);
	char	*(*getsymval)(SMFICTX *, char *);
	int	 (*addheader)(SMFICTX *, char *, char *);
	int	 (*chgheader)(SMFICTX *, char *, int, char *);
	int	 (*delrcpt)(SMFICTX *, char *);
	int	 (*setreply)(SMFICTX *, char *, char *, char *);
};

/* ops is borrowed and must outlive every callback. */
void	 milt_shim_set(const struct milt_ops *ops);

/* The smfi_* function of the same name, through the installed ops.
 * Strings are borrowed; MI_SUCCESS or MI_FAILURE as libmilter says. */
void	*milt_getpriv(SMFICTX *);
int	 milt_setpriv(SMFICTX *, void *);
char	*milt_getsymval(SMFICTX *, const char *);
int	 milt_addheader(SMFICTX *, const char *, const char *);
int	 milt_chgheader(SMFICTX *, const char *, int, const char *);
int	 milt_delrcpt(SMFICTX *, const char *);
int	 milt_setreply(SMFICTX *, const char *, const char *, const char *);

#endif
