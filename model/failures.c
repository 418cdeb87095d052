/*
 * failures.c -- the model of `tlsrpt failures` (failures.h): the keys
 * and their parsing, and the store's breakdown rows with share, severity
 * and the key values worked out once.
 *
 * Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
 */

#include <stdlib.h>
#include <string.h>

#include "failures.h"
#include "model.h"

const struct failures_key failures_keys[FAILURES_NKEYS] = {
	{ "result-type", "result_type", "RESULT TYPE", STORE_BY_RESULT_TYPE },
	{ "mx", "mx", "MX", STORE_BY_MX },
	{ "reporter", "reporter", "REPORTER", STORE_BY_REPORTER },
	{ "sending-ip", "sending_ip", "SENDING IP", STORE_BY_SENDING_IP },
	{ "receiving-ip", "receiving_ip", "RECEIVING IP",
	    STORE_BY_RECEIVING_IP },
};

int
failures_parse_by(struct failures_by *by, const char *arg, const char **bad,
    size_t *badlen)
{
	const char	*p = arg, *e;
	size_t		 len, k;

	for (;;) {
		e = strchr(p, ',');
		len = e != NULL ? (size_t)(e - p) : strlen(p);
		for (k = 0; k < FAILURES_NKEYS; k++)
			if (strlen(failures_keys[k].name) == len &&
			    strncmp(failures_keys[k].name, p, len) == 0)
				break;
		if (k == FAILURES_NKEYS) {
			*bad = p;
			*badlen = len;
			return -1;
		}
		if ((by->bits & failures_keys[k].bit) == 0) {
			by->bits |= failures_keys[k].bit;
			by->key[by->nkeys++] = k;
		}
		if (e == NULL)
			return 0;
		p = e + 1;
	}
}

static const char *
key_value(const struct store_failure_row *f, unsigned bit)
{
	switch (bit) {
	case STORE_BY_RESULT_TYPE:
		return f->result_type;
	case STORE_BY_MX:
		return f->mx;
	case STORE_BY_REPORTER:
		return f->reporter;
	case STORE_BY_SENDING_IP:
		return f->sending_ip;
	default:
		return f->receiving_ip;
	}
}

int
failures_compute(struct store *st, const struct store_window *win,
    const struct failures_by *by, size_t reasons_max, struct failures *out)
{
	return failures_compute_page(st, win, by, reasons_max, 0, 0, out);
}

int
failures_compute_page(struct store *st, const struct store_window *win,
    const struct failures_by *by, size_t reasons_max, size_t offset,
    size_t max, struct failures *out)
{
	const struct store_failure_row	*f;
	struct failures_row		*r;
	size_t				 i, k;

	memset(out, 0, sizeof(*out));
	out->since = win->since;
	out->until = win->until;
	out->by = *by;
	if (store_failures_page(st, win, by->bits, reasons_max, offset, max,
	    &out->rows_, &out->nrows_, &out->total) == -1 ||
	    store_totals(st, win, &out->totals) == -1)
		return -1;
	if (out->nrows_ > 0 && (out->rows = calloc(out->nrows_,
	    sizeof(*out->rows))) == NULL)
		return -2;
	for (i = 0; i < out->nrows_; i++) {
		f = &out->rows_[i];
		r = &out->rows[out->nrows++];
		r->domain = f->domain;
		for (k = 0; k < by->nkeys; k++)
			r->key[k] = key_value(f, failures_keys[by->key[k]].bit);
		r->failed = f->failed;
		r->domain_sessions = f->domain_sessions;
		r->share = model_rate(f->failed, f->domain_sessions);
		r->severity = model_counts_level(f->rts, f->nrts);
		r->reporters = f->nreporters;
		r->first_day = f->first_day;
		r->last_day = f->last_day;
		r->rts = f->rts;
		r->nrts = f->nrts;
		r->reasons = f->reasons;
		r->nreasons = f->nreasons;
		r->top_reporters = f->reporters;
		r->ntop_reporters = f->nreporters_l;
		out->failed += f->failed;
		if (r->severity > out->worst)
			out->worst = r->severity;
	}
	return 0;
}

void
failures_free(struct failures *fs)
{
	free(fs->rows);
	store_failures_free(fs->rows_, fs->nrows_);
	memset(fs, 0, sizeof(*fs));
}
