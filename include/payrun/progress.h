/*
 * progress.h: a progress line on stderr, only when stderr is a terminal
 * and the work has taken over a second (PAYRUN_PROGRESS_AFTER=SECONDS
 * changes the wait); redrawn in place, ends with "done".  With the size of
 * the work known (the compressed bytes of the inputs), it says the percent
 * done and an estimate of the time left.
 */
#ifndef PAYRUN_PROGRESS_H
#define PAYRUN_PROGRESS_H

#include <stdbool.h>
#include <stdint.h>

struct progress
{
	bool     enabled;  /* stderr is a terminal and not quiet */
	bool     shown;    /* a line has been drawn */
	double   start;    /* clock_monotonic_s() at init */
	double   last;     /* last redraw */
	double   after;    /* seconds before the first line */
	uint64_t total;    /* the work's size in bytes, 0 if not known */
	char     what[64]; /* e.g. the file being read */
	char     unit[16]; /* what rows are: "rows", "groups" */
};

void progress_init(struct progress *pg, const char *what);

/* Sets the size of the work (the unit of done in progress_update). */
void progress_set_total(struct progress *pg, uint64_t total);

/* done: bytes of total done so far; rows: records handled. */
void progress_update(struct progress *pg, uint64_t done, uint64_t rows);
void progress_done(struct progress *pg);

#endif
