/*
 * options.c: the option table and what follows from it (see options.h).
 */
#include <confuse.h>
#include <getopt.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "payrun/log.h"
#include "payrun/mem.h"
#include "payrun/options.h"
#include "payrun/banned.h"

static const struct option_def option_defs[OPTION_COUNT] = {
#define X(id, kind, lname, key, field, arg, def, commands, files, help)                            \
	{ OPTION_##id, kind, lname,    key,   offsetof(struct config_values, field),                   \
	  arg,         def,  commands, files, help },
	PAYRUN_OPTIONS(X)
#undef X
};

const struct option_def *
options_def(enum option_id id)
{
	return &option_defs[id];
}

const struct option_def *
options_by_long_name(const char *name, unsigned command)
{
	for (int i = 0; i < OPTION_COUNT; i++)
	{
		const struct option_def *d = &option_defs[i];

		if (d->long_name && (d->commands & command) && strcmp(d->long_name, name) == 0)
			return d;
	}
	return NULL;
}

static char **
value_slot(struct config_values *v, const struct option_def *d)
{
	return (char **) (void *) ((char *) v + d->offset);
}

static struct option_list *
list_slot(struct config_values *v, const struct option_def *d)
{
	return (struct option_list *) (void *) ((char *) v + d->offset);
}

static void
list_add(struct option_list *l, const char *value)
{
	l->items = mem_realloc_array(l->items, l->count + 1, sizeof(char *));
	l->items[l->count++] = mem_strdup(value);
}

static void
list_clear(struct option_list *l)
{
	for (size_t i = 0; i < l->count; i++)
		free(l->items[i]);
	free(l->items);
	l->items = NULL;
	l->count = 0;
}

void
options_set(struct config_values *v, enum option_id id, const char *value)
{
	const struct option_def *d = &option_defs[id];

	if (d->kind == OPTION_LIST)
		list_add(list_slot(v, d), value);
	else
	{
		char **slot = value_slot(v, d);

		free(*slot);
		*slot = mem_strdup(value);
	}
}

const char *
options_get(const struct config_values *v, enum option_id id)
{
	const struct option_def *d = &option_defs[id];

	if (d->kind == OPTION_LIST)
	{
		const struct option_list *l = list_slot((struct config_values *) v, d);

		return l->count ? l->items[0] : NULL;
	}
	return *value_slot((struct config_values *) v, d);
}

const char *
options_get_or_default(const struct config_values *v, enum option_id id)
{
	const char *s = options_get(v, id);

	return s ? s : option_defs[id].def;
}

bool
options_parse_flag(const char *text, bool *on)
{
	static const char *const yes[] = { "true", "yes", "on", "1" };
	static const char *const no[] = { "false", "no", "off", "0" };

	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
	{
		if (strcasecmp(text, yes[i]) == 0)
		{
			*on = true;
			return true;
		}
		if (strcasecmp(text, no[i]) == 0)
		{
			*on = false;
			return true;
		}
	}
	return false;
}

bool
options_flag(const struct config_values *v, enum option_id id)
{
	const char *s = options_get_or_default(v, id);
	bool        on = false;

	return s != NULL && options_parse_flag(s, &on) && on;
}

void
options_release(struct config_values *v)
{
	for (int i = 0; i < OPTION_COUNT; i++)
	{
		const struct option_def *d = &option_defs[i];

		if (d->kind == OPTION_LIST)
			list_clear(list_slot(v, d));
		else
			free(*value_slot(v, d));
	}
	memset(v, 0, sizeof(*v));
}

void
options_getopt_table(unsigned command, struct option *out)
{
	int n = 0;

	for (int i = 0; i < OPTION_COUNT; i++)
	{
		const struct option_def *d = &option_defs[i];

		if (d->long_name == NULL || !(d->commands & command))
			continue;
		out[n++] = (struct option){ d->long_name,
									d->kind == OPTION_FLAG ? no_argument : required_argument, NULL,
									OPTIONS_VAL_BASE + (int) d->id };
	}
	out[n++] = (struct option){ "quiet", no_argument, NULL, 'q' };
	out[n++] = (struct option){ "verbose", no_argument, NULL, 'v' };
	out[n++] = (struct option){ "help", no_argument, NULL, 'h' };
	out[n] = (struct option){ NULL, 0, NULL, 0 };
}

/* Prints text wrapped to start at column indent, at most width columns. */
static void
print_wrapped(FILE *out, const char *text, int column, int indent, int width)
{
	const char *p = text;

	while (*p)
	{
		const char *end = p;
		const char *brk = NULL;

		while (*end && column + (end - p) < width)
		{
			if (*end == ' ')
				brk = end;
			end++;
		}
		if (*end && brk)
			end = brk;
		fprintf(out, "%.*s\n", (int) (end - p), p);
		p = *end == ' ' ? end + 1 : end;
		if (*p)
			fprintf(out, "%*s", indent, "");
		column = indent;
	}
}

void
options_usage(unsigned command, FILE *out)
{
	for (int i = 0; i < OPTION_COUNT; i++)
	{
		const struct option_def *d = &option_defs[i];
		char                     head[64];
		char                     help[512];
		int                      len;

		if (d->long_name == NULL || !(d->commands & command))
			continue;
		len = snprintf(head, sizeof(head), "  --%s%s%s", d->long_name, d->arg ? " " : "",
					   d->arg ? d->arg : "");
		snprintf(help, sizeof(help), "%s%s%s%s", d->help, d->def ? " (default " : "",
				 d->def ? d->def : "", d->def ? ")" : "");
		if (len < 26)
			fprintf(out, "%-26s", head);
		else
			fprintf(out, "%s\n%26s", head, "");
		print_wrapped(out, help, 26, 26, 79);
	}
	fprintf(out, "  -q, --quiet             errors only, no report\n"
				 "  -v, --verbose           more detail (-vv for debug)\n"
				 "  -h, --help              this help\n");
}

struct cfg_opt_t *
options_cfg_table(unsigned files)
{
	cfg_opt_t *opts = mem_calloc(OPTION_COUNT + 1, sizeof(cfg_opt_t));
	int        n = 0;

	for (int i = 0; i < OPTION_COUNT; i++)
	{
		const struct option_def *d = &option_defs[i];

		if (d->key == NULL || !(d->files & files))
			continue;
		if (d->kind == OPTION_LIST)
			opts[n++] = (cfg_opt_t) CFG_STR_LIST(d->key, NULL, CFGF_NONE);
		else
			opts[n++] = (cfg_opt_t) CFG_STR(d->key, NULL, CFGF_NONE);
	}
	opts[n] = (cfg_opt_t) CFG_END();
	return opts;
}

bool
options_fill_from_cfg(struct config_values *v, struct cfg_t *cfg, const char *path, unsigned files)
{
	bool ok = true;

	for (int i = 0; i < OPTION_COUNT; i++)
	{
		const struct option_def *d = &option_defs[i];

		if (d->key == NULL || !(d->files & files))
			continue;
		if (d->kind == OPTION_LIST)
		{
			struct option_list *l = list_slot(v, d);

			/* a list given on the command line replaces the file's */
			if (l->count > 0)
				continue;
			for (unsigned int k = 0; k < cfg_size(cfg, d->key); k++)
				list_add(l, cfg_getnstr(cfg, d->key, k));
			if (files == OPT_IN_CONFIG && l->count > 0)
				v->from_config |= UINT64_C(1) << d->id;
		}
		else
		{
			char      **slot = value_slot(v, d);
			const char *s = cfg_getstr(cfg, d->key);

			bool on;

			if (s != NULL && d->kind == OPTION_FLAG && !options_parse_flag(s, &on))
			{
				log_error("%s: invalid %s '%s' (want true or false)", path, d->key, s);
				ok = false;
				continue;
			}
			if (*slot == NULL && s != NULL)
			{
				*slot = mem_strdup(s);
				if (files == OPT_IN_CONFIG)
					v->from_config |= UINT64_C(1) << d->id;
			}
		}
	}
	return ok;
}
