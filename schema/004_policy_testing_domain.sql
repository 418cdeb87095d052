-- 004_policy_testing_domain.sql -- the digest's domains in mode testing
-- from the index alone (issue 5: `tlsrpt digest` in under a second over
-- a million reports; make bench-query).
--
-- Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
--
-- The digest asks which domains had a policy in mode testing applied
-- over its period: the window's reports (report_date_start_idx) hashed
-- against the policies in testing.  003's policy_testing_idx found those
-- policies, but the domain had to be read from the table, one heap page
-- per policy of the whole history (0.3 s of the digest per million
-- reports, growing with the history kept).  With the domain in the index
-- an index-only scan answers.  It replaces policy_testing_idx, so the
-- import keeps the same number of index entries, one per policy in
-- testing (a minority), a few bytes wider.
CREATE INDEX policy_testing_domain_idx ON tlsrpt.policy (report_key)
	INCLUDE (policy_domain) WHERE sts_mode = 'testing';
DROP INDEX tlsrpt.policy_testing_idx;
