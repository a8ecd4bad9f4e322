/*
 * progress.c: the in-place progress line (see progress.h).
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "payrun/clock.h"
#include "payrun/log.h"
#include "payrun/progress.h"
#include "payrun/report.h"
#include "payrun/banned.h"

void
progress_init(struct progress *pg, const char *what)
{
	memset(pg, 0, sizeof(*pg));
	pg->enabled = isatty(STDERR_FILENO) && log_enabled(LOG_LEVEL_NOTICE);
	pg->start = pg->last = clock_monotonic_s();
	snprintf(pg->what, sizeof(pg->what), "%s", what);
}

void
progress_update(struct progress *pg, uint64_t bytes, uint64_t rows)
{
	double now;

	if (!pg->enabled)
		return;
	now = clock_monotonic_s();
	if (now - pg->start < 1.0 || now - pg->last < 0.2)
		return;
	pg->last = now;
	pg->shown = true;
	fprintf(stderr, "\r%s: %.0f MB, %llu rows, %.0f rows/s   ", pg->what, (double) bytes / 1e6,
			(unsigned long long) rows, (double) rows / (now - pg->start));
}

void
progress_done(struct progress *pg)
{
	if (pg->shown)
		fprintf(stderr, " done\n");
	pg->shown = false;
}
