/*
 * test_identity.c -- one report, one set of figures, whatever the
 * transport (issue 13), and collisions resolved by trust (issue 8 item 6),
 * against a real PostgreSQL and the real `tlsrpt` binary.  The identity
 * without a database: tests/unit/test_identity_key.c.
 *
 * The sys4 tlsrpt-reporter shapes are built here byte for byte as its
 * tlsrpt_reporter/tlsrpt.py writes them: the JSON by Python's json.dumps
 * (", " and ": " separators, summary before policy, report-id last, no
 * policy-domain for no-policy-found: libtlsrpt omits it), the mail by the
 * email package with policy SMTP (CRLF, TLS-Report-Domain,
 * TLS-Report-Submitter, TLS-Required: No, Subject "Report Domain: D
 * Submitter: S Report-ID: <ID@S>", the gzip attachment named
 * S!D!start!end!N.json.gz).  Expected figures and keys are worked out
 * here, never read from the code under test.
 */

#define _GNU_SOURCE	/* asprintf, nftw FTW_DEPTH | FTW_PHYS */

#include <sys/stat.h>
#include <sys/wait.h>

#include <dirent.h>
#include <ftw.h>

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <nettle/sha2.h>
#include <zlib.h>

#include "ingest.h"
#include "core_spool.h"
#include "store.h"
#include "identity_testutil.h"
#include "report_testutil.h"
#include "store_testutil.h"
#include "testutil.h"
#include "util.h"
#include "core_worker.h"

/* How many migrations store_migrate() applies to a schema at version v. */
static int
migrations_after(int v)
{
	const struct store_migration	*m;
	int				 n = 0;

	for (m = store_migrations; m->name != NULL; m++)
		n += m->version > v;
	return n;
}

static const struct store_arrival arr_https = { "https", "192.0.2.7",
    DAY0 + 90000 };
static const struct store_arrival arr_mail = { "mail", "milter",
    DAY0 + 91000 };

/* Store one report, returning the outcome; *flags gets its flags. */
static enum store_outcome
put1(struct store *st, struct tlsrpt_report *rep,
    const struct store_arrival *arr, unsigned *flags)
{
	enum store_outcome	out;

	cr_assert_eq(store_put_reports(st, &rep, arr, 1, &out), 0,
	    "store_put_reports: %s", store_errstr(st));
	cr_assert_neq(out, STORE_FAILED, "%s", store_put_why(st, 0));
	if (flags != NULL)
		*flags = store_put_flags(st, 0);
	return out;
}

static void
hex(const unsigned char *k, char out[65])
{
	util_hex(k, 32, out);
	out[64] = '\0';
}

/* The invariant every order of arrival must end in: one report under
 * DOMAIN, ok successful sessions once, narr arrivals of it. */
static void
expect_one_report(const struct stu_db *db, long ok, int narr)
{
	cr_expect_eq(stu_int(db, "SELECT count(*) FROM tlsrpt.report"), 1);
	cr_expect_eq(stu_int(db, "SELECT count(*) FROM tlsrpt.policy WHERE"
	    " policy_domain = '" DOMAIN "'"), 1);
	cr_expect_eq(stu_int(db, "SELECT count(*) FROM tlsrpt.policy WHERE"
	    " policy_domain = ''"), 0);
	cr_expect_eq(stu_int(db, "SELECT count(*) FROM tlsrpt.rollup WHERE"
	    " policy_domain = ''"), 0, "figures left under (unknown)");
	cr_expect_eq(stu_int(db, "SELECT sum(reports) FROM tlsrpt.rollup"
	    " WHERE result_type = '' AND policy_domain = '" DOMAIN "'"), 1);
	cr_expect_eq(stu_int(db, "SELECT sum(successful_sessions) FROM"
	    " tlsrpt.rollup WHERE policy_domain = '" DOMAIN "'"), ok);
	cr_expect_eq(stu_int(db, "SELECT count(*) FROM tlsrpt.arrival a"
	    " JOIN tlsrpt.report r USING (report_no)"), narr,
	    "every arrival recorded against the one report");
	cr_expect_eq(stu_int(db, "SELECT count(*) FROM tlsrpt.report WHERE"
	    " tlsrpt.report_identity_of(report_key) <> report_key"), 0,
	    "the stored key is not what SQL computes");
}

/* --- identity ----------------------------------------------------- */

/* C and SQL compute one identity, for awkward inputs too. */
Test(identity, c_and_sql_agree)
{
	static const char *const js[] = {
		"{\"organization-name\": \"Ünïcode Org\", \"date-range\":"
		" {\"start-datetime\": \"1970-01-01T00:00:00Z\","
		" \"end-datetime\": \"1969-12-31T23:59:59Z\"},"
		" \"report-id\": \"x\\\"y\", \"policies\": ["
		"{\"policy\": {\"policy-type\": \"sts\", \"policy-domain\":"
		" \"b.test\"}, \"summary\": {\"total-successful-session-count\":"
		" 1, \"total-failure-session-count\": 0}},"
		"{\"policy\": {\"policy-type\": \"tlsa\", \"policy-domain\":"
		" \"a.test\"}, \"summary\": {\"total-successful-session-count\":"
		" 1, \"total-failure-session-count\": 0}},"
		"{\"policy\": {\"policy-type\": \"sts\", \"policy-domain\":"
		" \"b.test\"}, \"summary\": {\"total-successful-session-count\":"
		" 2, \"total-failure-session-count\": 0}},"
		"{\"policy\": {\"policy-type\": \"no-policy-found\"},"
		" \"summary\": {\"total-successful-session-count\": 3,"
		" \"total-failure-session-count\": 0}}]}",
		"{\"organization-name\": null, \"date-range\":"
		" {\"start-datetime\": \"2026-11-30T00:00:00Z\","
		" \"end-datetime\": \"2026-12-01T00:00:00Z\"},"
		" \"report-id\": \"\", \"policies\": []}",
	};
	struct tlsrpt_report	*r;
	struct store		*st;
	struct stu_db		 db;
	const char		*doms[] = { "a.test", "b.test" };
	unsigned char		 want[32];
	char			 k[65], sql[512], got[80];
	size_t			 i;

	stu_db_create(&db, "id_agree");
	st = stu_open(&db, 1);
	for (i = 0; i < sizeof(js) / sizeof(js[0]); i++) {
		r = parse_json(js[i], NULL);
		put1(st, r, &arr_https, NULL);
		hex(r->key, k);
		snprintf(sql, sizeof(sql), "SELECT encode("
		    "tlsrpt.report_identity_of('\\x%s'), 'hex')", k);
		cr_expect_str_eq(stu_text(&db, sql, got, sizeof(got)), k,
		    "report %zu: C and SQL disagree", i);
		tlsrpt_report_free(r);
	}
	expect_key(want, "Ünïcode Org", "x\"y", 0, -1, doms, 2);
	hex(want, k);
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM tlsrpt.report"
	    " WHERE report_key = '\\x%s'", k);
	cr_expect_eq(stu_int(&db, sql), 1, "the key is not the documented one");
	snprintf(sql, sizeof(sql), "SELECT encode(tlsrpt.report_identity("
	    "'Ünïcode Org', 'x\"y', '1970-01-01T00:00:00Z',"
	    " '1969-12-31T23:59:59Z', ARRAY['b.test','a.test','b.test']),"
	    " 'hex')");
	cr_expect_str_eq(stu_text(&db, sql, got, sizeof(got)), k);
	store_close(st);
	stu_db_drop(&db);
}

/* --- every order of arrival ---------------------------------------- */

static void
run_order(const char *label, int mail_first)
{
	const char		*id = "2026-11-30T00:00:00Z_idx1_" DOMAIN;
	struct tlsrpt_report	*h, *m;
	struct store		*st;
	struct stu_db		 db;
	char			*json, *mail;

	stu_db_create(&db, label);
	st = stu_open(&db, 1);
	json = sys4_json(id, 4);
	mail = sys4_mail(json, id, DOMAIN);
	h = parse_json(json, NULL);
	m = parse_mail(mail);
	if (mail_first) {
		cr_expect_eq(put1(st, m, &arr_mail, NULL), STORE_STORED);
		cr_expect_eq(put1(st, h, &arr_https, NULL), STORE_DUPLICATE);
	} else {
		cr_expect_eq(put1(st, h, &arr_https, NULL), STORE_STORED);
		cr_expect_eq(put1(st, m, &arr_mail, NULL), STORE_DUPLICATE);
	}
	expect_one_report(&db, 4, 2);
	tlsrpt_report_free(h);
	tlsrpt_report_free(m);
	free(json);
	free(mail);
	store_close(st);
	stu_db_drop(&db);
}

Test(identity, sys4_https_then_mail)
{
	run_order("id_h_m", 0);
}

Test(identity, sys4_mail_then_https)
{
	run_order("id_m_h", 1);
}

static void
write_file(const char *path, const char *s)
{
	FILE	*f;

	cr_assert_not_null(f = fopen(path, "w"));
	cr_assert_eq(fputs(s, f) >= 0, 1);
	cr_assert_eq(fclose(f), 0);
}

/* Both at once: two `tlsrpt import` processes, one with the JSON, one
 * with the mail, started together, for several reports. */
Test(identity, sys4_both_at_once, .timeout = 120)
{
	struct stu_db	 db;
	struct store	*st;
	char		 dir[] = "/tmp/tlsrpt-id-XXXXXX", path[256], id[128];
	char		*json, *mail, *cmd[2];
	const char	*bin = getenv("TLSRPT_BIN");
	pid_t		 pid[2];
	int		 round, k, status;
	char		 sql[256];

	stu_db_create(&db, "id_both");
	st = stu_open(&db, 1);
	store_close(st);
	cr_assert_not_null(mkdtemp(dir));
	if (bin == NULL || *bin == '\0')
		bin = "bin/tlsrpt";
	for (round = 0; round < 8; round++) {
		snprintf(id, sizeof(id), "2026-11-30T00:00:00Z_idx%d_" DOMAIN,
		    round + 1);
		json = sys4_json(id, 4 + round);
		mail = sys4_mail(json, id, DOMAIN);
		snprintf(path, sizeof(path), "%s/r%d.json", dir, round);
		write_file(path, json);
		snprintf(path, sizeof(path), "%s/r%d.eml", dir, round);
		write_file(path, mail);
		cr_assert_geq(asprintf(&cmd[0], "exec %s import %s/r%d.json"
		    " --db '%s' >/dev/null", bin, dir, round, db.conninfo), 0);
		cr_assert_geq(asprintf(&cmd[1], "exec %s import --mail"
		    " %s/r%d.eml --db '%s' >/dev/null", bin, dir, round,
		    db.conninfo), 0);
		for (k = 0; k < 2; k++) {
			pid[k] = fork();
			cr_assert_geq(pid[k], 0);
			if (pid[k] == 0) {
				execl("/bin/sh", "sh", "-c", cmd[k], (char *)NULL);
				_exit(127);
			}
		}
		for (k = 0; k < 2; k++) {
			cr_assert_eq(waitpid(pid[k], &status, 0), pid[k]);
			cr_expect(WIFEXITED(status) && WEXITSTATUS(status) == 0,
			    "round %d: %s failed", round, cmd[k]);
			free(cmd[k]);
		}
		free(json);
		free(mail);
	}
	/* every round: one report, under the domain, once */
	cr_expect_eq(stu_int(&db, "SELECT count(*) FROM tlsrpt.report"), 8);
	cr_expect_eq(stu_int(&db, "SELECT count(*) FROM tlsrpt.policy WHERE"
	    " policy_domain = '" DOMAIN "'"), 8);
	cr_expect_eq(stu_int(&db, "SELECT count(*) FROM tlsrpt.rollup WHERE"
	    " policy_domain = ''"), 0);
	cr_expect_eq(stu_int(&db, "SELECT sum(reports) FROM tlsrpt.rollup"
	    " WHERE result_type = ''"), 8);
	/* 4 + 5 + ... + 11 */
	cr_expect_eq(stu_int(&db, "SELECT sum(successful_sessions) FROM"
	    " tlsrpt.rollup"), 60);
	cr_expect_eq(stu_int(&db, "SELECT count(*) FROM tlsrpt.arrival"), 16);
	cr_expect_eq(stu_int(&db, "SELECT count(*) FROM tlsrpt.arrival"
	    " WHERE outcome = 'stored'"), 8);
	snprintf(sql, sizeof(sql), "rm -rf %s", dir);
	cr_expect_eq(system(sql), 0);
	stu_db_drop(&db);
}

/* --- filled in later ----------------------------------------------- */

/* A report-id that tells nothing (Stalwart's shape) and no domain: the
 * HTTPS copy is stored under (unknown); the mailed copy names it. */
Test(identity, unknown_domain_filled_by_a_later_copy)
{
	const char		*id = "1795996800_5665667737528564296";
	struct tlsrpt_report	*h, *m;
	struct store		*st;
	struct stu_db		 db;
	char			*json, *mail, buf[512];
	unsigned		 fl;

	stu_db_create(&db, "id_fill");
	st = stu_open(&db, 1);
	json = sys4_json(id, 4);
	mail = sys4_mail(json, id, DOMAIN);
	h = parse_json(json, NULL);
	cr_assert_str_eq(h->policies[0].domain, "");
	cr_expect_eq(put1(st, h, &arr_https, &fl), STORE_STORED);
	cr_expect_eq(stu_int(&db, "SELECT sum(successful_sessions) FROM"
	    " tlsrpt.rollup WHERE policy_domain = ''"), 4);
	m = parse_mail(mail);
	cr_expect_eq(put1(st, m, &arr_mail, &fl), STORE_DUPLICATE);
	cr_expect_eq(fl, STORE_PUT_FILLED);
	expect_one_report(&db, 4, 2);
	cr_expect_str_eq(stu_text(&db, "SELECT domain_source FROM"
	    " tlsrpt.policy", buf, sizeof(buf)), "header");
	cr_expect_str_eq(stu_text(&db, "SELECT w FROM tlsrpt.report,"
	    " unnest(warnings) w WHERE w LIKE 'policy-domain-filled%'", buf,
	    sizeof(buf)), "policy-domain-filled: policies[0]: \"" DOMAIN
	    "\" taken from TLS-Report-Domain of a later copy (mail)");
	/* a third copy changes nothing */
	cr_expect_eq(put1(st, m, &arr_mail, &fl), STORE_DUPLICATE);
	cr_expect_eq(fl, 0);
	expect_one_report(&db, 4, 3);
	tlsrpt_report_free(h);
	tlsrpt_report_free(m);
	free(json);
	free(mail);
	store_close(st);
	stu_db_drop(&db);
}

/* --- totals -------------------------------------------------------- */

Test(identity, summary_totals_count_reports)
{
	struct stu_db	 db;
	struct store	*st;
	struct rtu_run	 r;

	stu_db_create(&db, "id_totals");
	st = stu_open(&db, 1);
	/* one report covering two domains, one with policies [], one more
	 * for a.test: 3 reports, 2 domains (the REPORTS column adds to 3
	 * for a.test + b.test, and misses the empty one) */
	rtu_put(st, "Org A", "r1", "2026-11-30", stu_join(
	    pol("sts", "a.test", 5, 0, NULL),
	    pol("sts", "b.test", 6, 0, NULL), NULL));
	rtu_put(st, "Org A", "r2", "2026-11-30", strdup(""));
	rtu_put(st, "Org B", "r3", "2026-11-30",
	    pol("sts", "a.test", 7, 0, NULL));
	store_close(st);
	r = rtu_tlsrpt(&db, NULL, "summary");
	cr_expect_eq(r.status, 0, "%s", r.out);
	cr_expect_not_null(strstr(r.out, ": 3 reports, 2 domains\n"), "%s",
	    r.out);
	free(r.out);
	r = rtu_tlsrpt(&db, NULL, "summary --format json");
	cr_expect_not_null(strstr(r.out, "\"totals\": {\"reports\": 3,"
	    " \"domains\": 2, \"conflicting_copies\": 0}"), "%s", r.out);
	free(r.out);
	r = rtu_tlsrpt(&db, NULL, "summary --domain b.test");
	cr_expect_not_null(strstr(r.out, ": 1 report, 1 domain\n"), "%s",
	    r.out);
	free(r.out);
	stu_db_drop(&db);
}

/* --- trust (issue 8 item 6) ---------------------------------------- */

static char *
google_like(long ok, long failed, const char *rt)
{
	char	*d = NULL;

	if (failed > 0)
		d = stu_detail(rt, "mx.victim.test", failed);
	return report("Google Inc.", "2026-11-30T00:00:00Z_victim.test",
	    "2026-11-30", pol("sts", "victim.test", ok, failed, d));
}

Test(identity, trusted_copy_replaces_a_forged_one)
{
	struct ingest_meta	 meta;
	struct tlsrpt_report	*forged, *real;
	struct store		*st;
	struct stu_db		 db;
	struct rtu_run		 r;
	char			*fj, *rj;
	unsigned		 fl;

	stu_db_create(&db, "id_trust");
	st = stu_open(&db, 1);
	/* the forgery, posted to the open HTTPS endpoint first */
	fj = google_like(0, 900, "starttls-not-supported");
	forged = parse_json(fj, NULL);
	cr_expect_eq(put1(st, forged, &arr_https, &fl), STORE_STORED);
	/* the genuine report, DKIM-verified by the milter */
	memset(&meta, 0, sizeof(meta));
	meta.flags = INGEST_MF_MAIL;
	meta.dkim = "pass d=google.com aligned";
	meta.trusted = 1;
	rj = google_like(1000, 2, "certificate-expired");
	real = parse_json(rj, &meta);
	cr_expect_eq(put1(st, real, &arr_mail, &fl), STORE_STORED);
	cr_expect_eq(fl, STORE_PUT_REPLACED);
	cr_expect_eq(stu_int(&db, "SELECT count(*) FROM tlsrpt.report"), 1);
	cr_expect_eq(stu_int(&db, "SELECT count(*) FROM tlsrpt.report WHERE"
	    " trusted"), 1);
	cr_expect_eq(stu_int(&db, "SELECT sum(successful_sessions) FROM"
	    " tlsrpt.rollup"), 1000);
	cr_expect_eq(stu_int(&db, "SELECT sum(failed_sessions) FROM"
	    " tlsrpt.rollup WHERE result_type = ''"), 2);
	cr_expect_eq(stu_int(&db, "SELECT count(*) FROM tlsrpt.rollup WHERE"
	    " result_type = 'starttls-not-supported'"), 0);
	cr_expect_eq(stu_int(&db, "SELECT sum(reports) FROM tlsrpt.rollup"
	    " WHERE result_type = ''"), 1);
	cr_expect_eq(stu_int(&db, "SELECT count(*) FROM tlsrpt.failure_detail"
	    " WHERE result_type = 'starttls-not-supported'"), 0);
	cr_expect_eq(stu_int(&db, "SELECT count(*) FROM tlsrpt.report_raw"),
	    2, "both bodies kept");
	cr_expect_eq(stu_int(&db, "SELECT count(*) FROM tlsrpt.arrival"), 2);
	/* the first arrival time stays the report's */
	cr_expect_eq(stu_int(&db, "SELECT extract(epoch FROM received_at)"
	    "::bigint FROM tlsrpt.report"), arr_https.received_at);
	/* the forgery again, later: a conflicting copy, the trusted stays */
	cr_expect_eq(put1(st, forged, &arr_https, &fl), STORE_DUPLICATE);
	cr_expect_eq(fl, STORE_PUT_CONFLICT);
	cr_expect_eq(stu_int(&db, "SELECT sum(successful_sessions) FROM"
	    " tlsrpt.rollup"), 1000);
	store_close(st);
	r = rtu_tlsrpt(&db, NULL, "summary --format json");
	cr_expect_not_null(strstr(r.out, "\"successful_sessions\": 1000,"
	    " \"failed_sessions\": 2"), "%s", r.out);
	free(r.out);
	tlsrpt_report_free(forged);
	tlsrpt_report_free(real);
	free(fj);
	free(rj);
	stu_db_drop(&db);
}

Test(identity, untrusted_conflict_keeps_the_first)
{
	struct tlsrpt_report	*a, *b, *a2;
	struct store		*st;
	struct stu_db		 db;
	struct rtu_run		 r;
	char			*aj, *bj, *a2j;
	unsigned		 fl;

	stu_db_create(&db, "id_conflict");
	st = stu_open(&db, 1);
	aj = google_like(10, 1, "certificate-expired");
	bj = google_like(0, 50, "starttls-not-supported");
	a = parse_json(aj, NULL);
	b = parse_json(bj, NULL);
	cr_expect_eq(put1(st, a, &arr_https, &fl), STORE_STORED);
	cr_expect_eq(put1(st, b, &arr_https, &fl), STORE_DUPLICATE);
	cr_expect_eq(fl, STORE_PUT_CONFLICT);
	/* the first copy re-encoded (pretty-printed) is no conflict */
	cr_assert_geq(asprintf(&a2j, "\n  %s\n", aj), 0);
	a2 = parse_json(a2j, NULL);
	cr_expect_neq(memcmp(a->sha256, a2->sha256, 32), 0);
	cr_expect_eq(put1(st, a2, &arr_mail, &fl), STORE_DUPLICATE);
	cr_expect_eq(fl, 0);
	cr_expect_eq(stu_int(&db, "SELECT sum(successful_sessions) FROM"
	    " tlsrpt.rollup"), 10);
	cr_expect_eq(stu_int(&db, "SELECT count(*) FROM tlsrpt.arrival"
	    " WHERE note = 'conflicting copy'"), 1);
	store_close(st);
	r = rtu_tlsrpt(&db, NULL, "summary --format json");
	cr_expect_not_null(strstr(r.out, "\"conflicting_copies\": 1,"), "%s",
	    r.out);
	free(r.out);
	r = rtu_tlsrpt(&db, NULL, "summary");
	cr_expect_not_null(strstr(r.out, "1 conflicting copy: "), "%s",
	    r.out);
	free(r.out);
	r = rtu_tlsrpt(&db, NULL, "failures --format json");
	cr_expect_not_null(strstr(r.out, "\"conflicting_copies\": 1,"), "%s",
	    r.out);
	free(r.out);
	r = rtu_tlsrpt(&db, NULL, "failures");
	cr_expect_not_null(strstr(r.out, "1 conflicting copy: "), "%s",
	    r.out);
	free(r.out);
	tlsrpt_report_free(a);
	tlsrpt_report_free(b);
	tlsrpt_report_free(a2);
	free(aj);
	free(bj);
	free(a2j);
	stu_db_drop(&db);
}

/* Both copies in one batch: the trusted one is stored, whatever the
 * order; the untrusted one conflicts. */
Test(identity, trusted_wins_inside_a_batch)
{
	struct ingest_meta	 meta;
	struct tlsrpt_report	*reps[2];
	struct store_arrival	 arr[2];
	enum store_outcome	 out[2];
	struct store		*st;
	struct stu_db		 db;
	char			*fj, *rj;

	stu_db_create(&db, "id_batch");
	st = stu_open(&db, 1);
	fj = google_like(0, 900, "starttls-not-supported");
	rj = google_like(1000, 2, "certificate-expired");
	memset(&meta, 0, sizeof(meta));
	meta.flags = INGEST_MF_MAIL;
	meta.dkim = "pass d=google.com aligned";
	meta.trusted = 1;
	reps[0] = parse_json(fj, NULL);
	reps[1] = parse_json(rj, &meta);
	arr[0] = arr_https;
	arr[1] = arr_mail;
	cr_assert_eq(store_put_reports(st, reps, arr, 2, out), 0);
	cr_expect_eq(out[0], STORE_DUPLICATE);
	cr_expect_eq(store_put_flags(st, 0), STORE_PUT_CONFLICT);
	cr_expect_eq(out[1], STORE_STORED);
	cr_expect_eq(stu_int(&db, "SELECT sum(successful_sessions) FROM"
	    " tlsrpt.rollup"), 1000);
	tlsrpt_report_free(reps[0]);
	tlsrpt_report_free(reps[1]);
	free(fj);
	free(rj);
	store_close(st);
	stu_db_drop(&db);
}

/* --- the migration of today's double copies ------------------------- */

#define ID_STALWART	"1795996800_5665667737528564296"
#define ID_SYS4		"2026-11-30T00:00:00Z_idx1_" DOMAIN

/* The identity before 006: the domains after the fallback ("" for an
 * unknown one) entered it. */
static void
old_key(char out[65], const char *id, const char *dom)
{
	unsigned char	k[32];
	const char	*d[1];

	d[0] = dom;
	expect_key(k, "Sender Mail Ltd", id, DAY0, DAY0 + 86399, d, 1);
	hex(k, out);
}

/* One stored copy as 001-005 wrote it: report, policy, raw, arrival. */
static void
old_copy(const struct stu_db *db, const char *id, const char *key,
    const char *dom, const char *src, const char *source, const char *recv,
    const char *sha)
{
	char	*sql;

	cr_assert_geq(asprintf(&sql,
	    "INSERT INTO tlsrpt.report (report_key, sha256, org_name,"
	    " reporter, report_id, contact_info, date_start, date_end,"
	    " warnings, was_gzip, hdr_domain, received_at) VALUES"
	    " ('\\x%s', '\\x%s', 'Sender Mail Ltd', 'sender mail ltd',"
	    " '%s', 'tlsrpt@" SUBMITTER "',"
	    " '2026-11-30T00:00:00Z', '2026-11-30T23:59:59Z',"
	    " '{policy-domain-missing: policies[0]: %s}', true, %s, '%s');"
	    "INSERT INTO tlsrpt.policy (report_key, idx, policy_domain,"
	    " policy_type, policy_type_raw, domain_source,"
	    " successful_sessions, failed_sessions, counted) VALUES"
	    " ('\\x%s', 0, '%s', 'no-policy-found', 'no-policy-found', '%s',"
	    " 4, 0, true);"
	    "INSERT INTO tlsrpt.report_raw VALUES ('\\x%s', '\\x%s', 'x');"
	    "INSERT INTO tlsrpt.arrival (received_at, source, origin, outcome,"
	    " report_key, sha256) VALUES ('%s', '%s', NULL, 'stored',"
	    " '\\x%s', '\\x%s');"
	    "INSERT INTO tlsrpt.rollup VALUES ('%s', '2026-11-30T00:00:00Z',"
	    " 'sender mail ltd', 'no-policy-found', '', '', 1, 4, 0)"
	    " ON CONFLICT (policy_domain, period_start, reporter,"
	    " policy_type, result_type, mx_host) DO UPDATE SET"
	    " reports = tlsrpt.rollup.reports + 1,"
	    " successful_sessions = tlsrpt.rollup.successful_sessions + 4",
	    key, sha, id, *src == 'h' ? "taken from TLS-Report-Domain" :
	    "unknown", *dom != '\0' ? "'" DOMAIN "'" : "NULL", recv,
	    key, dom, src, key, sha, recv, source, key, sha, dom), 0);
	stu_exec(db, sql);
	free(sql);
}

Test(identity, migration_merges_double_copies)
{
	static const char	*sha_h =
	    "1111111111111111111111111111111111111111111111111111111111111111";
	static const char	*sha_m =
	    "2222222222222222222222222222222222222222222222222222222222222222";
	const struct store_migration *m;
	struct store		*st;
	struct stu_db		 db;
	struct tlsrpt_report	*rep;
	char			 kh[65], km[65], kn[65], sql[512], buf[512];
	char			*json;
	int			 applied;

	stu_db_create(&db, "id_migrate");
	st = stu_open(&db, 0);
	/* the schema of today: 001 to 005 */
	for (m = store_migrations; m->name != NULL; m++) {
		if (m->version > 5)
			break;
		stu_exec(&db, m->sql);
		snprintf(sql, sizeof(sql), "INSERT INTO tlsrpt.schema_migration"
		    " (version, name) VALUES (%d, '%s')", m->version, m->name);
		stu_exec(&db, sql);
	}
	/* the double copies of today: HTTPS under (unknown), mail under
	 * the header's domain, each with its own key and figures */
	old_key(kh, ID_STALWART, "");
	old_key(km, ID_STALWART, DOMAIN);
	cr_assert_str_neq(kh, km);
	old_copy(&db, ID_STALWART, kh, "", "unknown", "https",
	    "2026-12-01T01:00:00Z", sha_h);
	old_copy(&db, ID_STALWART, km, DOMAIN, "header", "mail",
	    "2026-12-01T02:00:00Z", sha_m);
	cr_expect_eq(stu_int(&db, "SELECT sum(reports) FROM tlsrpt.rollup"),
	    2);

	cr_assert_eq(store_migrate(st, &applied), 0, "%s", store_errstr(st));
	cr_expect_eq(applied, migrations_after(5));	/* 006 and later */

	/* the new identity: the body names no domain */
	json = sys4_json(ID_STALWART, 4);
	rep = parse_json(json, NULL);
	hex(rep->key, kn);
	old_key(buf, ID_STALWART, "");
	cr_expect_str_neq(kn, buf);
	expect_one_report(&db, 4, 2);
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM tlsrpt.report WHERE"
	    " report_key = '\\x%s'", kn);
	cr_expect_eq(stu_int(&db, sql), 1, "not re-keyed to the new identity");
	/* the first arrival survived and took the mailed copy's domain */
	cr_expect_str_eq(stu_text(&db, "SELECT encode(sha256, 'hex') FROM"
	    " tlsrpt.report", buf, sizeof(buf)), sha_h);
	cr_expect_str_eq(stu_text(&db, "SELECT domain_source FROM"
	    " tlsrpt.policy", buf, sizeof(buf)), "header");
	cr_expect_eq(stu_int(&db, "SELECT count(*) FROM tlsrpt.report,"
	    " unnest(warnings) w WHERE w LIKE 'policy-domain-filled: policies"
	    "[0]: \"" DOMAIN "\" taken from a copy merged by migration 006%'"),
	    1);
	cr_expect_eq(stu_int(&db, "SELECT count(*) FROM tlsrpt.report_raw"),
	    2, "both bodies kept");
	cr_expect_eq(stu_int(&db, "SELECT count(*) FROM tlsrpt.arrival WHERE"
	    " outcome = 'duplicate' AND note = 'merged by migration 006'"), 1);
	cr_expect_eq(stu_int(&db, "SELECT sum(reports) FROM tlsrpt.rollup"),
	    1);
	/* from now on the copies of this report are duplicates */
	cr_expect_eq(put1(st, rep, &arr_https, NULL), STORE_DUPLICATE);
	expect_one_report(&db, 4, 3);
	/* and migrating again does nothing */
	cr_assert_eq(store_migrate(st, &applied), 0, "%s", store_errstr(st));
	cr_expect_eq(applied, 0);
	tlsrpt_report_free(rep);
	free(json);
	store_close(st);
	stu_db_drop(&db);
}

/* --- CSV (issue 8) -------------------------------------------------- */

Test(identity, csv_cells_neutralised)
{
	struct stu_db	 db;
	struct store	*st;
	struct rtu_run	 r;

	stu_db_create(&db, "id_csv");
	st = stu_open(&db, 1);
	rtu_put(st, "=HYPERLINK(\\\"http://evil/\\\")", "r1", "2026-11-30",
	    pol("sts", "a.test", 1, 3, stu_join(
	    stu_detail("@SUM(1+1)", "mx.a.test", 1),
	    stu_detail("+cmd", "mx.a.test", 1),
	    stu_detail("\\tx", "mx.a.test", 1), NULL)));
	store_close(st);
	r = rtu_tlsrpt(&db, NULL, "failures --by reporter,result-type"
	    " --format csv");
	cr_expect_not_null(strstr(r.out, ",\"'=hyperlink(\"\"http://evil/"
	    "\"\")\","), "%s", r.out);
	cr_expect_not_null(strstr(r.out, ",'@SUM(1+1),"), "%s", r.out);
	cr_expect_not_null(strstr(r.out, ",'+cmd,"), "%s", r.out);
	cr_expect_not_null(strstr(r.out, ",'\tx,"), "%s", r.out);
	cr_expect_null(strstr(r.out, ",=") , "%s", r.out);
	cr_expect_null(strstr(r.out, ",@") , "%s", r.out);
	free(r.out);
	r = rtu_tlsrpt(&db, NULL, "summary --format csv");
	/* result_types: "@SUM(1+1)=1 +cmd=1 ..." starts with @ */
	cr_expect_not_null(strstr(r.out, ",'"), "%s", r.out);
	free(r.out);
	stu_db_drop(&db);
}

/* --- the rollup a report adds, in C and in SQL ---------------------- */

/*
 * Every report of the corpus stored by store_put_reports() (C builds the
 * rollup rows): the rollup equals the sum of tlsrpt.report_rollup() over
 * the stored reports (SQL builds them from the base tables), row for row,
 * and taking every report away with tlsrpt.rollup_apply(k, -1) leaves
 * nothing.  The fill-in, the replacement and the migration move figures
 * with these functions, so they must agree with C on every real shape.
 */
Test(identity, rollup_c_and_sql_agree_on_the_corpus)
{
	struct ingest_limits	 lim;
	struct ingest_meta	 meta;
	struct ingest_err	 err;
	struct tlsrpt_report	*reps[128];
	struct store_arrival	 arr[128];
	enum store_outcome	 out[128];
	struct dirent		*de;
	struct store		*st;
	struct stu_db		 db;
	unsigned char		*buf;
	size_t			 n = 0, len, i;
	DIR			*d;

	stu_db_create(&db, "id_rollup");
	st = stu_open(&db, 1);
	ingest_limits_default(&lim);
	cr_assert_not_null(d = opendir(tu_corpus_dir()));
	while ((de = readdir(d)) != NULL && n < 128) {
		if (de->d_name[0] == '.')
			continue;
		buf = tu_load(de->d_name, &len);
		memset(&meta, 0, sizeof(meta));
		meta.filename = de->d_name;
		if (ingest_any(buf, len, &meta, &lim, &reps[n], &err) ==
		    INGEST_OK) {
			arr[n] = arr_https;
			n++;
		}
		free(buf);
	}
	closedir(d);
	cr_assert_gt(n, 30, "only %zu corpus reports parsed", n);
	cr_assert_eq(store_put_reports(st, reps, arr, n, out), 0, "%s",
	    store_errstr(st));
	for (i = 0; i < n; i++)
		cr_expect_neq(out[i], STORE_FAILED, "%zu: %s", i,
		    store_put_why(st, i));
	cr_expect_gt(stu_int(&db, "SELECT count(*) FROM tlsrpt.rollup WHERE"
	    " result_type <> ''"), 10);
	stu_exec(&db, "CREATE TABLE s AS SELECT c.policy_domain,"
	    " c.period_start, c.reporter, c.policy_type, c.result_type,"
	    " c.mx_host, sum(c.reports)::bigint AS reports,"
	    " sum(c.successful_sessions)::bigint AS ok,"
	    " sum(c.failed_sessions)::bigint AS failed"
	    " FROM tlsrpt.report r, tlsrpt.report_rollup(r.report_key) c"
	    " GROUP BY 1, 2, 3, 4, 5, 6");
	cr_expect_eq(stu_int(&db, "SELECT count(*) FROM (SELECT * FROM s"
	    " EXCEPT SELECT policy_domain, period_start, reporter,"
	    " policy_type, result_type, mx_host, reports,"
	    " successful_sessions, failed_sessions FROM tlsrpt.rollup) x"), 0,
	    "SQL has rows C did not make");
	cr_expect_eq(stu_int(&db, "SELECT count(*) FROM (SELECT"
	    " policy_domain, period_start, reporter, policy_type, result_type,"
	    " mx_host, reports, successful_sessions, failed_sessions FROM"
	    " tlsrpt.rollup EXCEPT SELECT * FROM s) x"), 0,
	    "C made rows SQL does not");
	stu_exec(&db, "SELECT tlsrpt.rollup_apply(report_key, -1) FROM"
	    " tlsrpt.report");
	cr_expect_eq(stu_int(&db, "SELECT count(*) FROM tlsrpt.rollup"), 0);
	for (i = 0; i < n; i++)
		tlsrpt_report_free(reps[i]);
	store_close(st);
	stu_db_drop(&db);
}

/* --- the worker's counters ----------------------------------------- */

static int
rm_one(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
	(void)sb;
	(void)ftw;
	return type == FTW_DP ? rmdir(path) : unlink(path);
}

static void
spool_str(struct spool *sp, const char *s, const char *source)
{
	struct spool_meta	meta;

	memset(&meta, 0, sizeof(meta));
	meta.source = source;
	meta.origin = "test";
	meta.received = DAY0 + 90000;
	cr_assert_eq(spool_put(sp, s, strlen(s), &meta), SPOOL_STORED);
}

/* The ingest worker counts conflicting copies and fill-ins (/metrics). */
Test(identity, worker_counts_conflicts_and_fill_ins, .timeout = 60)
{
	const char		*id = "1795996800_5665667737528564296";
	struct worker_conf	 c;
	struct worker_stats	 s;
	struct worker		*w;
	struct spool		*sp;
	struct stu_db		 db;
	char			 base[] = "/tmp/tlsrpt-idw-XXXXXX";
	char			 dir[256], err[256];
	char			*aj, *bj, *json, *mail;
	int			 ms;

	cr_assert_not_null(mkdtemp(base));
	snprintf(dir, sizeof(dir), "%s/spool", base);
	cr_assert_not_null(sp = spool_open(dir, err, sizeof(err)), "%s", err);
	stu_db_create(&db, "id_worker");
	store_close(stu_open(&db, 1));
	memset(&c, 0, sizeof(c));
	c.conninfo = db.conninfo;
	ingest_limits_default(&c.lim);
	c.batch_max = 1;	/* one report per transaction, in order */
	c.backoff_max_s = 1;
	c.rescan_s = 1;
	aj = google_like(10, 1, "certificate-expired");
	bj = google_like(0, 50, "starttls-not-supported");
	json = sys4_json(id, 4);
	mail = sys4_mail(json, id, DOMAIN);
	cr_assert_not_null(w = worker_start(sp, &c, err, sizeof(err)), "%s",
	    err);
	spool_str(sp, aj, "https");
	spool_str(sp, json, "https");
	for (ms = 0; ms < 20000; ms += 20) {
		worker_get_stats(w, &s);
		if (s.stored == 2)
			break;
		usleep(20000);
	}
	spool_str(sp, bj, "https");
	spool_str(sp, mail, "mail");
	for (ms = 0; ms < 20000; ms += 20) {
		worker_get_stats(w, &s);
		if (s.stored + s.duplicates == 4)
			break;
		usleep(20000);
	}
	worker_stop(w);
	cr_expect_eq(s.stored, 2);
	cr_expect_eq(s.duplicates, 2);
	cr_expect_eq(s.conflicting, 1);
	cr_expect_eq(s.filled, 1);
	cr_expect_eq(s.replaced, 0);
	/* the Google report once with its first figures, the other under
	 * its domain */
	cr_expect_eq(stu_int(&db, "SELECT count(*) FROM tlsrpt.report"), 2);
	cr_expect_eq(stu_int(&db, "SELECT sum(successful_sessions) FROM"
	    " tlsrpt.rollup WHERE policy_domain = 'victim.test'"), 10);
	cr_expect_eq(stu_int(&db, "SELECT sum(successful_sessions) FROM"
	    " tlsrpt.rollup WHERE policy_domain = '" DOMAIN "'"), 4);
	free(aj);
	free(bj);
	free(json);
	free(mail);
	spool_close(sp);
	stu_db_drop(&db);
	nftw(base, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* A Postfix report that came by HTTPS only before 006 sits under
 * (unknown): the migration reads its domain from the report-id. */
Test(identity, migration_reads_the_domain_of_a_report_id)
{
	const struct store_migration *m;
	struct store		*st;
	struct stu_db		 db;
	char			 k[65], sql[512], buf[512];
	int			 applied;

	stu_db_create(&db, "id_migrate_id");
	st = stu_open(&db, 0);
	for (m = store_migrations; m->name != NULL && m->version <= 5; m++) {
		stu_exec(&db, m->sql);
		snprintf(sql, sizeof(sql), "INSERT INTO tlsrpt.schema_migration"
		    " (version, name) VALUES (%d, '%s')", m->version, m->name);
		stu_exec(&db, sql);
	}
	old_key(k, ID_SYS4, "");
	old_copy(&db, ID_SYS4, k, "", "unknown", "https",
	    "2026-12-01T01:00:00Z",
	    "3333333333333333333333333333333333333333333333333333333333333333");
	cr_assert_eq(store_migrate(st, &applied), 0, "%s", store_errstr(st));
	cr_expect_eq(applied, migrations_after(5));	/* 006 and later */
	expect_one_report(&db, 4, 1);
	cr_expect_str_eq(stu_text(&db, "SELECT domain_source FROM"
	    " tlsrpt.policy", buf, sizeof(buf)), "report-id");
	cr_expect_eq(stu_int(&db, "SELECT count(*) FROM tlsrpt.report,"
	    " unnest(warnings) w WHERE w = 'policy-domain-filled: policies[0]:"
	    " \"" DOMAIN "\" taken from the report-id by migration 006'"), 1);
	store_close(st);
	stu_db_drop(&db);
}

/* The report-id shapes: ingest/report.c and tlsrpt.report_id_domain()
 * read the same domain from each, or none. */
Test(identity, report_id_domain_c_and_sql_agree)
{
	static const char *const ids[] = {
		"2025-09-20T00:00:00Z_idx1_mpi-klsb.mpg.de",
		"2025-09-20T00:00:00Z_idx12_Example.ORG.",
		"2025-09-20T00:00:00Z_idx1x.example.org",
		"2024-09-03T00:00:00Z_cardinalhealth.ca",
		"133708152202987951+krvtz.net", "133944884956529435+",
		"20240903.example.com@mox.example", "20240903.example.com",
		"1730332800_11732957880687192466",
		"c96d67df-0440-57f7-6e96-c83824d0fdf2@mail.ru",
		"2025-09-20T00:00:00Z_idx1_bad_name.test",
		"2025-09-20T00:00:00Z_localhost", "1+a..b", "1+-a.b", "1+a.-b",
		"1+.a.b", "1+a.b..", "2025-09-20T00:00:00Z_", "",
		"2025-09-20T00:00:00ZXa.b", "1+ü.test",
	};
	struct tlsrpt_report	*r;
	struct store		*st;
	struct stu_db		 db;
	char			*json, sql[256], got[128];
	size_t			 i;

	stu_db_create(&db, "id_riddom");
	st = stu_open(&db, 1);
	for (i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		json = sys4_json(ids[i], 1);
		r = parse_json(json, NULL);
		snprintf(sql, sizeof(sql), "SELECT COALESCE("
		    "tlsrpt.report_id_domain('%s'), '')", ids[i]);
		cr_expect_str_eq(stu_text(&db, sql, got, sizeof(got)),
		    r->policies[0].domain, "report-id \"%s\"", ids[i]);
		tlsrpt_report_free(r);
		free(json);
	}
	store_close(st);
	stu_db_drop(&db);
}
