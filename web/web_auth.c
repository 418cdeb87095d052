/*
 * web_auth.c -- users, passwords, and the tenancy filter (web_auth.h).
 *
 * Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
 */

#include <sys/stat.h>

#include <crypt.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tlsrpt_limits.h"
#include "web_auth.h"

static void
user_free(struct web_user *u)
{
	size_t	i;

	free(u->name);
	free(u->hash);
	for (i = 0; i < u->npat; i++)
		free(u->pat[i]);
	free(u->pat);
}

void
web_users_free(struct web_users *us)
{
	size_t	i;

	if (us == NULL)
		return;
	for (i = 0; i < us->n; i++)
		user_free(&us->v[i]);
	free(us->v);
	free(us);
}

/* One line into u: 0, or -1 with why. */
static int
parse_line(char *line, struct web_user *u, const char **why)
{
	char	*c1, *c2, *p, *tok, *save;

	memset(u, 0, sizeof(*u));
	if ((c1 = strchr(line, ':')) == NULL ||
	    (c2 = strrchr(line, ':')) == c1) {
		*why = "not NAME:CRYPT-HASH:DOMAINS";
		return -1;
	}
	*c1 = *c2 = '\0';
	if (*line == '\0' || c1[1] == '\0') {
		*why = "an empty name or hash";
		return -1;
	}
	if (c1[1] != '$') {
		*why = "the hash is not a crypt(3) hash ($y$..., $6$...)";
		return -1;
	}
	if ((u->name = strdup(line)) == NULL ||
	    (u->hash = strdup(c1 + 1)) == NULL ||
	    (u->pat = calloc(LIM_WEB_USER_DOMAINS_MAX, sizeof(*u->pat))) ==
	    NULL)
		goto nomem;
	for (tok = strtok_r(c2 + 1, ", \t", &save); tok != NULL;
	    tok = strtok_r(NULL, ", \t", &save)) {
		if (u->npat == LIM_WEB_USER_DOMAINS_MAX) {
			*why = "more domains than LIM_WEB_USER_DOMAINS_MAX";
			return -1;
		}
		for (p = tok; *p != '\0'; p++)
			*p = (char)tolower((unsigned char)*p);
		/* "*" alone is every domain; a trailing dot (the DNS
		 * root) goes, but "*." and "." are refused, never read as
		 * "*" or as nothing */
		if (strcmp(tok, "*") == 0)
			u->all = 1;
		else {
			if (p > tok && p[-1] == '.')
				p[-1] = '\0';
			if (tok[0] == '\0' || (tok[0] == '*' &&
			    (tok[1] != '.' || tok[2] == '\0')) ||
			    strchr(tok + 1, '*') != NULL) {
				*why = "a pattern other than DOMAIN, *.SUFFIX "
				    "or *";
				return -1;
			}
		}
		if ((u->pat[u->npat++] = strdup(tok)) == NULL)
			goto nomem;
	}
	if (u->npat == 0) {
		*why = "no domains";
		return -1;
	}
	return 0;
 nomem:
	*why = "out of memory";
	return -1;
}

struct web_users *
web_users_load(const char *path, char *err, size_t errsz)
{
	struct web_users	*us = NULL;
	struct web_user		 u;
	FILE			*f;
	char			*line = NULL, *s;
	const char		*why;
	size_t			 cap = 0, lineno = 0, i;
	ssize_t			 len;
	struct stat		 st;

	if ((f = fopen(path, "re")) == NULL || fstat(fileno(f), &st) == -1) {
		snprintf(err, errsz, "--users %s: %s", path, strerror(errno));
		goto fail;
	}
	if (st.st_size > LIM_WEB_USERS_FILE_BYTES) {
		snprintf(err, errsz, "--users %s: larger than %d bytes", path,
		    LIM_WEB_USERS_FILE_BYTES);
		goto fail;
	}
	if ((us = calloc(1, sizeof(*us))) == NULL ||
	    (us->v = calloc(LIM_WEB_USERS_MAX, sizeof(*us->v))) == NULL) {
		snprintf(err, errsz, "out of memory");
		goto fail;
	}
	while ((len = getline(&line, &cap, f)) != -1) {
		lineno++;
		while (len > 0 && (line[len - 1] == '\n' ||
		    line[len - 1] == '\r'))
			line[--len] = '\0';
		for (s = line; *s == ' ' || *s == '\t'; s++)
			;
		if (*s == '\0' || *s == '#')
			continue;
		if (us->n == LIM_WEB_USERS_MAX) {
			snprintf(err, errsz, "%s:%zu: more than %d users",
			    path, lineno, LIM_WEB_USERS_MAX);
			goto fail;
		}
		if (parse_line(s, &u, &why) == -1) {
			user_free(&u);
			snprintf(err, errsz, "%s:%zu: %s", path, lineno, why);
			goto fail;
		}
		for (i = 0; i < us->n; i++)
			if (strcmp(us->v[i].name, u.name) == 0)
				break;
		if (i < us->n) {
			snprintf(err, errsz, "%s:%zu: user %s twice", path,
			    lineno, u.name);
			user_free(&u);
			goto fail;
		}
		us->v[us->n++] = u;
	}
	if (ferror(f)) {
		snprintf(err, errsz, "--users %s: read error", path);
		goto fail;
	}
	free(line);
	fclose(f);
	return us;
 fail:
	free(line);
	if (f != NULL)
		fclose(f);
	web_users_free(us);
	return NULL;
}

/*
 * The hash an unknown name is checked against: a yescrypt hash of the
 * cost mkpasswd makes (j9T), so that an unknown name costs as much as a
 * known one and the time of a refusal does not tell which names exist.
 */
#define DUMMY_HASH							\
	"$y$j9T$abcdefghijklmnop$N6rtWd9l79wT7VEHoqJmFq8egvnkqMocqYrjkNlccJA"

static _Atomic unsigned long	 hashes;	/* crypt_r() calls */

unsigned long
web_users_hashes(void)
{
	return hashes;
}

const struct web_user *
web_users_check(const struct web_users *us, const char *name,
    const char *password)
{
	struct crypt_data	*cd;
	const struct web_user	*u = NULL;
	const char		*h;
	size_t			 i, n;

	for (i = 0; i < us->n; i++)
		if (strcmp(us->v[i].name, name) == 0)
			break;
	if ((cd = calloc(1, sizeof(*cd))) == NULL)
		return NULL;
	/* an unknown name costs a hash too: no timing oracle for names */
	h = crypt_r(password, i < us->n ? us->v[i].hash : DUMMY_HASH, cd);
	hashes++;
	if (i < us->n && h != NULL && h[0] != '*') {
		n = strlen(us->v[i].hash);
		if (strlen(h) == n) {
			unsigned char	d = 0;
			size_t		k;

			for (k = 0; k < n; k++)
				d |= (unsigned char)(h[k] ^ us->v[i].hash[k]);
			if (d == 0)
				u = &us->v[i];
		}
	}
	explicit_bzero(cd, sizeof(*cd));
	free(cd);
	return u;
}

int
web_sees_all(const struct web_user *u)
{
	return u == NULL || u->all;
}

int
web_allowed(const struct web_user *u, const char *domain)
{
	size_t	i, dl, sl;

	if (web_sees_all(u))
		return 1;
	if (*domain == '\0')
		return 0;
	dl = strlen(domain);
	for (i = 0; i < u->npat; i++) {
		const char *p = u->pat[i];

		if (p[0] == '*') {
			/* "*.sfx": a proper subdomain of sfx */
			sl = strlen(p + 1);
			if (dl > sl && strcmp(domain + dl - sl, p + 1) == 0)
				return 1;
		} else if (strcmp(domain, p) == 0)
			return 1;
	}
	return 0;
}

int
web_scope(const struct web_user *u, struct store *st,
    const struct store_window *w, struct store_domain_list *out)
{
	size_t	i, k;

	if (store_domains(st, w, out) == -1)
		return -1;
	for (i = k = 0; i < out->n; i++)
		if (web_allowed(u, out->v[i]))
			out->v[k++] = out->v[i];
	out->n = k;
	return 0;
}

int
web_scope_window(const struct web_user *u, struct store *st,
    struct store_window *w, struct store_domain_list *scope)
{
	memset(scope, 0, sizeof(*scope));
	w->domains = NULL;
	w->ndomains = 0;
	if (web_sees_all(u))
		return 1;
	if (web_scope(u, st, w, scope) == -1)
		return -1;
	if (scope->n == 0)
		return 0;
	w->domains = (const char *const *)scope->v;
	w->ndomains = scope->n;
	return 1;
}
