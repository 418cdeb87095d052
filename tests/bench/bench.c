/*
 * bench.c -- ingest and import throughput of tlsrpt-collector.
 *
 * Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
 *
 * Usage: bench [-n typical] [-l large] [-r repeats] [-g dir]
 *
 * Generates a corpus (gen.c), then measures on the same input:
 *   a. the bare libraries: zlib inflate + json_tokener_parse_ex (a2: the
 *      tokener set up as ingest sets it up);
 *   b. ingest with a reusable parser (as import and the worker run it):
 *      inflate, parse, every check, the walk;
 *   c. with TLSRPT_DB set (tests/with-pg.sh): store_put_reports() in
 *      batches into a fresh database, COPY of the same rows into the same
 *      (truncated) tables, checked to be the rows store_put_reports
 *      wrote, and `tlsrpt import DIR` end to end when TLSRPT_BIN is an
 *      executable;
 * and prints them with the machine.  Each figure is the best of a few
 * runs.  Nothing here asserts a time: the targets are printed beside the
 * figures.  -g DIR only writes the corpus to DIR and exits.
 *
 * This program talks to libpq directly for the COPY baseline and the
 * database set-up; that is the one reason it includes libpq-fe.h.
 */

#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>
#include <libpq-fe.h>
#include <nettle/version.h>
#include <zlib.h>

#include "gen.h"
#include "ingest.h"
#include "store.h"
#include "store_rows.h"

#define BENCH_DB		"tlsrpt_bench"
#define BENCH_BATCH		500	/* reports per store_put_reports() */
#define BENCH_RECEIVED_AT	1767916800	/* 2026-01-09T00:00:00Z */
#define COPY_FLUSH_BYTES	(256 * 1024)
#define MB			(1000.0 * 1000.0)

#define TRUNCATE_SQL							\
	"TRUNCATE tlsrpt.report, tlsrpt.report_raw, tlsrpt.policy,"	\
	" tlsrpt.failure_detail, tlsrpt.arrival, tlsrpt.rollup,"	\
	" tlsrpt.rejection"

struct set {
	const struct gen_report	*g;	/* borrowed */
	size_t			 n;
	size_t			 gzbytes;
	size_t			 jsonbytes;
};

/* A COPY text stream being built, flushed to the server in chunks. */
struct cbuf {
	PGconn	*conn;
	char	*p;
	size_t	 len;
	size_t	 cap;
	int	 bad;
};

/* A table store_put_reports writes, and how one report becomes its rows. */
struct copy_target {
	const char	*table;
	const char	*columns;
	void		(*row)(struct cbuf *, const struct tlsrpt_report *);
	const char	*verify;	/* compared: the columns, report_no
					 * as the report's key (schema 009) */
};

/* The columns compared: the key of the report a row hangs off, then
 * the rest (report_no is numbered differently by the two writers). */
#define VERIFY_KEY							\
	"(SELECT r.report_key FROM tlsrpt.report r"			\
	" WHERE r.report_no = t.report_no) AS report_key, "

static double	now(void);
static void	usage(void);
static void	print_machine(void);
static void	set_of(struct set *, const struct gen_report *, size_t);
static int	bare_run(const struct set *, int, double *);
static int	ingest_run(const struct set *, double *);
static int	ingest_all(const struct gen_report *, size_t,
		    struct tlsrpt_report ***);
static int	conninfo_db(const char *, const char *, char *, size_t);
static void	quiet(void *, const char *);
static PGconn	*db_connect(const char *);
static int	db_exec(PGconn *, const char *);
static int	db_fresh(const char *, const char *);
static int	store_run(const char *, struct tlsrpt_report **, size_t,
		    double *);
static int	copy_run(PGconn *, struct tlsrpt_report **, size_t,
		    double *);
static int	cli_run(const char *, const char *, const char *, double *);
static long long db_count(PGconn *, const char *);
static void	cb_raw(struct cbuf *, const char *, size_t);
static void	cb_text(struct cbuf *, const char *);
static void	cb_hex(struct cbuf *, const unsigned char *, size_t);
static void	cb_array(struct cbuf *, const char *const *, size_t);
static void	cb_time(struct cbuf *, int64_t);
static void	cb_int(struct cbuf *, long long);
static void	cb_bool(struct cbuf *, int);
static void	cb_tab(struct cbuf *);
static void	cb_end(struct cbuf *);
static int	cb_flush(struct cbuf *, int);
static int	copy_table(PGconn *, const char *, struct tlsrpt_report **,
		    size_t, void (*)(struct cbuf *,
		    const struct tlsrpt_report *));
static void	row_report(struct cbuf *, const struct tlsrpt_report *);
static void	row_raw(struct cbuf *, const struct tlsrpt_report *);
static void	row_policy(struct cbuf *, const struct tlsrpt_report *);
static void	row_detail(struct cbuf *, const struct tlsrpt_report *);
static void	row_arrival(struct cbuf *, const struct tlsrpt_report *);
static int	rmtree(const char *);
static long long bench_no(const struct tlsrpt_report *);
static void	cb_mx(struct cbuf *, const struct tlsrpt_policy *);
static long long verify_rows(PGconn *, int);

static const struct copy_target	copy_targets[] = {
	{ "report", "report_no, report_key, sha256, org_name, reporter, "
	    "report_id, contact_info, date_start, date_end, warnings, "
	    "was_gzip, filename, hdr_domain, hdr_submitter, subject, "
	    "received_at", row_report, "report_key, sha256, org_name, "
	    "reporter, report_id, contact_info, date_start, date_end, "
	    "warnings, was_gzip, filename, hdr_domain, hdr_submitter, "
	    "subject, received_at" },
	{ "report_raw", "report_no, sha256, body", row_raw,
	    VERIFY_KEY "sha256, body" },
	{ "policy", "report_no, idx, policy_domain, policy_type, "
	    "policy_type_raw, domain_source, policy_strings, mx_hosts, "
	    "sts_version_ok, sts_mode, sts_max_age, sts_mx, sts_problems, "
	    "successful_sessions, failed_sessions, counted", row_policy,
	    VERIFY_KEY "idx, policy_domain, policy_type, "
	    "policy_type_raw, domain_source, policy_strings, mx_hosts, "
	    "sts_version_ok, sts_mode, sts_max_age, sts_mx, sts_problems, "
	    "successful_sessions, failed_sessions, counted" },
	{ "failure_detail", "report_no, policy_idx, idx, "
	    "result_type, result_known, sending_ip, sending_ip_inet, "
	    "receiving_ip, receiving_ip_inet, receiving_mx, receiving_helo, "
	    "additional_info, reason_code, failed_sessions", row_detail,
	    VERIFY_KEY "policy_idx, idx, "
	    "result_type, result_known, sending_ip, sending_ip_inet, "
	    "receiving_ip, receiving_ip_inet, receiving_mx, receiving_helo, "
	    "additional_info, reason_code, failed_sessions" },
	{ "arrival", "received_at, source, origin, outcome, report_no, "
	    "sha256, reason, note", row_arrival,
	    VERIFY_KEY "received_at, source, origin, outcome, "
	    "sha256, reason, note" },
	{ NULL, NULL, NULL, NULL },
};

static int	repeats = 5;	/* of a and b; c does at most 3 */
#define DB_REPEATS	(repeats < 3 ? repeats : 3)
#define CLI_REPEATS	(repeats < 2 ? repeats : 2)

static double
now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
usage(void)
{
	fprintf(stderr, "usage: bench [-n typical] [-l large] [-r repeats] "
	    "[-g dir]\n");
	exit(2);
}

int
main(int argc, char *argv[])
{
	struct gen_report	 *g = NULL;
	struct tlsrpt_report	**reps = NULL;
	struct set		  typ, big;
	PGconn			 *conn = NULL;
	const char		 *db, *bin, *gendir = NULL, *errstr;
	char			  tmpl[PATH_MAX], ci[4096];
	double			  t0, x, ta, tb, tta, ttb, tsa, ts, tc, tcli;
	size_t			  ntyp = 10000, nbig = 5, n, i;
	long long		  nrows, ndiff = -1;
	int			  ch, rv = 1, have_dir = 0;

	while ((ch = getopt(argc, argv, "g:l:n:r:")) != -1) {
		switch (ch) {
		case 'g':
			gendir = optarg;
			break;
		case 'l':
			nbig = strtoul(optarg, NULL, 10);
			break;
		case 'n':
			ntyp = strtoul(optarg, NULL, 10);
			break;
		case 'r':
			repeats = atoi(optarg);
			if (repeats < 1)
				usage();
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
	n = ntyp + nbig;
	setvbuf(stdout, NULL, _IOLBF, 0);

	t0 = now();
	if (gen_corpus(ntyp, nbig, &g) == -1) {
		fprintf(stderr, "bench: generating the corpus: out of "
		    "memory\n");
		goto out;
	}
	if (gendir != NULL) {
		if (mkdir(gendir, 0755) == -1 && errno != EEXIST) {
			fprintf(stderr, "bench: %s: %s\n", gendir,
			    strerror(errno));
			goto out;
		}
		if (gen_write(gendir, g, n) == -1) {
			fprintf(stderr, "bench: writing into %s: %s\n", gendir,
			    strerror(errno));
			goto out;
		}
		printf("%zu reports written to %s\n", n, gendir);
		rv = 0;
		goto out;
	}
	set_of(&typ, g, ntyp);
	set_of(&big, g + ntyp, nbig);

	printf("tlsrpt-collector bench\n\n");
	print_machine();
	printf("corpus     %zu typical reports (2 policies, 5 failure "
	    "details; mean %.0f B JSON, %.0f B gzip)\n"
	    "           + %zu large (2,000 failure details; mean %.0f KB "
	    "JSON, %.0f KB gzip)\n"
	    "           generated and gzipped (zlib level 6) in %.2f s\n"
	    "           each figure is the best of %d runs (import: %d, "
	    "tlsrpt import: %d)\n\n",
	    typ.n, typ.n ? (double)typ.jsonbytes / typ.n : 0.0,
	    typ.n ? (double)typ.gzbytes / typ.n : 0.0, big.n,
	    big.n ? (double)big.jsonbytes / big.n / 1000 : 0.0,
	    big.n ? (double)big.gzbytes / big.n / 1000 : 0.0, now() - t0,
	    repeats, DB_REPEATS, CLI_REPEATS);

	/* a and b, alternated so that drift hits both alike */
	ta = tb = tta = ttb = tsa = 0;
	for (i = 0; i < (size_t)repeats; i++) {
		if (bare_run(&typ, 0, &x) == -1)
			goto out;
		ta = (i == 0 || x < ta) ? x : ta;
		if (bare_run(&typ, 1, &x) == -1)
			goto out;
		tsa = (i == 0 || x < tsa) ? x : tsa;
		if (ingest_run(&typ, &x) == -1)
			goto out;
		tb = (i == 0 || x < tb) ? x : tb;
		if (bare_run(&big, 0, &x) == -1)
			goto out;
		tta = (i == 0 || x < tta) ? x : tta;
		if (ingest_run(&big, &x) == -1)
			goto out;
		ttb = (i == 0 || x < ttb) ? x : ttb;
	}
	printf("%-46s %11s %9s %9s\n", "measurement", "reports/s",
	    "MB/s gz", "MB/s json");
	printf("%-46s %11.0f %9.1f %9.1f\n",
	    "a  typical: inflate + json_tokener_parse_ex", typ.n / ta,
	    typ.gzbytes / ta / MB, typ.jsonbytes / ta / MB);
	printf("%-46s %11.0f %9.1f %9.1f   a2/a %3.0f%%\n",
	    "a2 typical: same, tokener set up as ingest's", typ.n / tsa,
	    typ.gzbytes / tsa / MB, typ.jsonbytes / tsa / MB, 100 * ta / tsa);
	printf("%-46s %11.0f %9.1f %9.1f   b/a %3.0f%% (target >= 80%%)\n",
	    "b  typical: ingest (parser)", typ.n / tb, typ.gzbytes / tb / MB,
	    typ.jsonbytes / tb / MB, 100 * ta / tb);
	if (big.n > 0) {
		printf("%-46s %11.1f %9.1f %9.1f\n",
		    "a  large: inflate + json_tokener_parse_ex", big.n / tta,
		    big.gzbytes / tta / MB, big.jsonbytes / tta / MB);
		printf("%-46s %11.1f %9.1f %9.1f   b/a %3.0f%%\n",
		    "b  large: ingest (parser)", big.n / ttb,
		    big.gzbytes / ttb / MB, big.jsonbytes / ttb / MB,
		    100 * tta / ttb);
	}

	if ((db = getenv("TLSRPT_DB")) == NULL || *db == '\0') {
		printf("\nc  skipped: TLSRPT_DB is not set (make bench runs "
		    "this under tests/with-pg.sh)\n");
		rv = 0;
		goto out;
	}
	if (ingest_all(g, n, &reps) == -1)
		goto out;
	if (conninfo_db(db, BENCH_DB, ci, sizeof(ci)) == -1)
		goto out;
	if (db_fresh(db, BENCH_DB) == -1 || (conn = db_connect(ci)) == NULL)
		goto out;

	/* c1 and c2 alternate over the same, truncated, tables */
	ts = tc = 0;
	for (i = 0; i < (size_t)DB_REPEATS; i++) {
		if (db_exec(conn, TRUNCATE_SQL) == -1 ||
		    db_exec(conn, "CHECKPOINT") == -1 ||
		    store_run(ci, reps, n, &x) == -1)
			goto out;
		ts = (i == 0 || x < ts) ? x : ts;
		if ((nrows = db_count(conn, "tlsrpt.report")) != (long long)n)
			printf("   (store_put_reports: %lld reports in the "
			    "table, want %zu)\n", nrows, n);
		if (i == 0 && verify_rows(conn, 1) == -1)
			goto out;
		if (db_exec(conn, TRUNCATE_SQL) == -1 ||
		    db_exec(conn, "CHECKPOINT") == -1 ||
		    copy_run(conn, reps, n, &x) == -1)
			goto out;
		tc = (i == 0 || x < tc) ? x : tc;
		if (i == 0 && (ndiff = verify_rows(conn, 0)) == -1)
			goto out;
	}
	printf("\n%-46s %11s\n", "import into PostgreSQL (all reports, "
	    "parsed)", "reports/s");
	printf("%-46s %11.0f   %.2f s for %zu reports\n",
	    "c  store_put_reports, batches of 500", n / ts, ts, n);
	printf("%-46s %11.0f   %.2f s\n",
	    "c  COPY text, same rows and tables", n / tc, tc);
	printf("%-46s %10.0f%%   (target >= 60%%, >= 5,000 reports/s: "
	    "%s)\n", "   store / COPY", 100 * tc / ts,
	    n / ts >= 5000 ? "met" : "NOT met");
	printf("   COPY writes the report, report_raw, policy, failure_detail "
	    "and arrival rows;\n   they are the rows store_put_reports "
	    "wrote: %s.  store_put_reports\n   also keeps tlsrpt.rollup "
	    "current, which COPY does not.\n", ndiff == 0 ? "checked, "
	    "identical" : "NO, see above");

	bin = getenv("TLSRPT_BIN");
	if (bin == NULL || access(bin, X_OK) == -1) {
		printf("\nc  tlsrpt import: skipped (no executable "
		    "TLSRPT_BIN: %s)\n", bin == NULL ? "unset" : bin);
		rv = 0;
		goto out;
	}
	snprintf(tmpl, sizeof(tmpl), "%s/tlsrpt-bench.XXXXXX",
	    getenv("TMPDIR") != NULL ? getenv("TMPDIR") : "/tmp");
	if (mkdtemp(tmpl) == NULL) {
		fprintf(stderr, "bench: mkdtemp %s: %s\n", tmpl,
		    strerror(errno));
		goto out;
	}
	have_dir = 1;
	if (gen_write(tmpl, g, n) == -1) {
		fprintf(stderr, "bench: writing into %s: %s\n", tmpl,
		    strerror(errno));
		goto out;
	}
	tcli = 0;
	for (i = 0; i < (size_t)CLI_REPEATS; i++) {
		if (db_exec(conn, TRUNCATE_SQL) == -1 ||
		    db_exec(conn, "CHECKPOINT") == -1)
			goto out;
		if (cli_run(bin, ci, tmpl, &x) == -1) {
			printf("\nc  tlsrpt import: failed (see above); not "
			    "timed\n");
			rv = 0;
			goto out;
		}
		tcli = (i == 0 || x < tcli) ? x : tcli;
	}
	nrows = db_count(conn, "tlsrpt.report");
	errstr = nrows == (long long)n ? "" : " (NOT all stored)";
	printf("%-46s %11.0f   %.2f s, %lld reports stored%s\n",
	    "c  tlsrpt import DIR (end to end)", n / tcli, tcli, nrows,
	    errstr);
	rv = 0;
 out:
	if (have_dir && rmtree(tmpl) == -1)
		fprintf(stderr, "bench: removing %s: %s\n", tmpl,
		    strerror(errno));
	if (reps != NULL)
		for (i = 0; i < n; i++)
			tlsrpt_report_free(reps[i]);
	free(reps);
	if (conn != NULL)
		PQfinish(conn);
	gen_free(g, n);
	return rv;
}

static void
set_of(struct set *s, const struct gen_report *g, size_t n)
{
	size_t	i;

	memset(s, 0, sizeof(*s));
	s->g = g;
	s->n = n;
	for (i = 0; i < n; i++) {
		s->gzbytes += g[i].gzlen;
		s->jsonbytes += g[i].jsonlen;
	}
}

static void
print_machine(void)
{
	struct utsname	 u;
	FILE		*fp;
	char		 line[512], cpu[256] = "unknown", *p;
	long long	 memkb = 0;
	PGconn		*conn = NULL;
	const char	*db, *sv = NULL;

	if ((fp = fopen("/proc/cpuinfo", "r")) != NULL) {
		while (fgets(line, sizeof(line), fp) != NULL)
			if (strncmp(line, "model name", 10) == 0 &&
			    (p = strchr(line, ':')) != NULL) {
				p += strspn(p + 1, " \t") + 1;
				p[strcspn(p, "\n")] = '\0';
				snprintf(cpu, sizeof(cpu), "%s", p);
				break;
			}
		fclose(fp);
	}
	if ((fp = fopen("/proc/meminfo", "r")) != NULL) {
		while (fgets(line, sizeof(line), fp) != NULL)
			if (sscanf(line, "MemTotal: %lld kB", &memkb) == 1)
				break;
		fclose(fp);
	}
	if (uname(&u) == -1)
		memset(&u, 0, sizeof(u));
	if ((db = getenv("TLSRPT_DB")) != NULL && *db != '\0') {
		conn = PQconnectdb(db);
		if (PQstatus(conn) == CONNECTION_OK)
			sv = PQparameterStatus(conn, "server_version");
	}
	printf("machine    %s, %ld cores online, %.1f GiB RAM\n", cpu,
	    sysconf(_SC_NPROCESSORS_ONLN), (double)memkb / (1024 * 1024));
	printf("kernel     %s %s %s\n", u.sysname, u.release, u.machine);
#if defined(__clang__)
	printf("compiler   clang %s", __clang_version__);
#elif defined(__GNUC__)
	printf("compiler   gcc %s", __VERSION__);
#else
	printf("compiler   unknown");
#endif
#ifdef __OPTIMIZE__
	printf(" (optimised)\n");
#else
	printf(" (NOT optimised: figures are meaningless)\n");
#endif
	printf("libraries  zlib %s, json-c %s, nettle %d.%d, libpq %d, "
	    "PostgreSQL server %s\n\n", zlibVersion(), json_c_version(),
	    nettle_version_major(), nettle_version_minor(), PQlibVersion(),
	    sv != NULL ? sv : "(not connected)");
	if (conn != NULL)
		PQfinish(conn);
}

/*
 * The bare libraries: one inflate stream and one tokener reused with
 * their reset calls, the output buffer sized from the gzip trailer.  With
 * strict, the tokener is set up as ingest sets it up (a new one per
 * report, depth limit, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8)
 * to tell the cost of those options from that of ingest's own code.
 */
static int
bare_run(const struct set *s, int strict, double *secs)
{
	z_stream		 zs;
	struct json_tokener	*tok = NULL;
	struct json_object	*obj;
	unsigned char		*out = NULL;
	const unsigned char	*gz;
	size_t			 i, cap = 0, need;
	double			 t0;
	int			 rv = -1, inited = 0;

	memset(&zs, 0, sizeof(zs));
	if (inflateInit2(&zs, 15 + 16) != Z_OK)
		goto out;
	inited = 1;
	if (!strict && (tok = json_tokener_new()) == NULL)
		goto out;
	t0 = now();
	for (i = 0; i < s->n; i++) {
		gz = s->g[i].gz;
		need = (size_t)gz[s->g[i].gzlen - 4] |
		    (size_t)gz[s->g[i].gzlen - 3] << 8 |
		    (size_t)gz[s->g[i].gzlen - 2] << 16 |
		    (size_t)gz[s->g[i].gzlen - 1] << 24;
		if (need + 1 > cap) {
			free(out);
			cap = need + 1;
			if ((out = malloc(cap)) == NULL)
				goto out;
		}
		inflateReset(&zs);
		zs.next_in = gz;
		zs.avail_in = (uInt)s->g[i].gzlen;
		zs.next_out = out;
		zs.avail_out = (uInt)cap;
		if (inflate(&zs, Z_FINISH) != Z_STREAM_END) {
			fprintf(stderr, "bench: inflate failed on %s\n",
			    s->g[i].name);
			goto out;
		}
		if (strict) {
			if ((tok = json_tokener_new_ex(16)) == NULL)
				goto out;
			json_tokener_set_flags(tok, JSON_TOKENER_STRICT |
			    JSON_TOKENER_VALIDATE_UTF8);
		} else
			json_tokener_reset(tok);
		obj = json_tokener_parse_ex(tok, (const char *)out,
		    (int)zs.total_out);
		if (strict) {
			json_tokener_free(tok);
			tok = NULL;
		}
		if (obj == NULL) {
			fprintf(stderr, "bench: json-c failed on %s\n",
			    s->g[i].name);
			goto out;
		}
		json_object_put(obj);
	}
	*secs = now() - t0;
	rv = 0;
 out:
	if (tok != NULL)
		json_tokener_free(tok);
	if (inited)
		inflateEnd(&zs);
	free(out);
	return rv;
}

/* ingest as the importer and the ingest worker run it: one reusable
 * parser (zlib stream, tokener, buffer kept), every check, the walk. */
static int
ingest_run(const struct set *s, double *secs)
{
	struct ingest_limits	 lim;
	struct ingest_parser	*p;
	struct ingest_err	 err;
	struct tlsrpt_report	*rep;
	enum ingest_status	 st;
	size_t			 i;
	double			 t0;
	int			 rv = -1;

	ingest_limits_default(&lim);
	if ((p = ingest_parser_new(&lim)) == NULL)
		return -1;
	t0 = now();
	for (i = 0; i < s->n; i++) {
		st = ingest_parser_payload(p, s->g[i].gz, s->g[i].gzlen, NULL,
		    &rep, &err);
		if (st != INGEST_OK) {
			fprintf(stderr, "bench: ingest: %s: %s: %s\n",
			    s->g[i].name, ingest_status_str(st), err.msg);
			goto out;
		}
		tlsrpt_report_free(rep);
	}
	*secs = now() - t0;
	rv = 0;
 out:
	ingest_parser_free(p);
	return rv;
}

/* Parse every report once, with its file name, for the import runs. */
static int
ingest_all(const struct gen_report *g, size_t n, struct tlsrpt_report ***out)
{
	struct tlsrpt_report	**reps;
	struct ingest_limits	  lim;
	struct ingest_meta	  meta;
	struct ingest_err	  err;
	enum ingest_status	  st;
	size_t			  i;

	if ((reps = calloc(n == 0 ? 1 : n, sizeof(*reps))) == NULL)
		return -1;
	ingest_limits_default(&lim);
	memset(&meta, 0, sizeof(meta));
	for (i = 0; i < n; i++) {
		meta.filename = g[i].name;
		st = ingest_payload(g[i].gz, g[i].gzlen, &meta, &lim, &reps[i],
		    &err);
		if (st != INGEST_OK) {
			fprintf(stderr, "bench: ingest_payload: %s: %s: %s\n",
			    g[i].name, ingest_status_str(st), err.msg);
			while (i-- > 0)
				tlsrpt_report_free(reps[i]);
			free(reps);
			return -1;
		}
	}
	*out = reps;
	return 0;
}

/*
 * conninfo with its database replaced by db, as a keyword=value string
 * (conninfo may be a URI).
 */
static int
conninfo_db(const char *conninfo, const char *db, char *dst, size_t sz)
{
	PQconninfoOption	*opts, *o;
	char			*err = NULL;
	size_t			 len = 0;
	const char		*v, *kw;
	int			 rv = -1;

	if ((opts = PQconninfoParse(conninfo, &err)) == NULL) {
		fprintf(stderr, "bench: TLSRPT_DB: %s", err != NULL ? err :
		    "out of memory\n");
		PQfreemem(err);
		return -1;
	}
	dst[0] = '\0';
	for (o = opts; ; o++) {
		if (o->keyword != NULL && strcmp(o->keyword, "dbname") == 0)
			continue;
		kw = o->keyword != NULL ? o->keyword : "dbname";
		v = o->keyword != NULL ? o->val : db;
		if (v != NULL) {
			if (len + strlen(kw) + 2 * strlen(v) + 5 >= sz)
				goto out;
			len += (size_t)snprintf(dst + len, sz - len, "%s%s='",
			    len ? " " : "", kw);
			for (; *v != '\0'; v++) {
				if (*v == '\'' || *v == '\\')
					dst[len++] = '\\';
				dst[len++] = *v;
			}
			dst[len++] = '\'';
			dst[len] = '\0';
		}
		if (o->keyword == NULL)
			break;
	}
	rv = 0;
 out:
	if (rv == -1)
		fprintf(stderr, "bench: TLSRPT_DB is too long\n");
	PQconninfoFree(opts);
	return rv;
}

/* NOTICEs such as "database does not exist, skipping" are not news. */
static void
quiet(void *arg, const char *msg)
{
}

static PGconn *
db_connect(const char *conninfo)
{
	PGconn	*conn;

	conn = PQconnectdb(conninfo);
	if (PQstatus(conn) != CONNECTION_OK) {
		fprintf(stderr, "bench: connecting: %s",
		    PQerrorMessage(conn));
		PQfinish(conn);
		return NULL;
	}
	PQsetNoticeProcessor(conn, quiet, NULL);
	return conn;
}

static int
db_exec(PGconn *conn, const char *sql)
{
	PGresult	*res;
	int		 rv = 0;

	res = PQexec(conn, sql);
	if (PQresultStatus(res) != PGRES_COMMAND_OK &&
	    PQresultStatus(res) != PGRES_TUPLES_OK) {
		fprintf(stderr, "bench: %s: %s", sql, PQerrorMessage(conn));
		rv = -1;
	}
	PQclear(res);
	return rv;
}

static long long
db_count(PGconn *conn, const char *table)
{
	PGresult	*res;
	char		 sql[8192];
	long long	 n = -1;

	snprintf(sql, sizeof(sql), "SELECT count(*) FROM %s%s%s",
	    *table == '(' ? "(" : "", table, *table == '(' ? ") AS x" : "");
	res = PQexec(conn, sql);
	if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1)
		n = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	else
		fprintf(stderr, "bench: %s: %s", sql, PQerrorMessage(conn));
	PQclear(res);
	return n;
}

/* A fresh database db on the server of conninfo, migrated by store/. */
static int
db_fresh(const char *conninfo, const char *db)
{
	struct store	*st = NULL;
	PGconn		*conn;
	char		 sql[256], ci[4096], err[256];
	int		 rv = -1;

	if ((conn = db_connect(conninfo)) == NULL)
		return -1;
	snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS %s", db);
	if (db_exec(conn, sql) == -1)
		goto out;
	snprintf(sql, sizeof(sql), "CREATE DATABASE %s", db);
	if (db_exec(conn, sql) == -1)
		goto out;
	if (conninfo_db(conninfo, db, ci, sizeof(ci)) == -1)
		goto out;
	if ((st = store_open(ci, err, sizeof(err))) == NULL) {
		fprintf(stderr, "bench: store_open: %s\n", err);
		goto out;
	}
	if (store_migrate(st, NULL) == -1) {
		fprintf(stderr, "bench: store_migrate: %s\n",
		    store_errstr(st));
		goto out;
	}
	rv = 0;
 out:
	store_close(st);
	PQfinish(conn);
	return rv;
}

/* store_put_reports in batches; the connection is opened untimed. */
static int
store_run(const char *conninfo, struct tlsrpt_report **reps, size_t n,
    double *secs)
{
	struct store		*st;
	struct store_arrival	*arr = NULL;
	enum store_outcome	*out = NULL;
	char			 err[256];
	size_t			 i, k, stored = 0, dup = 0, failed = 0;
	double			 t0;
	int			 rv = -1;

	if ((st = store_open(conninfo, err, sizeof(err))) == NULL) {
		fprintf(stderr, "bench: store_open: %s\n", err);
		return -1;
	}
	if ((arr = calloc(n == 0 ? 1 : n, sizeof(*arr))) == NULL ||
	    (out = calloc(n == 0 ? 1 : n, sizeof(*out))) == NULL)
		goto out;
	for (i = 0; i < n; i++) {
		arr[i].source = "file";
		arr[i].origin = reps[i]->filename;
		arr[i].received_at = BENCH_RECEIVED_AT;
	}
	t0 = now();
	for (i = 0; i < n; i += k) {
		k = n - i < BENCH_BATCH ? n - i : BENCH_BATCH;
		if (store_put_reports(st, reps + i, arr + i, k,
		    out + i) == -1) {
			fprintf(stderr, "bench: store_put_reports: %s\n",
			    store_errstr(st));
			goto out;
		}
	}
	*secs = now() - t0;
	for (i = 0; i < n; i++) {
		if (out[i] == STORE_STORED)
			stored++;
		else if (out[i] == STORE_DUPLICATE)
			dup++;
		else
			failed++;
	}
	if (stored != n)
		printf("   (store_put_reports: %zu stored, %zu duplicate, "
		    "%zu failed; last error: %s)\n", stored, dup, failed,
		    store_errstr(st));
	rv = 0;
 out:
	free(arr);
	free(out);
	store_close(st);
	return rv;
}

/* The rows of every report, COPYed table by table in one transaction. */
static int
copy_run(PGconn *conn, struct tlsrpt_report **reps, size_t n, double *secs)
{
	const struct copy_target	*ct;
	char				 sql[1024];
	double				 t0;

	t0 = now();
	if (db_exec(conn, "BEGIN") == -1)
		return -1;
	for (ct = copy_targets; ct->table != NULL; ct++) {
		snprintf(sql, sizeof(sql), "COPY tlsrpt.%s (%s) FROM STDIN",
		    ct->table, ct->columns);
		if (copy_table(conn, sql, reps, n, ct->row) == -1) {
			db_exec(conn, "ROLLBACK");
			return -1;
		}
	}
	if (db_exec(conn, "COMMIT") == -1)
		return -1;
	*secs = now() - t0;
	return 0;
}

/*
 * Keep what store_put_reports wrote (save) or compare the tables with it
 * (!save): the rows that differ, in both directions, over the COPY
 * columns.  Returns that count, or -1 on error.
 */
static long long
verify_rows(PGconn *conn, int save)
{
	const struct copy_target	*ct;
	char				 sql[4096], cols[1024], *q;
	long long			 n, diff = 0;

	if (save && db_exec(conn, "DROP SCHEMA IF EXISTS bench_verify CASCADE;"
	    " CREATE SCHEMA bench_verify") == -1)
		return -1;
	for (ct = copy_targets; ct->table != NULL; ct++) {
		if (save) {
			snprintf(sql, sizeof(sql), "CREATE TABLE "
			    "bench_verify.%s AS SELECT %s FROM tlsrpt.%s t",
			    ct->table, ct->verify, ct->table);
			if (db_exec(conn, sql) == -1)
				return -1;
			continue;
		}
		/* the saved table's column names: VERIFY_KEY is report_key */
		q = strstr(ct->verify, " AS report_key, ");
		snprintf(cols, sizeof(cols), "%s%s", q != NULL ?
		    "report_key, " : "", q != NULL ? q + 16 : ct->verify);
		snprintf(sql, sizeof(sql), "(SELECT %s FROM bench_verify.%s "
		    "EXCEPT ALL SELECT %s FROM tlsrpt.%s t) UNION ALL "
		    "(SELECT %s FROM tlsrpt.%s t EXCEPT ALL SELECT %s FROM "
		    "bench_verify.%s)", cols, ct->table, ct->verify,
		    ct->table, ct->verify, ct->table, cols, ct->table);
		if ((n = db_count(conn, sql)) == -1)
			return -1;
		if (n != 0)
			printf("   COPY and store_put_reports differ in %lld "
			    "rows of tlsrpt.%s\n", n, ct->table);
		diff += n;
	}
	return diff;
}

static int
copy_table(PGconn *conn, const char *sql, struct tlsrpt_report **reps,
    size_t n, void (*row)(struct cbuf *, const struct tlsrpt_report *))
{
	struct cbuf	 cb;
	PGresult	*res;
	size_t		 i;
	int		 rv = -1;

	memset(&cb, 0, sizeof(cb));
	cb.conn = conn;
	res = PQexec(conn, sql);
	if (PQresultStatus(res) != PGRES_COPY_IN) {
		fprintf(stderr, "bench: %s: %s", sql, PQerrorMessage(conn));
		PQclear(res);
		return -1;
	}
	PQclear(res);
	for (i = 0; i < n; i++) {
		row(&cb, reps[i]);
		if (cb.len >= COPY_FLUSH_BYTES && cb_flush(&cb, 0) == -1)
			break;
	}
	if (cb_flush(&cb, 1) == 0)
		rv = 0;
	while ((res = PQgetResult(conn)) != NULL) {
		if (PQresultStatus(res) != PGRES_COMMAND_OK) {
			fprintf(stderr, "bench: %s: %s", sql,
			    PQerrorMessage(conn));
			rv = -1;
		}
		PQclear(res);
	}
	free(cb.p);
	return rv;
}

/* Send what is buffered; with end, finish the COPY (or abort it). */
static int
cb_flush(struct cbuf *cb, int end)
{
	int	rv = 0;

	if (cb->bad)
		rv = -1;
	else if (cb->len > 0 &&
	    PQputCopyData(cb->conn, cb->p, (int)cb->len) != 1)
		rv = -1;
	cb->len = 0;
	if (rv == -1)
		cb->bad = 1;
	if (end && PQputCopyEnd(cb->conn, cb->bad ? "bench failed" :
	    NULL) != 1)
		rv = -1;
	return rv;
}

static void
cb_raw(struct cbuf *cb, const char *s, size_t n)
{
	char	*np;
	size_t	 ncap;

	if (cb->bad)
		return;
	if (cb->cap - cb->len < n) {
		ncap = cb->cap == 0 ? 2 * COPY_FLUSH_BYTES : cb->cap;
		while (ncap - cb->len < n)
			ncap *= 2;
		if ((np = realloc(cb->p, ncap)) == NULL) {
			cb->bad = 1;
			return;
		}
		cb->p = np;
		cb->cap = ncap;
	}
	memcpy(cb->p + cb->len, s, n);
	cb->len += n;
}

/* A text value in COPY text format; NULL is \N. */
static void
cb_text(struct cbuf *cb, const char *s)
{
	const char	*run;

	if (s == NULL) {
		cb_raw(cb, "\\N", 2);
		return;
	}
	for (run = s; ; s++) {
		if (*s != '\0' && *s != '\\' && *s != '\t' && *s != '\n' &&
		    *s != '\r')
			continue;
		cb_raw(cb, run, (size_t)(s - run));
		switch (*s) {
		case '\0':
			return;
		case '\\':
			cb_raw(cb, "\\\\", 2);
			break;
		case '\t':
			cb_raw(cb, "\\t", 2);
			break;
		case '\n':
			cb_raw(cb, "\\n", 2);
			break;
		default:
			cb_raw(cb, "\\r", 2);
			break;
		}
		run = s + 1;
	}
}

/* bytea in hex: \x..., its backslash escaped for COPY. */
static void
cb_hex(struct cbuf *cb, const unsigned char *p, size_t n)
{
	static const char	 hex[] = "0123456789abcdef";
	char			 tmp[512];
	size_t			 i, k;

	cb_raw(cb, "\\\\x", 3);
	for (i = 0; i < n; ) {
		for (k = 0; i < n && k + 2 <= sizeof(tmp); i++) {
			tmp[k++] = hex[p[i] >> 4];
			tmp[k++] = hex[p[i] & 0xf];
		}
		cb_raw(cb, tmp, k);
	}
}

/* A text[] literal: every element quoted, then escaped for COPY. */
static void
cb_array(struct cbuf *cb, const char *const *v, size_t n)
{
	const char	*s;
	size_t		 i;

	cb_raw(cb, "{", 1);
	for (i = 0; i < n; i++) {
		cb_raw(cb, i == 0 ? "\"" : ",\"", i == 0 ? 1 : 2);
		for (s = v[i]; *s != '\0'; s++) {
			switch (*s) {
			case '"':
				cb_raw(cb, "\\\\\"", 3);
				break;
			case '\\':
				cb_raw(cb, "\\\\\\\\", 4);
				break;
			case '\t':
				cb_raw(cb, "\\t", 2);
				break;
			case '\n':
				cb_raw(cb, "\\n", 2);
				break;
			case '\r':
				cb_raw(cb, "\\r", 2);
				break;
			default:
				cb_raw(cb, s, 1);
				break;
			}
		}
		cb_raw(cb, "\"", 1);
	}
	cb_raw(cb, "}", 1);
}

static void
cb_time(struct cbuf *cb, int64_t t)
{
	struct tm	tm;
	time_t		tt = (time_t)t;
	char		buf[64];
	int		n;

	gmtime_r(&tt, &tm);
	n = snprintf(buf, sizeof(buf), "%04d-%02d-%02d %02d:%02d:%02d+00",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	    tm.tm_min, tm.tm_sec);
	cb_raw(cb, buf, (size_t)n);
}

static void
cb_int(struct cbuf *cb, long long v)
{
	char	buf[32];
	int	n;

	n = snprintf(buf, sizeof(buf), "%lld", v);
	cb_raw(cb, buf, (size_t)n);
}

static void
cb_bool(struct cbuf *cb, int v)
{
	cb_raw(cb, v ? "t" : "f", 1);
}

static void
cb_tab(struct cbuf *cb)
{
	cb_raw(cb, "\t", 1);
}

static void
cb_end(struct cbuf *cb)
{
	cb_raw(cb, "\n", 1);
}

/* The bare COPY's report_no: from the key, positive (schema 009). */
static long long
bench_no(const struct tlsrpt_report *r)
{
	long long	v = 0;
	int		k;

	for (k = 0; k < 7; k++)
		v = v << 8 | r->key[k];
	return v + 1;
}

/* sts_mx NULL when it is mx_hosts (store_rows.h). */
static void
cb_mx(struct cbuf *cb, const struct tlsrpt_policy *p)
{
	if (store_sts_mx_is_mx_hosts(p)) {
		cb_text(cb, NULL);
		return;
	}
	cb_array(cb, (const char *const *)p->sts.mx, p->sts.nmx);
}

static void
row_report(struct cbuf *cb, const struct tlsrpt_report *r)
{
	cb_int(cb, bench_no(r));
	cb_tab(cb);
	cb_hex(cb, r->key, sizeof(r->key));
	cb_tab(cb);
	cb_hex(cb, r->sha256, sizeof(r->sha256));
	cb_tab(cb);
	cb_text(cb, r->org_name);
	cb_tab(cb);
	cb_text(cb, r->reporter);
	cb_tab(cb);
	cb_text(cb, r->report_id);
	cb_tab(cb);
	cb_text(cb, r->contact_info);
	cb_tab(cb);
	cb_time(cb, r->start);
	cb_tab(cb);
	cb_time(cb, r->end);
	cb_tab(cb);
	cb_array(cb, r->warnings, r->nwarnings);
	cb_tab(cb);
	cb_bool(cb, r->was_gzip);
	cb_tab(cb);
	cb_text(cb, r->filename);
	cb_tab(cb);
	cb_text(cb, r->hdr_domain);
	cb_tab(cb);
	cb_text(cb, r->hdr_submitter);
	cb_tab(cb);
	cb_text(cb, r->subject);
	cb_tab(cb);
	cb_time(cb, BENCH_RECEIVED_AT);
	cb_end(cb);
}

static void
row_raw(struct cbuf *cb, const struct tlsrpt_report *r)
{
	/* what store_put.c keeps since schema 008: the gzip of the JSON,
	 * so that the bare COPY does the same work; one packer for the
	 * process, still reachable at exit */
	static struct ingest_packer	*pk;
	const unsigned char		*body = r->json;
	size_t				 len = r->json_len;

	if (pk == NULL)
		pk = ingest_packer_new();
	if (pk != NULL && r->json != NULL &&
	    (body = ingest_pack(pk, r->json, r->json_len, &len)) == NULL) {
		body = r->json;
		len = r->json_len;
	}
	cb_int(cb, bench_no(r));
	cb_tab(cb);
	cb_hex(cb, r->sha256, sizeof(r->sha256));
	cb_tab(cb);
	cb_hex(cb, body, len);
	cb_end(cb);
}

static void
row_policy(struct cbuf *cb, const struct tlsrpt_report *r)
{
	static const char *const	 dsrc[] = {
		"report", "header", "filename", "sibling", "unknown",
	};
	const struct tlsrpt_policy	*p;
	size_t				 i;

	for (i = 0; i < r->npolicies; i++) {
		p = &r->policies[i];
		cb_int(cb, bench_no(r));
		cb_tab(cb);
		cb_int(cb, (long long)i);
		cb_tab(cb);
		cb_text(cb, p->domain);
		cb_tab(cb);
		cb_text(cb, tlsrpt_ptype_str(p->type));
		cb_tab(cb);
		cb_text(cb, p->type_raw);
		cb_tab(cb);
		cb_text(cb, dsrc[p->domain_src <= TLSRPT_DS_UNKNOWN ?
		    p->domain_src : TLSRPT_DS_UNKNOWN]);
		cb_tab(cb);
		cb_array(cb, p->strings, p->nstrings);
		cb_tab(cb);
		cb_array(cb, p->mx_hosts, p->nmx_hosts);
		cb_tab(cb);
		if (p->sts.present) {
			cb_bool(cb, p->sts.version_ok);
			cb_tab(cb);
			cb_text(cb, p->sts.mode == STS_MODE_UNSET ? NULL :
			    sts_mode_str(p->sts.mode));
			cb_tab(cb);
			if (p->sts.max_age < 0)
				cb_text(cb, NULL);
			else
				cb_int(cb, p->sts.max_age);
			cb_tab(cb);
			cb_mx(cb, p);
			cb_tab(cb);
			cb_int(cb, p->sts.problems);
		} else
			cb_raw(cb, "\\N\t\\N\t\\N\t\\N\t\\N", 14);
		cb_tab(cb);
		cb_int(cb, (long long)p->successful);
		cb_tab(cb);
		cb_int(cb, (long long)p->failed);
		cb_tab(cb);
		cb_bool(cb, p->counted);
		cb_end(cb);
	}
}

static void
row_detail(struct cbuf *cb, const struct tlsrpt_report *r)
{
	const struct tlsrpt_policy	*p;
	const struct tlsrpt_detail	*d;
	size_t				 i, j;

	for (i = 0; i < r->npolicies; i++) {
		p = &r->policies[i];
		for (j = 0; j < p->ndetails; j++) {
			d = &p->details[j];
			cb_int(cb, bench_no(r));
			cb_tab(cb);
			cb_int(cb, (long long)i);
			cb_tab(cb);
			cb_int(cb, (long long)j);
			cb_tab(cb);
			cb_text(cb, d->result_type);
			cb_tab(cb);
			cb_bool(cb, d->result_known);
			cb_tab(cb);
			cb_text(cb, store_ip_as_sent(d->sending_ip,
			    d->sending_ip_norm));
			cb_tab(cb);
			cb_text(cb, d->sending_ip_norm);
			cb_tab(cb);
			cb_text(cb, store_ip_as_sent(d->receiving_ip,
			    d->receiving_ip_norm));
			cb_tab(cb);
			cb_text(cb, d->receiving_ip_norm);
			cb_tab(cb);
			cb_text(cb, d->receiving_mx);
			cb_tab(cb);
			cb_text(cb, d->receiving_helo);
			cb_tab(cb);
			cb_text(cb, d->additional_info);
			cb_tab(cb);
			cb_text(cb, d->reason_code);
			cb_tab(cb);
			cb_int(cb, (long long)d->failed_sessions);
			cb_end(cb);
		}
	}
}

static void
row_arrival(struct cbuf *cb, const struct tlsrpt_report *r)
{
	cb_time(cb, BENCH_RECEIVED_AT);
	cb_tab(cb);
	cb_text(cb, "file");
	cb_tab(cb);
	cb_text(cb, r->filename);
	cb_tab(cb);
	cb_text(cb, "stored");
	cb_tab(cb);
	cb_int(cb, bench_no(r));
	cb_tab(cb);
	cb_hex(cb, r->sha256, sizeof(r->sha256));
	cb_raw(cb, "\t\\N\t\\N", 6);
	cb_end(cb);
}

/* `tlsrpt import DIR` against conninfo, output discarded. */
static int
cli_run(const char *bin, const char *conninfo, const char *dir, double *secs)
{
	double	t0;
	pid_t	pid;
	int	status, fd;

	t0 = now();
	if ((pid = fork()) == -1) {
		fprintf(stderr, "bench: fork: %s\n", strerror(errno));
		return -1;
	}
	if (pid == 0) {
		if ((fd = open("/dev/null", O_WRONLY)) != -1) {
			dup2(fd, STDOUT_FILENO);
			close(fd);
		}
		setenv("TLSRPT_DB", conninfo, 1);
		execl(bin, bin, "import", dir, (char *)NULL);
		fprintf(stderr, "bench: exec %s: %s\n", bin, strerror(errno));
		_exit(127);
	}
	while (waitpid(pid, &status, 0) == -1)
		if (errno != EINTR) {
			fprintf(stderr, "bench: waitpid: %s\n",
			    strerror(errno));
			return -1;
		}
	*secs = now() - t0;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		fprintf(stderr, "bench: %s import %s: exit status %d\n", bin,
		    dir, WIFEXITED(status) ? WEXITSTATUS(status) : -1);
		return -1;
	}
	return 0;
}

/* Remove dir and the plain files in it. */
static int
rmtree(const char *dir)
{
	DIR		*d;
	struct dirent	*e;
	char		 path[PATH_MAX];
	int		 rv = 0;

	if ((d = opendir(dir)) == NULL)
		return -1;
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir,
		    e->d_name) >= sizeof(path) || unlink(path) == -1)
			rv = -1;
	}
	closedir(d);
	if (rmdir(dir) == -1)
		rv = -1;
	return rv;
}
