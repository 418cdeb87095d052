/*
 * live_pool.c -- many domains checked at once: at most
 * LIM_LIVE_PARALLEL live_check() runs in worker threads, the results
 * handed to the caller in the order of the domains, on its own thread.
 *
 * Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
 *
 * Each live_check() has its own deadline (opts->timeout_ms), so the
 * whole run ends within ceil(n / LIM_LIVE_PARALLEL) deadlines.
 */

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "live.h"
#include "tlsrpt_limits.h"

struct lp_job {
	const char		*domain;
	struct live_result	 r;
	char			 err[256];
	int			 done;		/* under mu */
	int			 ret;
};

struct lp_pool {
	const struct live_opts	*o;
	struct lp_job		*jobs;
	size_t			 n;
	size_t			 next;		/* under mu */
	int			 stop;		/* under mu */
	pthread_mutex_t		 mu;
	pthread_cond_t		 cv;
};

static void	*lp_main(void *);

int
live_check_many(const struct live_opts *o, const char *const *doms,
    size_t n, int (*each)(void *, size_t, struct live_result *), void *arg,
    char *err, size_t errsz)
{
	struct lp_pool	 p;
	pthread_t	 th[LIM_LIVE_PARALLEL];
	size_t		 nth = 0, i, k;
	int		 ret = -1, sync = 0;

	memset(&p, 0, sizeof(p));
	p.o = o;
	p.n = n;
	if (n == 0)
		return 0;
	if ((p.jobs = calloc(n, sizeof(*p.jobs))) == NULL) {
		snprintf(err, errsz, "out of memory");
		return -1;
	}
	for (i = 0; i < n; i++)
		p.jobs[i].domain = doms[i];
	if (pthread_mutex_init(&p.mu, NULL) != 0) {
		snprintf(err, errsz, "cannot create a mutex");
		free(p.jobs);
		return -1;
	}
	if (pthread_cond_init(&p.cv, NULL) != 0) {
		snprintf(err, errsz, "cannot create a condition variable");
		(void)pthread_mutex_destroy(&p.mu);
		free(p.jobs);
		return -1;
	}
	while (nth < LIM_LIVE_PARALLEL && nth < n &&
	    pthread_create(&th[nth], NULL, lp_main, &p) == 0)
		nth++;
	/* no thread at all: one domain after the other, here */
	sync = nth == 0;
	for (i = 0; i < n; i++) {
		if (sync)
			p.jobs[i].ret = live_check(o, doms[i], &p.jobs[i].r,
			    p.jobs[i].err, sizeof(p.jobs[i].err));
		else {
			(void)pthread_mutex_lock(&p.mu);
			while (!p.jobs[i].done)
				(void)pthread_cond_wait(&p.cv, &p.mu);
			(void)pthread_mutex_unlock(&p.mu);
		}
		if (p.jobs[i].ret == -1) {
			snprintf(err, errsz, "%s: %s", p.jobs[i].domain,
			    p.jobs[i].err);
			goto out;
		}
		if (each(arg, i, &p.jobs[i].r) == -1) {
			snprintf(err, errsz, "%s", "");
			goto out;
		}
		live_result_free(&p.jobs[i].r);
	}
	ret = 0;
out:
	(void)pthread_mutex_lock(&p.mu);
	p.stop = 1;
	(void)pthread_mutex_unlock(&p.mu);
	for (k = 0; k < nth; k++)
		(void)pthread_join(th[k], NULL);
	for (i = 0; i < n; i++)
		live_result_free(&p.jobs[i].r);
	(void)pthread_cond_destroy(&p.cv);
	(void)pthread_mutex_destroy(&p.mu);
	free(p.jobs);
	return ret;
}

/* A worker: checks the next domain until none is left or the caller
 * stops. */
static void *
lp_main(void *arg)
{
	struct lp_pool	*p = arg;
	struct lp_job	*j;
	size_t		 i;

	for (;;) {
		(void)pthread_mutex_lock(&p->mu);
		if (p->stop || p->next >= p->n) {
			(void)pthread_mutex_unlock(&p->mu);
			return NULL;
		}
		i = p->next++;
		(void)pthread_mutex_unlock(&p->mu);
		j = &p->jobs[i];
		j->ret = live_check(p->o, j->domain, &j->r, j->err,
		    sizeof(j->err));
		(void)pthread_mutex_lock(&p->mu);
		j->done = 1;
		(void)pthread_cond_broadcast(&p->cv);
		(void)pthread_mutex_unlock(&p->mu);
	}
}
