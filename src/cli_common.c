/*
 * cli_common.c: what every subcommand's command line shares (see cli.h):
 * the option parser built from the option table, -q/-v/-h, the usage text
 * and the blanking of --db passwords.
 */
#include <ctype.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "payrun/cli.h"
#include "payrun/exitcode.h"
#include "payrun/log.h"
#include "payrun/mem.h"
#include "payrun/banned.h"

static void
quieter(void)
{
	log_set_level(LOG_LEVEL_ERROR);
}

static void
louder(void)
{
	if (log_get_level() < LOG_LEVEL_DEBUG)
		log_set_level(log_get_level() < LOG_LEVEL_INFO ? LOG_LEVEL_INFO : LOG_LEVEL_DEBUG);
}

bool
cli_verbosity(const char *arg)
{
	if (strcmp(arg, "--quiet") == 0)
		arg = "-q";
	else if (strcmp(arg, "--verbose") == 0)
		arg = "-v";
	if (arg[0] != '-' || arg[1] == '\0' || strspn(arg + 1, "qv") != strlen(arg + 1))
		return false;
	for (const char *p = arg + 1; *p; p++)
	{
		if (*p == 'q')
			quieter();
		else
			louder();
	}
	return true;
}

/* Overwrites n bytes at p with 'x'. */
static void
blank(char *p, size_t n)
{
	memset(p, 'x', n);
}

char *
cli_take_conninfo(char *arg)
{
	char *copy = mem_strdup(arg);
	char *uri = strstr(arg, "://");
	char *p;

	/* key/value form: password=secret or password='se cret'; libpq allows any
	 * white space around '=' and between pairs, tabs included */
	for (p = strstr(arg, "password"); p; p = strstr(p + 1, "password"))
	{
		char *v = p + 8;

		while (isspace((unsigned char) *v))
			v++;
		if (*v != '=')
			continue;
		v++;
		while (isspace((unsigned char) *v))
			v++;
		if (*v == '\'')
		{
			char *e = v + 1;

			while (*e && *e != '\'')
				e += (*e == '\\' && e[1]) ? 2 : 1;
			blank(v + 1, (size_t) (e - v - 1));
		}
		else
		{
			/* unquoted: up to white space not escaped by a backslash ('Pw\ Secret'), or in a
			 * URI's query, to the next parameter */
			char *e = v;

			while (*e && !isspace((unsigned char) *e) && !(uri && *e == '&'))
				e += (*e == '\\' && e[1]) ? 2 : 1;
			blank(v, (size_t) (e - v));
		}
	}
	/* URI form: postgresql://user:secret@host/db (percent-encoded: no '@' inside) */
	if (uri)
	{
		char *at = strchr(uri + 3, '@');
		char *colon = strchr(uri + 3, ':');

		if (at && colon && colon < at)
			blank(colon + 1, (size_t) (at - colon - 1));
	}
	return copy;
}

void
cli_usage(const struct cli_command *cmd, FILE *out)
{
	fprintf(out, "%s\n\n%s\n", cmd->synopsis, cmd->description);
	options_usage(cmd->options, out);
	fprintf(out, "\n%s", cmd->exit_status);
}

/* Stores one option of the table; --db through cli_take_conninfo. */
static void
take_option(struct cli_args *args, enum option_id id, char *optarg_value)
{
	if (id == OPTION_DB)
	{
		char *copy = cli_take_conninfo(optarg_value);

		options_set(&args->values, id, copy);
		free(copy);
	}
	else
		options_set(&args->values, id,
					options_def(id)->kind == OPTION_FLAG ? "true" : optarg_value);
}

/* The positional arguments: their number must be in the command's range. */
static int
check_args(const struct cli_command *cmd, struct cli_args *args)
{
	if (args->nargs > cmd->max_args)
	{
		log_error("unexpected argument '%s'%s%s", args->args[cmd->max_args],
				  cmd->args_hint ? "; " : "", cmd->args_hint ? cmd->args_hint : "");
		return PAYRUN_EXIT_USAGE;
	}
	if (args->nargs < cmd->min_args)
	{
		cli_usage(cmd, stderr);
		return PAYRUN_EXIT_USAGE;
	}
	return -1;
}

/* The long option spelled exactly name[0..len), or NULL. */
static const struct option *
exact_option(const struct option *longopts, const char *name, size_t len)
{
	for (const struct option *o = longopts; o->name; o++)
	{
		if (strlen(o->name) == len && strncmp(o->name, name, len) == 0)
			return o;
	}
	return NULL;
}

/*
 * getopt_long takes an unambiguous prefix for the whole option ('--pen'
 * for --penalty-factor) and, when several options share a value, a prefix
 * of them for one of them: for money, every option is given in full.
 * Says which options an abbreviation could mean; false if one was given.
 */
static bool
refuse_abbreviations(int argc, char **argv, const struct option *longopts)
{
	for (int i = 1; i < argc; i++)
	{
		const char          *a = argv[i];
		size_t               len;
		const struct option *o;
		char                 could[512] = "";

		if (strcmp(a, "--") == 0)
			return true;
		if (strncmp(a, "--", 2) != 0)
			continue;
		len = strcspn(a + 2, "=");
		o = exact_option(longopts, a + 2, len);
		if (o)
		{
			i += o->has_arg == required_argument && a[2 + len] == '\0'; /* its value */
			continue;
		}
		for (const struct option *p = longopts; p->name; p++)
		{
			if (strncmp(p->name, a + 2, len) == 0 &&
				strlen(could) + strlen(p->name) + 8 < sizeof(could))
				snprintf(could + strlen(could), sizeof(could) - strlen(could), "%s--%s",
						 could[0] ? ", " : "", p->name);
		}
		if (could[0])
		{
			log_error("option '%.*s' is not given in full (it could mean %s): options are given in "
					  "full",
					  (int) (len + 2), a, could);
			return false;
		}
	}
	return true;
}

int
cli_parse(int argc, char **argv, const struct cli_command *cmd, struct cli_args *args)
{
	struct option longopts[OPTION_COUNT + 4];
	int           c;

	memset(args, 0, sizeof(*args));
	options_getopt_table(cmd->options, longopts);
	if (!refuse_abbreviations(argc, argv, longopts))
	{
		fprintf(stderr, "Try 'payrun %s --help'.\n", cmd->name);
		return PAYRUN_EXIT_USAGE;
	}
	optind = 1;
	/* options and positional arguments in any order, as GNU getopt permutes */
	while ((c = getopt_long(argc, argv, "qvh", longopts, NULL)) != -1)
	{
		if (c >= OPTIONS_VAL_BASE && c < OPTIONS_VAL_BASE + OPTION_COUNT)
			take_option(args, (enum option_id)(c - OPTIONS_VAL_BASE), optarg);
		else if (c == 'q')
			quieter();
		else if (c == 'v')
			louder();
		else if (c == 'h')
		{
			cli_usage(cmd, stdout);
			cli_args_release(args);
			return PAYRUN_EXIT_OK;
		}
		else
		{
			fprintf(stderr, "Try 'payrun %s --help'.\n", cmd->name);
			cli_args_release(args);
			return PAYRUN_EXIT_USAGE;
		}
	}
	args->args = argv + optind;
	args->nargs = argc - optind;
	c = check_args(cmd, args);
	if (c >= 0)
		cli_args_release(args);
	return c;
}

void
cli_args_release(struct cli_args *args)
{
	options_release(&args->values);
	args->args = NULL;
	args->nargs = 0;
}
