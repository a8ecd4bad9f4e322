/*
 * config.c: config files and option validation (see config.h).
 */
#include <confuse.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "payrun/config.h"
#include "payrun/input.h"
#include "payrun/log.h"
#include "payrun/mem.h"
#include "payrun/numparse.h"
#include "payrun/pools.h"
#include "payrun/publish.h"
#include "payrun/source_csv.h"
#include "payrun/banned.h"

#define CONFIG_MAX_BYTES (1024 * 1024) /* a config or job file, at most */

static void confuse_error(cfg_t *cfg, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));

void
config_set_error_function(struct cfg_t *cfg)
{
	cfg_set_error_function(cfg, confuse_error);
}

static void
confuse_error(cfg_t *cfg, const char *fmt, va_list ap)
{
	char msg[512];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (cfg && cfg->name && cfg->filename && strcmp(cfg->filename, "[buf]") == 0)
		log_error("%s:%d: %s", cfg->name, cfg->line, msg);
	else if (cfg && cfg->filename)
		log_error("%s:%d: %s", cfg->filename, cfg->line, msg);
	else
		log_error("config: %s", msg);
}

/*
 * Blanks the comments of a libconfuse file (# and // to the end of the
 * line, and / * ... * /), keeping every newline and everything quoted.
 * libconfuse (3.3, Debian 12) counts the lines of comments twice, so its
 * messages named the wrong line in any commented file; it is given the
 * text without them.
 */
static void
blank_comments(char *t, size_t len)
{
	char quote = 0;

	for (size_t i = 0; i < len; i++)
	{
		if (quote)
		{
			if (t[i] == '\\' && i + 1 < len)
				i++;
			else if (t[i] == quote)
				quote = 0;
		}
		else if (t[i] == '"' || t[i] == '\'')
			quote = t[i];
		else if (t[i] == '#' || (t[i] == '/' && i + 1 < len && t[i + 1] == '/'))
		{
			for (; i < len && t[i] != '\n'; i++)
				t[i] = ' ';
		}
		else if (t[i] == '/' && i + 1 < len && t[i + 1] == '*')
		{
			for (; i < len && !(t[i] == '*' && i + 1 < len && t[i + 1] == '/'); i++)
				t[i] = t[i] == '\n' ? '\n' : ' ';
			if (i + 1 < len)
				t[i] = t[i + 1] = ' ';
			i++;
		}
	}
}

bool
config_parse_file(struct config_values *v, const char *path, unsigned files, const char *what)
{
	cfg_opt_t *opts;
	cfg_t     *cfg;
	char      *text;
	size_t     len;
	int        rc;

	/* read whole, here: a FIFO, a device or a directory is refused, never waited on */
	if (!input_read_whole(path, what, CONFIG_MAX_BYTES, &text, &len))
		return false;
	if (memchr(text, '\0', len) != NULL)
	{
		log_error("could not read %s '%s': it holds a NUL byte (not a text file)", what, path);
		free(text);
		return false;
	}
	blank_comments(text, len);
	opts = options_cfg_table(files);
	cfg = cfg_init(opts, CFGF_NONE);
	if (cfg == NULL)
	{
		log_error("could not initialise the config parser");
		free(opts);
		free(text);
		return false;
	}
	config_set_error_function(cfg);
	/* cfg_parse_buf names the text "[buf]": the root section's name carries the path
	 * to the messages (cfg_free frees it) */
	free(cfg->name);
	cfg->name = strdup(path);
	rc = cfg_parse_buf(cfg, text);
	if (rc != CFG_SUCCESS)
		log_error("invalid %s '%s'", what, path);
	else if (!options_fill_from_cfg(v, cfg, path, files))
		rc = CFG_PARSE_ERROR;
	cfg_free(cfg);
	free(opts);
	free(text);
	return rc == CFG_SUCCESS;
}

bool
config_load(struct config_values *v, const char *path, bool explicit)
{
	if (!explicit && access(path, F_OK) != 0)
		return true;
	return config_parse_file(v, path, OPT_IN_CONFIG, "config file");
}

bool
config_load_chosen(struct config_values *v)
{
	const char *env = getenv(CONFIG_ENV);

	/* a rerun inherits what its own command line does not give, not the file's */
	v->settings_given = config_given(v);
	if (options_flag(v, OPTION_NO_CONFIG))
		return true;
	if (v->config != NULL)
		return config_load(v, v->config, true);
	if (env != NULL)
		return env[0] == '\0' || config_load(v, env, true);
	return config_load(v, CONFIG_DEFAULT_PATH, false);
}

unsigned
config_given(const struct config_values *v)
{
	return (v->penalty_factor ? SETTING_PENALTY_FACTOR : 0u) |
		   (v->default_pool ? SETTING_DEFAULT_POOL : 0u) |
		   (v->pools || v->pools_query ? SETTING_POOLS : 0u) |
		   (v->max_reject_ratio ? SETTING_MAX_REJECT_RATIO : 0u) |
		   (v->token_decimals ? SETTING_TOKEN_DECIMALS : 0u);
}

bool
config_to_period(const struct config_values *v, bool required, struct period *p)
{
	enum period_length length = PERIOD_LENGTH_UNSET;
	char               err[256];

	memset(p, 0, sizeof(*p));
	if (v->period_length && !period_length_parse(v->period_length, &length))
	{
		log_error("invalid period length '%s' (want 1d or 1h)", v->period_length);
		return false;
	}
	p->length = length ? length : PERIOD_LENGTH_DAY;
	if (v->period == NULL)
	{
		if (required)
			log_error("--period is required");
		return !required;
	}
	if (!period_parse(v->period, length, p, err, sizeof(err)))
	{
		log_error("%s", err);
		return false;
	}
	return true;
}

bool
config_to_deadline(const struct config_values *v, const char *where, struct config_deadline *d)
{
	const char *grace = options_get_or_default(v, OPTION_GRACE);
	const char *wait = options_get_or_default(v, OPTION_MAX_WAIT);

	if (!numparse_duration(grace, strlen(grace), CONFIG_MAX_GRACE_S, &d->grace_s))
	{
		log_error("%s%sinvalid grace '%s' (want e.g. 30m, 2h, 0; at most 100d)", where ? where : "",
				  where ? ": " : "", grace);
		return false;
	}
	if (!numparse_duration(wait, strlen(wait), CONFIG_MAX_MAX_WAIT_S, &d->max_wait_s))
	{
		log_error("%s%sinvalid max wait '%s' (want e.g. 24h, 2d, 0 for no limit; at most 366d)",
				  where ? where : "", where ? ": " : "", wait);
		return false;
	}
	return true;
}

/*
 * Where the probes and pools come from.  The config file's values are
 * defaults for every command, so one that does not go with what the command
 * line (or job file) chose is left out, not an error: a config file's db
 * does not break a CSV settle, nor its source = "pg" a settle given
 * --input, nor its pools_query a settle given --pools.
 */
struct source_choice
{
	const char *source;      /* "csv" or "pg" (unchecked) */
	size_t      ninputs;     /* 0: the inputs are not used */
	const char *db;          /* NULL: none */
	const char *pools;       /* NULL: none */
	const char *pools_query; /* NULL: none */
};

static void
choose_sources(const struct config_values *v, unsigned command, struct source_choice *c)
{
	bool pg;

	c->source = options_get_or_default(v, OPTION_SOURCE);
	if (command == OPT_BACKFILL)
		c->source = "csv"; /* a backfill reads files whatever the probe source of settles is */
	else if (options_from_config(v, OPTION_SOURCE) && v->input.count > 0 &&
			 !options_from_config(v, OPTION_INPUT))
		c->source = "csv"; /* --input given: the config file's source = "pg" does not apply */
	pg = strcmp(c->source, "pg") == 0;
	c->ninputs = pg && options_from_config(v, OPTION_INPUT) ? 0 : v->input.count;
	c->db = !pg && command != OPT_BACKFILL && options_from_config(v, OPTION_DB) ? NULL : v->db;
	c->pools = v->pools;
	c->pools_query = v->pools_query;
	if (c->pools && c->pools_query)
	{
		/* the one not from the config file wins */
		if (options_from_config(v, OPTION_POOLS_QUERY) && !options_from_config(v, OPTION_POOLS))
			c->pools_query = NULL;
		else if (options_from_config(v, OPTION_POOLS) &&
				 !options_from_config(v, OPTION_POOLS_QUERY))
			c->pools = NULL;
	}
	if (!pg && command != OPT_BACKFILL && options_from_config(v, OPTION_POOLS_QUERY))
		c->pools_query = NULL;
}

/* Which options may be combined: source, inputs, db and out. */
static bool
check_sources(const struct config_values *v, unsigned command, enum settings_source source,
			  const struct source_choice *c)
{
	if (source == SOURCE_CSV && c->ninputs == 0)
	{
		log_error(command == OPT_BACKFILL ? "at least one --input is required"
										  : "at least one --input is required (or --source pg)");
		return false;
	}
	if (source == SOURCE_PG && c->ninputs > 0)
	{
		log_error("--input does not go with --source pg: probes are read from the database");
		return false;
	}
	if (source == SOURCE_CSV && c->pools_query && command != OPT_BACKFILL)
	{
		log_error("--pools-query goes with --source pg");
		return false;
	}
	if (c->pools && c->pools_query)
	{
		log_error("give the pools as a file (--pools) or a query (--pools-query), not both");
		return false;
	}
	/* a backfill's db is where it loads, not a probe source */
	if (source == SOURCE_CSV && c->db && command != OPT_BACKFILL)
	{
		log_error("--db goes with --source pg");
		return false;
	}
	if ((v->out == NULL || v->out[0] == '\0') && command != OPT_PREVIEW)
	{
		log_error("--out is required");
		return false;
	}
	return true;
}

/* The numbers of the policy; logs the first bad one. */
static bool
parse_numbers(const struct config_values *v, struct settings *s)
{
	const char        *pool = options_get_or_default(v, OPTION_DEFAULT_POOL);
	const char        *penalty = options_get_or_default(v, OPTION_PENALTY_FACTOR);
	const char        *ratio = options_get_or_default(v, OPTION_MAX_REJECT_RATIO);
	const char        *inflate = options_get_or_default(v, OPTION_MAX_INFLATE_RATIO);
	const char        *decimals = options_get_or_default(v, OPTION_TOKEN_DECIMALS);
	uint64_t           jobs, n;
	enum amount_status st;

	if (!numparse_u64(decimals, strlen(decimals), 0, AMOUNT_DECIMALS_MAX, &n))
	{
		log_error("invalid token decimals '%s' (want a whole number from 0 to %d)", decimals,
				  AMOUNT_DECIMALS_MAX);
		return false;
	}
	s->token_decimals = (unsigned) n;
	st = amount_parse(pool, strlen(pool), s->token_decimals, &s->default_pool);
	if (st != AMOUNT_OK)
	{
		log_error("invalid default pool '%s' with %u token decimals: %s", pool, s->token_decimals,
				  amount_status_message(st));
		return false;
	}
	if (!payout_keep_parse(penalty, &s->keep))
	{
		log_error("invalid penalty factor '%s' (want a decimal in [0, 1], at most 6 fractional "
				  "digits)",
				  penalty);
		return false;
	}
	if (!settings_ratio_parse(ratio, &s->max_reject_ratio))
	{
		log_error("invalid max reject ratio '%s' (want a decimal in [0, 1])", ratio);
		return false;
	}
	if (!numparse_u64(inflate, strlen(inflate), 0, UINT64_MAX, &s->input.max_inflate_ratio))
	{
		log_error("invalid max inflate ratio '%s' (want a whole number, 0 for no limit)", inflate);
		return false;
	}
	if (v->jobs && !numparse_u64(v->jobs, strlen(v->jobs), 1, SOURCE_CSV_MAX_JOBS, &jobs))
	{
		log_error("invalid jobs '%s' (want a whole number from 1 to %d)", v->jobs,
				  SOURCE_CSV_MAX_JOBS);
		return false;
	}
	s->jobs = v->jobs ? (unsigned) jobs : 0;
	s->max_edge_gap_s = -1;
	if (v->max_edge_gap && !numparse_duration(v->max_edge_gap, strlen(v->max_edge_gap),
											  366 * 86400LL, &s->max_edge_gap_s))
	{
		log_error("invalid max edge gap '%s' (want e.g. 30m, 2h, 0 for no check)", v->max_edge_gap);
		return false;
	}
	s->allow_empty = options_flag(v, OPTION_ALLOW_EMPTY);
	s->allow_zero_pools = options_flag(v, OPTION_ALLOW_ZERO_POOLS);
	return true;
}

bool
config_to_settings(const struct config_values *v, unsigned command, struct settings *s)
{
	struct source_choice c;
	const char          *source;

	choose_sources(v, command, &c);
	source = c.source;
	memset(s, 0, sizeof(*s));
	if (v->period_length && !period_length_parse(v->period_length, &s->period_length))
	{
		log_error("invalid period length '%s' (want 1d or 1h)", v->period_length);
		return false;
	}
	if (strcmp(source, "csv") == 0)
		s->source = SOURCE_CSV;
	else if (strcmp(source, "pg") == 0)
		s->source = SOURCE_PG;
	else
	{
		log_error("invalid source '%s' (want csv or pg)", source);
		return false;
	}
	if (!check_sources(v, command, s->source, &c) || !parse_numbers(v, s))
		return false;
	if (!input_inflater_parse(options_get_or_default(v, OPTION_INFLATER), &s->input.inflater))
	{
		log_error("invalid inflater '%s' (want isal or zlib)",
				  options_get_or_default(v, OPTION_INFLATER));
		return false;
	}
	if (!rollups_mode_parse(options_get_or_default(v, OPTION_ROLLUPS), &s->rollups))
	{
		log_error("invalid rollups '%s' (want auto or off)",
				  options_get_or_default(v, OPTION_ROLLUPS));
		return false;
	}
	/* nothing is owned before this point: a false return above leaks nothing */
	s->pools_path = c.pools ? mem_strdup(c.pools) : NULL;
	s->pools_query = c.pools_query && command != OPT_BACKFILL ? mem_strdup(c.pools_query) : NULL;
	s->given = v->settings_given;
	s->probe_table = mem_strdup(options_get_or_default(v, OPTION_PROBE_TABLE));
	s->probe_timestamp_zone = mem_strdup(options_get_or_default(v, OPTION_PROBE_TIMESTAMP_ZONE));
	s->out_dir = v->out ? mem_strdup(v->out) : NULL;
	s->db_conninfo = c.db ? mem_strdup(c.db) : NULL;
	return true;
}

bool
config_to_settle(const struct config_values *v, bool rerun, struct settings *s,
				 struct settle_request *req)
{
	memset(req, 0, sizeof(*req));
	if (!config_to_settings(v, rerun ? OPT_RERUN : OPT_SETTLE, s))
		return false;
	if (!config_to_period(v, true, &req->period))
	{
		settings_release(s);
		return false;
	}
	if (rerun && (v->reason == NULL || v->reason[0] == '\0'))
	{
		log_error("a rerun needs --reason TEXT (a job: reason): why the period is recomputed");
		settings_release(s);
		return false;
	}
	req->inputs = (const char *const *) v->input.items;
	req->ninputs = v->input.count;
	req->rerun = rerun;
	req->reason = v->reason;
	req->dry_run = options_flag(v, OPTION_DRY_RUN);
	req->print_report = log_enabled(LOG_LEVEL_NOTICE) && !req->dry_run;
	return true;
}

/* --from and --to, of the same length (hours when period_length says so). */
static bool
backfill_range(const struct config_values *v, const struct settings *s,
			   struct backfill_request *req)
{
	enum period_length length = s->period_length == PERIOD_LENGTH_HOUR ? PERIOD_LENGTH_HOUR
																	   : PERIOD_LENGTH_UNSET;
	char               err[256];

	if (v->from == NULL || v->to == NULL)
	{
		log_error("a backfill that settles needs --from and --to (job files: from, to), or "
				  "--into-db (into_db = true)");
		return false;
	}
	if (!period_parse(v->from, length, &req->from, err, sizeof(err)) ||
		!period_parse(v->to, req->from.length, &req->to, err, sizeof(err)))
	{
		log_error("%s", err);
		return false;
	}
	return true;
}

bool
config_to_backfill(const struct config_values *v, struct settings *s, struct backfill_request *req)
{
	bool settle = options_flag(v, OPTION_SETTLE);

	memset(req, 0, sizeof(*req));
	req->into_db = options_flag(v, OPTION_INTO_DB);
	if (settle == req->into_db)
	{
		log_error("give exactly one of --settle and --into-db");
		return false;
	}
	if (!config_to_settings(v, OPT_BACKFILL, s))
		return false;
	if (settle && !backfill_range(v, s, req))
	{
		settings_release(s);
		return false;
	}
	req->patterns = (const char *const *) v->input.items;
	req->npatterns = v->input.count;
	req->dry_run = options_flag(v, OPTION_DRY_RUN);
	return true;
}
