/*
 * gen.h -- a deterministic corpus of TLS reports for the benchmark.
 *
 * Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
 */

#ifndef TLSRPT_BENCH_GEN_H
#define TLSRPT_BENCH_GEN_H

#include <stddef.h>

struct gen_report {
	char		*name;		/* RFC 8460 §5.1 file name */
	unsigned char	*gz;		/* gzip, level 6, one member */
	size_t		 gzlen;
	size_t		 jsonlen;	/* before compression */
	size_t		 ndetails;
	int		 large;
};

/*
 * Generate ntypical Google-like reports (2 policies, 5 failure details,
 * distinct domains, dates and report-ids) followed by nlarge reports of
 * 2,000 failure details each.  The same arguments always give the same
 * bytes.  On success *out is a new array owned by the caller (release with
 * gen_free()).  Returns 0, or -1 when out of memory.
 */
int	gen_corpus(size_t ntypical, size_t nlarge, struct gen_report **out);
void	gen_free(struct gen_report *, size_t n);

/* Write every report to dir/name.  Returns 0, or -1 with errno set. */
int	gen_write(const char *dir, const struct gen_report *, size_t n);

#endif
