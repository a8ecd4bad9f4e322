/*
 * fuzz_config.c: libFuzzer target for the config file loader (config_load,
 * libconfuse underneath) and config_to_settings.
 *
 * The input is written to a scratch file and loaded; a hash of it decides
 * which command-line values are set first (they must win over the file)
 * and what the command needs.  Nothing may crash or leak, and when
 * config_to_settings succeeds the settings must say what the values said:
 * the output directory, the inputs, the source, a period whose label is the
 * one given, ratios in [0, 1].
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "payrun/config.h"
#include "payrun/log.h"
#include "fuzz_common.h"

#define CLI_OUT   "/cli/out"
#define CLI_INPUT "cli-input.csv.gz"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void) argc;
	(void) argv;
	fuzz_quiet_logs();
	fuzz_file_open("config");
	return 0;
}

static void
check_settings(const struct config_values *v, const struct settings *s)
{
	fuzz_require(v->out != NULL && s->out_dir != NULL && strcmp(v->out, s->out_dir) == 0 &&
					 s->out_dir[0] != '\0',
				 "out_dir '%s', value '%s'", s->out_dir ? s->out_dir : "(null)",
				 v->out ? v->out : "(null)");
	fuzz_require(s->ninputs == v->ninputs, "%zu inputs, values %zu", s->ninputs, v->ninputs);
	for (size_t i = 0; i < s->ninputs; i++)
		fuzz_require(strcmp(s->inputs[i], v->inputs[i]) == 0, "input %zu differs", i);
	fuzz_require((s->source == SOURCE_PG) == (v->source && strcmp(v->source, "pg") == 0),
				 "source %d from '%s'", s->source, v->source ? v->source : "(null)");
	fuzz_require(s->source == SOURCE_PG || s->db_conninfo == NULL, "db without source pg");
	fuzz_require(s->source == SOURCE_CSV || s->ninputs == 0, "inputs with source pg");
	if (v->period)
	{
		int64_t span = s->period.length == PERIOD_LENGTH_HOUR ? 3600 : 86400;

		fuzz_require(strcmp(s->period.label, v->period) == 0 &&
						 s->period.end - s->period.start == span,
					 "period '%s' from '%s'", s->period.label, v->period);
	}
	fuzz_require(s->keep.den > 0 && s->keep.num <= s->keep.den, "keep %llu/%llu",
				 (unsigned long long) s->keep.num, (unsigned long long) s->keep.den);
	fuzz_require(s->max_reject_ratio.den > 0 && s->max_reject_ratio.num <= s->max_reject_ratio.den,
				 "max reject ratio %llu/%llu", (unsigned long long) s->max_reject_ratio.num,
				 (unsigned long long) s->max_reject_ratio.den);
	fuzz_require(s->default_pool >= 0, "default pool %lld", (long long) s->default_pool);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint64_t             rng = fuzz_hash(data, size);
	uint64_t             bits = fuzz_next(&rng);
	bool                 cli_out = bits & 1;
	bool                 cli_input = bits & 2;
	unsigned             need = (unsigned) (bits >> 2) & (CONFIG_NEED_PERIOD | CONFIG_NEED_SOURCE);
	const char          *path;
	struct config_values v;
	struct settings      s;
	bool                 loaded;

	if (size > (1u << 16))
		return -1;
	log_set_level(LOG_LEVEL_ERROR);
	path = fuzz_file_write(data, size);
	memset(&v, 0, sizeof(v));
	memset(&s, 0, sizeof(s));
	if (cli_out)
		fuzz_require(config_set_option(&v, "out", CLI_OUT), "config_set_option(out)");
	if (cli_input)
		fuzz_require(config_set_option(&v, "input", CLI_INPUT), "config_set_option(input)");

	loaded = config_load(&v, path, true);
	if (cli_out)
		fuzz_require(v.out && strcmp(v.out, CLI_OUT) == 0, "the file overrode --out");
	if (cli_input)
		fuzz_require(v.ninputs == 1 && strcmp(v.inputs[0], CLI_INPUT) == 0,
					 "the file changed --input (%zu inputs)", v.ninputs);
	if (loaded && config_to_settings(&v, &s, need))
		check_settings(&v, &s);
	settings_release(&s);
	config_release(&v);
	return 0;
}
