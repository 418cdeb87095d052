/*
 * test_report_no.c -- schema/009_report_no.sql loses nothing: a database
 * at 008 filled with reports as 008 stored them (SQL, in 008's layout:
 * policies with and without an sts policy, failure details with
 * canonical, non-canonical, invalid and missing IPs, content variants,
 * duplicate, rejected and orphaned arrivals, the rollup 006 computes) is
 * migrated, and every table, read back through the new columns
 * (report_no mapped to the report's key, the IP texts and sts_mx as
 * readers take them), holds the same rows as before, counted and
 * digested.  Then a new report is stored after the migrated ones.
 *
 * Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
 */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "ingest.h"
#include "store.h"
#include "store_testutil.h"
#include "testutil.h"

#define NREP	40		/* reports; 2 policies and 6 details each */

/* 008's rows, as store_put.c and 006's functions wrote them. */
static const char *const fill_008[] = {
	"INSERT INTO tlsrpt.report (report_key, sha256, org_name, reporter,"
	" report_id, contact_info, date_start, date_end, warnings, was_gzip,"
	" received_at, dkim, trusted, figures)"
	" SELECT sha256(('k' || i)::bytea), sha256(('s' || i)::bytea),"
	" 'Org ' || i % 3, 'org ' || i % 3, 'id' || i, 'c@x.test',"
	" '2026-01-01T00:00:00Z'::timestamptz + (i % 7) * interval '1 day',"
	" '2026-01-01T23:59:59Z'::timestamptz + (i % 7) * interval '1 day',"
	" CASE WHEN i % 5 = 0 THEN '{w1}'::text[] ELSE '{}' END, i % 2 = 0,"
	" '2026-02-01T00:00:00Z', CASE WHEN i % 4 = 0 THEN 'pass d=x aligned'"
	" END, CASE WHEN i % 4 = 0 THEN true END,"
	" CASE WHEN i % 6 <> 0 THEN sha256(('f' || i)::bytea) END"
	" FROM generate_series(1, 40) i",
	/* policy 1 of every third report has no sts policy; sts_mx is
	 * mx_hosts for policy 0 only */
	"INSERT INTO tlsrpt.policy (report_key, idx, policy_domain,"
	" policy_type, policy_type_raw, domain_source, policy_strings,"
	" mx_hosts, sts_version_ok, sts_mode, sts_max_age, sts_mx,"
	" sts_problems, successful_sessions, failed_sessions, counted)"
	" SELECT sha256(('k' || i)::bytea), j, 'd' || i % 5 || '.test',"
	" CASE WHEN n THEN 'tlsa' ELSE 'sts' END, 'sts', 'report',"
	" ARRAY['version: STSv1', 'mode: ' || m], ARRAY['mx' || j || '.d.test'],"
	" CASE WHEN NOT n THEN true END, CASE WHEN NOT n THEN m END,"
	" CASE WHEN NOT n THEN 86400 END, CASE WHEN n THEN NULL"
	" WHEN j = 0 THEN ARRAY['mx0.d.test'] ELSE ARRAY['*.d.test'] END,"
	" CASE WHEN NOT n THEN 0 END, 100 * i, i, j = 0 OR i % 2 = 0"
	" FROM generate_series(1, 40) i, generate_series(0, 1) j,"
	" LATERAL (SELECT j = 1 AND i % 3 = 0 AS n, CASE WHEN i % 2 = 0"
	" THEN 'testing' ELSE 'enforce' END AS m) x",
	/* IPs: canonical (text goes), non-canonical (text stays), invalid
	 * and absent */
	"INSERT INTO tlsrpt.failure_detail (report_key, policy_idx, idx,"
	" policy_domain, result_type, result_known, sending_ip,"
	" sending_ip_inet, receiving_ip, receiving_ip_inet, receiving_mx,"
	" receiving_helo, additional_info, reason_code, failed_sessions)"
	" SELECT sha256(('k' || i)::bytea), j, k, 'd' || i % 5 || '.test',"
	" (ARRAY['certificate-expired', 'validation-failure', 'x-odd'])[k + 1],"
	" k < 2,"
	" CASE k WHEN 0 THEN '192.0.2.' || i WHEN 1 THEN '2001:DB8::' || i"
	" ELSE 'bogus' END,"
	" CASE k WHEN 0 THEN ('192.0.2.' || i)::inet"
	" WHEN 1 THEN ('2001:db8::' || i)::inet END,"
	" CASE k WHEN 0 THEN '2001:db8::' || i WHEN 1 THEN '::ffff:192.0.2.1'"
	" END, CASE k WHEN 0 THEN ('2001:db8::' || i)::inet"
	" WHEN 1 THEN '::ffff:192.0.2.1'::inet END,"
	" 'MX' || j || '.d.test', CASE WHEN k = 1 THEN 'helo' END,"
	" 'info ' || i, CASE WHEN k = 0 THEN 'X509' END, i + k"
	" FROM generate_series(1, 40) i, generate_series(0, 1) j,"
	" generate_series(0, 2) k",
	"INSERT INTO tlsrpt.report_raw (report_key, sha256, body)"
	" SELECT report_key, sha256, '\\x1f8b'::bytea || sha256 FROM"
	" tlsrpt.report",
	"INSERT INTO tlsrpt.report_raw (report_key, sha256, body)"
	" SELECT report_key, sha256(sha256), 'variant' FROM tlsrpt.report"
	" WHERE report_id IN ('id10', 'id20')",
	"INSERT INTO tlsrpt.arrival (received_at, source, origin, outcome,"
	" report_key, sha256, note) SELECT received_at, 'https', report_id,"
	" 'stored', report_key, sha256, NULL FROM tlsrpt.report",
	"INSERT INTO tlsrpt.arrival (received_at, source, origin, outcome,"
	" report_key, sha256, note) SELECT received_at + interval '1 h',"
	" 'mail', report_id, 'duplicate', report_key, sha256(sha256),"
	" 'conflicting copy' FROM tlsrpt.report WHERE report_id LIKE '%0'",
	"INSERT INTO tlsrpt.arrival (received_at, source, origin, outcome,"
	" report_key, sha256, reason) SELECT '2026-02-02T00:00:00Z', 'file',"
	" 'junk' || i, 'rejected', NULL, sha256(('j' || i)::bytea), 'json'"
	" FROM generate_series(1, 2) i",
	"INSERT INTO tlsrpt.arrival (received_at, source, origin, outcome,"
	" report_key, sha256) VALUES ('2026-02-03T00:00:00Z', 'file',"
	" 'orphan', 'duplicate', sha256('gone'::bytea), sha256('g'::bytea))",
	"SELECT tlsrpt.rollup_apply(report_key, 1) FROM tlsrpt.report"
	" ORDER BY report_key",
	NULL
};

/* Per table: its rows before (008) and after (009), as jsonb, in
 * terms of the report key; compared counted and digested. */
#define DIGEST(q)							\
	"SELECT count(*) || ' ' || md5(string_agg(j::text, E'\\n'"	\
	" ORDER BY j::text)) FROM (" q ") x"

static const struct {
	const char	*table;
	const char	*before;
	const char	*after;
} tables[] = {
	{ "report", DIGEST("SELECT to_jsonb(r) AS j FROM tlsrpt.report r"),
	    DIGEST("SELECT to_jsonb(r) - 'report_no' AS j"
	    " FROM tlsrpt.report r") },
	{ "policy", DIGEST("SELECT to_jsonb(p) AS j FROM tlsrpt.policy p"),
	    DIGEST("SELECT (to_jsonb(p) - 'report_no') || jsonb_build_object("
	    "'report_key', r.report_key, 'sts_mx', COALESCE(p.sts_mx,"
	    " CASE WHEN p.sts_version_ok IS NOT NULL THEN p.mx_hosts END))"
	    " AS j FROM tlsrpt.policy p JOIN tlsrpt.report r"
	    " USING (report_no)") },
	{ "failure_detail", DIGEST("SELECT to_jsonb(f) AS j"
	    " FROM tlsrpt.failure_detail f"),
	    DIGEST("SELECT (to_jsonb(f) - 'report_no') || jsonb_build_object("
	    "'report_key', r.report_key, 'policy_domain', p.policy_domain,"
	    " 'sending_ip', COALESCE(f.sending_ip, host(f.sending_ip_inet)),"
	    " 'receiving_ip', COALESCE(f.receiving_ip,"
	    " host(f.receiving_ip_inet))) AS j FROM tlsrpt.failure_detail f"
	    " JOIN tlsrpt.report r USING (report_no) JOIN tlsrpt.policy p"
	    " ON p.report_no = f.report_no AND p.idx = f.policy_idx") },
	{ "report_raw", DIGEST("SELECT to_jsonb(w) AS j"
	    " FROM tlsrpt.report_raw w"),
	    DIGEST("SELECT (to_jsonb(w) - 'report_no') || jsonb_build_object("
	    "'report_key', r.report_key) AS j FROM tlsrpt.report_raw w"
	    " JOIN tlsrpt.report r USING (report_no)") },
	{ "arrival", DIGEST("SELECT to_jsonb(a) AS j FROM tlsrpt.arrival a"
	    " WHERE origin <> 'orphan'"),
	    DIGEST("SELECT (to_jsonb(a) - 'report_no') || jsonb_build_object("
	    "'report_key', r.report_key) AS j FROM tlsrpt.arrival a"
	    " LEFT JOIN tlsrpt.report r USING (report_no)"
	    " WHERE origin <> 'orphan'") },
	{ "rollup", DIGEST("SELECT to_jsonb(u) AS j FROM tlsrpt.rollup u"),
	    DIGEST("SELECT to_jsonb(u) AS j FROM tlsrpt.rollup u") },
};
#define NTABLES	(sizeof(tables) / sizeof(tables[0]))

Test(report_no, migration_keeps_every_row, .timeout = 120)
{
	const struct store_migration *m;
	struct stu_db		 db;
	struct store		*st;
	struct tlsrpt_report	*rep;
	enum store_outcome	 out;
	static const struct store_arrival arr = { "file", "new.json",
	    1767225600 };
	char			 before[NTABLES][64], after[64], sql[256];
	const char *const	*q;
	size_t			 i;
	int			 applied;
	char			*json;

	stu_db_create(&db, "report_no");
	st = stu_open(&db, 0);
	for (m = store_migrations; m->name != NULL && m->version <= 8; m++) {
		stu_exec(&db, m->sql);
		snprintf(sql, sizeof(sql), "INSERT INTO tlsrpt.schema_migration"
		    " (version, name) VALUES (%d, '%s')", m->version, m->name);
		stu_exec(&db, sql);
	}
	for (q = fill_008; *q != NULL; q++)
		stu_exec(&db, *q);
	/* what 008 holds, worked out from the fill above */
	cr_assert_eq(stu_int(&db, "SELECT count(*) FROM tlsrpt.report"), NREP);
	cr_assert_eq(stu_int(&db, "SELECT count(*) FROM tlsrpt.policy"),
	    2 * NREP);
	cr_assert_eq(stu_int(&db, "SELECT count(*) FROM"
	    " tlsrpt.failure_detail"), 6 * NREP);
	cr_assert_eq(stu_int(&db, "SELECT count(*) FROM tlsrpt.report_raw"),
	    NREP + 2);
	cr_assert_eq(stu_int(&db, "SELECT count(*) FROM tlsrpt.arrival"),
	    NREP + 4 + 2 + 1);
	cr_assert_gt(stu_int(&db, "SELECT count(*) FROM tlsrpt.rollup"), 0);
	for (i = 0; i < NTABLES; i++)
		stu_text(&db, tables[i].before, before[i], sizeof(before[i]));

	cr_assert_eq(store_migrate(st, &applied), 0, "%s", store_errstr(st));
	cr_assert_geq(applied, 1);
	for (i = 0; i < NTABLES; i++)
		cr_expect_str_eq(stu_text(&db, tables[i].after, after,
		    sizeof(after)), before[i], "%s: rows changed",
		    tables[i].table);

	/* the new layout holds what it says: a report_no each, the IP text
	 * only when not canonical, sts_mx only when not mx_hosts */
	cr_expect_eq(stu_int(&db, "SELECT count(DISTINCT report_no) FROM"
	    " tlsrpt.report"), NREP);
	cr_expect_eq(stu_int(&db, "SELECT count(*) FROM tlsrpt.failure_detail"
	    " WHERE sending_ip IS NULL"), 2 * NREP, "canonical texts go");
	cr_expect_eq(stu_int(&db, "SELECT count(*) FROM tlsrpt.failure_detail"
	    " WHERE sending_ip = '2001:DB8::7' AND"
	    " sending_ip_inet = '2001:db8::7'"), 2, "as sent stays");
	cr_expect_eq(stu_int(&db, "SELECT count(*) FROM tlsrpt.failure_detail"
	    " WHERE sending_ip = 'bogus' AND sending_ip_inet IS NULL"),
	    2 * NREP);
	cr_expect_eq(stu_int(&db, "SELECT count(*) FROM tlsrpt.failure_detail"
	    " WHERE receiving_ip IS NULL AND receiving_ip_inet IS NOT NULL"),
	    4 * NREP, "::ffff:192.0.2.1 is PostgreSQL's text as well");
	cr_expect_eq(stu_int(&db, "SELECT count(*) FROM tlsrpt.policy"
	    " WHERE sts_mx IS NULL AND sts_version_ok IS NOT NULL"), NREP);
	cr_expect_eq(stu_int(&db, "SELECT count(*) FROM tlsrpt.arrival"
	    " WHERE origin = 'orphan' AND outcome = 'duplicate'"
	    " AND report_no IS NULL"), 1, "the orphan stays, as prune's");

	/* the importer carries on after the migrated reports */
	json = stu_report("Org", "new1", "2026-01-01", stu_policy("sts",
	    "d1.test", 10, 1, stu_detail("certificate-expired",
	    "mx0.d.test", 1)));
	rep = stu_parse(json);
	cr_assert(store_put_reports(st, &rep, &arr, 1, &out) == 0, "%s",
	    store_errstr(st));
	cr_expect_eq(out, STORE_STORED);
	tlsrpt_report_free(rep);
	free(json);
	cr_expect_eq(stu_int(&db, "SELECT count(*) FROM tlsrpt.report r"
	    " WHERE report_id = 'new1' AND report_no > (SELECT max(report_no)"
	    " FROM tlsrpt.report WHERE report_id <> 'new1')"), 1);
	cr_expect_eq(stu_int(&db, "SELECT count(*) FROM tlsrpt.policy p"
	    " JOIN tlsrpt.report r USING (report_no)"
	    " WHERE r.report_id = 'new1'"), 1);
	store_close(st);
	stu_db_drop(&db);
}

/*
 * The grants of README "The database user", made at 008, still cover
 * what 009 and 010 add: the writer draws report numbers and stores
 * checks, the reader reads them.  (A GRANT ... ON ALL SEQUENCES or ON
 * ALL TABLES covers only what exists when it is made.)
 */
Test(report_no, grants_carried_over, .timeout = 120)
{
	const struct store_migration *m;
	struct stu_db		 db;
	struct store		*st;
	char			 sql[512], w[32], r[32];
	int			 applied;

	stu_db_create(&db, "rn_grants");
	st = stu_open(&db, 0);
	for (m = store_migrations; m->name != NULL && m->version <= 8; m++) {
		stu_exec(&db, m->sql);
		snprintf(sql, sizeof(sql), "INSERT INTO tlsrpt.schema_migration"
		    " (version, name) VALUES (%d, '%s')", m->version, m->name);
		stu_exec(&db, sql);
	}
	snprintf(w, sizeof(w), "rn_writer_%d", (int)getpid());
	snprintf(r, sizeof(r), "rn_reader_%d", (int)getpid());
	snprintf(sql, sizeof(sql), "CREATE ROLE %s; CREATE ROLE %s; "
	    "GRANT USAGE ON SCHEMA tlsrpt TO %s, %s; "
	    "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA "
	    "tlsrpt TO %s; GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA "
	    "tlsrpt TO %s; GRANT SELECT ON ALL TABLES IN SCHEMA tlsrpt TO %s",
	    w, r, w, r, w, w, r);
	stu_exec(&db, sql);
	cr_assert_eq(store_migrate(st, &applied), 0, "%s", store_errstr(st));
	cr_assert_geq(applied, 2);
#define PRIV(fn, who, obj, what)					\
	(snprintf(sql, sizeof(sql), "SELECT " fn "('%s', %s, '%s')::int",	\
	    who, obj, what), stu_int(&db, sql))
	cr_expect_eq(PRIV("has_sequence_privilege", w,
	    "'tlsrpt.report_no_seq'", "USAGE"), 1);
	cr_expect_eq(PRIV("has_table_privilege", w, "'tlsrpt.live_check'",
	    "INSERT"), 1);
	cr_expect_eq(PRIV("has_table_privilege", w, "'tlsrpt.live_check'",
	    "DELETE"), 1);
	cr_expect_eq(PRIV("has_sequence_privilege", w,
	    "pg_get_serial_sequence('tlsrpt.live_check', 'check_id')",
	    "USAGE"), 1);
	cr_expect_eq(PRIV("has_table_privilege", r, "'tlsrpt.live_check'",
	    "SELECT"), 1);
	/* and no more than the reader had */
	cr_expect_eq(PRIV("has_table_privilege", r, "'tlsrpt.live_check'",
	    "INSERT"), 0);
	cr_expect_eq(PRIV("has_sequence_privilege", r,
	    "'tlsrpt.report_no_seq'", "USAGE"), 0);
#undef PRIV
	store_close(st);
	snprintf(sql, sizeof(sql), "DROP OWNED BY %s, %s; DROP ROLE %s, %s",
	    w, r, w, r);
	stu_exec(&db, sql);
	stu_db_drop(&db);
}
