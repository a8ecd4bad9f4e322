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
	uint64_t	bytes;
	char		sha256[SHA256_HEX_LEN];
};

/* Builds the manifest; finished_at is taken now.  Caller owns the result. */
json_t	   *manifest_build(const struct sink_run *run,
						   const struct manifest_output *outputs, size_t noutputs);

/* The current UTC time as "YYYY-MM-DDTHH:MM:SSZ". */
void		manifest_now(char out[TIMESTAMP_FORMAT_LEN]);

#endif
