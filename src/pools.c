/*
 * pools.c: the pools file (see pools.h).  Small, so read whole.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "payrun/aggregate.h"
#include "payrun/csvscan.h"
#include "payrun/log.h"
#include "payrun/mem.h"
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
	int64_t v = 0;

	/* no length limit: leading zeros are digits too; overflow is checked */
	if (len == 0)
		return false;
	for (size_t i = 0; i < len; i++)
	{
		if (s[i] < '0' || s[i] > '9')
			return false;
		if (__builtin_mul_overflow(v, 10, &v) || __builtin_add_overflow(v, s[i] - '0', &v))
			return false;
	}
	*out = v;
	return true;
}

struct pools_parse
{
	struct pools *pools;
	const char   *path;
	bool          have_header;
	uint32_t      ncols;
	int           col_stream;
	int           col_pool;
	char         *scratch; /* owned, grows to the longest field */
	size_t        scratch_len;
	bool          failed;
};

static void
field_value(struct pools_parse *pp, const struct csv_record *rec, uint32_t i, const char **v,
			size_t *vlen)
{
	if (rec->spans[i].len > pp->scratch_len)
	{
		pp->scratch_len = rec->spans[i].len;
		pp->scratch = mem_realloc(pp->scratch, pp->scratch_len);
	}
	csvscan_field(rec, i, pp->scratch, v, vlen);
}

static bool
on_header(struct pools_parse *pp, const struct csv_record *rec)
{
	pp->col_stream = pp->col_pool = -1;
	if (rec->bad_quote || rec->nfields != rec->nspans)
	{
		log_error("%s:%llu: malformed header", pp->path, (unsigned long long) rec->line);
		return false;
	}
	for (uint32_t i = 0; i < rec->nfields; i++)
	{
		const char *v;
		size_t      vlen;
		int        *col = NULL;

		field_value(pp, rec, i, &v, &vlen);
		if (i == 0 && vlen >= 3 && memcmp(v, "\xEF\xBB\xBF", 3) == 0)
		{
			v += 3;
			vlen -= 3;
		}
		if (vlen == 9 && memcmp(v, "stream_id", 9) == 0)
			col = &pp->col_stream;
		else if (vlen == 4 && memcmp(v, "pool", 4) == 0)
			col = &pp->col_pool;
		if (col && *col >= 0)
		{
			log_error("%s:%llu: column '%.*s' appears twice in the header", pp->path,
					  (unsigned long long) rec->line, (int) vlen, v);
			return false;
		}
		if (col)
			*col = (int) i;
	}
	if (pp->col_stream < 0 || pp->col_pool < 0)
	{
		log_error("%s:%llu: header lacks required column '%s' (need stream_id,pool)", pp->path,
				  (unsigned long long) rec->line, pp->col_stream < 0 ? "stream_id" : "pool");
		return false;
	}
	pp->ncols = rec->nfields;
	pp->have_header = true;
	return true;
}

static bool
on_pools_record(void *arg, const struct csv_record *rec)
{
	struct pools_parse *pp = arg;
	struct pools       *pools = pp->pools;
	const char         *v;
	size_t              vlen;
	int64_t             amount;

	if (!pp->have_header)
		return on_header(pp, rec);
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
	field_value(pp, rec, (uint32_t) pp->col_pool, &v, &vlen);
	if (!pools_parse_amount(v, vlen, &amount))
	{
		log_error("%s:%llu: pool '%.*s' is not an integer in 0..9223372036854775807", pp->path,
				  (unsigned long long) rec->line, (int) (vlen > 40 ? 40 : vlen), v);
		return false;
	}
	field_value(pp, rec, (uint32_t) pp->col_stream, &v, &vlen);
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
	FILE               *f;
	struct stat         st;
	char               *buf;
	size_t              len;
	struct csvscan      scan;
	struct pools_parse  pp;
	size_t              consumed;
	enum csvscan_status status;

	f = fopen(path, "rb");
	if (f == NULL)
	{
		log_error("could not open pools file '%s': %s", path, strerror(errno));
		return false;
	}
	if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > POOLS_MAX_BYTES)
	{
		log_error("could not read pools file '%s': %s", path,
				  S_ISREG(st.st_mode) ? "larger than 256 MiB" : "not a regular file");
		fclose(f);
		return false;
	}
	buf = mem_alloc((size_t) st.st_size + CSVSCAN_PAD);
	len = fread(buf, 1, (size_t) st.st_size, f);
	if (ferror(f))
	{
		log_error("could not read pools file '%s': %s", path, strerror(errno));
		fclose(f);
		free(buf);
		return false;
	}
	fclose(f);
	memset(buf + len, 0, CSVSCAN_PAD);

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
	free(pp.scratch);
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
