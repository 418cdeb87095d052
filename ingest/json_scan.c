/*
 * json_scan.c -- one pass over JSON text before json-c sees it: UTF-8,
 * NUL, nesting, the number of values, and what json-c's tree of it would
 * cost, so that no shape of input makes json-c allocate more than the
 * limits allow.
 *
 * json-c builds the whole tree before any count in the walk applies, and
 * its cost per value depends on the shape, not on the bytes: 3 bytes of
 * "{}," cost 784 bytes of heap (an object and its 16-slot hash table),
 * a 10 MiB body of them 2.7 GB.  The scan charges each value what json-c
 * 0.16 allocates for it on glibc x86-64 (measured, rounded up):
 *
 *	object		800 + per member 32 + key bytes rounded down to 16,
 *			+ 40 per hash slot above 16 (the table doubles when
 *			  a member finds it 66% full)
 *	array		160 + 16 per element
 *	string		 80 + its bytes in the text rounded down to 16
 *	number		 96 + its bytes rounded down to 16
 *	true/false/null	 64
 *	and twice the longest string: the tokener's buffer for it
 *
 * and refuses the text once the sum passes lim->json_tree_max, or the
 * values lim->json_values_max, or the nesting lim->depth_max, at the byte
 * where it happens: a hostile body stops after at most that much work.
 * The sum is an upper bound for json-c 0.16 (checked by test_ingest.c's
 * json_tree_estimate against mallinfo2); the value count holds whatever
 * json-c's internals cost.
 *
 * The scan also counts object members (the colons outside strings): the
 * walk compares them with json-c's to find duplicate keys.
 */

#include <stdint.h>
#include <string.h>

#include "ingest_int.h"

#define JS_OBJ		800
#define JS_MEMBER	32
#define JS_SLOT		40	/* an lh_entry of the object's table */
#define JS_SLOTS0	16	/* JSON_OBJECT_DEF_HASH_ENTRIES */
#define JS_SLOTS_FREE	11	/* members that fit in them */
#define JS_ARR		160
#define JS_ELEM		16	/* an array slot, doubled on growth */
#define JS_STR		80
#define JS_NUM		96
#define JS_LIT		64
#define JS_ROUND(n)	((size_t)(n) & ~(size_t)15)

#define ONES		0x0101010101010101ULL
#define HIGH		0x8080808080808080ULL
/* A zero byte in v shows as its top bit; bytes above the first zero
 * may show too (the borrow), never bytes below it. */
#define HASZERO(v)	(((v) - ONES) & ~(v) & HIGH)
/* The index of the first byte of a word loaded with memcpy whose top
 * bit is set in m (m != 0). */
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define FIRST_BYTE(m)	((size_t)__builtin_ctzll(m) >> 3)
#else
#define FIRST_BYTE(m)	((size_t)0)	/* then the byte loop finds it */
#endif

enum { C_OBJ = 1, C_ARR = 2 };

/* The bytes that end a number or literal: structure, quotes, space. */
static const unsigned char scalar_end[256] = {
	[','] = 1, [':'] = 1, ['{'] = 1, ['}'] = 1, ['['] = 1, [']'] = 1,
	['"'] = 1, ['\''] = 1, [' '] = 1, ['\t'] = 1, ['\r'] = 1, ['\n'] = 1,
};

static size_t	utf8_seq(const unsigned char *, size_t);
static size_t	slots_extra(size_t);

/*
 * The length of the valid UTF-8 sequence at p (RFC 3629: no overlong
 * forms, no surrogates, nothing above U+10FFFF) that starts with a byte
 * >= 0x80, or 0 when it is not valid.  n is the bytes left.
 */
static size_t
utf8_seq(const unsigned char *p, size_t n)
{
	unsigned char	c = p[0], lo = 0x80, hi = 0xbf;
	size_t		need, k;

	if (c >= 0xc2 && c <= 0xdf)
		need = 1;
	else if (c >= 0xe0 && c <= 0xef) {
		need = 2;
		if (c == 0xe0)
			lo = 0xa0;		/* overlong */
		else if (c == 0xed)
			hi = 0x9f;		/* surrogates */
	} else if (c >= 0xf0 && c <= 0xf4) {
		need = 3;
		if (c == 0xf0)
			lo = 0x90;		/* overlong */
		else if (c == 0xf4)
			hi = 0x8f;		/* > U+10FFFF */
	} else
		return 0;
	if (n <= need || p[1] < lo || p[1] > hi)
		return 0;
	for (k = 2; k <= need; k++)
		if ((p[k] & 0xc0) != 0x80)
			return 0;
	return need + 1;
}

/* The hash slots json-c adds above its first 16 for an object of n
 * members: it doubles the table when an insert finds count >= 0.66 size. */
static size_t
slots_extra(size_t n)
{
	size_t	size = JS_SLOTS0;

	while (n > 0 && (n - 1) * 100 >= size * 66)
		size *= 2;
	return size - JS_SLOTS0;
}

enum scan_result
json_scan(const unsigned char *p, size_t n, const struct ingest_limits *lim,
    struct json_scan *js)
{
	unsigned char	 type[JSON_SCAN_DEPTH_MAX];
	size_t		 memb[JSON_SCAN_DEPTH_MAX];
	size_t		 i = 0, j, k, start, klen = 0, tree = 0, cost;
	size_t		 longest = 0;
	size_t		 depth_max, vmax, tmax;
	uint64_t	 w, m;
	int		 depth = 0, key = 0, cur = 0;	/* cur: C_* of the top */
	unsigned char	 c;

	memset(js, 0, sizeof(*js));
	depth_max = lim->depth_max < 0 ? 0 : (size_t)lim->depth_max;
	if (depth_max > JSON_SCAN_DEPTH_MAX)
		depth_max = JSON_SCAN_DEPTH_MAX;
	vmax = lim->json_values_max;
	tmax = lim->json_tree_max;

#define IN_ARR	(cur == C_ARR)
#define IN_OBJ	(cur == C_OBJ)
#define FAIL(r)	do { js->at = i; js->tree = tree; return (r); } while (0)
#define VALUE(c) do {							\
		tree += (c) + (IN_ARR ? JS_ELEM : 0);			\
		if (++js->values > vmax)				\
			FAIL(SCAN_VALUES);				\
		if (tree > tmax)					\
			FAIL(SCAN_TREE);				\
	} while (0)

	while (i < n) {
		c = p[i];
		switch (c) {
		case ' ':
		case '\t':
		case '\r':
		case '\n':
			i++;
			continue;
		case '"':
			start = ++i;
			for (;;) {
				/* eight bytes at a time up to the first '"',
				 * '\\', NUL or byte above 0x7f */
				while (i + 8 <= n) {
					memcpy(&w, p + i, 8);
					m = HASZERO(w ^ (ONES * '"')) |
					    HASZERO(w ^ (ONES * '\\')) |
					    HASZERO(w) | (w & HIGH);
					if (m != 0) {
						i += FIRST_BYTE(m);
						break;
					}
					i += 8;
				}
				while (i < n && p[i] != '"' && p[i] != '\\' &&
				    p[i] != 0 && p[i] < 0x80)
					i++;
				if (i >= n)
					goto out;	/* json-c: ends early */
				c = p[i];
				if (c == '"')
					break;
				if (c == '\\') {
					if (i + 5 < n && p[i + 1] == 'u' &&
					    memcmp(p + i + 2, "0000", 4) == 0)
						FAIL(SCAN_NUL);
					i += 2;
				} else if (c == 0)
					FAIL(SCAN_NUL);
				else {
					if ((k = utf8_seq(p + i, n - i)) == 0)
						FAIL(SCAN_UTF8);
					i += k;
				}
			}
			j = i - start;		/* the bytes between quotes */
			i++;
			if (j > longest) {
				/* json-c's string buffer, doubled as it grows */
				tree += 2 * (j - longest);
				longest = j;
			}
			if (key && IN_OBJ)
				klen = j;	/* charged at its ':' */
			else
				VALUE(JS_STR + JS_ROUND(j));
			key = 0;
			continue;
		case '{':
			VALUE(JS_OBJ);
			if ((size_t)depth >= depth_max) {
				i++;
				FAIL(SCAN_DEPTH);
			}
			type[depth] = cur = C_OBJ;
			memb[depth++] = 0;
			key = 1;
			break;
		case '[':
			VALUE(JS_ARR);
			if ((size_t)depth >= depth_max) {
				i++;
				FAIL(SCAN_DEPTH);
			}
			type[depth] = cur = C_ARR;
			memb[depth++] = 0;
			key = 0;
			break;
		case '}':
		case ']':
			if (depth > 0) {
				depth--;
				if (type[depth] == C_OBJ && memb[depth] >
				    JS_SLOTS_FREE) {
					tree += JS_SLOT *
					    slots_extra(memb[depth]);
					if (tree > tmax)
						FAIL(SCAN_TREE);
				}
				cur = depth > 0 ? type[depth - 1] : 0;
			}
			key = 0;
			break;
		case ':':
			if (IN_OBJ) {
				memb[depth - 1]++;
				js->members++;
				tree += JS_MEMBER + JS_ROUND(klen);
				if (tree > tmax)
					FAIL(SCAN_TREE);
			}
			key = 0;
			break;
		case ',':
			key = IN_OBJ;
			break;
		case '\'':
			/* json-c takes single-quoted strings even when
			 * strict; JSON has none, and they would hide
			 * structure from this scan */
			FAIL(SCAN_QUOTE);
		default:
			/* a number, true, false, null, or junk json-c
			 * refuses: up to the next structural byte */
			start = i;
			while (i < n && !scalar_end[p[i]]) {
				if (p[i] >= 0x80) {
					if ((k = utf8_seq(p + i, n - i)) == 0)
						FAIL(SCAN_UTF8);
					i += k;
				} else
					i++;
			}
			cost = p[start] == 't' || p[start] == 'f' ||
			    p[start] == 'n' ? JS_LIT :
			    JS_NUM + JS_ROUND(i - start);
			VALUE(cost);
			key = 0;
			continue;
		}
		i++;
	}
 out:
	js->at = i;
	js->tree = tree;
	return SCAN_OK;
#undef IN_ARR
#undef IN_OBJ
#undef FAIL
#undef VALUE
}
