/*
 * settings.c: run settings helpers (see settings.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "payrun/log.h"
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

/* The text of a setting in a manifest: a string, or an integer as written before amounts were strings. */
static const char *
setting_text(json_t *prev, const char *key, char *buf, size_t len)
{
	json_t *j = json_object_get(prev, key);

	if (json_is_string(j))
		return json_string_value(j);
	if (json_is_integer(j))
	{
		snprintf(buf, len, "%lld", (long long) json_integer_value(j));
		return buf;
	}
	return NULL;
}

bool
settings_inherit(struct settings *s, json_t *prev)
{
	char        buf[64];
	const char *v = NULL;
	bool        ok = true;

	if ((s->given & SETTING_PENALTY_FACTOR) == 0 &&
		(v = setting_text(prev, "penalty_factor", buf, sizeof(buf))) != NULL)
	{
		ok = payout_keep_parse(v, &s->keep);
		if (ok)
			log_notice(
				"rerun: penalty_factor %s, as in the previous version (give it to change it)", v);
	}
	if (ok && (s->given & SETTING_DEFAULT_POOL) == 0 &&
		(v = setting_text(prev, "default_pool", buf, sizeof(buf))) != NULL)
	{
		/* recorded in base units */
		ok = amount_parse(v, strlen(v), 0, &s->default_pool) == AMOUNT_OK;
		if (ok)
			log_notice("rerun: default_pool %s, as in the previous version (give it to change it)",
					   v);
	}
	if (ok && (s->given & SETTING_MAX_REJECT_RATIO) == 0 &&
		(v = setting_text(prev, "max_reject_ratio", buf, sizeof(buf))) != NULL)
	{
		ok = settings_ratio_parse(v, &s->max_reject_ratio);
		if (ok)
			log_notice(
				"rerun: max_reject_ratio %s, as in the previous version (give it to change it)", v);
	}
	if (ok && (s->given & SETTING_TOKEN_DECIMALS) == 0 &&
		json_is_integer(json_object_get(prev, "token_decimals")))
	{
		json_int_t d = json_integer_value(json_object_get(prev, "token_decimals"));

		ok = d >= 0 && d <= AMOUNT_DECIMALS_MAX;
		if (ok && (unsigned) d != s->token_decimals)
			log_notice(
				"rerun: token_decimals %lld, as in the previous version (give it to change it)",
				(long long) d);
		s->token_decimals = ok ? (unsigned) d : s->token_decimals;
	}
	if (!ok)
		log_error("the previous version's settings cannot be read back: %s",
				  v ? v : "token_decimals");
	return ok;
}

void
settings_release(struct settings *s)
{
	free(s->pools_path);
	free(s->pools_query);
	free(s->probe_table);
	free(s->probe_timestamp_zone);
	free(s->out_dir);
	free(s->db_conninfo);
	memset(s, 0, sizeof(*s));
}
