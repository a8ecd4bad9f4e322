/*
 * config.h: option values from the command line and the config file
 * (libconfuse), merged (the command line wins) and validated into
 * struct settings.  Every settle option has a config key of the same name
 * with underscores: period, period_length, source, db, input, pools,
 * default_pool, penalty_factor, max_reject_ratio, max_inflate_ratio, jobs,
 * out.
 */
#ifndef PAYRUN_CONFIG_H
#define PAYRUN_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "payrun/settings.h"

#define CONFIG_DEFAULT_PATH "/etc/payrun/payrun.conf"
/* Names the config file read when no --config is given; set empty, none. */
#define CONFIG_ENV "PAYRUN_CONFIG"

/* Raw option values as strings; NULL = not given.  Strings are owned. */
struct config_values
{
	char  *period;
	char  *period_length;
	char  *source;
	char  *db;
	char **inputs;
	size_t ninputs;
	char  *pools;
	char  *default_pool;
	char  *penalty_factor;
	char  *max_reject_ratio;
	char  *max_inflate_ratio;
	char  *jobs;
	char  *out;
};

/*
 * The libconfuse options of every settle key, for config files and job
 * files alike (a job file adds its own keys after these).
 */
#define CONFIG_SETTLE_OPTS                                                                         \
	CFG_STR("period", NULL, CFGF_NONE), CFG_STR("period_length", NULL, CFGF_NONE),                 \
		CFG_STR("source", NULL, CFGF_NONE), CFG_STR("db", NULL, CFGF_NONE),                        \
		CFG_STR_LIST("input", NULL, CFGF_NONE), CFG_STR("pools", NULL, CFGF_NONE),                 \
		CFG_STR("default_pool", NULL, CFGF_NONE), CFG_STR("penalty_factor", NULL, CFGF_NONE),      \
		CFG_STR("max_reject_ratio", NULL, CFGF_NONE),                                              \
		CFG_STR("max_inflate_ratio", NULL, CFGF_NONE), CFG_STR("jobs", NULL, CFGF_NONE),           \
		CFG_STR("out", NULL, CFGF_NONE)

struct cfg_t;

/* Fills the values not yet set from a parsed libconfuse config. */
void config_fill(struct config_values *v, struct cfg_t *cfg);

/* Routes libconfuse's messages to the log ("file:line: message"). */
void config_set_error_function(struct cfg_t *cfg);

/* Sets a value from the command line (replacing any earlier one). */
void config_set(char **slot, const char *value);
void config_add_input(struct config_values *v, const char *path);

/*
 * Sets the value of a settle option by its long name ("default-pool",
 * "input" adds one); false if name is not a settle option.  Command-line
 * parsers route every option they share with settle through here.
 */
bool config_set_option(struct config_values *v, const char *name, const char *value);

/*
 * Fills the values not yet set from the config file at path.  With
 * explicit false, a missing file is not an error (the default path).
 * Logs and returns false on a syntax error or unknown key.
 */
bool config_load(struct config_values *v, const char *path, bool explicit);

/*
 * Loads the config file a command was given: path (--config), none with
 * no_config (--no-config), else $PAYRUN_CONFIG (none when set empty), else
 * CONFIG_DEFAULT_PATH when it exists.
 */
bool config_load_chosen(struct config_values *v, const char *path, bool no_config);

/* What a command requires of the values. */
enum config_need
{
	CONFIG_NEED_PERIOD = 1, /* --period */
	CONFIG_NEED_SOURCE = 2  /* --input files, or --source pg */
};

/*
 * Fills the payout settings not given (penalty_factor, default_pool, pools,
 * max_reject_ratio) from a published version's manifest.json, so that a
 * rerun changes only what the operator changed.  Logs what it took; false
 * (logged) if the manifest cannot be read.
 */
bool config_inherit(struct config_values *v, const char *manifest_path);

/*
 * The same from the latest version of v->period under v->out, for reruns:
 * forgetting --default-pool must not claw back every payout.  Nothing to
 * inherit (no such period or version) is left for the run to report.
 */
bool config_inherit_latest(struct config_values *v);

/* Validates and converts; logs the first bad value and returns false. */
bool config_to_settings(const struct config_values *v, struct settings *s, unsigned need);

void config_release(struct config_values *v);

#endif
