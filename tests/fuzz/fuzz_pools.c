/*
 * fuzz_pools.c: libFuzzer target for the pools file reader (pools_load).
 *
 * The input is written to a scratch file (pools_load reads a path) and
 * loaded.  It must not crash or leak, and its answer must match a
 * reference built on libcsv from pools.h's description: a header naming
 * stream_id and pool once each (a UTF-8 BOM before the first name is
 * skipped; other columns are ignored), then rows of the header's width
 * whose pool is decimal digits in 0..INT64_MAX and whose stream_id is 1 to
 * AGGREGATE_ID_MAX bytes, no stream twice.  On success the entries must be
 * the reference's: sorted by id, unique, each with its pool and line, and
 * found by pools_find.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "payrun/aggregate.h"
#include "payrun/log.h"
#include "payrun/pools.h"
#include "fuzz_common.h"
#include "fuzz_libcsv.h"

/* pools.c keeps 64 field spans: a header wider than that is refused */
#define POOLS_SPAN_CAP 64

struct ref_entry
{
	const char *stream; /* into the lc_result */
	size_t      stream_len;
	int64_t     pool;
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

static bool
ref_amount(const char *s, size_t len, int64_t *out)
{
	unsigned __int128 v = 0;

	if (len == 0)
		return false;
	for (size_t i = 0; i < len; i++)
	{
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (unsigned) (s[i] - '0');
		if (v > INT64_MAX)
			return false;
	}
	*out = (int64_t) v;
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
ref_pools(const struct lc_result *lc, struct ref_entry **entries, size_t *nentries)
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
			!ref_amount(row->vals[col_pool], row->lens[col_pool], &x->pool) ||
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
	const char       *path = fuzz_file_write(data, size);
	struct pools      pools;
	struct lc_result  lc;
	struct ref_entry *ref = NULL;
	size_t            nref = 0;
	bool              ok;
	bool              ref_ok;

	log_set_level(LOG_LEVEL_ERROR);
	pools_init(&pools);
	ok = pools_load(&pools, path);

	lc_parse((const char *) data, size, &lc);
	ref_ok = ref_pools(&lc, &ref, &nref);
	fuzz_require(ok == ref_ok, "pools_load says %d, the libcsv reference %d", ok, ref_ok);
	if (ok)
	{
		fuzz_require(pools.path != NULL && strcmp(pools.path, path) == 0, "pools.path is '%s'",
					 pools.path ? pools.path : "(null)");
		fuzz_require(pools.count == nref, "%zu pools, the reference %zu", pools.count, nref);
		for (size_t i = 0; i < pools.count; i++)
		{
			const struct pool_entry *e = &pools.entries[i];

			fuzz_require(e->stream_len >= 1 && e->stream_len <= AGGREGATE_ID_MAX,
						 "entry %zu: stream id of %zu bytes", i, e->stream_len);
			fuzz_require(e->pool >= 0, "entry %zu: pool %lld", i, (long long) e->pool);
			fuzz_require(i == 0 || aggregate_id_cmp(pools.entries[i - 1].stream,
													pools.entries[i - 1].stream_len, e->stream,
													e->stream_len) < 0,
						 "entries %zu and %zu out of order or equal", i - 1, i);
			fuzz_require(pools_find(&pools, e->stream, e->stream_len) == e,
						 "pools_find misses entry %zu", i);
			fuzz_require(e->stream_len == ref[i].stream_len &&
							 memcmp(e->stream, ref[i].stream, e->stream_len) == 0 &&
							 e->pool == ref[i].pool && e->line == ref[i].line,
						 "entry %zu: pool %lld line %llu; the reference %lld line %llu", i,
						 (long long) e->pool, (unsigned long long) e->line, (long long) ref[i].pool,
						 (unsigned long long) ref[i].line);
		}
		/* a stream absent from the file */
		fuzz_require(pools_find(&pools, "", 0) == NULL, "pools_find finds the empty id");
	}
	free(ref);
	lc_free(&lc);
	pools_release(&pools);
	return 0;
}
