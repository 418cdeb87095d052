/*
 * core_conf.h -- the option engine shared by tlsrpt-httpd and tlsrpt-milter:
 * one table of long options, which are also the keys of the config file,
 * parsed into a struct at a base pointer.  Defaults are set by the caller
 * before conf_parse(); validation is the caller's too, after it.
 *
 * Order: the file named by --config (wherever it stands in argv), then
 * the rest of argv, so the command line overrides the file; a LIST
 * option given on the command line replaces what the file said.  The
 * file takes one "key value" (or "key=value") a line, "#" comments, and
 * a flag alone means yes.
 *
 * Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
 */

#ifndef TLSRPT_CONF_H
#define TLSRPT_CONF_H

#include <stddef.h>

#define CONF_LIST_MAX	64		/* values of one LIST option */

#define CONF_NOPTS(t)	(sizeof(t) / sizeof((t)[0]))

struct conf_list {
	char	*v[CONF_LIST_MAX];	/* owned */
	size_t	 n;
	int	 from_argv;		/* argv replaces what the file said */
};

enum conf_kind {
	CONF_STR,			/* char *, owned */
	CONF_LIST,			/* struct conf_list */
	CONF_FLAG,			/* int: yes/no, 1/0, true/false */
	CONF_SIZE,			/* size_t > 0: "512k", "10M", "1g" */
	CONF_UINT,			/* unsigned: 0 to 1000000 */
};

struct conf_opt {
	const char	*name;		/* "config": the file to read */
	enum conf_kind	 kind;
	size_t		 offset;	/* of the member in the struct */
	const char	*arg;		/* for usage; NULL for a flag */
	const char	*help;
};

/*
 * Fill the struct at base from the config file and argv (argv[0]
 * skipped).  --help and -h set *help to 1, --version to 2, and stop
 * there (0 otherwise).  Returns 0, or -1 with a one-line reason in err;
 * either way what was set stays owned by base (conf_release()).
 */
int	conf_parse(const struct conf_opt *, size_t nopts, void *base,
	    int argc, char *const argv[], int *help, char *err, size_t errsz);

/* Free the STR and LIST members of base (not base itself). */
void	conf_release(const struct conf_opt *, size_t nopts, void *base);

/* Print one line per option, then --help and --version, to stdout. */
void	conf_print_opts(const struct conf_opt *, size_t nopts, int width);

/* Lower-case each value and drop one trailing dot: domain names. */
void	conf_list_domains(struct conf_list *);

/* Split "ADDR:PORT" or "[V6]:PORT" into host and port; 0 or -1. */
int	conf_split_hostport(const char *s, char *host, size_t hostsz,
	    char *port, size_t portsz);

#endif
