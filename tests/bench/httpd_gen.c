/*
 * httpd_gen.c -- write N typical gzip reports (tests/bench/gen.c, the same
 * deterministic corpus as `make bench`) as one file of records
 * "LEN\n" + LEN bytes, for httpd_load.
 *
 * Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
 *
 * usage: httpd_gen N OUT
 */

#include <stdio.h>
#include <stdlib.h>

#include "gen.h"

int
main(int argc, char *argv[])
{
	struct gen_report	*g = NULL;
	size_t			 n, i;
	FILE			*f;

	if (argc != 3) {
		fprintf(stderr, "usage: httpd_gen N OUT\n");
		return 2;
	}
	n = strtoul(argv[1], NULL, 10);
	if (gen_corpus(n, 0, &g) == -1 || (f = fopen(argv[2], "wb")) == NULL) {
		fprintf(stderr, "httpd_gen: cannot generate %s\n", argv[2]);
		return 1;
	}
	for (i = 0; i < n; i++) {
		fprintf(f, "%zu\n", g[i].gzlen);
		fwrite(g[i].gz, 1, g[i].gzlen, f);
	}
	if (fclose(f) != 0)
		return 1;
	gen_free(g, n);
	return 0;
}
