-- 010_live_check.sql -- the stored results of `tlsrpt check --store`
-- (issue 11 item 4: the dashboard's domain page shows the last check).
--
-- Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
--
-- What: one row per check of one domain: when it ran, its verdict (the
-- worst severity of its findings, and how many critical and warning
-- findings), whether and over how many days it was held against the
-- stored reports, and the check itself, the JSON object `tlsrpt check
-- --format json` prints for the domain (domain, result, sts_id, policy,
-- rua, mx, findings), as jsonb.
--
-- Why: reports say what senders saw yesterday; the live check says what
-- is published now.  `tlsrpt check` is run from cron or a timer (README,
-- "The live setup"); tlsrpt-web, read only and never on the network
-- itself, shows the last stored one of a domain (web/web_page_check.c).
--
-- Bounded: store/store_check.c keeps the newest LIM_LIVE_CHECKS_KEPT
-- (common/tlsrpt_limits.h) rows per domain, deleting the older ones in
-- the transaction that inserts a check, under a per-domain advisory
-- lock so two concurrent checks of one domain keep the bound; `tlsrpt
-- prune --older-than DAYS` also removes the checks made before its
-- cutoff.
--
-- Domains are referenced by name (lower case, no trailing dot, as
-- `tlsrpt check` writes them and as tlsrpt.policy.policy_domain holds
-- them), not by report keys: a check exists without any report.  The
-- primary key starts with the domain (DESIGN.md, Storage rules: the
-- Citus path), and its index is also the one the dashboard reads (the
-- newest check of a domain: a backward scan) and the one retention uses.
-- checked_at is indexed on its own for prune.
--
-- Live databases: a new table and its indexes, nothing else is touched:
-- the migration takes no lock on an existing table and runs at once
-- beside ingest.

CREATE TABLE tlsrpt.live_check (
	domain		text NOT NULL CHECK (domain <> ''),
	checked_at	timestamptz NOT NULL,
	check_id	bigint GENERATED ALWAYS AS IDENTITY,
	result		text NOT NULL
	    CHECK (result IN ('ok', 'warning', 'critical')),
	critical	integer NOT NULL CHECK (critical >= 0),
	warnings	integer NOT NULL CHECK (warnings >= 0),
	-- NULL: not held against the reports (no database when it ran);
	-- else the --days of the comparison
	report_days	integer CHECK (report_days > 0),
	check_json	jsonb NOT NULL CHECK (jsonb_typeof(check_json) = 'object'),
	PRIMARY KEY (domain, checked_at, check_id)
);
CREATE INDEX live_check_checked_at_idx ON tlsrpt.live_check (checked_at);
-- Each role gets on the new table what it has on tlsrpt.report (README
-- "The database user": tlsrpt-web's reader SELECT, a writer the rest)
-- and, with INSERT, the identity's sequence: a GRANT ... ON ALL TABLES
-- made before 010 did not cover it.
DO $$
DECLARE
	g record;
	who text;
BEGIN
	FOR g IN SELECT a.grantee, a.privilege_type
	    FROM pg_catalog.pg_class c, pg_catalog.aclexplode(c.relacl) a
	    WHERE c.oid = 'tlsrpt.report'::regclass
	    AND a.privilege_type IN ('SELECT', 'INSERT', 'UPDATE', 'DELETE')
	    AND a.grantee <> c.relowner LOOP
		who := CASE WHEN g.grantee = 0 THEN 'PUBLIC' ELSE
		    pg_catalog.quote_ident(pg_catalog.pg_get_userbyid(
		    g.grantee)) END;
		EXECUTE pg_catalog.format('GRANT %s ON tlsrpt.live_check TO '
		    '%s', g.privilege_type, who);
		IF g.privilege_type = 'INSERT' THEN
			EXECUTE pg_catalog.format('GRANT USAGE, SELECT ON '
			    'SEQUENCE %s TO %s', pg_catalog.pg_get_serial_sequence(
			    'tlsrpt.live_check', 'check_id'), who);
		END IF;
	END LOOP;
END
$$;

COMMENT ON TABLE tlsrpt.live_check IS
    'tlsrpt check --store: the newest checks of each domain (010)';
COMMENT ON COLUMN tlsrpt.live_check.check_json IS
    'the domain object of tlsrpt check --format json';
