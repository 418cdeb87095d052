/*
 * cmd_raw.c -- tlsrpt raw: a stored report's JSON as it arrived, whatever
 * form the database keeps it in (JSON, gzip, or the packed zlib of schema
 * 009: store_report_raw() tells them apart).
 *
 * Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
 */

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "store_series.h"

static const char usage_text[] =
"usage: tlsrpt raw [--db CONNINFO] KEY [SHA256]\n"
"\n"
"Writes the JSON of stored report KEY (64 hex digits: the report key that\n"
"tlsrpt-web's report page and the arrival log name) to standard output,\n"
"byte for byte as the sender sent it, after gunzip.  A report that\n"
"arrived with different bytes (another transport re-encoding it) has one\n"
"content variant per SHA256 of its bytes; with several, name one: the\n"
"error lists them.\n"
"\n"
CLI_HELP_DB
"\n"
"Exit status: 0 written, 1 no such report or variant, 3 could not run.\n";

int
cmd_raw(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "db", required_argument, NULL, 'D' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct store_report_info	 ri;
	struct store_raw		 raw;
	struct store			*st;
	const char			*db = NULL, *key, *sha;
	size_t				 i;
	int				 ch, got, rc = EXIT_NORUN;

	while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'D':
			db = optarg;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return EXIT_OK;
		default:
			fputs(usage_text, stderr);
			return EXIT_NORUN;
		}
	}
	if (argc - optind < 1 || argc - optind > 2)
		return cli_fail("raw takes a report key and an optional "
		    "SHA256 (tlsrpt raw --help)");
	key = argv[optind];
	sha = argc - optind == 2 ? argv[optind + 1] : NULL;
	memset(&ri, 0, sizeof(ri));
	memset(&raw, 0, sizeof(raw));
	if ((st = cli_open_store(db, 1)) == NULL)
		return EXIT_NORUN;
	if ((got = store_report_get(st, key, &ri)) == -1) {
		cli_fail("%s", store_errstr(st));
		goto out;
	}
	if (got == 1) {
		fprintf(stderr, "tlsrpt: no report %s\n", key);
		rc = 1;
		goto out;
	}
	if (sha == NULL && ri.nvariants == 1)
		sha = ri.variants[0];
	if (sha == NULL) {
		fprintf(stderr, "tlsrpt: report %s has %zu content variants; "
		    "name one:", key, ri.nvariants);
		for (i = 0; i < ri.nvariants; i++)
			fprintf(stderr, " %s", ri.variants[i]);
		fputc('\n', stderr);
		rc = 1;
		goto out;
	}
	if ((got = store_report_raw(st, key, sha, &raw)) == -1) {
		cli_fail("%s", store_errstr(st));
		goto out;
	}
	if (got == 1) {
		fprintf(stderr, "tlsrpt: report %s has no variant %s\n", key,
		    sha);
		rc = 1;
		goto out;
	}
	if (fwrite(raw.body, 1, raw.len, stdout) != raw.len ||
	    fflush(stdout) == EOF) {
		cli_fail("cannot write the report: %s", strerror(errno));
		goto out;
	}
	rc = EXIT_OK;
 out:
	store_raw_free(&raw);
	store_series_free(&ri.a);
	store_close(st);
	return rc;
}
