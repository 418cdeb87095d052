/*
 * milter_dkim.c -- the DKIM verdict of a mailed report: the dkim results
 * of the Authentication-Results header (RFC 8601) our MTA wrote, and
 * whether a passing signature is the reporting domain's (RFC 8460 §3).
 * tlsrpt-milter does not verify signatures itself: the MTA's verifier
 * (OpenDKIM, rspamd, ...) does, before us in the milter chain.
 *
 * Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
 */

#include <ctype.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <libmilter/mfapi.h>

#include "milter_msg.h"

#define MILT_VERDICT_TAIL	12	/* " unaligned" and its NUL */

static const char	*skip_cfws(const char *);
static size_t		 ar_token(const char *, char *, size_t, const char **);
static void		 domain_of_contact(const char *, char *, size_t);
static int		 aligned(const char *, const char *);
static void		 printable(char *);

/* Past white space and (nested) comments. */
static const char *
skip_cfws(const char *p)
{
	int	depth;

	for (;;) {
		while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
			p++;
		if (*p != '(')
			return p;
		for (depth = 0; *p != '\0'; p++) {
			if (*p == '\\' && p[1] != '\0')
				p++;
			else if (*p == '(')
				depth++;
			else if (*p == ')' && --depth == 0) {
				p++;
				break;
			}
		}
	}
}

/*
 * One token (up to white space, ';', '(' or '=') or quoted string, lower
 * cased, into buf (truncated).  Returns its length; *end is past it.
 */
static size_t
ar_token(const char *p, char *buf, size_t bufsz, const char **end)
{
	size_t	n = 0;
	char	c;

	if (*p == '"') {
		for (p++; *p != '\0' && *p != '"'; p++) {
			if (*p == '\\' && p[1] != '\0')
				p++;
			if (n + 1 < bufsz)
				buf[n++] = (char)tolower((unsigned char)*p);
		}
		if (*p == '"')
			p++;
	} else {
		for (; (c = *p) != '\0' && c != ' ' && c != '\t' &&
		    c != '\r' && c != '\n' && c != ';' && c != '(' &&
		    c != '='; p++)
			if (n + 1 < bufsz)
				buf[n++] = (char)tolower((unsigned char)c);
	}
	buf[n] = '\0';
	*end = p;
	return n;
}

int
milt_ar_parse(const char *value, const char *id, struct milt_dkim *res,
    size_t max, size_t *n)
{
	const char	*p;
	char		 tok[MILT_DOMAIN_MAX], val[MILT_DOMAIN_MAX];
	char		*at, *slash;
	struct milt_dkim *cur = NULL;

	if (value == NULL || id == NULL)
		return 0;
	p = skip_cfws(value);
	ar_token(p, tok, sizeof(tok), &p);
	if (tok[0] == '\0' || strcasecmp(tok, id) != 0)
		return 0;
	/* an optional version, then "; resinfo" until the end */
	for (;;) {
		p = skip_cfws(p);
		if (*p == '\0')
			break;
		if (*p == ';') {
			cur = NULL;
			p = skip_cfws(p + 1);
			/* method[/version] = result */
			ar_token(p, tok, sizeof(tok), &p);
			if ((slash = strchr(tok, '/')) != NULL)
				*slash = '\0';
			p = skip_cfws(p);
			if (*p != '=')
				continue;	/* "none", or junk */
			p = skip_cfws(p + 1);
			ar_token(p, val, sizeof(val), &p);
			if (strcmp(tok, "dkim") == 0 && *n < max) {
				cur = &res[(*n)++];
				memset(cur, 0, sizeof(*cur));
				val[sizeof(cur->result) - 1] = '\0';
				memcpy(cur->result, val,
				    strlen(val) + 1);
			}
			continue;
		}
		/* ptype.property = value, or reason = value */
		ar_token(p, tok, sizeof(tok), &p);
		if (tok[0] == '\0') {
			p++;		/* a stray '=' or the like */
			continue;
		}
		p = skip_cfws(p);
		if (*p != '=')
			continue;
		p = skip_cfws(p + 1);
		ar_token(p, val, sizeof(val), &p);
		if (cur == NULL)
			continue;
		if (strcmp(tok, "header.d") == 0)
			snprintf(cur->d, sizeof(cur->d), "%s", val);
		else if (strcmp(tok, "header.i") == 0 && cur->d[0] == '\0' &&
		    (at = strrchr(val, '@')) != NULL)
			snprintf(cur->d, sizeof(cur->d), "%s", at + 1);
	}
	return 1;
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
milt_dkim_verdict(const struct milt_dkim *res, size_t n, const char *sub,
    const char *contact, char *out, size_t outsz)
{
	char	 cd[MILT_DOMAIN_MAX], sd[MILT_DOMAIN_MAX];
	size_t	 i, j, len;
	int	 pass = 0, al = 0;

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
	for (i = 0; i < n; i++) {
		if (strcmp(res[i].result, "pass") != 0)
			continue;
		pass++;
		if (aligned(res[i].d, sd) || aligned(res[i].d, cd))
			al = 1;
	}
	if (pass == 0) {
		if (n == 0) {
			snprintf(out, outsz, "none");
			return 0;
		}
		if (res[0].d[0] != '\0')
			snprintf(out, outsz, "fail d=%s (dkim=%s)", res[0].d,
			    res[0].result);
		else
			snprintf(out, outsz, "fail (dkim=%s)", res[0].result);
		printable(out);
		return 0;
	}
	/* the domains, as many as fit before the last word */
	if (outsz < MILT_VERDICT_TAIL + 8) {
		snprintf(out, outsz, "pass");
		return 0;
	}
	len = (size_t)snprintf(out, outsz, "pass d=");
	for (i = 0, j = 0; i < n; i++) {
		const char *d = res[i].d[0] != '\0' ? res[i].d : "?";

		if (strcmp(res[i].result, "pass") != 0)
			continue;
		if (len + strlen(d) + 1 >= outsz - MILT_VERDICT_TAIL)
			break;
		len += (size_t)snprintf(out + len, outsz - len, "%s%s",
		    j++ > 0 ? "," : "", d);
	}
	snprintf(out + len, outsz - len, " %s", al ? "aligned" :
	    "unaligned");
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
