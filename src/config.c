/*
 * config.c: config file and option validation (see config.h).
 */
#include <confuse.h>
#include <jansson.h>
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "payrun/config.h"
#include "payrun/log.h"
#include "payrun/mem.h"
#include "payrun/pools.h"
#include "payrun/publish.h"
#include "payrun/source_csv.h"
#include "payrun/banned.h"

void
config_set(char **slot, const char *value)
{
	free(*slot);
	*slot = mem_strdup(value);
}

void
config_add_input(struct config_values *v, const char *path)
{
	v->inputs = mem_realloc_array(v->inputs, v->ninputs + 1, sizeof(char *));
	v->inputs[v->ninputs++] = mem_strdup(path);
}

bool
config_inherit(struct config_values *v, const char *manifest_path)
{
	static const struct
	{
		const char *key; /* in manifest.json "settings" */
		size_t      offset;
	} keys[] = {
		{ "penalty_factor", offsetof(struct config_values, penalty_factor) },
		{ "default_pool", offsetof(struct config_values, default_pool) },
		{ "pools", offsetof(struct config_values, pools) },
		{ "max_reject_ratio", offsetof(struct config_values, max_reject_ratio) },
	};
	json_error_t err;
	json_t      *m = json_load_file(manifest_path, 0, &err);
	json_t      *settings = m ? json_object_get(m, "settings") : NULL;

	if (!json_is_object(settings))
	{
		log_error("could not read the settings of the previous version from '%s': %s",
				  manifest_path, m ? "no settings object" : err.text);
		json_decref(m);
		return false;
	}
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
	{
		char      **slot = (char **) (void *) ((char *) v + keys[i].offset);
		json_t     *j = json_object_get(settings, keys[i].key);
		char        num[32];
		const char *val = NULL;

		if (*slot != NULL || j == NULL || json_is_null(j))
			continue;
		if (json_is_string(j))
			val = json_string_value(j);
		else if (json_is_integer(j))
		{
			snprintf(num, sizeof(num), "%lld", (long long) json_integer_value(j));
			val = num;
		}
		if (val == NULL)
			continue;
		*slot = mem_strdup(val);
		log_notice("rerun: %s %s, as in the previous version (give it to change it)", keys[i].key,
				   val);
	}
	json_decref(m);
	return true;
}

bool
config_inherit_latest(struct config_values *v)
{
	char path[4200];
	int  fd;
	int  latest;

	if (v->out == NULL || v->period == NULL)
		return true;
	fd = open(v->out, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return true;
	latest = publish_latest_version(fd, v->period);
	close(fd);
	if (latest < 1)
		return true;
	snprintf(path, sizeof(path), "%s/%s/v%d/manifest.json", v->out, v->period, latest);
	return config_inherit(v, path);
}

bool
config_set_option(struct config_values *v, const char *name, const char *value)
{
	static const struct
	{
		const char *name;
		size_t      offset;
	} slots[] = {
		{ "period", offsetof(struct config_values, period) },
		{ "period-length", offsetof(struct config_values, period_length) },
		{ "source", offsetof(struct config_values, source) },
		{ "pools", offsetof(struct config_values, pools) },
		{ "default-pool", offsetof(struct config_values, default_pool) },
		{ "penalty-factor", offsetof(struct config_values, penalty_factor) },
		{ "max-reject-ratio", offsetof(struct config_values, max_reject_ratio) },
		{ "max-inflate-ratio", offsetof(struct config_values, max_inflate_ratio) },
		{ "jobs", offsetof(struct config_values, jobs) },
		{ "out", offsetof(struct config_values, out) },
	};

	if (strcmp(name, "input") == 0)
	{
		config_add_input(v, value);
		return true;
	}
	for (size_t i = 0; i < sizeof(slots) / sizeof(slots[0]); i++)
	{
		if (strcmp(name, slots[i].name) == 0)
		{
			config_set((char **) (void *) ((char *) v + slots[i].offset), value);
			return true;
		}
	}
	return false;
}

void
config_release(struct config_values *v)
{
	for (size_t i = 0; i < v->ninputs; i++)
		free(v->inputs[i]);
	free(v->inputs);
	free(v->period);
	free(v->period_length);
	free(v->source);
	free(v->db);
	free(v->pools);
	free(v->default_pool);
	free(v->penalty_factor);
	free(v->max_reject_ratio);
	free(v->max_inflate_ratio);
	free(v->jobs);
	free(v->out);
	memset(v, 0, sizeof(*v));
}

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
	if (cfg && cfg->filename)
		log_error("%s:%d: %s", cfg->filename, cfg->line, msg);
	else
		log_error("config: %s", msg);
}

static void
fill(char **slot, cfg_t *cfg, const char *key)
{
	const char *v = cfg_getstr(cfg, key);

	if (*slot == NULL && v != NULL)
		*slot = mem_strdup(v);
}

bool
config_load(struct config_values *v, const char *path, bool explicit)
{
	cfg_opt_t opts[] = { CONFIG_SETTLE_OPTS, CFG_END() };
	cfg_t    *cfg;
	int       rc;

	if (!explicit && access(path, F_OK) != 0)
		return true;
	cfg = cfg_init(opts, CFGF_NONE);
	if (cfg == NULL)
	{
		log_error("could not initialise the config parser");
		return false;
	}
	config_set_error_function(cfg);
	rc = cfg_parse(cfg, path);
	if (rc == CFG_FILE_ERROR)
	{
		log_error("could not read config file '%s': %s", path, strerror(errno));
		cfg_free(cfg);
		return false;
	}
	if (rc != CFG_SUCCESS)
	{
		log_error("invalid config file '%s'", path);
		cfg_free(cfg);
		return false;
	}
	config_fill(v, cfg);
	cfg_free(cfg);
	return true;
}

bool
config_load_chosen(struct config_values *v, const char *path, bool no_config)
{
	const char *env = getenv(CONFIG_ENV);

	if (no_config)
		return true;
	if (path != NULL)
		return config_load(v, path, true);
	if (env != NULL)
		return env[0] == '\0' || config_load(v, env, true);
	return config_load(v, CONFIG_DEFAULT_PATH, false);
}

void
config_fill(struct config_values *v, struct cfg_t *cfg)
{
	fill(&v->period, cfg, "period");
	fill(&v->period_length, cfg, "period_length");
	fill(&v->source, cfg, "source");
	fill(&v->db, cfg, "db");
	fill(&v->pools, cfg, "pools");
	fill(&v->default_pool, cfg, "default_pool");
	fill(&v->penalty_factor, cfg, "penalty_factor");
	fill(&v->max_reject_ratio, cfg, "max_reject_ratio");
	fill(&v->max_inflate_ratio, cfg, "max_inflate_ratio");
	fill(&v->jobs, cfg, "jobs");
	fill(&v->out, cfg, "out");
	/* inputs given on the command line replace the file's list */
	if (v->ninputs == 0)
	{
		for (unsigned int i = 0; i < cfg_size(cfg, "input"); i++)
			config_add_input(v, cfg_getnstr(cfg, "input", i));
	}
}

static bool
parse_u64(const char *s, uint64_t *out)
{
	char              *end;
	unsigned long long v;

	if (s[0] < '0' || s[0] > '9')
		return false;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0')
		return false;
	*out = v;
	return true;
}

bool
config_to_settings(const struct config_values *v, struct settings *s, unsigned need)
{
	enum period_length length = PERIOD_LENGTH_UNSET;
	char               err[256];

	memset(s, 0, sizeof(*s));
	if (v->period == NULL && (need & CONFIG_NEED_PERIOD))
	{
		log_error("--period is required");
		return false;
	}
	if (v->period_length && !period_length_parse(v->period_length, &length))
	{
		log_error("invalid period length '%s' (want 1d or 1h)", v->period_length);
		return false;
	}
	s->period.length = length ? length : PERIOD_LENGTH_DAY;
	if (v->period && !period_parse(v->period, length, &s->period, err, sizeof(err)))
	{
		log_error("%s", err);
		return false;
	}
	if (v->source == NULL || strcmp(v->source, "csv") == 0)
		s->source = SOURCE_CSV;
	else if (strcmp(v->source, "pg") == 0)
		s->source = SOURCE_PG;
	else
	{
		log_error("invalid source '%s' (want csv or pg)", v->source);
		return false;
	}
	if (s->source == SOURCE_CSV && v->ninputs == 0 && (need & CONFIG_NEED_SOURCE))
	{
		log_error("at least one --input is required (or --source pg)");
		return false;
	}
	if (s->source == SOURCE_PG && v->ninputs > 0)
	{
		log_error("--input does not go with --source pg: probes are read from the database");
		return false;
	}
	if (s->source == SOURCE_CSV && v->db)
	{
		log_error("--db goes with --source pg");
		return false;
	}
	if (v->out == NULL || v->out[0] == '\0')
	{
		log_error("--out is required");
		return false;
	}
	if (v->default_pool &&
		!pools_parse_amount(v->default_pool, strlen(v->default_pool), &s->default_pool))
	{
		log_error("invalid default pool '%s' (want an integer 0..9223372036854775807)",
				  v->default_pool);
		return false;
	}
	if (!payout_keep_parse(v->penalty_factor ? v->penalty_factor : "0.5", &s->keep))
	{
		log_error(
			"invalid penalty factor '%s' (want a decimal in [0, 1], at most 6 fractional digits)",
			v->penalty_factor);
		return false;
	}
	if (!settings_ratio_parse(v->max_reject_ratio ? v->max_reject_ratio : "0.001",
							  &s->max_reject_ratio))
	{
		log_error("invalid max reject ratio '%s' (want a decimal in [0, 1])", v->max_reject_ratio);
		return false;
	}
	s->limits.max_inflate_ratio = 1000;
	if (v->max_inflate_ratio && !parse_u64(v->max_inflate_ratio, &s->limits.max_inflate_ratio))
	{
		log_error("invalid max inflate ratio '%s' (want a whole number, 0 for no limit)",
				  v->max_inflate_ratio);
		return false;
	}
	if (v->jobs)
	{
		uint64_t jobs;

		if (!parse_u64(v->jobs, &jobs) || jobs < 1 || jobs > SOURCE_CSV_MAX_JOBS)
		{
			log_error("invalid jobs '%s' (want a whole number from 1 to %d)", v->jobs,
					  SOURCE_CSV_MAX_JOBS);
			return false;
		}
		s->jobs = (unsigned) jobs;
	}
	s->inputs = mem_calloc(v->ninputs, sizeof(char *));
	for (size_t i = 0; i < v->ninputs; i++)
		s->inputs[i] = mem_strdup(v->inputs[i]);
	s->ninputs = v->ninputs;
	s->pools_path = v->pools ? mem_strdup(v->pools) : NULL;
	s->out_dir = mem_strdup(v->out);
	s->db_conninfo = v->db ? mem_strdup(v->db) : NULL;
	return true;
}
