/*
 * input_diff.h: reads one file through input.h with each inflater and
 * compares the two outcomes; shared by tests/unit/check_input.c (generated
 * cases) and tests/fuzz/fuzz_inflate.c (libFuzzer's).
 *
 * An outcome is what a caller of input.h sees: the chunks' bytes, joined;
 * whether input_next() ended cleanly or failed, and the error line it
 * logged (captured from the stdio stream stderr); and input_get_stats().
 *
 * The two agree when
 *   - both read the file: the same bytes, the same statistics (decoded
 *     and file bytes, members, SHA-256), kind "gzip" or "plain" alike;
 *   - both failed with the same message, but for these, which carry where
 *     and how each library noticed the problem:
 *       "corrupt gzip stream near byte N: DETAIL".  Inside a member's
 *         deflate data zlib and ISA-L check different things at different
 *         points: zlib refuses a Huffman code as soon as its code lengths
 *         are read ("invalid code lengths set", "invalid distances set",
 *         "too many length or distance symbols", "invalid stored block
 *         lengths", "invalid block type"), ISA-L says "invalid deflate
 *         block" or, when an incomplete code is only found out by a
 *         symbol it cannot decode or a distance it cannot follow, "invalid
 *         deflate symbol" or "invalid lookback distance" further on (zlib:
 *         "invalid distance too far back", "invalid distance code", ...);
 *         and N is what each had consumed by then, and they buffer input
 *         differently.  At a bad CRC32 the DETAIL is the same
 *         ("incorrect data check") but zlib stops after the CRC's 4 bytes
 *         and ISA-L after the trailer's 8.  So N may differ, and DETAIL
 *         may differ unless one side's DETAIL is one of zlib's words for a
 *         header or trailer check (diff_check_words, which inflater.c uses
 *         for the same conditions), which the other must then give too;
 *         but for damaged input (DIFF_ALLOW_KIND) a deflate data error on
 *         one side may meet a CRC32 or ISIZE mismatch on the other: ISA-L
 *         decodes with some Huffman codes that zlib refuses when it reads
 *         them, and the trailer then finds the damage (libFuzzer found
 *         one: zlib's "invalid distances set" at byte 230, ISA-L's
 *         "incorrect data check" at byte 518);
 *       "decompression ratio exceeds R:1 at byte N": N is the compressed
 *         bytes consumed so far, which differ for the same reason;
 *       and, only when the caller allows it (DIFF_ALLOW_KIND, for damaged
 *         input), "corrupt gzip stream" against "truncated gzip stream":
 *         a file that ends inside the ISIZE of a member whose CRC32 is
 *         wrong is corrupt to zlib, which checks the CRC once its 4 bytes
 *         are in, and truncated to ISA-L, which checks the trailer once
 *         all 8 are.
 *     "truncated gzip stream (unexpected end of file at byte N)",
 *     "unexpected data after gzip member M at byte N" and the decoded size
 *     limit must be the same, byte for byte: the file's end and a member's
 *     end are where they are.
 *   - for damaged input (DIFF_ALLOW_KIND), zlib may refuse a block's
 *     Huffman code as it reads it ("invalid distances set", ...) where
 *     ISA-L, which decodes with an incomplete code whose missing codes are
 *     never used, reads the member to a right CRC32 and ISIZE: its bytes
 *     are then the ones compressed (libFuzzer found such a file of 385
 *     bytes); zlib's bytes must be a prefix of them;
 *   - and in every case the bytes out of the one that stopped first are a
 *     prefix of the other's (both hand out only correctly inflated bytes).
 */
#ifndef PAYRUN_INPUT_DIFF_H
#define PAYRUN_INPUT_DIFF_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "payrun/input.h"

#define DIFF_ALLOW_KIND 1u /* damaged input: corrupt against truncated is allowed */

/* zlib's words for the header and trailer checks, which inflater.c also uses. */
static const char *const diff_check_words[] = {
	"incorrect header check", "unknown compression method", "unknown header flags set",
	"header crc mismatch",    "incorrect data check",       "incorrect length check",
};

/*
 * How many failures agreed only as allowed: [0] corrupt, at different
 * bytes or with different details; [1] corrupt against truncated; [2] the
 * ratio limit at different bytes; [3] refused by zlib for a Huffman code
 * that ISA-L read through, its trailer right.
 */
static unsigned long diff_relaxed[4];

/* INPUT_DIFF_VERBOSE=1 in the environment: prints the failures that agree only as allowed. */
static void
diff_note(const char *z, const char *i)
{
	const char *v = getenv("INPUT_DIFF_VERBOSE");

	if (v != NULL && strcmp(v, "1") == 0)
		printf("# relaxed: zlib: %s | isal: %s\n", z, i);
}

struct diff_outcome
{
	bool               opened;
	bool               ok;
	char               msg[1024]; /* the error line after "error: ", the path cut out */
	unsigned char     *out;       /* owned: the bytes handed out */
	size_t             out_len;
	struct input_stats stats;
};

/* The message after "error: ", with the quoted path replaced by 'F'. */
static void
diff_keep_message(struct diff_outcome *o, const char *log, size_t len, const char *path)
{
	const char *e = memmem(log, len, "error: ", 7);
	const char *p;
	size_t      n, plen = strlen(path);

	o->msg[0] = '\0';
	if (e == NULL)
		return;
	e += 7;
	n = strcspn(e, "\n");
	p = memmem(e, n, path, plen);
	if (p != NULL && p > e && p[-1] == '\'')
		snprintf(o->msg, sizeof(o->msg), "%.*sF%.*s", (int) (p - e), e,
				 (int) (n - (size_t) (p - e) - plen), p + plen);
	else
		snprintf(o->msg, sizeof(o->msg), "%.*s", (int) n, e);
}

/* Reads path through input.h with opts; the log lines it writes are captured. */
static void
diff_read(const char *path, const struct input_options *opts, struct diff_outcome *o)
{
	FILE               *saved = stderr;
	char               *log = NULL;
	size_t              log_len = 0, cap = 0;
	struct input       *in = NULL;
	struct input_chunk *c;

	memset(o, 0, sizeof(*o));
	stderr = open_memstream(&log, &log_len);
	if (stderr == NULL)
		abort();
	o->opened = input_open(path, opts, &in);
	o->ok = o->opened;
	while (o->ok)
	{
		if (!input_next(in, &c))
			o->ok = false;
		else if (c == NULL)
			break;
		else
		{
			if (o->out_len + c->len > cap)
			{
				cap = (o->out_len + c->len) * 2;
				o->out = realloc(o->out, cap);
				if (o->out == NULL)
					abort();
			}
			memcpy(o->out + o->out_len, c->data, c->len);
			o->out_len += c->len;
			input_release(in, c);
		}
	}
	if (in != NULL)
	{
		input_get_stats(in, &o->stats);
		input_close(in);
	}
	fclose(stderr);
	stderr = saved;
	diff_keep_message(o, log, log_len, path);
	free(log);
}

static void
diff_release(struct diff_outcome *o)
{
	free(o->out);
	o->out = NULL;
}

/* The text after the number that follows marker in msg, or NULL without marker. */
static const char *
diff_after_number(const char *msg, const char *marker, size_t *prefix)
{
	const char *m = strstr(msg, marker);

	if (m == NULL)
		return NULL;
	*prefix = (size_t) (m - msg) + strlen(marker);
	m += strlen(marker);
	while (*m >= '0' && *m <= '9')
		m++;
	return m;
}

static bool
diff_check_word(const char *detail)
{
	for (size_t i = 0; i < sizeof(diff_check_words) / sizeof(diff_check_words[0]); i++)
		if (strcmp(detail, diff_check_words[i]) == 0)
			return true;
	return false;
}

/*
 * A deflate data error on one side against a trailer check on the other:
 * a Huffman code that zlib refuses when it is read, ISA-L may decode with,
 * and the member's CRC32 (or ISIZE) then finds the damage.
 */
static bool
diff_data_against_trailer(const char *z, const char *i)
{
	bool zt = strcmp(z, "incorrect data check") == 0 || strcmp(z, "incorrect length check") == 0;
	bool it = strcmp(i, "incorrect data check") == 0 || strcmp(i, "incorrect length check") == 0;

	return (zt && !diff_check_word(i)) || (it && !diff_check_word(z));
}

/*
 * zlib's refusals of a block's Huffman code as it reads it; ISA-L decodes
 * with some of those codes (an incomplete one whose missing codes are never
 * used), and when the member's CRC32 and ISIZE then match, it read the
 * bytes that were compressed.
 */
static bool
diff_zlib_code_refusal(const char *msg)
{
	static const char *const words[] = {
		"invalid distances set",
		"invalid literal/lengths set",
		"invalid code lengths set",
		"invalid bit length repeat",
		"too many length or distance symbols",
	};

	for (size_t k = 0; k < sizeof(words) / sizeof(words[0]); k++)
		if (strstr(msg, words[k]) != NULL)
			return true;
	return false;
}

/* Whether two failure messages agree (above); why not, in why. */
static bool
diff_same_failure(const char *z, const char *i, unsigned allow, char *why, size_t whylen)
{
	static const char *const markers[] = { "corrupt gzip stream near byte ", " at byte " };
	size_t                   zp, ip;
	const char              *zr, *ir;

	if (strcmp(z, i) == 0)
		return true;
	if ((allow & DIFF_ALLOW_KIND) &&
		((strstr(z, "corrupt gzip stream") && strstr(i, "truncated gzip stream")) ||
		 (strstr(i, "corrupt gzip stream") && strstr(z, "truncated gzip stream"))))
	{
		diff_relaxed[1]++;
		diff_note(z, i);
		return true;
	}
	for (size_t k = 0; k < 2; k++)
	{
		if (k == 1 && strstr(z, "decompression ratio exceeds") == NULL)
			break;
		zr = diff_after_number(z, markers[k], &zp);
		ir = diff_after_number(i, markers[k], &ip);
		if (zr == NULL || ir == NULL || zp != ip || memcmp(z, i, zp) != 0)
			continue;
		if (k == 1 && strcmp(zr, ir) == 0)
		{
			diff_relaxed[2]++;
			diff_note(z, i);
			return true;
		}
		if (k == 0 && zr[0] == ':' && ir[0] == ':' &&
			((!diff_check_word(zr + 2) && !diff_check_word(ir + 2)) || strcmp(zr, ir) == 0 ||
			 ((allow & DIFF_ALLOW_KIND) && diff_data_against_trailer(zr + 2, ir + 2))))
		{
			diff_relaxed[0]++;
			diff_note(z, i);
			return true;
		}
	}
	snprintf(why, whylen, "zlib: %s | isal: %s", z, i);
	return false;
}

/*
 * Whether the outcomes of zlib (z) and ISA-L (i) agree (above); why not,
 * in why.
 */
static bool
diff_agree(const struct diff_outcome *z, const struct diff_outcome *i, unsigned allow, char *why,
		   size_t whylen)
{
	size_t common = z->out_len < i->out_len ? z->out_len : i->out_len;

	if (z->opened == i->opened && !z->ok && i->ok && (allow & DIFF_ALLOW_KIND) &&
		diff_zlib_code_refusal(z->msg) && z->out_len <= i->out_len &&
		(z->out_len == 0 || memcmp(z->out, i->out, z->out_len) == 0))
	{
		diff_relaxed[3]++;
		diff_note(z->msg, "read it");
		return true;
	}
	if (z->opened != i->opened || z->ok != i->ok)
	{
		snprintf(why, whylen, "zlib %s, isal %s (zlib: '%s', isal: '%s')",
				 z->ok ? "read it" : "failed", i->ok ? "read it" : "failed", z->msg, i->msg);
		return false;
	}
	if (common > 0 && memcmp(z->out, i->out, common) != 0)
	{
		snprintf(why, whylen, "the bytes out differ before byte %zu", common);
		return false;
	}
	if (!z->ok)
		return diff_same_failure(z->msg, i->msg, allow, why, whylen);
	if (z->out_len != i->out_len || z->stats.decoded_bytes != i->stats.decoded_bytes ||
		z->stats.file_bytes != i->stats.file_bytes ||
		z->stats.gzip_members != i->stats.gzip_members ||
		strcmp(z->stats.kind, i->stats.kind) != 0 || strcmp(z->stats.sha256, i->stats.sha256) != 0)
	{
		snprintf(why, whylen,
				 "read alike but: out %zu/%zu bytes, decoded %llu/%llu, file %llu/%llu, "
				 "members %u/%u",
				 z->out_len, i->out_len, (unsigned long long) z->stats.decoded_bytes,
				 (unsigned long long) i->stats.decoded_bytes,
				 (unsigned long long) z->stats.file_bytes, (unsigned long long) i->stats.file_bytes,
				 z->stats.gzip_members, i->stats.gzip_members);
		return false;
	}
	return true;
}

#endif
