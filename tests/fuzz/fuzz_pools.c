/*
 * fuzz_pools.c: libFuzzer target for the pools file reader (pools_load).
 *
 * The input is written to a scratch file (pools_load reads a path) and
 * loaded with token decimals picked from the input's hash (0, 1, 6, 18 or
 * 36).  It must not crash or leak, and its answer must match a reference
 * built on libcsv from pools.h's and amount.h's descriptions: a header
 * naming stream_id and pool once each (a UTF-8 BOM before the first name
 * is skipped; other columns are ignored), then rows of the header's width
 * whose stream_id is 1 to AGGREGATE_ID_MAX bytes and whose pool is an
 * amount in tokens (digits, optionally a point and digits, optionally an
 * exponent) that is a whole number of base units up to 2^256 - 1, no
 * stream twice.  The reference computes each amount's base units as
 * decimal text, on its own.  On success the entries must be the
 * reference's: sorted by id, unique, each with its pool and line, and
 * found by pools_find; the pools' copy must be the input's bytes and its
 * SHA-256 OpenSSL's digest of them; pools_all_zero must agree.
 */
#include <openssl/evp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "payrun/aggregate.h"
#include "payrun/amount.h"
#include "payrun/log.h"
#include "payrun/pools.h"
#include "fuzz_common.h"
#include "fuzz_libcsv.h"

/* pools.c keeps 64 field spans: a header wider than that is refused */
#define POOLS_SPAN_CAP 64

/* 2^256 - 1 */
#define REF_MAX "115792089237316195423570985008687907853269984665640564039457584007913129639935"

struct ref_entry
{
	const char *stream; /* into the lc_result */
	size_t      stream_len;
	char        pool[AMOUNT_TEXT_LEN]; /* base units, canonical decimal text */
	uint64_t    line;
};

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void) argc;
	(void) argv;
	fuzz_quiet_logs();
	fuzz_file_open("pools");
	return 0;
}

/*
 * The pool's base units as decimal text in out, or false: the mantissa's
 * digits m times 10^(decimals + exponent - fraction digits), which must
 * be whole and at most 2^256 - 1.  Exponents are exact up to 10^9, past
 * anything a 4 KiB input can bring back.
 */
static bool
ref_amount(const char *s, size_t len, unsigned decimals, char out[AMOUNT_TEXT_LEN])
{
	static char m[8192];
	size_t      nm = 0, i = 0, start, frac = 0, lead = 0, sig;
	int64_t     exponent = 0, shift;
	bool        negative = false;

	if (len > 4096)
		return false;
	while (i < len && s[i] >= '0' && s[i] <= '9')
		m[nm++] = s[i++];
	if (nm == 0)
		return false;
	if (i < len && s[i] == '.')
	{
		start = ++i;
		while (i < len && s[i] >= '0' && s[i] <= '9')
			m[nm++] = s[i++];
		frac = i - start;
		if (frac == 0)
			return false;
	}
	if (i < len && (s[i] == 'e' || s[i] == 'E'))
	{
		if (++i < len && (s[i] == '+' || s[i] == '-'))
			negative = s[i++] == '-';
		start = i;
		for (; i < len && s[i] >= '0' && s[i] <= '9'; i++)
			if (exponent < 1000000000)
				exponent = exponent * 10 + (s[i] - '0');
		if (i == start)
			return false;
	}
	if (i != len)
		return false;
	shift = (int64_t) decimals + (negative ? -exponent : exponent) - (int64_t) frac;
	while (lead < nm && m[lead] == '0')
		lead++;
	if (lead == nm)
	{
		snprintf(out, AMOUNT_TEXT_LEN, "0");
		return true;
	}
	sig = nm - lead;
	if (shift < 0)
	{
		if ((uint64_t) -shift >= sig)
			return false; /* a digit that is not 0 would be dropped */
		for (size_t k = 0; k < (size_t) -shift; k++)
			if (m[nm - 1 - k] != '0')
				return false;
		sig -= (size_t) -shift;
	}
	else
	{
		if ((int64_t) sig + shift > AMOUNT_MAX_DIGITS)
			return false;
		for (int64_t k = 0; k < shift; k++)
			m[lead + sig++] = '0';
	}
	if (sig > AMOUNT_MAX_DIGITS || (sig == AMOUNT_MAX_DIGITS && memcmp(m + lead, REF_MAX, sig) > 0))
		return false;
	memcpy(out, m + lead, sig);
	out[sig] = '\0';
	return true;
}

static int
ref_cmp(const void *x, const void *y)
{
	const struct ref_entry *a = x;
	const struct ref_entry *b = y;
	size_t                  n = a->stream_len < b->stream_len ? a->stream_len : b->stream_len;
	int                     c = memcmp(a->stream, b->stream, n);

	if (c != 0)
		return c;
	return (a->stream_len > b->stream_len) - (a->stream_len < b->stream_len);
}

static bool
field_is(const struct lc_rec *r, size_t f, const char *name)
{
	const char *v = r->vals[f];
	size_t      len = r->lens[f];

	if (f == 0 && len >= 3 && memcmp(v, "\xEF\xBB\xBF", 3) == 0)
	{
		v += 3;
		len -= 3;
	}
	return len == strlen(name) && memcmp(v, name, len) == 0;
}

/*
 * The reference: true and *entries (sorted, nentries) when the document
 * libcsv read is a valid pools file.
 */
static bool
ref_pools(const struct lc_result *lc, unsigned decimals, struct ref_entry **entries,
		  size_t *nentries)
{
	const struct lc_rec *h;
	long                 col_stream = -1, col_pool = -1;
	struct ref_entry    *e;

	*entries = NULL;
	*nentries = 0;
	if (lc->outcome != LC_CLEAN || lc->nrecs == 0)
		return false;
	h = &lc->recs[0];
	if (h->nfields > POOLS_SPAN_CAP)
		return false;
	for (size_t f = 0; f < h->nfields; f++)
	{
		long *col = field_is(h, f, "stream_id") ? &col_stream
					: field_is(h, f, "pool")    ? &col_pool
												: NULL;

		if (col && *col >= 0)
			return false; /* a column twice */
		if (col)
			*col = (long) f;
	}
	if (col_stream < 0 || col_pool < 0)
		return false;
	e = fuzz_realloc(NULL, lc->nrecs * sizeof(*e));
	for (size_t r = 1; r < lc->nrecs; r++)
	{
		const struct lc_rec *row = &lc->recs[r];
		struct ref_entry    *x = &e[r - 1];

		if (row->nfields != h->nfields ||
			!ref_amount(row->vals[col_pool], row->lens[col_pool], decimals, x->pool) ||
			row->lens[col_stream] < 1 || row->lens[col_stream] > AGGREGATE_ID_MAX)
		{
			free(e);
			return false;
		}
		x->stream = row->vals[col_stream];
		x->stream_len = row->lens[col_stream];
		x->line = row->line;
	}
	qsort(e, lc->nrecs - 1, sizeof(*e), ref_cmp);
	for (size_t i = 1; i < lc->nrecs - 1; i++)
		if (ref_cmp(&e[i - 1], &e[i]) == 0)
		{
			free(e);
			return false;
		}
	*entries = e;
	*nentries = lc->nrecs - 1;
	return true;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const unsigned decimal_choices[] = { 0, 1, 6, 18, 36 };
	const char           *path = fuzz_file_write(data, size);
	unsigned              decimals = decimal_choices[fuzz_hash(data, size) % 5];
	struct pools          pools;
	struct lc_result      lc;
	struct ref_entry     *ref = NULL;
	size_t                nref = 0;
	bool                  ok;
	bool                  ref_ok;

	log_set_level(LOG_LEVEL_ERROR);
	pools_init(&pools);
	ok = pools_load(&pools, path, decimals, POOLS_FILE);

	lc_parse((const char *) data, size, &lc);
	ref_ok = ref_pools(&lc, decimals, &ref, &nref);
	fuzz_require(ok == ref_ok, "pools_load (%u decimals) says %d, the libcsv reference %d",
				 decimals, ok, ref_ok);
	if (ok)
	{
		unsigned char md[EVP_MAX_MD_SIZE];
		unsigned int  mdlen = 0;
		char          hex[65];
		bool          all_zero = true;

		fuzz_require(pools.path != NULL && strcmp(pools.path, path) == 0, "pools.path is '%s'",
					 pools.path ? pools.path : "(null)");
		fuzz_require(pools.origin == POOLS_FILE && pools.decimals == decimals,
					 "origin %d decimals %u", (int) pools.origin, pools.decimals);
		fuzz_require(pools.count == nref, "%zu pools, the reference %zu", pools.count, nref);
		for (size_t i = 0; i < pools.count; i++)
		{
			const struct pool_entry *e = &pools.entries[i];
			char                     got[AMOUNT_TEXT_LEN];

			amount_format(&e->pool, got);
			fuzz_require(e->stream_len >= 1 && e->stream_len <= AGGREGATE_ID_MAX,
						 "entry %zu: stream id of %zu bytes", i, e->stream_len);
			fuzz_require(i == 0 || aggregate_id_cmp(pools.entries[i - 1].stream,
													pools.entries[i - 1].stream_len, e->stream,
													e->stream_len) < 0,
						 "entries %zu and %zu out of order or equal", i - 1, i);
			fuzz_require(pools_find(&pools, e->stream, e->stream_len) == e,
						 "pools_find misses entry %zu", i);
			fuzz_require(e->stream_len == ref[i].stream_len &&
							 memcmp(e->stream, ref[i].stream, e->stream_len) == 0 &&
							 strcmp(got, ref[i].pool) == 0 && e->line == ref[i].line,
						 "entry %zu (%u decimals): pool %s line %llu; the reference %s line %llu",
						 i, decimals, got, (unsigned long long) e->line, ref[i].pool,
						 (unsigned long long) ref[i].line);
			all_zero &= strcmp(ref[i].pool, "0") == 0;
		}
		/* a stream absent from the file */
		fuzz_require(pools_find(&pools, "", 0) == NULL, "pools_find finds the empty id");
		fuzz_require(pools_all_zero(&pools) == all_zero, "pools_all_zero says %d, want %d",
					 pools_all_zero(&pools), all_zero);
		/* the copy is the file's bytes, and its digest OpenSSL's */
		fuzz_require(pools.copy_len == size && (size == 0 || memcmp(pools.copy, data, size) == 0),
					 "the copy (%zu bytes) is not the input (%zu bytes)", pools.copy_len, size);
		fuzz_require(EVP_Digest(data, size, md, &mdlen, EVP_sha256(), NULL) == 1 && mdlen == 32,
					 "EVP_Digest failed");
		for (unsigned k = 0; k < 32; k++)
			snprintf(hex + 2 * k, 3, "%02x", md[k]);
		fuzz_require(strcmp(pools.sha256, hex) == 0, "sha256 %s, OpenSSL's %s", pools.sha256, hex);
	}
	free(ref);
	lc_free(&lc);
	pools_release(&pools);
	return 0;
}
