-- 003_report_queries.sql -- what `tlsrpt failures`, `readiness` and
-- `digest` need to answer in under a second over a million reports
-- (make bench: tests/bench/bench_query.sh).
--
-- Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
--
-- The digest reads the rollup's failure rows of one period for every
-- domain, twice (this period and the previous one).  Without an index
-- that is a scan of the whole rollup each time (0.15 s per million
-- reports, growing with the history kept); with this partial index it
-- reads the period's rows only.  It costs the import one more index
-- entry per failure row, and failure rows are the minority (a clean
-- report adds none).
CREATE INDEX rollup_failures_idx ON tlsrpt.rollup (period_start)
	WHERE result_type <> '';

-- The digest looks for the domains whose senders applied a policy in mode
-- testing over its period.  Policies in testing are a minority (a domain
-- passes through it on the way to enforce); this index lets the join hash
-- just them instead of every policy ever stored.
CREATE INDEX policy_testing_idx ON tlsrpt.policy (report_key)
	WHERE sts_mode = 'testing';

-- Readiness (and the digest, for every domain in mode testing) reads the
-- policies of a few domains over a few days out of their whole history.
-- With report_key in the index, the window's reports are matched from
-- the index alone and only their policies are read from the table.  It
-- replaces 001's index on policy_domain, which it serves as well, so the
-- import maintains no more indexes than before.
CREATE INDEX policy_domain_key_idx ON tlsrpt.policy (policy_domain,
	report_key);
DROP INDEX tlsrpt.policy_domain_idx;
