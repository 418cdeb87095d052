-- 007_rejection_cap.sql -- rejections bounded per day (issue 12, item 7).
--
-- Until 006 every payload that was not a report got a row in
-- tlsrpt.rejection with up to 64 KiB of its bytes, and an arrival: a
-- flood of junk grew both without bound.  From 007 on, each UTC day
-- (of received_at) keeps at most rejection_cap.rows_per_day rejections
-- and rejection_cap.bytes_per_day bytes of their kept excerpts; beyond
-- either, a rejection is only counted, in tlsrpt.rejection_day (its
-- excerpt, its rejection row and its arrival row are not written), so
-- that a summary or /metrics can still say "N rejections not recorded".
-- The first of a day are kept, the later counted: nothing is deleted.
--
-- The caps live in the database, not in each daemon's options, so that
-- every collector node sharing this PostgreSQL holds the same ones, and
-- the count is kept in the statement that records the rejection
-- (tlsrpt.rejection_put() below) under the lock of the day's counter
-- row: nodes recording rejections at the same moment queue on that row
-- and respect the cap together.  An operator changes the caps with
--     UPDATE tlsrpt.rejection_cap SET rows_per_day = ..., bytes_per_day = ...;
-- the defaults are LIM_REJECTIONS_DAY_MAX and LIM_REJECTIONS_DAY_BYTES
-- of common/tlsrpt_limits.h (README, Limits).

-- One row: the caps.
CREATE TABLE tlsrpt.rejection_cap (
	one		boolean PRIMARY KEY DEFAULT true CHECK (one),
	rows_per_day	bigint NOT NULL CHECK (rows_per_day >= 0),
	bytes_per_day	bigint NOT NULL CHECK (bytes_per_day >= 0)
);
INSERT INTO tlsrpt.rejection_cap (one, rows_per_day, bytes_per_day)
    VALUES (true, 10000, 67108864);

-- Per UTC day: what was kept (rows and excerpt bytes, counted from 007
-- on) and what was only counted (rows, and the payloads' whole sizes).
CREATE TABLE tlsrpt.rejection_day (
	day		date PRIMARY KEY,
	kept		bigint NOT NULL DEFAULT 0,
	kept_bytes	bigint NOT NULL DEFAULT 0,
	dropped		bigint NOT NULL DEFAULT 0,
	dropped_bytes	bigint NOT NULL DEFAULT 0
);

-- Record a rejection, or only count it when the day's caps are reached.
-- raw is the excerpt to keep (already cut by the caller), raw_len the
-- size of the whole payload.  Returns true when it was recorded.
CREATE FUNCTION tlsrpt.rejection_put(p_received timestamptz, p_source text,
    p_origin text, p_reason text, p_sha256 bytea, p_raw bytea,
    p_raw_len bigint)
RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
	d	date := (p_received AT TIME ZONE 'UTC')::date;
	n	bigint := pg_catalog.octet_length(p_raw);
	c	tlsrpt.rejection_cap%ROWTYPE;
	k	tlsrpt.rejection_day%ROWTYPE;
	keep	boolean;
BEGIN
	SELECT * INTO c FROM tlsrpt.rejection_cap WHERE one;
	IF NOT FOUND THEN		-- the row deleted: the defaults
		c.rows_per_day := 10000;
		c.bytes_per_day := 67108864;
	END IF;
	-- the day's row, then its lock: every writer of the day, on any
	-- node, waits here for the one before it to commit, and then sees
	-- its count (READ COMMITTED re-reads the locked row)
	INSERT INTO tlsrpt.rejection_day (day) VALUES (d)
	    ON CONFLICT (day) DO NOTHING;
	SELECT * INTO k FROM tlsrpt.rejection_day WHERE day = d FOR UPDATE;
	keep := k.kept < c.rows_per_day AND
	    k.kept_bytes + n <= c.bytes_per_day;
	IF keep THEN
		UPDATE tlsrpt.rejection_day SET kept = kept + 1,
		    kept_bytes = kept_bytes + n WHERE day = d;
		INSERT INTO tlsrpt.arrival (received_at, source, origin,
		    outcome, sha256, reason)
		    VALUES (p_received, p_source, p_origin, 'rejected',
		    p_sha256, p_reason);
		INSERT INTO tlsrpt.rejection (received_at, source, origin,
		    reason, sha256, raw, raw_len)
		    VALUES (p_received, p_source, p_origin, p_reason,
		    p_sha256, p_raw, p_raw_len);
	ELSE
		UPDATE tlsrpt.rejection_day SET dropped = dropped + 1,
		    dropped_bytes = dropped_bytes + p_raw_len WHERE day = d;
	END IF;
	RETURN keep;
END
$$;
