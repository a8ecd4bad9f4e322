/*
 * config.h: option values (options.h) from the config file, merged with
 * the command line's (the command line wins), and validated: into the
 * policy of a run (struct settings) and the period it is about.
 * Every command line option that has a file key can be set in the config
 * file: period, period_length, source, db, input, pools, default_pool,
 * penalty_factor, max_reject_ratio, max_inflate_ratio, inflater, jobs, out.
 */
#ifndef PAYRUN_CONFIG_H
#define PAYRUN_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "payrun/backfill.h"
#include "payrun/options.h"
#include "payrun/period.h"
#include "payrun/settings.h"
#include "payrun/settle.h"

struct cfg_t;

/* Routes libconfuse's messages to the log ("file:line: message"). */
void config_set_error_function(struct cfg_t *cfg);

/*
 * Fills the values not yet set from a libconfuse file of a kind
 * (OPT_IN_CONFIG or OPT_IN_JOB; what names it in messages: "job file").
 * Logs and returns false on a syntax error or unknown key.
 */
bool config_parse_file(struct config_values *v, const char *path, unsigned files, const char *what);

/*
 * Fills the values not yet set from the config file at path.  With
 * explicit false, a missing file is not an error (the default path).
 * Logs and returns false on a syntax error or unknown key.
 */
bool config_load(struct config_values *v, const char *path, bool explicit);

/*
 * Loads the config file the values choose: --config FILE; none with
 * --no-config; else $PAYRUN_CONFIG (none when set empty); else
 * CONFIG_DEFAULT_PATH when it exists.
 */
bool config_load_chosen(struct config_values *v);

/*
 * The SETTING_* bits (settings.h) of the payout settings the values give;
 * config_load_chosen records them before the file adds its own, so that a
 * rerun inherits what its command line does not say.
 */
unsigned config_given(const struct config_values *v);

/*
 * Validates the policy for a command (OPT_SETTLE, OPT_RERUN or
 * OPT_BACKFILL, whose db is where it loads rather than a probe source).
 * Logs the first bad value and returns false.
 */
bool config_to_settings(const struct config_values *v, unsigned command, struct settings *s);

/*
 * The period of --period (required, or else left with only its length
 * set) and --period-length, which must agree.  Logs and returns false.
 */
bool config_to_period(const struct config_values *v, bool required, struct period *p);

/* When a closed period is overdue: the nightly job's and 'payrun status''s. */
struct config_deadline
{
	int64_t grace_s;    /* seconds: a period closes at its end plus this */
	int64_t max_wait_s; /* seconds: closed and unsettled longer than this is overdue; 0: never */
};

#define CONFIG_MAX_GRACE_S    (100LL * 24 * 3600)
#define CONFIG_MAX_MAX_WAIT_S (366LL * 24 * 3600)

/*
 * grace and max_wait (defaults in options.h); where names the file they
 * came from in messages ("jobs/nightly.conf: invalid grace ..."), or NULL.
 * Logs and returns false on a bad value.
 */
bool config_to_deadline(const struct config_values *v, const char *where,
						struct config_deadline *d);

/*
 * A settle or rerun from the values: the policy (config_to_settings), the
 * period (required) and, for a rerun, the reason (required).  req borrows
 * the values' strings (the inputs, the reason).  Logs and returns false.
 */
bool config_to_settle(const struct config_values *v, bool rerun, struct settings *s,
					  struct settle_request *req);

/*
 * A backfill from the values: exactly one of settle (with from and to)
 * and into_db.  req borrows the values' input patterns.
 */
bool config_to_backfill(const struct config_values *v, struct settings *s,
						struct backfill_request *req);

#endif
