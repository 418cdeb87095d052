/*
 * test_httpd_conn.c -- tlsrpt-httpd at the connection level, end to end:
 * the real daemon ($TLSRPT_HTTPD_BIN), real HTTPS with curl and
 * gnutls-cli, real sockets from several loopback addresses, a real
 * PostgreSQL.  The TLS suites, the chunked 413, the body budget, the
 * admin listener, the per-address limit (IPv4 /32, IPv6 /64), the
 * handshake and headers deadline, and a flood of slow connections that
 * must not lock a sender out.
 *
 * Every daemon a test starts is killed on every path (.fini, and
 * PR_SET_PDEATHSIG as the last resort).
 */

#define _GNU_SOURCE
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "daemon_testutil.h"
#include "store_testutil.h"
#include "testutil.h"

#define MAXD		2
#define FLOOD_ADDRS	20		/* 127.0.0.2 .. 127.0.0.21 */
#define FLOOD_PER_ADDR	30		/* 600 in all */
#define V6_NET		"fd00:7e57:c0:1"	/* a /64 of the test's own */
#define V6_OTHER	"fd00:7e57:c0:2"

struct daemon {
	pid_t	pid;
	int	port;
	int	admin;		/* --admin-listen port, or 0 */
	int	plain;		/* --plain: http:// */
	char	log[512];
};

static char		 tdir[256];
static struct daemon	 ds[MAXD];
static int		 nds;
static struct stu_db	 tdb;
static int		 have_db;
static int		 v6_added;

static void
make_cert(const char *name, const char *type)
{
	dtu_sh("cd %s && printf 'cn = localhost\\nip_address = 127.0.0.1\\n"
	    "expiration_days = 30\\ntls_www_server\\nsigning_key\\n"
	    "encryption_key\\n' > tmpl && certtool --generate-privkey "
	    "--key-type=%s --outfile %s.key >/dev/null 2>&1 && certtool "
	    "--generate-self-signed --load-privkey %s.key --template tmpl "
	    "--outfile %s.crt >/dev/null 2>&1", tdir, type, name, name, name);
}

static void
setup(void)
{
	snprintf(tdir, sizeof(tdir), "/tmp/tlsrpt-httpd-conn.XXXXXX");
	cr_assert_not_null(mkdtemp(tdir));
	make_cert("a", "ecdsa");
	nds = 0;
	have_db = 0;
	v6_added = 0;
}

static void
v6_del(void)
{
	int	i;

	for (i = 1; i <= 10; i++)
		(void)!system(dtu_S("ip -6 addr del %s::%x/64 dev lo "
		    "2>/dev/null", V6_NET, i));
	(void)!system(dtu_S("ip -6 addr del %s::1/64 dev lo 2>/dev/null",
	    V6_OTHER));
}

static void
teardown(void)
{
	int	i, st;

	for (i = 0; i < nds; i++)
		if (ds[i].pid > 0)
			(void)dtu_stop(ds[i].pid, SIGKILL, 200, &st);
	if (v6_added)
		v6_del();
	if (have_db)
		stu_db_drop(&tdb);
	if (tdir[0] != '\0' && getenv("TLSRPT_TEST_KEEP") == NULL)
		(void)!system(dtu_S("rm -rf '%s'", tdir));
}

static double
now_s(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
curl_code(const char *args)
{
	char	*out;
	int	 code;

	out = dtu_run("curl -sk --max-time 20 -o /dev/null -w '%%{http_code}' "
	    "%s", args);
	code = atoi(out);
	free(out);
	return code;
}

static const char *
url(const struct daemon *d, const char *path)
{
	return dtu_S("%s://127.0.0.1:%d%s", d->plain ? "http" : "https",
	    d->port, path);
}

static const char *
admin_url(const struct daemon *d, const char *path)
{
	return dtu_S("http://127.0.0.1:%d%s", d->admin, path);
}

/* Up once it answers anything over TLS (/metrics may be elsewhere). */
static int
answers(void *arg)
{
	return curl_code(url(arg, "/")) != 0;
}

/*
 * The daemon with the test's database, cert NAME, extra arguments;
 * admin: also --admin-listen on a free port.
 */
static struct daemon *
start(const char *cert, int admin, const char *fmt, ...)
{
	struct daemon	*d;
	char		*extra = NULL, *cmd, adm[64] = "";
	va_list		 ap;

	cr_assert_lt(nds, MAXD);
	d = &ds[nds++];
	memset(d, 0, sizeof(*d));
	d->port = dtu_free_port();
	if (admin) {
		d->admin = dtu_free_port();
		snprintf(adm, sizeof(adm), "--admin-listen %d", d->admin);
	}
	snprintf(d->log, sizeof(d->log), "%s/httpd-%d.log", tdir, nds);
	va_start(ap, fmt);
	cr_assert_geq(vasprintf(&extra, fmt, ap), 0);
	va_end(ap);
	d->plain = strstr(extra, "--plain") != NULL;
	cr_assert_geq(asprintf(&cmd, "exec %s --listen 127.0.0.1:%d "
	    "--tls-cert %s/%s.crt --tls-key %s/%s.key --spool %s/spool%d "
	    "--db '%s' %s %s >>%s 2>&1", dtu_bin("TLSRPT_HTTPD_BIN",
	    "bin/tlsrpt-httpd"), d->port, tdir, cert, tdir, cert, tdir, nds,
	    tdb.conninfo, adm, extra, d->log), 0);
	d->pid = dtu_spawn(cmd);
	free(cmd);
	free(extra);
	cr_assert(dtu_wait_ready(d->pid, answers, d, "tlsrpt-httpd", d->log),
	    "tlsrpt-httpd does not answer; see %s", d->log);
	return d;
}

static void
stop(struct daemon *d)
{
	int	st = -1, exited;

	exited = dtu_stop(d->pid, SIGTERM, 200, &st);
	d->pid = 0;
	cr_assert(exited, "no exit 10 s after SIGTERM");
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0,
	    "exit status %d after SIGTERM; see %s", st, d->log);
}

/* A distinct report about domain, JSON padded with blanks to len bytes. */
static const char *
report_json(const char *name, const char *id, size_t len)
{
	static char	 path[512];
	char		*json, *pol, *buf;
	size_t		 jl;

	pol = stu_policy("sts", "conn.example", 10, 1, NULL);
	json = stu_report("Conn Org", id, "2026-01-05", pol);
	free(pol);
	jl = strlen(json);
	if (len == 0)
		len = jl;
	cr_assert_leq(jl, len, "a report of %zu bytes does not fit %zu", jl,
	    len);
	buf = malloc(len);
	cr_assert_not_null(buf);
	memcpy(buf, json, jl);
	memset(buf + jl, ' ', len - jl);
	snprintf(path, sizeof(path), "%s/%s", tdir, name);
	dtu_write_file(path, buf, len);
	free(buf);
	free(json);
	return path;
}

/* The value of one metric line "NAME VALUE" from the admin listener. */
static long long
metric(const struct daemon *d, const char *name)
{
	char		*out, *p;
	long long	 v = -1;

	out = dtu_run("curl -s --max-time 5 %s", admin_url(d, "/metrics"));
	/* the sample line, not the HELP line that names it too */
	for (p = out; (p = strstr(p, name)) != NULL; p++)
		if ((p == out || p[-1] == '\n') &&
		    (p = strchr(p, ' ')) != NULL) {
			v = atoll(p + 1);
			break;
		}
	free(out);
	return v;
}

/* Wait (at most secs) until metric name is want; returns the last. */
static long long
wait_metric(const struct daemon *d, const char *name, long long want,
    int secs)
{
	long long	v = -1;
	int		i;

	for (i = 0; i < secs * 10; i++) {
		if ((v = metric(d, name)) == want)
			break;
		usleep(100 * 1000);
	}
	return v;
}

TestSuite(httpd_conn, .init = setup, .fini = teardown, .timeout = 60);

/* --- TLS 1.2 with ECDHE and AEAD only; TLS 1.3 as before -------------- */

static int
handshake(const struct daemon *d, const char *prio)
{
	char	*out;
	int	 ok;

	out = dtu_run("gnutls-cli --insecure --priority '%s' -p %d 127.0.0.1 "
	    "</dev/null 2>&1", prio, d->port);
	ok = strstr(out, "Handshake was completed") != NULL;
	free(out);
	return ok;
}

Test(httpd_conn, tls_suites)
{
	struct daemon	*d;
	char		*out;

	dtu_make_db(&tdb, &have_db, "hc_tls");
	make_cert("r", "rsa");		/* DHE needs an RSA certificate */
	d = start("r", 0, "");
	/* refused: CBC with SHA-1 or SHA-2 MACs, DHE, static RSA */
	cr_expect(!handshake(d, "NORMAL:-VERS-ALL:+VERS-TLS1.2:-CIPHER-ALL:"
	    "+AES-128-CBC:+AES-256-CBC:-MAC-ALL:+SHA1:+SHA256:+SHA384"),
	    "a CBC suite was negotiated");
	cr_expect(!handshake(d, "NORMAL:-VERS-ALL:+VERS-TLS1.2:-KX-ALL:"
	    "+DHE-RSA"), "a DHE suite was negotiated");
	cr_expect(!handshake(d, "NORMAL:-VERS-ALL:+VERS-TLS1.2:-KX-ALL:+RSA"),
	    "static RSA key exchange was negotiated");
	/* taken: ECDHE with an AEAD cipher */
	cr_expect(handshake(d, "NORMAL:-VERS-ALL:+VERS-TLS1.2:-KX-ALL:"
	    "+ECDHE-RSA:-CIPHER-ALL:+AES-128-GCM"));
	cr_expect(handshake(d, "NORMAL:-VERS-ALL:+VERS-TLS1.2:-KX-ALL:"
	    "+ECDHE-RSA:-CIPHER-ALL:+AES-256-GCM"));
	cr_expect(handshake(d, "NORMAL:-VERS-ALL:+VERS-TLS1.2:-KX-ALL:"
	    "+ECDHE-RSA:-CIPHER-ALL:+CHACHA20-POLY1305"));
	/* TLS 1.3: each of its suites still works */
	cr_expect(handshake(d, "NORMAL:-VERS-ALL:+VERS-TLS1.3:-CIPHER-ALL:"
	    "+AES-128-GCM"));
	cr_expect(handshake(d, "NORMAL:-VERS-ALL:+VERS-TLS1.3:-CIPHER-ALL:"
	    "+AES-256-GCM"));
	cr_expect(handshake(d, "NORMAL:-VERS-ALL:+VERS-TLS1.3:-CIPHER-ALL:"
	    "+CHACHA20-POLY1305"));
	cr_expect(handshake(d, "NORMAL:-VERS-ALL:+VERS-TLS1.3:-CIPHER-ALL:"
	    "+AES-128-CCM"));
	/* and another client library says the same */
	out = dtu_run("openssl s_client -connect 127.0.0.1:%d -tls1_2 -cipher "
	    "ECDHE-RSA-AES128-SHA </dev/null 2>&1 | grep 'Cipher is'",
	    d->port);
	cr_expect(strstr(out, "(NONE)") != NULL, "openssl CBC: %s", out);
	free(out);
	out = dtu_run("openssl s_client -connect 127.0.0.1:%d -tls1_2 -cipher "
	    "ECDHE-RSA-AES128-GCM-SHA256 </dev/null 2>&1 | grep 'Cipher is'",
	    d->port);
	cr_expect(strstr(out, "ECDHE-RSA-AES128-GCM-SHA256") != NULL,
	    "openssl GCM: %s", out);
	free(out);
	stop(d);
}

/* --- a chunked body over --body-max gets its 413 ----------------------- */

Test(httpd_conn, chunked_413)
{
	struct daemon	*d;
	const char	*f;
	char		*out;

	dtu_make_db(&tdb, &have_db, "hc_413");
	d = start("a", 0, "--body-max 100000");
	/* at the limit: a report of exactly --body-max bytes, chunked */
	f = report_json("at.json", "c413-at", 100000);
	cr_expect_eq(curl_code(dtu_S("-H 'Transfer-Encoding: chunked' "
	    "--data-binary @%s %s", f, url(d, "/v1/report"))), 201);
	/* one over, and far over (the old code cut it without answer) */
	f = report_json("over.json", "c413-over", 100001);
	out = dtu_run("curl -sk --max-time 20 -D - -o /dev/null -H "
	    "'Transfer-Encoding: chunked' --data-binary @%s %s", f,
	    url(d, "/v1/report"));
	cr_expect(strstr(out, " 413 ") != NULL, "one over: %s", out);
	cr_expect(strcasestr(out, "Connection: close") != NULL, "%s", out);
	free(out);
	dtu_sh("head -c 5000000 /dev/zero | tr '\\0' ' ' > %s/far.json",
	    tdir);
	out = dtu_run("curl -sk --max-time 20 -D - -o /dev/null -H "
	    "'Transfer-Encoding: chunked' --data-binary @%s/far.json %s", tdir,
	    url(d, "/v1/report"));
	cr_expect(strstr(out, " 413 ") != NULL, "50 x over: %s", out);
	cr_expect(strcasestr(out, "Connection: close") != NULL, "%s", out);
	free(out);
	cr_expect_eq(curl_code(url(d, "/metrics")), 200, "still serving");
	stop(d);
}

/* --- the global budget of request bodies ------------------------------ */

/*
 * Start a curl that declares (Content-Length) len bytes and sends them
 * at rate bytes/s; returns its pid.
 */
static pid_t
slow_post(const struct daemon *d, const char *file, int rate)
{
	return dtu_spawn(dtu_S("exec curl -sk --max-time 30 -o /dev/null "
	    "--limit-rate %d --data-binary @%s %s", rate, file,
	    url(d, "/v1/report")));
}

static int
post_file(const struct daemon *d, const char *file, int chunked)
{
	return curl_code(dtu_S("%s --data-binary @%s %s", chunked ?
	    "-H 'Transfer-Encoding: chunked'" : "", file,
	    url(d, "/v1/report")));
}

Test(httpd_conn, body_budget)
{
	struct daemon	*d;
	const char	*f;
	char		*out;
	pid_t		 slow;
	int		 st;
	/*
	 * --body-max 100000, --body-budget 150000.  A slow upload declares
	 * 100000 and holds that much; a declared body then fits when it is
	 * at most 50000.  A chunked body reserves in doubling steps from
	 * 4096 (4096, 8192, ... 65536, then --body-max): 32768 bytes fit
	 * beside the slow one, 32769 need a 65536 step and do not.
	 */
	const size_t	 max = 100000, budget = 150000;
	const size_t	 room = budget - max, step = 32768;

	dtu_make_db(&tdb, &have_db, "hc_budget");
	d = start("a", 1, "--body-max %zu --body-budget %zu", max, budget);
	dtu_sh("head -c %zu /dev/zero | tr '\\0' ' ' > %s/slow.json", max,
	    tdir);
	slow = slow_post(d, dtu_S("%s/slow.json", tdir), 20000);
	cr_assert_eq(wait_metric(d, "tlsrpt_http_body_bytes_held ",
	    (long long)max, 10), (long long)max, "the slow body is held");

	f = report_json("at.json", "bud-at", room);
	cr_expect_eq(post_file(d, f, 0), 201, "declared, at the budget");
	f = report_json("over.json", "bud-over", room + 1);
	out = dtu_run("curl -sk --max-time 20 -D - -o /dev/null "
	    "--data-binary @%s %s", f, url(d, "/v1/report"));
	cr_expect(strstr(out, " 503 ") != NULL, "declared, one over: %s",
	    out);
	cr_expect(strcasestr(out, "Retry-After: ") != NULL, "%s", out);
	free(out);
	f = report_json("cat.json", "bud-cat", step);
	cr_expect_eq(post_file(d, f, 1), 201, "chunked, at its step");
	f = report_json("cover.json", "bud-cover", step + 1);
	out = dtu_run("curl -sk --max-time 20 -D - -o /dev/null -H "
	    "'Transfer-Encoding: chunked' --data-binary @%s %s", f,
	    url(d, "/v1/report"));
	cr_expect(strstr(out, " 503 ") != NULL, "chunked, one over: %s", out);
	cr_expect(strcasestr(out, "Retry-After: ") != NULL, "%s", out);
	free(out);
	cr_expect_geq(metric(d, "tlsrpt_http_connection_events_total{event="
	    "\"body-budget\"}"), 2);

	/* the slow body done (400: blanks are no report), its room is back */
	cr_assert_eq(waitpid(slow, &st, 0), slow);
	cr_expect_eq(wait_metric(d, "tlsrpt_http_body_bytes_held ", 0, 5), 0);
	f = report_json("after.json", "bud-after", max);
	cr_expect_eq(post_file(d, f, 0), 201, "the whole budget is free");
	cr_expect_eq(post_file(d, dtu_S("%s/cover.json", tdir), 1), 201);
	stop(d);
}

/* --- /healthz and /metrics on a listener of their own ------------------ */

Test(httpd_conn, admin_listener)
{
	struct daemon	*d;
	char		*out;
	int		 fd;
	struct sockaddr_in sin;

	dtu_make_db(&tdb, &have_db, "hc_admin");
	/* a parse budget below one body: the body takes it all, no wait */
	d = start("a", 1, "--parse-budget 100");
	cr_expect_eq(curl_code(url(d, "/metrics")), 404, "public /metrics");
	cr_expect_eq(curl_code(url(d, "/healthz")), 404, "public /healthz");
	cr_expect_eq(curl_code(admin_url(d, "/metrics")), 200);
	out = dtu_run("curl -s --max-time 5 %s", admin_url(d, "/healthz"));
	cr_expect(strstr(out, "\"spool_writable\": true") != NULL, "%s", out);
	free(out);
	cr_expect_eq(curl_code(admin_url(d, "/v1/report")), 404);
	cr_expect_eq(curl_code(dtu_S("--data-binary @%s %s", report_json(
	    "a.json", "adm-1", 0), admin_url(d, "/v1/report"))), 404,
	    "no reports on the admin listener");
	cr_expect_eq(curl_code(dtu_S("--data-binary @%s %s", report_json(
	    "b.json", "adm-2", 0), url(d, "/v1/report"))), 201);
	/* loopback only: 127.0.0.2 is on lo too, but not bound */
	fd = socket(AF_INET, SOCK_STREAM, 0);
	cr_assert_geq(fd, 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((unsigned short)d->admin);
	inet_pton(AF_INET, "127.0.0.2", &sin.sin_addr);
	cr_expect_eq(connect(fd, (struct sockaddr *)&sin, sizeof(sin)), -1,
	    "the admin port is bound to 127.0.0.1 only");
	close(fd);
	stop(d);
}

/* --- bad option values: one line, exit 2 ------------------------------- */

Test(httpd_conn, options)
{
	char	*out;

	out = dtu_run("%s --tls-cert x --tls-key y --body-max 1000 "
	    "--body-budget 999 2>&1; echo rc=$?", dtu_bin("TLSRPT_HTTPD_BIN",
	    "bin/tlsrpt-httpd"));
	cr_expect(strstr(out, "--body-budget 999: less than --body-max 1000")
	    != NULL && strstr(out, "rc=2") != NULL, "%s", out);
	free(out);
	out = dtu_run("%s --tls-cert x --tls-key y --listen 127.0.0.1:9 "
	    "--admin-listen 127.0.0.1:9 2>&1; echo rc=$?", dtu_bin(
	    "TLSRPT_HTTPD_BIN", "bin/tlsrpt-httpd"));
	cr_expect(strstr(out, "also a --listen address") != NULL &&
	    strstr(out, "rc=2") != NULL, "%s", out);
	free(out);
	out = dtu_run("%s --tls-cert x --tls-key y --header-timeout 0 2>&1; "
	    "echo rc=$?", dtu_bin("TLSRPT_HTTPD_BIN", "bin/tlsrpt-httpd"));
	cr_expect(strstr(out, "--header-timeout must be at least 1") != NULL &&
	    strstr(out, "rc=2") != NULL, "%s", out);
	free(out);
}

/* --- sockets from chosen source addresses ------------------------------ */

/* A TCP connection from src (IPv4 or IPv6 text) to dst:port; -1 failed. */
static int
connect_from(const char *src, const char *dst, int port, int nonblock)
{
	struct sockaddr_storage	 s, t;
	struct sockaddr_in	*s4 = (struct sockaddr_in *)&s;
	struct sockaddr_in	*t4 = (struct sockaddr_in *)&t;
	struct sockaddr_in6	*s6 = (struct sockaddr_in6 *)&s;
	struct sockaddr_in6	*t6 = (struct sockaddr_in6 *)&t;
	socklen_t		 len;
	int			 fd, af, r;

	memset(&s, 0, sizeof(s));
	memset(&t, 0, sizeof(t));
	af = strchr(src, ':') != NULL ? AF_INET6 : AF_INET;
	if (af == AF_INET) {
		s4->sin_family = t4->sin_family = AF_INET;
		inet_pton(AF_INET, src, &s4->sin_addr);
		inet_pton(AF_INET, dst, &t4->sin_addr);
		t4->sin_port = htons((unsigned short)port);
		len = sizeof(*s4);
	} else {
		s6->sin6_family = t6->sin6_family = AF_INET6;
		inet_pton(AF_INET6, src, &s6->sin6_addr);
		inet_pton(AF_INET6, dst, &t6->sin6_addr);
		t6->sin6_port = htons((unsigned short)port);
		len = sizeof(*s6);
	}
	if ((fd = socket(af, SOCK_STREAM | SOCK_CLOEXEC |
	    (nonblock ? SOCK_NONBLOCK : 0), 0)) == -1)
		return -1;
	if (bind(fd, (struct sockaddr *)&s, len) == -1) {
		close(fd);
		return -1;
	}
	r = connect(fd, (struct sockaddr *)&t, len);
	if (r == -1 && !(nonblock && errno == EINPROGRESS)) {
		close(fd);
		return -1;
	}
	return fd;
}

/* 1 when the server has closed fd (EOF or reset), 0 when still open. */
static int
closed_by_server(int fd)
{
	struct pollfd	pfd = { fd, POLLIN, 0 };
	char		c;

	if (poll(&pfd, 1, 0) != 1)
		return 0;
	return recv(fd, &c, 1, MSG_DONTWAIT) <= 0;
}

/* How many of fds[0..n) the server has closed now. */
static int
closed_now(const int *fds, int n)
{
	int	i, c = 0;

	for (i = 0; i < n; i++)
		c += closed_by_server(fds[i]);
	return c;
}

/*
 * How many of fds[0..n) the server has closed: once want of them are
 * (polled, 30 s at most: a slow machine closes late, not never), and
 * after 1.5 s more in which a wrong extra close would show.
 */
static int
count_closed(const int *fds, int n, int want)
{
	int	i;

	for (i = 0; i < 300 && closed_now(fds, n) < want; i++)
		usleep(100 * 1000);
	usleep(1500 * 1000);
	return closed_now(fds, n);
}

/* --- the per-address limit: IPv4 /32, IPv6 /64 ------------------------- */

Test(httpd_conn, per_address)
{
	struct daemon	*d;
	int		 fds[40], n, i, c, v6 = 0, port6;
	const int	 lim = 8;

	dtu_make_db(&tdb, &have_db, "hc_perip");
	/* IPv6 addresses of one /64 on lo, and one of another /64 */
	v6_added = 1;
	v6_del();			/* left by a killed run */
	for (i = 1; i <= 10; i++)
		v6 += system(dtu_S("ip -6 addr add %s::%x/64 dev lo nodad "
		    "2>/dev/null", V6_NET, i)) == 0;
	v6 += system(dtu_S("ip -6 addr add %s::1/64 dev lo nodad 2>/dev/null",
	    V6_OTHER)) == 0;
	port6 = dtu_free_port();
	if (v6 == 11)
		d = start("a", 1, "--max-connections-per-ip %d --listen "
		    "[%s::1]:%d", lim, V6_NET, port6);
	else {
		cr_log_warn("cannot add IPv6 addresses to lo: the /64 part "
		    "of this test does not run");
		d = start("a", 1, "--max-connections-per-ip %d", lim);
	}

	/* IPv4: lim from 127.0.0.2 stay, one more is closed */
	for (n = 0; n < lim + 1; n++)
		cr_assert_geq(fds[n] = connect_from("127.0.0.2", "127.0.0.1",
		    d->port, 0), 0, "connect: %s", strerror(errno));
	c = count_closed(fds, n, 1);
	cr_expect_eq(c, 1, "from one IPv4 address: %d of %d closed", c, n);
	cr_expect(!closed_by_server(fds[lim - 1]), "the %dth stays", lim);
	cr_expect(closed_by_server(fds[lim]), "the %dth is refused", lim + 1);
	/* another /32 has its own share */
	fds[n] = connect_from("127.0.0.3", "127.0.0.1", d->port, 0);
	cr_assert_geq(fds[n], 0);
	cr_expect_eq(count_closed(fds + n, 1, 0), 0, "127.0.0.3 is admitted");
	n++;
	for (i = 0; i < n; i++)
		close(fds[i]);

	if (v6 == 11) {
		/* 10 addresses of one /64, one connection each: lim stay */
		for (n = 0; n < 10; n++)
			cr_assert_geq(fds[n] = connect_from(dtu_S("%s::%x",
			    V6_NET, n + 1), dtu_S("%s::1", V6_NET), port6, 0),
			    0, "connect: %s", strerror(errno));
		c = count_closed(fds, n, 10 - lim);
		cr_expect_eq(c, 10 - lim, "one /64: %d of 10 closed", c);
		fds[n] = connect_from(dtu_S("%s::1", V6_OTHER),
		    dtu_S("%s::1", V6_NET), port6, 0);
		cr_assert_geq(fds[n], 0);
		cr_expect_eq(count_closed(fds + n, 1, 0), 0,
		    "another /64 is admitted");
		n++;
		for (i = 0; i < n; i++)
			close(fds[i]);
	}
	cr_expect_geq(metric(d, "tlsrpt_http_connection_events_total{event="
	    "\"refused-per-address\"}"), v6 == 11 ? 1 + 10 - lim : 1);
	stop(d);
}

/* --- the TLS handshake and the request headers have a deadline --------- */

/* Seconds until the server closes fd, sending a byte every 0.5 s. */
static double
trickle_until_closed(int fd, const char *bytes, int max)
{
	double	t0 = now_s();
	size_t	i = 0;

	while (now_s() - t0 < max) {
		if (closed_by_server(fd))
			break;
		if (bytes != NULL && bytes[i] != '\0')
			(void)!send(fd, bytes + i++, 1, MSG_NOSIGNAL);
		usleep(500 * 1000);
	}
	return now_s() - t0;
}

Test(httpd_conn, header_deadline)
{
	struct daemon	*d;
	/* answered at its end (415), so the connection is kept */
	const char	*req = "POST /v1/report HTTP/1.1\r\nHost: x\r\n"
			    "Content-Length: 5\r\n\r\nhello";
	char		 buf[512];
	double		 secs;
	int		 fd;
	ssize_t		 got;

	dtu_make_db(&tdb, &have_db, "hc_hdr");
	/* --timeout 30: only the 2 s header deadline can close early */
	d = start("a", 0, "--header-timeout 2 --timeout 30");
	/* no TLS handshake at all */
	fd = connect_from("127.0.0.1", "127.0.0.1", d->port, 0);
	cr_assert_geq(fd, 0);
	secs = trickle_until_closed(fd, NULL, 10);
	cr_expect(secs >= 1.9 && secs < 5.0, "silent: closed after %.1f s",
	    secs);
	close(fd);
	/* a ClientHello trickled a byte at a time keeps MHD's idle timer */
	fd = connect_from("127.0.0.1", "127.0.0.1", d->port, 0);
	cr_assert_geq(fd, 0);
	secs = trickle_until_closed(fd, "\x16\x03\x01\x02\x00\x01\x00\x01\xfc"
	    "\x03\x03" "abcdefghijklmnopqrstuvwxyz", 10);
	cr_expect(secs >= 1.9 && secs < 5.0, "trickled: closed after %.1f s",
	    secs);
	close(fd);
	stop(d);

	/* a kept connection: idle is --timeout's, a slow next request not */
	d = start("a", 0, "--plain --header-timeout 2 --timeout 30");
	fd = connect_from("127.0.0.1", "127.0.0.1", d->port, 0);
	cr_assert_geq(fd, 0);
	cr_assert_eq(send(fd, req, strlen(req), MSG_NOSIGNAL),
	    (ssize_t)strlen(req));
	got = recv(fd, buf, sizeof(buf) - 1, 0);
	cr_assert_gt(got, 0);
	buf[got] = '\0';
	cr_expect(strstr(buf, " 415 ") != NULL, "%s", buf);
	cr_expect(strcasestr(buf, "Connection: close") == NULL, "%s", buf);
	secs = trickle_until_closed(fd, NULL, 4);
	cr_expect_geq(secs, 3.9, "idle kept connection closed after %.1f s",
	    secs);
	secs = trickle_until_closed(fd, "GET /v1/report HTTP/1.1\r\nHost: "
	    "xxxxxxxxxxxxxxxxxxxx", 10);
	cr_expect(secs >= 1.9 && secs < 5.0, "slow next request: closed "
	    "after %.1f s", secs);
	close(fd);
	stop(d);
}

/* --- a flood of slow connections does not lock a sender out ------------ */

struct flood {
	int		 port;
	atomic_int	 stop;
	atomic_int	 open;		/* connected now */
	atomic_long	 reconnects;
	int		 fd[FLOOD_ADDRS * FLOOD_PER_ADDR];
};

static int
flood_connect(struct flood *f, int i)
{
	return connect_from(dtu_S("127.0.0.%d", 2 + i / FLOOD_PER_ADDR),
	    "127.0.0.1", f->port, 1);
}

/*
 * Hold FLOOD_ADDRS x FLOOD_PER_ADDR connections, each sending the start
 * of a ClientHello one byte a second; whatever the server closes is
 * opened again at once.
 */
static void *
flood_run(void *arg)
{
	struct flood	*f = arg;
	const char	 hello[] = "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03";
	struct pollfd	 pfd;
	int		 i, n = FLOOD_ADDRS * FLOOD_PER_ADDR, pos[FLOOD_ADDRS *
			    FLOOD_PER_ADDR];
	double		 last = 0;
	char		 c;

	for (i = 0; i < n; i++) {
		f->fd[i] = flood_connect(f, i);
		pos[i] = 0;
	}
	while (!atomic_load(&f->stop)) {
		int	open = 0, tick = now_s() - last >= 1.0;

		for (i = 0; i < n; i++) {
			if (f->fd[i] != -1) {
				pfd.fd = f->fd[i];
				pfd.events = POLLIN;
				pfd.revents = 0;
				if (poll(&pfd, 1, 0) == 1 && recv(f->fd[i], &c,
				    1, MSG_DONTWAIT) <= 0) {
					close(f->fd[i]);
					f->fd[i] = -1;
				}
			}
			if (f->fd[i] == -1) {
				f->fd[i] = flood_connect(f, i);
				pos[i] = 0;
				atomic_fetch_add(&f->reconnects, 1);
			} else if (tick && pos[i] < (int)sizeof(hello) - 1)
				(void)!send(f->fd[i], hello + pos[i]++, 1,
				    MSG_NOSIGNAL);
			open += f->fd[i] != -1;
		}
		if (tick)
			last = now_s();
		atomic_store(&f->open, open);
		usleep(20 * 1000);
	}
	for (i = 0; i < n; i++)
		if (f->fd[i] != -1)
			close(f->fd[i]);
	return NULL;
}

Test(httpd_conn, flood, .timeout = 90)
{
	struct daemon	*d;
	struct flood	*f;
	pthread_t	 th;
	const char	*rep;
	double		 t0, secs;
	long long	 conns, evicted;
	int		 code, i;

	dtu_make_db(&tdb, &have_db, "hc_flood");
	/* the defaults: 512 slots, 32 per address, 10 s for the headers */
	d = start("a", 1, "");
	f = calloc(1, sizeof(*f));
	cr_assert_not_null(f);
	f->port = d->port;
	cr_assert_eq(pthread_create(&th, NULL, flood_run, f), 0);
	/* every slot taken: 600 slow connections for 512 */
	conns = wait_metric(d, "tlsrpt_http_connections ", 512, 15);
	cr_expect_geq(conns, 500, "the flood holds %lld connections", conns);
	sleep(2);			/* older than the eviction grace */

	rep = report_json("flood.json", "flood-1", 0);
	t0 = now_s();
	code = curl_code(dtu_S("--data-binary @%s %s", rep,
	    url(d, "/v1/report")));
	secs = now_s() - t0;
	evicted = metric(d, "tlsrpt_http_connection_events_total{event="
	    "\"evicted\"}");
	cr_log_info("flood: sender answered %d in %.2f s; %lld evictions, "
	    "%ld reconnects by the flood", code, secs, evicted,
	    (long)atomic_load(&f->reconnects));
	atomic_store(&f->stop, 1);
	pthread_join(th, NULL);
	free(f);
	cr_expect_eq(code, 201, "the sender during the flood: %d", code);
	cr_expect_lt(secs, 5.0, "answered after %.2f s", secs);
	cr_expect_gt(evicted, 0, "slow connections were cut for others");
	/* and it is stored, once */
	for (i = 0; i < 150 && stu_int(&tdb, "SELECT count(*) FROM "
	    "tlsrpt.report WHERE report_id = 'flood-1'") != 1; i++)
		usleep(100 * 1000);
	cr_expect_eq(stu_int(&tdb, "SELECT count(*) FROM tlsrpt.report "
	    "WHERE report_id = 'flood-1'"), 1);
	stop(d);
}
