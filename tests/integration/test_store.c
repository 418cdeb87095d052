/*
 * test_store.c -- store/ against a real PostgreSQL: migrations, dedup,
 * batches, rejections, and summary figures worked out by hand.
 *
 * Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
 *
 * Run through tests/with-pg.sh, which sets TLSRPT_TEST_DB.  Every test
 * creates its own database (Criterion runs tests in parallel processes)
 * and drops it at the end.  Without TLSRPT_TEST_DB the tests fail.
 */

#include <sys/wait.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "ingest.h"
#include "store.h"
#include "store_testutil.h"

#define T0	1704067200	/* 2024-01-01T00:00:00Z */
#define DAY	86400

static const struct store_arrival arr_file = { "file", "test.json", T0 };

/* Store reps (n of them), asserting the call succeeds. */
static void
put(struct store *st, struct tlsrpt_report **reps, size_t n,
    enum store_outcome *out)
{
	struct store_arrival	arr[16];
	size_t			i;

	cr_assert(n <= 16);
	for (i = 0; i < n; i++)
		arr[i] = arr_file;
	cr_assert(store_put_reports(st, reps, arr, n, out) == 0,
	    "store_put_reports: %s", store_errstr(st));
	for (i = 0; i < n; i++)
		if (out[i] == STORE_FAILED)
			cr_log_info("report %zu failed: %s", i,
			    store_put_why(st, i));
}

/* Parse and store one report, freeing the JSON; returns the outcome. */
static enum store_outcome
put_json(struct store *st, char *json)
{
	struct tlsrpt_report	*rep;
	enum store_outcome	 out;

	rep = stu_parse(json);
	free(json);
	put(st, &rep, 1, &out);
	tlsrpt_report_free(rep);
	return out;
}

static void
summary_all(struct store *st, struct store_domain_summary **ds, size_t *n)
{
	struct store_window	w = { 0, INT64_MAX, NULL, 0, 0 };

	cr_assert(store_summary(st, &w, ds, n) == 0, "store_summary: %s",
	    store_errstr(st));
}

/* The summary of domain, asserting it is there. */
static const struct store_domain_summary *
find(const struct store_domain_summary *ds, size_t n, const char *domain)
{
	size_t	i;

	for (i = 0; i < n; i++)
		if (strcmp(ds[i].domain, domain) == 0)
			return &ds[i];
	cr_assert_fail("domain %s not in the summary", domain);
	return NULL;
}

static int64_t
rt(const struct store_domain_summary *d, const char *type)
{
	size_t	i;

	for (i = 0; i < d->nrts; i++)
		if (strcmp(d->rts[i].result_type, type) == 0)
			return d->rts[i].failed_sessions;
	return 0;
}

/* --- migrations ------------------------------------------------------ */

Test(store, migrate_idempotent)
{
	struct stu_db	 db;
	struct store	*st;
	int		 applied, nmig = 0;

	while (store_migrations[nmig].name != NULL)
		nmig++;
	stu_db_create(&db, "mig");
	st = stu_open(&db, 0);
	cr_expect(store_check_schema(st) == -1, "empty database passes");
	cr_expect(strstr(store_errstr(st), "tlsrpt migrate") != NULL,
	    "error does not say what to do: %s", store_errstr(st));
	cr_assert(store_migrate(st, &applied) == 0, "%s", store_errstr(st));
	cr_expect_eq(applied, nmig);
	cr_assert(store_migrate(st, &applied) == 0, "%s", store_errstr(st));
	cr_expect_eq(applied, 0, "second run applied %d", applied);
	cr_expect(store_check_schema(st) == 0, "%s", store_errstr(st));
	cr_expect_eq(stu_int(&db, "SELECT count(*) FROM"
	    " tlsrpt.schema_migration"), nmig);

	/* a newer schema than this program knows is refused */
	stu_exec(&db, "INSERT INTO tlsrpt.schema_migration (version, name)"
	    " VALUES (999, '999_future')");
	cr_expect(store_check_schema(st) == -1);
	cr_expect(strstr(store_errstr(st), "999_future") != NULL, "%s",
	    store_errstr(st));
	store_close(st);
	stu_db_drop(&db);
}

Test(store, migrate_concurrent)
{
	struct stu_db	 db;
	struct store	*st;
	pid_t		 pid[4];
	int		 i, status, failed = 0;

	stu_db_create(&db, "migc");
	for (i = 0; i < 4; i++) {
		pid[i] = fork();
		cr_assert(pid[i] != -1);
		if (pid[i] == 0) {
			char	err[512];

			st = store_open(db.conninfo, err, sizeof(err));
			if (st == NULL || store_migrate(st, NULL) == -1) {
				fprintf(stderr, "migrate: %s\n", st != NULL ?
				    store_errstr(st) : err);
				_exit(1);
			}
			store_close(st);
			_exit(0);
		}
	}
	for (i = 0; i < 4; i++) {
		cr_assert(waitpid(pid[i], &status, 0) == pid[i]);
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
			failed++;
	}
	cr_expect_eq(failed, 0, "%d concurrent migrations failed", failed);
	st = stu_open(&db, 0);
	cr_expect(store_check_schema(st) == 0, "%s", store_errstr(st));
	store_close(st);
	stu_db_drop(&db);
}

Test(store, open_error_is_one_line)
{
	struct store	*st;
	char		 err[512];

	st = store_open("host=/nonexistent/socket/dir dbname=x"
	    " connect_timeout=2", err, sizeof(err));
	cr_assert_null(st);
	cr_expect(err[0] != '\0');
	cr_expect(strchr(err, '\n') == NULL, "not one line: %s", err);
	cr_expect(strstr(err, "TLSRPT_DB") != NULL, "no hint: %s", err);
}

/* --- storing and dedup ----------------------------------------------- */

static char *
simple_report(const char *org, const char *id, const char *day,
    const char *domain)
{
	char	*pol;
	char	*json;

	pol = stu_policy("sts", domain, 100, 3, stu_join(
	    stu_detail("certificate-expired", "mx1.example.net", 2),
	    stu_detail("starttls-not-supported", "mx2.example.net", 1), NULL));
	json = stu_report(org, id, day, pol);
	free(pol);
	return json;
}

Test(store, store_and_duplicate_same_bytes)
{
	struct stu_db	 db;
	struct store	*st;
	char		 buf[128];

	stu_db_create(&db, "dup");
	st = stu_open(&db, 1);
	cr_expect_eq(put_json(st, simple_report("Org", "r1", "2024-01-01",
	    "example.com")), STORE_STORED);
	cr_expect_eq(put_json(st, simple_report("Org", "r1", "2024-01-01",
	    "example.com")), STORE_DUPLICATE);
	cr_expect_eq(stu_int(&db, "SELECT count(*) FROM tlsrpt.report"), 1);
	cr_expect_eq(stu_int(&db, "SELECT count(*) FROM tlsrpt.policy"), 1);
	cr_expect_eq(stu_int(&db, "SELECT count(*) FROM"
	    " tlsrpt.failure_detail"), 2);
	cr_expect_eq(stu_int(&db, "SELECT count(*) FROM tlsrpt.report_raw"),
	    1);
	cr_expect_eq(stu_int(&db, "SELECT count(*) FROM tlsrpt.arrival"), 2);
	cr_expect_eq(stu_int(&db, "SELECT count(*) FROM tlsrpt.arrival"
	    " WHERE outcome = 'duplicate' AND note IS NULL"), 1);
	/* the raw body is kept packed (009: zlib, FDICT; its bytes:
	 * test_storage.c) */
	cr_expect_eq(stu_int(&db, "SELECT count(*) FROM tlsrpt.report_raw w"
	    " JOIN tlsrpt.report r USING (report_no)"
	    " WHERE w.sha256 = r.sha256"
	    " AND pg_catalog.get_byte(w.body, 0) = 120"
	    " AND (pg_catalog.get_byte(w.body, 1) & 32) = 32"), 1);
	/* IPs as sent and as inet */
	cr_expect_str_eq(stu_text(&db, "SELECT receiving_ip_inet::text FROM"
	    " tlsrpt.failure_detail LIMIT 1", buf, sizeof(buf)),
	    "2001:db8::25/128");
	cr_expect_str_eq(stu_text(&db, "SELECT sts_mode FROM tlsrpt.policy",
	    buf, sizeof(buf)), "testing");
	store_close(st);
	stu_db_drop(&db);
}

static const char compact[] =
    "{\"organization-name\":\"Example Mail\",\"date-range\":{"
    "\"start-datetime\":\"2024-01-02T00:00:00Z\",\"end-datetime\":"
    "\"2024-01-02T23:59:59Z\"},\"contact-info\":\"tls\\\\report@x.example\","
    "\"report-id\":\"pp-1\",\"policies\":[{\"policy\":{\"policy-type\":"
    "\"no-policy-found\",\"policy-domain\":\"pretty.example\"},"
    "\"summary\":{\"total-successful-session-count\":7,"
    "\"total-failure-session-count\":1},\"failure-details\":[{"
    "\"result-type\":\"starttls-not-supported\",\"sending-mta-ip\":"
    "\"198.51.100.7\",\"receiving-mx-hostname\":\"MX.Pretty.Example\","
    "\"additional-information\":\"tab\\there \\\"quoted\\\"\\nnewline\","
    "\"failed-session-count\":1}]}]}";

static const char pretty[] =
    "{\n  \"organization-name\": \"Example Mail\",\n  \"date-range\": {\n"
    "    \"start-datetime\": \"2024-01-02T00:00:00Z\",\n"
    "    \"end-datetime\": \"2024-01-02T23:59:59Z\"\n  },\n"
    "  \"contact-info\": \"tls\\\\report@x.example\",\n"
    "  \"report-id\": \"pp-1\",\n  \"policies\": [\n    {\n"
    "      \"policy\": {\n        \"policy-type\": \"no-policy-found\",\n"
    "        \"policy-domain\": \"pretty.example\"\n      },\n"
    "      \"summary\": {\n        \"total-successful-session-count\": 7,\n"
    "        \"total-failure-session-count\": 1\n      },\n"
    "      \"failure-details\": [\n        {\n"
    "          \"result-type\": \"starttls-not-supported\",\n"
    "          \"sending-mta-ip\": \"198.51.100.7\",\n"
    "          \"receiving-mx-hostname\": \"MX.Pretty.Example\",\n"
    "          \"additional-information\": \"tab\\there \\\"quoted\\\"\\nnewline\",\n"
    "          \"failed-session-count\": 1\n        }\n      ]\n    }\n  ]\n}\n";

Test(store, duplicate_pretty_vs_compact)
{
	struct stu_db			 db;
	struct store			*st;
	struct tlsrpt_report		*a, *b;
	struct store_domain_summary	*ds;
	enum store_outcome		 out;
	char				 buf[256];
	size_t				 n;

	a = stu_parse(compact);
	b = stu_parse(pretty);
	cr_assert(memcmp(a->key, b->key, 32) == 0, "keys differ");
	cr_assert(memcmp(a->sha256, b->sha256, 32) != 0, "same content");

	stu_db_create(&db, "pretty");
	st = stu_open(&db, 1);
	put(st, &a, 1, &out);
	cr_expect_eq(out, STORE_STORED);
	put(st, &b, 1, &out);
	cr_expect_eq(out, STORE_DUPLICATE);
	put(st, &b, 1, &out);		/* the variant again */
	cr_expect_eq(out, STORE_DUPLICATE);

	cr_expect_eq(stu_int(&db, "SELECT count(*) FROM tlsrpt.report"), 1);
	cr_expect_eq(stu_int(&db, "SELECT count(*) FROM tlsrpt.arrival"
	    " WHERE note = 'same report, different content'"), 2);
	/* both contents kept, once each */
	cr_expect_eq(stu_int(&db, "SELECT count(*) FROM tlsrpt.report_raw"),
	    2);
	cr_expect_eq(stu_int(&db, "SELECT count(DISTINCT sha256) FROM"
	    " tlsrpt.report_raw"
	    " WHERE pg_catalog.get_byte(body, 0) = 120"), 2);
	/* escapes survive COPY */
	cr_expect_str_eq(stu_text(&db, "SELECT additional_info FROM"
	    " tlsrpt.failure_detail", buf, sizeof(buf)),
	    "tab\there \"quoted\"\nnewline");
	cr_expect_str_eq(stu_text(&db, "SELECT contact_info FROM"
	    " tlsrpt.report", buf, sizeof(buf)), "tls\\report@x.example");

	summary_all(st, &ds, &n);
	cr_assert_eq(n, 1);
	cr_expect_eq(ds[0].reports, 1);
	cr_expect_eq(ds[0].successful, 7);
	cr_expect_eq(ds[0].failed, 1);
	cr_expect_eq(rt(&ds[0], "starttls-not-supported"), 1);
	store_summary_free(ds, n);

	tlsrpt_report_free(a);
	tlsrpt_report_free(b);
	store_close(st);
	stu_db_drop(&db);
}

Test(store, batch_with_duplicates)
{
	struct stu_db			 db;
	struct store			*st;
	struct tlsrpt_report		*r[6];
	struct store_domain_summary	*ds;
	enum store_outcome		 out[6];
	char				*j;
	size_t				 i, n;

	stu_db_create(&db, "batch");
	st = stu_open(&db, 1);
	j = simple_report("Org", "a", "2024-01-01", "example.com");
	r[0] = stu_parse(j);
	r[2] = stu_parse(j);		/* same bytes, same batch */
	free(j);
	j = simple_report("Org", "b", "2024-01-01", "example.com");
	r[1] = stu_parse(j);
	free(j);
	r[3] = stu_parse(compact);
	r[4] = stu_parse(pretty);	/* same key, other content */
	r[5] = stu_parse(compact);

	put(st, r, 6, out);
	cr_expect_eq(out[0], STORE_STORED);
	cr_expect_eq(out[1], STORE_STORED);
	cr_expect_eq(out[2], STORE_DUPLICATE);
	cr_expect_eq(out[3], STORE_STORED);
	cr_expect_eq(out[4], STORE_DUPLICATE);
	cr_expect_eq(out[5], STORE_DUPLICATE);
	cr_expect_eq(stu_int(&db, "SELECT count(*) FROM tlsrpt.report"), 3);
	cr_expect_eq(stu_int(&db, "SELECT count(*) FROM tlsrpt.arrival"), 6);
	cr_expect_eq(stu_int(&db, "SELECT count(*) FROM tlsrpt.arrival"
	    " WHERE note IS NOT NULL"), 1);
	cr_expect_eq(stu_int(&db, "SELECT count(*) FROM tlsrpt.report_raw"),
	    4);

	/* the whole batch again: all duplicates, nothing counted twice */
	put(st, r, 6, out);
	for (i = 0; i < 6; i++)
		cr_expect_eq(out[i], STORE_DUPLICATE, "report %zu", i);
	cr_expect_eq(stu_int(&db, "SELECT count(*) FROM tlsrpt.arrival"), 12);
	cr_expect_eq(stu_int(&db, "SELECT count(*) FROM tlsrpt.arrival"
	    " WHERE note IS NOT NULL"), 2);

	summary_all(st, &ds, &n);
	cr_assert_eq(n, 2);
	cr_expect_str_eq(ds[0].domain, "example.com");
	cr_expect_eq(ds[0].reports, 2);
	cr_expect_eq(ds[0].reporters, 1);
	cr_expect_eq(ds[0].successful, 200);
	cr_expect_eq(ds[0].failed, 6);
	cr_expect_eq(rt(&ds[0], "certificate-expired"), 4);
	cr_expect_eq(rt(&ds[0], "starttls-not-supported"), 2);
	cr_expect_str_eq(ds[1].domain, "pretty.example");
	cr_expect_eq(ds[1].reports, 1);
	store_summary_free(ds, n);

	for (i = 0; i < 6; i++)
		tlsrpt_report_free(r[i]);
	store_close(st);
	stu_db_drop(&db);
}

Test(store, bad_report_does_not_take_batch_down)
{
	struct stu_db		 db;
	struct store		*st;
	struct tlsrpt_report	*r[4];
	enum store_outcome	 out[4];
	char			*j;
	size_t			 i;

	stu_db_create(&db, "bad");
	st = stu_open(&db, 1);
	for (i = 0; i < 4; i++) {
		char	id[8];

		snprintf(id, sizeof(id), "id%zu", i);
		j = simple_report("Org", id, "2024-01-01", "example.com");
		r[i] = stu_parse(j);
		free(j);
	}
	/* invalid UTF-8: only the database can refuse it */
	r[1]->policies[0].details[0].additional_info = "bad \xff byte";
	/* beyond bigint: refused before the database */
	r[2]->policies[0].failed = (uint64_t)INT64_MAX + 1;

	put(st, r, 4, out);
	cr_expect_eq(out[0], STORE_STORED);
	cr_expect_eq(out[1], STORE_FAILED);
	cr_expect_eq(out[2], STORE_FAILED);
	cr_expect_eq(out[3], STORE_STORED);
	cr_expect_null(store_put_why(st, 0));
	cr_assert_not_null(store_put_why(st, 1));
	cr_expect(strstr(store_put_why(st, 1), "22021") != NULL, "%s",
	    store_put_why(st, 1));
	cr_assert_not_null(store_put_why(st, 2));
	cr_expect(strstr(store_put_why(st, 2), "out of range") != NULL, "%s",
	    store_put_why(st, 2));
	cr_expect(strchr(store_put_why(st, 1), '\n') == NULL);
	cr_expect_eq(stu_int(&db, "SELECT count(*) FROM tlsrpt.report"), 2);
	cr_expect_eq(stu_int(&db, "SELECT count(*) FROM tlsrpt.policy"), 2);
	cr_expect_eq(stu_int(&db, "SELECT count(*) FROM tlsrpt.arrival"), 2);
	cr_expect_eq(stu_int(&db, "SELECT sum(reports) FROM tlsrpt.rollup"
	    " WHERE result_type = ''"), 2);
	for (i = 0; i < 4; i++)
		tlsrpt_report_free(r[i]);
	store_close(st);
	stu_db_drop(&db);
}

Test(store, rejection_bounded)
{
	struct stu_db	 db;
	struct store	*st;
	struct store_arrival a = { "https", "192.0.2.9", T0 };
	unsigned char	*raw;
	char		 buf[128];
	size_t		 i, len = 100000;

	cr_assert((raw = malloc(len)) != NULL);
	for (i = 0; i < len; i++)
		raw[i] = (unsigned char)(i * 7);	/* NULs included */
	stu_db_create(&db, "rej");
	st = stu_open(&db, 1);
	cr_assert(store_put_rejection(st, &a, "json: unexpected end", raw,
	    len, 1000) == 0, "%s", store_errstr(st));
	cr_expect_eq(stu_int(&db, "SELECT octet_length(raw) FROM"
	    " tlsrpt.rejection"), 1000);
	cr_expect_eq(stu_int(&db, "SELECT raw_len FROM tlsrpt.rejection"),
	    100000);
	cr_expect_eq(stu_int(&db, "SELECT get_byte(raw, 999) FROM"
	    " tlsrpt.rejection"), (999 * 7) & 0xff);
	cr_expect_str_eq(stu_text(&db, "SELECT reason FROM tlsrpt.rejection",
	    buf, sizeof(buf)), "json: unexpected end");
	cr_expect_eq(stu_int(&db, "SELECT count(*) FROM tlsrpt.arrival"
	    " WHERE outcome = 'rejected' AND report_no IS NULL AND"
	    " sha256 = (SELECT sha256 FROM tlsrpt.rejection)"), 1);
	/* a small payload is kept whole */
	cr_assert(store_put_rejection(st, &a, "not json", raw, 10, 1000) == 0);
	cr_expect_eq(stu_int(&db, "SELECT count(*) FROM tlsrpt.rejection"
	    " WHERE octet_length(raw) = 10 AND raw_len = 10"
	    " AND sha256 = pg_catalog.sha256(raw)"), 1);
	store_close(st);
	stu_db_drop(&db);
	free(raw);
}

/* --- summary figures ----------------------------------------------- */

/*
 * Microsoft style: sts and tlsa describe the same sessions.  sts has
 * 100 + 5 = 105 sessions, tlsa 100 + 8 = 108: tlsa is counted.
 */
Test(store, summary_sts_tlsa_same_sessions)
{
	struct stu_db			 db;
	struct store			*st;
	struct store_domain_summary	*ds;
	const struct store_domain_summary *d;
	char				*p;
	size_t				 n;

	stu_db_create(&db, "ststlsa");
	st = stu_open(&db, 1);
	p = stu_join(
	    stu_policy("sts", "ms.example", 100, 5, stu_detail(
	    "certificate-expired", "mx.ms.example", 5)),
	    stu_policy("tlsa", "ms.example", 100, 8, stu_detail(
	    "dane-required", "mx.ms.example", 8)), NULL);
	cr_expect_eq(put_json(st, stu_report("Microsoft", "m1", "2024-01-01",
	    p)), STORE_STORED);
	free(p);

	/* a tie (12 each) goes to sts */
	p = stu_join(
	    stu_policy("tlsa", "tie.example", 11, 1, stu_detail(
	    "tlsa-invalid", "mx.tie.example", 1)),
	    stu_policy("sts", "tie.example", 10, 2, stu_detail(
	    "starttls-not-supported", "mx.tie.example", 2)), NULL);
	cr_expect_eq(put_json(st, stu_report("Microsoft", "m2", "2024-01-01",
	    p)), STORE_STORED);
	free(p);

	summary_all(st, &ds, &n);
	cr_assert_eq(n, 2);
	d = find(ds, n, "ms.example");
	cr_expect_eq(d->reports, 1);
	cr_expect_eq(d->reporters, 1);
	cr_expect_eq(d->successful, 100);
	cr_expect_eq(d->failed, 8);
	cr_expect_eq(d->nrts, 1);
	cr_expect_eq(rt(d, "dane-required"), 8);
	cr_expect_eq(rt(d, "certificate-expired"), 0);
	d = find(ds, n, "tie.example");
	cr_expect_eq(d->successful, 10);
	cr_expect_eq(d->failed, 2);
	cr_expect_eq(d->nrts, 1);
	cr_expect_eq(rt(d, "starttls-not-supported"), 2);
	store_summary_free(ds, n);

	/* the other type is kept, marked not counted, out of the rollup */
	cr_expect_eq(stu_int(&db, "SELECT failed_sessions FROM tlsrpt.policy"
	    " WHERE policy_domain = 'ms.example' AND policy_type = 'sts'"
	    " AND NOT counted"), 5);
	cr_expect_eq(stu_int(&db, "SELECT count(*) FROM tlsrpt.rollup"
	    " WHERE policy_domain = 'ms.example' AND policy_type = 'sts'"), 0);
	cr_expect_eq(stu_int(&db, "SELECT count(*) FROM tlsrpt.rollup"
	    " WHERE policy_domain = 'ms.example' AND policy_type = 'tlsa'"
	    " AND result_type = ''"), 1);
	store_close(st);
	stu_db_drop(&db);
}

/* Google style: two sts entries (the policy changed during the day)
 * and no-policy-found for the sessions before it existed add up. */
Test(store, summary_several_sts_add_up)
{
	struct stu_db			 db;
	struct store			*st;
	struct store_domain_summary	*ds;
	char				*p;
	size_t				 n;

	stu_db_create(&db, "sts2");
	st = stu_open(&db, 1);
	p = stu_join(
	    stu_policy("sts", "g.example", 40, 2, stu_detail(
	    "certificate-host-mismatch", "mx1.g.example", 2)),
	    stu_policy("sts", "g.example", 60, 3, stu_join(
	    stu_detail("certificate-host-mismatch", "mx1.g.example", 1),
	    stu_detail("validation-failure", "mx2.g.example", 2), NULL)),
	    stu_policy("no-policy-found", "g.example", 5, 1, stu_detail(
	    "starttls-not-supported", "mx2.g.example", 1)), NULL);
	cr_expect_eq(put_json(st, stu_report("Google", "g1", "2024-01-01",
	    p)), STORE_STORED);
	free(p);

	summary_all(st, &ds, &n);
	cr_assert_eq(n, 1);
	cr_expect_eq(ds[0].reports, 1);
	cr_expect_eq(ds[0].successful, 105);
	cr_expect_eq(ds[0].failed, 6);
	cr_assert_eq(ds[0].nrts, 3);
	/* most failed first, then by name */
	cr_expect_str_eq(ds[0].rts[0].result_type,
	    "certificate-host-mismatch");
	cr_expect_eq(ds[0].rts[0].failed_sessions, 3);
	cr_expect_str_eq(ds[0].rts[1].result_type, "validation-failure");
	cr_expect_eq(ds[0].rts[1].failed_sessions, 2);
	cr_expect_str_eq(ds[0].rts[2].result_type, "starttls-not-supported");
	cr_expect_eq(ds[0].rts[2].failed_sessions, 1);
	store_summary_free(ds, n);
	store_close(st);
	stu_db_drop(&db);
}

/* RFC 8460 §4: the details need not add up to the totals. */
Test(store, summary_details_not_adding_up)
{
	struct stu_db			 db;
	struct store			*st;
	struct store_domain_summary	*ds;
	char				*p;
	size_t				 n;

	stu_db_create(&db, "sum");
	st = stu_open(&db, 1);
	p = stu_policy("sts", "d.example", 50, 10, stu_join(
	    stu_detail("certificate-expired", "mx.d.example", 3),
	    stu_detail("certificate-not-trusted", "mx.d.example", 3), NULL));
	cr_expect_eq(put_json(st, stu_report("Org", "s1", "2024-01-01", p)),
	    STORE_STORED);
	free(p);

	summary_all(st, &ds, &n);
	cr_assert_eq(n, 1);
	cr_expect_eq(ds[0].failed, 10);
	cr_assert_eq(ds[0].nrts, 2);
	/* a tie on failures: by name */
	cr_expect_str_eq(ds[0].rts[0].result_type, "certificate-expired");
	cr_expect_str_eq(ds[0].rts[1].result_type, "certificate-not-trusted");
	cr_expect_eq(ds[0].rts[0].failed_sessions + ds[0].rts[1].failed_sessions,
	    6);
	store_summary_free(ds, n);
	store_close(st);
	stu_db_drop(&db);
}

/* One report about two domains counts once for each; two reporters. */
Test(store, summary_two_domains)
{
	struct stu_db			 db;
	struct store			*st;
	struct store_domain_summary	*ds;
	const struct store_domain_summary *d;
	char				*p;
	size_t				 n;

	stu_db_create(&db, "twodom");
	st = stu_open(&db, 1);
	p = stu_join(
	    stu_policy("sts", "b.example", 10, 1, stu_detail(
	    "certificate-expired", "mx.b.example", 1)),
	    stu_policy("no-policy-found", "a.example", 20, 0, NULL), NULL);
	cr_expect_eq(put_json(st, stu_report("Org One", "t1", "2024-01-01",
	    p)), STORE_STORED);
	free(p);
	p = stu_policy("no-policy-found", "a.example", 5, 2, stu_detail(
	    "validation-failure", "mx.a.example", 2));
	cr_expect_eq(put_json(st, stu_report("Org Two", "t2", "2024-01-01",
	    p)), STORE_STORED);
	free(p);

	summary_all(st, &ds, &n);
	cr_assert_eq(n, 2);
	cr_expect_str_eq(ds[0].domain, "a.example");	/* sorted */
	cr_expect_str_eq(ds[1].domain, "b.example");
	d = find(ds, n, "a.example");
	cr_expect_eq(d->reports, 2);
	cr_expect_eq(d->reporters, 2);
	cr_expect_eq(d->successful, 25);
	cr_expect_eq(d->failed, 2);
	cr_expect_eq(rt(d, "validation-failure"), 2);
	d = find(ds, n, "b.example");
	cr_expect_eq(d->reports, 1);
	cr_expect_eq(d->reporters, 1);
	cr_expect_eq(d->successful, 10);
	cr_expect_eq(d->failed, 1);
	store_summary_free(ds, n);
	store_close(st);
	stu_db_drop(&db);
}

/* A report is in the window when its start is in [since, until). */
Test(store, summary_window_boundaries)
{
	static const char *days[] = { "2024-01-01", "2024-01-02",
	    "2024-01-03" };
	struct stu_db			 db;
	struct store			*st;
	struct store_domain_summary	*ds;
	struct store_window		 w;
	const char			*only[] = { "w.example" };
	char				*p, id[8];
	size_t				 i, n;

	memset(&w, 0, sizeof(w));
	stu_db_create(&db, "window");
	st = stu_open(&db, 1);
	for (i = 0; i < 3; i++) {
		snprintf(id, sizeof(id), "w%zu", i);
		p = stu_policy("sts", "w.example", (long)(i + 1) * 10,
		    (long)i + 1, NULL);
		cr_expect_eq(put_json(st, stu_report("Org", id, days[i], p)),
		    STORE_STORED);
		free(p);
	}
	p = stu_policy("sts", "other.example", 1, 0, NULL);
	cr_expect_eq(put_json(st, stu_report("Org", "o", days[1], p)),
	    STORE_STORED);
	free(p);

	w.since = T0 + DAY;		/* 2024-01-02, included */
	w.until = T0 + 2 * DAY;		/* 2024-01-03, excluded */
	w.domains = NULL;
	w.ndomains = 0;
	cr_assert(store_summary(st, &w, &ds, &n) == 0, "%s", store_errstr(st));
	cr_assert_eq(n, 2);
	cr_expect_str_eq(ds[1].domain, "w.example");
	cr_expect_eq(ds[1].reports, 1);
	cr_expect_eq(ds[1].successful, 20);
	cr_expect_eq(ds[1].failed, 2);
	store_summary_free(ds, n);

	/* one second earlier takes in nothing more; one later loses it */
	w.since = T0 + DAY + 1;
	cr_assert(store_summary(st, &w, &ds, &n) == 0);
	cr_expect_eq(n, 0);
	store_summary_free(ds, n);

	/* the domain filter */
	w.since = T0;
	w.until = T0 + 3 * DAY;
	w.domains = only;
	w.ndomains = 1;
	cr_assert(store_summary(st, &w, &ds, &n) == 0);
	cr_assert_eq(n, 1);
	cr_expect_str_eq(ds[0].domain, "w.example");
	cr_expect_eq(ds[0].reports, 3);
	cr_expect_eq(ds[0].successful, 60);
	cr_expect_eq(ds[0].failed, 6);
	store_summary_free(ds, n);
	store_close(st);
	stu_db_drop(&db);
}

/*
 * Many reports in one call, several batches: the rollup read by
 * store_summary agrees with the accounting rule computed from the
 * report tables directly.
 */
Test(store, rollup_matches_report_tables)
{
	static const char *rts[] = { "starttls-not-supported",
	    "certificate-expired", "validation-failure", "sts-policy-invalid" };
	static const char *types[] = { "sts", "tlsa", "no-policy-found" };
	struct stu_db			 db;
	struct store			*st;
	struct tlsrpt_report		**reps;
	struct store_arrival		*arr;
	enum store_outcome		*out;
	struct store_domain_summary	*ds;
	char				*p, *q, dom[32], org[16], id[16], day[16];
	int64_t				 want_ok, want_failed, want_rts, got;
	size_t				 i, k, n, nrep = 2500;

	cr_assert((reps = calloc(nrep, sizeof(*reps))) != NULL);
	cr_assert((arr = calloc(nrep, sizeof(*arr))) != NULL);
	cr_assert((out = calloc(nrep, sizeof(*out))) != NULL);
	for (k = 0; k < nrep; k++) {
		i = k % 2300;		/* the last 200 repeat the first */
		snprintf(dom, sizeof(dom), "d%zu.example", i % 7);
		snprintf(org, sizeof(org), "org%zu", i % 5);
		snprintf(id, sizeof(id), "%zu", i);
		snprintf(day, sizeof(day), "2024-01-%02zu", 1 + i % 9);
		p = stu_policy(types[i % 3], dom, (long)(i % 50),
		    (long)(i % 4), stu_join(
		    stu_detail(rts[i % 4], "mx1.example.net", (long)(i % 3)),
		    stu_detail(rts[(i + 1) % 4], "mx2.example.net", 1), NULL));
		q = stu_policy(types[(i + 1) % 3], dom, (long)(i % 30),
		    (long)(i % 2), stu_detail(rts[(i + 2) % 4],
		    "MX1.example.net", 2));
		p = stu_join(p, q, NULL);
		q = stu_report(org, id, day, p);
		reps[k] = stu_parse(q);
		free(p);
		free(q);
		arr[k] = arr_file;
	}
	stu_db_create(&db, "rollup");
	st = stu_open(&db, 1);
	cr_assert(store_put_reports(st, reps, arr, nrep, out) == 0, "%s",
	    store_errstr(st));
	for (i = 0, k = 0; i < nrep; i++)
		k += out[i] == STORE_STORED;
	cr_expect_eq(k, 2300);

	summary_all(st, &ds, &n);
	cr_expect_eq(n, 7);
	for (i = 0; i < n; i++) {
		char	sql[1024];

		snprintf(sql, sizeof(sql), "SELECT sum(successful_sessions)"
		    " FROM tlsrpt.policy WHERE counted AND policy_domain ="
		    " '%s'", ds[i].domain);
		want_ok = stu_int(&db, sql);
		snprintf(sql, sizeof(sql), "SELECT sum(failed_sessions)"
		    " FROM tlsrpt.policy WHERE counted AND policy_domain ="
		    " '%s'", ds[i].domain);
		want_failed = stu_int(&db, sql);
		snprintf(sql, sizeof(sql), "SELECT sum(d.failed_sessions)"
		    " FROM tlsrpt.failure_detail d JOIN tlsrpt.policy p ON"
		    " p.report_no = d.report_no AND p.idx = d.policy_idx"
		    " WHERE p.counted AND p.policy_domain = '%s'"
		    " AND d.result_type = 'certificate-expired'",
		    ds[i].domain);
		want_rts = stu_int(&db, sql);
		snprintf(sql, sizeof(sql), "SELECT count(DISTINCT report_no)"
		    " FROM tlsrpt.policy WHERE policy_domain = '%s'",
		    ds[i].domain);
		cr_expect_eq(ds[i].reports, stu_int(&db, sql), "%s reports",
		    ds[i].domain);
		cr_expect_eq(ds[i].successful, want_ok, "%s ok", ds[i].domain);
		cr_expect_eq(ds[i].failed, want_failed, "%s failed",
		    ds[i].domain);
		got = rt(&ds[i], "certificate-expired");
		cr_expect_eq(got, want_rts < 0 ? 0 : want_rts, "%s rts",
		    ds[i].domain);
		cr_expect_eq(ds[i].reporters, 5, "%s reporters", ds[i].domain);
	}
	store_summary_free(ds, n);
	for (i = 0; i < nrep; i++)
		tlsrpt_report_free(reps[i]);
	free(reps);
	free(arr);
	free(out);
	store_close(st);
	stu_db_drop(&db);
}

/* A second report of a (domain, day, reporter) adds to the rollup. */
Test(store, rollup_adds_up_across_calls)
{
	struct stu_db			 db;
	struct store			*st;
	struct store_domain_summary	*ds;
	size_t				 n;

	stu_db_create(&db, "addup");
	st = stu_open(&db, 1);
	cr_expect_eq(put_json(st, simple_report("Org", "x1", "2024-01-01",
	    "example.com")), STORE_STORED);
	cr_expect_eq(put_json(st, simple_report("Org", "x2", "2024-01-01",
	    "example.com")), STORE_STORED);
	summary_all(st, &ds, &n);
	cr_assert_eq(n, 1);
	cr_expect_eq(ds[0].reports, 2);
	cr_expect_eq(ds[0].reporters, 1);
	cr_expect_eq(ds[0].successful, 200);
	cr_expect_eq(ds[0].failed, 6);
	cr_expect_eq(rt(&ds[0], "certificate-expired"), 4);
	cr_expect_eq(rt(&ds[0], "starttls-not-supported"), 2);
	store_summary_free(ds, n);
	cr_expect_eq(stu_int(&db, "SELECT reports FROM tlsrpt.rollup"
	    " WHERE result_type = 'certificate-expired'"), 2);
	store_close(st);
	stu_db_drop(&db);
}

/*
 * Importers racing on the same reports: each report is stored once, the
 * rollup counts it once, nobody fails.
 */
Test(store, concurrent_importers)
{
	struct stu_db			 db;
	struct store			*st;
	struct store_domain_summary	*ds;
	pid_t				 pid[3];
	size_t				 n;
	int				 i, status, failed = 0;

	stu_db_create(&db, "race");
	st = stu_open(&db, 1);
	store_close(st);
	for (i = 0; i < 3; i++) {
		pid[i] = fork();
		cr_assert(pid[i] != -1);
		if (pid[i] == 0) {
			struct tlsrpt_report	*reps[300];
			struct store_arrival	 arr[300];
			enum store_outcome	 out[300];
			char			 id[16], *j;
			size_t			 k;
			int			 bad = 0;

			for (k = 0; k < 300; k++) {
				/* each process in its own order */
				snprintf(id, sizeof(id), "r%zu",
				    (k * (size_t)(2 * i + 1)) % 300);
				j = simple_report("Org", id, "2024-01-01",
				    "race.example");
				reps[k] = stu_parse(j);
				free(j);
				arr[k] = arr_file;
			}
			st = store_open(db.conninfo, NULL, 0);
			if (st == NULL || store_put_reports(st, reps, arr, 300,
			    out) == -1)
				_exit(2);
			for (k = 0; k < 300; k++)
				bad += out[k] == STORE_FAILED;
			store_close(st);
			_exit(bad != 0);
		}
	}
	for (i = 0; i < 3; i++) {
		cr_assert(waitpid(pid[i], &status, 0) == pid[i]);
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
			failed++;
	}
	cr_expect_eq(failed, 0);
	cr_expect_eq(stu_int(&db, "SELECT count(*) FROM tlsrpt.report"), 300);
	cr_expect_eq(stu_int(&db, "SELECT count(*) FROM tlsrpt.arrival"), 900);
	cr_expect_eq(stu_int(&db, "SELECT count(*) FROM tlsrpt.arrival"
	    " WHERE outcome = 'stored'"), 300);
	st = stu_open(&db, 0);
	summary_all(st, &ds, &n);
	cr_assert_eq(n, 1);
	cr_expect_eq(ds[0].reports, 300);
	cr_expect_eq(ds[0].successful, 300 * 100);
	cr_expect_eq(ds[0].failed, 300 * 3);
	store_summary_free(ds, n);
	store_close(st);
	stu_db_drop(&db);
}
