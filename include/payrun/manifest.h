/*
 * manifest.h: the record of a settled version (struct run_record) and its
 * file form, manifest.json: period, version, source, inputs with digests,
 * settings, counts, totals, outputs with digests, timing.  A settlement
 * builds the record from what it read and computed; 'payrun export' from
 * the row the database stored.  The database keeps the same settings,
 * counts, totals and timing objects (output_db.h).
 */
#ifndef PAYRUN_MANIFEST_H
#define PAYRUN_MANIFEST_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "payrun/adjust.h"
#include "payrun/coverage.h"
#include "payrun/probes.h"
#include "payrun/ledger.h"
#include "payrun/period.h"
#include "payrun/pools.h"
#include "payrun/rejects.h"
#include "payrun/report.h"
#include "payrun/settings.h"
#include "payrun/sha256.h"
#include "payrun/source_csv.h"
#include "payrun/source_rollups.h"
#include "payrun/timestamp.h"

struct run_record
{
	struct period             period;
	int                       version;
	const char               *source_kind;    /* "csv" or "pg"; borrowed */
	const char               *db_description; /* "host=... dbname=..." (no password), or NULL */
	const struct probe_table *table;          /* source pg: the probe table read, or NULL */
	const struct coverage    *coverage;       /* when the probes were taken, or NULL */
	const struct rollups_use *rollups;        /* source pg: how the read used them, or NULL */
	char                      input_digest[SHA256_HEX_LEN]; /* of the aggregate */
	bool                      inputs_known;                 /* false: exported, not stored */
	const struct source_file *inputs;                       /* borrowed */
	size_t                    ninputs;
	json_t                   *settings; /* owned */
	json_t                   *counts;   /* owned */
	json_t                   *totals;   /* owned */
	json_t                   *checks;   /* owned: the refusal checks' outcomes, or NULL */
	json_t                   *timing;   /* owned; NULL: taken from report when written */
	const struct report      *report;   /* borrowed, or NULL */
	json_t                   *rerun;    /* owned, or NULL: not a rerun (or not known) */
	const char               *note;     /* borrowed, or NULL */
	char                      started_at[TIMESTAMP_FORMAT_LEN];
	char                      finished_at[TIMESTAMP_FORMAT_LEN]; /* "": now, when written */
	char                      payrun_version[32];                /* that settled it */
	bool                      exported; /* rebuilt from the database by 'payrun export' */
};

struct manifest_output
{
	const char *name;
	uint64_t    bytes;
	char        sha256[SHA256_HEX_LEN];
};

void run_record_release(struct run_record *run);

/*
 * A name (a path, a reason, a note) as JSON: a string, escaped when it is
 * not UTF-8 (utf8.h), so it is never dropped; NULL is null.  Caller owns it.
 */
json_t *manifest_text_json(const char *s);

/* An amount as JSON: a decimal string (caller owns it). */
json_t *manifest_amount_json(const struct amount *a);
json_t *manifest_delta_json(const struct amount_delta *d);

/* The record's parts from a settlement (caller owns each). */
json_t *manifest_settings_json(const struct settings *s, enum period_length length,
							   const struct pools *pools);
json_t *manifest_counts_json(const struct source_counts *counts, const struct rejects *rejects);
json_t *manifest_totals_json(const struct ledger_totals *t);
/* How a PostgreSQL read used the rollups: the period's hours from each. */
json_t *manifest_rollups_json(const struct rollups_use *u);
json_t *manifest_rerun_json(const struct adjustments *adj, const char *reason);

/* The timing object: run->timing, or now from run->report (caller owns). */
json_t *manifest_timing_json(const struct run_record *run);

/*
 * Reads dir/manifest.json (a regular file: a FIFO there is refused, not
 * waited on).  Returns the object (caller owns), or NULL having logged why.
 */
json_t *manifest_load(const char *dir);

/* manifest.json of a published version: the record and its outputs (caller owns). */
json_t *manifest_build(const struct run_record *run, const struct manifest_output *outputs,
					   size_t noutputs);

#endif
