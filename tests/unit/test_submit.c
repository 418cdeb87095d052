/*
 * test_submit.c -- collector/core_submit.c, the one verdict of both fronts,
 * on a real spool in a temporary directory: every class, what is kept
 * in bad/ and in which format, the allow-list, the report domain of a
 * single --domain, the cut of a refused mail at keep_max.  No database,
 * no daemon: the daemons' own tests map the classes to answers.
 */

#define _GNU_SOURCE	/* nftw FTW_DEPTH | FTW_PHYS */

#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "core_conf.h"
#include "ingest.h"
#include "core_spool.h"
#include "json_testutil.h"
#include "core_submit.h"
#include "testutil.h"
#include "tlsrpt_limits.h"

static char			 dir[256];
static struct spool		*sp;
static struct submit_recent	*rc;
static struct conf_list		 allow;

static int
rm_one(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
	(void)sb;
	(void)ftw;
	return type == FTW_DP ? rmdir(path) : unlink(path);
}

static void
setup(void)
{
	const char	*t = getenv("TMPDIR");
	char		 err[256], spool[300];

	snprintf(dir, sizeof(dir), "%s/tlsrpt-submit.XXXXXX",
	    t != NULL && *t != '\0' ? t : "/tmp");
	cr_assert_not_null(mkdtemp(dir));
	snprintf(spool, sizeof(spool), "%s/spool", dir);
	sp = spool_open(spool, err, sizeof(err));
	cr_assert_not_null(sp, "%s", err);
	rc = submit_recent_new(64);
	cr_assert_not_null(rc);
	memset(&allow, 0, sizeof(allow));
}

static void
teardown(void)
{
	size_t	i;

	for (i = 0; i < allow.n; i++)
		free(allow.v[i]);
	submit_recent_free(rc);
	spool_close(sp);
	sp = NULL;
	if (dir[0] != '\0')
		nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static void
allow_add(const char *d)
{
	cr_assert_lt(allow.n, CONF_LIST_MAX);
	allow.v[allow.n++] = strdup(d);
}

static void
ctx_init(struct submit_ctx *c)
{
	memset(c, 0, sizeof(*c));
	c->spool = sp;
	c->recent = rc;
	c->domains = &allow;
	ingest_limits_default(&c->lim);
	c->keep_max = LIM_REJECT_KEEP_BYTES;
}

static void
in_https(struct submit_in *in, const void *buf, size_t len)
{
	memset(in, 0, sizeof(*in));
	in->transport = SUBMIT_HTTPS;
	in->buf = buf;
	in->len = len;
	in->peer = "192.0.2.7";
	in->content_type = "application/tlsrpt+json";
	in->extra[0] = "user-agent: test";
}

/* Regular files of spool/SUB whose name does not end in .reason. */
static int
count(const char *sub, int reasons)
{
	char		 path[512];
	struct dirent	*de;
	DIR		*d;
	size_t		 l;
	int		 n = 0;

	snprintf(path, sizeof(path), "%s/spool/%s", dir, sub);
	cr_assert_not_null(d = opendir(path));
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		l = strlen(de->d_name);
		if ((l > 7 && strcmp(de->d_name + l - 7, ".reason") == 0) ==
		    reasons)
			n++;
	}
	closedir(d);
	return n;
}

/* The one (newest) non-reason file of spool/SUB, whole; its name too. */
static char *
only_file(const char *sub, char *name, size_t namesz, size_t *len,
    mode_t *mode)
{
	char		 path[700];
	struct dirent	*de;
	struct stat	 sb;
	DIR		*d;
	size_t		 l;
	unsigned char	*b = NULL;

	snprintf(path, sizeof(path), "%s/spool/%s", dir, sub);
	cr_assert_not_null(d = opendir(path));
	while ((de = readdir(d)) != NULL) {
		l = strlen(de->d_name);
		if (de->d_name[0] == '.' ||
		    (l > 7 && strcmp(de->d_name + l - 7, ".reason") == 0))
			continue;
		snprintf(name, namesz, "%s", de->d_name);
		snprintf(path, sizeof(path), "%s/spool/%s/%s", dir, sub,
		    de->d_name);
		cr_assert_eq(stat(path, &sb), 0);
		if (mode != NULL)
			*mode = sb.st_mode & 07777;
		b = tu_load(path, len);
		break;
	}
	closedir(d);
	cr_assert_not_null(b, "no file in %s", sub);
	return (char *)b;
}

TestSuite(submit, .init = setup, .fini = teardown, .timeout = 30);

Test(submit, https_every_class)
{
	struct submit_ctx	 c;
	struct submit_in	 in;
	struct submit_verdict	 v;
	char			*pol, *ok, *other, *f, name[256], path[700];
	const char		 junk[] = "hello, world";
	const char		 notrep[] = "{\"a\": 1}";
	unsigned char		*r;
	size_t			 len, rl;
	mode_t			 mode;

	allow_add("allowed.example");
	ctx_init(&c);

	in_https(&in, "", 0);
	cr_expect_eq(submit_verdict(&c, &in, &v), SUBMIT_NOT_A_REPORT);
	cr_expect_str_eq(v.token, "empty");
	cr_expect_eq(v.kept, 0);

	/* refused media: the first bytes in bad/, spool format, 0640 */
	in_https(&in, junk, strlen(junk));
	cr_expect_eq(submit_verdict(&c, &in, &v), SUBMIT_REFUSED_MEDIA);
	cr_expect_str_eq(v.token, "media-type");
	cr_expect_eq(v.kept, 1);
	cr_expect_eq(count("bad", 0), 1);
	cr_expect_eq(count("bad", 1), 1);
	f = only_file("bad", name, sizeof(name), &len, &mode);
	cr_expect_eq(mode, 0640, "mode %o", (unsigned)mode);
	cr_expect(strncmp(f, "TLSRPT-SPOOL 1\nsource: https\norigin: "
	    "192.0.2.7\nreceived: ", 50) == 0, "%s", f);
	cr_expect(strstr(f, "\nuser-agent: test\n\nhello, world") != NULL,
	    "%s", f);
	cr_expect(strstr(f, "x-size") == NULL, "not cut: %s", f);
	free(f);
	snprintf(path, sizeof(path), "%s/spool/bad/%s.reason", dir, name);
	r = tu_load(path, &rl);
	cr_expect_str_eq((char *)r, "media-type: neither gzip nor JSON\n");
	free(r);
	/* the same refused bytes again: kept once */
	cr_expect_eq(submit_verdict(&c, &in, &v), SUBMIT_REFUSED_MEDIA);
	cr_expect_eq(count("bad", 0), 1);

	in_https(&in, notrep, strlen(notrep));
	cr_expect_eq(submit_verdict(&c, &in, &v), SUBMIT_NOT_A_REPORT);
	cr_expect_neq(v.ingest, INGEST_OK);
	cr_expect_str_eq(v.token, ingest_status_str(v.ingest));
	cr_expect_eq(v.kept, 1);
	cr_expect_eq(count("bad", 0), 2);

	pol = stu_policy("sts", "mx1.allowed.example", 10, 0, NULL);
	ok = stu_report("Org", "r-1", "2026-01-05", pol);
	free(pol);
	in_https(&in, ok, strlen(ok));
	cr_expect_eq(submit_verdict(&c, &in, &v), SUBMIT_STORED, "%s",
	    v.reason);
	cr_expect_eq(v.spooled, 1);
	cr_expect_eq(v.spool, SPOOL_STORED);
	cr_expect_str_eq(v.org, "Org");
	cr_expect_eq(count("new", 0), 1);
	/* again: the recent set answers without the spool */
	cr_expect_eq(submit_verdict(&c, &in, &v), SUBMIT_DUPLICATE);
	cr_expect_eq(v.spooled, 0);
	/* without it: the spool's twin */
	c.recent = NULL;
	cr_expect_eq(submit_verdict(&c, &in, &v), SUBMIT_DUPLICATE);
	cr_expect_eq(v.spooled, 1);
	cr_expect_eq(v.spool, SPOOL_DUPLICATE);
	c.recent = rc;

	/* not below the listed domain: "notallowed.example" */
	pol = stu_policy("sts", "notallowed.example", 10, 0, NULL);
	other = stu_report("Org", "r-2", "2026-01-05", pol);
	free(pol);
	in_https(&in, other, strlen(other));
	cr_expect_eq(submit_verdict(&c, &in, &v), SUBMIT_FORBIDDEN_DOMAIN);
	cr_expect_str_eq(v.token, "domain");
	cr_expect(strstr(v.reason, "notallowed.example") != NULL, "%s",
	    v.reason);
	cr_expect_eq(v.kept, 0);
	cr_expect_eq(count("new", 0), 1, "not spooled");
	cr_expect_eq(count("bad", 0), 2, "not kept");
	free(ok);
	free(other);
}

Test(submit, spool_failure_is_temporary)
{
	struct submit_ctx	 c;
	struct submit_in	 in;
	struct submit_verdict	 v;
	char			*pol, *ok;
	unsigned char		*m;
	size_t			 len;
	char			 cmd[600];

	ctx_init(&c);
	pol = stu_policy("sts", "a.example", 10, 0, NULL);
	ok = stu_report("Org", "r-1", "2026-01-05", pol);
	free(pol);
	/* as root chmod stops nothing: take tmp/ away */
	snprintf(cmd, sizeof(cmd), "rm -rf %s/spool/tmp && touch "
	    "%s/spool/tmp", dir, dir);
	cr_assert_eq(system(cmd), 0);
	in_https(&in, ok, strlen(ok));
	cr_expect_eq(submit_verdict(&c, &in, &v), SUBMIT_TEMPFAIL);
	cr_expect_eq(v.spool, SPOOL_FAILED);
	cr_expect_neq(v.spool_errno, 0);
	cr_expect_str_eq(v.token, "spool");

	m = tu_load("google_mox_1.eml", &len);
	memset(&in, 0, sizeof(in));
	in.transport = SUBMIT_MAIL;
	in.buf = m;
	in.len = len;
	cr_expect_eq(submit_verdict(&c, &in, &v), SUBMIT_TEMPFAIL);
	free(m);
	free(ok);
}

/* The allow-list: one function, the reason bounded and each domain once. */
Test(submit, allow_list_reason)
{
	struct tlsrpt_report	*rep;
	struct tu_str		 pols = { 0 };
	char			*pol, *json, why[SUBMIT_REASON_MAX], d[32];
	int			 i;

	allow_add("allowed.example");
	for (i = 0; i < 1000; i++) {
		snprintf(d, sizeof(d), "d%d.example", i);
		pol = stu_policy("sts", i % 2 ? "same.example" : d, 1, 0,
		    NULL);
		tu_str_add(&pols, "%s%s", i ? "," : "", pol);
		free(pol);
	}
	json = stu_report("Org", "many", "2026-01-05", pols.s);
	rep = stu_parse(json);
	cr_assert_not_null(rep);
	cr_expect_eq(submit_domain_allowed(&allow, rep, why, sizeof(why)), 0);
	cr_expect_lt(strlen(why), sizeof(why) - 1, "bounded: %s", why);
	cr_expect(strncmp(why, "report is about d0.example, same.example, "
	    "d2.example, d4.example", 55) == 0, "%s", why);
	cr_expect(strstr(why, ", ...") != NULL, "%s", why);
	cr_expect(strstr(why, "not a domain this collector accepts") != NULL,
	    "%s", why);
	tlsrpt_report_free(rep);
	free(json);
	free(pols.s);
}

/* A report with no policy-domain, as sys4's reporter sends it. */
#define NOPOL_JSON							\
	"{\"organization-name\":\"sonne.test\",\"date-range\":"		\
	"{\"start-datetime\":\"2025-09-20T00:00:00Z\",\"end-datetime\":"	\
	"\"2025-09-20T23:59:59Z\"},\"contact-info\":"			\
	"\"smtp-tls-reporting@sonne.test\",\"policies\":[{\"summary\":"	\
	"{\"total-failure-session-count\":0,"				\
	"\"total-successful-session-count\":1},\"policy\":"		\
	"{\"policy-type\":\"no-policy-found\"},\"failure-details\":[]}],"	\
	"\"report-id\":\"plain-id-1\"}"

/* tlsrpt-httpd's single --domain: the domain of such policies, told to
 * the worker by an x- line; a report that names its domain gets none. */
Test(submit, report_domain_of_a_single_domain)
{
	struct submit_ctx	 c;
	struct submit_in	 in;
	struct submit_verdict	 v;
	char			*f, *pol, *ok, name[256];
	const char		 json[] = NOPOL_JSON;
	size_t			 len;

	allow_add("nopol.test");
	ctx_init(&c);
	c.recent = NULL;
	in_https(&in, json, strlen(json));
	cr_expect_eq(submit_verdict(&c, &in, &v), SUBMIT_FORBIDDEN_DOMAIN,
	    "without the report domain it is about no domain");
	cr_expect(strstr(v.reason, "(no policy domain)") != NULL, "%s",
	    v.reason);
	in.report_domain = "nopol.test";
	cr_expect_eq(submit_verdict(&c, &in, &v), SUBMIT_STORED, "%s",
	    v.reason);
	f = only_file("new", name, sizeof(name), &len, NULL);
	cr_expect(strstr(f, "\nx-tls-report-domain: nopol.test\n") != NULL,
	    "%s", f);
	cr_expect(strstr(f, "\"report-id\":\"plain-id-1\"}") != NULL,
	    "the bytes as received: %s", f);
	free(f);
	cr_expect_eq(spool_remove(sp, name), 0);

	pol = stu_policy("sts", "mx.nopol.test", 10, 0, NULL);
	ok = stu_report("Org", "named", "2026-01-05", pol);
	free(pol);
	in_https(&in, ok, strlen(ok));
	in.report_domain = "nopol.test";
	cr_expect_eq(submit_verdict(&c, &in, &v), SUBMIT_STORED);
	f = only_file("new", name, sizeof(name), &len, NULL);
	cr_expect(strstr(f, "x-tls-report-domain") == NULL, "%s", f);
	free(f);
	free(ok);
}

/*
 * A mail refused by policy is spooled for the worker to record, cut to
 * keep_max bytes: at the limit whole, one byte over cut with x-size.
 */
Test(submit, mail_refusal_cut_at_keep_max)
{
	struct submit_ctx	 c;
	struct submit_in	 in;
	struct submit_verdict	 v;
	unsigned char		*m;
	char			*f, *body, name[256], want[64];
	size_t			 len, flen;

	allow_add("example.com");
	ctx_init(&c);
	m = tu_load("google_mox_1.eml", &len);	/* test.xmox.nl */
	memset(&in, 0, sizeof(in));
	in.transport = SUBMIT_MAIL;
	in.buf = m;
	in.len = len;
	in.dkim = "none";

	c.keep_max = len;			/* at the limit */
	cr_expect_eq(submit_verdict(&c, &in, &v), SUBMIT_FORBIDDEN_DOMAIN);
	cr_expect_eq(v.kept, 1);
	cr_expect_eq(v.spool, SPOOL_STORED);
	f = only_file("new", name, sizeof(name), &flen, NULL);
	cr_expect(strstr(f, "\nx-reject: domain: report is about "
	    "test.xmox.nl, not a domain") != NULL, "%s", f);
	cr_expect(strstr(f, "x-size") == NULL, "%s", f);
	cr_assert_not_null(body = strstr(f, "\n\n"));
	cr_expect_eq(flen - (size_t)(body + 2 - f), len);
	free(f);
	cr_expect_eq(spool_remove(sp, name), 0);

	c.keep_max = len - 1;			/* one over */
	cr_expect_eq(submit_verdict(&c, &in, &v), SUBMIT_FORBIDDEN_DOMAIN);
	f = only_file("new", name, sizeof(name), &flen, NULL);
	snprintf(want, sizeof(want), "\nx-size: %zu\n", len);
	cr_expect(strstr(f, want) != NULL, "%s", f);
	cr_assert_not_null(body = strstr(f, "\n\n"));
	cr_expect_eq(flen - (size_t)(body + 2 - f), len - 1);
	free(f);

	/* untrusted under --require-dkim: the trust verdict as given */
	cr_expect_eq(spool_remove(sp, name), 0);
	free(allow.v[0]);
	allow.v[0] = NULL;
	allow.n = 0;
	c.require_dkim = 1;
	cr_expect_eq(submit_verdict(&c, &in, &v), SUBMIT_UNTRUSTED);
	cr_expect_str_eq(v.token, "dkim");
	cr_expect_str_eq(v.reason, "no passing DKIM signature of the "
	    "reporting domain (none)");
	f = only_file("new", name, sizeof(name), &flen, NULL);
	cr_expect(strstr(f, "\nx-reject: dkim: no passing") != NULL, "%s", f);
	free(f);
	cr_expect_eq(spool_remove(sp, name), 0);
	in.dkim = "pass d=xmox.nl aligned";
	in.trusted = 1;
	cr_expect_eq(submit_verdict(&c, &in, &v), SUBMIT_STORED);
	cr_expect_eq(v.trusted, 1);
	f = only_file("new", name, sizeof(name), &flen, NULL);
	cr_expect(strstr(f, "\nx-dkim: pass d=xmox.nl aligned\n") != NULL,
	    "%s", f);
	cr_expect(strstr(f, "x-reject") == NULL, "%s", f);
	free(f);
	free(m);
}

/* VmData of this process, bytes (/proc/self/status): what RLIMIT_DATA
 * counts, the reserve of malloc arenas excluded until it is used. */
static size_t
vm_data(void)
{
	FILE		*fp;
	char		 line[256];
	unsigned long	 kb = 0;

	if ((fp = fopen("/proc/self/status", "r")) == NULL)
		return 0;
	while (fgets(line, sizeof(line), fp) != NULL)
		if (sscanf(line, "VmData: %lu kB", &kb) == 1)
			break;
	fclose(fp);
	return (size_t)kb * 1024;
}

/*
 * Out of memory is ours, not the sender's: 503 (temporary), never a 400.
 * A child under a data limit (RLIMIT_DATA) 2 MiB above what it uses
 * submits a gzip body (within every limit) that needs 16 MiB to unzip.
 */
Test(submit, out_of_memory_is_temporary, .timeout = 60)
{
	struct submit_ctx	 c;
	struct submit_in	 in;
	struct submit_verdict	 v;
	struct rlimit		 rl;
	unsigned char		*json, *gz;
	size_t			 i, n = 16u << 20, gzlen;
	uint32_t		 x = 2463534242u;
	pid_t			 pid;
	int			 st;

#if defined(__SANITIZE_ADDRESS__)
	/* ASan's allocator maps its own regions: a data limit breaks it */
	cr_skip_test("an RLIMIT_DATA test: runs in the plain pass only");
#endif
	json = malloc(n);
	cr_assert_not_null(json);
	memcpy(json, "{\"x\":\"", 6);
	for (i = 6; i < n - 2; i++) {		/* xorshift: not compressible */
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		json[i] = "0123456789abcdef"[x & 15];
	}
	memcpy(json + n - 2, "\"}", 2);
	gz = tu_gzip(json, n, &gzlen);
	free(json);
	cr_assert_lt(gzlen, (size_t)LIM_COMPRESSED_MAX_BYTES);
	ctx_init(&c);
	in_https(&in, gz, gzlen);
	in.content_type = "application/tlsrpt+gzip";
	fflush(NULL);
	if ((pid = fork()) == 0) {
		/* big blocks from mmap(2), so that growing them needs room
		 * under the limit (not the reserve of a malloc arena) */
		mallopt(M_MMAP_THRESHOLD, 1 << 20);
		malloc_trim(0);
		rl.rlim_cur = rl.rlim_max = vm_data() + (2u << 20);
		if (setrlimit(RLIMIT_DATA, &rl) == -1)
			_exit(2);
		submit_verdict(&c, &in, &v);
		if (v.cls != SUBMIT_NOMEM)
			fprintf(stderr, "verdict %s %s: %s (vm %zu lim %zu)\n",
			    submit_class_str(v.cls), v.token, v.reason,
			    vm_data(), (size_t)rl.rlim_cur);
		_exit(v.cls == SUBMIT_NOMEM ? 0 : 10 + (int)v.cls);
	}
	cr_assert_gt(pid, 0);
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	cr_expect(WIFEXITED(st) && WEXITSTATUS(st) == 0, "status %d "
	    "(10 + class)", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
	/* and with the memory: the same body is a verdict of its own */
	cr_expect_neq(submit_verdict(&c, &in, &v), SUBMIT_NOMEM);
	free(gz);
}

/* Policies of unlisted domains: the report is accepted whole, flagged. */
Test(submit, foreign_policies_flagged)
{
	struct submit_ctx	 c;
	struct submit_in	 in;
	struct submit_verdict	 v;
	char			*json, *f, name[256];
	size_t			 len;

	allow_add("allowed.example");
	ctx_init(&c);
	json = stu_report("Org", "mixed", "2026-01-05", stu_join(
	    stu_policy("sts", "allowed.example", 1, 0, NULL),
	    stu_policy("sts", "foreign1.example", 1, 0, NULL),
	    stu_policy("tlsa", "foreign2.example", 1, 0, NULL), NULL));
	in_https(&in, json, strlen(json));
	cr_expect_eq(submit_verdict(&c, &in, &v), SUBMIT_STORED);
	cr_expect_eq(v.npolicies, 3);
	cr_expect_eq(v.foreign, 2);
	f = only_file("new", name, sizeof(name), &len, NULL);
	cr_expect(strstr(f, "\nx-foreign-policies: 2 of 3\n") != NULL, "%s",
	    f);
	free(f);
	cr_expect_eq(spool_remove(sp, name), 0);
	free(json);
	/* all listed: no flag */
	json = stu_report("Org", "listed", "2026-01-05", stu_join(
	    stu_policy("sts", "allowed.example", 1, 0, NULL),
	    stu_policy("tlsa", "mx.allowed.example", 1, 0, NULL), NULL));
	in_https(&in, json, strlen(json));
	cr_expect_eq(submit_verdict(&c, &in, &v), SUBMIT_STORED);
	cr_expect_eq(v.foreign, 0);
	f = only_file("new", name, sizeof(name), &len, NULL);
	cr_expect(strstr(f, "x-foreign-policies") == NULL, "%s", f);
	free(f);
	free(json);
}
