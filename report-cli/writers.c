/*
 * writers.c -- what more than one of the CLI's writers prints: a period
 * of days, the window as JSON members, the paragraph on conflicting
 * copies.
 *
 * Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
 */

#include <inttypes.h>
#include <stdio.h>

#include "model.h"
#include "out.h"
#include "writers.h"

void
digest_period(FILE *f, int64_t since, int64_t until)
{
	out_day(f, since);
	if (until - since > MODEL_DAY_SECONDS) {
		fputs(" to ", f);
		out_day(f, until - 1);
	}
}

void
out_json_window(FILE *f, int64_t since, int64_t until)
{
	fputs("\"since\": \"", f);
	out_time(f, since);
	fputs("\", \"until\": \"", f);
	out_time(f, until);
	fputc('"', f);
}

void
out_conflicts(FILE *f, int64_t conflicting)
{
	if (conflicting == 0)
		return;
	fprintf(f, "%" PRId64 " conflicting cop%s: a report arrived again"
	    " with other figures and no trusted signature; the first copy is"
	    " counted (arrival note \"conflicting copy\")\n\n", conflicting,
	    conflicting == 1 ? "y" : "ies");
}
