/*
 * test_fuzz_fronts.c -- the crashers of the front-end fuzz targets, again.
 *
 * tests/fuzz/fuzz_submit.c (the verdict of both front-ends) and
 * tests/fuzz/fuzz_spool.c (the spool file parser) are compiled into this
 * file under other names, so that `make check` runs exactly the code
 * the fuzzer ran: every file of tests/fuzz/crashers/ named submit-* or
 * spool-* (written by `make fuzz`), and every file of tests/fuzz/regress/
 * and of the corpus through both.  A target aborts on an impossible
 * result, so a finding fails here as a crash; ASan/UBSan in the second
 * run of `make check` does the rest.  Runs from the repository root.
 */

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "testutil.h"

#define LLVMFuzzerTestOneInput	fuzz_submit_one
#include "../fuzz/fuzz_submit.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput	fuzz_spool_one
#include "../fuzz/fuzz_spool.c"
#undef LLVMFuzzerTestOneInput

#define REPLAY_FILE_MAX	(32 * 1024 * 1024)

typedef int	(*target_fn)(const uint8_t *, size_t);

/*
 * Every file of dir whose name starts with prefix ("" all) through fn,
 * each also behind every selector byte of interest for fuzz_submit
 * (sel: prefix a byte); returns how many files.
 */
static size_t
replay_dir(const char *dir, const char *prefix, target_fn fn, int sel)
{
	static const unsigned char	 sels[] = { 0x00, 0x01, 0x0c, 0x2d,
					    0x59, 0x7f };
	struct dirent			*e;
	DIR				*d;
	unsigned char			*buf, *b2;
	char				 path[4096];
	size_t				 len, n = 0, i;

	d = opendir(dir);
	cr_assert_not_null(d, "cannot open %s: %s (the tests run from the "
	    "repository root)", dir, strerror(errno));
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.' || strncmp(e->d_name, "README", 6) ==
		    0 || strncmp(e->d_name, prefix, strlen(prefix)) != 0 ||
		    strcmp(e->d_name, "INDEX.md") == 0 ||
		    strcmp(e->d_name, "sha256sums.txt") == 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		buf = tu_load(path, &len);
		if (len > REPLAY_FILE_MAX) {
			free(buf);
			continue;
		}
		fn(buf, len);
		if (sel) {
			b2 = malloc(len + 1);
			cr_assert_not_null(b2);
			memcpy(b2 + 1, buf, len);
			for (i = 0; i < sizeof(sels); i++) {
				b2[0] = sels[i];
				fn(b2, len + 1);
			}
			free(b2);
		}
		free(buf);
		n++;
	}
	closedir(d);
	return n;
}

Test(fuzz_fronts, submit_crashers_and_regress, .timeout = 120)
{
	size_t	n;

	n = replay_dir("tests/fuzz/crashers", "submit-", fuzz_submit_one, 0);
	n += replay_dir("tests/fuzz/regress", "", fuzz_submit_one, 1);
	n += replay_dir(tu_corpus_dir(), "", fuzz_submit_one, 1);
	cr_expect_gt(n, 10);
	cr_log_info("fuzz_fronts: %zu files through fuzz_submit", n);
}

Test(fuzz_fronts, spool_crashers_and_regress, .timeout = 120)
{
	size_t	n;

	n = replay_dir("tests/fuzz/crashers", "spool-", fuzz_spool_one, 0);
	n += replay_dir("tests/fuzz/regress", "", fuzz_spool_one, 0);
	n += replay_dir(tu_corpus_dir(), "", fuzz_spool_one, 0);
	cr_expect_gt(n, 10);
	cr_log_info("fuzz_fronts: %zu files through fuzz_spool", n);
}
