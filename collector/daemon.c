/*
 * daemon.c -- what tlsrpt-httpd and tlsrpt-milter share around their
 * protocol: privilege drop, worker complaints, the domain allow list.
 *
 * Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
 */

#include <sys/types.h>

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "daemon.h"
#include "ingest.h"
#include "log.h"
#include "spool.h"
#include "worker.h"

void
daemon_drop_privileges(const char *user)
{
	struct passwd	*pw;

	if (user == NULL) {
		if (geteuid() == 0)
			log_warnx("running as root: use --user in production");
		return;
	}
	if ((pw = getpwnam(user)) == NULL)
		fatalx("--user %s: no such user", user);
	if (setgroups(1, &pw->pw_gid) == -1 ||
	    setgid(pw->pw_gid) == -1 ||
	    setuid(pw->pw_uid) == -1)
		fatal("cannot drop privileges to %s", user);
	if (geteuid() == 0 && pw->pw_uid != 0)
		fatalx("still root after dropping privileges");
	log_info("running as %s", user);
}

void
daemon_worker_log(struct worker *w, int64_t *seen)
{
	struct worker_stats	ws;

	worker_get_stats(w, &ws);
	if (ws.last_error_at != 0 && ws.last_error_at != *seen) {
		*seen = ws.last_error_at;
		log_warnx("worker: %s", ws.last_error);
	}
}

int
daemon_domain_listed(const struct conf_list *domains,
    const struct tlsrpt_report *rep)
{
	const char	*d, *l;
	size_t		 i, j, dl, ll;

	if (domains->n == 0)
		return 1;
	for (i = 0; i < rep->npolicies; i++) {
		d = rep->policies[i].domain;
		dl = strlen(d);
		for (j = 0; j < domains->n; j++) {
			l = domains->v[j];
			ll = strlen(l);
			if (dl == ll && strcmp(d, l) == 0)
				return 1;
			if (dl > ll && d[dl - ll - 1] == '.' &&
			    strcmp(d + dl - ll, l) == 0)
				return 1;
		}
	}
	return 0;
}

int
daemon_requeue_bad(const char *prog, const char *dir)
{
	struct spool	*sp;
	char		 err[512];
	size_t		 moved = 0, left = 0;
	int		 rc = 1;

	if ((sp = spool_open(dir, err, sizeof(err))) == NULL) {
		fprintf(stderr, "%s: --requeue-bad: %s\n", prog, err);
		return 1;
	}
	if (spool_requeue_bad(sp, &moved, &left) == -1)
		fprintf(stderr, "%s: --requeue-bad: %s/bad: %s (%zu file(s) "
		    "requeued before that)\n", prog, dir, strerror(errno),
		    moved);
	else {
		printf("%s: requeued %zu file(s) from %s/bad to %s/new",
		    prog, moved, dir, dir);
		if (left > 0)
			printf("; %zu left in bad/: the same name waits in "
			    "new/", left);
		printf("\n");
		rc = 0;
	}
	spool_close(sp);
	return rc;
}
