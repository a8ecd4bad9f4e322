/*
 * settings.c: run settings helpers (see settings.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "payrun/numparse.h"
#include "payrun/settings.h"
#include "payrun/banned.h"

bool
settings_ratio_parse(const char *s, struct settings_ratio *out)
{
	size_t len = strlen(s);

	if (len >= sizeof(out->text) || !numparse_fraction(s, len, 9, &out->num, &out->den))
		return false;
	memcpy(out->text, s, len + 1);
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
	free(s->pools_path);
	free(s->out_dir);
	free(s->db_conninfo);
	memset(s, 0, sizeof(*s));
}
