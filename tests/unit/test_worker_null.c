/*
 * test_worker_null.c -- the ingest worker's NULL cases, which need no
 * database: worker_stop(NULL) does nothing.  The worker at work is
 * tests/integration/test_worker.c.
 *
 * Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
 */

#include <stddef.h>

#include <criterion/criterion.h>

#include "core_worker.h"

Test(worker, stop_null_is_noop)
{
	worker_stop(NULL);
}
