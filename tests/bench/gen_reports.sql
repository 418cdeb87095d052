-- gen_reports.sql -- the generated reports of the query, prune and web
-- benches (tests/bench/bench_query.sh, bench_prune.sh, bench_web.sh),
-- written with SQL straight into tlsrpt.report, tlsrpt.policy,
-- tlsrpt.failure_detail and tlsrpt.rollup, in the shape
-- store_put_reports() writes them:
--   - :ndom domains d00000.example ..., :n reports, one per domain and
--     day from 2026-01-01, from 5 reporters in turn;
--   - one counted sts policy per report, 1000 successful sessions; every
--     domain ending in 0 is in mode testing, the others in enforce;
--   - one report in 5 has 2 failure details (starttls-not-supported at
--     mx1, certificate-expired at mx2; 3 and 2 sessions) and its rollup
--     failure rows.
-- Leaves the temporary table g (i, d, key, dom, rep, ds, fails, mode),
-- one row a report (its report_no is i + 1), for what a caller adds in
-- the same session.
--
-- Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
--
-- Usage: psql -v n=N -v ndom=D -f gen_reports.sql [-f more.sql]

SET synchronous_commit = off;
CREATE TEMPORARY TABLE g AS
SELECT i, i % :ndom AS d,
    pg_catalog.sha256(pg_catalog.convert_to('r' || i, 'UTF8')) AS key,
    pg_catalog.format('d%s.example', pg_catalog.lpad((i % :ndom)::text,
	5, '0')) AS dom,
    (ARRAY['google.com', 'microsoft corporation', 'mail.ru', 'yahoo',
	'comcast'])[1 + ((i % :ndom) + i / :ndom) % 5] AS rep,
    '2026-01-01T00:00:00Z'::timestamptz + (i / :ndom) * interval '1 day'
	AS ds,
    (i % 5 = 0) AS fails,
    CASE WHEN i % 10 = 0 THEN 'testing' ELSE 'enforce' END AS mode
FROM pg_catalog.generate_series(0, :n - 1) AS i;

-- schema 009: the other tables hang off report_no (here i + 1), the IP
-- text is NULL when canonical, sts_mx NULL when it is mx_hosts
INSERT INTO tlsrpt.report (report_no, report_key, sha256, org_name,
    reporter, report_id, contact_info, date_start, date_end, was_gzip,
    received_at)
SELECT i + 1, key, key, rep, rep, 'id' || i, 'tlsrpt@' || rep, ds,
    ds + interval '1 day' - interval '1 second', true,
    ds + interval '1 day' + interval '2 hours'
FROM g;

SELECT pg_catalog.setval('tlsrpt.report_no_seq', :n + 1);

INSERT INTO tlsrpt.policy (report_no, idx, policy_domain, policy_type,
    policy_type_raw, domain_source, policy_strings, mx_hosts,
    sts_version_ok, sts_mode, sts_max_age, sts_mx, sts_problems,
    successful_sessions, failed_sessions, counted)
SELECT i + 1, 0, dom, 'sts', 'sts', 'report',
    ARRAY['version: STSv1', 'mode: ' || mode, 'mx: *.' || dom,
	'max_age: 604800'], ARRAY['*.' || dom], true, mode, 604800,
    NULL, 0, 1000, CASE WHEN fails THEN 5 ELSE 0 END, true
FROM g;

INSERT INTO tlsrpt.failure_detail (report_no, policy_idx, idx,
    result_type, result_known, sending_ip, sending_ip_inet,
    receiving_ip, receiving_ip_inet, receiving_mx, reason_code,
    failed_sessions)
SELECT i + 1, 0, x.idx, x.rt, true, NULL, x.sip::inet, NULL,
    ('198.51.100.' || (d % 250))::inet, x.mx || '.' || dom,
    x.why, x.n
FROM g CROSS JOIN LATERAL (VALUES
    (0, 'starttls-not-supported', 'mx1', '192.0.2.' || (i % 200), NULL, 3),
    (1, 'certificate-expired', 'mx2', '192.0.2.' || (i % 200),
	'X509_V_ERR_CERT_HAS_EXPIRED', 2)) AS x(idx, rt, mx, sip, why, n)
WHERE fails;

INSERT INTO tlsrpt.rollup (policy_domain, period_start, reporter,
    policy_type, result_type, mx_host, reports, successful_sessions,
    failed_sessions)
SELECT dom, ds, rep, 'sts', '', '', 1, 1000,
    CASE WHEN fails THEN 5 ELSE 0 END FROM g
UNION ALL
SELECT dom, ds, rep, 'sts', 'starttls-not-supported', 'mx1.' || dom, 1, 0,
    3 FROM g WHERE fails
UNION ALL
SELECT dom, ds, rep, 'sts', 'certificate-expired', 'mx2.' || dom, 1, 0, 2
FROM g WHERE fails;
