/*
 * fuzz_config.c: libFuzzer target for the config file loader (config_load,
 * libconfuse underneath) and config_to_settle.
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
check_settings(const struct config_values *v, const struct settings *s,
			   const struct settle_request *req)
{
	fuzz_require(v->out != NULL && s->out_dir != NULL && strcmp(v->out, s->out_dir) == 0 &&
					 s->out_dir[0] != '\0',
				 "out_dir '%s', value '%s'", s->out_dir ? s->out_dir : "(null)",
				 v->out ? v->out : "(null)");
	fuzz_require(req->ninputs == v->input.count, "%zu inputs, values %zu", req->ninputs,
				 v->input.count);
	for (size_t i = 0; i < req->ninputs; i++)
		fuzz_require(strcmp(req->inputs[i], v->input.items[i]) == 0, "input %zu differs", i);
	fuzz_require((s->source == SOURCE_PG) == (v->source && strcmp(v->source, "pg") == 0),
				 "source %d from '%s'", s->source, v->source ? v->source : "(null)");
	fuzz_require(s->source == SOURCE_PG || s->db_conninfo == NULL, "db without source pg");
	fuzz_require(s->source == SOURCE_CSV || req->ninputs == 0, "inputs with source pg");
	{
		int64_t span = req->period.length == PERIOD_LENGTH_HOUR ? 3600 : 86400;

		fuzz_require(v->period && strcmp(req->period.label, v->period) == 0 &&
						 req->period.end - req->period.start == span,
					 "period '%s' from '%s'", req->period.label, v->period ? v->period : "");
	}
	fuzz_require(s->keep.den > 0 && s->keep.num <= s->keep.den, "keep %llu/%llu",
				 (unsigned long long) s->keep.num, (unsigned long long) s->keep.den);
	fuzz_require(s->max_reject_ratio.den > 0 && s->max_reject_ratio.num <= s->max_reject_ratio.den,
				 "max reject ratio %llu/%llu", (unsigned long long) s->max_reject_ratio.num,
				 (unsigned long long) s->max_reject_ratio.den);
	fuzz_require(s->token_decimals <= AMOUNT_DECIMALS_MAX, "token decimals %u", s->token_decimals);
	{
		/* the default pool is the value given, read with the token's decimals */
		const char   *given = v->default_pool ? v->default_pool : "0";
		struct amount a;

		fuzz_require(amount_parse(given, strlen(given), s->token_decimals, &a) == AMOUNT_OK &&
						 amount_cmp(&a, &s->default_pool) == 0,
					 "default pool '%s' not the value given", given);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint64_t              rng = fuzz_hash(data, size);
	uint64_t              bits = fuzz_next(&rng);
	bool                  cli_out = bits & 1;
	bool                  cli_input = bits & 2;
	bool                  rerun = bits & 4;
	const char           *path;
	struct config_values  v;
	struct settings       s;
	struct settle_request req;
	bool                  loaded;

	if (size > (1u << 16))
		return -1;
	log_set_level(LOG_LEVEL_ERROR);
	path = fuzz_file_write(data, size);
	memset(&v, 0, sizeof(v));
	if (cli_out)
		options_set(&v, OPTION_OUT, CLI_OUT);
	if (cli_input)
		options_set(&v, OPTION_INPUT, CLI_INPUT);

	loaded = config_load(&v, path, true);
	if (cli_out)
		fuzz_require(v.out && strcmp(v.out, CLI_OUT) == 0, "the file overrode --out");
	if (cli_input)
		fuzz_require(v.input.count == 1 && strcmp(v.input.items[0], CLI_INPUT) == 0,
					 "the file changed --input (%zu inputs)", v.input.count);
	if (loaded && config_to_settle(&v, rerun, &s, &req))
	{
		check_settings(&v, &s, &req);
		fuzz_require(!rerun || (req.reason && req.reason[0]), "a rerun without a reason");
		settings_release(&s);
	}
	options_release(&v);
	return 0;
}
