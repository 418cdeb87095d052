/*
 * dkim_sign.c -- sign mail files in place with libopendkim, for the
 * milter bench (tests/bench/milter_bench.sh): the report mails carry a
 * real DKIM signature, so the bench measures the milter's verification
 * and its trusted count means something.
 *
 * usage: dkim_sign KEY.pem DOMAIN SELECTOR FILE...
 * Each FILE (CRLF line ends) gets a relaxed/relaxed rsa-sha256
 * DKIM-Signature of every header field as its first line.  Exit 0, or 1
 * with a line on stderr.
 */

#include <sys/types.h>

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <opendkim/dkim.h>

static unsigned char	*unconst(const void *);
static char		*slurp(const char *, size_t *);
static int		 sign_file(DKIM_LIB *, const char *, const char *,
			    const char *, const char *);

static unsigned char *
unconst(const void *p)
{
	union {
		const void	*c;
		unsigned char	*m;
	} u;

	u.c = p;
	return u.m;
}

/* A whole file, NUL-terminated, malloc'd; NULL on error. */
static char *
slurp(const char *path, size_t *len)
{
	FILE	*f;
	char	*b = NULL;
	long	 n;

	if ((f = fopen(path, "rb")) == NULL)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 &&
	    fseek(f, 0, SEEK_SET) == 0 && (b = malloc((size_t)n + 1)) != NULL &&
	    fread(b, 1, (size_t)n, f) == (size_t)n) {
		b[n] = '\0';
		*len = (size_t)n;
	} else {
		free(b);
		b = NULL;
	}
	fclose(f);
	return b;
}

static int
sign_file(DKIM_LIB *lib, const char *key, const char *domain,
    const char *sel, const char *path)
{
	DKIM		*d = NULL;
	DKIM_STAT	 st;
	unsigned char	 sig[4096];
	char		*m, *p, *end, *nl, *q;
	size_t		 len;
	FILE		*f;
	int		 rc = -1;

	if ((m = slurp(path, &len)) == NULL)
		return -1;
	end = m + len;
	d = dkim_sign(lib, unconst("bench"), NULL, unconst(key), unconst(sel),
	    unconst(domain), DKIM_CANON_RELAXED, DKIM_CANON_RELAXED,
	    DKIM_SIGN_RSASHA256, -1, &st);
	if (d == NULL || dkim_set_margin(d, 0) != DKIM_STAT_OK)
		goto out;
	for (p = m; p < end && !(p[0] == '\r' && p[1] == '\n');) {
		for (q = p;; q = nl + 1) {
			if ((nl = memchr(q, '\n', (size_t)(end - q))) == NULL)
				goto out;
			if (nl[1] != ' ' && nl[1] != '\t')
				break;
		}
		if (dkim_header(d, unconst(p), (size_t)(nl - p) -
		    (nl > p && nl[-1] == '\r')) != DKIM_STAT_OK)
			goto out;
		p = nl + 1;
	}
	if (p >= end)
		goto out;
	p += 2;
	if (dkim_eoh(d) != DKIM_STAT_OK || (p < end && dkim_body(d,
	    unconst(p), (size_t)(end - p)) != DKIM_STAT_OK) ||
	    dkim_eom(d, NULL) != DKIM_STAT_OK ||
	    dkim_getsighdr(d, sig, sizeof(sig), strlen(DKIM_SIGNHEADER) + 2) !=
	    DKIM_STAT_OK)
		goto out;
	if ((f = fopen(path, "wb")) == NULL)
		goto out;
	if (fprintf(f, "%s: %s\r\n", DKIM_SIGNHEADER, (char *)sig) < 0 ||
	    fwrite(m, 1, len, f) != len) {
		fclose(f);
		goto out;
	}
	rc = fclose(f) == 0 ? 0 : -1;
 out:
	if (d != NULL)
		dkim_free(d);
	free(m);
	return rc;
}

int
main(int argc, char *argv[])
{
	DKIM_LIB	*lib;
	char		*key;
	size_t		 len;
	int		 i, rc = 0;

	if (argc < 5) {
		fprintf(stderr, "usage: dkim_sign KEY.pem DOMAIN SELECTOR "
		    "FILE...\n");
		return 1;
	}
	if ((key = slurp(argv[1], &len)) == NULL ||
	    (lib = dkim_init(NULL, NULL)) == NULL) {
		fprintf(stderr, "dkim_sign: cannot read %s\n", argv[1]);
		free(key);
		return 1;
	}
	for (i = 4; i < argc && rc == 0; i++)
		if (sign_file(lib, key, argv[2], argv[3], argv[i]) == -1) {
			fprintf(stderr, "dkim_sign: cannot sign %s\n", argv[i]);
			rc = 1;
		}
	dkim_close(lib);
	free(key);
	return rc;
}
