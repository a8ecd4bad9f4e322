/*
 * paths.h: input file lists from glob patterns (settle, backfills, jobs),
 * and what a path names, for the messages that refuse it.
 */
#ifndef PAYRUN_PATHS_H
#define PAYRUN_PATHS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

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

/*
 * The inputs of a settle, in the order given: "-" (standard input) and a
 * name of an existing file are kept as they are; any other pattern is
 * expanded (sorted), and one that matches nothing is an error (logged).
 * Duplicates are kept, for the settle to refuse.
 */
bool paths_expand_inputs(struct paths *out, const char *const *patterns, size_t npatterns);

/*
 * Why a file of this mode is refused where payrun wants a regular file
 * ("it is a directory", "it is a FIFO", ...), or NULL for a regular file.
 */
const char *paths_not_regular(mode_t mode);

/* Does path name a descriptor payrun inherited (/dev/stdin, /dev/fd/N)? */
bool paths_inherited_fd(const char *path);

/* The sum of the sizes of the regular files among paths (for progress). */
uint64_t paths_total_size(const char *const *paths, size_t npaths);

/* Replaces "{period}" in pattern with label; caller frees. */
char *paths_substitute(const char *pattern, const char *label);

void paths_release(struct paths *p);

#endif
