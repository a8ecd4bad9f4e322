/*
 * progress.h: a progress line on stderr, only when stderr is a terminal
 * and the work has taken over a second; redrawn in place, ends with "done".
 */
#ifndef PAYRUN_PROGRESS_H
#define PAYRUN_PROGRESS_H

#include <stdbool.h>
#include <stdint.h>

struct progress
{
	bool   enabled;  /* stderr is a terminal and not quiet */
	bool   shown;    /* a line has been drawn */
	double start;    /* clock_monotonic_s() at init */
	double last;     /* last redraw */
	char   what[64]; /* e.g. the file being read */
};

void progress_init(struct progress *pg, const char *what);
void progress_update(struct progress *pg, uint64_t bytes, uint64_t rows);
void progress_done(struct progress *pg);

#endif
