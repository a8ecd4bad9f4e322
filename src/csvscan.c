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
 * On x86-64 a second copy is built for CPUs with POPCNT and AVX2 and
 * chosen at load time (GNU ifunc); the baseline has no popcount
 * instruction and would call libgcc for every record.
 */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) &&                             \
	!defined(__SANITIZE_ADDRESS__)
#define SCAN_CLONES __attribute__((target_clones("arch=x86-64-v3", "default")))
#else
#define SCAN_CLONES
#endif

SCAN_CLONES
enum csvscan_status
csvscan_feed(struct csvscan *scan, const char *buf, size_t len, bool eof, size_t *consumed,
			 csvscan_fn fn, void *arg)
{
	uint64_t          inq_carry = 0; /* all ones when a block starts inside quotes */
	uint64_t          qb_carry = 1;  /* previous byte was a quote or boundary */
	uint64_t          cq_carry = 0;  /* previous byte was a closing quote */
	uint64_t          lf_before = 0; /* line ends in buf before the current block */
	uint64_t          rec_lf = 0;    /* line ends in buf before the current record */
	size_t            rec_start = 0;
	size_t            field_start = 0;
	uint32_t          nfields = 0;
	struct csv_record rec;

	/* a CR that ended the last feed: a line end unless this feed starts with its LF */
	if (scan->cr_pending && (len > 0 || eof))
	{
		scan->line += len == 0 || buf[0] != '\n';
		scan->cr_pending = false;
	}
	for (size_t o = 0; o < len; o += 64)
	{
		struct block_masks m;
		size_t             avail = len - o;
		uint64_t           valid = avail >= 64 ? ~0ULL : (1ULL << avail) - 1;
		uint64_t           inq, term, bnd, qb, oq, cq, bad, eol;

		load_masks(buf + o, &m);
		m.quote &= valid;
		m.comma &= valid;
		m.lf &= valid;
		m.cr &= valid;
		eol = eol_mask(&m, avail > 64 ? buf + o + 64 : NULL);

		inq = prefix_xor(m.quote) ^ inq_carry;
		inq_carry = (uint64_t) ((int64_t) inq >> 63);
		term = (m.lf | m.cr) & ~inq;
		bnd = (m.comma & ~inq) | term;
		qb = m.quote | bnd;
		oq = m.quote & inq;
		cq = m.quote & ~inq;
		bad = (oq & ~((qb << 1) | qb_carry)) | (((cq << 1) | cq_carry) & ~qb & valid);
		qb_carry = qb >> 63;
		cq_carry = cq >> 63;

		while (bnd)
		{
			int      i = __builtin_ctzll(bnd);
			uint64_t upto = through(i);
			size_t   p = o + (size_t) i;

			/* a misplaced quote before this boundary: parity is off from there */
			if (bad & upto)
				goto bad_record;
			bnd &= bnd - 1;
			if (nfields < scan->span_cap)
			{
				scan->spans[nfields].off = (uint32_t) (field_start - rec_start);
				scan->spans[nfields].len = (uint32_t) (p - field_start);
			}
			nfields++;
			field_start = p + 1;
			if (term & (1ULL << i))
			{
				/* a zero-length record is an empty line: skipped */
				if (p > rec_start && !emit_record(scan, &rec, buf, rec_start, p,
												  scan->line + rec_lf, nfields, false, fn, arg))
				{
					*consumed = p + 1;
					return CSVSCAN_STOPPED;
				}
				rec_start = p + 1;
				rec_lf = lf_before + (uint64_t) __builtin_popcountll(eol & upto);
				nfields = 0;
			}
		}
		if (bad)
			goto bad_record;
		lf_before += (uint64_t) __builtin_popcountll(eol);
		continue;

bad_record:
{
	size_t end;
	bool   unterminated;

	if (!scan_bad_record(scan, buf, rec_start, len, eof, &end, &nfields, &unterminated))
	{
		/* the record goes on past buf: carry it over */
		scan->line += rec_lf;
		*consumed = rec_start;
		return CSVSCAN_OK;
	}
	if (unterminated)
	{
		scan->error_line = scan->line + rec_lf;
		*consumed = rec_start;
		return CSVSCAN_UNTERMINATED_QUOTE;
	}
	if (!emit_record(scan, &rec, buf, rec_start, end, scan->line + rec_lf, nfields, true, fn, arg))
	{
		*consumed = end < len ? end + 1 : len;
		return CSVSCAN_STOPPED;
	}
	/* resume block scanning at the next record, from a clean state */
	rec_lf += count_lf(buf, rec_start, end < len ? end + 1 : len, len);
	rec_start = field_start = end < len ? end + 1 : len;
	nfields = 0;
	lf_before = rec_lf;
	inq_carry = 0;
	qb_carry = 1;
	cq_carry = 0;
	o = rec_start - 64; /* the loop adds 64 back */
}
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
			if (nfields < scan->span_cap)
			{
				scan->spans[nfields].off = (uint32_t) (field_start - rec_start);
				scan->spans[nfields].len = (uint32_t) (len - field_start);
			}
			nfields++;
			if (!emit_record(scan, &rec, buf, rec_start, len, scan->line + rec_lf, nfields, false,
							 fn, arg))
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
	/* a CR ending the data: whether it is a line of its own, the next feed says */
	if (rec_start == len && len > 0 && buf[len - 1] == '\r')
	{
		scan->line--;
		scan->cr_pending = true;
	}
	return CSVSCAN_OK;
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
