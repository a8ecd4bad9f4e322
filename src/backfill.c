/*
 * backfill.c: settling and loading history from exports (see backfill.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "payrun/clock.h"
#include "payrun/backfill.h"
#include "payrun/csvout.h"
#include "payrun/db.h"
#include "payrun/log.h"
#include "payrun/manifest.h"
#include "payrun/mem.h"
#include "payrun/publish.h"
#include "payrun/rejects.h"
#include "payrun/report.h"
#include "payrun/runlog.h"
#include "payrun/settle.h"
#include "payrun/sha256.h"
#include "payrun/source_csv.h"
#include "payrun/sql.h"
#include "payrun/banned.h"

#define BACKFILL_MAX_PERIODS 100000

/* DIR/backfill/<stamp>-<pid>/ with rejects.csv, where a backfill keeps its rejects. */
struct rejects_place
{
	char           dir[4400];
	int            fd;
	struct rejects rejects;
};

static bool
open_rejects_place(struct rejects_place *rp, const char *out_dir)
{
	char stamp[TIMESTAMP_FORMAT_LEN];
	char base[4200];

	clock_utc_text(stamp);
	snprintf(base, sizeof(base), "%s/backfill", out_dir);
	snprintf(rp->dir, sizeof(rp->dir), "%s/%s-%ld", base, stamp, (long) getpid());
	if ((mkdir(out_dir, PUBLISH_DIR_MODE) != 0 && errno != EEXIST) ||
		(mkdir(base, PUBLISH_DIR_MODE) != 0 && errno != EEXIST) ||
		mkdir(rp->dir, PUBLISH_DIR_MODE) != 0)
	{
		log_error("could not create '%s': %s", rp->dir, strerror(errno));
		return false;
	}
	rp->fd = open(rp->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (rp->fd < 0 || !rejects_open(&rp->rejects, rp->fd, "rejects.csv"))
	{
		log_error("could not open '%s/rejects.csv'", rp->dir);
		if (rp->fd >= 0)
			close(rp->fd);
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
		char *slash;

		(void) unlinkat(rp->fd, "rejects.csv", 0);
		(void) rmdir(rp->dir);
		/* and DIR/backfill itself when no earlier backfill kept anything */
		slash = strrchr(rp->dir, '/');
		if (slash)
		{
			*slash = '\0';
			(void) rmdir(rp->dir);
			*slash = '/';
		}
	}
	close(rp->fd);
}

static bool
ratio_ok(const struct settings *s, const struct source_counts *c, const char *what,
		 const char *kept)
{
	if (!settings_ratio_exceeded(&s->max_reject_ratio, c->rejected, c->rows_read))
		return true;
	log_error("%s: %llu of %llu rows rejected, more than the maximum reject ratio %s; "
			  "rejects kept in '%s/rejects.csv'",
			  what, (unsigned long long) c->rejected, (unsigned long long) c->rows_read,
			  s->max_reject_ratio.text, kept);
	return false;
}

static void
log_backfill(const struct settings *s, const char *status, enum payrun_exit rc, double wall,
			 const char *note)
{
	json_t *e = json_pack("{s:s, s:s, s:s, s:i, s:f, s:s}", "command", "backfill", "period", "-",
						  "status", status, "exit", (int) rc, "wall_s", wall, "note", note);

	(void) runlog_append(s->out_dir, e);
	json_decref(e);
}

enum payrun_exit
backfill_settle(const struct settings *s, const struct paths *files, const struct period *from,
				const struct period *to)
{
	int64_t              span = from->end - from->start;
	size_t               n;
	struct aggregate    *aggs = NULL;
	uint64_t            *in_period = NULL;
	bool                *todo = NULL;
	struct source_window win;
	struct source_counts counts = { 0 };
	struct source_file  *fi = NULL;
	struct rejects_place rp;
	size_t               settled = 0, already = 0, nodata = 0, pending = 0;
	enum payrun_exit     rc = PAYRUN_EXIT_OK;
	double               t0 = clock_monotonic_s();
	char                 note[5000];
	int                  out_fd;

	if (from->length != to->length || to->start < from->start)
	{
		log_error("--from %s and --to %s must be periods of the same length, in order", from->label,
				  to->label);
		return PAYRUN_EXIT_USAGE;
	}
	n = (size_t) ((to->start - from->start) / span) + 1;
	if (n > BACKFILL_MAX_PERIODS)
	{
		log_error("%zu periods from %s to %s: more than %d in one backfill", n, from->label,
				  to->label, BACKFILL_MAX_PERIODS);
		return PAYRUN_EXIT_USAGE;
	}
	if (mkdir(s->out_dir, PUBLISH_DIR_MODE) != 0 && errno != EEXIST)
	{
		log_error("could not create output directory '%s': %s", s->out_dir, strerror(errno));
		return PAYRUN_EXIT_INTERNAL;
	}
	out_fd = open(s->out_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (out_fd < 0)
	{
		log_error("could not open output directory '%s': %s", s->out_dir, strerror(errno));
		return PAYRUN_EXIT_INTERNAL;
	}
	todo = mem_calloc(n, sizeof(bool));
	for (size_t i = 0; i < n; i++)
	{
		struct period p;
		int           v;

		period_from_start(from->start + (int64_t) i * span, from->length, &p);
		v = publish_latest_version(out_fd, p.label);
		todo[i] = (v == 0);
		if (v > 0)
			already++;
		else
			pending++;
	}
	close(out_fd);
	if (pending == 0)
	{
		log_notice("nothing to do: all %zu periods from %s to %s are settled already", n,
				   from->label, to->label);
		free(todo);
		return PAYRUN_EXIT_OK;
	}

	if (!open_rejects_place(&rp, s->out_dir))
	{
		free(todo);
		return PAYRUN_EXIT_INTERNAL;
	}
	aggs = mem_calloc(n, sizeof(struct aggregate));
	for (size_t i = 0; i < n; i++)
		aggregate_init(&aggs[i]);
	in_period = mem_calloc(n, sizeof(uint64_t));
	memset(&win, 0, sizeof(win));
	win.start = from->start;
	win.span = span;
	win.nperiods = n;
	win.aggs = aggs;
	win.in_period = in_period;
	fi = mem_calloc(files->count ? files->count : 1, sizeof(struct source_file));

	log_notice(
		"backfill: reading %zu file(s) once for %zu period(s) from %s to %s (%zu settled already)",
		files->count, n, from->label, to->label, already);
	rc = source_csv_read((const char *const *) files->items, files->count, &win, &s->limits,
						 s->jobs, &rp.rejects, &counts, fi);
	close_rejects_place(&rp);
	if (rc != PAYRUN_EXIT_OK)
	{
		log_error("backfill stopped; nothing published");
		goto out;
	}
	if (!ratio_ok(s, &counts, "backfill", rp.dir))
	{
		log_error("nothing published");
		rc = PAYRUN_EXIT_DATA;
		goto out;
	}
	snprintf(note, sizeof(note),
			 "backfill of %zu file(s) for %s..%s: %llu rows read, %llu rejected%s%s%s",
			 files->count, from->label, to->label, (unsigned long long) counts.rows_read,
			 (unsigned long long) counts.rejected, counts.rejected ? " (kept in '" : "",
			 counts.rejected ? rp.dir : "", counts.rejected ? "/rejects.csv')" : "");

	for (size_t i = 0; i < n && rc == PAYRUN_EXIT_OK; i++)
	{
		struct settings      ps = *s;
		struct source_counts pc = { 0 };
		enum payrun_exit     prc;

		if (!todo[i])
			continue;
		period_from_start(from->start + (int64_t) i * span, from->length, &ps.period);
		if (in_period[i] == 0)
		{
			log_warning("no probe rows for period %s in these files: not settled", ps.period.label);
			nodata++;
			continue;
		}
		pc.rows_read = pc.in_period = in_period[i];
		prc = settle_aggregate(&ps, &aggs[i], &pc, fi, files->count, note);
		aggregate_release(&aggs[i]);
		if (prc == PAYRUN_EXIT_CONFLICT)
		{
			log_notice("period %s was settled meanwhile by another run; skipped", ps.period.label);
			already++;
		}
		else if (prc != PAYRUN_EXIT_OK)
		{
			log_error("backfill stopped at period %s; the periods before it are published",
					  ps.period.label);
			rc = prc;
		}
		else
			settled++;
	}
	log_notice("backfill: %zu period(s) settled, %zu already settled, %zu without data%s", settled,
			   already, nodata,
			   nodata ? " (not settled: check that the exports are complete)" : "");
	if (rc == PAYRUN_EXIT_OK && nodata > 0)
		rc = PAYRUN_EXIT_DATA;

out:
{
	char msg[256];

	snprintf(msg, sizeof(msg), "settle %s..%s: %zu settled, %zu already, %zu without data",
			 from->label, to->label, settled, already, nodata);
	log_backfill(s, rc == PAYRUN_EXIT_OK ? "done" : "failed", rc, clock_monotonic_s() - t0, msg);
}
	for (size_t i = 0; aggs && i < n; i++)
		aggregate_release(&aggs[i]);
	free(aggs);
	free(in_period);
	free(todo);
	free(fi);
	return rc;
}

/* ---- loading into probe_results ----------------------------------------- */

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
	int           fd = open(path, O_RDONLY | O_CLOEXEC);
	char         *buf;
	struct sha256 d;
	ssize_t       n;

	if (fd < 0)
	{
		log_error("could not open '%s': %s", path, strerror(errno));
		return false;
	}
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

static bool
on_count(void *arg, int ncols, const char *const *v, const int *len)
{
	(void) len;
	if (ncols == 1 && v[0])
		*(uint64_t *) arg = strtoull(v[0], NULL, 10);
	return true;
}

/* Loads one file in one transaction; skips it if loaded before. */
static enum payrun_exit
load_file(struct db *db, const struct settings *s, const char *path, struct rejects_place *rp,
		  struct source_counts *total, bool *skipped)
{
	char                 sha[SHA256_HEX_LEN];
	uint64_t             bytes;
	const char          *p1[1] = { sha };
	struct loaded_before lb = { 0 };
	struct loader        ld;
	struct source_window win;
	struct source_counts c = { 0 };
	struct source_file   sf;
	uint64_t             loaded = 0;
	enum payrun_exit     rc;
	char                 nums[5][24];
	const char          *params[7];

	*skipped = false;
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
	if (!db_exec(db, "load file", "BEGIN", "BEGIN") ||
		!db_exec(db, "load file", "backfill_staging", sql_backfill_staging) ||
		!db_copy_begin(db, "load file", "backfill_copy", sql_backfill_copy))
		goto db_fail;

	db_copy_init(&ld.copy, db, "load file");
	ld.w = db_copy_csvout(&ld.copy);
	memset(&win, 0, sizeof(win));
	win.row_fn = copy_row;
	win.row_arg = &ld;
	rc = source_csv_read_file(path, &win, &s->limits, &rp->rejects, &c, &sf);
	if (rc == PAYRUN_EXIT_OK && !db_copy_flush(&ld.copy))
		rc = PAYRUN_EXIT_DB;
	db_copy_release(&ld.copy);
	if (rc != PAYRUN_EXIT_OK)
	{
		(void) db_copy_end(db, "load file", "backfill_copy");
		(void) db_exec(db, "load file", "ROLLBACK", "ROLLBACK");
		log_error("'%s' not loaded (rolled back)", path);
		return rc;
	}
	if (!db_copy_end(db, "load file", "backfill_copy"))
		goto db_fail;
	if (!ratio_ok(s, &c, path, rp->dir))
	{
		(void) db_exec(db, "load file", "ROLLBACK", "ROLLBACK");
		log_error("'%s' not loaded (rolled back)", path);
		return PAYRUN_EXIT_DATA;
	}
	if (!db_query(db, "load file", "backfill_insert", sql_backfill_insert, 0, NULL, on_count,
				  &loaded, NULL))
		goto db_fail;
	snprintf(nums[0], sizeof(nums[0]), "%llu", (unsigned long long) bytes);
	snprintf(nums[1], sizeof(nums[1]), "%llu", (unsigned long long) c.rows_read);
	snprintf(nums[2], sizeof(nums[2]), "%llu", (unsigned long long) loaded);
	snprintf(nums[3], sizeof(nums[3]), "%llu", (unsigned long long) (c.in_period - loaded));
	snprintf(nums[4], sizeof(nums[4]), "%llu", (unsigned long long) c.rejected);
	params[0] = sha;
	params[1] = path;
	for (int i = 0; i < 5; i++)
		params[2 + i] = nums[i];
	if (!db_query(db, "load file", "backfill_record", sql_backfill_record, 7, params, on_count,
				  &(uint64_t){ 0 }, NULL) ||
		!db_exec(db, "load file", "COMMIT", "COMMIT"))
		goto db_fail;
	log_notice("loaded '%s': %llu rows read, %llu loaded, %llu skipped (ids already present), %llu "
			   "rejected",
			   path, (unsigned long long) c.rows_read, (unsigned long long) loaded,
			   (unsigned long long) (c.in_period - loaded), (unsigned long long) c.rejected);
	total->rows_read += c.rows_read;
	total->in_period += loaded;
	total->out_of_period += c.in_period - loaded;
	total->rejected += c.rejected;
	return PAYRUN_EXIT_OK;

db_fail:
	if (db_connected(db))
		(void) db_exec(db, "load file", "ROLLBACK", "ROLLBACK");
	log_error("'%s' not loaded (rolled back)", path);
	return PAYRUN_EXIT_DB;
}

enum payrun_exit
backfill_load(const struct settings *s, const struct paths *files)
{
	struct db            db;
	struct rejects_place rp;
	struct source_counts total = { 0 };
	size_t               loaded = 0, skipped = 0;
	enum payrun_exit     rc = PAYRUN_EXIT_OK;
	double               t0 = clock_monotonic_s();
	uint64_t             bytes_all = 0, bytes_done = 0;
	char                 msg[256];

	for (size_t i = 0; i < files->count; i++)
	{
		struct stat st;

		if (stat(files->items[i], &st) == 0)
			bytes_all += (uint64_t) st.st_size;
	}
	if (!db_connect(&db, s->db_conninfo, "payrun backfill"))
		return PAYRUN_EXIT_DB;
	/* a timestamp without a zone means UTC, as in settle */
	if (!db_exec(&db, "connect", "SET TimeZone", "SET TimeZone = 'UTC'"))
	{
		db_close(&db);
		return PAYRUN_EXIT_DB;
	}
	if (!open_rejects_place(&rp, s->out_dir))
	{
		db_close(&db);
		return PAYRUN_EXIT_INTERNAL;
	}
	for (size_t i = 0; i < files->count && rc == PAYRUN_EXIT_OK; i++)
	{
		bool        was_skipped;
		struct stat st;

		rc = load_file(&db, s, files->items[i], &rp, &total, &was_skipped);
		if (was_skipped)
			skipped++;
		else if (rc == PAYRUN_EXIT_OK)
			loaded++;
		if (stat(files->items[i], &st) == 0)
			bytes_done += (uint64_t) st.st_size;
		if (files->count > 1 && rc == PAYRUN_EXIT_OK)
		{
			double el = clock_monotonic_s() - t0;
			double eta = bytes_done > 0
							 ? el * (double) (bytes_all - bytes_done) / (double) bytes_done
							 : 0;

			/* progress belongs on a terminal; in a log it is detail */
			log_msg(isatty(STDERR_FILENO) ? LOG_LEVEL_NOTICE : LOG_LEVEL_INFO,
					"backfill: %zu/%zu files, %.0f rows/s, ETA %.0f s", i + 1, files->count,
					el > 0 ? (double) total.rows_read / el : 0.0, eta);
		}
	}
	close_rejects_place(&rp);
	db_close(&db);
	snprintf(msg, sizeof(msg),
			 "into-db: %zu file(s) loaded, %zu already loaded; %llu rows loaded, %llu skipped, "
			 "%llu rejected",
			 loaded, skipped, (unsigned long long) total.in_period,
			 (unsigned long long) total.out_of_period, (unsigned long long) total.rejected);
	log_notice("backfill %s", msg);
	if (total.rejected > 0)
		log_warning("rejected rows are kept in '%s/rejects.csv'", rp.dir);
	log_backfill(s, rc == PAYRUN_EXIT_OK ? "done" : "failed", rc, clock_monotonic_s() - t0, msg);
	return rc;
}
