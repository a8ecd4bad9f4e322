/*
 * manifest.h: manifest.json, the self-description of a published version:
 * period, inputs with digests, settings, counts, totals, outputs with
 * digests, timing.
 */
#ifndef PAYRUN_MANIFEST_H
#define PAYRUN_MANIFEST_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "payrun/sha256.h"
#include "payrun/sink.h"

struct manifest_output
{
	const char *name;
	uint64_t    bytes;
	char        sha256[SHA256_HEX_LEN];
};

/* Builds the manifest; finished_at is taken now.  Caller owns the result. */
json_t *manifest_build(const struct sink_run *run, const struct manifest_output *outputs,
					   size_t noutputs);

/* The parts the database run record stores too (caller owns each). */
json_t *manifest_settings_json(const struct settings *s);
json_t *manifest_counts_json(const struct sink_run *run);
json_t *manifest_totals_json(const struct ledger_totals *t);

#endif
