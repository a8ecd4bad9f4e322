/*
 * csvscan.c: block-wise RFC 4180 record scanner (see csvscan.h).
 *
 * For each 64-byte block we build bit masks of quotes, commas, LFs and CRs.
 * inq = prefix_xor(quotes) marks bytes inside quotes (an opening quote's
 * own bit is set, a closing quote's is clear); commas and line ends outside
 * quotes are the field boundaries.  A doubled quote toggles twice, so it
 * never changes the parity: that is all RFC 4180 escaping needs.
 *
 * Quote legality, without looking ahead: an opening quote must follow a
 * boundary or another quote (the second of ""); the byte after a closing
 * quote must be a quote or a boundary, which we check from that byte
 * looking back.  Past such a misplaced quote the parity no longer tells
 * where fields end, so the record holding it is scanned again, byte by
 * byte (scan_bad_record): a quote inside an unquoted field is an ordinary
 * byte there, as in libcsv, and the record ends at the next line end
 * outside a properly quoted field.  It is handed out with bad_quote set,
 * and block scanning resumes at the next record.
 */
#include <string.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include "payrun/csvscan.h"
#include "payrun/mem.h"
#include "payrun/banned.h"

void
csvscan_init(struct csvscan *scan, uint32_t span_cap)
{
	memset(scan, 0, sizeof(*scan));
	scan->line = 1;
	csvscan_set_span_cap(scan, span_cap);
}

void
csvscan_set_span_cap(struct csvscan *scan, uint32_t span_cap)
{
	if (span_cap == 0)
		span_cap = 1;
	scan->spans = mem_realloc_array(scan->spans, span_cap, sizeof(struct csv_span));
	scan->span_cap = span_cap;
}

void
csvscan_release(struct csvscan *scan)
{
	free(scan->spans);
	scan->spans = NULL;
}

struct block_masks
{
	uint64_t quote;
	uint64_t comma;
	uint64_t lf;
	uint64_t cr;
};

static inline void
load_masks(const char *p, struct block_masks *m)
{
#if defined(__SSE2__)
	const __m128i vq = _mm_set1_epi8('"');
	const __m128i vc = _mm_set1_epi8(',');
	const __m128i vl = _mm_set1_epi8('\n');
	const __m128i vr = _mm_set1_epi8('\r');

	m->quote = m->comma = m->lf = m->cr = 0;
	for (int i = 0; i < 4; i++)
	{
		__m128i x = _mm_loadu_si128((const __m128i *) (const void *) (p + 16 * i));
		int     sh = 16 * i;

		m->quote |= (uint64_t) (uint16_t) _mm_movemask_epi8(_mm_cmpeq_epi8(x, vq)) << sh;
		m->comma |= (uint64_t) (uint16_t) _mm_movemask_epi8(_mm_cmpeq_epi8(x, vc)) << sh;
		m->lf |= (uint64_t) (uint16_t) _mm_movemask_epi8(_mm_cmpeq_epi8(x, vl)) << sh;
		m->cr |= (uint64_t) (uint16_t) _mm_movemask_epi8(_mm_cmpeq_epi8(x, vr)) << sh;
	}
#else
	m->quote = m->comma = m->lf = m->cr = 0;
	for (int i = 0; i < 64; i++)
	{
		uint64_t bit = 1ULL << i;

		switch (p[i])
		{
			case '"':
				m->quote |= bit;
				break;
			case ',':
				m->comma |= bit;
				break;
			case '\n':
				m->lf |= bit;
				break;
			case '\r':
				m->cr |= bit;
				break;
			default:
				break;
		}
	}
#endif
}

/* Bit i set iff an odd number of bits 0..i of x are set. */
static inline uint64_t
prefix_xor(uint64_t x)
{
	x ^= x << 1;
	x ^= x << 2;
	x ^= x << 4;
	x ^= x << 8;
	x ^= x << 16;
	x ^= x << 32;
	return x;
}

/* Mask of bits 0..i inclusive. */
static inline uint64_t
through(int i)
{
	return i == 63 ? ~0ULL : (2ULL << i) - 1;
}

enum scalar_state
{
	AT_FIELD_START,
	IN_UNQUOTED,
	IN_QUOTED,
	AFTER_QUOTE /* a quote inside a quoted field: close or "" */
};

/*
 * Scans one record from buf[start] byte by byte (see the header comment).
 * Returns false if the record does not end within buf (and !eof): it is
 * then carried over.  On true, *end is the offset of its terminator (len
 * at end of data) and the spans and field count are filled; *unterminated
 * is set when the data ends inside a quoted field.
 */
static bool
scan_bad_record(struct csvscan *scan, const char *buf, size_t start, size_t len, bool eof,
				size_t *end, uint32_t *nfields_out, bool *unterminated)
{
	enum scalar_state st = AT_FIELD_START;
	size_t            field_start = start;
	uint32_t          nfields = 0;
	size_t            p;

	*unterminated = false;
	for (p = start; p < len; p++)
	{
		char c = buf[p];
		bool boundary = false;

		switch (st)
		{
			case AT_FIELD_START:
				if (c == '"')
					st = IN_QUOTED;
				else if (c == ',' || c == '\n' || c == '\r')
					boundary = true;
				else
					st = IN_UNQUOTED;
				break;
			case IN_UNQUOTED:
				boundary = (c == ',' || c == '\n' || c == '\r');
				break;
			case IN_QUOTED:
				if (c == '"')
					st = AFTER_QUOTE;
				break;
			case AFTER_QUOTE:
				if (c == '"')
					st = IN_QUOTED;
				else if (c == ',' || c == '\n' || c == '\r')
					boundary = true;
				else
					st = IN_UNQUOTED; /* text after a closing quote */
				break;
		}
		if (!boundary)
			continue;
		if (nfields < scan->span_cap)
		{
			scan->spans[nfields].off = (uint32_t) (field_start - start);
			scan->spans[nfields].len = (uint32_t) (p - field_start);
		}
		nfields++;
		field_start = p + 1;
		st = AT_FIELD_START;
		if (c != ',')
		{
			*end = p;
			*nfields_out = nfields;
			return true;
		}
	}
	if (!eof)
		return false;
	if (st == IN_QUOTED)
	{
		*unterminated = true;
		return true;
	}
	if (nfields < scan->span_cap)
	{
		scan->spans[nfields].off = (uint32_t) (field_start - start);
		scan->spans[nfields].len = (uint32_t) (len - field_start);
	}
	*end = len;
	*nfields_out = nfields + 1;
	return true;
}

static uint64_t
count_lf(const char *buf, size_t from, size_t to, size_t len)
{
	uint64_t lines = 0;

	/* LF, CRLF and a lone CR (a CR-only file's) each end a line */
	for (size_t i = from; i < to; i++)
		lines += buf[i] == '\n' || (buf[i] == '\r' && (i + 1 == len || buf[i + 1] != '\n'));
	return lines;
}

/* A block's line ends: LF, and CR not followed by LF; next is the byte after it. */
static inline uint64_t
eol_mask(const struct block_masks *m, const char *next)
{
	uint64_t next_lf = (m->lf >> 1) | ((next && *next == '\n') ? 1ULL << 63 : 0);

	return m->lf | (m->cr & ~next_lf);
}

/* Fills rec for buf[start..end) and hands it to fn. */
static inline bool
emit_record(struct csvscan *scan, struct csv_record *rec, const char *buf, size_t start, size_t end,
			uint64_t line, uint32_t nfields, bool bad_quote, csvscan_fn fn, void *arg)
{
	rec->raw = buf + start;
	rec->len = end - start;
	rec->line = line;
	rec->nfields = nfields;
	rec->nspans = nfields < scan->span_cap ? nfields : scan->span_cap;
	/* read after every callback: it may resize the spans (csvscan_set_span_cap) */
	rec->spans = scan->spans;
	rec->bad_quote = bad_quote;
	return fn(arg, rec);
}

/*
 * Two builds of the scanner: one with the SSE2 mask builder (x86-64's
 * baseline) or the portable one, and on x86-64 one with AVX2 (two 32-byte
 * compares per mask instead of four of 16), the quote parity in one
 * carry-less multiply (PCLMUL) and the BMI/POPCNT bit instructions,
 * chosen at run time by what the CPU has (it replaced a target_clones copy
 * of the SSE2 code: 7-10% off payrun's time on the 14.4M-row day).  Both
 * are tested wherever the CPU has AVX2: check_csvscan runs each on the
 * same inputs (csvscan_feed_with).
 */
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define SCAN_AVX2   1
#define AVX2_TARGET __attribute__((target("avx2,bmi,bmi2,popcnt,pclmul")))

AVX2_TARGET static inline void
load_masks_avx2(const char *p, struct block_masks *m)
{
	const __m256i vq = _mm256_set1_epi8('"');
	const __m256i vc = _mm256_set1_epi8(',');
	const __m256i vl = _mm256_set1_epi8('\n');
	const __m256i vr = _mm256_set1_epi8('\r');
	__m256i       lo = _mm256_loadu_si256((const __m256i *) (const void *) p);
	__m256i       hi = _mm256_loadu_si256((const __m256i *) (const void *) (p + 32));

#define MASK64(v)                                                                                  \
	((uint64_t) (uint32_t) _mm256_movemask_epi8(_mm256_cmpeq_epi8(lo, v)) |                        \
	 (uint64_t) (uint32_t) _mm256_movemask_epi8(_mm256_cmpeq_epi8(hi, v)) << 32)
	m->quote = MASK64(vq);
	m->comma = MASK64(vc);
	m->lf = MASK64(vl);
	m->cr = MASK64(vr);
#undef MASK64
}

/* prefix_xor in one carry-less multiply by all ones. */
AVX2_TARGET static inline uint64_t
prefix_xor_clmul(uint64_t x)
{
	__m128i v = _mm_clmulepi64_si128(_mm_set_epi64x(0, (long long) x), _mm_set1_epi8(-1), 0);

	return (uint64_t) _mm_cvtsi128_si64(v);
}
#endif

#define FEED_NAME feed_baseline
#define FEED_ATTRS
#define LOAD_MASKS load_masks
#define PREFIX_XOR prefix_xor
#include "csvscan_feed.inc"
#undef FEED_NAME
#undef FEED_ATTRS
#undef LOAD_MASKS
#undef PREFIX_XOR

#ifdef SCAN_AVX2
#define FEED_NAME  feed_avx2
#define FEED_ATTRS AVX2_TARGET
#define LOAD_MASKS load_masks_avx2
#define PREFIX_XOR prefix_xor_clmul
#include "csvscan_feed.inc"
#undef FEED_NAME
#undef FEED_ATTRS
#undef LOAD_MASKS
#undef PREFIX_XOR
#endif

bool
csvscan_have_avx2(void)
{
#ifdef SCAN_AVX2
	return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("bmi") &&
		   __builtin_cpu_supports("bmi2") && __builtin_cpu_supports("popcnt") &&
		   __builtin_cpu_supports("pclmul");
#else
	return false;
#endif
}

enum csvscan_status
csvscan_feed_with(enum csvscan_impl impl, struct csvscan *scan, const char *buf, size_t len,
				  bool eof, size_t *consumed, csvscan_fn fn, void *arg)
{
#ifdef SCAN_AVX2
	if (impl == CSVSCAN_AVX2)
		return feed_avx2(scan, buf, len, eof, consumed, fn, arg);
#else
	(void) impl;
#endif
	return feed_baseline(scan, buf, len, eof, consumed, fn, arg);
}

enum csvscan_status
csvscan_feed(struct csvscan *scan, const char *buf, size_t len, bool eof, size_t *consumed,
			 csvscan_fn fn, void *arg)
{
	/* a CPU's features do not change: asked once per process, the answer is the same for all */
	static int have = -1;
	int        h = __atomic_load_n(&have, __ATOMIC_RELAXED);

	if (h < 0)
	{
		h = csvscan_have_avx2();
		__atomic_store_n(&have, h, __ATOMIC_RELAXED);
	}
	return csvscan_feed_with(h ? CSVSCAN_AVX2 : CSVSCAN_BASELINE, scan, buf, len, eof, consumed, fn,
							 arg);
}

void
csvscan_field(const struct csv_record *rec, uint32_t i, char *scratch, const char **value,
			  size_t *value_len)
{
	const char *p = rec->raw + rec->spans[i].off;
	size_t      n = rec->spans[i].len;
	const char *q;
	size_t      out = 0;

	if (n < 2 || p[0] != '"')
	{
		*value = p;
		*value_len = n;
		return;
	}
	/* well-formed quoted field: strip the quotes, collapse "" */
	p++;
	n -= 2;
	q = memchr(p, '"', n);
	if (q == NULL)
	{
		*value = p;
		*value_len = n;
		return;
	}
	for (size_t k = 0; k < n; k++)
	{
		scratch[out++] = p[k];
		if (p[k] == '"')
			k++; /* skip the second quote of the pair */
	}
	*value = scratch;
	*value_len = out;
}
