/*
 * fuzz_submit.c -- libFuzzer target over the verdict of both front-ends
 * (collector/core_submit.c): the HTTP verdict path and the milter's end of
 * message path, on a real spool in a temporary directory.
 *
 * Byte 0 of an input selects: bit 0 the transport (HTTPS body or whole
 * mail), bit 1 the Content-Type, bit 2 the recent set, bit 3 the
 * allow-list (allowed.example), bit 4 --require-dkim, bit 5 a report
 * domain (a single --domain), bit 6 a trusted DKIM verdict; the rest is
 * the bytes submitted.  Limits are tight so that one input is fast, and
 * what an input spools is taken away again (bad/ is capped), so the
 * spool stays small.  An impossible verdict aborts: a finding.
 *
 * Built by `make fuzz` with clang -fsanitize=fuzzer,address,undefined;
 * tests/unit/test_fuzz_fronts.c replays its crashers (crashers/submit-*)
 * and tests/fuzz/regress through it in `make check`.
 */

#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core_conf.h"
#include "ingest.h"
#include "core_spool.h"
#include "core_submit.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static struct spool		*fz_sp;
static struct submit_recent	*fz_rc;
static struct conf_list		 fz_dom;
static char			 fz_dir[64];
static char			 fz_allowed[] = "allowed.example";

static void
fz_limits(struct ingest_limits *lim)
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
}

/* At exit: the spool and its directory go (tmp/, new/, bad/ are flat). */
static void
fz_cleanup(void)
{
	static const char *const sub[] = { "tmp", "new", "bad" };
	struct dirent	*de;
	DIR		*d;
	char		 path[512];
	size_t		 i;

	spool_close(fz_sp);
	fz_sp = NULL;
	for (i = 0; i < sizeof(sub) / sizeof(sub[0]); i++) {
		snprintf(path, sizeof(path), "%s/spool/%s", fz_dir, sub[i]);
		if ((d = opendir(path)) != NULL) {
			while ((de = readdir(d)) != NULL) {
				if (strcmp(de->d_name, ".") == 0 ||
				    strcmp(de->d_name, "..") == 0)
					continue;
				snprintf(path, sizeof(path), "%s/spool/%s/%s",
				    fz_dir, sub[i], de->d_name);
				(void)unlink(path);
			}
			closedir(d);
		}
		snprintf(path, sizeof(path), "%s/spool/%s", fz_dir, sub[i]);
		(void)rmdir(path);
	}
	snprintf(path, sizeof(path), "%s/spool", fz_dir);
	(void)rmdir(path);
	(void)rmdir(fz_dir);
}

static void
fz_init(void)
{
	char	err[256], path[128];

	snprintf(fz_dir, sizeof(fz_dir), "/tmp/tlsrpt-fuzz-submit.XXXXXX");
	if (mkdtemp(fz_dir) == NULL)
		abort();
	snprintf(path, sizeof(path), "%s/spool", fz_dir);
	if ((fz_sp = spool_open(path, err, sizeof(err))) == NULL) {
		fprintf(stderr, "fuzz_submit: %s\n", err);
		abort();
	}
	spool_set_bad_limits(fz_sp, 8, 1024 * 1024);
	atexit(fz_cleanup);
	if ((fz_rc = submit_recent_new(64)) == NULL)
		abort();
	fz_dom.v[0] = fz_allowed;
	fz_dom.n = 1;
}

/* Take away what the input spooled. */
static void
fz_drain(void)
{
	struct spool_entry	*e;
	size_t			 n, i;

	if (spool_list(fz_sp, 64, &e, &n) == -1)
		abort();
	for (i = 0; i < n; i++)
		(void)spool_remove(fz_sp, e[i].name);
	free(e);
	(void)spool_sync(fz_sp);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct submit_ctx	 c;
	struct submit_in	 in;
	struct submit_verdict	 v;
	enum submit_class	 cls;
	unsigned		 sel;
	size_t			 i;

	if (fz_sp == NULL)
		fz_init();
	if (size == 0)
		return 0;
	sel = data[0];
	memset(&c, 0, sizeof(c));
	c.spool = fz_sp;
	c.recent = (sel & 4) ? fz_rc : NULL;
	c.domains = (sel & 8) ? &fz_dom : NULL;
	c.require_dkim = (sel & 16) != 0;
	fz_limits(&c.lim);
	c.keep_max = 4096;
	memset(&in, 0, sizeof(in));
	in.transport = (sel & 1) ? SUBMIT_MAIL : SUBMIT_HTTPS;
	in.buf = data + 1;
	in.len = size - 1;
	in.peer = "192.0.2.1";
	in.content_type = (sel & 2) ? "application/tlsrpt+gzip" :
	    "application/tlsrpt+json";
	in.report_domain = (sel & 32) ? fz_allowed : NULL;
	in.extra[0] = "user-agent: fuzz";
	in.dkim = (sel & 64) ? "pass d=allowed.example aligned" : "none";
	in.trusted = (sel & 64) != 0;

	cls = submit_verdict(&c, &in, &v);
	/* what no verdict may be */
	if (cls != v.cls || (unsigned)cls >= SUBMIT_NCLASS || v.token == NULL ||
	    memchr(v.reason, '\0', sizeof(v.reason)) == NULL)
		abort();
	for (i = 0; v.reason[i] != '\0'; i++)
		if ((unsigned char)v.reason[i] < 0x20)
			abort();
	if (cls == SUBMIT_STORED && (!v.spooled || v.spool != SPOOL_STORED))
		abort();
	if (cls == SUBMIT_TEMPFAIL && (!v.spooled || v.spool != SPOOL_FAILED))
		abort();
	if ((cls == SUBMIT_FORBIDDEN_DOMAIN || cls == SUBMIT_UNTRUSTED) &&
	    in.transport == SUBMIT_HTTPS && v.spooled)
		abort();
	if (cls == SUBMIT_REFUSED_MEDIA && in.transport == SUBMIT_MAIL)
		abort();
	fz_drain();
	return 0;
}
