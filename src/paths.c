/*
 * paths.c: glob expansion of input patterns, what a path names (see
 * paths.h).
 */
#include <errno.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "payrun/log.h"
#include "payrun/mem.h"
#include "payrun/paths.h"
#include "payrun/banned.h"

static int
path_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *) a, *(char *const *) b);
}

static void
append(struct paths *out, size_t *cap, const char *path)
{
	if (out->count == *cap)
	{
		*cap = *cap ? *cap * 2 : 16;
		out->items = mem_realloc_array(out->items, *cap, sizeof(char *));
	}
	out->items[out->count++] = mem_strdup(path);
}

/* glob(3) keeps the failing directory to itself: the error callback tells it. */
static __thread char glob_failed_path[512];
static __thread int  glob_failed_errno;

static int
glob_error(const char *epath, int eerrno)
{
	if (eerrno == ENOENT || eerrno == ENOTDIR)
		return 0; /* a directory that is not there matches nothing */
	snprintf(glob_failed_path, sizeof(glob_failed_path), "%s", epath);
	glob_failed_errno = eerrno;
	return 1;
}

/*
 * Appends the matches of pattern, sorted.  0 on success, 1 if it matched
 * nothing (not logged), -1 on error (logged).
 */
static int
expand_one(struct paths *out, size_t *cap, const char *pattern)
{
	glob_t g;
	int    rc;

	glob_failed_path[0] = '\0';
	rc = glob(pattern, 0, glob_error, &g);
	if (rc == GLOB_NOMATCH)
	{
		globfree(&g);
		return 1;
	}
	if (rc != 0)
	{
		if (rc == GLOB_NOSPACE)
			log_error("could not expand '%s': out of memory", pattern);
		else
			log_error("could not expand '%s': could not read directory '%s': %s", pattern,
					  glob_failed_path[0] ? glob_failed_path : "?", strerror(glob_failed_errno));
		globfree(&g);
		return -1;
	}
	for (size_t k = 0; k < g.gl_pathc; k++)
		append(out, cap, g.gl_pathv[k]);
	globfree(&g);
	return 0;
}

bool
paths_expand_inputs(struct paths *out, const char *const *patterns, size_t npatterns)
{
	size_t cap = 0;

	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < npatterns; i++)
	{
		struct stat st;
		int         rc;

		if (strcmp(patterns[i], "-") == 0 || strpbrk(patterns[i], "*?[") == NULL ||
			stat(patterns[i], &st) == 0)
		{
			append(out, &cap, patterns[i]);
			continue;
		}
		rc = expand_one(out, &cap, patterns[i]);
		if (rc != 0)
		{
			if (rc > 0)
				log_error("no file matches '%s'", patterns[i]);
			paths_release(out);
			return false;
		}
	}
	return true;
}

bool
paths_expand(struct paths *out, const char *const *patterns, size_t npatterns, bool allow_empty)
{
	size_t cap = 0;

	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < npatterns; i++)
	{
		int rc = expand_one(out, &cap, patterns[i]);

		if (rc < 0 || (rc > 0 && !allow_empty))
		{
			if (rc > 0)
				log_error("no file matches '%s'", patterns[i]);
			paths_release(out);
			return false;
		}
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

uint64_t
paths_total_size(const char *const *paths, size_t npaths)
{
	uint64_t total = 0;

	for (size_t i = 0; i < npaths; i++)
	{
		struct stat st;

		if (stat(paths[i], &st) == 0 && S_ISREG(st.st_mode))
			total += (uint64_t) st.st_size;
	}
	return total;
}

const char *
paths_not_regular(mode_t mode)
{
	if (S_ISREG(mode))
		return NULL;
	if (S_ISDIR(mode))
		return "it is a directory";
	if (S_ISFIFO(mode))
		return "it is a FIFO";
	if (S_ISCHR(mode) || S_ISBLK(mode))
		return "it is a device";
	if (S_ISSOCK(mode))
		return "it is a socket";
	return "it is not a regular file";
}

bool
paths_inherited_fd(const char *path)
{
	const char *n = NULL;

	if (strcmp(path, "/dev/stdin") == 0)
		return true;
	if (strncmp(path, "/dev/fd/", 8) == 0)
		n = path + 8;
	else if (strncmp(path, "/proc/self/fd/", 14) == 0)
		n = path + 14;
	if (n == NULL || *n == '\0')
		return false;
	return strspn(n, "0123456789") == strlen(n);
}

void
paths_release(struct paths *p)
{
	for (size_t i = 0; i < p->count; i++)
		free(p->items[i]);
	free(p->items);
	memset(p, 0, sizeof(*p));
}
