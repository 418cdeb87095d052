/*
 * httpd_load.c -- a small HTTPS load generator for tlsrpt-httpd (GnuTLS
 * client, one thread per simulated sender), used by httpd_bench.sh.
 *
 * Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
 *
 * usage: httpd_load MODE HOST PORT CONCURRENCY COUNT BODIES [PATH]
 *
 * MODE keepalive  each thread keeps one connection and POSTs on it
 *      newconn    a new TCP + TLS connection for every POST (how real
 *                 senders post: one report per connection)
 *      handshake  a new TCP + TLS connection, the handshake, close: the
 *                 ceiling newconn is compared with
 * BODIES is a file of records "LEN\n" + LEN bytes (httpd_gen writes it);
 * request i sends body i modulo their number.  No session resumption, no
 * certificate verification (the bench uses a self-signed certificate).
 *
 * Prints one line: mode, count, ok (2xx or handshakes), other statuses,
 * seconds, rate per second, latency p50/p99/max in ms.
 */

#define _GNU_SOURCE
#include <sys/socket.h>
#include <sys/types.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/gnutls.h>

enum mode { M_KEEPALIVE, M_NEWCONN, M_HANDSHAKE };

struct body {
	const char	*p;
	size_t		 len;
};

static enum mode			 mode;
static struct sockaddr_in		 srv;
static const char			*path = "/v1/report";
static struct body			*bodies;
static size_t				 nbodies;
static size_t				 count;
static double				*lat;		/* per request, s */
static atomic_size_t			 next;
static atomic_size_t			 ok, bad, errs;
static gnutls_certificate_credentials_t	 xcred;

struct conn {
	int			 fd;
	gnutls_session_t	 s;
};

static double
now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
conn_close(struct conn *c)
{
	if (c->s != NULL)
		gnutls_deinit(c->s);
	if (c->fd != -1)
		close(c->fd);
	c->s = NULL;
	c->fd = -1;
}

static int
conn_open(struct conn *c)
{
	int	r, on = 1;

	c->s = NULL;
	if ((c->fd = socket(AF_INET, SOCK_STREAM, 0)) == -1)
		return -1;
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
	if (connect(c->fd, (struct sockaddr *)&srv, sizeof(srv)) == -1)
		goto fail;
	if (gnutls_init(&c->s, GNUTLS_CLIENT) < 0)
		goto fail;
	gnutls_set_default_priority(c->s);
	gnutls_credentials_set(c->s, GNUTLS_CRD_CERTIFICATE, xcred);
	gnutls_server_name_set(c->s, GNUTLS_NAME_DNS, "localhost", 9);
	gnutls_transport_set_int(c->s, c->fd);
	do {
		r = gnutls_handshake(c->s);
	} while (r < 0 && gnutls_error_is_fatal(r) == 0);
	if (r < 0)
		goto fail;
	return 0;
 fail:
	conn_close(c);
	return -1;
}

static int
send_all(struct conn *c, const char *p, size_t len)
{
	ssize_t	r;

	while (len > 0) {
		r = gnutls_record_send(c->s, p, len);
		if (r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED)
			continue;
		if (r <= 0)
			return -1;
		p += r;
		len -= (size_t)r;
	}
	return 0;
}

/* One response: status, or -1 when the connection failed. */
static int
read_response(struct conn *c)
{
	char		 buf[8192], *hend, *cl;
	size_t		 have = 0, want, got;
	ssize_t		 r;
	int		 status;

	for (;;) {
		if (have == sizeof(buf) - 1)
			return -1;
		r = gnutls_record_recv(c->s, buf + have, sizeof(buf) - 1 -
		    have);
		if (r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED)
			continue;
		if (r <= 0)
			return -1;
		have += (size_t)r;
		buf[have] = '\0';
		if ((hend = strstr(buf, "\r\n\r\n")) != NULL)
			break;
	}
	if (sscanf(buf, "HTTP/1.%*d %d", &status) != 1)
		return -1;
	want = 0;
	if ((cl = strcasestr(buf, "\r\nContent-Length:")) != NULL && cl < hend)
		want = strtoul(cl + 17, NULL, 10);
	got = (size_t)(buf + have - (hend + 4));
	while (got < want) {
		r = gnutls_record_recv(c->s, buf, sizeof(buf));
		if (r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED)
			continue;
		if (r <= 0)
			return -1;
		got += (size_t)r;
	}
	return status;
}

static int
post(struct conn *c, const struct body *b, int close_after)
{
	char	hdr[512];
	int	n;

	n = snprintf(hdr, sizeof(hdr), "POST %s HTTP/1.1\r\nHost: localhost"
	    "\r\nContent-Type: application/tlsrpt+gzip\r\nContent-Length: "
	    "%zu\r\n%s\r\n", path, b->len, close_after ?
	    "Connection: close\r\n" : "");
	if (send_all(c, hdr, (size_t)n) == -1 ||
	    send_all(c, b->p, b->len) == -1)
		return -1;
	return read_response(c);
}

static void *
run(void *arg)
{
	struct conn	c = { -1, NULL };
	size_t		i;
	double		t0;
	int		st, tries;

	(void)arg;
	while ((i = atomic_fetch_add(&next, 1)) < count) {
		t0 = now();
		st = -1;
		for (tries = 0; tries < 3 && st == -1; tries++) {
			if (c.fd == -1 && conn_open(&c) == -1)
				continue;
			if (mode == M_HANDSHAKE) {
				st = 200;
				break;
			}
			st = post(&c, &bodies[i % nbodies], mode == M_NEWCONN);
			if (st == -1)
				conn_close(&c);
		}
		lat[i] = now() - t0;
		if (mode != M_KEEPALIVE)
			conn_close(&c);
		if (st == -1)
			atomic_fetch_add(&errs, 1);
		else if (st >= 200 && st < 300)
			atomic_fetch_add(&ok, 1);
		else
			atomic_fetch_add(&bad, 1);
	}
	conn_close(&c);
	return NULL;
}

static int
dcmp(const void *a, const void *b)
{
	double	x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static char *
load(const char *file, size_t *len)
{
	FILE	*f = fopen(file, "rb");
	char	*buf;
	long	 n;

	if (f == NULL || fseek(f, 0, SEEK_END) == -1 || (n = ftell(f)) < 0)
		return NULL;
	rewind(f);
	if ((buf = malloc((size_t)n + 1)) == NULL ||
	    fread(buf, 1, (size_t)n, f) != (size_t)n)
		return NULL;
	fclose(f);
	*len = (size_t)n;
	return buf;
}

int
main(int argc, char *argv[])
{
	pthread_t	*th;
	char		*all, *p, *end;
	size_t		 len, conc, i, cap = 0;
	double		 t0, secs;

	if (argc < 7) {
		fprintf(stderr, "usage: httpd_load keepalive|newconn|handshake "
		    "HOST PORT CONCURRENCY COUNT BODIES [PATH]\n");
		return 2;
	}
	mode = strcmp(argv[1], "keepalive") == 0 ? M_KEEPALIVE :
	    strcmp(argv[1], "newconn") == 0 ? M_NEWCONN : M_HANDSHAKE;
	memset(&srv, 0, sizeof(srv));
	srv.sin_family = AF_INET;
	srv.sin_port = htons((unsigned short)atoi(argv[3]));
	if (inet_pton(AF_INET, argv[2], &srv.sin_addr) != 1) {
		fprintf(stderr, "httpd_load: %s: not an IPv4 address\n",
		    argv[2]);
		return 2;
	}
	conc = strtoul(argv[4], NULL, 10);
	count = strtoul(argv[5], NULL, 10);
	if (argc > 7)
		path = argv[7];
	if ((all = load(argv[6], &len)) == NULL) {
		fprintf(stderr, "httpd_load: cannot read %s\n", argv[6]);
		return 2;
	}
	for (p = all, end = all + len; p < end; ) {
		size_t	bl = strtoul(p, &p, 10);

		if (*p++ != '\n' || bl > (size_t)(end - p))
			break;
		if (nbodies == cap) {
			cap = cap ? cap * 2 : 1024;
			bodies = realloc(bodies, cap * sizeof(*bodies));
		}
		bodies[nbodies].p = p;
		bodies[nbodies++].len = bl;
		p += bl;
	}
	if (nbodies == 0 || conc == 0 || count == 0) {
		fprintf(stderr, "httpd_load: nothing to send\n");
		return 2;
	}
	gnutls_global_init();
	gnutls_certificate_allocate_credentials(&xcred);
	lat = calloc(count, sizeof(*lat));
	th = calloc(conc, sizeof(*th));
	t0 = now();
	for (i = 0; i < conc; i++)
		pthread_create(&th[i], NULL, run, NULL);
	for (i = 0; i < conc; i++)
		pthread_join(th[i], NULL);
	secs = now() - t0;
	qsort(lat, count, sizeof(*lat), dcmp);
	printf("mode=%s n=%zu ok=%zu other=%zu errors=%zu secs=%.3f "
	    "rate=%.0f p50_ms=%.2f p99_ms=%.2f max_ms=%.2f\n", argv[1], count,
	    (size_t)ok, (size_t)bad, (size_t)errs, secs,
	    (double)count / secs, lat[count / 2] * 1e3,
	    lat[(size_t)((double)count * 0.99)] * 1e3, lat[count - 1] * 1e3);
	free(lat);
	free(th);
	free(bodies);
	free(all);
	gnutls_certificate_free_credentials(xcred);
	gnutls_global_deinit();
	return 0;
}
