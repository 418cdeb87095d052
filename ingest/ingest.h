/*
 * ingest.h -- the public API of ingest/: bytes in, a parsed TLS report out.
 *
 * Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
 *
 * ingest/ is pure: no sockets, no files, no database, no logging, no
 * global mutable state.  Every function here is thread-safe.  The report
 * model below is read-only outside ingest/.
 */

#ifndef TLSRPT_INGEST_H
#define TLSRPT_INGEST_H

#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "bbuf.h"

enum ingest_status {
	INGEST_OK = 0,
	INGEST_E_TOOBIG,	/* a configured limit was hit */
	INGEST_E_FORMAT,	/* neither gzip, JSON nor a mail message */
	INGEST_E_GZIP,		/* corrupt or truncated gzip stream */
	INGEST_E_JSON,		/* JSON syntax error, or not I-JSON */
	INGEST_E_SCHEMA,	/* JSON, but not an RFC 8460 report */
	INGEST_E_NOREPORT,	/* a mail message that carries no report */
	INGEST_E_NOMEM,
};

/* A short stable token for a status: "too-big", "json", ... */
const char	*ingest_status_str(enum ingest_status);

/* The reason for a failure: one line, for people. */
#define INGEST_ERR_MAX	256
struct ingest_err {
	char	msg[INGEST_ERR_MAX];
};

struct ingest_limits {
	size_t		compressed_max;	/* gzip bytes in */
	size_t		json_max;	/* decompressed bytes */
	unsigned	ratio_max;	/* decompressed / compressed */
	size_t		ratio_floor;	/* ratio is checked above this size */
	size_t		mail_max;	/* a whole mail message */
	int		depth_max;	/* JSON nesting */
	size_t		string_max;	/* any JSON string, in bytes */
	size_t		policies_max;
	size_t		strings_max;	/* policy-string and mx-host arrays */
	size_t		details_max;	/* failure details in one report */
	/* memory bounded by input: checked before json-c and GMime build
	 * anything (README, Limits) */
	size_t		json_values_max; /* JSON values, containers included */
	size_t		json_tree_max;	/* json-c's tree, estimated, bytes */
	size_t		mime_delims_max; /* "--" lines in a mail message */
	size_t		mime_headers_max; /* header-like lines in a message */
};

/* Fills in the defaults of common/limits.h. */
void	ingest_limits_default(struct ingest_limits *);

/* The largest input any entry point takes under lim: a whole mail
 * message, a gzip report or plain JSON, whichever limit is highest. */
size_t	ingest_input_max(const struct ingest_limits *);

/*
 * What a transport knows about a payload besides its bytes.  Every member
 * may be NULL.  Borrowed for the duration of a call.
 */
struct ingest_meta {
	const char	*filename;	/* attachment or file name */
	const char	*report_domain;	/* TLS-Report-Domain header */
	const char	*submitter;	/* TLS-Report-Submitter header */
	const char	*subject;
	const char	*dkim;		/* the MTA's DKIM verdict (milter) */
	int		 trusted;	/* with dkim: 1 passing aligned DKIM */
	unsigned	 flags;		/* INGEST_MF_* */
};

#define INGEST_MF_MAIL		0x01	/* taken out of a mail message */
#define INGEST_MF_MISLABELED	0x02	/* media type disagrees with bytes */
#define INGEST_MF_FORWARDED	0x04	/* inside a message/rfc822 */
#define INGEST_MF_NOT_REPORT_MIME 0x08	/* not multipart/report;tlsrpt */

enum tlsrpt_ptype {
	TLSRPT_PT_STS = 0,
	TLSRPT_PT_TLSA,
	TLSRPT_PT_NOPOLICY,	/* no-policy-found */
	TLSRPT_PT_OTHER,	/* not in RFC 8460; raw value kept */
};

/* Where a policy's domain came from (DESIGN.md fallback rule). */
enum tlsrpt_dsrc {
	TLSRPT_DS_REPORT = 0,	/* policy-domain in the JSON */
	TLSRPT_DS_HEADER,	/* TLS-Report-Domain of the mail */
	TLSRPT_DS_FILENAME,	/* RFC 8460 §5.1 file name */
	TLSRPT_DS_SIBLING,	/* the one domain the other policies name */
	TLSRPT_DS_UNKNOWN,	/* domain is "" */
	TLSRPT_DS_REPORTID,	/* the report-id (sys4 ..._idx<N>_<domain>,
				 * Google, Microsoft, mox shapes) */
};

enum sts_mode {
	STS_MODE_UNSET = 0,	/* no mode line, or no policy string */
	STS_MODE_ENFORCE,
	STS_MODE_TESTING,
	STS_MODE_NONE,
	STS_MODE_INVALID,	/* a mode line with another value */
};

/* An RFC 8461 policy, parsed from an sts policy-string. */
struct sts_policy {
	int		 present;	/* 1 when policy-string lines exist */
	int		 version_ok;	/* "version: STSv1" seen */
	enum sts_mode	 mode;
	int64_t		 max_age;	/* seconds; -1 missing or invalid */
	char		**mx;		/* patterns, trimmed, lower case */
	size_t		 nmx;
	unsigned	 problems;	/* STS_P_* */
};

#define STS_P_NO_VERSION	0x01
#define STS_P_NO_MODE		0x02
#define STS_P_BAD_MODE		0x04
#define STS_P_NO_MAX_AGE	0x08
#define STS_P_BAD_MAX_AGE	0x10	/* not 1*10DIGIT or > 31557600 */
#define STS_P_NO_MX		0x20	/* no mx with mode other than none */
#define STS_P_BAD_LINE		0x40	/* a line without "key:" */
#define STS_P_DUP_FIELD		0x80	/* a non-mx field twice (first wins) */

#define STS_MAX_AGE_MAX		31557600

/* A failure-details entry.  Strings are NULL when the sender sent the key
 * missing, null or "" (QUIRKS H2). */
struct tlsrpt_detail {
	const char	*result_type;	/* as sent; "" never, "unknown" if absent */
	int		 result_known;	/* one of the RFC 8460 §4.3 values */
	const char	*sending_ip;	/* as sent */
	const char	*sending_ip_norm; /* canonical text, NULL if not an IP */
	const char	*receiving_ip;
	const char	*receiving_ip_norm;
	const char	*receiving_mx;	/* receiving-mx-hostname */
	const char	*receiving_helo;
	const char	*additional_info;
	const char	*reason_code;	/* failure-reason-code */
	uint64_t	 failed_sessions;
};

struct tlsrpt_policy {
	enum tlsrpt_ptype	 type;
	const char		*type_raw;	/* as sent */
	const char		*domain;	/* lower case; "" when unknown */
	enum tlsrpt_dsrc	 domain_src;
	const char		**strings;	/* policy-string, as sent */
	size_t			 nstrings;
	const char		**mx_hosts;	/* mx-host, string or array */
	size_t			 nmx_hosts;
	struct sts_policy	 sts;		/* for sts with a policy-string */
	uint64_t		 successful;	/* total-successful-session-count */
	uint64_t		 failed;	/* total-failure-session-count */
	int			 counted;	/* in the session accounting set */
	struct tlsrpt_detail	*details;
	size_t			 ndetails;
};

struct tlsrpt_report {
	struct arena		 arena;		/* owns every pointer below */
	const char		*org_name;	/* "" when missing or null */
	const char		*reporter;	/* org_name normalised: grouping */
	const char		*report_id;	/* "" when missing */
	const char		*contact_info;	/* NULL when missing or null */
	int64_t			 start;		/* Unix seconds, UTC */
	int64_t			 end;
	struct tlsrpt_policy	*policies;
	size_t			 npolicies;
	const char		**warnings;	/* "token: detail" lines */
	size_t			 nwarnings;
	const unsigned char	*json;		/* the decompressed report */
	size_t			 json_len;
	int			 was_gzip;
	unsigned char		 sha256[32];	/* of json[0..json_len) */
	unsigned char		 key[32];	/* dedup identity: what the body
						 * says only (report.c) */
	unsigned char		 figures[32];	/* digest of every parsed figure
						 * (counts, details, domains as
						 * the body gives them): tells
						 * conflicting copies of one
						 * identity from re-encodings */
	/* what the transport said, copied from ingest_meta (NULL if none) */
	const char		*filename;
	const char		*hdr_domain;
	const char		*hdr_submitter;
	const char		*subject;
	/* the DKIM verdict the milter recorded ("pass d=example.com
	 * aligned", "none", ...; NULL when not received by the milter) and
	 * whether it makes the report trusted (meaningless without dkim) */
	const char		*dkim;
	int			 trusted;
};

/*
 * Parse one report payload: gzip (any number of members) or plain JSON,
 * decided by the bytes, never by a name.  buf is borrowed.  meta may be
 * NULL.  On INGEST_OK *repp is a new report owned by the caller (release
 * with tlsrpt_report_free()); otherwise *repp is NULL and err says why.
 */
enum ingest_status	 ingest_payload(const unsigned char *buf, size_t len,
			    const struct ingest_meta *meta,
			    const struct ingest_limits *lim,
			    struct tlsrpt_report **repp, struct ingest_err *err);

/*
 * Take the report out of an RFC 5322 message (multipart/report, a bare
 * report body, a forwarded message/rfc822, ...) and parse it.  The mail's
 * TLS-Report-Domain, TLS-Report-Submitter, Subject and the attachment's
 * file name are recorded in the report.  Same ownership as ingest_payload.
 */
enum ingest_status	 ingest_message(const unsigned char *buf, size_t len,
			    const struct ingest_limits *lim,
			    struct tlsrpt_report **repp, struct ingest_err *err);

/*
 * Sniff and dispatch: gzip or JSON go to ingest_payload, anything that
 * looks like a mail message to ingest_message.  meta may be NULL; for a
 * mail message only its dkim and trusted members are used (the rest
 * comes from the message itself).
 */
enum ingest_status	 ingest_any(const unsigned char *buf, size_t len,
			    const struct ingest_meta *meta,
			    const struct ingest_limits *lim,
			    struct tlsrpt_report **repp, struct ingest_err *err);

/*
 * A reusable parser for programs that parse many payloads (the importer,
 * the ingest worker): it keeps its zlib stream, JSON tokener and buffer
 * between calls instead of setting them up for each payload.  Use one
 * from one thread at a time.  lim is copied.  NULL when out of memory.
 */
struct ingest_parser;
struct ingest_parser	*ingest_parser_new(const struct ingest_limits *lim);
void			 ingest_parser_free(struct ingest_parser *);

/* ingest_payload() and ingest_any() with a reusable parser; the same
 * ownership rules. */
enum ingest_status	 ingest_parser_payload(struct ingest_parser *,
			    const unsigned char *buf, size_t len,
			    const struct ingest_meta *meta,
			    struct tlsrpt_report **repp, struct ingest_err *err);
enum ingest_status	 ingest_parser_any(struct ingest_parser *,
			    const unsigned char *buf, size_t len,
			    const struct ingest_meta *meta,
			    struct tlsrpt_report **repp, struct ingest_err *err);

/* Releases a report and everything it owns; NULL is a no-op. */
void	tlsrpt_report_free(struct tlsrpt_report *);

/*
 * Bounded gunzip of every member of in into out, whose max is the cap on
 * the decompressed size; also enforces lim->compressed_max and
 * lim->ratio_max.  out is appended to and stays owned by the caller.
 * *trailing (may be NULL) is set to 1 when bytes that are not a gzip
 * member follow the last one; they are ignored.
 */
enum ingest_status	 ingest_gunzip(const unsigned char *in, size_t inlen,
			    const struct ingest_limits *lim, struct bbuf *out,
			    int *trailing, struct ingest_err *err);

/* 1 when buf starts with the gzip magic 1f 8b. */
int	ingest_is_gzip(const unsigned char *buf, size_t len);

/*
 * The packed form of report JSON for storage (tlsrpt.report_raw.body,
 * schema 009_report_no.sql; gzip_pack.c): a zlib stream (RFC 1950,
 * level 1) with a preset dictionary of RFC 8460's vocabulary, with one
 * reusable stream per packer.  ingest_packer_new() returns a packer
 * owned by the caller (ingest_packer_free(); NULL when out of memory).
 * ingest_pack() returns the packed bytes, *outlen of them, owned by the
 * packer and valid until its next call or its free; NULL when out of
 * memory or len is over 1 GiB.  A packer is for one thread at a time.
 * ingest_is_packed() is 1 when buf is such a stream (its header names
 * the dictionary); ingest_unpack() appends what it inflates to out, at
 * most out's max bytes (INGEST_E_TOOBIG beyond), INGEST_E_FORMAT when
 * in is not packed, INGEST_E_GZIP when corrupt.
 */
struct ingest_packer;
struct ingest_packer	*ingest_packer_new(void);
void			 ingest_packer_free(struct ingest_packer *);
const unsigned char	*ingest_pack(struct ingest_packer *,
			    const unsigned char *in, size_t len,
			    size_t *outlen);
int			 ingest_is_packed(const unsigned char *buf,
			    size_t len);
/* The preset dictionary, *len bytes, static (the stored format). */
const unsigned char	*ingest_pack_dict(size_t *len);
enum ingest_status	 ingest_unpack(const unsigned char *in,
			    size_t inlen, struct bbuf *out,
			    struct ingest_err *err);

/* What a payload is, by its bytes alone (ingest_sniff()). */
enum ingest_kind {
	INGEST_KIND_NONE = 0,	/* neither of the below */
	INGEST_KIND_GZIP,	/* the gzip magic 1f 8b */
	INGEST_KIND_JSON,	/* '{' or '[' after a BOM and white space */
	INGEST_KIND_MAIL,	/* a header field (or "From ") first */
};

/* The sniff ingest_any() dispatches on, for the front-ends. */
enum ingest_kind	 ingest_sniff(const unsigned char *buf, size_t len);

/*
 * Parse an RFC 8461 policy from policy-string lines into pol, whose
 * strings are allocated in a.  Never fails on content: problems are
 * recorded in pol->problems.  Returns -1 only when out of memory.
 */
int	sts_policy_parse(struct arena *a, const char *const *lines, size_t n,
	    struct sts_policy *pol);

/* RFC 8461 §4.1: 1 when host matches pattern ("*." covers one label). */
int	sts_mx_match(const char *pattern, const char *host);

/* The policy domain of an RFC 8460 §5.1 file name, copied into dst in
 * lower case, and its begin and end timestamps (either may be NULL).
 * Returns 0, or -1 when the name is not of that form or too long. */
int	ingest_filename_domain(const char *name, char *dst, size_t dstsz,
	    int64_t *begin, int64_t *end);

/* "critical" or "warning" (DESIGN.md): a type RFC 8460 does not name
 * is a warning.  Never NULL. */
const char	*tlsrpt_result_severity(const char *result_type);

/* A one-line meaning of a result type for people; never NULL. */
const char	*tlsrpt_result_meaning(const char *result_type);

/* "sts", "tlsa", "no-policy-found" or "other". */
const char	*tlsrpt_ptype_str(enum tlsrpt_ptype);

const char	*sts_mode_str(enum sts_mode);

/* "report", "header", "filename", "sibling", "report-id" or "unknown":
 * the values of tlsrpt.policy.domain_source. */
const char	*tlsrpt_dsrc_str(enum tlsrpt_dsrc);

#endif
