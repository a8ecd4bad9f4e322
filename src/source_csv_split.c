/*
 * source_csv_split.c: one file parsed on several threads, with the results
 * of reading it on one (see source_csv_int.h).
 *
 * This thread takes the inflated chunks and copies them into parts of
 * about CSV_SPLIT_TARGET bytes, each cut after the first line end past that
 * size (or, with none in half that again, anywhere).  Worker threads
 * parse the parts ahead, each from a fresh scanner state, into a shard of
 * their own, quietly: nothing logged, lines counted from the part's start.
 * Then this thread takes the parts in file order and decides for each:
 *
 *   - its parse is the sequential one if the part starts at a record
 *     boundary: the file's data begins one (after the header), and a part
 *     whose own parse ended at its end, between records (no unfinished
 *     record, no CR waiting for its LF), leaves the next one at one.  A cut
 *     inside a quoted field, say, leaves an unfinished record: known,
 *     never guessed.  It must also have kept all its rejects, stopped
 *     nowhere, and hold no probe id of the parts before it;
 *   - then its shard is added in (rejects at their lines in the file);
 *   - otherwise this thread reads the part again itself, straight into
 *     the results, carrying an unfinished record on, and feeding the
 *     scanner at the chunks' ends as read_file does, so that the "record
 *     longer than" check, every message and every line is the same.
 *
 * The header and the first chunks are read that way too, until the header
 * is in.  The results are those of read_file: the same rows in the same
 * aggregates, the same counts, the same rejects in the same order, the
 * same first error.  Parts in flight are bounded (SPLIT_PARTS), so memory
 * does not grow with the file.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "payrun/fault.h"
#include "payrun/log.h"
#include "payrun/mem.h"
#include "payrun/progress.h"
#include "source_csv_int.h"
#include "payrun/banned.h"

#define SPLIT_RANGES 64 /* probe id ranges a part may hold (idset.h) */

/* A part's bytes at most: its target, half that again looking for a line end, and a chunk. */
#define PART_CAP(target) ((target) + (target) / 2 + 1 + INPUT_CHUNK_SIZE)

_Static_assert(PART_CAP(CSV_SPLIT_TARGET) < SOURCE_CSV_MAX_RECORD,
			   "a part is shorter than the longest record");

enum part_state
{
	PART_FREE,
	PART_QUEUED,   /* filled, waiting for a worker */
	PART_SCANNING, /* a worker has it */
	PART_SCANNED,  /* the worker's results are in */
	PART_APPLY,    /* added in; its rows wait for a worker's aggregates */
	PART_APPLYING  /* a worker is adding them */
};

struct part
{
	char           *buf; /* owned, cap + CSVSCAN_PAD bytes */
	size_t          len;
	size_t          cap;
	size_t          searched; /* bytes looked through for a line end */
	uint64_t        seq;      /* the part's place in the file */
	bool            eof;      /* it ends the file */
	uint32_t       *ends;     /* owned: where chunks ended in it, offsets in buf */
	size_t          nends;
	size_t          ends_cap;
	enum part_state state; /* under the split's lock */
	/* the worker's read */
	struct shard        sh; /* all but the aggregates: */
	struct staged_rows  rows;
	enum csvscan_status status;
	size_t              consumed;   /* the scanner's: where an unfinished record starts */
	uint64_t            line;       /* the scanner's line at the end, from 1 at buf[0] */
	bool                cr_pending; /* buf ends with a CR whose LF may follow */
	bool                stopped;    /* the reader stopped (ids) */
};

#define SPLIT_PARTS_MAX (SOURCE_CSV_MAX_JOBS + 2)

/*
 * A worker's aggregates, one per period of the window: the rows of the
 * parts it applied.  Sums, so which worker applied which part does not
 * matter; this thread adds them into the window at the end.
 */
struct worker_aggs
{
	struct split     *sp;
	struct aggregate *aggs; /* owned, nperiods, each created on first use */
};

struct split
{
	pthread_mutex_t      lock;
	pthread_cond_t       work; /* a part was queued, or stop */
	pthread_cond_t       done; /* a part was scanned */
	struct part          parts[SPLIT_PARTS_MAX];
	size_t               nparts;    /* in use: workers + 2 */
	uint64_t             next_scan; /* the next part a worker takes, by seq */
	bool                 stop;
	const struct reader *main; /* the header's columns; the caller's window */
	struct worker_aggs   workers[SOURCE_CSV_MAX_JOBS];
};

/* The sequential reader's unfinished record, and its feeding. */
struct carry
{
	char  *buf; /* owned, cap + CSVSCAN_PAD */
	size_t len;
	size_t cap;
};

static struct part *
part_of(struct split *sp, uint64_t seq)
{
	return &sp->parts[seq % sp->nparts];
}

/* ---- the workers ---- */

void
csv_stage_row(struct staged_rows *st, size_t period, const char *stream, size_t stream_len,
			  const char *node, size_t node_len, bool poll, bool ok)
{
	struct staged_row *row;

	if (st->nrows == st->cap)
	{
		st->cap = st->cap ? st->cap * 2 : 16384;
		st->rows = mem_realloc_array(st->rows, st->cap, sizeof(*st->rows));
	}
	if (st->keys_len + stream_len + node_len > st->keys_cap)
	{
		st->keys_cap = st->keys_cap ? st->keys_cap * 2 : 512 * 1024;
		while (st->keys_cap < st->keys_len + stream_len + node_len)
			st->keys_cap *= 2;
		st->keys = mem_realloc(st->keys, st->keys_cap);
	}
	row = &st->rows[st->nrows++];
	row->hash = aggregate_hash(stream, stream_len, node, node_len);
	row->key_off = (uint32_t) st->keys_len;
	row->period = (uint32_t) period;
	row->stream_len = (uint8_t) stream_len;
	row->node_len = (uint8_t) node_len;
	row->poll = poll;
	row->ok = ok;
	memcpy(st->keys + st->keys_len, stream, stream_len);
	memcpy(st->keys + st->keys_len + stream_len, node, node_len);
	st->keys_len += stream_len + node_len;
}

/* Adds a part's rows to a worker's aggregates, prefetching ahead as flush_batch does. */
static void
apply_rows(struct aggregate *aggs, const struct staged_rows *st)
{
	enum
	{
		AHEAD = 16
	};

	for (size_t i = 0; i < st->nrows; i++)
	{
		const struct staged_row *row = &st->rows[i];
		struct aggregate        *agg = &aggs[row->period];
		const char              *key = st->keys + row->key_off;
		struct agg_counts       *c;

		if (i + 2 * AHEAD < st->nrows)
		{
			const struct staged_row *far = &st->rows[i + 2 * AHEAD];

			if (aggs[far->period].slots != NULL)
				aggregate_prefetch_slot(&aggs[far->period], far->hash);
		}
		if (i + AHEAD < st->nrows)
		{
			const struct staged_row *near = &st->rows[i + AHEAD];

			if (aggs[near->period].slots != NULL)
				aggregate_prefetch_entry(&aggs[near->period], near->hash);
		}
		if (__builtin_expect(agg->slots == NULL, 0))
			aggregate_init(agg);
		c = aggregate_lookup_hashed(agg, row->hash, key, row->stream_len, key + row->stream_len,
									row->node_len);
		if (row->poll)
		{
			c->total_polls++;
			c->successful_polls += row->ok;
		}
		else
			c->failed_spot_checks += !row->ok;
	}
}

/* A worker's reader: the main reader's columns, quiet, into a shard. */
static void
worker_reader(struct reader *w, struct csvscan *scan, const struct reader *main)
{
	memset(w, 0, sizeof(*w));
	w->path = main->path;
	w->have_header = true;
	w->ncols = main->ncols;
	memcpy(w->col, main->col, sizeof(w->col));
	w->quiet = true;
	w->max_ranges = SPLIT_RANGES;
	w->no_progress = true;
	csvscan_init(scan, main->scan->span_cap);
	w->scan = scan;
}

/* Clears a part's shard for its next read, keeping its memory. */
static void
shard_clear(struct shard *sh)
{
	for (size_t i = 0; i < sh->win.nperiods; i++)
	{
		aggregate_clear(&sh->aggs[i]);
		sh->in_period[i] = 0;
		if (sh->covers)
		{
			struct coverage c = sh->covers[i];

			coverage_release(&sh->covers[i]);
			coverage_init(&sh->covers[i], c.start, c.span, c.slices);
		}
	}
	idset_release(&sh->seen);
	idset_init(&sh->seen);
	memset(&sh->counts, 0, sizeof(sh->counts));
	sh->nrj = 0;
	sh->raw_len = 0;
	sh->overflow = false;
}

static void
scan_part(struct reader *w, struct part *pt, const struct reader *main)
{
	struct shard *sh = &pt->sh;

	shard_clear(sh);
	pt->rows.nrows = 0;
	pt->rows.keys_len = 0;
	w->staged = &pt->rows;
	w->stage = sh;
	w->win = &sh->win;
	w->counts = &sh->counts;
	w->seen = main->seen ? &sh->seen : NULL;
	w->ids_full = false;
	w->nbatch = 0;
	w->scan->line = 1;
	w->scan->cr_pending = false;
	pt->status = csvscan_feed(w->scan, pt->buf, pt->len, pt->eof, &pt->consumed, csv_on_record, w);
	csv_flush_batch(w);
	pt->line = w->scan->line;
	pt->cr_pending = w->scan->cr_pending;
	pt->stopped = w->ids_full;
}

/* A part whose rows wait to be applied, or NULL.  Under the lock. */
static struct part *
part_to_apply(struct split *sp)
{
	for (size_t i = 0; i < sp->nparts; i++)
		if (sp->parts[i].state == PART_APPLY)
			return &sp->parts[i];
	return NULL;
}

/*
 * A worker: applies the rows of parts added in (which frees their slots),
 * else parses the next queued part; at stop, once no rows wait, it ends.
 */
static void *
split_worker(void *arg)
{
	struct worker_aggs *wa = arg;
	struct split       *sp = wa->sp;
	struct reader      *w = mem_alloc(sizeof(*w));
	struct csvscan      scan;

	worker_reader(w, &scan, sp->main);
	pthread_mutex_lock(&sp->lock);
	for (;;)
	{
		struct part *pt = part_to_apply(sp);

		if (pt != NULL)
		{
			pt->state = PART_APPLYING;
			pthread_mutex_unlock(&sp->lock);
			apply_rows(wa->aggs, &pt->rows);
			pthread_mutex_lock(&sp->lock);
			pt->state = PART_FREE;
			pthread_cond_broadcast(&sp->done);
			continue;
		}
		pt = part_of(sp, sp->next_scan);
		if (sp->stop)
			break;
		if (pt->state != PART_QUEUED || pt->seq != sp->next_scan)
		{
			pthread_cond_wait(&sp->work, &sp->lock);
			continue;
		}
		pt->state = PART_SCANNING;
		sp->next_scan++;
		pthread_mutex_unlock(&sp->lock);
		scan_part(w, pt, sp->main);
		pthread_mutex_lock(&sp->lock);
		pt->state = PART_SCANNED;
		pthread_cond_broadcast(&sp->done);
	}
	pthread_mutex_unlock(&sp->lock);
	csvscan_release(&scan);
	for (int c = 0; c < COL_COUNT; c++)
		csvfield_buf_release(&w->big[c]);
	free(w);
	return NULL;
}

/* ---- reading in turn, on this thread ---- */

/* Appends buf[0..n) to the carried bytes, zero padding after them. */
static void
carry_append(struct carry *c, const char *buf, size_t n)
{
	if (c->len + n > c->cap)
	{
		c->cap = (c->len + n) * 2;
		c->buf = mem_realloc(c->buf, c->cap + CSVSCAN_PAD);
	}
	if (n > 0)
		memcpy(c->buf + c->len, buf, n);
	c->len += n;
	memset(c->buf + c->len, 0, CSVSCAN_PAD);
}

/*
 * Feeds buf[0..n) after the carried bytes to the sequential reader.
 * chunk_end: a chunk of the input ends here, where read_file checks the
 * record's length.  False (logged) on an error.
 */
static bool
carry_feed(struct reader *r, struct carry *c, const char *buf, size_t n, bool chunk_end)
{
	size_t consumed;

	carry_append(c, buf, n);
	if (!csv_scan_buffer(r, c->buf, c->len, false, &consumed))
		return false;
	memmove(c->buf, c->buf + consumed, c->len - consumed);
	c->len -= consumed;
	if (chunk_end && c->len > SOURCE_CSV_MAX_RECORD)
	{
		log_error("%s:%llu: record longer than %d MiB", r->path, (unsigned long long) r->scan->line,
				  SOURCE_CSV_MAX_RECORD / (1024 * 1024));
		return false;
	}
	return true;
}

struct header_stop
{
	struct reader *r;
	uint64_t       next_line; /* the line after the header record */
};

/* The scanner's callback until the header is in: stops right after it. */
static bool
header_then_stop(void *arg, const struct csv_record *rec)
{
	struct header_stop *hs = arg;
	uint64_t            ends = 0;

	if (!csv_on_record(hs->r, rec))
		return false; /* a bad header, logged */
	/* LF, CRLF and a lone CR are a line end each, as csvscan counts them */
	for (size_t i = 0; i < rec->len; i++)
		ends += rec->raw[i] == '\n' ||
				(rec->raw[i] == '\r' && (i + 1 == rec->len || rec->raw[i + 1] != '\n'));
	hs->next_line = rec->line + ends + 1;
	return false;
}

/*
 * Feeds buf[0..n) after the carried bytes, up to the end of the header
 * record.  Once the header is in, the bytes after it stay in the carry,
 * not scanned, and r->scan is at the first of them.  False (logged) on
 * an error.
 */
static bool
feed_to_header(struct reader *r, struct carry *c, const char *buf, size_t n)
{
	struct header_stop  hs = { r, 0 };
	size_t              consumed;
	enum csvscan_status st;

	carry_append(c, buf, n);
	st = csvscan_feed(r->scan, c->buf, c->len, false, &consumed, header_then_stop, &hs);
	if (st == CSVSCAN_STOPPED && !r->have_header)
		return false;
	if (st == CSVSCAN_STOPPED)
	{
		r->scan->line = hs.next_line;
		/* a CR ended the header: its LF is part of the line end */
		if (c->buf[consumed - 1] == '\r' && consumed < c->len && c->buf[consumed] == '\n')
			consumed++;
		else if (c->buf[consumed - 1] == '\r' && consumed == c->len)
		{
			r->scan->line--;
			r->scan->cr_pending = true;
		}
	}
	memmove(c->buf, c->buf + consumed, c->len - consumed);
	c->len -= consumed;
	if (!r->have_header && c->len > SOURCE_CSV_MAX_RECORD)
	{
		log_error("%s:%llu: record longer than %d MiB", r->path, (unsigned long long) r->scan->line,
				  SOURCE_CSV_MAX_RECORD / (1024 * 1024));
		return false;
	}
	return true;
}

/* The carried bytes become buf[0..n): an unfinished record, not scanned yet. */
static void
carry_set(struct carry *c, const char *buf, size_t n)
{
	if (n > c->cap)
	{
		c->cap = n * 2;
		c->buf = mem_realloc(c->buf, c->cap + CSVSCAN_PAD);
	}
	if (n > 0)
		memcpy(c->buf, buf, n);
	c->len = n;
}

/* The end of the data: read_file's last feed and its checks. */
static bool
carry_end(struct reader *r, struct carry *c)
{
	size_t consumed;

	if (!r->have_header && c->len == 0)
	{
		log_error("%s: empty file, expected a header line", r->path);
		return false;
	}
	if (c->buf == NULL)
		c->buf = mem_calloc(1, CSVSCAN_PAD);
	if (!csv_scan_buffer(r, c->buf, c->len, true, &consumed))
		return false;
	c->len = 0;
	if (!r->have_header)
	{
		log_error("%s: no complete header line", r->path);
		return false;
	}
	return true;
}

/* A part read again in turn, fed at the chunk ends in it and at its end. */
static bool
reread_part(struct reader *r, struct carry *c, const struct part *pt)
{
	size_t at = 0;

	for (size_t e = 0; e < pt->nends; e++)
	{
		if (!carry_feed(r, c, pt->buf + at, pt->ends[e] - at, true))
			return false;
		at = pt->ends[e];
	}
	return at == pt->len || carry_feed(r, c, pt->buf + at, pt->len - at, false);
}

/* ---- this thread: parts in order ---- */

struct split_read
{
	struct split   sp;
	struct reader *r;
	struct carry   carry;
	bool           at_boundary; /* the next part starts a record, carry empty */
	uint64_t       merged;      /* parts decided */
	uint64_t       filled;      /* parts handed to the workers */
	uint64_t       reread;      /* parts read again here */
	struct part   *cur;         /* being filled, or NULL */
	size_t         target;      /* a part's bytes before its cut */
};

/* Whether the worker's read of pt is the sequential one (above). */
static bool
part_usable(struct split_read *sr, struct part *pt)
{
	const struct source_window *win = sr->r->win;

	if (!sr->at_boundary || pt->status != CSVSCAN_OK || pt->stopped || pt->sh.overflow)
		return false;
	if (sr->r->seen == NULL)
		return true;
	return !idset_intersects(&pt->sh.seen, win->seen) && idset_merge(win->seen, &pt->sh.seen);
}

/* Decides the oldest part (waiting for its worker) and adds it in.  False: failed (logged). */
static bool
merge_next(struct split_read *sr)
{
	struct split  *sp = &sr->sp;
	struct part   *pt = part_of(sp, sr->merged);
	struct reader *r = sr->r;
	bool           ok = true;
	bool           usable;

	pthread_mutex_lock(&sp->lock);
	while (pt->state != PART_SCANNED)
		pthread_cond_wait(&sp->done, &sp->lock);
	pthread_mutex_unlock(&sp->lock);

	usable = part_usable(sr, pt);
	if (usable)
	{
		uint64_t base = r->scan->line;

		if (!csv_shard_merge(&pt->sh, r->win, r->rejects, r->counts, base - 1))
			ok = false;
		r->rows += pt->sh.counts.rows_read;
		r->scan->line = base + pt->line - 1;
		r->scan->cr_pending = pt->cr_pending;
		carry_set(&sr->carry, pt->buf + pt->consumed, pt->len - pt->consumed);
	}
	else
	{
		sr->reread++;
		ok = reread_part(r, &sr->carry, pt);
	}
	sr->at_boundary = sr->carry.len == 0 && !r->scan->cr_pending;

	pthread_mutex_lock(&sp->lock);
	pt->state = usable ? PART_APPLY : PART_FREE;
	pthread_cond_broadcast(&sp->work);
	pthread_mutex_unlock(&sp->lock);
	sr->merged++;
	return ok;
}

/* The slot for part seq, free (the part it held added in first). */
static bool
take_part(struct split_read *sr, uint64_t seq, struct part **out)
{
	struct part *pt = part_of(&sr->sp, seq);

	while (sr->merged + sr->sp.nparts <= seq)
		if (!merge_next(sr))
			return false;
	pthread_mutex_lock(&sr->sp.lock);
	while (pt->state != PART_FREE)
		pthread_cond_wait(&sr->sp.done, &sr->sp.lock);
	pthread_mutex_unlock(&sr->sp.lock);
	if (pt->buf == NULL)
	{
		pt->cap = PART_CAP(sr->target);
		pt->buf = mem_alloc(pt->cap + CSVSCAN_PAD);
		pt->sh.path = sr->r->path;
		csv_shard_init(&pt->sh, sr->r->win);
	}
	pt->seq = seq;
	pt->len = 0;
	pt->searched = 0;
	pt->nends = 0;
	pt->eof = false;
	*out = pt;
	return true;
}

static void
submit(struct split_read *sr, struct part *pt)
{
	memset(pt->buf + pt->len, 0, CSVSCAN_PAD);
	pthread_mutex_lock(&sr->sp.lock);
	pt->state = PART_QUEUED;
	sr->filled++;
	pthread_cond_broadcast(&sr->sp.work);
	pthread_mutex_unlock(&sr->sp.lock);
}

static void
add_end(struct part *pt, size_t at)
{
	if (pt->nends == pt->ends_cap)
	{
		pt->ends_cap = pt->ends_cap ? pt->ends_cap * 2 : 16;
		pt->ends = mem_realloc_array(pt->ends, pt->ends_cap, sizeof(*pt->ends));
	}
	pt->ends[pt->nends++] = (uint32_t) at;
}

/*
 * Where a part is cut: after the first line end past the target, or
 * anywhere with none in half the target again; 0 if not yet.
 */
static size_t
cut_point(struct part *pt, size_t target)
{
	size_t      from = pt->searched > target ? pt->searched : target;
	const char *lf;

	if (pt->len <= from)
		return 0;
	lf = memchr(pt->buf + from, '\n', pt->len - from);
	pt->searched = pt->len;
	if (lf != NULL)
		return (size_t) (lf - pt->buf) + 1;
	return pt->len >= target + target / 2 + 1 ? pt->len : 0;
}

/*
 * Hands full parts on from the one being filled: after it, it holds less
 * than PART_CAP less a chunk.  False: failed.
 */
static bool
cut_parts(struct split_read *sr)
{
	struct part *pt;
	size_t       cut;

	while ((cut = cut_point(sr->cur, sr->target)) != 0)
	{
		struct part *next;
		size_t       keep = 0;

		/* pt is part filled, not handed on yet: the next one takes the slot after */
		pt = sr->cur;
		sr->cur = NULL;
		if (!take_part(sr, sr->filled + 1, &next))
			return false;
		memcpy(next->buf, pt->buf + cut, pt->len - cut);
		next->len = pt->len - cut;
		for (size_t e = 0; e < pt->nends; e++)
		{
			if (pt->ends[e] <= cut)
				keep = e + 1;
			else
				add_end(next, pt->ends[e] - cut);
		}
		pt->nends = keep;
		pt->len = cut;
		submit(sr, pt);
		sr->cur = next;
	}
	return true;
}

/* Appends a chunk to the part being filled, handing full parts on.  False: failed. */
static bool
add_chunk(struct split_read *sr, const char *data, size_t n)
{
	struct part *pt = sr->cur;

	memcpy(pt->buf + pt->len, data, n);
	pt->len += n;
	add_end(pt, pt->len);
	return cut_parts(sr);
}

/* Adds in the parts the workers have finished, without waiting. */
static bool
merge_ready(struct split_read *sr)
{
	for (;;)
	{
		struct part *pt = part_of(&sr->sp, sr->merged);
		bool         ready;

		if (sr->merged == sr->filled)
			return true;
		pthread_mutex_lock(&sr->sp.lock);
		ready = pt->state == PART_SCANNED;
		pthread_mutex_unlock(&sr->sp.lock);
		if (!ready)
			return true;
		if (!merge_next(sr))
			return false;
	}
}

/*
 * The file after its first chunks, in parts.  *input_ok false if the input
 * failed (logged by input.c).  False if reading failed.
 */
static bool
read_parts(struct split_read *sr, struct input *in, struct progress *pg, bool *input_ok)
{
	struct reader *r = sr->r;
	bool           eof = false;
	bool           ok = take_part(sr, sr->filled, &sr->cur);

	if (!ok)
		return false;
	/* read ahead: an input error counts only if the parts before it are in */
	input_defer_errors(in);
	/* the bytes after the header, not scanned yet; a chunk ended after them */
	if (sr->carry.len > 0)
		memcpy(sr->cur->buf, sr->carry.buf, sr->carry.len);
	sr->cur->len = sr->carry.len;
	add_end(sr->cur, sr->cur->len);
	sr->carry.len = 0;
	sr->at_boundary = !r->scan->cr_pending;
	ok = cut_parts(sr);
	while (ok)
	{
		struct input_chunk *c;

		if (!input_next(in, &c))
		{
			*input_ok = false;
			break;
		}
		if (c == NULL)
		{
			eof = true;
			break;
		}
		ok = add_chunk(sr, c->data, c->len) && merge_ready(sr);
		input_release(in, c);
		progress_update(pg, input_bytes_read(in), r->counts->rows_read);
		fault_point("read_chunk");
	}
	if (sr->cur != NULL)
	{
		sr->cur->eof = eof;
		submit(sr, sr->cur);
		sr->cur = NULL;
	}
	while (ok && sr->merged < sr->filled)
		ok = merge_next(sr);
	if (ok && !*input_ok)
		input_log_deferred(in);
	return ok && (!eof || carry_end(r, &sr->carry));
}

/*
 * The workers' aggregates into the window's.  For each period the first
 * worker's takes the other workers' and the window's, each freed once
 * added in, and then becomes the window's: two at most at once, so the
 * peak stays near two aggregates of the day.  The reader's batch must be
 * flushed.  False (logged) on an overflow.
 */
static bool
add_worker_aggs(struct split *sp, const struct reader *r)
{
	bool ok = true;

	for (size_t p = 0; p < r->win->nperiods; p++)
	{
		struct aggregate *into = NULL;
		struct aggregate *win_agg = &r->win->aggs[p];

		for (size_t t = 0; t < SOURCE_CSV_MAX_JOBS && sp->workers[t].aggs != NULL; t++)
		{
			struct aggregate *a = &sp->workers[t].aggs[p];

			if (a->slots == NULL)
				continue;
			if (into == NULL)
			{
				into = a;
				continue;
			}
			ok = ok && aggregate_merge(into, a);
			aggregate_release(a);
		}
		if (into == NULL)
			continue;
		if (win_agg->slots != NULL)
		{
			ok = ok && aggregate_merge(into, win_agg);
			aggregate_release(win_agg);
		}
		*win_agg = *into;
		memset(into, 0, sizeof(*into));
	}
	for (size_t t = 0; t < SOURCE_CSV_MAX_JOBS && sp->workers[t].aggs != NULL; t++)
	{
		for (size_t p = 0; p < r->win->nperiods; p++)
			aggregate_release(&sp->workers[t].aggs[p]);
		free(sp->workers[t].aggs);
		sp->workers[t].aggs = NULL;
	}
	if (!ok)
		log_error("%s: a probe counter overflowed", r->path);
	return ok;
}

static void
split_release(struct split_read *sr)
{
	for (size_t i = 0; i < sr->sp.nparts; i++)
	{
		struct part *pt = &sr->sp.parts[i];

		if (pt->buf != NULL)
			csv_shard_release(&pt->sh);
		free(pt->buf);
		free(pt->ends);
		free(pt->rows.rows);
		free(pt->rows.keys);
	}
	free(sr->carry.buf);
	pthread_cond_destroy(&sr->sp.work);
	pthread_cond_destroy(&sr->sp.done);
	pthread_mutex_destroy(&sr->sp.lock);
}

enum payrun_exit
csv_read_split(const char *path, const struct input_options *input_opts, struct reader *r,
			   struct source_file *file, unsigned workers, size_t part_bytes)
{
	struct split_read sr = { .r = r, .target = part_bytes ? part_bytes : CSV_SPLIT_TARGET };
	struct input     *in;
	struct progress   pg;
	pthread_t         threads[SOURCE_CSV_MAX_JOBS];
	unsigned          started = 0;
	bool              ok = true, input_ok = true, at_end = false, split_now = false;

	if (!input_open(path, input_opts, &in))
		return PAYRUN_EXIT_DATA;
	pthread_mutex_init(&sr.sp.lock, NULL);
	pthread_cond_init(&sr.sp.work, NULL);
	pthread_cond_init(&sr.sp.done, NULL);
	sr.sp.main = r;
	progress_init(&pg, path);
	progress_set_total(&pg, input_size(in));
	if (r->no_progress)
		pg.enabled = false;

	/* in turn up to the end of the header; all of it if no worker can be started */
	while (ok && !at_end)
	{
		struct input_chunk *c;

		if (!input_next(in, &c))
		{
			ok = false;
			break;
		}
		if (c == NULL)
		{
			ok = carry_end(r, &sr.carry);
			at_end = true;
			break;
		}
		if (!r->have_header)
		{
			ok = feed_to_header(r, &sr.carry, c->data, c->len);
			split_now = ok && r->have_header && workers > 1;
			/* no threads to be had: the rest of the chunk in turn */
			if (ok && r->have_header && !split_now)
				ok = carry_feed(r, &sr.carry, NULL, 0, true);
		}
		else
			ok = carry_feed(r, &sr.carry, c->data, c->len, true);
		input_release(in, c);
		progress_update(&pg, input_bytes_read(in), r->counts->rows_read);
		fault_point("read_chunk");
		if (split_now)
		{
			/* the ring's size is fixed before a worker looks at it */
			sr.sp.nparts = (workers < SOURCE_CSV_MAX_JOBS ? workers : SOURCE_CSV_MAX_JOBS) + 2;
			for (; started + 2 < sr.sp.nparts; started++)
			{
				struct worker_aggs *wa = &sr.sp.workers[started];

				wa->sp = &sr.sp;
				wa->aggs = mem_calloc(r->win->nperiods, sizeof(struct aggregate));
				if (pthread_create(&threads[started], NULL, split_worker, wa) != 0)
					break;
			}
			if (started > 0)
				break;
			workers = 0; /* none to be had: read on in turn */
			split_now = false;
			ok = carry_feed(r, &sr.carry, NULL, 0, true);
		}
	}
	if (ok && !at_end && started > 0)
		ok = read_parts(&sr, in, &pg, &input_ok) && input_ok;

	pthread_mutex_lock(&sr.sp.lock);
	sr.sp.stop = true;
	pthread_cond_broadcast(&sr.sp.work);
	pthread_mutex_unlock(&sr.sp.lock);
	for (unsigned t = 0; t < started; t++)
		pthread_join(threads[t], NULL);
	csv_flush_batch(r);
	ok = add_worker_aggs(&sr.sp, r) && ok;
	progress_done(&pg);
	if (started > 0)
		log_debug("%s: %llu parts parsed by %u threads, %llu of them read again in turn", path,
				  (unsigned long long) sr.filled, started, (unsigned long long) sr.reread);
	split_release(&sr);
	return csv_file_done(r, in, file, ok);
}
