/*
 * fuzz_spool.c -- libFuzzer target over the spool file parser the ingest
 * worker reads new/ with (spool_read() in collector/core_spool.c).
 *
 * Each input is written as a file of new/ in a temporary spool and read
 * back with small limits (payload 4096 bytes, 1024 kept), then listed,
 * read again with the limits swapped, and removed.  What the reader
 * returns is checked against the file: payload inside the bytes read,
 * lengths within the limits, a reason on every failure, header values
 * free of line breaks.  An impossible result aborts: a finding.
 *
 * Built by `make fuzz`; tests/unit/test_fuzz_fronts.c replays its
 * crashers (crashers/spool-*) and tests/fuzz/regress in `make check`.
 */

#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core_spool.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static struct spool	*fs_sp;
static char		 fs_dir[64];

/* At exit: the spool and its directory go (tmp/, new/, bad/ are flat). */
static void
fs_cleanup(void)
{
	static const char *const sub[] = { "tmp", "new", "bad" };
	struct dirent	*de;
	DIR		*d;
	char		 path[512];
	size_t		 i;

	spool_close(fs_sp);
	fs_sp = NULL;
	for (i = 0; i < sizeof(sub) / sizeof(sub[0]); i++) {
		snprintf(path, sizeof(path), "%s/spool/%s", fs_dir, sub[i]);
		if ((d = opendir(path)) != NULL) {
			while ((de = readdir(d)) != NULL) {
				if (strcmp(de->d_name, ".") == 0 ||
				    strcmp(de->d_name, "..") == 0)
					continue;
				snprintf(path, sizeof(path), "%s/spool/%s/%s",
				    fs_dir, sub[i], de->d_name);
				(void)unlink(path);
			}
			closedir(d);
		}
		snprintf(path, sizeof(path), "%s/spool/%s", fs_dir, sub[i]);
		(void)rmdir(path);
	}
	snprintf(path, sizeof(path), "%s/spool", fs_dir);
	(void)rmdir(path);
	(void)rmdir(fs_dir);
}

static void
fs_init(void)
{
	char	err[256], path[128];

	snprintf(fs_dir, sizeof(fs_dir), "/tmp/tlsrpt-fuzz-spool.XXXXXX");
	if (mkdtemp(fs_dir) == NULL)
		abort();
	snprintf(path, sizeof(path), "%s/spool", fs_dir);
	if ((fs_sp = spool_open(path, err, sizeof(err))) == NULL) {
		fprintf(stderr, "fuzz_spool: %s\n", err);
		abort();
	}
	atexit(fs_cleanup);
}

static void
fs_check(const struct spool_file *f, enum spool_read_result rr,
    const char *err, size_t size, size_t payload_max, size_t keep_max)
{
	size_t	i;

	switch (rr) {
	case SPOOL_READ_OK:
		if (f->source == NULL || f->payload == NULL ||
		    f->payload < f->data || f->payload_len > payload_max ||
		    f->payload_size != f->payload_len ||
		    (size_t)(f->payload - f->data) + f->payload_len != size)
			abort();
		for (i = 0; i <= 16 && f->extra[i] != NULL; i++)
			if (strchr(f->extra[i], '\n') != NULL ||
			    strstr(f->extra[i], ": ") == NULL)
				abort();
		if (i > 16)
			abort();
		if (f->origin != NULL && strchr(f->origin, '\n') != NULL)
			abort();
		break;
	case SPOOL_READ_TOOBIG:
		if (err[0] == '\0' || f->payload_len > keep_max ||
		    f->payload_size <= payload_max)
			abort();
		break;
	case SPOOL_READ_BAD:
		if (err[0] == '\0' || f->payload_len > keep_max)
			abort();
		break;
	case SPOOL_READ_GONE:
	case SPOOL_READ_AGAIN:
		abort();		/* the file is there; memory is */
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct spool_file	 f;
	struct spool_entry	*e;
	enum spool_read_result	 rr;
	char			 path[160], err[256];
	size_t			 n;
	int			 fd;

	if (fs_sp == NULL)
		fs_init();
	snprintf(path, sizeof(path), "%s/spool/new/f", fs_dir);
	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0640)) == -1)
		abort();
	if (size > 0 && write(fd, data, size) != (ssize_t)size)
		abort();
	close(fd);

	rr = spool_read(fs_sp, "f", 4096, 1024, &f, err, sizeof(err));
	fs_check(&f, rr, err, size, 4096, 1024);
	spool_file_free(&f);
	rr = spool_read(fs_sp, "f", 1024, 4096, &f, err, sizeof(err));
	fs_check(&f, rr, err, size, 1024, 4096);
	spool_file_free(&f);
	if (spool_list(fs_sp, 4, &e, &n) == -1 || n != 1 ||
	    strcmp(e[0].name, "f") != 0)
		abort();
	free(e);
	if (spool_remove(fs_sp, "f") == -1 || spool_sync(fs_sp) == -1)
		abort();
	return 0;
}
