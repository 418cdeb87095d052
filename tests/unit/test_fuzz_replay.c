/*
 * test_fuzz_replay.c -- every fuzzer crasher and regression input, again.
 *
 * Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
 *
 * Replays each file of tests/fuzz/crashers/ (written by `make fuzz`) and
 * tests/fuzz/regress/ through ingest_any(), ingest_payload() and
 * ingest_message(), with the fuzzer's tight limits and with the defaults.
 * It checks only that nothing crashes (ASan/UBSan in the second run of
 * `make check` does the rest) and that the status is valid: a report
 * exactly when the status is INGEST_OK.  Names starting with "." or
 * "README" are skipped.  Runs from the repository root; a directory that
 * cannot be opened fails the test.
 */

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "ingest.h"

#define REPLAY_FILE_MAX	(32 * 1024 * 1024)

static const char *const replay_dirs[] = {
	"tests/fuzz/crashers",
	"tests/fuzz/regress",
};

/* The limits of tests/fuzz/fuzz_ingest.c. */
static void
fuzz_limits(struct ingest_limits *lim)
{
	ingest_limits_default(lim);
	lim->compressed_max = 64 * 1024;
	lim->json_max = 256 * 1024;
	lim->ratio_max = 100;
	lim->ratio_floor = 16 * 1024;
	lim->mail_max = 256 * 1024;
	lim->depth_max = 16;
	lim->string_max = 1024;
	lim->policies_max = 32;
	lim->strings_max = 32;
	lim->details_max = 256;
	lim->json_values_max = 100000;
	lim->json_tree_max = 32 * 1024 * 1024;
	lim->mime_delims_max = 200;
	lim->mime_headers_max = 2000;
}

static unsigned char *
slurp(const char *path, size_t *lenp)
{
	FILE		*fp;
	unsigned char	*buf = NULL;
	long		 sz;

	if ((fp = fopen(path, "rb")) == NULL)
		return NULL;
	if (fseek(fp, 0, SEEK_END) == -1 || (sz = ftell(fp)) < 0 ||
	    sz > REPLAY_FILE_MAX || fseek(fp, 0, SEEK_SET) == -1)
		goto out;
	if ((buf = malloc((size_t)sz + 1)) == NULL)
		goto out;
	if (fread(buf, 1, (size_t)sz, fp) != (size_t)sz) {
		free(buf);
		buf = NULL;
		goto out;
	}
	*lenp = (size_t)sz;
 out:
	fclose(fp);
	return buf;
}

static void
expect_valid(const char *path, const char *fn, enum ingest_status st,
    struct tlsrpt_report *rep, const struct ingest_err *err)
{
	cr_expect(st <= INGEST_E_NOMEM, "%s: %s: status %d out of range",
	    path, fn, (int)st);
	cr_expect((st == INGEST_OK) == (rep != NULL),
	    "%s: %s: status %s with%s a report", path, fn,
	    ingest_status_str(st), rep != NULL ? "" : "out");
	cr_expect(memchr(err->msg, '\0', sizeof(err->msg)) != NULL,
	    "%s: %s: error text not terminated", path, fn);
	tlsrpt_report_free(rep);
}

static void
replay(const char *path, const unsigned char *buf, size_t len,
    const struct ingest_limits *lim)
{
	struct ingest_meta	 meta;
	struct tlsrpt_report	*rep;
	struct ingest_err	 err;
	enum ingest_status	 st;

	memset(&meta, 0, sizeof(meta));
	meta.filename = "google.com!fuzz.example!1700000000!1700086399!"
	    "001.json.gz";
	meta.submitter = "google.com";

	rep = NULL;
	st = ingest_any(buf, len, NULL, lim, &rep, &err);
	expect_valid(path, "ingest_any", st, rep, &err);
	rep = NULL;
	st = ingest_payload(buf, len, &meta, lim, &rep, &err);
	expect_valid(path, "ingest_payload", st, rep, &err);
	rep = NULL;
	st = ingest_message(buf, len, lim, &rep, &err);
	expect_valid(path, "ingest_message", st, rep, &err);
}

Test(fuzz_replay, crashers_and_regress)
{
	struct ingest_limits	 tight, def;
	struct dirent		*e;
	DIR			*d;
	unsigned char		*buf;
	char			 path[4096];
	size_t			 i, len, nfiles = 0;

	fuzz_limits(&tight);
	ingest_limits_default(&def);
	for (i = 0; i < sizeof(replay_dirs) / sizeof(replay_dirs[0]); i++) {
		d = opendir(replay_dirs[i]);
		cr_assert_not_null(d, "cannot open %s: %s (the tests run "
		    "from the repository root)", replay_dirs[i],
		    strerror(errno));
		while ((e = readdir(d)) != NULL) {
			if (e->d_name[0] == '.' ||
			    strncmp(e->d_name, "README", 6) == 0)
				continue;
			if ((size_t)snprintf(path, sizeof(path), "%s/%s",
			    replay_dirs[i], e->d_name) >= sizeof(path)) {
				cr_expect_fail("%s/%s: path too long",
				    replay_dirs[i], e->d_name);
				continue;
			}
			buf = slurp(path, &len);
			cr_expect_not_null(buf, "%s: cannot read it: %s", path,
			    strerror(errno));
			if (buf == NULL)
				continue;
			replay(path, buf, len, &tight);
			replay(path, buf, len, &def);
			free(buf);
			nfiles++;
		}
		closedir(d);
	}
	cr_log_info("fuzz_replay: %zu files replayed", nfiles);
}
