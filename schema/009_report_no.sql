-- 009_report_no.sql -- fewer bytes per stored report, part 2 (issue 12
-- item 9: at most 2x the report's JSON).
--
-- Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
--
-- Measured by `make bench-storage` (tests/bench/bench_storage.sh) over
-- 10,000 typical reports (2 policies, 5 failure details, 1,987 bytes of
-- JSON): 5,440 bytes per report at 008, see README "Storage per report"
-- for the figures after this one, table by table.
--
-- 1. A bigint surrogate for the 32-byte report key.  tlsrpt.report keeps
--    report_key (the identity: its primary key, what ingest computes and
--    what the web's URLs name) and gets report_no, unique, from
--    tlsrpt.report_no_seq; policy, failure_detail, report_raw and
--    arrival hang off report_no instead of report_key (8 bytes where the
--    key took 33, ten times per report in the tables and seven in their
--    indexes).  store_put.c takes the numbers of a batch's new reports
--    from the sequence in one statement; a trusted copy that replaces an
--    untrusted one keeps the number of the copy it replaces, so that the
--    raw bodies and arrivals kept across the replacement (006's
--    report_unstore()) stay attached.  An arrival whose report no longer
--    exists (a duplicate recorded while prune removed its report: prune
--    removes such arrivals) has report_no NULL, as a rejection's has.
-- 2. tlsrpt.failure_detail: policy_domain goes (it was the policy's,
--    which every reader joins anyway), and sending_ip / receiving_ip
--    keep the text as sent only when it differs from the canonical text
--    of the inet beside it (readers: COALESCE(sending_ip,
--    host(sending_ip_inet))); NULL otherwise.
-- 3. tlsrpt.policy.sts_mx is NULL when it equals mx_hosts (it is the mx
--    lines of the policy string, which reporters also send as mx-host);
--    an sts policy was parsed when sts_version_ok is not NULL, so
--    readers take COALESCE(sts_mx, mx_hosts) for those.
-- 4. tlsrpt.rollup loses its primary key over six text columns (667
--    bytes per report, as many as the rollup's data): a plain index on
--    (policy_domain, period_start), deduplicated, finds the rows of a
--    (domain, period, reporter) group and serves the queries that name
--    domains.  The key stays unique by its writers: each takes a
--    transaction-level advisory lock per group it adds to
--    (tlsrpt.rollup_lock(), in the order of the lock keys, so two writers
--    cannot deadlock on them), looks for the group's rows under it, then
--    updates the rows it finds and inserts the others.  prune deletes
--    rows without the lock: a writer then finds the row gone and inserts
--    it, as the ON CONFLICT did.
-- 5. Not in this file: store_put.c packs the raw bodies it writes from
--    009 on as a zlib stream (RFC 1950) with a preset dictionary of
--    RFC 8460's vocabulary (ingest/gzip_pack.c): 0.44 KB where 008's
--    gzip took 0.71.  Bodies stored before stay as they are (gzip, or
--    JSON before 008); readers tell the three apart by the first bytes
--    (78 with FDICT and the dictionary's Adler-32, 1f 8b, JSON).
--
-- Existing rows are rewritten (one UPDATE per table) and take their new
-- size after VACUUM; dropped columns keep their bytes in old rows until
-- a row is rewritten (VACUUM FULL reclaims them, not needed).
--
-- Live databases: one transaction (store/migrate.c).  It takes ACCESS
-- EXCLUSIVE on the tables in the order an import batch writes them
-- (store_put.c: report, policy, failure_detail, report_raw, arrival,
-- rollup), so it waits for a running batch instead of deadlocking with
-- it; importers and queries then wait until COMMIT: the rewrite takes
-- about 6 s per 10,000 stored reports on the bench's two loaded cores,
-- some 10 minutes per million (the daemons keep what arrives in their
-- spool meanwhile, nothing is lost; README "Upgrading (schema 009)").
-- lock_timeout keeps a lock from queueing behind a long transaction and
-- blocking everyone: on timeout the whole migration rolls back and
-- `tlsrpt migrate` can be run again.

SET LOCAL lock_timeout = '30s';

LOCK TABLE tlsrpt.report, tlsrpt.policy, tlsrpt.failure_detail,
    tlsrpt.report_raw, tlsrpt.arrival, tlsrpt.rollup
    IN ACCESS EXCLUSIVE MODE;

-- 1. report_no
CREATE SEQUENCE tlsrpt.report_no_seq AS bigint;
ALTER TABLE tlsrpt.report ADD COLUMN report_no bigint;
UPDATE tlsrpt.report SET report_no = pg_catalog.nextval('tlsrpt.report_no_seq');
ALTER TABLE tlsrpt.report ALTER COLUMN report_no SET NOT NULL,
    ALTER COLUMN report_no SET DEFAULT
    pg_catalog.nextval('tlsrpt.report_no_seq'),
    ADD CONSTRAINT report_report_no_key UNIQUE (report_no);
ALTER SEQUENCE tlsrpt.report_no_seq OWNED BY tlsrpt.report.report_no;
-- The roles that store reports (INSERT on tlsrpt.report: README "The
-- database user") draw from the new sequence too; a GRANT ... ON ALL
-- SEQUENCES made before 009 did not cover it.
DO $$
DECLARE
	g record;
BEGIN
	FOR g IN SELECT DISTINCT a.grantee
	    FROM pg_catalog.pg_class c, pg_catalog.aclexplode(c.relacl) a
	    WHERE c.oid = 'tlsrpt.report'::regclass
	    AND a.privilege_type = 'INSERT' AND a.grantee <> c.relowner LOOP
		EXECUTE pg_catalog.format('GRANT USAGE, SELECT ON SEQUENCE '
		    'tlsrpt.report_no_seq TO %s', CASE WHEN g.grantee = 0
		    THEN 'PUBLIC' ELSE pg_catalog.quote_ident(
		    pg_catalog.pg_get_userbyid(g.grantee)) END);
	END LOOP;
END
$$;

-- policy (its indexes on report_key go with the column)
ALTER TABLE tlsrpt.policy ADD COLUMN report_no bigint;
UPDATE tlsrpt.policy p SET report_no = r.report_no,
    sts_mx = CASE WHEN p.sts_mx = p.mx_hosts THEN NULL ELSE p.sts_mx END
FROM tlsrpt.report r WHERE r.report_key = p.report_key;
DELETE FROM tlsrpt.policy WHERE report_no IS NULL;	-- of no report
ALTER TABLE tlsrpt.policy ALTER COLUMN report_no SET NOT NULL;
ALTER TABLE tlsrpt.policy DROP COLUMN report_key;
CREATE INDEX policy_report_no_idx ON tlsrpt.policy (report_no);
CREATE INDEX policy_domain_no_idx ON tlsrpt.policy (policy_domain,
    report_no);
CREATE INDEX policy_testing_domain_idx ON tlsrpt.policy (report_no)
    INCLUDE (policy_domain) WHERE sts_mode = 'testing';

-- failure_detail
ALTER TABLE tlsrpt.failure_detail ADD COLUMN report_no bigint;
UPDATE tlsrpt.failure_detail f SET report_no = r.report_no,
    sending_ip = CASE WHEN f.sending_ip =
    pg_catalog.host(f.sending_ip_inet) THEN NULL ELSE f.sending_ip END,
    receiving_ip = CASE WHEN f.receiving_ip =
    pg_catalog.host(f.receiving_ip_inet) THEN NULL ELSE f.receiving_ip END
FROM tlsrpt.report r WHERE r.report_key = f.report_key;
DELETE FROM tlsrpt.failure_detail WHERE report_no IS NULL;
ALTER TABLE tlsrpt.failure_detail ALTER COLUMN report_no SET NOT NULL;
ALTER TABLE tlsrpt.failure_detail DROP COLUMN report_key;
ALTER TABLE tlsrpt.failure_detail DROP COLUMN policy_domain;
CREATE INDEX failure_detail_report_no_idx ON tlsrpt.failure_detail
    (report_no);
COMMENT ON COLUMN tlsrpt.failure_detail.sending_ip IS
    'as sent; NULL when absent or equal to host(sending_ip_inet) (from 009)';
COMMENT ON COLUMN tlsrpt.failure_detail.receiving_ip IS
    'as sent; NULL when absent or equal to host(receiving_ip_inet) (from 009)';

-- report_raw: a body of no report has nothing to be read by
ALTER TABLE tlsrpt.report_raw ADD COLUMN report_no bigint;
UPDATE tlsrpt.report_raw w SET report_no = r.report_no
FROM tlsrpt.report r WHERE r.report_key = w.report_key;
DELETE FROM tlsrpt.report_raw WHERE report_no IS NULL;
ALTER TABLE tlsrpt.report_raw ALTER COLUMN report_no SET NOT NULL;
ALTER TABLE tlsrpt.report_raw DROP COLUMN report_key;
ALTER TABLE tlsrpt.report_raw ADD PRIMARY KEY (report_no, sha256);

-- arrival: NULL for a rejection and for a report that is gone
ALTER TABLE tlsrpt.arrival ADD COLUMN report_no bigint;
UPDATE tlsrpt.arrival a SET report_no = r.report_no
FROM tlsrpt.report r WHERE r.report_key = a.report_key;
ALTER TABLE tlsrpt.arrival DROP COLUMN report_key;
CREATE INDEX arrival_report_no_idx ON tlsrpt.arrival (report_no);
CREATE INDEX arrival_conflict_idx ON tlsrpt.arrival (report_no)
    WHERE note = 'conflicting copy';

COMMENT ON COLUMN tlsrpt.report_raw.body IS
    'the JSON packed: zlib with the preset dictionary of ingest/gzip_pack.c (from 009), gzip (008), the JSON itself (before)';
COMMENT ON COLUMN tlsrpt.policy.sts_mx IS
    'NULL when no sts policy was parsed (sts_version_ok NULL) or, from 009, when equal to mx_hosts';

-- 4. the rollup
ALTER TABLE tlsrpt.rollup DROP CONSTRAINT rollup_pkey;
CREATE INDEX rollup_domain_period_idx ON tlsrpt.rollup (policy_domain,
    period_start);

-- The advisory lock of a rollup group (the bigint key space; 007 and
-- migrate.c use the two-integer one).  Two groups with one key just
-- wait for each other.
CREATE FUNCTION tlsrpt.rollup_group_key(d text, s timestamptz, r text)
RETURNS bigint LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
	SELECT pg_catalog.hashtextextended(d || '/' || r,
	    pg_catalog.date_part('epoch', s)::bigint)
$$;

-- Lock the groups (d[i], s[i], r[i]) until the end of the transaction,
-- in the order of their keys.
CREATE FUNCTION tlsrpt.rollup_lock(d text[], s timestamptz[], r text[])
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
	k bigint;
BEGIN
	FOR k IN SELECT DISTINCT tlsrpt.rollup_group_key(g.d, g.s, g.r)
	    FROM unnest(d, s, r) AS g(d, s, r)
	    WHERE g.d IS NOT NULL ORDER BY 1 LOOP
		PERFORM pg_catalog.pg_advisory_xact_lock(k);
	END LOOP;
END
$$;

-- 006's functions on report_no (same signatures: k is the report key).
CREATE OR REPLACE FUNCTION tlsrpt.report_identity_of(k bytea)
RETURNS bytea LANGUAGE sql STABLE AS $$
	SELECT tlsrpt.report_identity(r.org_name, r.report_id, r.date_start,
	    r.date_end, ARRAY(SELECT p.policy_domain FROM tlsrpt.policy p
	    WHERE p.report_no = r.report_no AND p.domain_source = 'report'))
	FROM tlsrpt.report r WHERE r.report_key = k
$$;

CREATE OR REPLACE FUNCTION tlsrpt.report_rollup(k bytea)
RETURNS TABLE (policy_domain text, period_start timestamptz, reporter text,
    policy_type text, result_type text, mx_host text, reports bigint,
    successful_sessions bigint, failed_sessions bigint)
LANGUAGE sql STABLE AS $$
	SELECT p.policy_domain, r.date_start, r.reporter,
	    COALESCE((pg_catalog.array_agg(p.policy_type ORDER BY p.idx)
	    FILTER (WHERE p.counted AND
	    p.policy_type <> 'no-policy-found'))[1],
	    CASE WHEN pg_catalog.bool_or(p.counted AND
	    p.policy_type = 'no-policy-found') THEN 'no-policy-found' END,
	    (pg_catalog.array_agg(p.policy_type ORDER BY p.idx))[1]),
	    '', '', 1::bigint,
	    COALESCE(pg_catalog.sum(p.successful_sessions)
	    FILTER (WHERE p.counted), 0)::bigint,
	    COALESCE(pg_catalog.sum(p.failed_sessions)
	    FILTER (WHERE p.counted), 0)::bigint
	FROM tlsrpt.report r JOIN tlsrpt.policy p
	    ON p.report_no = r.report_no
	WHERE r.report_key = k
	GROUP BY p.policy_domain, r.date_start, r.reporter
	UNION ALL
	SELECT p.policy_domain, r.date_start, r.reporter, p.policy_type,
	    f.result_type,
	    pg_catalog.lower(COALESCE(f.receiving_mx, '') COLLATE "C"),
	    1::bigint, 0::bigint, pg_catalog.sum(f.failed_sessions)::bigint
	FROM tlsrpt.report r JOIN tlsrpt.policy p
	    ON p.report_no = r.report_no
	JOIN tlsrpt.failure_detail f ON f.report_no = p.report_no
	    AND f.policy_idx = p.idx
	WHERE r.report_key = k AND p.counted
	GROUP BY p.policy_domain, r.date_start, r.reporter, p.policy_type,
	    f.result_type,
	    pg_catalog.lower(COALESCE(f.receiving_mx, '') COLLATE "C")
$$;

-- Add (sign 1) or take away (sign -1) what report k adds to the rollup,
-- under the locks of its groups; rows left with no report are removed.
CREATE OR REPLACE FUNCTION tlsrpt.rollup_apply(k bytea, sign integer)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
	PERFORM tlsrpt.rollup_lock(pg_catalog.array_agg(c.policy_domain),
	    pg_catalog.array_agg(c.period_start),
	    pg_catalog.array_agg(c.reporter))
	FROM tlsrpt.report_rollup(k) c;
	IF sign > 0 THEN
		UPDATE tlsrpt.rollup u SET reports = u.reports + c.reports,
		    successful_sessions = u.successful_sessions +
		    c.successful_sessions,
		    failed_sessions = u.failed_sessions + c.failed_sessions
		FROM tlsrpt.report_rollup(k) c
		WHERE u.policy_domain = c.policy_domain
		    AND u.period_start = c.period_start
		    AND u.reporter = c.reporter
		    AND u.policy_type = c.policy_type
		    AND u.result_type = c.result_type
		    AND u.mx_host = c.mx_host;
		INSERT INTO tlsrpt.rollup (policy_domain, period_start,
		    reporter, policy_type, result_type, mx_host, reports,
		    successful_sessions, failed_sessions)
		SELECT c.policy_domain, c.period_start, c.reporter,
		    c.policy_type, c.result_type, c.mx_host, c.reports,
		    c.successful_sessions, c.failed_sessions
		FROM tlsrpt.report_rollup(k) c
		WHERE NOT EXISTS (SELECT 1 FROM tlsrpt.rollup u
		    WHERE u.policy_domain = c.policy_domain
		    AND u.period_start = c.period_start
		    AND u.reporter = c.reporter
		    AND u.policy_type = c.policy_type
		    AND u.result_type = c.result_type
		    AND u.mx_host = c.mx_host);
	ELSE
		UPDATE tlsrpt.rollup u SET reports = u.reports - c.reports,
		    successful_sessions = u.successful_sessions -
		    c.successful_sessions,
		    failed_sessions = u.failed_sessions - c.failed_sessions
		FROM tlsrpt.report_rollup(k) c
		WHERE u.policy_domain = c.policy_domain
		    AND u.period_start = c.period_start
		    AND u.reporter = c.reporter
		    AND u.policy_type = c.policy_type
		    AND u.result_type = c.result_type
		    AND u.mx_host = c.mx_host;
		DELETE FROM tlsrpt.rollup u USING tlsrpt.report_rollup(k) c
		WHERE u.policy_domain = c.policy_domain
		    AND u.period_start = c.period_start
		    AND u.reporter = c.reporter
		    AND u.policy_type = c.policy_type
		    AND u.result_type = c.result_type
		    AND u.mx_host = c.mx_host
		    AND u.reports <= 0;
	END IF;
END
$$;

CREATE OR REPLACE FUNCTION tlsrpt.report_fill_domains(k bytea,
    idxs integer[], doms text[], srcs text[], warns text[])
RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
	n integer;
	rno bigint;
BEGIN
	SELECT report_no INTO rno FROM tlsrpt.report WHERE report_key = k
	    FOR UPDATE;
	-- gone, or replaced by a concurrent importer that committed while
	-- we waited for the lock (READ COMMITTED skips the deleted row and
	-- cannot see the new one): the caller's batch tries again
	IF NOT FOUND THEN
		RAISE EXCEPTION 'report % changed meanwhile', k
		    USING ERRCODE = '40001';
	END IF;
	IF NOT EXISTS (SELECT 1 FROM tlsrpt.policy p,
	    unnest(idxs, doms) AS v(i, d)
	    WHERE p.report_no = rno AND p.idx = v.i AND p.policy_domain = ''
	    AND v.d <> '') THEN
		RETURN 0;
	END IF;
	PERFORM tlsrpt.rollup_apply(k, -1);
	UPDATE tlsrpt.policy p SET policy_domain = v.d, domain_source = v.s
	FROM unnest(idxs, doms, srcs) AS v(i, d, s)
	WHERE p.report_no = rno AND p.idx = v.i AND p.policy_domain = ''
	    AND v.d <> '';
	GET DIAGNOSTICS n = ROW_COUNT;
	-- ingest/report.c account(): per domain every no-policy-found entry
	-- plus every entry of the type with most sessions (ties: sts, tlsa,
	-- other)
	WITH s AS (
		SELECT policy_domain,
		    COALESCE(pg_catalog.sum(successful_sessions +
		    failed_sessions) FILTER (WHERE policy_type = 'sts'), 0)
		    AS sts,
		    COALESCE(pg_catalog.sum(successful_sessions +
		    failed_sessions) FILTER (WHERE policy_type = 'tlsa'), 0)
		    AS tlsa,
		    COALESCE(pg_catalog.sum(successful_sessions +
		    failed_sessions) FILTER (WHERE policy_type = 'other'), 0)
		    AS oth
		FROM tlsrpt.policy WHERE report_no = rno
		GROUP BY policy_domain),
	b AS (
		SELECT policy_domain, CASE
		    WHEN oth > GREATEST(sts, tlsa) THEN 'other'
		    WHEN tlsa > sts THEN 'tlsa' ELSE 'sts' END AS best
		FROM s)
	UPDATE tlsrpt.policy p SET counted =
	    (p.policy_type = 'no-policy-found' OR p.policy_type = b.best)
	FROM b WHERE p.report_no = rno AND p.policy_domain = b.policy_domain;
	UPDATE tlsrpt.report SET warnings = warnings || warns
	WHERE report_key = k;
	PERFORM tlsrpt.rollup_apply(k, 1);
	RETURN n;
END
$$;

-- Take report k's figures away (rollup included) before a trusted copy
-- of the same identity is stored in their place, under the same
-- report_no (store_put.c).  Raw bodies and arrivals stay.
CREATE OR REPLACE FUNCTION tlsrpt.report_unstore(k bytea)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
	rno bigint;
BEGIN
	SELECT report_no INTO rno FROM tlsrpt.report WHERE report_key = k
	    FOR UPDATE;
	-- as in report_fill_domains(): another importer replaced it first;
	-- going on would delete nothing but its report row and leave its
	-- policies beside ours under the same report_no
	IF NOT FOUND THEN
		RAISE EXCEPTION 'report % changed meanwhile', k
		    USING ERRCODE = '40001';
	END IF;
	PERFORM tlsrpt.rollup_apply(k, -1);
	DELETE FROM tlsrpt.failure_detail WHERE report_no = rno;
	DELETE FROM tlsrpt.policy WHERE report_no = rno;
	DELETE FROM tlsrpt.report WHERE report_key = k;
END
$$;
