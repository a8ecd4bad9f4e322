/*
 * source_csv.c: probe exports -> aggregate (see source_csv.h).
 *
 * The reader thread inflates ahead; this thread scans, validates and
 * reduces.  A record cut by a chunk boundary is carried into the next
 * chunk's headroom (or, when longer than that, into a side buffer) and
 * scanned again from its start.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "payrun/csvfield.h"
#include "payrun/csvscan.h"
#include "payrun/fault.h"
#include "payrun/log.h"
#include "payrun/mem.h"
#include "payrun/numparse.h"
#include "payrun/progress.h"
#include "payrun/source_csv.h"
#include "source_csv_int.h"
#include "payrun/timestamp.h"
#include "payrun/paths.h"
#include "payrun/banned.h"

static const char *const column_names[COL_COUNT] = { "stream_id",       "node_id",
													 "probe_type",      "success",
													 "probe_timestamp", "id",
													 "error_message",   "response_data" };

void
csv_flush_batch(struct reader *r)
{
	for (int i = 0; i < r->nbatch; i++)
		aggregate_prefetch_entry(r->batch[i].agg, r->batch[i].hash);
	for (int i = 0; i < r->nbatch; i++)
	{
		const struct pending_row *p = &r->batch[i];
		struct agg_counts *c = aggregate_lookup_hashed(p->agg, p->hash, p->key, p->stream_len,
													   p->key + p->stream_len, p->node_len);

		if (p->poll)
		{
			c->total_polls++;
			c->successful_polls += p->ok;
		}
		else
			c->failed_spot_checks += !p->ok;
	}
	r->nbatch = 0;
}

static bool
on_header(struct reader *r, const struct csv_record *rec)
{
	size_t   required = r->win->row_fn ? COL_ID + 1 : COL_REQUIRED;
	uint32_t last_col;

	if (!csvfield_match_header(rec, r->path, column_names, COL_COUNT, required, r->col, &last_col))
		return false;
	r->ncols = rec->nfields;
	r->have_header = true;
	if (r->col[COL_ID] == CSVFIELD_ABSENT || r->win->row_fn)
		r->seen = NULL; /* no ids to check; a load skips ids in the database */
	/* data records only need spans up to the last needed column */
	csvscan_set_span_cap(r->scan, last_col + 1);
	return true;
}

static inline bool
reject(struct reader *r, const struct csv_record *rec, enum reject_reason reason)
{
	if (r->stage)
		csv_stage_reject(r->stage, rec->line, reason, rec->raw, rec->len);
	else
		rejects_add(r->rejects, r->path, rec->line, reason, rec->raw, rec->len);
	r->counts->rejected++;
	return true;
}

/* A small field's value; NULL if its raw span is longer than max. */
static inline const char *
small_field(struct reader *r, const struct csv_record *rec, int c, size_t max, size_t *len)
{
	const struct csv_span *sp = &rec->spans[r->col[c]];
	const char            *v;

	if (sp->len > max)
		return NULL;
	/* most fields are not quoted: their value is their span, no call needed */
	if (sp->len < 2 || rec->raw[sp->off] != '"')
	{
		*len = sp->len;
		return rec->raw + sp->off;
	}
	csvscan_field(rec, r->col[c], c < COL_REQUIRED ? r->scratch[c] : r->id_scratch, &v, len);
	return v;
}

/*
 * The id field: short ones through the scratch buffer, a longer one (zeros
 * in front: 0000...07 is id 7) through its growable buffer.
 */
static const char *
id_field(struct reader *r, const struct csv_record *rec, size_t *len)
{
	const char *v = small_field(r, rec, COL_ID, 24, len);

	return v ? v : csvfield_value(&r->big[COL_ID], rec, r->col[COL_ID], len);
}

static inline int
lower(char c)
{
	return (c >= 'A' && c <= 'Z') ? c + 32 : c;
}

/* t f true false 1 0, any case; -1 if none of those. */
static inline int
parse_success(const char *v, size_t n)
{
	if (n == 1)
	{
		switch (lower(v[0]))
		{
			case 't':
			case '1':
				return 1;
			case 'f':
			case '0':
				return 0;
			default:
				return -1;
		}
	}
	if (n == 4 && lower(v[0]) == 't' && lower(v[1]) == 'r' && lower(v[2]) == 'u' &&
		lower(v[3]) == 'e')
		return 1;
	if (n == 5 && lower(v[0]) == 'f' && lower(v[1]) == 'a' && lower(v[2]) == 'l' &&
		lower(v[3]) == 's' && lower(v[4]) == 'e')
		return 0;
	return -1;
}

/* A free-text column's value (any length), or NULL when the file has none. */
static const char *
big_field(struct reader *r, const struct csv_record *rec, int c, size_t *len)
{
	if (r->col[c] == CSVFIELD_ABSENT)
		return NULL;
	return csvfield_value(&r->big[c], rec, r->col[c], len);
}

/* Validates the id and hands a loadable row to the window's row_fn. */
static bool
load_row(struct reader *r, const struct csv_record *rec, const char *stream, size_t stream_len,
		 const char *node, size_t node_len, bool poll, int ok, const char *ts, size_t ts_len)
{
	struct source_row row = {
		.stream = stream,
		.stream_len = stream_len,
		.node = node,
		.node_len = node_len,
		.poll = poll,
		.ok = ok,
		.timestamp = ts,
		.timestamp_len = ts_len,
	};
	uint64_t id;

	row.id = id_field(r, rec, &row.id_len);
	/* a bigint at most: the widest id column the load may meet */
	if (row.id == NULL || !numparse_u64(row.id, row.id_len, 0, INT64_MAX, &id))
	{
		rejects_add(r->rejects, r->path, rec->line, REJECT_BAD_ID, rec->raw, rec->len);
		r->counts->rejected++;
		return true;
	}
	row.error_message = big_field(r, rec, COL_ERROR, &row.error_message_len);
	row.response_data = big_field(r, rec, COL_RESPONSE, &row.response_data_len);
	r->counts->in_period++;
	if (!r->win->row_fn(r->win->row_arg, &row))
	{
		r->failed = true;
		return false;
	}
	return true;
}

/*
 * A valid row's probe id: true the first time it is seen; a bad id is
 * rejected, an id seen before is a duplicate (both false).  Past the ids
 * idset holds, ids_full is set and the read stops.
 */
static bool
first_sight(struct reader *r, const struct csv_record *rec)
{
	size_t      len;
	const char *v = id_field(r, rec, &len);
	uint64_t    id;

	if (v == NULL || !numparse_u64(v, len, 0, INT64_MAX, &id))
	{
		reject(r, rec, REJECT_BAD_ID);
		return false;
	}
	if (r->quiet && r->seen->nranges + r->seen->nruns >= r->max_ranges)
	{
		r->ids_full = true; /* a part read ahead: read again, in turn */
		return false;
	}
	switch (idset_add(r->seen, id))
	{
		case IDSET_NEW:
			return true;
		case IDSET_SEEN:
			r->counts->duplicate++;
			return false;
		case IDSET_FULL:
			break;
	}
	r->ids_full = true;
	if (r->quiet)
		return false;
	log_error("%s:%llu: the probe ids are spread over more than %d ranges of %d ids; payrun "
			  "counts each probe id once and cannot keep track of so many",
			  r->path, (unsigned long long) rec->line, IDSET_MAX_RANGES, 1 << IDSET_RANGE_BITS);
	return false;
}

bool
csv_on_record(void *arg, const struct csv_record *rec)
{
	struct reader              *r = arg;
	const char                 *stream, *node, *type, *succ, *ts;
	size_t                      stream_len, node_len, type_len, succ_len, ts_len;
	bool                        poll;
	int                         ok;
	int64_t                     t;
	struct pending_row         *p;
	const struct source_window *win = r->win;
	size_t                      idx;

	if (!r->have_header)
		return on_header(r, rec);

	r->counts->rows_read++;
	r->rows++;
	if (rec->bad_quote)
		return reject(r, rec, REJECT_BAD_QUOTE);
	if (rec->nfields != r->ncols)
		return reject(r, rec, REJECT_FIELD_COUNT);

	stream = small_field(r, rec, COL_STREAM, FIELD_SCRATCH, &stream_len);
	if (stream == NULL || stream_len > AGGREGATE_ID_MAX)
		return reject(r, rec, REJECT_STREAM_ID_TOO_LONG);
	if (stream_len == 0)
		return reject(r, rec, REJECT_EMPTY_STREAM_ID);
	node = small_field(r, rec, COL_NODE, FIELD_SCRATCH, &node_len);
	if (node == NULL || node_len > AGGREGATE_ID_MAX)
		return reject(r, rec, REJECT_NODE_ID_TOO_LONG);
	if (node_len == 0)
		return reject(r, rec, REJECT_EMPTY_NODE_ID);

	type = small_field(r, rec, COL_TYPE, 64, &type_len);
	if (type != NULL && type_len == 10 && memcmp(type, "stats_poll", 10) == 0)
		poll = true;
	else if (type != NULL && type_len == 10 && memcmp(type, "spot_check", 10) == 0)
		poll = false;
	else
		return reject(r, rec, REJECT_BAD_PROBE_TYPE);

	succ = small_field(r, rec, COL_SUCCESS, 64, &succ_len);
	ok = succ ? parse_success(succ, succ_len) : -1;
	if (ok < 0)
		return reject(r, rec, REJECT_BAD_SUCCESS);

	ts = small_field(r, rec, COL_TIMESTAMP, 64, &ts_len);
	if (ts == NULL || !timestamp_parse(ts, ts_len, &t))
		return reject(r, rec, REJECT_BAD_TIMESTAMP);

	if (win->row_fn)
		return load_row(r, rec, stream, stream_len, node, node_len, poll, ok, ts, ts_len);
	if (r->seen && !first_sight(r, rec))
		return !r->ids_full;
	if (t < win->start || (uint64_t) (t - win->start) >= (uint64_t) win->span * win->nperiods)
	{
		r->counts->out_of_period++;
		return true;
	}
	/* one period (settle): no 64-bit division a row */
	idx = win->nperiods == 1 ? 0 : (size_t) ((t - win->start) / win->span);
	r->counts->in_period++;
	win->in_period[idx]++;
	if (win->covers)
		coverage_add(&win->covers[idx], t);
	if (r->staged)
	{
		csv_stage_row(r->staged, idx, stream, stream_len, node, node_len, poll, ok);
		return true;
	}
	p = &r->batch[r->nbatch++];
	p->agg = &win->aggs[idx];
	if (__builtin_expect(p->agg->slots == NULL, 0))
		aggregate_init(p->agg); /* a shard's aggregates start out empty */
	p->stream_len = (uint8_t) stream_len;
	p->node_len = (uint8_t) node_len;
	p->poll = poll;
	p->ok = ok;
	memcpy(p->key, stream, stream_len);
	memcpy(p->key + stream_len, node, node_len);
	p->hash = aggregate_hash(stream, stream_len, node, node_len);
	aggregate_prefetch_slot(p->agg, p->hash);
	if (r->nbatch == BATCH_ROWS)
		csv_flush_batch(r);
	return true;
}

bool
csv_scan_buffer(struct reader *r, const char *buf, size_t len, bool eof, size_t *consumed)
{
	enum csvscan_status st = csvscan_feed(r->scan, buf, len, eof, consumed, csv_on_record, r);

	if (st == CSVSCAN_UNTERMINATED_QUOTE)
	{
		log_error("%s:%llu: unterminated quoted field at end of file", r->path,
				  (unsigned long long) r->scan->error_line);
		return false;
	}
	return st == CSVSCAN_OK;
}

static enum payrun_exit
read_file(const char *path, const struct input_options *input_opts, struct reader *r,
		  struct source_file *file)
{
	struct input       *in;
	struct input_chunk *prev = NULL;
	struct input_chunk *cur;
	const char         *carry = NULL; /* unfinished record: in prev, or in side */
	size_t              carry_len = 0;
	char               *side = NULL; /* owned, for records longer than the headroom */
	size_t              side_cap = 0;
	struct progress     pg;
	bool                ok = true;

	if (!input_open(path, input_opts, &in))
		return PAYRUN_EXIT_DATA;
	progress_init(&pg, path);
	progress_set_total(&pg, input_size(in));
	if (r->no_progress)
		pg.enabled = false;
	for (;;)
	{
		const char *buf;
		size_t      len;
		size_t      consumed;

		if (!input_next(in, &cur))
		{
			ok = false;
			break;
		}
		if (cur == NULL)
		{
			/* end of data: the carried bytes are the final record */
			if (!r->have_header && carry_len == 0)
			{
				log_error("%s: empty file, expected a header line", path);
				ok = false;
			}
			else
				ok = csv_scan_buffer(r, carry ? carry : "", carry_len, true, &consumed);
			if (ok && !r->have_header)
			{
				log_error("%s: no complete header line", path);
				ok = false;
			}
			break;
		}
		if (carry_len == 0)
		{
			buf = cur->data;
			len = cur->len;
		}
		else if (carry_len <= INPUT_HEADROOM)
		{
			memcpy(cur->data - carry_len, carry, carry_len);
			buf = cur->data - carry_len;
			len = carry_len + cur->len;
		}
		else
		{
			size_t need = carry_len + cur->len + CSVSCAN_PAD;
			size_t carry_off = (carry >= side && carry < side + side_cap) ? (size_t) (carry - side)
																		  : SIZE_MAX;

			if (need > side_cap)
			{
				side = mem_realloc(side, need);
				side_cap = need;
			}
			if (carry_off != SIZE_MAX)
				memmove(side, side + carry_off, carry_len);
			else
				memcpy(side, carry, carry_len);
			memcpy(side + carry_len, cur->data, cur->len);
			memset(side + carry_len + cur->len, 0, CSVSCAN_PAD);
			buf = side;
			len = carry_len + cur->len;
		}
		if (prev)
			input_release(in, prev);
		prev = cur;

		if (!csv_scan_buffer(r, buf, len, false, &consumed))
		{
			ok = false;
			break;
		}
		carry = buf + consumed;
		carry_len = len - consumed;
		if (carry_len > SOURCE_CSV_MAX_RECORD)
		{
			log_error("%s:%llu: record longer than %d MiB", path,
					  (unsigned long long) r->scan->line, SOURCE_CSV_MAX_RECORD / (1024 * 1024));
			ok = false;
			break;
		}
		progress_update(&pg, input_bytes_read(in), r->counts->rows_read);
		fault_point("read_chunk");
	}
	csv_flush_batch(r);
	progress_done(&pg);
	if (prev)
		input_release(in, prev);
	free(side);
	return csv_file_done(r, in, file, ok);
}

enum payrun_exit
csv_file_done(struct reader *r, struct input *in, struct source_file *file, bool ok)
{
	struct input_stats stats;
	const char        *path = r->path;

	input_get_stats(in, &stats);
	input_close(in);
	file->path = path;
	file->kind = stats.kind;
	file->inflater = stats.inflater;
	file->bytes = stats.file_bytes;
	file->rows = r->rows;
	memcpy(file->sha256, stats.sha256, sizeof(file->sha256));
	r->counts->file_bytes += stats.file_bytes;
	r->counts->decoded_bytes += stats.decoded_bytes;
	if (ok)
		log_info("read '%s' (%s, %u member(s)%s%s): %llu bytes, %llu decoded, %llu rows", path,
				 stats.kind, stats.gzip_members, stats.inflater ? ", inflated by " : "",
				 stats.inflater ? stats.inflater : "", (unsigned long long) stats.file_bytes,
				 (unsigned long long) stats.decoded_bytes, (unsigned long long) r->rows);
	return ok ? PAYRUN_EXIT_OK : PAYRUN_EXIT_DATA;
}

void
source_window_single(struct source_window *win, const struct period *period, struct aggregate *agg,
					 uint64_t *in_period, struct coverage *cover, struct idset *seen)
{
	memset(win, 0, sizeof(*win));
	win->start = period->start;
	win->span = period->end - period->start;
	win->nperiods = 1;
	win->aggs = agg;
	win->in_period = in_period;
	win->covers = cover;
	win->seen = seen;
}

/*
 * Reads one file; with stage, its rejects wait there.  progress: draw the
 * progress line (only one thread may).  workers > 1: parse it on that many
 * threads (csv_read_split), for a window without row_fn and no stage.
 */
static enum payrun_exit
read_one(const char *path, const struct source_window *win, const struct input_options *input_opts,
		 struct rejects *rejects, struct source_counts *counts, struct source_file *file,
		 struct shard *stage, bool progress, unsigned workers, size_t part_bytes)
{
	struct csvscan   scan;
	struct reader   *r = mem_calloc(1, sizeof(*r));
	enum payrun_exit rc;

	/* the header may be wide; data records shrink the cap once it is read */
	csvscan_init(&scan, 65536);
	r->path = path;
	r->win = win;
	r->rejects = rejects;
	r->counts = counts;
	r->scan = &scan;
	r->stage = stage;
	r->no_progress = !progress;
	r->seen = win->seen;
	if (workers > 1 && win->row_fn == NULL && stage == NULL)
		rc = csv_read_split(path, input_opts, r, file, workers, part_bytes);
	else
		rc = read_file(path, input_opts, r, file);
	if (rc != PAYRUN_EXIT_OK && r->failed)
		rc = PAYRUN_EXIT_DB; /* the row consumer failed, and said why */
	csvscan_release(&scan);
	for (int c = 0; c < COL_COUNT; c++)
		csvfield_buf_release(&r->big[c]);
	free(r);
	return rc;
}

enum payrun_exit
csv_read_one(const char *path, const struct source_window *win,
			 const struct input_options *input_opts, struct rejects *rejects,
			 struct source_counts *counts, struct source_file *file, unsigned workers,
			 size_t part_bytes)
{
	return read_one(path, win, input_opts, rejects, counts, file, NULL, false, workers, part_bytes);
}

enum payrun_exit
source_csv_read_file(const char *path, const struct source_window *win,
					 const struct input_options *input_opts, struct rejects *rejects,
					 struct source_counts *counts, struct source_file *file)
{
	return read_one(path, win, input_opts, rejects, counts, file, NULL, true, 1, 0);
}

/*
 * Reading several files at once.
 *
 * Each file is read by the usual two-thread pipeline (one thread inflates,
 * one parses) into a shard of its own: aggregates for the window's periods
 * (created on first use), counts, and its rejects, kept in memory in the
 * order they were found.  This thread takes the shards in file order as
 * they finish and adds them in: the aggregates, the counts, the rejects
 * written as the sequential reader would have written them.  So the result
 * is the same as reading the files one after another; only the time
 * differs.  The first file that fails (in file order) decides the status,
 * and no file after it is started.  A shard whose rejects outgrow
 * STAGE_MAX_BYTES stops keeping them, and its file is read again here,
 * straight into the results, when its turn comes (such a file usually
 * fails its reject ratio anyway).
 */

void
csv_stage_reject(struct shard *sh, uint64_t line, enum reject_reason reason, const char *raw,
				 size_t len)
{
	struct staged_reject *e;

	if (len > REJECTS_RECORD_MAX)
		len = REJECTS_RECORD_MAX;
	if (sh->overflow || sh->raw_len + len + (sh->nrj + 1) * sizeof(*sh->rj) > STAGE_MAX_BYTES)
	{
		sh->overflow = true;
		return;
	}
	if (sh->nrj == sh->rj_cap)
	{
		sh->rj_cap = sh->rj_cap ? sh->rj_cap * 2 : 64;
		sh->rj = mem_realloc_array(sh->rj, sh->rj_cap, sizeof(*sh->rj));
	}
	if (sh->raw_len + len > sh->raw_cap)
	{
		sh->raw_cap = sh->raw_cap ? sh->raw_cap * 2 : 64 * 1024;
		while (sh->raw_cap < sh->raw_len + len)
			sh->raw_cap *= 2;
		sh->raw = mem_realloc(sh->raw, sh->raw_cap);
	}
	e = &sh->rj[sh->nrj++];
	e->line = line;
	e->raw_off = sh->raw_len;
	e->raw_len = (uint32_t) len;
	e->reason = (uint8_t) reason;
	memcpy(sh->raw + sh->raw_len, raw, len);
	sh->raw_len += len;
}

void
csv_shard_init(struct shard *sh, const struct source_window *win)
{
	sh->aggs = mem_calloc(win->nperiods, sizeof(struct aggregate));
	sh->in_period = mem_calloc(win->nperiods, sizeof(uint64_t));
	sh->win = *win;
	sh->win.aggs = sh->aggs;
	sh->win.in_period = sh->in_period;
	if (win->covers)
	{
		sh->covers = mem_calloc(win->nperiods, sizeof(struct coverage));
		for (size_t i = 0; i < win->nperiods; i++)
			coverage_init(&sh->covers[i], win->covers[i].start, win->covers[i].span,
						  win->covers[i].slices);
	}
	sh->win.covers = sh->covers;
	idset_init(&sh->seen);
	sh->win.seen = win->seen ? &sh->seen : NULL;
}

void
csv_shard_release(struct shard *sh)
{
	if (sh->aggs)
	{
		for (size_t i = 0; i < sh->win.nperiods; i++)
			if (sh->aggs[i].slots != NULL)
				aggregate_release(&sh->aggs[i]);
	}
	free(sh->aggs);
	free(sh->in_period);
	for (size_t i = 0; sh->covers && i < sh->win.nperiods; i++)
		coverage_release(&sh->covers[i]);
	free(sh->covers);
	sh->covers = NULL;
	idset_release(&sh->seen);
	free(sh->rj);
	free(sh->raw);
	sh->aggs = NULL;
	sh->in_period = NULL;
	sh->rj = NULL;
	sh->raw = NULL;
}

bool
csv_shard_merge(struct shard *sh, const struct source_window *win, struct rejects *rejects,
				struct source_counts *counts, uint64_t line_base)
{
	bool ok = true;

	for (size_t p = 0; p < win->nperiods; p++)
	{
		win->in_period[p] += sh->in_period[p];
		if (sh->covers)
			coverage_merge(&win->covers[p], &sh->covers[p]);
		if (sh->aggs[p].slots != NULL && !aggregate_merge(&win->aggs[p], &sh->aggs[p]))
		{
			log_error("%s: a probe counter overflowed", sh->path);
			ok = false;
		}
	}
	counts->rows_read += sh->counts.rows_read;
	counts->in_period += sh->counts.in_period;
	counts->out_of_period += sh->counts.out_of_period;
	counts->rejected += sh->counts.rejected;
	counts->duplicate += sh->counts.duplicate;
	counts->file_bytes += sh->counts.file_bytes;
	counts->decoded_bytes += sh->counts.decoded_bytes;
	for (size_t j = 0; j < sh->nrj; j++)
		rejects_add(rejects, sh->path, sh->rj[j].line + line_base,
					(enum reject_reason) sh->rj[j].reason, sh->raw + sh->rj[j].raw_off,
					sh->rj[j].raw_len);
	return ok;
}

struct file_pool
{
	pthread_mutex_t             lock;
	pthread_cond_t              cond;
	struct shard               *shards; /* npaths, each with its path */
	size_t                      npaths;
	size_t                      next;   /* the next file to start */
	size_t                      merged; /* files added in by the main thread */
	size_t                      window; /* files started but not merged, at most */
	bool                        stop;   /* a file failed: start no more */
	const struct input_options *input_opts;
	const struct source_window *win; /* the caller's */
};

static void *
file_worker(void *arg)
{
	struct file_pool *fp = arg;

	for (;;)
	{
		struct shard *sh;

		pthread_mutex_lock(&fp->lock);
		/* a finished shard holds memory until merged: stay within the window */
		while (!fp->stop && fp->next < fp->npaths && fp->next >= fp->merged + fp->window)
			pthread_cond_wait(&fp->cond, &fp->lock);
		if (fp->stop || fp->next == fp->npaths)
		{
			pthread_mutex_unlock(&fp->lock);
			return NULL;
		}
		sh = &fp->shards[fp->next++];
		sh->started = true;
		pthread_mutex_unlock(&fp->lock);

		csv_shard_init(sh, fp->win);
		sh->rc = read_one(sh->path, &sh->win, fp->input_opts, NULL, &sh->counts, &sh->file, sh,
						  false, 1, 0);

		pthread_mutex_lock(&fp->lock);
		sh->done = true;
		if (sh->rc != PAYRUN_EXIT_OK)
			fp->stop = true;
		pthread_cond_broadcast(&fp->cond);
		pthread_mutex_unlock(&fp->lock);
	}
}

/* Reads the files one after another, straight into the results, each parsed by workers threads. */
static enum payrun_exit
read_in_turn(const char *const *paths, size_t npaths, const struct source_window *win,
			 const struct input_options *input_opts, struct rejects *rejects,
			 struct source_counts *counts, struct source_file *files, unsigned workers)
{
	for (size_t i = 0; i < npaths; i++)
	{
		enum payrun_exit rc = read_one(paths[i], win, input_opts, rejects, counts, &files[i], NULL,
									   true, workers, 0);

		if (rc != PAYRUN_EXIT_OK)
			return rc;
	}
	return PAYRUN_EXIT_OK;
}

static enum payrun_exit
read_files_at_once(const char *const *paths, size_t npaths, const struct source_window *win,
				   const struct input_options *input_opts, unsigned jobs, struct rejects *rejects,
				   struct source_counts *counts, struct source_file *files)
{
	struct file_pool fp = { .npaths = npaths, .input_opts = input_opts, .win = win };
	pthread_t       *threads = mem_calloc(jobs, sizeof(pthread_t));
	unsigned         started = 0;
	enum payrun_exit rc = PAYRUN_EXIT_OK;
	struct progress  pg;
	uint64_t         bytes = 0;

	pthread_mutex_init(&fp.lock, NULL);
	pthread_cond_init(&fp.cond, NULL);
	fp.window = jobs;
	fp.shards = mem_calloc(npaths, sizeof(struct shard));
	for (size_t i = 0; i < npaths; i++)
		fp.shards[i].path = paths[i];
	for (unsigned t = 0; t < jobs; t++)
	{
		if (pthread_create(&threads[t], NULL, file_worker, &fp) != 0)
		{
			log_warning("could not start reader %u of %u; going on with %u", t + 1, jobs, t);
			break;
		}
		started++;
	}
	if (started == 0)
		goto out; /* no reader thread to be had: read them in turn */
	progress_init(&pg, "files");
	progress_set_total(&pg, paths_total_size(paths, npaths));

	for (size_t i = 0; i < npaths; i++)
	{
		struct shard *sh = &fp.shards[i];

		pthread_mutex_lock(&fp.lock);
		while (sh->started ? !sh->done : !fp.stop)
			pthread_cond_wait(&fp.cond, &fp.lock);
		pthread_mutex_unlock(&fp.lock);
		if (!sh->started)
			break; /* not reached: files start in order */
		if (sh->rc == PAYRUN_EXIT_OK && win->seen && idset_intersects(&sh->seen, win->seen))
			sh->reread = true; /* its duplicates of earlier files must be skipped, row by row */
		if (sh->overflow || sh->reread)
		{
			log_info("%s: %s; reading it again", sh->path,
					 sh->overflow ? "too many rejects to hold"
								  : "it repeats probes of the files before it");
			csv_shard_release(sh);
			rc = read_one(sh->path, win, input_opts, rejects, counts, &files[i], NULL, false, 1, 0);
		}
		else if (win->seen && !idset_merge(win->seen, &sh->seen))
		{
			log_error("%s: the probe ids of the files are spread over more than %d ranges of %d "
					  "ids; payrun counts each probe id once and cannot keep track of so many",
					  sh->path, IDSET_MAX_RANGES, 1 << IDSET_RANGE_BITS);
			rc = PAYRUN_EXIT_DATA;
		}
		else
		{
			/* a failed file too: its counts and rejects up to the failure count */
			if (!csv_shard_merge(sh, win, rejects, counts, 0) && sh->rc == PAYRUN_EXIT_OK)
				sh->rc = PAYRUN_EXIT_INTERNAL;
			files[i] = sh->file;
			rc = sh->rc;
		}
		if (rc != PAYRUN_EXIT_OK)
			break;
		bytes += files[i].bytes;
		csv_shard_release(sh);
		pthread_mutex_lock(&fp.lock);
		fp.merged = i + 1;
		pthread_cond_broadcast(&fp.cond);
		pthread_mutex_unlock(&fp.lock);
		snprintf(pg.what, sizeof(pg.what), "%zu of %zu files", i + 1, npaths);
		progress_update(&pg, bytes, counts->rows_read);
	}

	/* after a failure, wake the workers waiting for the window to move */
	pthread_mutex_lock(&fp.lock);
	fp.stop = true;
	pthread_cond_broadcast(&fp.cond);
	pthread_mutex_unlock(&fp.lock);
	for (unsigned t = 0; t < started; t++)
		pthread_join(threads[t], NULL);
	progress_done(&pg);
out:
	for (size_t i = 0; i < npaths; i++)
		csv_shard_release(&fp.shards[i]);
	free(fp.shards);
	free(threads);
	pthread_cond_destroy(&fp.cond);
	pthread_mutex_destroy(&fp.lock);
	if (started == 0)
		return read_in_turn(paths, npaths, win, input_opts, rejects, counts, files, 1);
	return rc;
}

/* Online CPUs, at most SOURCE_CSV_MAX_JOBS. */
static unsigned
online_cpus(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	if (n < 1)
		return 1;
	return n > SOURCE_CSV_MAX_JOBS ? SOURCE_CSV_MAX_JOBS : (unsigned) n;
}

/*
 * Threads to parse one file with: jobs, but no more than leave a CPU for
 * the inflating thread.  On 2 CPUs that is 1: measured there, two parsing
 * threads beside the inflating one were no faster (docs/benchmarks.md).
 */
static unsigned
split_workers(unsigned jobs)
{
	unsigned cpus = online_cpus();

	return jobs < cpus ? jobs : cpus - 1;
}

enum payrun_exit
source_csv_read(const char *const *paths, size_t npaths, const struct source_window *win,
				const struct input_options *input_opts, unsigned jobs, struct rejects *rejects,
				struct source_counts *counts, struct source_file *files)
{
	if (jobs == 0)
		jobs = online_cpus();
	/* one file: parsed by jobs threads; rows for a consumer go out in file order, from one thread */
	if (npaths == 1 || win->row_fn != NULL)
		return read_in_turn(paths, npaths, win, input_opts, rejects, counts, files,
							npaths == 1 ? split_workers(jobs) : 1);
	if (jobs > npaths)
		jobs = (unsigned) npaths;
	if (jobs > 1)
		return read_files_at_once(paths, npaths, win, input_opts, jobs, rejects, counts, files);
	return read_in_turn(paths, npaths, win, input_opts, rejects, counts, files, 1);
}
