/*
 * fault.c: crash-test fault points (see fault.h).
 */
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "payrun/fault.h"

void
fault_point(const char *name)
{
	/* read once; configuration, not state (PAYRUN_FAULT is fixed per process) */
	static const char *spec;
	static bool loaded;
	static long hits;
	size_t		n;

	if (!loaded)
	{
		spec = getenv("PAYRUN_FAULT");
		loaded = true;
	}
	if (spec == NULL)
		return;
	n = strlen(name);
	if (strncmp(spec, name, n) != 0 || (spec[n] != '\0' && spec[n] != ':'))
		return;
	if (spec[n] == ':' && ++hits < strtol(spec + n + 1, NULL, 10))
		return;
	kill(getpid(), SIGKILL);
}
