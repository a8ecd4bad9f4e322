/*
 * mem.c: checked allocation (see mem.h).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "payrun/exitcode.h"
#include "payrun/log.h"
#include "payrun/mem.h"
#include "payrun/banned.h"

static void
out_of_memory(size_t size)
{
	log_error("out of memory (requested %zu bytes)", size);
	exit(PAYRUN_EXIT_INTERNAL);
}

void *
mem_alloc(size_t size)
{
	void *p = malloc(size ? size : 1);

	if (p == NULL)
		out_of_memory(size);
	return p;
}

void *
mem_calloc(size_t count, size_t size)
{
	void *p = calloc(count ? count : 1, size ? size : 1);

	if (p == NULL)
		out_of_memory(count * size);
	return p;
}

void *
mem_realloc(void *ptr, size_t size)
{
	void *p = realloc(ptr, size ? size : 1);

	if (p == NULL)
		out_of_memory(size);
	return p;
}

void *
mem_realloc_array(void *ptr, size_t count, size_t size)
{
	if (size != 0 && count > SIZE_MAX / size)
		out_of_memory(SIZE_MAX);
	return mem_realloc(ptr, count * size);
}

char *
mem_strdup(const char *s)
{
	return mem_memdup(s, strlen(s) + 1);
}

char *
mem_memdup(const void *p, size_t len)
{
	char *d = mem_alloc(len);

	memcpy(d, p, len);
	return d;
}
