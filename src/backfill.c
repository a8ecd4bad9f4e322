/*
 * backfill.c: settling and loading history from exports (see backfill.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "payrun/backfill.h"
#include "payrun/clock.h"
#include "payrun/csvout.h"
#include "payrun/db.h"
#include "payrun/interrupt.h"
#include "payrun/log.h"
#include "payrun/mem.h"
#include "payrun/paths.h"
#include "payrun/probes.h"
#include "payrun/outdir.h"
#include "payrun/publish.h"
#include "payrun/rejects.h"
#include "payrun/runlog.h"
#include "payrun/settle.h"
#include "payrun/sha256.h"
#include "payrun/source_csv.h"
#include "payrun/sql.h"
#include "payrun/manifest.h"
#include "payrun/banned.h"

#define BACKFILL_MAX_PERIODS 100000

/* DIR/backfill/<stamp>-<pid>/ with rejects.csv, where a backfill keeps its rejects. */
struct rejects_place
{
	char           dir[4400];
	char           file[4420]; /* dir/rejects.csv */
	char           name[64];   /* <stamp>-<pid>, under DIR/backfill */
	int            out_fd;     /* DIR */
	int            base_fd;    /* DIR/backfill */
	int            fd;         /* DIR/backfill/name */
	struct rejects rejects;
};

static bool
open_rejects_place(struct rejects_place *rp, const char *out_dir)
{
	char stamp[TIMESTAMP_FORMAT_LEN];
	char base[4200];

	clock_utc_text(stamp);
	snprintf(base, sizeof(base), "%s/backfill", out_dir);
	snprintf(rp->name, sizeof(rp->name), "%s-%ld", stamp, (long) getpid());
	snprintf(rp->dir, sizeof(rp->dir), "%s/%s", base, rp->name);
	snprintf(rp->file, sizeof(rp->file), "%s/rejects.csv", rp->dir);
	rp->out_fd = rp->base_fd = rp->fd = -1;
	/* everything under DIR relative to its descriptor: a planted symlink is not followed */
	if ((rp->out_fd = outdir_open(out_dir, true)) < 0 ||
		(rp->base_fd = outdir_subdir(rp->out_fd, "backfill", true, base)) < 0 ||
		(rp->fd = outdir_subdir(rp->base_fd, rp->name, true, rp->dir)) < 0 ||
		!rejects_open(&rp->rejects, rp->fd, "rejects.csv"))
	{
		log_error("could not open '%s'", rp->file);
		if (rp->fd >= 0)
			close(rp->fd);
		if (rp->base_fd >= 0)
			close(rp->base_fd);
		if (rp->out_fd >= 0)
			close(rp->out_fd);
		return false;
	}
	return true;
}

/* Closes the rejects file; removes it and its directory when it holds none. */
static void
close_rejects_place(struct rejects_place *rp)
{
	bool keep = rp->rejects.total > 0;

	if (!rejects_close(&rp->rejects))
		keep = true;
	if (!keep)
	{
		(void) unlinkat(rp->fd, "rejects.csv", 0);
		(void) unlinkat(rp->base_fd, rp->name, AT_REMOVEDIR);
		/* and DIR/backfill itself when no earlier backfill kept anything */
		(void) unlinkat(rp->out_fd, "backfill", AT_REMOVEDIR);
	}
	close(rp->fd);
	close(rp->base_fd);
	close(rp->out_fd);
}

static void
log_backfill(const struct settings *s, enum payrun_exit rc, double t0, const char *note)
{
	json_t *e = json_pack(
		"{s:s, s:s, s:s, s:i, s:f, s:o}", "command", "backfill", "period", "-", "status",
		rc == PAYRUN_EXIT_OK          ? "done"
		: payrun_exit_interrupted(rc) ? "interrupted"
									  : "failed",
		"exit", (int) rc, "wall_s", clock_monotonic_s() - t0, "note", manifest_text_json(note));

	if (rc != PAYRUN_EXIT_OK && log_first_error())
		json_object_set_new(e, "error", manifest_text_json(log_first_error()));
	(void) runlog_append(s->out_dir, e);
	json_decref(e);
}

/* ---- settling a range of periods ---------------------------------------- */

/* The periods of a range, and what became of each. */
struct range
{
	struct period from;
	struct period to;
	int64_t       span;    /* seconds per period */
	size_t        n;       /* periods */
	bool         *todo;    /* owned: no version yet */
	size_t        settled; /* by this backfill */
	size_t        already; /* before it, or meanwhile by another run */
	size_t        nodata;  /* without any row: not settled */
	size_t        pending; /* to settle */
};

static void
range_period(const struct range *r, size_t i, struct period *p)
{
	period_from_start(r->from.start + (int64_t) i * r->span, r->from.length, p);
}

/* Has a period of the other length overlapping p a version under out_dir? */
static bool
settled_overlap(int out_fd, const char *out_dir, const struct period *p)
{
	char other[PERIOD_LABEL_MAX];

	if (!publish_overlap(out_fd, p, other, sizeof(other)))
		return false;
	log_info("period %s overlaps %s, settled in '%s': skipped", p->label, other, out_dir);
	return true;
}

/* Checks the range and finds the periods that have no version yet. */
static enum payrun_exit
range_init(struct range *r, const struct settings *s, const struct period *from,
		   const struct period *to)
{
	int out_fd;

	memset(r, 0, sizeof(*r));
	if (from->length != to->length || to->start < from->start)
	{
		log_error("--from %s and --to %s must be periods of the same length, in order", from->label,
				  to->label);
		return PAYRUN_EXIT_USAGE;
	}
	r->from = *from;
	r->to = *to;
	r->span = from->end - from->start;
	r->n = (size_t) ((to->start - from->start) / r->span) + 1;
	if (r->n > BACKFILL_MAX_PERIODS)
	{
		log_error("%zu periods from %s to %s: more than %d in one backfill", r->n, from->label,
				  to->label, BACKFILL_MAX_PERIODS);
		return PAYRUN_EXIT_USAGE;
	}
	out_fd = outdir_open(s->out_dir, true);
	if (out_fd < 0)
		return PAYRUN_EXIT_INTERNAL;
	r->todo = mem_calloc(r->n, sizeof(bool));
	for (size_t i = 0; i < r->n; i++)
	{
		struct period p;
		int           v;

		range_period(r, i, &p);
		v = publish_latest_version(out_fd, p.label);
		if (v == 0 && settled_overlap(out_fd, s->out_dir, &p))
			v = 1; /* a probe is paid once: a day's hour settled, or an hour's day */
		if (v < 0)
		{
			log_error("could not list '%s/%s': %s", s->out_dir, p.label, strerror(errno));
			close(out_fd);
			return PAYRUN_EXIT_INTERNAL;
		}
		r->todo[i] = v == 0;
		if (v > 0)
			r->already++;
		else
			r->pending++;
	}
	close(out_fd);
	return PAYRUN_EXIT_OK;
}

/* The per-period state of a range's read: aggregates, counters, coverages. */
struct range_read
{
	struct aggregate   *aggs;
	uint64_t           *in_period;
	struct coverage    *covers;
	struct source_file *files;
	size_t              nfiles;
	struct idset        seen;
};

static void
range_read_init(struct range_read *rr, const struct range *r, size_t nfiles)
{
	rr->aggs = mem_calloc(r->n, sizeof(struct aggregate));
	rr->in_period = mem_calloc(r->n, sizeof(uint64_t));
	rr->covers = mem_calloc(r->n, sizeof(struct coverage));
	rr->files = mem_calloc(nfiles ? nfiles : 1, sizeof(struct source_file));
	rr->nfiles = nfiles;
	idset_init(&rr->seen);
	for (size_t i = 0; i < r->n; i++)
	{
		aggregate_init(&rr->aggs[i]);
		coverage_init(&rr->covers[i], r->from.start + (int64_t) i * r->span, r->span,
					  (uint32_t) r->span);
	}
}

static void
range_read_release(struct range_read *rr, const struct range *r)
{
	for (size_t i = 0; i < r->n; i++)
	{
		aggregate_release(&rr->aggs[i]);
		coverage_release(&rr->covers[i]);
	}
	free(rr->aggs);
	free(rr->in_period);
	free(rr->covers);
	free(rr->files);
	idset_release(&rr->seen);
}

/* Settles each period of the range that has rows, in order, from its aggregate. */
static enum payrun_exit
settle_each(struct range *r, const struct settings *s, struct range_read *rr, const char *note)
{
	for (size_t i = 0; i < r->n; i++)
	{
		struct settle_filled  filled = { .agg = &rr->aggs[i],
										 .cover = &rr->covers[i],
										 .files = rr->files,
										 .nfiles = rr->nfiles,
										 .note = note };
		struct settle_request req = { .filled = &filled,
									  .print_report = log_enabled(LOG_LEVEL_NOTICE) };
		enum payrun_exit      rc;

		if (!r->todo[i])
			continue;
		if (interrupt_pending())
			return interrupt_exit(); /* between periods: the ones before are published */
		range_period(r, i, &req.period);
		if (rr->in_period[i] == 0 && !s->allow_empty)
		{
			log_warning("no probe rows for period %s in these files: not settled",
						req.period.label);
			r->nodata++;
			continue;
		}
		filled.counts.rows_read = filled.counts.in_period = rr->in_period[i];
		rc = settle_run(s, &req);
		aggregate_release(&rr->aggs[i]);
		if (rc == PAYRUN_EXIT_CONFLICT &&
			publish_latest_version_at(s->out_dir, req.period.label) > 0)
		{
			log_notice("period %s was settled meanwhile by another run; skipped", req.period.label);
			r->already++;
		}
		else if (rc == PAYRUN_EXIT_CONFLICT)
		{
			/* the lock held by another run, or an overlap: not settled, and not by anyone */
			log_error("backfill stopped at period %s, not settled; the periods before it are "
					  "published",
					  req.period.label);
			return rc;
		}
		else if (rc != PAYRUN_EXIT_OK)
		{
			log_error("backfill stopped at period %s; the periods before it are published",
					  req.period.label);
			return rc;
		}
		else
			r->settled++;
	}
	return PAYRUN_EXIT_OK;
}

/* Reads every file once into one aggregate per period, then settles them. */
static enum payrun_exit
read_and_settle(struct range *r, const struct settings *s, const struct paths *files,
				struct rejects_place *rp)
{
	const char *const   *paths = (const char *const *) files->items;
	struct range_read    rr;
	struct source_window win = { .start = r->from.start, .span = r->span, .nperiods = r->n };
	struct source_counts counts = { 0 };
	enum payrun_exit     rc = PAYRUN_EXIT_OK;
	char                 note[5000];

	range_read_init(&rr, r, files->count);
	win.aggs = rr.aggs;
	win.in_period = rr.in_period;
	win.covers = rr.covers;
	win.seen = &rr.seen;
	if (!source_distinct_paths(paths, files->count))
		rc = PAYRUN_EXIT_DATA;
	if (rc == PAYRUN_EXIT_OK)
		rc = interrupt_status(source_csv_read(paths, files->count, &win, &s->input, s->jobs,
											  &rp->rejects, &counts, rr.files),
							  true);
	if (rc == PAYRUN_EXIT_OK && !source_distinct_files(rr.files, files->count))
		rc = PAYRUN_EXIT_DATA;
	close_rejects_place(rp);
	if (rc != PAYRUN_EXIT_OK)
		log_error("backfill stopped; nothing published");
	else if (!source_reject_ratio_ok(&s->max_reject_ratio, &counts, "backfill", rp->file))
	{
		log_error("nothing published");
		rc = PAYRUN_EXIT_DATA;
	}
	else
	{
		snprintf(note, sizeof(note),
				 "backfill of %zu file(s) for %s..%s: %llu rows read, %llu rejected, %llu "
				 "duplicate%s%s%s",
				 files->count, r->from.label, r->to.label, (unsigned long long) counts.rows_read,
				 (unsigned long long) counts.rejected, (unsigned long long) counts.duplicate,
				 counts.rejected ? " (rejects kept in '" : "", counts.rejected ? rp->file : "",
				 counts.rejected ? "')" : "");
		rc = settle_each(r, s, &rr, note);
	}
	range_read_release(&rr, r);
	return rc;
}

static enum payrun_exit
backfill_settle(const struct settings *s, const struct paths *files, const struct period *from,
				const struct period *to)
{
	struct range         r;
	struct rejects_place rp;
	enum payrun_exit     rc;
	double               t0 = clock_monotonic_s();
	char                 msg[256];

	rc = range_init(&r, s, from, to);
	if (rc != PAYRUN_EXIT_OK || r.pending == 0)
	{
		if (rc == PAYRUN_EXIT_OK)
			log_notice("nothing to do: all %zu periods from %s to %s are settled already", r.n,
					   from->label, to->label);
		free(r.todo);
		return rc;
	}
	if (!open_rejects_place(&rp, s->out_dir))
	{
		free(r.todo);
		return PAYRUN_EXIT_INTERNAL;
	}
	log_notice("backfill: reading %zu file(s) once for %zu period(s) from %s to %s (%zu settled "
			   "already)",
			   files->count, r.n, from->label, to->label, r.already);
	rc = read_and_settle(&r, s, files, &rp);
	if (rc == PAYRUN_EXIT_OK)
		log_notice("backfill: %zu period(s) settled, %zu already settled, %zu without data%s",
				   r.settled, r.already, r.nodata,
				   r.nodata ? " (not settled: check that the exports are complete)" : "");
	if (rc == PAYRUN_EXIT_OK && r.nodata > 0)
	{
		log_error("backfill: %zu period(s) from %s to %s have no probe rows in these files and "
				  "were not settled (check that the exports are complete; --allow-empty settles "
				  "them as empty)",
				  r.nodata, from->label, to->label);
		rc = PAYRUN_EXIT_DATA;
	}
	snprintf(msg, sizeof(msg), "settle %s..%s: %zu settled, %zu already, %zu without data",
			 from->label, to->label, r.settled, r.already, r.nodata);
	log_backfill(s, rc, t0, msg);
	free(r.todo);
	return rc;
}

/* ---- loading into probe_results ----------------------------------------- */

/* What loading files did; a row read is loaded, skipped or rejected. */
struct load_counts
{
	uint64_t rows_read;
	uint64_t loaded;   /* inserted into probe_results */
	uint64_t skipped;  /* valid, but its id was present already */
	uint64_t rejected; /* invalid, kept in rejects.csv */
};

struct loader
{
	struct db_copy copy;
	struct csvout  w;
};

static void
put_opt(const struct csvout *w, const char *v, size_t len)
{
	if (v == NULL)
		return; /* an empty unquoted field: NULL */
	if (len == 0)
		csvout_bytes(w, "\"\"", 2); /* an empty string */
	else
		csvout_field(w, v, len);
}

static bool
copy_row(void *arg, const struct source_row *row)
{
	struct loader       *ld = arg;
	const struct csvout *w = &ld->w;

	csvout_bytes(w, row->id, row->id_len);
	csvout_char(w, ',');
	csvout_field(w, row->stream, row->stream_len);
	csvout_char(w, ',');
	csvout_field(w, row->node, row->node_len);
	csvout_char(w, ',');
	csvout_bytes(w, row->poll ? "stats_poll," : "spot_check,", 11);
	csvout_bytes(w, row->ok ? "t," : "f,", 2);
	csvout_field(w, row->timestamp, row->timestamp_len);
	csvout_char(w, ',');
	put_opt(w, row->error_message, row->error_message_len);
	csvout_char(w, ',');
	put_opt(w, row->response_data, row->response_data_len);
	csvout_char(w, '\n');
	return !ld->copy.failed;
}

static bool
file_digest(const char *path, char hex[SHA256_HEX_LEN], uint64_t *bytes)
{
	int           fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	char         *buf;
	struct sha256 d;
	ssize_t       n;
	struct stat   st;

	if (fd < 0 || fstat(fd, &st) != 0)
	{
		log_error("could not open '%s': %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return false;
	}
	if (paths_not_regular(st.st_mode))
	{
		log_error("could not read '%s': %s", path, paths_not_regular(st.st_mode));
		close(fd);
		return false;
	}
	(void) fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	buf = mem_alloc(1 << 20);
	sha256_init(&d);
	*bytes = 0;
	while ((n = read(fd, buf, 1 << 20)) > 0)
	{
		sha256_update(&d, buf, (size_t) n);
		*bytes += (uint64_t) n;
	}
	if (n < 0)
		log_error("could not read '%s': %s", path, strerror(errno));
	sha256_final_hex(&d, hex);
	sha256_release(&d);
	free(buf);
	close(fd);
	return n == 0;
}

struct loaded_before
{
	bool found;
	char name[256];
	char rows[24];
	char at[32];
};

static bool
on_loaded(void *arg, int ncols, const char *const *v, const int *len)
{
	struct loaded_before *lb = arg;

	(void) len;
	if (ncols == 3 && v[0] && v[1] && v[2])
	{
		lb->found = true;
		snprintf(lb->name, sizeof(lb->name), "%s", v[0]);
		snprintf(lb->rows, sizeof(lb->rows), "%s", v[1]);
		snprintf(lb->at, sizeof(lb->at), "%s", v[2]);
	}
	return true;
}

/*
 * Inside the file's transaction: COPYs its valid rows into the staging
 * table.  *c counts what was read; in_period is every valid row (a load
 * has no period).
 */
static enum payrun_exit
stage_file(struct db *db, const struct settings *s, const char *path, struct rejects_place *rp,
		   struct source_counts *c)
{
	struct loader        ld;
	struct source_window win = { .row_fn = copy_row, .row_arg = &ld };
	struct source_file   sf;
	enum payrun_exit     rc;

	if (!db_begin(db, "load file", NULL) ||
		!db_exec(db, "load file", "backfill_staging", sql_backfill_staging) ||
		!db_copy_begin(db, "load file", "backfill_copy", sql_backfill_copy))
		return PAYRUN_EXIT_DB;
	db_copy_init(&ld.copy, db, "load file");
	ld.w = db_copy_csvout(&ld.copy);
	rc = source_csv_read_file(path, &win, &s->input, &rp->rejects, c, &sf);
	if (rc == PAYRUN_EXIT_OK && !db_copy_flush(&ld.copy))
		rc = PAYRUN_EXIT_DB;
	db_copy_release(&ld.copy);
	if (rc != PAYRUN_EXIT_OK)
	{
		(void) db_copy_end(db, "load file", "backfill_copy");
		return rc;
	}
	if (!db_copy_end(db, "load file", "backfill_copy"))
		return PAYRUN_EXIT_DB;
	if (!source_reject_ratio_ok(&s->max_reject_ratio, c, path, rp->file))
		return PAYRUN_EXIT_DATA;
	return PAYRUN_EXIT_OK;
}

/* The range of values an id column of this type holds (text ids: any bigint). */
static void
id_range(const char *type, const char **lo, const char **hi)
{
	*lo = "-9223372036854775808";
	*hi = "9223372036854775807";
	if (strcmp(type, "integer") == 0)
	{
		*lo = "-2147483648";
		*hi = "2147483647";
	}
	else if (strcmp(type, "smallint") == 0)
	{
		*lo = "-32768";
		*hi = "32767";
	}
}

struct fit_check
{
	const struct probe_table *pt;
	bool                      misfit; /* a value does not fit (logged) */
};

/* On the values that do not fit the probe table (NULL: all fit); logs them. */
static bool
on_misfit(void *arg, int ncols, const char *const *v, const int *len)
{
	struct fit_check         *fc = arg;
	const struct probe_table *pt = fc->pt;

	(void) len;
	if (ncols != 3)
		return false;
	fc->misfit = v[0] || v[1] || v[2];
	if (v[0])
		log_error("probe id %s does not fit %s.id (%s)", v[0], pt->shown, pt->id_type);
	if (v[1])
		log_error("stream id '%.100s' is longer than %s.stream_id (varchar(%d))", v[1], pt->shown,
				  pt->stream_id_max);
	if (v[2])
		log_error("node id '%.100s' is longer than %s.node_id (varchar(%d))", v[2], pt->shown,
				  pt->node_id_max);
	return !fc->misfit;
}

/* Does every staged value fit the probe table's columns?  DATA if not, DB on error. */
static enum payrun_exit
check_fits(struct db *db, const struct probe_table *pt)
{
	const char      *params[4];
	char             smax[16], nmax[16];
	struct fit_check fc = { .pt = pt };

	id_range(pt->id_type, &params[0], &params[1]);
	snprintf(smax, sizeof(smax), "%d", pt->stream_id_max);
	snprintf(nmax, sizeof(nmax), "%d", pt->node_id_max);
	params[2] = smax;
	params[3] = nmax;
	if (db_query(db, "load file", "backfill_check", sql_backfill_check, 4, params, on_misfit, &fc,
				 NULL))
		return PAYRUN_EXIT_OK;
	return fc.misfit ? PAYRUN_EXIT_DATA : PAYRUN_EXIT_DB;
}

/* Moves the staged rows into the probe table, records the file, commits. */
static bool
insert_and_record(struct db *db, const struct probe_table *pt, const char *path, const char *sha,
				  uint64_t bytes, const struct source_counts *c, struct load_counts *lc)
{
	struct db_value inserted = { .type = DB_VALUE_U64 };
	struct db_value id = { .type = DB_VALUE_TEXT };
	char            nums[5][24];
	const char     *params[7] = { sha, path, nums[0], nums[1], nums[2], nums[3], nums[4] };
	char           *sql = probes_sql(pt, sql_backfill_insert);
	bool ok = db_query_value(db, "load file", "backfill_insert", sql, 0, NULL, &inserted);

	free(sql);
	if (!ok || !inserted.found)
		return false;
	lc->rows_read = c->rows_read;
	lc->loaded = inserted.u64;
	lc->skipped = c->in_period - inserted.u64;
	lc->rejected = c->rejected;
	snprintf(nums[0], sizeof(nums[0]), "%llu", (unsigned long long) bytes);
	snprintf(nums[1], sizeof(nums[1]), "%llu", (unsigned long long) lc->rows_read);
	snprintf(nums[2], sizeof(nums[2]), "%llu", (unsigned long long) lc->loaded);
	snprintf(nums[3], sizeof(nums[3]), "%llu", (unsigned long long) lc->skipped);
	snprintf(nums[4], sizeof(nums[4]), "%llu", (unsigned long long) lc->rejected);
	return db_query_value(db, "load file", "backfill_record", sql_backfill_record, 7, params,
						  &id) &&
		   db_commit(db, "load file");
}

/* Loads one file in one transaction; skips it if loaded before. */
static enum payrun_exit
load_file(struct db *db, const struct probe_table *pt, const struct settings *s, const char *path,
		  struct rejects_place *rp, struct load_counts *lc, bool *skipped)
{
	char                 sha[SHA256_HEX_LEN];
	uint64_t             bytes;
	const char          *p1[1] = { sha };
	struct loaded_before lb = { 0 };
	struct source_counts c = { 0 };
	enum payrun_exit     rc;

	*skipped = false;
	memset(lc, 0, sizeof(*lc));
	if (!file_digest(path, sha, &bytes))
		return PAYRUN_EXIT_DATA;
	if (!db_query(db, "check file", "backfill_file_loaded", sql_backfill_file_loaded, 1, p1,
				  on_loaded, &lb, NULL))
		return PAYRUN_EXIT_DB;
	if (lb.found)
	{
		log_notice("'%s' is already loaded (same content as '%s', %s rows, on %s): skipped", path,
				   lb.name, lb.rows, lb.at);
		*skipped = true;
		return PAYRUN_EXIT_OK;
	}
	rc = stage_file(db, s, path, rp, &c);
	if (rc == PAYRUN_EXIT_OK)
		rc = check_fits(db, pt);
	if (rc == PAYRUN_EXIT_OK && !insert_and_record(db, pt, path, sha, bytes, &c, lc))
		rc = PAYRUN_EXIT_DB;
	if (rc != PAYRUN_EXIT_OK)
	{
		db_rollback(db, "load file");
		log_error("'%s' not loaded (rolled back)", path);
		return rc;
	}
	log_notice("loaded '%s': %llu rows read, %llu loaded, %llu skipped (ids already present), "
			   "%llu rejected",
			   path, (unsigned long long) lc->rows_read, (unsigned long long) lc->loaded,
			   (unsigned long long) lc->skipped, (unsigned long long) lc->rejected);
	return PAYRUN_EXIT_OK;
}

static uint64_t
file_size(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? (uint64_t) st.st_size : 0;
}

/* progress belongs on a terminal; in a log it is detail */
static void
load_progress(size_t done, size_t count, uint64_t rows, uint64_t bytes_done, uint64_t bytes_all,
			  double t0)
{
	double el = clock_monotonic_s() - t0;
	double eta = bytes_done > 0 ? el * (double) (bytes_all - bytes_done) / (double) bytes_done : 0;

	log_msg(isatty(STDERR_FILENO) ? LOG_LEVEL_NOTICE : LOG_LEVEL_INFO,
			"backfill: %zu/%zu files, %.0f%% of %.0f MB, %.0f rows/s, ETA %.0f s", done, count,
			bytes_all ? 100.0 * (double) bytes_done / (double) bytes_all : 100.0,
			(double) bytes_all / 1e6, el > 0 ? (double) rows / el : 0.0, eta);
}

static enum payrun_exit
backfill_load(const struct settings *s, const struct paths *files)
{
	struct db            db;
	struct probe_table   pt;
	struct rejects_place rp;
	struct load_counts   total = { 0 };
	size_t               loaded = 0, skipped = 0;
	enum payrun_exit     rc = PAYRUN_EXIT_OK;
	double               t0 = clock_monotonic_s();
	uint64_t             bytes_all = 0, bytes_done = 0;
	char                 msg[256];

	for (size_t i = 0; i < files->count; i++)
		bytes_all += file_size(files->items[i]);
	if (!db_connect(&db, s->db_conninfo, "payrun backfill"))
		return PAYRUN_EXIT_DB;
	/* a timestamp written without an offset means UTC, as in settle */
	if (!db_exec(&db, "connect", "SET TimeZone", "SET TimeZone = 'UTC'"))
		rc = PAYRUN_EXIT_DB;
	else
		rc = probes_resolve(&db, s->probe_table, s->probe_timestamp_zone, false, &pt);
	if (rc != PAYRUN_EXIT_OK)
	{
		db_close(&db);
		return rc;
	}
	if (!open_rejects_place(&rp, s->out_dir))
	{
		db_close(&db);
		return PAYRUN_EXIT_INTERNAL;
	}
	for (size_t i = 0; i < files->count && rc == PAYRUN_EXIT_OK; i++)
	{
		struct load_counts lc;
		bool               was_skipped;

		rc = interrupt_status(load_file(&db, &pt, s, files->items[i], &rp, &lc, &was_skipped),
							  true);
		skipped += was_skipped;
		loaded += !was_skipped && rc == PAYRUN_EXIT_OK;
		total.rows_read += lc.rows_read;
		total.loaded += lc.loaded;
		total.skipped += lc.skipped;
		total.rejected += lc.rejected;
		bytes_done += file_size(files->items[i]);
		if (files->count > 1 && rc == PAYRUN_EXIT_OK)
			load_progress(i + 1, files->count, total.rows_read, bytes_done, bytes_all, t0);
	}
	close_rejects_place(&rp);
	db_close(&db);
	snprintf(msg, sizeof(msg),
			 "into-db: %zu file(s) loaded, %zu already loaded; %llu rows loaded, %llu skipped, "
			 "%llu rejected",
			 loaded, skipped, (unsigned long long) total.loaded, (unsigned long long) total.skipped,
			 (unsigned long long) total.rejected);
	log_notice("backfill %s", msg);
	if (total.rejected > 0)
		log_warning("rejected rows are kept in '%s'", rp.file);
	log_backfill(s, rc, t0, msg);
	return rc;
}

enum payrun_exit
backfill_run(const struct settings *s, const struct backfill_request *req)
{
	struct paths     files;
	enum payrun_exit rc;

	if (!paths_expand(&files, req->patterns, req->npatterns, false))
		return PAYRUN_EXIT_DATA;
	if (req->dry_run)
	{
		for (size_t i = 0; i < files.count; i++)
			printf("would read %s\n", files.items[i]);
		rc = PAYRUN_EXIT_OK;
	}
	else if (req->into_db)
		rc = backfill_load(s, &files);
	else
		rc = backfill_settle(s, &files, &req->from, &req->to);
	paths_release(&files);
	return rc;
}
