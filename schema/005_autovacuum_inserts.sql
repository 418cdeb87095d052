-- 005_autovacuum_inserts.sql -- keep the visibility map of the report
-- tables current as reports are inserted.
--
-- Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
--
-- The readiness and digest queries (store/store_report.c) read the policy
-- and report tables by index-only scans, which only skip the heap for
-- pages marked all-visible.  Reports are only ever inserted, so the pages
-- are marked by the insert-driven autovacuum, by default once 20% of a
-- table is new; at 1% the newest reports stay cheap to query too.

ALTER TABLE tlsrpt.report SET (autovacuum_vacuum_insert_scale_factor = 0.01);
ALTER TABLE tlsrpt.policy SET (autovacuum_vacuum_insert_scale_factor = 0.01);
ALTER TABLE tlsrpt.rollup SET (autovacuum_vacuum_insert_scale_factor = 0.01);
