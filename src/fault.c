/*
 * fault.c: crash-test fault points (see fault.h); empty unless built with
 * PAYRUN_FAULT_POINTS.
 *
 * Reader threads pass fault points too (several files are read at once),
 * so the specification is read once under pthread_once and the hits are
 * counted atomically.
 */
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "payrun/fault.h"
#include "payrun/banned.h"

#ifdef PAYRUN_FAULT_POINTS

/* configuration, not state: PAYRUN_FAULT is fixed per process */
static const char    *fault_spec;
static pthread_once_t fault_once = PTHREAD_ONCE_INIT;

static void
fault_load(void)
{
	fault_spec = getenv("PAYRUN_FAULT");
}

void
fault_point(const char *name)
{
	static long hits;
	size_t      n;

	pthread_once(&fault_once, fault_load);
	if (fault_spec == NULL)
		return;
	n = strlen(name);
	if (strncmp(fault_spec, name, n) != 0 || (fault_spec[n] != '\0' && fault_spec[n] != ':'))
		return;
	if (fault_spec[n] == ':' &&
		__atomic_add_fetch(&hits, 1, __ATOMIC_RELAXED) < strtol(fault_spec + n + 1, NULL, 10))
		return;
	kill(getpid(), SIGKILL);
}

#endif /* PAYRUN_FAULT_POINTS */
