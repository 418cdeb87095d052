-- 001_init.sql -- the first schema of tlsrpt-collector.
--
-- Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
--
-- Applied by store_migrate() inside one transaction that holds an advisory
-- lock; recorded in tlsrpt.schema_migration (created here).
--
-- Rules (DESIGN.md "Storage rules"):
-- * counts are bigint; IP addresses are kept as sent (text) and, when valid,
--   as inet;
-- * every PRIMARY KEY and UNIQUE constraint on report data includes a
--   report key or the policy domain, so that the tables can later be
--   distributed on Citus;
-- * domain names, reporters and result types compare byte-wise
--   (COLLATE "C"): the order people expect for them, and cheap to index;
-- * no foreign keys between the report tables: store_put_reports() is the
--   only writer and fills them in one transaction, and per-row RI triggers
--   would halve the COPY rate the import has to reach.

CREATE SCHEMA tlsrpt;

CREATE TABLE tlsrpt.schema_migration (
	version		integer PRIMARY KEY,
	name		text NOT NULL,
	applied_at	timestamptz NOT NULL DEFAULT pg_catalog.now()
);

-- One row per distinct report.  report_key is the dedup identity computed
-- by ingest over organization-name, report-id, date-range and the set of
-- policy domains; sha256 is the digest of the first stored content.
CREATE TABLE tlsrpt.report (
	report_key	bytea PRIMARY KEY
			CHECK (pg_catalog.octet_length(report_key) = 32),
	sha256		bytea NOT NULL
			CHECK (pg_catalog.octet_length(sha256) = 32),
	org_name	text NOT NULL,
	reporter	text NOT NULL,		-- org_name normalised, for grouping
	report_id	text NOT NULL,
	contact_info	text,
	date_start	timestamptz NOT NULL,
	date_end	timestamptz NOT NULL,
	warnings	text[] NOT NULL DEFAULT '{}',
	was_gzip	boolean NOT NULL,
	filename	text,
	hdr_domain	text,			-- TLS-Report-Domain
	hdr_submitter	text,			-- TLS-Report-Submitter
	subject		text,
	received_at	timestamptz NOT NULL	-- first arrival
);
CREATE INDEX report_date_start_idx ON tlsrpt.report (date_start);

-- The decompressed JSON of every distinct content seen for a report: the
-- first one, and each "same report, different content" variant.
CREATE TABLE tlsrpt.report_raw (
	report_key	bytea NOT NULL,
	sha256		bytea NOT NULL,
	body		bytea NOT NULL,
	PRIMARY KEY (report_key, sha256)
);

CREATE TABLE tlsrpt.policy (
	report_key	bytea NOT NULL,
	idx		integer NOT NULL,	-- position in the report
	policy_domain	text COLLATE "C" NOT NULL, -- '' when unknown
	policy_type	text NOT NULL CHECK (policy_type IN
			    ('sts', 'tlsa', 'no-policy-found', 'other')),
	policy_type_raw	text,			-- as sent
	domain_source	text NOT NULL CHECK (domain_source IN
			    ('report', 'header', 'filename', 'sibling',
			    'unknown')),
	policy_strings	text[] NOT NULL DEFAULT '{}',
	mx_hosts	text[] NOT NULL DEFAULT '{}',
	-- RFC 8461 policy parsed from an sts policy-string; NULL without one
	sts_version_ok	boolean,
	sts_mode	text CHECK (sts_mode IN
			    ('enforce', 'testing', 'none', 'invalid')),
	sts_max_age	bigint,
	sts_mx		text[],
	sts_problems	integer,		-- STS_P_* bits of ingest.h
	successful_sessions bigint NOT NULL CHECK (successful_sessions >= 0),
	failed_sessions	bigint NOT NULL CHECK (failed_sessions >= 0),
	counted		boolean NOT NULL,	-- in the session accounting set
	PRIMARY KEY (report_key, idx)
);
CREATE INDEX policy_domain_idx ON tlsrpt.policy (policy_domain);

CREATE TABLE tlsrpt.failure_detail (
	report_key	bytea NOT NULL,
	policy_idx	integer NOT NULL,
	idx		integer NOT NULL,
	policy_domain	text COLLATE "C" NOT NULL,
	result_type	text NOT NULL,		-- as sent
	result_known	boolean NOT NULL,	-- an RFC 8460 §4.3 value
	sending_ip	text,			-- as sent
	sending_ip_inet	inet,			-- NULL when not an IP
	receiving_ip	text,
	receiving_ip_inet inet,
	receiving_mx	text,			-- receiving-mx-hostname
	receiving_helo	text,
	additional_info	text,
	reason_code	text,			-- failure-reason-code
	failed_sessions	bigint NOT NULL CHECK (failed_sessions >= 0),
	PRIMARY KEY (report_key, policy_idx, idx)
);

-- Every arrival of a payload, whatever became of it.
CREATE TABLE tlsrpt.arrival (
	arrival_id	bigint GENERATED ALWAYS AS IDENTITY (CACHE 1000)
			PRIMARY KEY,	-- not report data: an ingest log
	received_at	timestamptz NOT NULL,
	source		text NOT NULL,		-- file, stdin, mail, https
	origin		text,			-- file name or peer
	outcome		text NOT NULL CHECK (outcome IN
			    ('stored', 'duplicate', 'rejected')),
	report_key	bytea,			-- NULL when rejected
	sha256		bytea NOT NULL,		-- of the content (raw if rejected)
	reason		text,			-- why it was rejected
	note		text			-- e.g. 'same report, different content'
);
CREATE INDEX arrival_report_key_idx ON tlsrpt.arrival (report_key);
CREATE INDEX arrival_received_at_idx ON tlsrpt.arrival (received_at);

-- Payloads that are not reports, with (at most a bounded prefix of) their
-- bytes, so that a parser fix can replay them.
CREATE TABLE tlsrpt.rejection (
	rejection_id	bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	received_at	timestamptz NOT NULL,
	source		text NOT NULL,
	origin		text,
	reason		text NOT NULL,
	sha256		bytea NOT NULL,		-- of all raw_len bytes
	raw		bytea NOT NULL,		-- the first bytes only
	raw_len		bigint NOT NULL
);
CREATE INDEX rejection_received_at_idx ON tlsrpt.rejection (received_at);

-- Kept current by store_put_reports() in the transaction that inserts the
-- reports, so that summaries over months read a few rows per report and
-- no join.  It holds the counted set only (the session accounting rule of
-- DESIGN.md, applied by ingest: policy.counted); a policy left out by the
-- rule describes sessions already counted and stays in tlsrpt.policy.
-- Per (report, policy domain) it adds:
-- * one totals row (result_type '', mx_host ''): reports 1, and the
--   successful and failed sessions of the counted policies; policy_type
--   is the type the rule chose (sts, tlsa, other), no-policy-found when
--   the report has nothing else for the domain;
-- * per (policy type, result type, MX) of the counted policies' failure
--   details, one row with their failed sessions (successful 0) and
--   reports 1.  mx_host is the lower-cased receiving-mx-hostname, '' when
--   absent.
-- Rows with the same key add up.  So per domain over a window: reports
-- and sessions are sums over totals rows, reporters counts their
-- distinct reporters, and failed sessions per result type are sums over
-- the other rows.
CREATE TABLE tlsrpt.rollup (
	policy_domain	text COLLATE "C" NOT NULL,
	period_start	timestamptz NOT NULL,	-- the report's date-range start
	reporter	text COLLATE "C" NOT NULL,
	policy_type	text COLLATE "C" NOT NULL,
	result_type	text COLLATE "C" NOT NULL, -- '' for the totals rows
	mx_host		text COLLATE "C" NOT NULL, -- '' for totals or unknown
	reports		bigint NOT NULL,
	successful_sessions bigint NOT NULL,
	failed_sessions	bigint NOT NULL,
	PRIMARY KEY (policy_domain, period_start, reporter, policy_type,
	    result_type, mx_host)
) WITH (fillfactor = 90);		-- room for HOT updates of the sums
-- Summaries of all domains over a window.  Failure rows are read by a
-- scan (or the primary key when domains are named): an index on them
-- would cost every import more than it saves.
CREATE INDEX rollup_totals_idx ON tlsrpt.rollup (period_start)
	WHERE result_type = '';
