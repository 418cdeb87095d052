/*
 * cmd_import.c -- tlsrpt import: reports from files, Maildir folders and
 * stdin into the database, one line of outcome per input.
 *
 * Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
 *
 * Inputs are parsed one by one and stored in batches (one transaction for
 * many reports: see store_put_reports); the lines are printed in input
 * order once their batch is committed, so "stored" always means stored.
 */

#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "dkim_verify.h"
#include "ingest.h"
#include "tlsrpt_limits.h"

#define BATCH_REPORTS	500
#define BATCH_BYTES	(64 * 1024 * 1024)	/* decompressed JSON held */

static const char usage_text[] =
"usage: tlsrpt import [--mail] [--require-dkim] [--dkim-keys FILE] [-v]\n"
"                     [--db CONNINFO] PATH...\n"
"\n"
"Imports TLS reports: .json and .json.gz files, mail messages (.eml),\n"
"Maildir folders (the messages in new/ and cur/), directories of such\n"
"files, or - for standard input.  The content decides what a file is,\n"
"never its name.  Prints one line per input:\n"
"\n"
"    PATH: stored (N warnings)\n"
"    PATH: duplicate\n"
"    PATH: rejected: REASON\n"
"\n"
"A duplicate is a report already stored (same organization, report-id,\n"
"date range and policy domains), however it arrived.  A rejected input\n"
"is recorded in the database with its reason and its first bytes.\n"
"A mail's DKIM signatures are verified here (keys from DNS): the report\n"
"is trusted only when one passes for the TLS-Report-Submitter or the\n"
"contact-info domain; Authentication-Results headers are not believed.\n"
"\n"
"     --mail         read every input as a mail message, as an MDA pipe\n"
"                    does: \"|tlsrpt import --mail -\" in aliases or\n"
"                    .forward\n"
"     --require-dkim reject a mail without a passing DKIM signature of the\n"
"                    reporting domain (recorded as a rejection)\n"
"     --dkim-keys FILE  DKIM keys from FILE instead of DNS (tests, offline\n"
"                    use): lines \"SEL._domainkey.DOMAIN v=DKIM1;k=rsa;\n"
"                    p=...\"\n"
" -v, --verbose      also print each tolerated deviation (warning)\n"
CLI_HELP_DB
"\n"
"Limits: a file or message may hold at most 25 MiB, a gzip report\n"
"10 MiB compressed and 20 MiB of JSON (see README, Limits).\n"
"\n"
"Exit status: 0 every input stored or a duplicate, 1 something was\n"
"rejected, 3 could not run (bad option, database unreachable).\n";

struct item {
	char			*label;		/* owned */
	struct tlsrpt_report	*rep;		/* owned; NULL when rejected */
	char			*reason;	/* owned; for rejections */
	char			*dkim;		/* owned; rep->dkim borrows it */
	const char		*source;	/* static: file, stdin, mail */
};

struct importer {
	struct store		*st;
	struct ingest_limits	 lim;
	struct ingest_parser	*parser;	/* reused for every input */
	int			 mail;
	int			 verbose;
	int			 require_dkim;
	struct dkv		*dkv;		/* DKIM verifier; owned */
	int64_t			 now;
	struct item		 items[BATCH_REPORTS];
	size_t			 nitems;
	size_t			 nreps;
	size_t			 bytes;
	int			 rejected;
	int			 failed;
};

static void	import_path(struct importer *, const char *);
static void	import_dir(struct importer *, const char *);
static void	import_bytes(struct importer *, const char *,
		    const unsigned char *, size_t, const char *);
static void	add_rejection(struct importer *, const char *, const char *,
		    const unsigned char *, size_t, const char *);
static int	flush(struct importer *);
static int	read_fd(int, size_t, unsigned char **, size_t *, int *);

int
cmd_import(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "mail", no_argument, NULL, 'm' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "db", required_argument, NULL, 'D' },
		{ "require-dkim", no_argument, NULL, 'R' },
		{ "dkim-keys", required_argument, NULL, 'K' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct importer	*im = NULL;
	const char	*db = NULL, *keys = NULL;
	char		 err[512];
	int		 ch, i, rc = EXIT_NORUN;

	if ((im = calloc(1, sizeof(*im))) == NULL)
		return cli_fail("out of memory");
	ingest_limits_default(&im->lim);
	while ((ch = getopt_long(argc, argv, "hv", longopts, NULL)) != -1) {
		switch (ch) {
		case 'm':
			im->mail = 1;
			break;
		case 'v':
			im->verbose = 1;
			break;
		case 'D':
			db = optarg;
			break;
		case 'R':
			im->require_dkim = 1;
			break;
		case 'K':
			keys = optarg;
			break;
		case 'h':
			fputs(usage_text, stdout);
			rc = EXIT_OK;
			goto out;
		default:
			fputs(usage_text, stderr);
			goto out;
		}
	}
	if (optind == argc) {
		cli_fail("import: no input; give files, folders or - for "
		    "stdin (see tlsrpt import --help)");
		goto out;
	}
	if ((im->dkv = dkv_new(keys, err, sizeof(err))) == NULL) {
		cli_fail("import: %s", err);
		goto out;
	}
	if ((im->st = cli_open_store(db, 1)) == NULL)
		goto out;
	if ((im->parser = ingest_parser_new(&im->lim)) == NULL) {
		cli_fail("out of memory");
		goto out;
	}
	im->now = (int64_t)time(NULL);
	for (i = optind; i < argc && !im->failed; i++)
		import_path(im, argv[i]);
	if (!im->failed)
		flush(im);
	if (im->failed) {
		if (i < argc)
			cli_fail("stopped: %d input%s not imported", argc - i,
			    argc - i == 1 ? "" : "s");
		rc = EXIT_NORUN;
	} else
		rc = im->rejected ? EXIT_WARN : EXIT_OK;
	if (fflush(stdout) == EOF || ferror(stdout))
		rc = cli_fail("cannot write to stdout");
 out:
	if (im != NULL) {
		ingest_parser_free(im->parser);
		store_close(im->st);
		dkv_free(im->dkv);
	}
	free(im);
	return rc;
}

static void
import_path(struct importer *im, const char *path)
{
	struct stat	 sb;
	unsigned char	*buf = NULL;
	size_t		 len = 0, max = ingest_input_max(&im->lim);
	char		 why[128];
	int		 fd = -1, toobig = 0;

	if (strcmp(path, "-") == 0) {
		if (read_fd(STDIN_FILENO, max, &buf, &len, &toobig) == -1) {
			snprintf(why, sizeof(why), "cannot read stdin: %s",
			    strerror(errno));
			add_rejection(im, "-", im->mail ? "mail" : "stdin", NULL,
			    0, why);
		} else if (toobig) {
			snprintf(why, sizeof(why), "input over the limit of %zu "
			    "bytes", max);
			add_rejection(im, "-", im->mail ? "mail" : "stdin", buf,
			    len, why);
		} else
			import_bytes(im, "-", buf, len, im->mail ? "mail" :
			    "stdin");
		goto out;
	}
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1 ||
	    fstat(fd, &sb) == -1) {
		snprintf(why, sizeof(why), "cannot open: %s", strerror(errno));
		add_rejection(im, path, "file", NULL, 0, why);
		goto out;
	}
	if (S_ISDIR(sb.st_mode)) {
		close(fd);
		fd = -1;
		import_dir(im, path);
		goto out;
	}
	if (!S_ISREG(sb.st_mode)) {
		add_rejection(im, path, "file", NULL, 0, "not a regular file");
		goto out;
	}
	if ((size_t)sb.st_size > max) {
		snprintf(why, sizeof(why), "file of %lld bytes over the limit "
		    "of %zu", (long long)sb.st_size, max);
		add_rejection(im, path, "file", NULL, 0, why);
		goto out;
	}
	if (read_fd(fd, max, &buf, &len, &toobig) == -1) {
		snprintf(why, sizeof(why), "cannot read: %s", strerror(errno));
		add_rejection(im, path, "file", NULL, 0, why);
		goto out;
	}
	if (toobig) {
		snprintf(why, sizeof(why), "file over the limit of %zu bytes",
		    max);
		add_rejection(im, path, "file", buf, len, why);
		goto out;
	}
	import_bytes(im, path, buf, len, im->mail ? "mail" : "file");
 out:
	if (fd != -1)
		close(fd);
	free(buf);
}

static int
cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * A Maildir (cur/ and new/ inside): the messages in new/ then cur/.
 * Any other folder: its regular files, in name order, not recursively;
 * names starting with a dot are skipped.
 */
static void
import_dir(struct importer *im, const char *path)
{
	static const char	*maildir[] = { "new", "cur" };
	char			 sub[4096], full[8192];
	struct stat		 sb;
	DIR			*d = NULL;
	struct dirent		*de;
	char			**names = NULL, **nn;
	size_t			 n = 0, cap = 0, i, k;
	int			 is_maildir, w;

	snprintf(sub, sizeof(sub), "%s/cur", path);
	is_maildir = stat(sub, &sb) == 0 && S_ISDIR(sb.st_mode);
	snprintf(sub, sizeof(sub), "%s/new", path);
	is_maildir = is_maildir && stat(sub, &sb) == 0 && S_ISDIR(sb.st_mode);
	for (k = 0; k < (is_maildir ? 2u : 1u) && !im->failed; k++) {
		if (is_maildir)
			snprintf(sub, sizeof(sub), "%s/%s", path, maildir[k]);
		else
			snprintf(sub, sizeof(sub), "%s", path);
		if ((d = opendir(sub)) == NULL) {
			snprintf(full, sizeof(full), "cannot read folder: %s",
			    strerror(errno));
			add_rejection(im, sub, "file", NULL, 0, full);
			continue;
		}
		while ((de = readdir(d)) != NULL) {
			if (de->d_name[0] == '.')
				continue;
			if (n == cap) {
				cap = cap ? cap * 2 : 256;
				if ((nn = realloc(names, cap *
				    sizeof(*names))) == NULL)
					break;
				names = nn;
			}
			if ((names[n] = strdup(de->d_name)) == NULL)
				break;
			n++;
		}
		closedir(d);
		qsort(names, n, sizeof(*names), cmp_names);
		for (i = 0; i < n; i++) {
			w = snprintf(full, sizeof(full), "%s/%s", sub,
			    names[i]);
			if (w < 0 || (size_t)w >= sizeof(full))
				add_rejection(im, names[i], "file", NULL, 0,
				    "path too long");
			else if (!im->failed && (is_maildir ||
			    (stat(full, &sb) == 0 && S_ISREG(sb.st_mode))))
				import_path(im, full);
			free(names[i]);
		}
		n = 0;
	}
	free(names);
}

static void
import_bytes(struct importer *im, const char *label,
    const unsigned char *buf, size_t len, const char *source)
{
	struct tlsrpt_report	*rep = NULL;
	struct ingest_meta	 meta;
	struct ingest_err	 err;
	struct item		*it;
	struct dkv_result	 dr;
	enum ingest_status	 st;
	const char		*base;
	char			 why[DKV_VERDICT_MAX + 96];
	char			*dkim = NULL;

	memset(&meta, 0, sizeof(meta));
	base = strrchr(label, '/');
	meta.filename = base != NULL ? base + 1 : label;
	if (im->mail)
		st = ingest_message(buf, len, &im->lim, &rep, &err);
	else
		st = ingest_parser_any(im->parser, buf, len, &meta, &rep,
		    &err);
	if (st != INGEST_OK) {
		add_rejection(im, label, source, buf, len, err.msg);
		return;
	}
	/* a mail (only mail sets these): verified here, never believed */
	if (im->mail || rep->subject != NULL || rep->hdr_submitter != NULL ||
	    rep->hdr_domain != NULL) {
		(void)dkv_check(im->dkv, buf, len, rep->hdr_submitter,
		    rep->contact_info, NULL, &dr);
		if (im->require_dkim && !dr.trusted) {
			snprintf(why, sizeof(why), "dkim: no passing DKIM "
			    "signature of the reporting domain (%s)",
			    dr.verdict);
			tlsrpt_report_free(rep);
			add_rejection(im, label, source, buf, len, why);
			return;
		}
		if ((dkim = strdup(dr.verdict)) == NULL) {
			tlsrpt_report_free(rep);
			add_rejection(im, label, source, buf, len,
			    "out of memory");
			return;
		}
		rep->dkim = dkim;
		rep->trusted = dr.trusted;
	}
	it = &im->items[im->nitems++];
	it->label = strdup(label);
	it->rep = rep;
	it->reason = NULL;
	it->dkim = dkim;
	it->source = source;
	im->nreps++;
	im->bytes += rep->json_len;
	if (im->nitems == BATCH_REPORTS || im->bytes >= BATCH_BYTES)
		flush(im);
}

static void
add_rejection(struct importer *im, const char *label, const char *source,
    const unsigned char *raw, size_t len, const char *reason)
{
	struct store_arrival	 arr;
	struct item		*it;
	char			 line[1024];
	int			 rc;

	arr.source = source;
	arr.origin = label;
	arr.received_at = im->now;
	rc = store_put_rejection(im->st, &arr, reason, raw, len,
	    LIM_REJECT_KEEP_BYTES);
	if (rc == -1 && store_err_transient(im->st)) {
		cli_fail("database: %s", store_errstr(im->st));
		im->failed = 1;
	}
	/* beyond the day's caps (schema 007) it is only counted */
	if (rc == 0 && !store_rejection_kept(im->st)) {
		snprintf(line, sizeof(line), "%s (not recorded: the day's "
		    "rejection cap is reached)", reason);
		reason = line;
	}
	it = &im->items[im->nitems++];
	it->label = strdup(label);
	it->rep = NULL;
	it->reason = strdup(reason);
	it->dkim = NULL;
	it->source = source;
	im->rejected = 1;
	if (im->nitems == BATCH_REPORTS)
		flush(im);
}

/* Store the batch, then print its lines in input order. */
static int
flush(struct importer *im)
{
	struct tlsrpt_report	*reps[BATCH_REPORTS];
	struct store_arrival	 arr[BATCH_REPORTS];
	enum store_outcome	 out[BATCH_REPORTS];
	struct item		*it;
	const char		*why;
	char			 reason[512];
	size_t			 i, k, w;
	int			 rc = 0;

	for (i = k = 0; i < im->nitems; i++) {
		it = &im->items[i];
		if (it->rep == NULL)
			continue;
		reps[k] = it->rep;
		arr[k].source = it->source;
		arr[k].origin = it->label;
		arr[k].received_at = im->now;
		k++;
	}
	if (k > 0 && store_put_reports(im->st, reps, arr, k, out) == -1) {
		cli_fail("database: %s", store_errstr(im->st));
		im->failed = 1;
		rc = -1;
	}
	for (i = k = 0; i < im->nitems; i++) {
		it = &im->items[i];
		if (it->rep == NULL) {
			printf("%s: rejected: %s\n", it->label ? it->label :
			    "?", it->reason ? it->reason : "out of memory");
		} else {
			switch (rc == -1 ? STORE_FAILED : out[k]) {
			case STORE_STORED:
				printf("%s: stored", it->label);
				if (it->rep->nwarnings > 0)
					printf(" (%zu warning%s)",
					    it->rep->nwarnings,
					    it->rep->nwarnings == 1 ? "" : "s");
				putchar('\n');
				break;
			case STORE_DUPLICATE:
				printf("%s: duplicate\n", it->label);
				break;
			case STORE_FAILED:
				if (rc == -1) {
					printf("%s: not stored: %s\n",
					    it->label, store_errstr(im->st));
					im->failed = 1;
					break;
				}
				/* refused by the database: a rejection */
				why = store_put_why(im->st, k);
				snprintf(reason, sizeof(reason), "the database "
				    "refused it: %s", why != NULL ? why :
				    "unknown error");
				(void)store_put_rejection(im->st, &arr[k],
				    reason, it->rep->json, it->rep->json_len,
				    LIM_REJECT_KEEP_BYTES);
				printf("%s: rejected: %s\n", it->label, reason);
				im->rejected = 1;
				break;
			}
			if (im->verbose && it->dkim != NULL)
				printf("    dkim: %s%s\n", it->dkim,
				    it->rep->trusted ? " (trusted)" : "");
			if (im->verbose)
				for (w = 0; w < it->rep->nwarnings; w++)
					printf("    warning: %s\n",
					    it->rep->warnings[w]);
			k++;
		}
		free(it->label);
		free(it->reason);
		tlsrpt_report_free(it->rep);
		free(it->dkim);
	}
	im->nitems = 0;
	im->nreps = 0;
	im->bytes = 0;
	return rc;
}

/*
 * Read all of fd, at most max bytes.  *toobig is set when there was more
 * (then *buf holds the first max bytes).  *buf is owned by the caller.
 */
static int
read_fd(int fd, size_t max, unsigned char **bufp, size_t *lenp, int *toobig)
{
	struct bbuf	b;
	unsigned char	chunk[65536];
	ssize_t		r;

	bbuf_init(&b, max);
	*toobig = 0;
	for (;;) {
		r = read(fd, chunk, sizeof(chunk));
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1) {
			bbuf_reset(&b);
			return -1;
		}
		if (r == 0)
			break;
		if (bbuf_append(&b, chunk, (size_t)r) == -1) {
			if (errno != ERANGE) {
				bbuf_reset(&b);
				return -1;
			}
			*toobig = 1;
			break;
		}
	}
	*bufp = b.data;
	*lenp = b.len;
	return 0;
}
