/*
 * settings.c: run settings helpers (see settings.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "payrun/settings.h"
#include "payrun/banned.h"

bool
settings_ratio_parse(const char *s, struct settings_ratio *out)
{
	uint64_t    num = 0;
	uint64_t    den = 1;
	const char *p = s;
	int         digits = 0;

	if (*p < '0' || *p > '9' || strlen(s) >= sizeof(out->text))
		return false;
	while (*p >= '0' && *p <= '9')
	{
		num = num * 10 + (uint64_t) (*p++ - '0');
		if (num > 1)
			return false;
	}
	if (*p == '.')
	{
		p++;
		if (*p < '0' || *p > '9')
			return false;
		while (*p >= '0' && *p <= '9')
		{
			if (++digits > 9)
				return false;
			num = num * 10 + (uint64_t) (*p++ - '0');
			den *= 10;
		}
	}
	if (*p != '\0' || num > den)
		return false;
	out->num = num;
	out->den = den;
	snprintf(out->text, sizeof(out->text), "%s", s);
	return true;
}

bool
settings_ratio_exceeded(const struct settings_ratio *ratio, uint64_t part, uint64_t whole)
{
	/* part / whole > num / den  <=>  part * den > num * whole */
	return (unsigned __int128) part * ratio->den > (unsigned __int128) ratio->num * whole;
}

void
settings_release(struct settings *s)
{
	for (size_t i = 0; i < s->ninputs; i++)
		free(s->inputs[i]);
	free(s->inputs);
	free(s->pools_path);
	free(s->out_dir);
	free(s->db_conninfo);
	free(s->reason);
	memset(s, 0, sizeof(*s));
}
