/*
 * options.h: every option of payrun in one table.  Each row gives the
 * long option, the config and job file key, the field of struct
 * config_values, the argument, the default, the commands that take it,
 * the files that may set it, and the help line; the getopt entries, the
 * libconfuse keys, the usage lines and the code that stores a value all
 * follow from the table (as git's parse_options does from its struct
 * option arrays).
 *
 * Values are kept as text until validated (config.h): NULL is "not given".
 * A flag's value is "true" when given; in a file, a flag key takes true or
 * false (yes/no, on/off, 1/0).  -q, -v and -h are not in the table: every
 * command takes them (cli.h).
 */
#ifndef PAYRUN_OPTIONS_H
#define PAYRUN_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* The commands an option belongs to (bits). */
#define OPT_SETTLE   (1u << 0)
#define OPT_RERUN    (1u << 1)
#define OPT_BACKFILL (1u << 2)
#define OPT_EXPORT   (1u << 3)
#define OPT_HISTORY  (1u << 4)
#define OPT_DB       (1u << 5)
#define OPT_RUN      (1u << 6)
#define OPT_STATUS   (1u << 7)
#define OPT_VERIFY   (1u << 8)
#define OPT_PREVIEW  (1u << 9)
#define OPT_SETTLES  (OPT_SETTLE | OPT_RERUN | OPT_BACKFILL)
/* The commands that read the config file (a job file is the whole of a job) */
#define OPT_WITH_CONFIG                                                                            \
	(OPT_SETTLES | OPT_EXPORT | OPT_HISTORY | OPT_DB | OPT_STATUS | OPT_VERIFY | OPT_PREVIEW)

/* The files a key may appear in (bits). */
#define OPT_IN_CONFIG (1u << 0) /* --config FILE and CONFIG_DEFAULT_PATH */
#define OPT_IN_JOB    (1u << 1) /* job files ('payrun run') */
#define OPT_IN_FILES  (OPT_IN_CONFIG | OPT_IN_JOB)

/* What kind of value an option takes. */
enum option_kind
{
	OPTION_VALUE, /* one value; the last one given wins */
	OPTION_LIST,  /* repeatable; a file's list is replaced by the command line's */
	OPTION_FLAG   /* no argument on the command line */
};

/* clang-format off */
/*
 * X(ID, kind, long option, file key, field, argument, default, commands,
 *   files, help).  NULL long option: files only; NULL key: command line
 * only.  The default is what applies when nothing is given (shown in the
 * help); NULL: none, or one the help line describes.
 */
#define PAYRUN_OPTIONS(X) \
	X(PERIOD, OPTION_VALUE, "period", "period", period, "LABEL", NULL, \
	  OPT_SETTLE | OPT_RERUN | OPT_EXPORT | OPT_HISTORY | OPT_VERIFY | OPT_PREVIEW, OPT_IN_JOB, \
	  "YYYY-MM-DD (a day) or YYYY-MM-DDTHH (an hour), UTC") \
	X(PERIOD_LENGTH, OPTION_VALUE, "period-length", "period_length", period_length, "1d|1h", \
	  NULL, OPT_SETTLES | OPT_EXPORT | OPT_STATUS | OPT_PREVIEW, OPT_IN_FILES, \
	  "must agree with the labels (default: from the label, else 1d)") \
	X(INPUT, OPTION_LIST, "input", "input", input, "FILE", NULL, OPT_SETTLES, OPT_IN_FILES, \
	  "export file (gzip or plain CSV); repeat for several (merged in order); " \
	  "backfill and job files take glob patterns") \
	X(SOURCE, OPTION_VALUE, "source", "source", source, "csv|pg", "csv", \
	  OPT_SETTLE | OPT_RERUN | OPT_PREVIEW, OPT_IN_FILES, "where probes come from") \
	X(DB, OPTION_VALUE, "db", "db", db, "CONNINFO", NULL, \
	  OPT_SETTLES | OPT_EXPORT | OPT_DB | OPT_STATUS | OPT_VERIFY | OPT_PREVIEW, OPT_IN_FILES, \
	  "libpq connection string or URI (settle: with --source pg; backfill: with --into-db; " \
	  "status, verify: the database record is read too); " \
	  "default: PGHOST, PGDATABASE, PGSERVICE, ~/.pgpass") \
	X(POOLS, OPTION_VALUE, "pools", "pools", pools, "FILE", NULL, OPT_SETTLES | OPT_PREVIEW, OPT_IN_FILES, \
	  "CSV with header stream_id,pool; with --source pg, pools_query or payout_pools " \
	  "is used without it") \
	X(PROBE_TABLE, OPTION_VALUE, "probe-table", "probe_table", probe_table, "TABLE", \
	  "probe_results", OPT_SETTLES | OPT_DB | OPT_PREVIEW, OPT_IN_FILES, \
	  "the coordinator's probe table, schema-qualified or found on the search path") \
	X(PROBE_TIMESTAMP_ZONE, OPTION_VALUE, "probe-timestamp-zone", "probe_timestamp_zone", \
	  probe_timestamp_zone, "ZONE", "UTC", OPT_SETTLES | OPT_DB | OPT_PREVIEW, OPT_IN_FILES, \
	  "the time zone a probe_timestamp without time zone holds (an IANA name)") \
	X(CREATE_PROBE_TABLE, OPTION_FLAG, "create-probe-table", NULL, create_probe_table, NULL, NULL, \
	  OPT_DB, 0, "migrate: also create the probe table (standalone and test installations)") \
	X(ROLLUPS, OPTION_VALUE, "rollups", "rollups", rollups, "auto|off", "auto", \
	  OPT_SETTLE | OPT_RERUN | OPT_PREVIEW, OPT_IN_FILES, \
	  "with --source pg: read the hours 'payrun db rollup' holds from its rollups, the " \
	  "rest from the probes (the same ledger), or every probe (off)") \
	X(ENABLE, OPTION_FLAG, "enable", NULL, enable, NULL, NULL, OPT_DB, 0, \
	  "rollup: put the invalidation triggers on the probe table") \
	X(DISABLE, OPTION_FLAG, "disable", NULL, disable, NULL, NULL, OPT_DB, 0, \
	  "rollup: drop the triggers, empty the rollups and their log") \
	X(UNTIL, OPTION_VALUE, "until", NULL, until, "TIMESTAMP", NULL, OPT_DB, 0, \
	  "rollup: roll up the hours before this time only (default: every closed hour)") \
	X(POOLS_QUERY, OPTION_VALUE, "pools-query", "pools_query", pools_query, "SQL", NULL, \
	  OPT_SETTLE | OPT_RERUN | OPT_PREVIEW, OPT_IN_FILES, \
	  "with --source pg: one statement returning (stream_id, amount) in tokens, run in " \
	  "the probe read's snapshot, instead of payout_pools") \
	X(DEFAULT_POOL, OPTION_VALUE, "default-pool", "default_pool", default_pool, "N", "0", \
	  OPT_SETTLES | OPT_PREVIEW, OPT_IN_FILES, "pool of streams the pools do not list (in tokens, as the pools)") \
	X(TOKEN_DECIMALS, OPTION_VALUE, "token-decimals", "token_decimals", token_decimals, "N", "0", \
	  OPT_SETTLES | OPT_PREVIEW, OPT_IN_FILES, \
	  "decimals of the token (0 to 36): pools are then given in tokens with up to N " \
	  "fractional digits (2500000.123456), paid in base units") \
	X(PENALTY_FACTOR, OPTION_VALUE, "penalty-factor", "penalty_factor", penalty_factor, "F", \
	  "0.5", OPT_SETTLES | OPT_PREVIEW, OPT_IN_FILES, "f in the penalty (1 - f)^failed_spot_checks") \
	X(MAX_REJECT_RATIO, OPTION_VALUE, "max-reject-ratio", "max_reject_ratio", \
	  max_reject_ratio, "R", "0.001", OPT_SETTLES, OPT_IN_FILES, \
	  "fail if rejected rows / rows read exceeds R") \
	X(MAX_INFLATE_RATIO, OPTION_VALUE, "max-inflate-ratio", "max_inflate_ratio", \
	  max_inflate_ratio, "N", "1000", OPT_SETTLES, OPT_IN_FILES, \
	  "refuse gzip input inflating more than N:1; 0 turns the check off") \
	X(INFLATER, OPTION_VALUE, "inflater", "inflater", inflater, "isal|zlib", "isal", OPT_SETTLES, \
	  OPT_IN_FILES, \
	  "the library that inflates gzip input: ISA-L, or zlib, the reference (the same bytes " \
	  "out, the same files refused)") \
	X(MAX_EDGE_GAP, OPTION_VALUE, "max-edge-gap", "max_edge_gap", max_edge_gap, "DURATION", \
	  NULL, OPT_SETTLES, OPT_IN_FILES, \
	  "refuse a period whose probes start later or end earlier than this (e.g. 30m, 2h; " \
	  "0 turns the check off; default 1h for days, 5m for hours)") \
	X(ALLOW_EMPTY, OPTION_FLAG, "allow-empty", "allow_empty", allow_empty, NULL, NULL, \
	  OPT_SETTLES, OPT_IN_FILES, "settle a period with no probe in it (its pools stay unallocated)") \
	X(ALLOW_ZERO_POOLS, OPTION_FLAG, "allow-zero-pools", "allow_zero_pools", allow_zero_pools, \
	  NULL, NULL, OPT_SETTLES, OPT_IN_FILES, \
	  "settle although every pool is 0, or the pools name none of the streams with probes") \
	X(JOBS, OPTION_VALUE, "jobs", "jobs", jobs, "N", NULL, OPT_SETTLES, OPT_IN_FILES, \
	  "input files read at once, two threads each; one file is parsed by up to N " \
	  "threads, one CPU left for inflating " \
	  "(default: one per CPU; 1 reads them one by one, on one thread; " \
	  "backfill --into-db loads them one by one)") \
	X(OUT, OPTION_VALUE, "out", "out", out, "DIR", NULL, \
	  OPT_SETTLES | OPT_EXPORT | OPT_HISTORY | OPT_STATUS | OPT_VERIFY, OPT_IN_FILES, \
	  "output directory (settle: created, with its parents, if missing)") \
	X(CONFIG, OPTION_VALUE, "config", NULL, config, "FILE", NULL, OPT_WITH_CONFIG, 0, \
	  "config file (default " CONFIG_DEFAULT_PATH " if present, or $" CONFIG_ENV "); " \
	  "keys as the options with '_' for '-'; options win") \
	X(NO_CONFIG, OPTION_FLAG, "no-config", NULL, no_config, NULL, NULL, OPT_WITH_CONFIG, 0, \
	  "read no config file") \
	X(REASON, OPTION_VALUE, "reason", "reason", reason, "TEXT", NULL, OPT_RERUN, OPT_IN_JOB, \
	  "why the period is recomputed (kept in the manifest, database and run log)") \
	X(DRY_RUN, OPTION_FLAG, "dry-run", NULL, dry_run, NULL, NULL, OPT_RERUN | OPT_RUN, 0, \
	  "publish nothing: say what would be done (rerun: print the adjustments)") \
	X(SETTLE, OPTION_FLAG, "settle", NULL, settle, NULL, NULL, OPT_BACKFILL, 0, \
	  "settle every period from --from to --to that has no version yet") \
	X(INTO_DB, OPTION_FLAG, "into-db", "into_db", into_db, NULL, NULL, OPT_BACKFILL, \
	  OPT_IN_JOB, "load the exports into probe_results") \
	X(FROM, OPTION_VALUE, "from", "from", from, "LABEL", NULL, OPT_BACKFILL, OPT_IN_JOB, \
	  "first period to settle (YYYY-MM-DD or YYYY-MM-DDTHH)") \
	X(TO, OPTION_VALUE, "to", "to", to, "LABEL", NULL, OPT_BACKFILL, OPT_IN_JOB, \
	  "last period to settle (inclusive)") \
	X(VERSION, OPTION_VALUE, "version", NULL, version, "N", NULL, OPT_EXPORT | OPT_VERIFY, 0, \
	  "the version (default: the newest settled one)") \
	X(JSON, OPTION_FLAG, "json", NULL, json, NULL, NULL, OPT_HISTORY | OPT_STATUS | OPT_PREVIEW, 0, \
	  "print JSON instead of the table (history: one object per line, as runs.log holds them; " \
	  "status, preview: one object)") \
	X(JOB_FILE, OPTION_VALUE, "job", NULL, job_file, "FILE", NULL, OPT_STATUS, 0, \
	  "take out, db, source, start_period, period_length, grace, max_wait and require_complete " \
	  "from this job file (the command line wins)") \
	X(NOW, OPTION_VALUE, "now", NULL, now, "TIMESTAMP", NULL, OPT_RUN, 0, \
	  "take this as the current time (tests, replaying a day)") \
	X(JOB, OPTION_VALUE, NULL, "job", job, NULL, NULL, 0, OPT_IN_JOB, \
	  "the job's name in messages and the run log (default: the file's path)") \
	X(COMMAND, OPTION_VALUE, NULL, "command", command, NULL, "settle", 0, OPT_IN_JOB, \
	  "settle (the nightly catch-up), backfill or rerun") \
	X(START_PERIOD, OPTION_VALUE, NULL, "start_period", start_period, NULL, NULL, 0, \
	  OPT_IN_JOB, "the first period of a nightly job (default: the earliest settled one)") \
	X(GRACE, OPTION_VALUE, "grace", "grace", grace, "DURATION", "30m", OPT_STATUS, OPT_IN_JOB, \
	  "a period closes at its end plus this (e.g. 30m, 2h, 0)") \
	X(MAX_WAIT, OPTION_VALUE, "max-wait", "max_wait", max_wait, "DURATION", "24h", OPT_STATUS, \
	  OPT_IN_FILES, \
	  "a closed period still unsettled this long after it closed is overdue: status and the " \
	  "nightly job exit 3 (one nightly cycle: a late feed gets one more night; 0 turns the " \
	  "check off)") \
	X(MAX_PERIODS, OPTION_VALUE, NULL, "max_periods", max_periods, NULL, "31", 0, OPT_IN_JOB, \
	  "most periods one nightly run settles (1 to 100000)") \
	X(REQUIRE_COMPLETE, OPTION_FLAG, NULL, "require_complete", require_complete, NULL, "true", \
	  0, OPT_IN_JOB, "stop at a period whose data is not complete yet")
/* clang-format on */

/* The build's SYSCONFDIR (make SYSCONFDIR=DIR): the config file is DIR/payrun/payrun.conf. */
#ifndef PAYRUN_SYSCONFDIR
#define PAYRUN_SYSCONFDIR "/etc"
#endif
#define CONFIG_DEFAULT_PATH PAYRUN_SYSCONFDIR "/payrun/payrun.conf"
/* Names the config file read when no --config is given; set empty, none. */
#define CONFIG_ENV "PAYRUN_CONFIG"

enum option_id
{
#define X(id, ...) OPTION_##id,
	PAYRUN_OPTIONS(X)
#undef X
		OPTION_COUNT
};

/* The values of a list option; owned strings. */
struct option_list
{
	char **items;
	size_t count;
};

/* Raw option values as text; NULL (or no items) = not given.  Owned. */
struct config_values
{
#define OPTION_FIELD_OPTION_VALUE(field)    char *field;
#define OPTION_FIELD_OPTION_FLAG(field)     char *field;
#define OPTION_FIELD_OPTION_LIST(field)     struct option_list field;
#define X(id, kind, lname, key, field, ...) OPTION_FIELD_##kind(field)
	PAYRUN_OPTIONS(X)
#undef X
#undef OPTION_FIELD_OPTION_VALUE
#undef OPTION_FIELD_OPTION_FLAG
#undef OPTION_FIELD_OPTION_LIST
	/* SETTING_* (settings.h) given before a config file filled the rest */
	unsigned settings_given;
	/* 1 << option_id for each value the config file gave (not the command line or a job) */
	uint64_t from_config;
};

_Static_assert(OPTION_COUNT <= 64, "struct config_values' from_config has 64 bits");

/* Did the config file give the option (rather than the command line or a job file)? */
static inline bool
options_from_config(const struct config_values *v, enum option_id id)
{
	return (v->from_config >> id) & 1;
}

/* One row of the table. */
struct option_def
{
	enum option_id   id;
	enum option_kind kind;
	const char      *long_name; /* NULL: files only */
	const char      *key;       /* NULL: command line only */
	size_t           offset;    /* of the field in struct config_values */
	const char      *arg;       /* for the usage line */
	const char      *def;       /* NULL: no default */
	unsigned         commands;  /* OPT_SETTLE, ... */
	unsigned         files;     /* OPT_IN_CONFIG, OPT_IN_JOB */
	const char      *help;
};

const struct option_def *options_def(enum option_id id);

/* The option of this command line name, or NULL. */
const struct option_def *options_by_long_name(const char *name, unsigned command);

/* Sets a value (replacing an earlier one; a list option adds one). */
void options_set(struct config_values *v, enum option_id id, const char *value);

/* The value as given, or NULL; a list's first item. */
const char *options_get(const struct config_values *v, enum option_id id);

/* The value, or the table's default. */
const char *options_get_or_default(const struct config_values *v, enum option_id id);

/* Whether a flag is set (given, or by default): true, yes, on or 1. */
bool options_flag(const struct config_values *v, enum option_id id);

/* Whether text is one of the flag words; sets *on. */
bool options_parse_flag(const char *text, bool *on);

void options_release(struct config_values *v);

/*
 * Fills the getopt_long table of a command: its options, then -q, -v and
 * -h (val 'q', 'v', 'h'); an option's val is OPTIONS_VAL_BASE + its id.
 * out must hold OPTION_COUNT + 4 entries.
 */
#define OPTIONS_VAL_BASE 256
struct option;
void options_getopt_table(unsigned command, struct option *out);

/* Prints a command's option lines, aligned, with their defaults. */
void options_usage(unsigned command, FILE *out);

/*
 * The libconfuse option array for a file kind (OPT_IN_CONFIG or
 * OPT_IN_JOB), every key a string (a list for list options); owned,
 * release with free().
 */
struct cfg_opt_t;
struct cfg_opt_t *options_cfg_table(unsigned files);

/*
 * Fills the values not yet set from a parsed file of that kind; a list
 * given on the command line replaces the file's.  A flag key's value must
 * be a truth value: false (logged, naming path) if one is not.
 */
struct cfg_t;
bool options_fill_from_cfg(struct config_values *v, struct cfg_t *cfg, const char *path,
						   unsigned files);

#endif
