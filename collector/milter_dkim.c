/*
 * milter_dkim.c -- the DKIM verdict of a mailed report: verified here
 * with libopendkim over the message as received (dkim/dkim_verify.c),
 * whether a passing signature is the reporting domain's (RFC 8460 §3),
 * and, for the record only, what the Authentication-Results header
 * (RFC 8601) of our MTA said.  That header never makes a report
 * trusted: anyone can write one, and an MTA that does not strip forged
 * ones passes them on.
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

#include "dkim_verify.h"
#include "milter_msg.h"

static const char	*skip_cfws(const char *);
static size_t		 ar_token(const char *, char *, size_t, const char **);
static void		 ar_info(const struct milt_dkim *, size_t, char *,
			    size_t);

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

/* "a-r: dkim=pass header.d=google.com, dkim=fail ...": what our MTA's
 * Authentication-Results said, for the record. */
static void
ar_info(const struct milt_dkim *ar, size_t nar, char *out, size_t outsz)
{
	size_t	i, len;
	int	w;

	out[0] = '\0';
	if (nar == 0)
		return;
	len = (size_t)snprintf(out, outsz, "a-r:");
	for (i = 0; i < nar && len < outsz; i++) {
		w = snprintf(out + len, outsz - len, "%s dkim=%s%s%s",
		    i > 0 ? "," : "", ar[i].result[0] != '\0' ? ar[i].result :
		    "?", ar[i].d[0] != '\0' ? " header.d=" : "", ar[i].d);
		if (w < 0 || (size_t)w >= outsz - len) {
			out[len] = '\0';	/* whole results only */
			break;
		}
		len += (size_t)w;
	}
}

int
milt_dkim_check(struct dkv *v, const unsigned char *msg, size_t len,
    const struct milt_dkim *ar, size_t nar, const char *sub,
    const char *contact, char *out, size_t outsz)
{
	struct dkv_result	 res;
	char			 info[DKV_VERDICT_MAX];
	int			 t;

	ar_info(ar, nar, info, sizeof(info));
	t = dkv_check(v, msg, len, sub, contact, info, &res);
	snprintf(out, outsz, "%s", res.verdict);
	return t == 1;
}
