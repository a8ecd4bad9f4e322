/*
 * settings.h: the policy of a run (where probes come from and how payouts
 * are computed and checked), once the command line and the config file
 * have been merged and validated (config.h).  What a run is about (its
 * period, inputs, rerun reason) is its request: settle.h, backfill.h.
 */
#ifndef PAYRUN_SETTINGS_H
#define PAYRUN_SETTINGS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "payrun/source_rollups.h"
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

/* The payout settings a rerun inherits from the version it replaces, unless given. */
#define SETTING_PENALTY_FACTOR   (1u << 0)
#define SETTING_DEFAULT_POOL     (1u << 1)
#define SETTING_POOLS            (1u << 2) /* a pools file or a pools query */
#define SETTING_MAX_REJECT_RATIO (1u << 3)
#define SETTING_TOKEN_DECIMALS   (1u << 4)

struct settings
{
	enum period_length    period_length; /* as given; PERIOD_LENGTH_UNSET if not */
	enum settings_source  source;
	char                 *db_conninfo;          /* owned, NULL: libpq's environment; never logged */
	char                 *pools_path;           /* owned, NULL if none */
	char                 *pools_query;          /* owned, NULL if none (source pg) */
	char                 *probe_table;          /* owned: as configured */
	char                 *probe_timestamp_zone; /* owned: of a timestamp without time zone */
	enum rollups_mode     rollups;        /* source pg: read the rolled-up hours from rollups */
	unsigned              token_decimals; /* of pool amounts as given */
	struct amount         default_pool;   /* base units */
	struct payout_keep    keep;           /* from the penalty factor */
	struct settings_ratio max_reject_ratio;
	char                 *out_dir; /* owned */
	struct input_options  input;
	unsigned              jobs;             /* input files read at once; 0 = one per CPU */
	int64_t               max_edge_gap_s;   /* seconds; 0: off; -1: 1h for days, 5m for hours */
	bool                  allow_empty;      /* settle a period with no probes */
	bool                  allow_zero_pools; /* settle with nothing to pay */
	unsigned              given; /* SETTING_* given for this run (reruns inherit the rest) */
};

/* Parses a decimal in [0, 1] with at most 9 fractional digits.  Pure. */
bool settings_ratio_parse(const char *s, struct settings_ratio *out);

/* True when part / whole > ratio, exactly. */
bool settings_ratio_exceeded(const struct settings_ratio *ratio, uint64_t part, uint64_t whole);

/*
 * A rerun's settings: those not given (SETTING_* bits not in s->given)
 * become the previous version's, from its manifest's "settings" object
 * (prev), logging each one taken.  Pools are not set here
 * (the previous version's copy of them is, settle.c).  False (logged) if
 * the previous version's values do not parse.
 */
bool settings_inherit(struct settings *s, json_t *prev);

void settings_release(struct settings *s);

#endif
