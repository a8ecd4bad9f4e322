/*
 * pools.c: the pools of a period (see pools.h).  A pools file is small, so
 * it is read whole; its bytes are its copy.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "payrun/aggregate.h"
#include "payrun/csvfield.h"
#include "payrun/csvout.h"
#include "payrun/csvscan.h"
#include "payrun/input.h"
#include "payrun/log.h"
#include "payrun/mem.h"
#include "payrun/pools.h"
#include "payrun/banned.h"

#define POOLS_MAX_BYTES (256 * 1024 * 1024)

enum
{
	POOLS_COL_STREAM,
	POOLS_COL_POOL,
	POOLS_NCOLS
};

static const char *const pools_columns[POOLS_NCOLS] = { "stream_id", "pool" };

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
	free(pools->copy);
	memset(pools, 0, sizeof(*pools));
}

const char *
pools_origin_name(enum pools_origin origin)
{
	switch (origin)
	{
		case POOLS_NONE:
			return "none";
		case POOLS_FILE:
			return "file";
		case POOLS_TABLE:
			return "payout_pools";
		case POOLS_QUERY:
			return "query";
		case POOLS_VERSION:
			return "previous version";
	}
	return "unknown";
}

static void
add_entry(struct pools *pools, const char *stream, size_t stream_len, const struct amount *pool,
		  uint64_t line)
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
	e->pool = *pool;
	e->line = line;
}

/* Validates one stream's pool; logs "what:line: ..." naming the stream and value. */
static bool
parse_entry(struct pools *pools, const char *what, uint64_t line, const char *stream,
			size_t stream_len, const char *amount, size_t amount_len)
{
	struct amount      a;
	enum amount_status st;

	if (stream_len == 0 || stream_len > AGGREGATE_ID_MAX)
	{
		log_error("%s:%llu: stream_id must be 1 to %d bytes (got %zu)", what,
				  (unsigned long long) line, AGGREGATE_ID_MAX, stream_len);
		return false;
	}
	st = amount_parse(amount, amount_len, pools->decimals, &a);
	if (st != AMOUNT_OK)
	{
		log_error("%s:%llu: stream '%.*s': pool '%.*s' is invalid with %u token decimals: %s", what,
				  (unsigned long long) line, (int) stream_len, stream,
				  (int) (amount_len > 100 ? 100 : amount_len), amount, pools->decimals,
				  amount_status_message(st));
		return false;
	}
	add_entry(pools, stream, stream_len, &a, line);
	return true;
}

struct pools_parse
{
	struct pools       *pools;
	const char         *path;
	bool                have_header;
	uint32_t            ncols;
	uint32_t            col[POOLS_NCOLS];
	struct csvfield_buf stream;
	struct csvfield_buf pool;
};

static bool
on_pools_record(void *arg, const struct csv_record *rec)
{
	struct pools_parse *pp = arg;
	const char         *stream, *amount;
	size_t              stream_len, amount_len;

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
	stream = csvfield_value(&pp->stream, rec, pp->col[POOLS_COL_STREAM], &stream_len);
	amount = csvfield_value(&pp->pool, rec, pp->col[POOLS_COL_POOL], &amount_len);
	return parse_entry(pp->pools, pp->path, rec->line, stream, stream_len, amount, amount_len);
}

/* Scans a pools file's bytes into pools. */
static bool
parse_file(struct pools *pools, const char *path, const char *buf, size_t len)
{
	struct csvscan      scan;
	struct pools_parse  pp;
	size_t              consumed;
	enum csvscan_status status;

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
	csvfield_buf_release(&pp.stream);
	csvfield_buf_release(&pp.pool);
	return status == CSVSCAN_OK;
}

bool
pools_load(struct pools *pools, const char *path, unsigned decimals, enum pools_origin origin)
{
	char  *buf;
	size_t len;

	pools->origin = origin;
	pools->decimals = decimals;
	if (!input_read_whole(path, "pools file", POOLS_MAX_BYTES, &buf, &len))
		return false;
	if (!parse_file(pools, path, buf, len))
	{
		free(buf);
		return false;
	}
	pools->copy = buf; /* the file's own bytes are its copy */
	pools->copy_len = len;
	pools->path = mem_strdup(path);
	return pools_finish(pools, path);
}

static void
copy_write(void *arg, const void *data, size_t len)
{
	struct pools *pools = arg;

	if (pools->copy_len + len > pools->copy_cap)
	{
		pools->copy_cap = (pools->copy_len + len) * 2;
		pools->copy = mem_realloc(pools->copy, pools->copy_cap);
	}
	memcpy(pools->copy + pools->copy_len, data, len);
	pools->copy_len += len;
}

void
pools_begin_rows(struct pools *pools, enum pools_origin origin, unsigned decimals)
{
	struct csvout w = { .write = copy_write, .arg = pools };

	pools->origin = origin;
	pools->decimals = decimals;
	csvout_bytes(&w, "stream_id,pool\n", 15);
}

bool
pools_add_text(struct pools *pools, const char *what, uint64_t row, const char *stream,
			   size_t stream_len, const char *amount, size_t amount_len)
{
	struct csvout w = { .write = copy_write, .arg = pools };

	if (!parse_entry(pools, what, row, stream, stream_len, amount, amount_len))
		return false;
	csvout_field(&w, stream, stream_len);
	csvout_char(&w, ',');
	csvout_field(&w, amount, amount_len);
	csvout_char(&w, '\n');
	return true;
}

static int
entry_cmp(const void *x, const void *y)
{
	const struct pool_entry *a = x;
	const struct pool_entry *b = y;

	return aggregate_id_cmp(a->stream, a->stream_len, b->stream, b->stream_len);
}

bool
pools_finish(struct pools *pools, const char *what)
{
	struct sha256 d;

	if (pools->count > 1)
		qsort(pools->entries, pools->count, sizeof(struct pool_entry), entry_cmp);
	for (size_t i = 1; i < pools->count; i++)
	{
		const struct pool_entry *a = &pools->entries[i - 1];
		const struct pool_entry *b = &pools->entries[i];

		if (entry_cmp(a, b) == 0)
		{
			log_error("%s:%llu: stream '%.*s' is listed twice (also line %llu)", what,
					  (unsigned long long) (a->line > b->line ? a->line : b->line),
					  (int) a->stream_len, a->stream,
					  (unsigned long long) (a->line < b->line ? a->line : b->line));
			return false;
		}
	}
	sha256_init(&d);
	sha256_update(&d, pools->copy ? pools->copy : "", pools->copy_len);
	sha256_final_hex(&d, pools->sha256);
	sha256_release(&d);
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

bool
pools_all_zero(const struct pools *pools)
{
	for (size_t i = 0; i < pools->count; i++)
	{
		if (!amount_is_zero(&pools->entries[i].pool))
			return false;
	}
	return true;
}
