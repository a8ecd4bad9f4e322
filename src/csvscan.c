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
 * looking back.  Anything else is bad_quote for the record holding it.
 */
#include <string.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "payrun/csvscan.h"
#include "payrun/mem.h"

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
	uint64_t	quote;
	uint64_t	comma;
	uint64_t	lf;
	uint64_t	cr;
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
		__m128i		x = _mm_loadu_si128((const __m128i *) (const void *) (p + 16 * i));
		int			sh = 16 * i;

		m->quote |= (uint64_t) (uint16_t) _mm_movemask_epi8(_mm_cmpeq_epi8(x, vq)) << sh;
		m->comma |= (uint64_t) (uint16_t) _mm_movemask_epi8(_mm_cmpeq_epi8(x, vc)) << sh;
		m->lf |= (uint64_t) (uint16_t) _mm_movemask_epi8(_mm_cmpeq_epi8(x, vl)) << sh;
		m->cr |= (uint64_t) (uint16_t) _mm_movemask_epi8(_mm_cmpeq_epi8(x, vr)) << sh;
	}
#else
	m->quote = m->comma = m->lf = m->cr = 0;
	for (int i = 0; i < 64; i++)
	{
		uint64_t	bit = 1ULL << i;

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

/*
 * On x86-64 a second copy is built for CPUs with POPCNT and AVX2 and
 * chosen at load time (GNU ifunc); the baseline has no popcount
 * instruction and would call libgcc for every record.
 */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(__SANITIZE_ADDRESS__)
#define SCAN_CLONES __attribute__((target_clones("arch=x86-64-v3", "default")))
#else
#define SCAN_CLONES
#endif

SCAN_CLONES
enum csvscan_status
csvscan_feed(struct csvscan *scan, const char *buf, size_t len, bool eof,
			 size_t *consumed, csvscan_fn fn, void *arg)
{
	struct csv_span *spans = scan->spans;
	const uint32_t span_cap = scan->span_cap;
	uint64_t	inq_carry = 0;	/* all ones when a block starts inside quotes */
	uint64_t	qb_carry = 1;	/* previous byte was a quote or boundary */
	uint64_t	cq_carry = 0;	/* previous byte was a closing quote */
	uint64_t	lf_before = 0;	/* LFs in buf before the current block */
	uint64_t	rec_lf = 0;		/* LFs in buf before the current record */
	size_t		rec_start = 0;
	size_t		field_start = 0;
	uint32_t	nfields = 0;
	bool		rec_bad = false;
	struct csv_record rec;

	rec.spans = spans;
	for (size_t o = 0; o < len; o += 64)
	{
		struct block_masks m;
		size_t		avail = len - o;
		uint64_t	valid = avail >= 64 ? ~0ULL : (1ULL << avail) - 1;
		uint64_t	inq,
					term,
					bnd,
					qb,
					oq,
					cq,
					bad;

		load_masks(buf + o, &m);
		m.quote &= valid;
		m.comma &= valid;
		m.lf &= valid;
		m.cr &= valid;

		inq = prefix_xor(m.quote) ^ inq_carry;
		inq_carry = (uint64_t) ((int64_t) inq >> 63);
		term = (m.lf | m.cr) & ~inq;
		bnd = (m.comma & ~inq) | term;
		qb = m.quote | bnd;
		oq = m.quote & inq;
		cq = m.quote & ~inq;
		bad = (oq & ~((qb << 1) | qb_carry)) |
			(((cq << 1) | cq_carry) & ~qb & valid);
		qb_carry = qb >> 63;
		cq_carry = cq >> 63;

		while (bnd)
		{
			int			i = __builtin_ctzll(bnd);
			uint64_t	upto = through(i);
			size_t		p = o + (size_t) i;

			bnd &= bnd - 1;
			if (bad & upto)
			{
				rec_bad = true;
				bad &= ~upto;
			}
			if (nfields < span_cap)
			{
				spans[nfields].off = (uint32_t) (field_start - rec_start);
				spans[nfields].len = (uint32_t) (p - field_start);
			}
			nfields++;
			field_start = p + 1;
			if (term & (1ULL << i))
			{
				/* a zero-length record is an empty line: skipped */
				if (p > rec_start)
				{
					rec.raw = buf + rec_start;
					rec.len = p - rec_start;
					rec.line = scan->line + rec_lf;
					rec.nfields = nfields;
					rec.nspans = nfields < span_cap ? nfields : span_cap;
					rec.bad_quote = rec_bad;
					if (!fn(arg, &rec))
					{
						*consumed = p + 1;
						return CSVSCAN_STOPPED;
					}
				}
				rec_start = p + 1;
				rec_lf = lf_before + (uint64_t) __builtin_popcountll(m.lf & upto);
				nfields = 0;
				rec_bad = false;
			}
		}
		if (bad)
			rec_bad = true;
		lf_before += (uint64_t) __builtin_popcountll(m.lf);
	}

	if (eof)
	{
		if (inq_carry)
		{
			scan->error_line = scan->line + rec_lf;
			*consumed = rec_start;
			return CSVSCAN_UNTERMINATED_QUOTE;
		}
		if (rec_start < len)
		{
			if (nfields < span_cap)
			{
				spans[nfields].off = (uint32_t) (field_start - rec_start);
				spans[nfields].len = (uint32_t) (len - field_start);
			}
			nfields++;
			rec.raw = buf + rec_start;
			rec.len = len - rec_start;
			rec.line = scan->line + rec_lf;
			rec.nfields = nfields;
			rec.nspans = nfields < span_cap ? nfields : span_cap;
			rec.bad_quote = rec_bad;
			if (!fn(arg, &rec))
			{
				*consumed = len;
				return CSVSCAN_STOPPED;
			}
		}
		scan->line += lf_before;
		*consumed = len;
		return CSVSCAN_OK;
	}
	scan->line += rec_lf;
	*consumed = rec_start;
	return CSVSCAN_OK;
}

void
csvscan_field(const struct csv_record *rec, uint32_t i, char *scratch,
			  const char **value, size_t *value_len)
{
	const char *p = rec->raw + rec->spans[i].off;
	size_t		n = rec->spans[i].len;
	const char *q;
	size_t		out = 0;

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
			k++;				/* skip the second quote of the pair */
	}
	*value = scratch;
	*value_len = out;
}
