/*
 * core_conf.c -- the option table engine of tlsrpt-httpd and tlsrpt-milter:
 * argv and the config file into a struct, usage lines, sizes.
 *
 * Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
 */

#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core_conf.h"
#include "util.h"

#define CONF_LINE_MAX		4096
#define CONF_CONFIG_OPT		"config"

static const struct conf_opt *opt_find(const struct conf_opt *, size_t,
		    const char *, size_t);
static int	 opt_set(void *, const struct conf_opt *, const char *, int,
		    char *, size_t);
static int	 conf_file(const struct conf_opt *, size_t, void *,
		    const char *, char *, size_t);
static int	 parse_size(const char *, size_t *);

int
conf_parse(const struct conf_opt *opts, size_t nopts, void *base, int argc,
    char *const argv[], int *help, char *err, size_t errsz)
{
	const struct conf_opt	*o;
	const char		*a, *eq, *val;
	int			 i;

	*help = 0;
	/* --config first, wherever it is, so argv overrides the file */
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--config") == 0 && i + 1 < argc)
			a = argv[i + 1];
		else if (strncmp(argv[i], "--config=", 9) == 0)
			a = argv[i] + 9;
		else
			continue;
		if (conf_file(opts, nopts, base, a, err, errsz) == -1)
			return -1;
		break;
	}
	for (i = 1; i < argc; i++) {
		a = argv[i];
		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0 ||
		    strcmp(a, "--version") == 0) {
			*help = a[2] == 'v' ? 2 : 1;
			return 0;
		}
		if (strncmp(a, "--", 2) != 0) {
			snprintf(err, errsz, "unexpected argument \"%s\": "
			    "options are --name value (see --help)", a);
			return -1;
		}
		a += 2;
		eq = strchr(a, '=');
		if ((o = opt_find(opts, nopts, a, eq ? (size_t)(eq - a) :
		    strlen(a))) == NULL) {
			snprintf(err, errsz, "unknown option --%s (see --help)",
			    a);
			return -1;
		}
		if (eq != NULL)
			val = eq + 1;
		else if (o->kind == CONF_FLAG)
			val = "yes";
		else if (i + 1 < argc)
			val = argv[++i];
		else {
			snprintf(err, errsz, "option --%s needs a value",
			    o->name);
			return -1;
		}
		if (o->kind == CONF_STR &&
		    strcmp(o->name, CONF_CONFIG_OPT) == 0)
			continue;	/* read above */
		if (opt_set(base, o, val, 1, err, errsz) == -1)
			return -1;
	}
	return 0;
}

void
conf_release(const struct conf_opt *opts, size_t nopts, void *base)
{
	const struct conf_opt	*o;
	struct conf_list	*l;
	size_t			 i;

	for (o = opts; o < opts + nopts; o++) {
		if (o->kind == CONF_STR)
			free(*(char **)(void *)((char *)base + o->offset));
		else if (o->kind == CONF_LIST) {
			l = (struct conf_list *)(void *)((char *)base +
			    o->offset);
			for (i = 0; i < l->n; i++)
				free(l->v[i]);
		}
	}
}

void
conf_print_opts(const struct conf_opt *opts, size_t nopts, int width)
{
	const struct conf_opt	*o;
	char			 lhs[64];

	for (o = opts; o < opts + nopts; o++) {
		snprintf(lhs, sizeof(lhs), "--%s%s%s", o->name,
		    o->arg ? " " : "", o->arg ? o->arg : "");
		printf("  %-*s %s\n", width, lhs, o->help);
	}
	printf("  %-*s %s\n  %-*s %s\n", width, "--help", "this text",
	    width, "--version", "print the version");
}

void
conf_list_domains(struct conf_list *l)
{
	char	*d;
	size_t	 i;

	for (i = 0; i < l->n; i++) {
		for (d = l->v[i]; *d != '\0'; d++)
			*d = (char)tolower((unsigned char)*d);
		if (d > l->v[i] && d[-1] == '.')
			d[-1] = '\0';
	}
}

static const struct conf_opt *
opt_find(const struct conf_opt *opts, size_t nopts, const char *name,
    size_t len)
{
	const struct conf_opt	*o;

	for (o = opts; o < opts + nopts; o++)
		if (strlen(o->name) == len && strncmp(o->name, name, len) == 0)
			return o;
	return NULL;
}

static int
opt_set(void *base, const struct conf_opt *o, const char *val,
    int from_argv, char *err, size_t errsz)
{
	void			*p = (char *)base + o->offset;
	struct conf_list	*l;
	char			*dup;
	size_t			 sz, i;
	int64_t			 n;

	switch (o->kind) {
	case CONF_FLAG:
		if (strcmp(val, "yes") == 0 || strcmp(val, "1") == 0 ||
		    strcmp(val, "true") == 0)
			*(int *)p = 1;
		else if (strcmp(val, "no") == 0 || strcmp(val, "0") == 0 ||
		    strcmp(val, "false") == 0)
			*(int *)p = 0;
		else
			goto bad;
		return 0;
	case CONF_SIZE:
		if (parse_size(val, &sz) == -1 || sz == 0)
			goto bad;
		*(size_t *)p = sz;
		return 0;
	case CONF_UINT:
		if (util_strtoi64(val, 0, 1000000, &n) == -1)
			goto bad;
		*(unsigned *)p = (unsigned)n;
		return 0;
	case CONF_STR:
		if ((dup = strdup(val)) == NULL)
			goto nomem;
		free(*(char **)p);
		*(char **)p = dup;
		return 0;
	case CONF_LIST:
		l = p;
		if (from_argv && !l->from_argv) {	/* argv replaces */
			for (i = 0; i < l->n; i++)
				free(l->v[i]);
			l->n = 0;
			l->from_argv = 1;
		}
		if (l->n == CONF_LIST_MAX) {
			snprintf(err, errsz, "--%s: at most %d values",
			    o->name, CONF_LIST_MAX);
			return -1;
		}
		if ((dup = strdup(val)) == NULL)
			goto nomem;
		l->v[l->n++] = dup;
		return 0;
	}
 bad:
	snprintf(err, errsz, "--%s: bad value \"%s\"", o->name, val);
	return -1;
 nomem:
	snprintf(err, errsz, "out of memory");
	return -1;
}

/* Keys are the long option names, except config itself. */
static int
conf_file(const struct conf_opt *opts, size_t nopts, void *base,
    const char *path, char *err, size_t errsz)
{
	const struct conf_opt	*o;
	FILE			*f = NULL;
	char			 line[CONF_LINE_MAX], *k, *v, *e;
	char			 sub[256];
	int			 rc = -1, lineno = 0;

	if ((o = opt_find(opts, nopts, CONF_CONFIG_OPT,
	    strlen(CONF_CONFIG_OPT))) != NULL &&
	    opt_set(base, o, path, 0, err, errsz) == -1)
		goto out;
	if ((f = fopen(path, "r")) == NULL) {
		snprintf(err, errsz, "cannot read config %s: %s", path,
		    strerror(errno));
		goto out;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		lineno++;
		if (strchr(line, '\n') == NULL && !feof(f)) {
			snprintf(err, errsz, "%s:%d: line too long", path,
			    lineno);
			goto out;
		}
		for (k = line; isspace((unsigned char)*k); k++)
			;
		if (*k == '#' || *k == '\0')
			continue;
		for (e = k + strlen(k); e > k &&
		    isspace((unsigned char)e[-1]); e--)
			;
		*e = '\0';
		for (v = k; *v != '\0' && !isspace((unsigned char)*v) &&
		    *v != '='; v++)
			;
		o = opt_find(opts, nopts, k, (size_t)(v - k));
		while (isspace((unsigned char)*v) || *v == '=')
			*v++ = '\0';
		if (o == NULL || strcmp(o->name, CONF_CONFIG_OPT) == 0) {
			snprintf(err, errsz, "%s:%d: unknown key \"%s\"", path,
			    lineno, k);
			goto out;
		}
		if (*v == '\0' && o->kind != CONF_FLAG) {
			snprintf(err, errsz, "%s:%d: %s needs a value", path,
			    lineno, o->name);
			goto out;
		}
		if (opt_set(base, o, *v ? v : "yes", 0, sub, sizeof(sub)) ==
		    -1) {
			snprintf(err, errsz, "%s:%d: %s", path, lineno, sub);
			goto out;
		}
	}
	if (ferror(f)) {
		snprintf(err, errsz, "cannot read config %s", path);
		goto out;
	}
	rc = 0;
 out:
	if (f != NULL)
		fclose(f);
	return rc;
}

/* "1048576", "512k", "10M", "1g" (binary units). */
static int
parse_size(const char *s, size_t *v)
{
	char		 num[32];
	size_t		 l = strlen(s), mul = 1;
	int64_t		 n;

	if (l == 0 || l >= sizeof(num))
		return -1;
	memcpy(num, s, l + 1);
	switch (num[l - 1]) {
	case 'k': case 'K':
		mul = 1024;
		break;
	case 'm': case 'M':
		mul = 1024 * 1024;
		break;
	case 'g': case 'G':
		mul = 1024 * 1024 * 1024;
		break;
	}
	if (mul != 1)
		num[l - 1] = '\0';
	if (util_strtoi64(num, 0, INT64_MAX / (int64_t)mul, &n) == -1)
		return -1;
	*v = (size_t)n * mul;
	return 0;
}

int
conf_split_hostport(const char *s, char *host, size_t hostsz, char *port,
    size_t portsz)
{
	const char	*colon, *h;
	size_t		 hl;

	if (s[0] == '[') {
		if ((colon = strstr(s, "]:")) == NULL)
			return -1;
		h = s + 1;
		hl = (size_t)(colon - h);
		colon++;
	} else {
		if ((colon = strrchr(s, ':')) == NULL)
			return -1;
		h = s;
		hl = (size_t)(colon - s);
	}
	if (hl == 0 || hl >= hostsz || strlen(colon + 1) == 0 ||
	    strlen(colon + 1) >= portsz)
		return -1;
	memcpy(host, h, hl);
	host[hl] = '\0';
	snprintf(port, portsz, "%s", colon + 1);
	return 0;
}
