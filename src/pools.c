/*
 * pools.c: the pools file (see pools.h).  Small, so read whole.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "payrun/aggregate.h"
#include "payrun/csvfield.h"
#include "payrun/csvscan.h"
#include "payrun/input.h"
#include "payrun/log.h"
#include "payrun/mem.h"
#include "payrun/numparse.h"
#include "payrun/pools.h"
#include "payrun/banned.h"

#define POOLS_MAX_BYTES (256 * 1024 * 1024)

void
pools_init(struct pools *pools)
{
	memset(pools, 0, sizeof(*pools));
}

void
pools_release(struct pools *pools)
{
	for (size_t i = 0; i < pools->count; i++)
		free(pools->entries[i].stream);
	free(pools->entries);
	free(pools->path);
	memset(pools, 0, sizeof(*pools));
}

bool
pools_parse_amount(const char *s, size_t len, int64_t *out)
{
	uint64_t v;

	if (!numparse_u64(s, len, 0, INT64_MAX, &v))
		return false;
	*out = (int64_t) v;
	return true;
}

enum
{
	POOLS_COL_STREAM,
	POOLS_COL_POOL,
	POOLS_NCOLS
};

static const char *const pools_columns[POOLS_NCOLS] = { "stream_id", "pool" };

struct pools_parse
{
	struct pools       *pools;
	const char         *path;
	bool                have_header;
	uint32_t            ncols;
	uint32_t            col[POOLS_NCOLS];
	struct csvfield_buf field;
};

static bool
on_pools_record(void *arg, const struct csv_record *rec)
{
	struct pools_parse *pp = arg;
	struct pools       *pools = pp->pools;
	const char         *v;
	size_t              vlen;
	int64_t             amount;

	if (!pp->have_header)
	{
		pp->ncols = rec->nfields;
		pp->have_header = true;
		return csvfield_match_header(rec, pp->path, pools_columns, POOLS_NCOLS, POOLS_NCOLS,
									 pp->col, NULL);
	}
	if (rec->bad_quote)
	{
		log_error("%s:%llu: misplaced quote", pp->path, (unsigned long long) rec->line);
		return false;
	}
	if (rec->nfields != pp->ncols)
	{
		log_error("%s:%llu: %u fields, header has %u", pp->path, (unsigned long long) rec->line,
				  rec->nfields, pp->ncols);
		return false;
	}
	v = csvfield_value(&pp->field, rec, pp->col[POOLS_COL_POOL], &vlen);
	if (!pools_parse_amount(v, vlen, &amount))
	{
		log_error("%s:%llu: pool '%.*s' is not an integer in 0..9223372036854775807", pp->path,
				  (unsigned long long) rec->line, (int) (vlen > 40 ? 40 : vlen), v);
		return false;
	}
	v = csvfield_value(&pp->field, rec, pp->col[POOLS_COL_STREAM], &vlen);
	if (vlen == 0 || vlen > AGGREGATE_ID_MAX)
	{
		log_error("%s:%llu: stream_id must be 1 to %d bytes (got %zu)", pp->path,
				  (unsigned long long) rec->line, AGGREGATE_ID_MAX, vlen);
		return false;
	}
	pools_add(pools, v, vlen, amount, rec->line);
	return true;
}

void
pools_add(struct pools *pools, const char *stream, size_t stream_len, int64_t pool, uint64_t line)
{
	struct pool_entry *e;

	if (pools->count == pools->cap)
	{
		pools->cap = pools->cap ? pools->cap * 2 : 64;
		pools->entries = mem_realloc_array(pools->entries, pools->cap, sizeof(*e));
	}
	e = &pools->entries[pools->count++];
	e->stream = mem_memdup(stream, stream_len);
	e->stream_len = stream_len;
	e->pool = pool;
	e->line = line;
}

static int
entry_cmp(const void *x, const void *y)
{
	const struct pool_entry *a = x;
	const struct pool_entry *b = y;

	return aggregate_id_cmp(a->stream, a->stream_len, b->stream, b->stream_len);
}

bool
pools_load(struct pools *pools, const char *path)
{
	char               *buf;
	size_t              len;
	struct csvscan      scan;
	struct pools_parse  pp;
	size_t              consumed;
	enum csvscan_status status;

	if (!input_read_whole(path, "pools file", POOLS_MAX_BYTES, &buf, &len))
		return false;

	memset(&pp, 0, sizeof(pp));
	pp.pools = pools;
	pp.path = path;
	csvscan_init(&scan, 64);
	status = csvscan_feed(&scan, buf, len, true, &consumed, on_pools_record, &pp);
	if (status == CSVSCAN_UNTERMINATED_QUOTE)
		log_error("%s:%llu: unterminated quoted field at end of file", path,
				  (unsigned long long) scan.error_line);
	else if (status == CSVSCAN_OK && !pp.have_header)
	{
		log_error("%s: empty file, expected a header stream_id,pool", path);
		status = CSVSCAN_STOPPED;
	}
	csvscan_release(&scan);
	csvfield_buf_release(&pp.field);
	free(buf);
	if (status != CSVSCAN_OK)
		return false;

	return pools_finish(pools, path);
}

bool
pools_finish(struct pools *pools, const char *origin)
{
	if (pools->count > 1)
		qsort(pools->entries, pools->count, sizeof(struct pool_entry), entry_cmp);
	for (size_t i = 1; i < pools->count; i++)
	{
		if (entry_cmp(&pools->entries[i - 1], &pools->entries[i]) == 0)
		{
			const struct pool_entry *a = &pools->entries[i - 1];
			const struct pool_entry *b = &pools->entries[i];

			log_error("%s:%llu: stream '%.*s' is listed twice (also line %llu)", origin,
					  (unsigned long long) (a->line > b->line ? a->line : b->line),
					  (int) a->stream_len, a->stream,
					  (unsigned long long) (a->line < b->line ? a->line : b->line));
			return false;
		}
	}
	pools->path = mem_strdup(origin);
	return true;
}

const struct pool_entry *
pools_find(const struct pools *pools, const char *stream, size_t stream_len)
{
	size_t lo = 0, hi = pools->count;

	while (lo < hi)
	{
		size_t                   mid = lo + (hi - lo) / 2;
		const struct pool_entry *e = &pools->entries[mid];
		int                      c = aggregate_id_cmp(e->stream, e->stream_len, stream, stream_len);

		if (c == 0)
			return e;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}
