/*
 * paths.h: input file lists from glob patterns (backfills, jobs).
 */
#ifndef PAYRUN_PATHS_H
#define PAYRUN_PATHS_H

#include <stdbool.h>
#include <stddef.h>

struct paths
{
	char **items; /* owned, sorted, no duplicates */
	size_t count;
};

/*
 * Expands every pattern (glob(3); a pattern without wildcards must name an
 * existing file) into one sorted list without duplicates.  A pattern that
 * matches nothing is an error (logged) unless allow_empty.
 */
bool paths_expand(struct paths *out, const char *const *patterns, size_t npatterns,
				  bool allow_empty);

/* Replaces "{period}" in pattern with label; caller frees. */
char *paths_substitute(const char *pattern, const char *label);

void paths_release(struct paths *p);

#endif
