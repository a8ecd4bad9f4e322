/*
 * paths.c: glob expansion of input patterns (see paths.h).
 */
#include <glob.h>
#include <stdlib.h>
#include <string.h>

#include "payrun/log.h"
#include "payrun/mem.h"
#include "payrun/paths.h"
#include "payrun/banned.h"

static int
path_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *) a, *(char *const *) b);
}

bool
paths_expand(struct paths *out, const char *const *patterns, size_t npatterns, bool allow_empty)
{
	size_t cap = 0;

	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < npatterns; i++)
	{
		glob_t g;
		int    rc = glob(patterns[i], GLOB_ERR, NULL, &g);

		if (rc == GLOB_NOMATCH)
		{
			globfree(&g);
			if (allow_empty)
				continue;
			log_error("no file matches '%s'", patterns[i]);
			paths_release(out);
			return false;
		}
		if (rc != 0)
		{
			log_error("could not expand '%s': %s", patterns[i],
					  rc == GLOB_NOSPACE ? "out of memory" : "read error");
			globfree(&g);
			paths_release(out);
			return false;
		}
		for (size_t k = 0; k < g.gl_pathc; k++)
		{
			if (out->count == cap)
			{
				cap = cap ? cap * 2 : 16;
				out->items = mem_realloc_array(out->items, cap, sizeof(char *));
			}
			out->items[out->count++] = mem_strdup(g.gl_pathv[k]);
		}
		globfree(&g);
	}
	if (out->count > 1)
	{
		size_t w = 1;

		qsort(out->items, out->count, sizeof(char *), path_cmp);
		for (size_t r = 1; r < out->count; r++)
		{
			if (strcmp(out->items[r], out->items[w - 1]) == 0)
				free(out->items[r]);
			else
				out->items[w++] = out->items[r];
		}
		out->count = w;
	}
	return true;
}

char *
paths_substitute(const char *pattern, const char *label)
{
	const char *hit = strstr(pattern, "{period}");
	size_t      plen = strlen(pattern);
	size_t      llen = strlen(label);
	char       *out;

	if (hit == NULL)
		return mem_strdup(pattern);
	out = mem_alloc(plen - 8 + llen + 1);
	memcpy(out, pattern, (size_t) (hit - pattern));
	memcpy(out + (hit - pattern), label, llen);
	memcpy(out + (hit - pattern) + llen, hit + 8, plen - (size_t) (hit - pattern) - 8 + 1);
	return out;
}

void
paths_release(struct paths *p)
{
	for (size_t i = 0; i < p->count; i++)
		free(p->items[i]);
	free(p->items);
	memset(p, 0, sizeof(*p));
}
