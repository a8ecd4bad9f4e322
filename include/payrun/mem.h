/*
 * mem.h: allocation that cannot fail silently.  Like PostgreSQL's
 * pg_malloc(): on exhaustion it logs and exits with the internal-error
 * status.  A crash-safe run leaves nothing published, so exiting is safe.
 */
#ifndef PAYRUN_MEM_H
#define PAYRUN_MEM_H

#include <stddef.h>

void *mem_alloc(size_t size);
void *mem_calloc(size_t count, size_t size);
void *mem_realloc(void *ptr, size_t size);
void *mem_realloc_array(void *ptr, size_t count, size_t size);
char *mem_strdup(const char *s);
char *mem_memdup(const void *p, size_t len);

#endif
