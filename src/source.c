/*
 * source.c: what every source reports (see source.h).
 */
#include "payrun/log.h"
#include "payrun/source.h"
#include "payrun/banned.h"

bool
source_reject_ratio_ok(const struct settings_ratio *max, const struct source_counts *c,
					   const char *what, const char *kept)
{
	if (!settings_ratio_exceeded(max, c->rejected, c->rows_read))
		return true;
	log_error("%s%s%llu of %llu rows rejected, more than the maximum reject ratio %s; %s%s%s",
			  what ? what : "", what ? ": " : "", (unsigned long long) c->rejected,
			  (unsigned long long) c->rows_read, max->text,
			  kept ? "rejects kept in '" : "the rejects could not be kept", kept ? kept : "",
			  kept ? "'" : "");
	return false;
}
