/*
 * output_files.c: the file output (see output_files.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "payrun/log.h"
#include "payrun/manifest.h"
#include "payrun/mem.h"
#include "payrun/outfile.h"
#include "payrun/publish.h"
#include "payrun/output_files.h"
#include "payrun/report_html.h"
#include "payrun/banned.h"

#define REJECTS_NAME "rejects.csv"

enum payrun_exit
output_files_open(struct output_files *of, const char *out_dir, const char *label,
				  enum publish_mode mode, int exact)
{
	enum payrun_exit rc;

	memset(of, 0, sizeof(*of));
	rc = publish_begin(&of->pub, out_dir, label, mode, exact);
	of->begun = true;
	if (rc != PAYRUN_EXIT_OK)
		return rc;
	of->prepared = true;
	if (!rejects_open(&of->rejects, publish_dirfd(&of->pub), REJECTS_NAME))
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

/* What the row writers of one version write from. */
struct version_rows
{
	const struct ledger      *ledger;
	const struct adjustments *adjustments;
};

/* Writes one row (without its line end) of a CSV file. */
typedef void (*row_writer)(const struct csvout *w, const struct version_rows *rows, size_t i);

/* Creates out->name with a header and nrows rows; records size and digest. */
static bool
write_csv(int dirfd, const struct version_rows *rows, const char *header, size_t nrows,
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
		write_row(&w, rows, i);
		csvout_char(&w, '\n');
	}
	out->bytes = of.bytes;
	if (!outfile_close(&of))
		return false;
	memcpy(out->sha256, of.sha256, SHA256_HEX_LEN);
	return true;
}

static void
ledger_row(const struct csvout *w, const struct version_rows *rows, size_t i)
{
	write_bounds(w, &rows->ledger->period);
	csvout_ledger_row(w, &rows->ledger->rows[i]);
}

static void
stream_row(const struct csvout *w, const struct version_rows *rows, size_t i)
{
	write_bounds(w, &rows->ledger->period);
	csvout_stream_row(w, &rows->ledger->streams[i]);
}

static void
adjustment_row(const struct csvout *w, const struct version_rows *rows, size_t i)
{
	csvout_adjustment_row(w, &rows->adjustments->rows[i]);
}

/* manifest.json, from the record and the outputs written before it. */
static bool
write_manifest(int dirfd, const struct run_record *run, const struct manifest_output *outputs,
			   size_t noutputs)
{
	json_t        *manifest = manifest_build(run, outputs, noutputs);
	char          *text = NULL;
	struct outfile of;
	bool           ok;

	if (manifest)
		text = json_dumps(manifest, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(6));
	json_decref(manifest);
	if (text == NULL)
	{
		log_error("internal error: could not build manifest.json");
		return false;
	}
	ok = outfile_create(&of, dirfd, "manifest.json");
	if (ok)
	{
		outfile_puts(&of, text);
		outfile_write(&of, "\n", 1);
		ok = outfile_close(&of);
	}
	free(text);
	return ok;
}

/* Writes bytes as one file; records size and digest. */
static bool
write_bytes(int dirfd, const char *data, size_t len, struct manifest_output *out)
{
	struct outfile of;

	if (!outfile_create(&of, dirfd, out->name))
		return false;
	outfile_write(&of, data, len);
	out->bytes = of.bytes;
	if (!outfile_close(&of))
		return false;
	memcpy(out->sha256, of.sha256, SHA256_HEX_LEN);
	return true;
}

/* report.html, the page of the version; records size and digest. */
static bool
write_report_html(int dirfd, const struct run_record *run, const struct ledger *ledger,
				  struct manifest_output *out)
{
	struct outfile of;
	struct csvout  w;

	if (!outfile_create(&of, dirfd, out->name))
		return false;
	w = outfile_csvout(&of);
	report_html_write(&w, run, ledger);
	out->bytes = of.bytes;
	if (!outfile_close(&of))
		return false;
	memcpy(out->sha256, of.sha256, SHA256_HEX_LEN);
	return true;
}

enum payrun_exit
output_files_write(struct output_files *of, const struct run_record *run,
				   const struct ledger *ledger, const struct adjustments *adjustments,
				   const struct pools *pools)
{
	int                    dirfd = publish_dirfd(&of->pub);
	struct version_rows    rows = { ledger, adjustments };
	struct manifest_output outputs[6] = { { .name = "ledger.csv" },
										  { .name = "streams.csv" },
										  { .name = REJECTS_NAME } };
	size_t                 n = 3;

	if (!write_csv(dirfd, &rows, CSVOUT_LEDGER_HEADER, ledger->nrows, ledger_row, &outputs[0]) ||
		!write_csv(dirfd, &rows, CSVOUT_STREAMS_HEADER, ledger->nstreams, stream_row, &outputs[1]))
		return PAYRUN_EXIT_INTERNAL;
	outputs[2].bytes = of->rejects.file.bytes;
	if (!rejects_close(&of->rejects))
		return PAYRUN_EXIT_INTERNAL;
	memcpy(outputs[2].sha256, of->rejects.file.sha256, SHA256_HEX_LEN);
	if (adjustments)
	{
		outputs[n].name = "adjustments.csv";
		if (!write_csv(dirfd, &rows, CSVOUT_ADJUSTMENTS_HEADER, adjustments->nrows, adjustment_row,
					   &outputs[n++]))
			return PAYRUN_EXIT_INTERNAL;
	}
	if (pools && pools->origin != POOLS_NONE)
	{
		outputs[n].name = "pools.csv";
		if (!write_bytes(dirfd, pools->copy ? pools->copy : "", pools->copy_len, &outputs[n++]))
			return PAYRUN_EXIT_INTERNAL;
	}
	outputs[n].name = REPORT_HTML_NAME;
	if (!write_report_html(dirfd, run, ledger, &outputs[n++]))
		return PAYRUN_EXIT_INTERNAL;
	if (!write_manifest(dirfd, run, outputs, n))
		return PAYRUN_EXIT_INTERNAL;
	return PAYRUN_EXIT_OK;
}

enum payrun_exit
output_files_publish(struct output_files *of)
{
	return publish_commit(&of->pub);
}

void
output_files_close(struct output_files *of)
{
	rejects_discard(&of->rejects);
	if (of->begun)
		publish_end(&of->pub);
	memset(of, 0, sizeof(*of));
}

struct rejects *
output_files_rejects(struct output_files *of)
{
	return &of->rejects;
}

bool
output_files_keep_rejects(struct output_files *of, char *path_out, size_t path_len)
{
	if (!of->prepared || !rejects_close(&of->rejects))
		return false;
	return publish_keep_failed(&of->pub, REJECTS_NAME, path_out, path_len);
}

bool
output_files_overlap(const struct output_files *of, const struct period *p, char *found, size_t len)
{
	return publish_overlap(of->pub.out_fd, p, found, len);
}

int
output_files_version(const struct output_files *of)
{
	return of->pub.version;
}

const char *
output_files_previous_dir(const struct output_files *of, char *buf, size_t len)
{
	if (of->pub.previous < 1)
		return NULL;
	snprintf(buf, len, "%s/%s/v%d", of->pub.out_dir, of->pub.label, of->pub.previous);
	return buf;
}

const char *
output_files_path(const struct output_files *of)
{
	return of->pub.final_path;
}
