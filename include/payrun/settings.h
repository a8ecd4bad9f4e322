/*
 * settings.h: the policy of a run (where probes come from and how payouts
 * are computed and checked), once the command line and the config file
 * have been merged and validated (config.h).  What a run is about (its
 * period, inputs, rerun reason) is its request: settle.h, backfill.h.
 */
#ifndef PAYRUN_SETTINGS_H
#define PAYRUN_SETTINGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "payrun/amount.h"
#include "payrun/input.h"
#include "payrun/payout.h"
#include "payrun/period.h"

/* An exact decimal ratio num/den in [0, 1] (no floating point). */
struct settings_ratio
{
	uint64_t num;
	uint64_t den;
	char     text[24]; /* as given, for the manifest */
};

enum settings_source
{
	SOURCE_CSV = 0, /* --input files */
	SOURCE_PG       /* probe_results in PostgreSQL */
};

struct settings
{
	enum period_length    period_length; /* as given; PERIOD_LENGTH_UNSET if not */
	enum settings_source  source;
	char                 *db_conninfo;    /* owned, NULL: libpq's environment; never logged */
	char                 *pools_path;     /* owned, NULL if none */
	unsigned              token_decimals; /* of pool amounts as given */
	struct amount         default_pool;   /* base units */
	struct payout_keep    keep;           /* from the penalty factor */
	struct settings_ratio max_reject_ratio;
	char                 *out_dir; /* owned */
	struct input_limits   limits;
	unsigned              jobs; /* input files read at once; 0 = one per CPU */
};

/* Parses a decimal in [0, 1] with at most 9 fractional digits.  Pure. */
bool settings_ratio_parse(const char *s, struct settings_ratio *out);

/* True when part / whole > ratio, exactly. */
bool settings_ratio_exceeded(const struct settings_ratio *ratio, uint64_t part, uint64_t whole);

void settings_release(struct settings *s);

#endif
