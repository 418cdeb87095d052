/*
 * test_amplify.c -- memory bounded by input, measured on the real
 * programs: tlsrpt-httpd ($TLSRPT_HTTPD_BIN) over real HTTPS with curl,
 * and `tlsrpt import --mail` ($TLSRPT_BIN), each with a real PostgreSQL.
 *
 * Every hostile shape is made here, in memory, at the size limits (a
 * 10 MiB body, 20 MiB of JSON under gzip at less than 1000:1), posted one
 * at a time; the daemon's peak RSS (VmHWM, reset through clear_refs
 * before each request) must stay under the documented bound of one parse,
 * LIM_PARSE_PEAK_BYTES (256 MiB), and each refusal must be answered
 * within 1 s (a generous functional deadline, not a speed figure); under
 * AddressSanitizer, whose own overhead is RSS and time too, three times
 * each.  The inputs the limits let through (a genuine report with
 * 100,000 failure details, junk just under the tree limit) are stored,
 * within the same bound, and the worker's second parse of them is
 * measured too.
 */

#define _GNU_SOURCE
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "daemon_testutil.h"
#include "store_testutil.h"
#include "testutil.h"
#include "tlsrpt_limits.h"

#ifdef __SANITIZE_ADDRESS__
/* AddressSanitizer's redzones, shadow and quarantine are RSS that is no
 * part of the program's: under it (the second pass of `make check`) the
 * bound is held at three times; the plain build holds the bound itself */
#define BOUND_KIB	(3 * (long)(LIM_PARSE_PEAK_BYTES / 1024))
/*
 * and its code runs several times slower: a 10 MiB refusal, upload over
 * TLS included, takes it 1.5 s here on a loaded 2-core machine (0.08 s
 * plain, issue 8), more beside a heavy test of the other Criterion job;
 * 10 s still fails the parse-it-all behaviour by far (16.8 s plain).
 */
#define REFUSE_SECS	10.0
#else
#define BOUND_KIB	((long)(LIM_PARSE_PEAK_BYTES / 1024))
#define REFUSE_SECS	1.0
#endif

static char		 tdir[256];
static pid_t		 dpid;
static int		 dport;
static char		 dlog[512];
static struct stu_db	 tdb;
static int		 have_db;

/* A growing buffer that is fast for millions of short appends. */
struct buf {
	char	*p;
	size_t	 len, cap;
};

static void
badd(struct buf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		b->cap = (b->len + n + 1) * 2;
		cr_assert_not_null(b->p = realloc(b->p, b->cap));
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void
bstr(struct buf *b, const char *s)
{
	badd(b, s, strlen(s));
}

static void
setup(void)
{
	snprintf(tdir, sizeof(tdir), "/tmp/tlsrpt-amplify-test.XXXXXX");
	cr_assert_not_null(mkdtemp(tdir));
	dpid = 0;
	have_db = 0;
}

static void
teardown(void)
{
	int	st;

	if (dpid > 0)
		(void)dtu_stop(dpid, SIGKILL, 200, &st);
	dpid = 0;
	if (have_db)
		stu_db_drop(&tdb);
	if (tdir[0] != '\0' && getenv("TLSRPT_TEST_KEEP") == NULL)
		(void)!system(dtu_S("rm -rf '%s'", tdir));
}

TestSuite(amplify, .init = setup, .fini = teardown, .timeout = 300);

static int
metrics_ok(void *arg)
{
	char	*out;
	int	 code;

	(void)arg;
	out = dtu_run("curl -sk --max-time 5 -o /dev/null -w '%%{http_code}' "
	    "https://127.0.0.1:%d/metrics", dport);
	code = atoi(out);
	free(out);
	return code == 200;
}

static void
start_httpd(void)
{
	char	*cmd;

	dtu_make_db(&tdb, &have_db, "amplify");
	dtu_sh("cd %s && printf 'cn = localhost\\nip_address = 127.0.0.1\\n"
	    "expiration_days = 30\\ntls_www_server\\nsigning_key\\n' > tmpl && "
	    "certtool --generate-privkey --key-type=ecdsa --outfile a.key "
	    ">/dev/null 2>&1 && certtool --generate-self-signed "
	    "--load-privkey a.key --template tmpl --outfile a.crt "
	    ">/dev/null 2>&1", tdir);
	dport = dtu_free_port();
	snprintf(dlog, sizeof(dlog), "%s/httpd.log", tdir);
	cr_assert_geq(asprintf(&cmd, "exec %s --listen 127.0.0.1:%d "
	    "--tls-cert %s/a.crt --tls-key %s/a.key --spool %s/spool "
	    "--db '%s' >>%s 2>&1", dtu_bin("TLSRPT_HTTPD_BIN",
	    "bin/tlsrpt-httpd"), dport, tdir, tdir, tdir, tdb.conninfo,
	    dlog), 0);
	dpid = dtu_spawn(cmd);
	free(cmd);
	cr_assert(dtu_wait_ready(dpid, metrics_ok, NULL, "tlsrpt-httpd",
	    dlog), "tlsrpt-httpd does not answer; see %s", dlog);
}

/* VmHWM of pid in KiB. */
static long
vmhwm(pid_t pid)
{
	char	 line[256];
	FILE	*fp;
	long	 kib = -1;

	cr_assert_not_null(fp = fopen(dtu_S("/proc/%d/status", (int)pid),
	    "r"));
	while (fgets(line, sizeof(line), fp) != NULL)
		if (sscanf(line, "VmHWM: %ld kB", &kib) == 1)
			break;
	fclose(fp);
	cr_assert_gt(kib, 0, "no VmHWM for %d", (int)pid);
	return kib;
}

/* Reset the peak RSS of pid to its RSS now (proc(5): clear_refs 5). */
static void
reset_hwm(pid_t pid)
{
	int	fd;

	cr_assert_geq(fd = open(dtu_S("/proc/%d/clear_refs", (int)pid),
	    O_WRONLY), 0, "clear_refs: %s", strerror(errno));
	cr_assert_eq(write(fd, "5", 1), 1, "clear_refs: %s", strerror(errno));
	close(fd);
}

struct answer {
	int	code;
	double	secs;	/* curl's time_total */
	long	hwm;	/* the daemon's peak RSS meanwhile, KiB */
};

/* POST buf (len bytes) as ctype, one request; the daemon's HWM is reset
 * before.  With settle, wait until the spool is empty (the worker has
 * parsed and stored it) before reading the peak. */
static struct answer
post(const char *name, const void *buf, size_t len, const char *ctype,
    int settle)
{
	struct answer	 a;
	const char	*path;
	char		*out;
	int		 i;

	path = dtu_S("%s/%s", tdir, name);
	dtu_write_file(path, buf, len);
	reset_hwm(dpid);
	out = dtu_run("curl -sk --max-time 60 -o /dev/null -w "
	    "'%%{http_code} %%{time_total}' -H 'Content-Type: %s' "
	    "--data-binary @%s https://127.0.0.1:%d/v1/report", ctype, path,
	    dport);
	cr_assert_eq(sscanf(out, "%d %lf", &a.code, &a.secs), 2, "curl: %s",
	    out);
	free(out);
	for (i = 0; settle && i < 600; i++) {
		/* new/ holds what waits for the worker, tmp/ what is
		 * being written; tmp/.pool.* are files the worker is done
		 * with, kept for reuse (core_spool_pool.c) */
		out = dtu_run("find %s/spool/new %s/spool/tmp -type f ! -name "
		    "'.pool.*' 2>/dev/null | wc -l", tdir, tdir);
		if (atoi(out) == 0) {
			free(out);
			break;
		}
		free(out);
		usleep(100 * 1000);
	}
	a.hwm = vmhwm(dpid);
	(void)unlink(path);
	return a;
}

/* ---- the shapes ------------------------------------------------------ */

/* A small valid report (one sts policy) without its closing brace. */
static char *
report_open(const char *id)
{
	char	*pol, *json;
	size_t	 n;

	pol = stu_policy("sts", "amp.example", 10, 0, NULL);
	json = stu_report("Amp Org", id, "2026-01-05", pol);
	free(pol);
	n = strlen(json);
	cr_assert(n > 0 && json[n - 1] == '}');
	json[n - 1] = '\0';
	return json;
}

/*
 * JSON of about size bytes: prefix, then item repeated with ',' until
 * the size, then suffix.  noise > 0 puts a pseudo-random run of spaces
 * after every noise-th item, so that gzip does not reach its best ratio
 * (the shape must stay under LIM_GZIP_RATIO_MAX to be "within limits").
 */
static void
fill(struct buf *b, const char *prefix, const char *item, size_t size,
    unsigned noise, const char *suffix)
{
	static const char	 sp[] = "        ";
	size_t			 il = strlen(item), sl = strlen(suffix), i;
	uint32_t		 x = 2463534242u;

	bstr(b, prefix);
	for (i = 0; b->len + il + 1 + 8 + sl <= size; i++) {
		if (i > 0)
			badd(b, ",", 1);
		badd(b, item, il);
		if (noise > 0 && i % noise == 0) {
			x ^= x << 13;
			x ^= x >> 17;
			x ^= x << 5;
			badd(b, sp, x % 8);
		}
	}
	bstr(b, suffix);
	cr_assert_leq(b->len, size);
}

struct shape {
	const char	*name;
	const char	*item;		/* repeated */
	int		 in_report;	/* under an unknown key of a report */
	int		 gzip;		/* 20 MiB of JSON, gzipped */
};

static const struct shape shapes[] = {
	{ "empty objects", "{}", 0, 0 },
	{ "empty objects", "{}", 0, 1 },
	{ "empty objects in a report", "{}", 1, 0 },
	{ "empty objects in a report", "{}", 1, 1 },
	{ "objects in objects", "{\"a\":{}}", 0, 1 },
	{ "empty arrays", "[]", 0, 0 },
	{ "nested arrays", "[[[]]]", 1, 1 },
	{ "zeros", "0", 1, 1 },
	{ "empty strings", "\"\"", 0, 1 },
	{ "one-member objects", "{\"k\":0}", 1, 1 },
};

/* The body of a shape: 10 MiB plain (the body limit), or 20 MiB of JSON
 * (the decompressed limit) gzipped within the ratio limit. */
static unsigned char *
shape_body(const struct shape *s, size_t *len, size_t *jsonlen)
{
	struct buf	 b = { 0 };
	unsigned char	*gz;
	char		*pre;
	size_t		 size;

	size = s->gzip ? LIM_JSON_MAX_BYTES : LIM_HTTP_BODY_MAX_BYTES;
	if (s->in_report) {
		pre = report_open("amp-junk");
		bstr(&b, pre);
		free(pre);
		fill(&b, ",\"x-junk\":[", s->item, size, s->gzip ? 64 : 0,
		    "]}");
	} else
		fill(&b, "{\"x\":[", s->item, size, s->gzip ? 64 : 0, "]}");
	*jsonlen = b.len;
	if (!s->gzip) {
		*len = b.len;
		return (unsigned char *)b.p;
	}
	gz = tu_gzip(b.p, b.len, len);
	free(b.p);
	/* within the limits: the test is only meaningful so */
	cr_assert_lt(*jsonlen / *len, LIM_GZIP_RATIO_MAX, "%s: ratio %zu",
	    s->name, *jsonlen / *len);
	cr_assert_leq(*len, LIM_HTTP_BODY_MAX_BYTES);
	return gz;
}

/* Every hostile JSON shape at the size limits is refused within 1 s,
 * with the daemon's peak RSS under the bound. */
Test(amplify, httpd_json_shapes)
{
	struct answer	 a;
	unsigned char	*body;
	size_t		 i, len, jl;
	long		 base;

	start_httpd();
	base = vmhwm(dpid);
	cr_log_info("amplify: tlsrpt-httpd at rest: %ld KiB", base);
	for (i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++) {
		body = shape_body(&shapes[i], &len, &jl);
		a = post("shape", body, len, shapes[i].gzip ?
		    "application/tlsrpt+gzip" : "application/tlsrpt+json", 1);
		free(body);
		cr_log_info("amplify: %s%s: %zu bytes (%zu JSON): %d in "
		    "%.2f s, peak RSS %ld KiB", shapes[i].name,
		    shapes[i].gzip ? " (gzip)" : "", len, jl, a.code, a.secs,
		    a.hwm);
		cr_expect_eq(a.code, 413, "%s: answered %d", shapes[i].name,
		    a.code);
		cr_expect_lt(a.secs, REFUSE_SECS, "%s: %.2f s", shapes[i].name,
		    a.secs);
		cr_expect_leq(a.hwm, BOUND_KIB, "%s: peak RSS %ld KiB",
		    shapes[i].name, a.hwm);
	}
}

/* Nesting past the limit and NUL in a string: 400, quickly. */
Test(amplify, httpd_depth_and_nul)
{
	struct answer	 a;
	struct buf	 b = { 0 };
	char		*pre;
	int		 i;

	start_httpd();
	pre = report_open("amp-deep");
	bstr(&b, pre);
	bstr(&b, ",\"x-deep\":");
	for (i = 0; i < 100000; i++)
		badd(&b, "[", 1);
	for (i = 0; i < 100000; i++)
		badd(&b, "]", 1);
	bstr(&b, "}");
	a = post("deep", b.p, b.len, "application/tlsrpt+json", 0);
	cr_log_info("amplify: nested 100,000 deep: %d in %.2f s, peak RSS "
	    "%ld KiB", a.code, a.secs, a.hwm);
	cr_expect_eq(a.code, 400);
	cr_expect_lt(a.secs, REFUSE_SECS);
	b.len = 0;
	bstr(&b, pre);
	bstr(&b, ",\"x-nul\":\"a\\u0000b\"}");
	a = post("nul", b.p, b.len, "application/tlsrpt+json", 0);
	cr_expect_eq(a.code, 400, "NUL: answered %d", a.code);
	free(pre);
	free(b.p);
	cr_expect_eq(stu_int(&tdb, "SELECT count(*) FROM tlsrpt.report"), 0);
}

/* What the limits let through is stored, within the bound: the genuine
 * report with 100,000 failure details, and junk just under the tree
 * limit (by README's cost table: 816 bytes an empty object in an array,
 * with 64 KiB left for the small report around it). */
Test(amplify, httpd_accepted_at_the_limits)
{
	struct answer	 a;
	struct buf	 b = { 0 }, d = { 0 };
	unsigned char	*gz;
	char		*pol, *json, *pre, item[256];
	size_t		 gl, i, n;

	start_httpd();
	for (i = 0; i < LIM_DETAILS_MAX; i++) {
		snprintf(item, sizeof(item), "%s{\"result-type\":"
		    "\"certificate-expired\",\"sending-mta-ip\":\"192.0.2.%zu\","
		    "\"receiving-ip\":\"198.51.100.%zu\",\"receiving-mx-hostname\":"
		    "\"mx%zu.amp.example\",\"failed-session-count\":1}",
		    i > 0 ? "," : "", i % 256, i % 200, i % 7);
		bstr(&d, item);
	}
	pol = stu_policy("sts", "amp.example", 0, LIM_DETAILS_MAX, d.p);
	json = stu_report("Amp Org", "amp-100k", "2026-01-06", pol);
	gz = tu_gzip(json, strlen(json), &gl);
	a = post("genuine", gz, gl, "application/tlsrpt+gzip", 1);
	cr_log_info("amplify: genuine report, 100,000 failure details: %zu "
	    "bytes (%zu JSON): %d in %.2f s, peak RSS %ld KiB (stored)", gl,
	    strlen(json), a.code, a.secs, a.hwm);
	cr_expect_eq(a.code, 201);
	cr_expect_leq(a.hwm, BOUND_KIB, "genuine: peak RSS %ld KiB", a.hwm);
	cr_expect_eq(stu_int(&tdb, "SELECT count(*) FROM tlsrpt.report"), 1);
	free(gz);
	free(json);
	free(pol);
	free(d.p);

	n = (LIM_JSON_TREE_BYTES - 64 * 1024) / 816;
	pre = report_open("amp-under");
	bstr(&b, pre);
	free(pre);
	bstr(&b, ",\"x-junk\":[");
	for (i = 0; i < n; i++)
		badd(&b, i > 0 ? ",{}" : "{}", i > 0 ? 3 : 2);
	bstr(&b, "]}");
	gz = tu_gzip(b.p, b.len, &gl);
	a = post("under", gz, gl, "application/tlsrpt+gzip", 1);
	cr_log_info("amplify: %zu empty objects under an unknown key: %zu "
	    "bytes (%zu JSON): %d in %.2f s, peak RSS %ld KiB (stored)", n, gl,
	    b.len, a.code, a.secs, a.hwm);
	cr_expect_eq(a.code, 201);
	cr_expect_leq(a.hwm, BOUND_KIB, "junk under the limit: peak RSS %ld "
	    "KiB", a.hwm);
	free(gz);
	free(b.p);
	cr_expect_eq(stu_int(&tdb, "SELECT count(*) FROM tlsrpt.report"), 2);
}

/* Run `tlsrpt import --mail FILE` as a child; its peak RSS (KiB) by
 * wait4(), its wall time, its stdout into out. */
static int
import_mail(const char *file, long *maxrss, double *secs, char *out,
    size_t outsz)
{
	struct rusage	 ru;
	struct timespec	 t0, t1;
	pid_t		 pid;
	int		 st, fd[2];
	ssize_t		 n;
	size_t		 got = 0;

	cr_assert_eq(pipe(fd), 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	cr_assert_geq(pid = fork(), 0);
	if (pid == 0) {
		dup2(fd[1], 1);
		dup2(fd[1], 2);
		close(fd[0]);
		close(fd[1]);
		execl(dtu_bin("TLSRPT_BIN", "bin/tlsrpt"), "tlsrpt", "import",
		    "--mail", "--db", tdb.conninfo, file, (char *)NULL);
		_exit(127);
	}
	close(fd[1]);
	while (got + 1 < outsz && (n = read(fd[0], out + got,
	    outsz - 1 - got)) > 0)
		got += (size_t)n;
	out[got] = '\0';
	close(fd[0]);
	cr_assert_eq(wait4(pid, &st, 0, &ru), pid);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	*maxrss = ru.ru_maxrss;
	*secs = (double)(t1.tv_sec - t0.tv_sec) +
	    (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	cr_assert(WIFEXITED(st), "tlsrpt import died: %d", st);
	return WEXITSTATUS(st);
}

/* A 15 MB mail of 1.5 million tiny parts, and 25 MiB of tiny header
 * fields: `tlsrpt import --mail` refuses both quickly, in bounded memory;
 * a real mail imports. */
Test(amplify, import_mail_parts)
{
	struct buf	 b = { 0 };
	const char	*path;
	char		 out[4096];
	double		 secs;
	long		 rss;
	size_t		 i;
	int		 rc;

	dtu_make_db(&tdb, &have_db, "amplify_mail");
	bstr(&b, "From: a@example.com\nTo: tlsrpt@example.net\nSubject: "
	    "parts\nMIME-Version: 1.0\nContent-Type: multipart/mixed; "
	    "boundary=\"b\"\n\n");
	for (i = 0; i < 1500000; i++)
		bstr(&b, "--b\n\nzzzz\n");
	bstr(&b, "--b--\n");
	path = dtu_S("%s/parts.eml", tdir);
	dtu_write_file(path, b.p, b.len);
	rc = import_mail(path, &rss, &secs, out, sizeof(out));
	cr_log_info("amplify: import --mail, 1,500,000 parts (%zu bytes): "
	    "exit %d in %.2f s, peak RSS %ld KiB: %s", b.len, rc, secs, rss,
	    out);
	cr_expect_eq(rc, 1, "%s", out);
	cr_expect_not_null(strstr(out, "rejected"), "%s", out);
	cr_expect_lt(secs, REFUSE_SECS, "%.2f s", secs);
	cr_expect_leq(rss, BOUND_KIB, "peak RSS %ld KiB", rss);

	b.len = 0;
	bstr(&b, "From: a@example.com\nTo: tlsrpt@example.net\nSubject: "
	    "headers\nMIME-Version: 1.0\n");
	while (b.len + 8 < LIM_MAIL_MAX_BYTES - 64)
		bstr(&b, "X-A: b\n");
	bstr(&b, "\n{}\n");
	path = dtu_S("%s/headers.eml", tdir);
	dtu_write_file(path, b.p, b.len);
	rc = import_mail(path, &rss, &secs, out, sizeof(out));
	cr_log_info("amplify: import --mail, %zu header fields (%zu bytes): "
	    "exit %d in %.2f s, peak RSS %ld KiB: %s", (b.len - 100) / 7,
	    b.len, rc, secs, rss, out);
	cr_expect_eq(rc, 1, "%s", out);
	cr_expect_lt(secs, REFUSE_SECS, "%.2f s", secs);
	cr_expect_leq(rss, BOUND_KIB, "peak RSS %ld KiB", rss);
	free(b.p);

	rc = import_mail(dtu_S("%s/google_mox_1.eml", tu_corpus_dir()), &rss,
	    &secs, out, sizeof(out));
	cr_expect_eq(rc, 0, "a real mail: %s", out);
	cr_expect_not_null(strstr(out, "stored"), "%s", out);
}
