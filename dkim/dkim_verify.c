/*
 * dkim_verify.c -- DKIM verification with libopendkim and the trust
 * verdict of a mailed report (see dkim_verify.h).
 *
 * Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
 *
 * The message is handed to libopendkim as it is: each header field with
 * its folding (its line ends are made CRLF by DKIM_LIBFLAGS_FIXCRLF, so
 * a file with LF line ends verifies too), then the body.  At most
 * LIM_DKIM_SIGS_MAX signatures are verified (the prescreen callback
 * ignores the rest before any key is looked up): a message of a
 * thousand signatures costs eight key lookups, not a thousand.
 */

#include <sys/stat.h>
#include <sys/types.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <opendkim/dkim.h>

#include "dkim_verify.h"
#include "tlsrpt_limits.h"

#define DKV_VERDICT_TAIL	12	/* " unaligned" and its NUL */

struct dkv {
	DKIM_LIB	*lib;
};

static DKIM_CBSTAT	 prescreen(DKIM *, DKIM_SIGINFO **, int);
static unsigned char	*unconst(const void *);
static void		 copy_name(char *, size_t, const unsigned char *);
static const char	*sig_result(DKIM_SIGINFO *, int);
static const unsigned char *crlf_field(const unsigned char *, size_t,
			    unsigned char **, size_t *, size_t *);
static void		 domain_of_contact(const char *, char *, size_t);
static int		 aligned(const char *, const char *);
static void		 printable(char *);

/* libopendkim takes u_char * where it only reads. */
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

/* The signatures past the limit are never looked at. */
static DKIM_CBSTAT
prescreen(DKIM *d, DKIM_SIGINFO **sigs, int nsigs)
{
	int	i;

	(void)d;
	for (i = LIM_DKIM_SIGS_MAX; i < nsigs; i++)
		dkim_sig_ignore(sigs[i]);
	return DKIM_CBSTAT_CONTINUE;
}

struct dkv *
dkv_new(const char *keyfile, char *err, size_t errsz)
{
	struct dkv	*v = NULL;
	unsigned int	 flags, tmo;
	dkim_query_t	 q;
	struct stat	 sb;
	int		 fd;

	if ((v = calloc(1, sizeof(*v))) == NULL ||
	    (v->lib = dkim_init(NULL, NULL)) == NULL) {
		snprintf(err, errsz, "DKIM: cannot set up libopendkim (out of "
		    "memory)");
		goto fail;
	}
	flags = DKIM_LIBFLAGS_FIXCRLF | DKIM_LIBFLAGS_BADSIGHANDLES;
	tmo = LIM_DKIM_DNS_TIMEOUT_SEC;
	if (dkim_options(v->lib, DKIM_OP_SETOPT, DKIM_OPTS_FLAGS, &flags,
	    sizeof(flags)) != DKIM_STAT_OK ||
	    dkim_options(v->lib, DKIM_OP_SETOPT, DKIM_OPTS_TIMEOUT, &tmo,
	    sizeof(tmo)) != DKIM_STAT_OK ||
	    dkim_set_prescreen(v->lib, prescreen) != DKIM_STAT_OK) {
		snprintf(err, errsz, "DKIM: libopendkim refuses its options");
		goto fail;
	}
	if (keyfile != NULL) {
		if (keyfile[0] == '\0' || strlen(keyfile) >= PATH_MAX) {
			snprintf(err, errsz, "--dkim-keys: not a file name");
			goto fail;
		}
		if ((fd = open(keyfile, O_RDONLY | O_CLOEXEC)) == -1 ||
		    fstat(fd, &sb) == -1) {
			snprintf(err, errsz, "--dkim-keys %s: %s", keyfile,
			    strerror(errno));
			if (fd != -1)
				close(fd);
			goto fail;
		}
		close(fd);
		if (!S_ISREG(sb.st_mode)) {
			snprintf(err, errsz, "--dkim-keys %s: not a regular "
			    "file", keyfile);
			goto fail;
		}
		q = DKIM_QUERY_FILE;
		if (dkim_options(v->lib, DKIM_OP_SETOPT, DKIM_OPTS_QUERYMETHOD,
		    &q, sizeof(q)) != DKIM_STAT_OK ||
		    dkim_options(v->lib, DKIM_OP_SETOPT, DKIM_OPTS_QUERYINFO,
		    unconst(keyfile), strlen(keyfile) + 1) != DKIM_STAT_OK) {
			snprintf(err, errsz, "--dkim-keys %s: refused by "
			    "libopendkim", keyfile);
			goto fail;
		}
	}
	return v;
 fail:
	dkv_free(v);
	return NULL;
}

void
dkv_free(struct dkv *v)
{
	if (v == NULL)
		return;
	if (v->lib != NULL)
		dkim_close(v->lib);
	free(v);
}

/* A d= or s= value: lower case, DNS name characters only ('?' else). */
static void
copy_name(char *dst, size_t dstsz, const unsigned char *src)
{
	size_t	i;
	int	c;

	for (i = 0; src != NULL && src[i] != '\0' && i + 1 < dstsz; i++) {
		c = tolower(src[i]);
		dst[i] = (char)((isalnum(c) && c < 0x80) || c == '.' ||
		    c == '-' || c == '_' ? c : '?');
	}
	dst[i] = '\0';
}

/*
 * A folded header field of a file with LF line ends: its line breaks made
 * CRLF, as it was sent ("simple" header canonicalization hashes them;
 * libopendkim's FIXCRLF mends the body only).  The field itself when it
 * has no bare LF; else a copy in *buf (grown, owned by the caller).
 * NULL when out of memory.
 */
static const unsigned char *
crlf_field(const unsigned char *p, size_t n, unsigned char **buf,
    size_t *bufsz, size_t *outlen)
{
	unsigned char	*nb;
	size_t		 i, o, lf = 0;

	for (i = 0; i < n; i++)
		if (p[i] == '\n' && (i == 0 || p[i - 1] != '\r'))
			lf++;
	*outlen = n;
	if (lf == 0)
		return p;
	if (*bufsz < n + lf) {
		if ((nb = realloc(*buf, n + lf)) == NULL)
			return NULL;
		*buf = nb;
		*bufsz = n + lf;
	}
	for (i = o = 0; i < n; i++) {
		if (p[i] == '\n' && (i == 0 || p[i - 1] != '\r'))
			(*buf)[o++] = '\r';
		(*buf)[o++] = p[i];
	}
	*outlen = o;
	return *buf;
}

/* What became of one signature, after dkim_eom() when eom is set. */
static const char *
sig_result(DKIM_SIGINFO *sig, int eom)
{
	unsigned int	flags = dkim_sig_getflags(sig);

	if ((flags & DKIM_SIGFLAG_PASSED) != 0) {
		if (eom && dkim_sig_getbh(sig) == DKIM_SIGBH_MATCH)
			return "pass";
		return "fail";		/* the body is not what was signed */
	}
	switch (dkim_sig_geterror(sig)) {
	case DKIM_SIGERROR_BADSIG:
		return "fail";
	case DKIM_SIGERROR_KEYFAIL:
	case DKIM_SIGERROR_MULTIREPLY:
		return "temperror";	/* DNS did not answer */
	default:
		return "permerror";	/* no key, syntax, expired, ... */
	}
}

int
dkv_check(struct dkv *v, const unsigned char *msg, size_t len,
    const char *submitter, const char *contact, const char *info,
    struct dkv_result *res)
{
	DKIM		 *d = NULL;
	DKIM_SIGINFO	**sigs = NULL;
	DKIM_STAT	  st;
	const unsigned char *p = msg, *end = msg + len, *q, *nl, *fe, *next;
	const unsigned char *f;
	unsigned char	 *fb = NULL;
	size_t		  flen, fbsz = 0;
	int		  nsigs = 0, i, eom = 0, rc = 0;
	struct dkv_sig	 *s;

	memset(res, 0, sizeof(*res));
	if ((d = dkim_verify(v->lib, unconst("tlsrpt"), NULL, &st)) == NULL)
		goto nomem;
	/* an mbox "From " line is not a header field */
	if (len >= 5 && memcmp(p, "From ", 5) == 0) {
		nl = memchr(p, '\n', len);
		p = nl != NULL ? nl + 1 : end;
	}
	/* the header fields, each with its continuation lines */
	while (p < end) {
		if (*p == '\n') {
			p++;
			break;
		}
		if (*p == '\r' && p + 1 < end && p[1] == '\n') {
			p += 2;
			break;
		}
		for (q = p;;) {
			nl = memchr(q, '\n', (size_t)(end - q));
			if (nl == NULL) {
				fe = next = end;
				break;
			}
			if (nl + 1 < end && (nl[1] == ' ' || nl[1] == '\t')) {
				q = nl + 1;
				continue;
			}
			fe = nl;
			next = nl + 1;
			break;
		}
		flen = (size_t)(fe - p);
		if (flen > 0 && p[flen - 1] == '\r')
			flen--;
		/* a line that is no field is passed over, as GMime does */
		if (flen > 0 && memchr(p, ':', flen) != NULL) {
			if ((f = crlf_field(p, flen, &fb, &fbsz, &flen)) ==
			    NULL)
				goto nomem;
			st = dkim_header(d, unconst(f), flen);
			if (st == DKIM_STAT_NORESOURCE)
				goto nomem;
		}
		p = next;
	}
	st = dkim_eoh(d);
	if (st == DKIM_STAT_NORESOURCE)
		goto nomem;
	if (st == DKIM_STAT_OK) {
		if (p < end && dkim_body(d, unconst(p), (size_t)(end - p)) ==
		    DKIM_STAT_NORESOURCE)
			goto nomem;
		st = dkim_eom(d, NULL);
		if (st == DKIM_STAT_NORESOURCE)
			goto nomem;
		eom = 1;
	}
	if (dkim_getsiglist(d, &sigs, &nsigs) != DKIM_STAT_OK)
		nsigs = 0;
	for (i = 0; i < nsigs; i++) {
		if ((dkim_sig_getflags(sigs[i]) & DKIM_SIGFLAG_IGNORE) != 0 ||
		    res->nsigs == LIM_DKIM_SIGS_MAX) {
			res->nignored++;
			continue;
		}
		s = &res->sigs[res->nsigs++];
		snprintf(s->result, sizeof(s->result), "%s",
		    sig_result(sigs[i], eom));
		copy_name(s->d, sizeof(s->d), dkim_sig_getdomain(sigs[i]));
		copy_name(s->s, sizeof(s->s), dkim_sig_getselector(sigs[i]));
	}
	res->trusted = dkv_verdict(res->sigs, res->nsigs, submitter, contact,
	    info, res->verdict, sizeof(res->verdict));
	rc = res->trusted;
	goto out;
 nomem:
	memset(res, 0, sizeof(*res));
	snprintf(res->verdict, sizeof(res->verdict), "temperror (out of "
	    "memory verifying DKIM)");
	rc = -1;
 out:
	free(fb);
	if (d != NULL)
		dkim_free(d);
	return rc;
}

/* The domain of a contact-info: mail address, mailto: or other URI. */
static void
domain_of_contact(const char *ci, char *out, size_t outsz)
{
	const char	*p, *e;
	size_t		 n;

	out[0] = '\0';
	if (ci == NULL)
		return;
	if ((p = strrchr(ci, '@')) != NULL)
		p++;
	else if ((p = strstr(ci, "://")) != NULL)
		p += 3;
	else
		p = ci;
	for (e = p; *e != '\0' && *e != '/' && *e != ':' && *e != '>' &&
	    *e != ' ' && *e != '?'; e++)
		;
	n = (size_t)(e - p);
	if (n == 0 || n >= outsz || memchr(p, '.', n) == NULL)
		return;
	for (e = p; e < p + n; e++)
		out[e - p] = (char)tolower((unsigned char)*e);
	out[n] = '\0';
	if (n > 0 && out[n - 1] == '.')
		out[n - 1] = '\0';
}

/* d aligned with x: equal, or one below the other (the shorter has a
 * dot: no TLD signs for everyone). */
static int
aligned(const char *d, const char *x)
{
	size_t	dl, xl;

	if (d[0] == '\0' || x[0] == '\0')
		return 0;
	dl = strlen(d);
	xl = strlen(x);
	if (dl == xl)
		return strcasecmp(d, x) == 0;
	if (dl < xl)
		return strchr(d, '.') != NULL && x[xl - dl - 1] == '.' &&
		    strcasecmp(x + xl - dl, d) == 0;
	return strchr(x, '.') != NULL && d[dl - xl - 1] == '.' &&
	    strcasecmp(d + dl - xl, x) == 0;
}

int
dkv_verdict(const struct dkv_sig *res, size_t n, const char *sub,
    const char *contact, const char *info, char *out, size_t outsz)
{
	char	 cd[DKV_DOMAIN_MAX], sd[DKV_DOMAIN_MAX], inf[DKV_VERDICT_MAX];
	size_t	 i, j, len;
	int	 pass = 0, al = 0;

	if (outsz == 0)
		return 0;
	domain_of_contact(contact, cd, sizeof(cd));
	sd[0] = '\0';
	if (sub != NULL) {
		while (*sub == ' ' || *sub == '\t')
			sub++;
		snprintf(sd, sizeof(sd), "%s", sub);
		printable(sd);
		len = strlen(sd);
		while (len > 0 && (sd[len - 1] == ' ' || sd[len - 1] == '.'))
			sd[--len] = '\0';
	}
	/* information only: never the word the trust is read from */
	inf[0] = '\0';
	if (info != NULL && info[0] != '\0') {
		snprintf(inf, sizeof(inf), "%s", info);
		printable(inf);
		for (i = 0; inf[i] != '\0'; i++)
			inf[i] = (char)tolower((unsigned char)inf[i]);
		if (strstr(inf, "aligned") != NULL)
			inf[0] = '\0';
	}
	for (i = 0; i < n; i++) {
		if (strcmp(res[i].result, "pass") != 0)
			continue;
		pass++;
		if (aligned(res[i].d, sd) || aligned(res[i].d, cd))
			al = 1;
	}
	if (pass == 0) {
		if (n == 0)
			len = (size_t)snprintf(out, outsz, "none");
		else if (res[0].d[0] != '\0')
			len = (size_t)snprintf(out, outsz, "fail d=%s "
			    "(dkim=%s)", res[0].d, res[0].result);
		else
			len = (size_t)snprintf(out, outsz, "fail (dkim=%s)",
			    res[0].result);
		al = 0;
	} else if (outsz < DKV_VERDICT_TAIL + 8) {
		len = (size_t)snprintf(out, outsz, "pass");
		al = 0;
	} else {
		/* the domains, as many as fit before the last word */
		len = (size_t)snprintf(out, outsz, "pass d=");
		for (i = 0, j = 0; i < n; i++) {
			const char *d = res[i].d[0] != '\0' ? res[i].d : "?";

			if (strcmp(res[i].result, "pass") != 0)
				continue;
			if (len + strlen(d) + 1 >= outsz - DKV_VERDICT_TAIL)
				break;
			len += (size_t)snprintf(out + len, outsz - len, "%s%s",
			    j++ > 0 ? "," : "", d);
		}
		len += (size_t)snprintf(out + len, outsz - len, " %s", al ?
		    "aligned" : "unaligned");
	}
	if (inf[0] != '\0' && len + strlen(inf) + 4 <= outsz)
		snprintf(out + len, outsz - len, " (%s)", inf);
	printable(out);
	return al;
}

/* Printable ASCII only: the verdict goes to a spool line and a header. */
static void
printable(char *s)
{
	for (; *s != '\0'; s++)
		if (*s < 0x20 || *s >= 0x7f)
			*s = '?';
}
