/*
 * store_copy.h -- the COPY text-format encoder of store/ (store_copy.c);
 * internal to store/ and its tests.
 *
 * Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
 *
 * Rows for COPY ... FROM STDIN (text format, the default delimiter tab,
 * NULL as \N) are built field by field in a fixed buffer that goes to a
 * sink whenever it is full and at copy_flush().  The encoder knows no
 * database: store_put.c's sink is PQputCopyData(), the unit tests'
 * (tests/unit/test_copy.c) a memory buffer.  Strings are C strings: a
 * value ends at its first NUL (text cannot hold NUL in PostgreSQL);
 * their bytes go as they are but for the escapes of the text format, so
 * a string that is not valid UTF-8 reaches the server as it is, which
 * refuses it (SQLSTATE 22021).
 */

#ifndef TLSRPT_STORE_COPY_H
#define TLSRPT_STORE_COPY_H

#include <stddef.h>
#include <stdint.h>

#define COPY_BUF_BYTES		(128 * 1024)	/* sent when full */

struct copy {
	/* takes len bytes of buf; 0, or -1 when they could not be sent */
	int		(*sink)(void *arg, const char *buf, size_t len);
	void		*arg;
	int		 failed;	/* a sink call failed: later data is
					 * dropped, the COPY is to be
					 * aborted */
	size_t		 len;
	char		 buf[COPY_BUF_BYTES];
};

/* Start an empty buffer that sends to sink(arg, ...). */
void	copy_init(struct copy *, int (*sink)(void *, const char *, size_t),
	    void *arg);

/* Send what is buffered (nothing after a failure). */
void	copy_flush(struct copy *);

/* Bytes as they are: no escaping (for what the encoder made itself). */
void	copy_mem(struct copy *, const void *, size_t);

void	copy_tab(struct copy *);	/* the field delimiter */
void	copy_eol(struct copy *);	/* the end of a row */
void	copy_null(struct copy *);	/* SQL NULL: \N */

/* A text value: \ newline CR tab as \\ \n \r \t; NULL is SQL NULL. */
void	copy_text(struct copy *, const char *);

/* A text value of a NOT NULL column: NULL is "". */
void	copy_text0(struct copy *, const char *);

void	copy_int(struct copy *, int64_t);	/* decimal */
void	copy_bool(struct copy *, int);		/* t or f */

/* Unix seconds as timestamptz text, UTC (util_format_datetime()). */
void	copy_time(struct copy *, int64_t);

/* 32 bytes (a digest, a report key) as bytea hex: \\x + 64 digits. */
void	copy_key(struct copy *, const unsigned char *);

/* Any bytes as bytea in the escape format: printable ASCII but \ as is,
 * \ as \\, every other byte \ooo; each backslash doubled for COPY. */
void	copy_bytea(struct copy *, const unsigned char *, size_t);

/* A text[] literal {"a","b"}: each element quoted with \" and \\ for the
 * array parser (a NULL element is NULL), then escaped for COPY. */
void	copy_array(struct copy *, const char *const *, size_t);

#endif
