/*
 * sink_files.c: the file sink (see sink_files.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "payrun/log.h"
#include "payrun/manifest.h"
#include "payrun/mem.h"
#include "payrun/outfile.h"
#include "payrun/publish.h"
#include "payrun/sink_files.h"
#include "payrun/banned.h"

#define REJECTS_NAME "rejects.csv"

struct sink_files
{
	struct sink    base; /* first: a struct sink * is a struct sink_files * */
	struct publish pub;
	bool           begun;    /* publish_begin called: publish_end owed */
	bool           prepared; /* ... and it succeeded */
	struct rejects rejects;
};

static enum payrun_exit
files_prepare(struct sink *sink, const struct sink_run *run)
{
	struct sink_files *sf = (struct sink_files *) sink;
	enum payrun_exit   rc;

	rc = publish_begin(&sf->pub, run->settings->out_dir, run->settings->period.label,
					   run->settings->rerun ? PUBLISH_NEXT : PUBLISH_FIRST);
	sf->begun = true;
	if (rc != PAYRUN_EXIT_OK)
		return rc;
	sf->prepared = true;
	if (!rejects_open(&sf->rejects, publish_dirfd(&sf->pub), REJECTS_NAME))
		return PAYRUN_EXIT_INTERNAL;
	return PAYRUN_EXIT_OK;
}

/* "period_start,period_end," of every row */
static void
write_bounds(const struct csvout *w, const struct period *p)
{
	char ts[TIMESTAMP_FORMAT_LEN];

	timestamp_format(p->start, ts);
	csvout_bytes(w, ts, TIMESTAMP_FORMAT_LEN - 1);
	csvout_char(w, ',');
	timestamp_format(p->end, ts);
	csvout_bytes(w, ts, TIMESTAMP_FORMAT_LEN - 1);
	csvout_char(w, ',');
}

/* Writes one row (without its line end) of a CSV file. */
typedef void (*row_writer)(const struct csvout *w, const struct sink_run *run, size_t i);

/* Creates out->name with a header and nrows rows; records size and digest. */
static bool
write_csv(int dirfd, const struct sink_run *run, const char *header, size_t nrows,
		  row_writer write_row, struct manifest_output *out)
{
	struct outfile of;
	struct csvout  w;

	if (!outfile_create(&of, dirfd, out->name))
		return false;
	w = outfile_csvout(&of);
	outfile_puts(&of, header);
	for (size_t i = 0; i < nrows; i++)
	{
		write_row(&w, run, i);
		csvout_char(&w, '\n');
	}
	out->bytes = of.bytes;
	if (!outfile_close(&of))
		return false;
	memcpy(out->sha256, of.sha256, SHA256_HEX_LEN);
	return true;
}

static void
ledger_row(const struct csvout *w, const struct sink_run *run, size_t i)
{
	write_bounds(w, &run->ledger->period);
	csvout_ledger_row(w, &run->ledger->rows[i]);
}

static void
stream_row(const struct csvout *w, const struct sink_run *run, size_t i)
{
	write_bounds(w, &run->ledger->period);
	csvout_stream_row(w, &run->ledger->streams[i]);
}

static void
adjustment_row(const struct csvout *w, const struct sink_run *run, size_t i)
{
	csvout_adjustment_row(w, &run->adjustments->rows[i]);
}

static enum payrun_exit
files_write(struct sink *sink, const struct sink_run *run)
{
	struct sink_files     *sf = (struct sink_files *) sink;
	int                    dirfd = publish_dirfd(&sf->pub);
	struct manifest_output outputs[4] = { { .name = "ledger.csv" },
										  { .name = "streams.csv" },
										  { .name = REJECTS_NAME },
										  { .name = "adjustments.csv" } };
	size_t                 noutputs = run->adjustments ? 4 : 3;
	struct outfile         of;
	json_t                *manifest;
	char                  *text;
	bool                   ok;

	if (!write_csv(dirfd, run,
				   "period_start,period_end,stream_id,node_id,total_polls,"
				   "successful_polls,failed_spot_checks,uptime_ppm,contribution_ppm,"
				   "base_amount,forfeited_amount,payout_amount\n",
				   run->ledger->nrows, ledger_row, &outputs[0]) ||
		!write_csv(dirfd, run,
				   "period_start,period_end,stream_id,pool,nodes,"
				   "total_successful_polls,paid,forfeited,unallocated\n",
				   run->ledger->nstreams, stream_row, &outputs[1]))
		return PAYRUN_EXIT_INTERNAL;
	outputs[2].bytes = sf->rejects.file.bytes;
	if (!rejects_close(&sf->rejects))
		return PAYRUN_EXIT_INTERNAL;
	memcpy(outputs[2].sha256, sf->rejects.file.sha256, SHA256_HEX_LEN);
	if (run->adjustments && !write_csv(dirfd, run, CSVOUT_ADJUSTMENTS_HEADER,
									   run->adjustments->nrows, adjustment_row, &outputs[3]))
		return PAYRUN_EXIT_INTERNAL;

	manifest = manifest_build(run, outputs, noutputs);
	text = manifest
			   ? json_dumps(manifest, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(6))
			   : NULL;
	json_decref(manifest);
	if (text == NULL)
	{
		log_error("internal error: could not build manifest.json");
		return PAYRUN_EXIT_INTERNAL;
	}
	ok = outfile_create(&of, dirfd, "manifest.json");
	if (ok)
	{
		outfile_puts(&of, text);
		outfile_write(&of, "\n", 1);
		ok = outfile_close(&of);
	}
	free(text);
	return ok ? PAYRUN_EXIT_OK : PAYRUN_EXIT_INTERNAL;
}

static enum payrun_exit
files_publish(struct sink *sink, const struct sink_run *run)
{
	struct sink_files *sf = (struct sink_files *) sink;

	(void) run;
	return publish_commit(&sf->pub);
}

static void
files_destroy(struct sink *sink)
{
	struct sink_files *sf = (struct sink_files *) sink;

	rejects_discard(&sf->rejects);
	if (sf->begun)
		publish_end(&sf->pub);
	free(sf);
}

static const struct sink_ops files_ops = {
	.name = "files",
	.prepare = files_prepare,
	.write = files_write,
	.publish = files_publish,
	.destroy = files_destroy,
};

struct sink *
sink_files_create(void)
{
	struct sink_files *sf = mem_calloc(1, sizeof(*sf));

	sf->base.ops = &files_ops;
	return &sf->base;
}

struct rejects *
sink_files_rejects(struct sink *sink)
{
	return &((struct sink_files *) sink)->rejects;
}

bool
sink_files_keep_rejects(struct sink *sink, char *path_out, size_t path_len)
{
	struct sink_files *sf = (struct sink_files *) sink;

	if (!sf->prepared || !rejects_close(&sf->rejects))
		return false;
	return publish_keep_failed(&sf->pub, REJECTS_NAME, path_out, path_len);
}

int
sink_files_version(struct sink *sink)
{
	return ((struct sink_files *) sink)->pub.version;
}

const char *
sink_files_previous_dir(struct sink *sink, char *buf, size_t len)
{
	struct sink_files *sf = (struct sink_files *) sink;

	if (sf->pub.previous < 1)
		return NULL;
	snprintf(buf, len, "%s/%s/v%d", sf->pub.out_dir, sf->pub.label, sf->pub.previous);
	return buf;
}

const char *
sink_files_path(struct sink *sink)
{
	return ((struct sink_files *) sink)->pub.final_path;
}
