/*
 * tlsrpt_limits.h -- every bound an outside party can push against, with
 * its unit.
 *
 * These are the defaults; programs take overrides from options or config.
 * The README's "Limits" table lists each with its default.
 */

#ifndef TLSRPT_LIMITS_H
#define TLSRPT_LIMITS_H

#define LIM_COMPRESSED_MAX_BYTES	(10 * 1024 * 1024)	/* RFC 8460 §5.2 */
#define LIM_JSON_MAX_BYTES		(20 * 1024 * 1024)	/* after gunzip */
#define LIM_GZIP_RATIO_MAX		1000	/* decompressed : compressed */
#define LIM_GZIP_RATIO_FLOOR_BYTES	(1024 * 1024)	/* ratio applies above */
#define LIM_MAIL_MAX_BYTES		(25 * 1024 * 1024)
#define LIM_JSON_DEPTH_MAX		16
#define LIM_STRING_MAX_BYTES		4096
#define LIM_POLICIES_MAX		1000
#define LIM_POLICY_STRINGS_MAX		1000	/* policy-string, mx-host */
#define LIM_DETAILS_MAX			100000	/* failure details per report */
#define LIM_MIME_FORWARD_DEPTH_MAX	8	/* message/rfc822 in message */
#define LIM_MIME_NEST_DEPTH_MAX		64	/* multipart in multipart */
#define LIM_MIME_PARTS_MAX		1000	/* leaf parts looked at */
#define LIM_WARNINGS_MAX		64
#define LIM_REJECT_KEEP_BYTES		(64 * 1024)	/* raw bytes kept */

#endif
