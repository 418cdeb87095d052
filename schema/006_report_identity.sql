-- 006_report_identity.sql -- one report, one set of figures, whatever the
-- transport (issue 13), and identity collisions resolved by trust (issue 8).
--
-- Until 005 the dedup identity (report_key) was computed over the policy
-- domains *after* the fallback inference (TLS-Report-Domain, file name),
-- so the same report by HTTPS (no header) and by mail got two keys and
-- was stored twice.  From 006 on, ingest/report.c computes it from the
-- body alone; tlsrpt.report_identity() below is the same computation in
-- SQL.  This migration:
--
--  1. creates the functions the store uses to move figures (below);
--  2. re-keys every stored report that has a policy whose domain did not
--     come from the body (only those can change key), merging the copies
--     that now collide: one survives (trusted first, then the first
--     received), the others' rollup contribution is subtracted, their
--     rows deleted, their raw bodies and arrivals moved to the survivor
--     (arrivals stay, marked 'merged by migration 006'); a survivor
--     policy whose domain is unknown takes the domain a merged copy had
--     inferred, with a warning, and its figures move in the rollup;
--  3. adds report.figures, 'report-id' as a domain source, and an index
--     for the conflicting copies;
--  4. gives the stored policies still without a domain the one their
--     report-id carries (sys4's ..._idx<N>_<domain>), as a new arrival
--     would get it.
--
-- Live databases: store_migrate() runs this in one transaction.  The
-- re-keying takes SHARE ROW EXCLUSIVE on tlsrpt.report first (queries go
-- on; importers wait, and retry on lock_timeout, losing nothing) and
-- touches the affected reports only: a scan of tlsrpt.policy, then a few
-- statements per affected report (Postfix/sys4 reports, typically a small
-- share).  The statements that need ACCESS EXCLUSIVE (ADD COLUMN, the
-- CHECK of policy.domain_source, added NOT VALID so that no scan runs
-- under that lock) come last, so that lock is held only until COMMIT.
-- lock_timeout keeps it from queueing for long behind a running
-- transaction and blocking everyone: on timeout the migration rolls back
-- whole and `tlsrpt migrate` can simply be run again.

SET LOCAL lock_timeout = '30s';

-- The identity of ingest/report.c make_key(): sha256 of
--   org NUL report-id NUL int8(start) int8(end) (domain NUL)*
-- the domains distinct and sorted byte-wise; ints big-endian (int8send).
CREATE FUNCTION tlsrpt.report_identity(org text, rid text,
    s timestamptz, e timestamptz, doms text[])
RETURNS bytea LANGUAGE sql STABLE PARALLEL SAFE AS $$
	SELECT pg_catalog.sha256(
	    pg_catalog.convert_to(org, 'UTF8') || '\x00'::bytea ||
	    pg_catalog.convert_to(rid, 'UTF8') || '\x00'::bytea ||
	    pg_catalog.int8send(EXTRACT(epoch FROM s)::bigint) ||
	    pg_catalog.int8send(EXTRACT(epoch FROM e)::bigint) ||
	    COALESCE((SELECT pg_catalog.string_agg(b, ''::bytea ORDER BY b)
	    FROM (SELECT DISTINCT pg_catalog.convert_to(d, 'UTF8') ||
	    '\x00'::bytea AS b FROM pg_catalog.unnest(doms) AS u(d)
	    WHERE d IS NOT NULL) AS x), ''::bytea))
$$;

-- The identity of a stored report, from its row and the domains its body
-- gave (domain_source 'report').
CREATE FUNCTION tlsrpt.report_identity_of(k bytea)
RETURNS bytea LANGUAGE sql STABLE AS $$
	SELECT tlsrpt.report_identity(r.org_name, r.report_id, r.date_start,
	    r.date_end, ARRAY(SELECT p.policy_domain FROM tlsrpt.policy p
	    WHERE p.report_key = r.report_key AND p.domain_source = 'report'))
	FROM tlsrpt.report r WHERE r.report_key = k
$$;

-- What one stored report adds to tlsrpt.rollup: the rows store_put.c
-- rollup_build() makes for it (rules in 001_init.sql), from the base
-- tables.  Per domain one totals row (type: the first counted policy
-- other than no-policy-found, else no-policy-found, else the first
-- policy's), per (counted policy type, result type, MX) one failure row.
CREATE FUNCTION tlsrpt.report_rollup(k bytea)
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
	    ON p.report_key = r.report_key
	WHERE r.report_key = k
	GROUP BY p.policy_domain, r.date_start, r.reporter
	UNION ALL
	SELECT p.policy_domain, r.date_start, r.reporter, p.policy_type,
	    f.result_type,
	    pg_catalog.lower(COALESCE(f.receiving_mx, '') COLLATE "C"),
	    1::bigint, 0::bigint, pg_catalog.sum(f.failed_sessions)::bigint
	FROM tlsrpt.report r JOIN tlsrpt.policy p
	    ON p.report_key = r.report_key
	JOIN tlsrpt.failure_detail f ON f.report_key = p.report_key
	    AND f.policy_idx = p.idx
	WHERE r.report_key = k AND p.counted
	GROUP BY p.policy_domain, r.date_start, r.reporter, p.policy_type,
	    f.result_type,
	    pg_catalog.lower(COALESCE(f.receiving_mx, '') COLLATE "C")
$$;

-- Add (sign 1) or take away (sign -1) what report k adds to the rollup;
-- rows left with no report are removed.  Rows in key order, as
-- store_put.c writes them, so that two writers lock them in one order.
CREATE FUNCTION tlsrpt.rollup_apply(k bytea, sign integer)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
	IF sign > 0 THEN
		INSERT INTO tlsrpt.rollup AS u (policy_domain, period_start,
		    reporter, policy_type, result_type, mx_host, reports,
		    successful_sessions, failed_sessions)
		SELECT c.policy_domain, c.period_start, c.reporter,
		    c.policy_type, c.result_type, c.mx_host, c.reports,
		    c.successful_sessions, c.failed_sessions
		FROM tlsrpt.report_rollup(k) c
		ORDER BY c.policy_domain COLLATE "C", c.period_start,
		    c.reporter COLLATE "C", c.policy_type COLLATE "C",
		    c.result_type COLLATE "C", c.mx_host COLLATE "C"
		ON CONFLICT (policy_domain, period_start, reporter,
		    policy_type, result_type, mx_host) DO UPDATE SET
		    reports = u.reports + EXCLUDED.reports,
		    successful_sessions = u.successful_sessions +
		    EXCLUDED.successful_sessions,
		    failed_sessions = u.failed_sessions +
		    EXCLUDED.failed_sessions;
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

-- A later copy of report k names the domains its stored policies lack:
-- policies idxs[i] whose domain is unknown ('') take doms[i] (source
-- srcs[i]), warns are appended to the report's warnings, the session
-- accounting is redone per domain (DESIGN.md) and the report's figures
-- move in the rollup.  Returns the number of policies filled in (0: the
-- stored copy knew them already, nothing changed).
CREATE FUNCTION tlsrpt.report_fill_domains(k bytea, idxs integer[],
    doms text[], srcs text[], warns text[])
RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
	n integer;
BEGIN
	PERFORM 1 FROM tlsrpt.report WHERE report_key = k FOR UPDATE;
	IF NOT EXISTS (SELECT 1 FROM tlsrpt.policy p,
	    unnest(idxs, doms) AS v(i, d)
	    WHERE p.report_key = k AND p.idx = v.i AND p.policy_domain = ''
	    AND v.d <> '') THEN
		RETURN 0;
	END IF;
	PERFORM tlsrpt.rollup_apply(k, -1);
	UPDATE tlsrpt.policy p SET policy_domain = v.d, domain_source = v.s
	FROM unnest(idxs, doms, srcs) AS v(i, d, s)
	WHERE p.report_key = k AND p.idx = v.i AND p.policy_domain = ''
	    AND v.d <> '';
	GET DIAGNOSTICS n = ROW_COUNT;
	UPDATE tlsrpt.failure_detail f SET policy_domain = p.policy_domain
	FROM tlsrpt.policy p
	WHERE f.report_key = k AND p.report_key = k AND f.policy_idx = p.idx
	    AND f.policy_domain <> p.policy_domain;
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
		FROM tlsrpt.policy WHERE report_key = k
		GROUP BY policy_domain),
	b AS (
		SELECT policy_domain, CASE
		    WHEN oth > GREATEST(sts, tlsa) THEN 'other'
		    WHEN tlsa > sts THEN 'tlsa' ELSE 'sts' END AS best
		FROM s)
	UPDATE tlsrpt.policy p SET counted =
	    (p.policy_type = 'no-policy-found' OR p.policy_type = b.best)
	FROM b WHERE p.report_key = k AND p.policy_domain = b.policy_domain;
	UPDATE tlsrpt.report SET warnings = warnings || warns
	WHERE report_key = k;
	PERFORM tlsrpt.rollup_apply(k, 1);
	RETURN n;
END
$$;

-- Take report k's figures away (rollup included) before a trusted copy
-- of the same identity is stored in their place (store_put.c), or when
-- a copy is merged into another (below).  raw bodies and arrivals stay.
CREATE FUNCTION tlsrpt.report_unstore(k bytea)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
	PERFORM 1 FROM tlsrpt.report WHERE report_key = k FOR UPDATE;
	PERFORM tlsrpt.rollup_apply(k, -1);
	DELETE FROM tlsrpt.failure_detail WHERE report_key = k;
	DELETE FROM tlsrpt.policy WHERE report_key = k;
	DELETE FROM tlsrpt.report WHERE report_key = k;
END
$$;

-- The policy domain a report-id carries, as ingest/report.c id_domain()
-- reads it (sys4 ..._idx<N>_<domain>, Google <date>_<domain>, Microsoft
-- <digits>+<domain>, mox <YYYYMMDD>.<domain>@<sender>), in lower case
-- without trailing dots; NULL when it has none of these shapes or the
-- rest is not a host name of two labels or more.
CREATE FUNCTION tlsrpt.report_id_domain(rid text)
RETURNS text LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
	SELECT CASE WHEN c ~ '^[A-Za-z0-9][A-Za-z0-9-]*([.][A-Za-z0-9-]+)+$'
	    THEN pg_catalog.lower(c COLLATE "C") END
	FROM (SELECT pg_catalog.rtrim(CASE
	    WHEN rid ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z_'
	    THEN pg_catalog.regexp_replace(pg_catalog.substr(rid, 22),
	    '^idx[0-9]+_', '')
	    WHEN rid ~ '^[0-9]+[+]' THEN pg_catalog.substring(rid,
	    '^[0-9]+[+](.*)$')
	    WHEN rid ~ '^[0-9]{8}[.][^@]*@' THEN pg_catalog.substring(rid,
	    '^[0-9]{8}[.]([^@]*)@')
	    END, '.') AS c) AS x
$$;

-- 2. Re-key.  Only a report with a policy whose domain did not come from
-- the body can have a new identity.
LOCK TABLE tlsrpt.report IN SHARE ROW EXCLUSIVE MODE;

CREATE TEMPORARY TABLE tlsrpt_rekey ON COMMIT DROP AS
SELECT r.report_key AS old_key, tlsrpt.report_identity_of(r.report_key)
    AS new_key, r.trusted, r.received_at
FROM tlsrpt.report r
WHERE r.report_key IN (SELECT p.report_key FROM tlsrpt.policy p
    WHERE p.domain_source <> 'report');
-- a report already stored under a new identity belongs to its group
INSERT INTO tlsrpt_rekey
SELECT r.report_key, r.report_key, r.trusted, r.received_at
FROM tlsrpt.report r
WHERE r.report_key IN (SELECT new_key FROM tlsrpt_rekey)
    AND r.report_key NOT IN (SELECT old_key FROM tlsrpt_rekey);

DO $$
DECLARE
	g record;
	m record;
	keep bytea;
	f record;
	n integer := 0;
BEGIN
	FOR g IN SELECT new_key FROM tlsrpt_rekey GROUP BY new_key
	    HAVING pg_catalog.count(*) > 1 LOOP
		SELECT old_key INTO keep FROM tlsrpt_rekey
		WHERE new_key = g.new_key
		ORDER BY (trusted IS TRUE) DESC, received_at, old_key
		LIMIT 1;
		FOR m IN SELECT old_key FROM tlsrpt_rekey
		    WHERE new_key = g.new_key AND old_key <> keep
		    ORDER BY received_at, old_key LOOP
			-- the domains the merged copy inferred
			SELECT pg_catalog.array_agg(p.idx ORDER BY p.idx) AS i,
			    pg_catalog.array_agg(p.policy_domain ORDER BY p.idx)
			    AS d,
			    pg_catalog.array_agg(p.domain_source ORDER BY p.idx)
			    AS s,
			    pg_catalog.array_agg('policy-domain-filled: policies['
			    || p.idx || ']: "' || p.policy_domain || '" taken'
			    || ' from a copy merged by migration 006 (' ||
			    p.domain_source || ')' ORDER BY p.idx) AS w
			INTO f
			FROM tlsrpt.policy p JOIN tlsrpt.policy q
			    ON q.report_key = keep AND q.idx = p.idx
			WHERE p.report_key = m.old_key AND p.policy_domain <> ''
			    AND q.policy_domain = '';
			IF f.i IS NOT NULL THEN
				PERFORM tlsrpt.report_fill_domains(keep, f.i,
				    f.d, f.s, f.w);
			END IF;
			PERFORM tlsrpt.report_unstore(m.old_key);
			INSERT INTO tlsrpt.report_raw (report_key, sha256, body)
			SELECT keep, sha256, body FROM tlsrpt.report_raw
			WHERE report_key = m.old_key
			ON CONFLICT (report_key, sha256) DO NOTHING;
			DELETE FROM tlsrpt.report_raw
			WHERE report_key = m.old_key;
			UPDATE tlsrpt.arrival SET report_key = keep,
			    outcome = CASE WHEN outcome = 'stored' THEN
			    'duplicate' ELSE outcome END,
			    note = COALESCE(note || '; ', '') ||
			    'merged by migration 006'
			WHERE report_key = m.old_key;
			DELETE FROM tlsrpt_rekey WHERE old_key = m.old_key;
			n := n + 1;
		END LOOP;
	END LOOP;
	-- every group has one report left: give it its new identity
	FOR g IN SELECT old_key, new_key FROM tlsrpt_rekey
	    WHERE old_key <> new_key LOOP
		UPDATE tlsrpt.report SET report_key = g.new_key
		WHERE report_key = g.old_key;
		UPDATE tlsrpt.report_raw SET report_key = g.new_key
		WHERE report_key = g.old_key;
		UPDATE tlsrpt.policy SET report_key = g.new_key
		WHERE report_key = g.old_key;
		UPDATE tlsrpt.failure_detail SET report_key = g.new_key
		WHERE report_key = g.old_key;
		UPDATE tlsrpt.arrival SET report_key = g.new_key
		WHERE report_key = g.old_key;
	END LOOP;
	IF n > 0 THEN
		RAISE NOTICE 'migration 006: % copies merged', n;
	END IF;
END
$$;

-- Stored policies still without a domain whose report-id tells it (a
-- Postfix report that came by HTTPS only) take it below, as a new arrival
-- would; found here, before the ACCESS EXCLUSIVE locks of step 3.
CREATE TEMPORARY TABLE tlsrpt_byid ON COMMIT DROP AS
SELECT p.report_key, tlsrpt.report_id_domain(t.report_id) AS d,
    pg_catalog.array_agg(p.idx ORDER BY p.idx) AS i
FROM tlsrpt.policy p JOIN tlsrpt.report t ON t.report_key = p.report_key
WHERE p.domain_source = 'unknown' AND p.policy_domain = ''
    AND tlsrpt.report_id_domain(t.report_id) IS NOT NULL
GROUP BY p.report_key, t.report_id;

-- 3. What the new code writes.  report.figures: ingest/report.c
-- make_figures(), NULL for reports stored before 006 (then copies are
-- compared by their content digest only).
ALTER TABLE tlsrpt.report ADD COLUMN figures bytea
    CHECK (figures IS NULL OR pg_catalog.octet_length(figures) = 32);
ALTER TABLE tlsrpt.policy DROP CONSTRAINT policy_domain_source_check;
ALTER TABLE tlsrpt.policy ADD CONSTRAINT policy_domain_source_check
    CHECK (domain_source IN ('report', 'header', 'filename', 'sibling',
    'unknown', 'report-id')) NOT VALID;
-- `conflicting_copies` of summary and failures: the rare arrivals that
-- differed from the stored copy and did not replace it
CREATE INDEX arrival_conflict_idx ON tlsrpt.arrival (report_key)
    WHERE note = 'conflicting copy';

-- 4. The report-id domains found above (the CHECK now takes
-- 'report-id'); a few statements per report.
DO $$
DECLARE
	r record;
BEGIN
	FOR r IN SELECT report_key, d, i FROM tlsrpt_byid LOOP
		PERFORM tlsrpt.report_fill_domains(r.report_key, r.i,
		    pg_catalog.array_fill(r.d,
		    ARRAY[pg_catalog.cardinality(r.i)]),
		    pg_catalog.array_fill('report-id'::text,
		    ARRAY[pg_catalog.cardinality(r.i)]),
		    ARRAY(SELECT 'policy-domain-filled: policies[' || x ||
		    ']: "' || r.d || '" taken from the report-id by migration'
		    ' 006' FROM pg_catalog.unnest(r.i) AS u(x)));
	END LOOP;
END
$$;
