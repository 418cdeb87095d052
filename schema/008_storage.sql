-- 008_storage.sql -- fewer bytes per stored report (issue 12 item 9).
--
-- Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
--
-- Measured by `make bench` (tests/bench/bench_storage.sh) over 10,000
-- typical reports (2 policies, 5 failure details, 1.9 KB of JSON):
--
-- 1. tlsrpt.report_raw.body holds the gzip of the JSON (RFC 1952, level
--    1, store/store_put.c raw_body()): 0.7 KB where the JSON took 1.4 KB
--    (PostgreSQL's own compression, pglz or lz4, keeps 1.25 KB of it:
--    no entropy coding).  Rows stored before 008 keep their JSON; the
--    two are told apart by the gzip magic (JSON never starts with 1f 8b).
--    STORAGE EXTERNAL: a body that goes to TOAST (over 2 KB of gzip) is
--    not compressed again, which would cost CPU for nothing.
--    To read one: psql -XAtc "SELECT encode(body, 'base64') FROM
--    tlsrpt.report_raw WHERE ..." | base64 -d | gzip -dc
-- 2. The primary keys of tlsrpt.failure_detail (report_key, policy_idx,
--    idx) and tlsrpt.policy (report_key, idx) become plain indexes on
--    report_key.  Every query reaches these rows by report_key (the
--    joins of summary --trusted-only, failures and readiness, prune's
--    deletes, 006's functions) and filters idx from the heap page it
--    reads anyway; nothing ever looked a row up by the whole key and
--    nothing inserts with ON CONFLICT on them.  A unique index cannot
--    deduplicate; a plain one stores each key once per page with a list
--    of its rows, so the 5 details of a report cost one 32-byte key, not
--    five.  Uniqueness was and stays the job of the one writer: the rows
--    of a report are COPYed once, in the transaction that inserts its
--    tlsrpt.report row, whose primary key stays.  (A logical replica
--    needs REPLICA IDENTITY FULL on these two tables now; a streaming
--    replica, the read-only one of README "Scaling out", needs nothing.)
-- 3. tlsrpt.rollup at fillfactor 100: the 10% 001 kept free per page for
--    HOT updates of the sums served rows that are rarely updated (a
--    reporter sends one report per domain and day).  New pages only.
--
-- Live databases: one transaction (store/migrate.c).  It first takes
-- SHARE locks on policy and failure_detail in the order an import
-- batch writes them (store_rows.c: policy, then failure_detail), so it
-- waits for a running batch instead of deadlocking with it; importers
-- wait meanwhile, queries go on while the two indexes are built.  Only
-- then the ACCESS EXCLUSIVE of the ALTERs, held for the short rest of
-- the transaction (dropping a constraint reads no rows).  lock_timeout
-- keeps a lock from queueing behind a long transaction; on timeout the
-- whole migration rolls back and `tlsrpt migrate` can be run again.

SET LOCAL lock_timeout = '30s';

LOCK TABLE tlsrpt.policy, tlsrpt.failure_detail IN SHARE MODE;
CREATE INDEX policy_report_key_idx ON tlsrpt.policy (report_key);
CREATE INDEX failure_detail_report_key_idx ON tlsrpt.failure_detail
    (report_key);
ALTER TABLE tlsrpt.policy DROP CONSTRAINT policy_pkey;
ALTER TABLE tlsrpt.failure_detail DROP CONSTRAINT failure_detail_pkey;

ALTER TABLE tlsrpt.report_raw ALTER COLUMN body SET STORAGE EXTERNAL;
COMMENT ON COLUMN tlsrpt.report_raw.body IS
    'gzip of the report JSON (from 008); JSON itself when it does not start with 1f 8b';

ALTER TABLE tlsrpt.rollup SET (fillfactor = 100);
