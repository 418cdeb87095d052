-- 002_report_dkim.sql -- the DKIM verdict of a mailed report (tlsrpt-milter).
--
-- Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
--
-- RFC 8460 §3: reports sent by mail without a valid DKIM signature of the
-- reporting domain must be ignored.  tlsrpt-milter reads the verdict from
-- the Authentication-Results header its own MTA wrote (--authserv-id) and
-- records it here; it does not verify signatures itself.
--
-- dkim is the verdict as recorded, one line:
--	pass d=google.com aligned	(a passing signature whose d= matches
--					 TLS-Report-Submitter or the domain of
--					 contact-info: the report is trusted)
--	pass d=example.net unaligned	(valid, but by another domain)
--	fail d=google.com (dkim=fail)	(signatures, none passing)
--	none				(no DKIM result from our MTA)
-- trusted is true only for "pass ... aligned".  Both are NULL for reports
-- that did not come through the milter (HTTPS, `tlsrpt import`): nothing
-- is known about them.  A later arrival of the same report through the
-- milter with a trusted verdict upgrades the row (store_put.c).

ALTER TABLE tlsrpt.report ADD COLUMN dkim text;
ALTER TABLE tlsrpt.report ADD COLUMN trusted boolean;

-- `tlsrpt summary --trusted-only` reads the base tables of the trusted
-- reports (the rollup has no trust column): find them by date quickly.
CREATE INDEX report_trusted_date_start_idx ON tlsrpt.report (date_start)
	WHERE trusted;
