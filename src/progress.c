/*
 * progress.c: the in-place progress line (see progress.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "payrun/clock.h"
#include "payrun/log.h"
#include "payrun/numparse.h"
#include "payrun/progress.h"
#include "payrun/banned.h"

void
progress_init(struct progress *pg, const char *what)
{
	const char *after = getenv("PAYRUN_PROGRESS_AFTER");
	uint64_t    s;

	memset(pg, 0, sizeof(*pg));
	pg->enabled = isatty(STDERR_FILENO) && log_enabled(LOG_LEVEL_NOTICE);
	pg->start = pg->last = clock_monotonic_s();
	pg->after = after && numparse_u64(after, strlen(after), 0, 3600, &s) ? (double) s : 1.0;
	snprintf(pg->what, sizeof(pg->what), "%s", what);
	snprintf(pg->unit, sizeof(pg->unit), "rows");
}

void
progress_set_total(struct progress *pg, uint64_t total)
{
	pg->total = total;
}

/* "12 s", "3 min 05 s", "1 h 02 min" */
static void
format_duration(double s, char *buf, size_t len)
{
	long t = s < 0 ? 0 : (long) (s + 0.5);

	if (t < 60)
		snprintf(buf, len, "%ld s", t);
	else if (t < 3600)
		snprintf(buf, len, "%ld min %02ld s", t / 60, t % 60);
	else
		snprintf(buf, len, "%ld h %02ld min", t / 3600, t / 60 % 60);
}

void
progress_update(struct progress *pg, uint64_t done, uint64_t rows)
{
	double now, el;
	char   share[96] = "";

	if (!pg->enabled)
		return;
	now = clock_monotonic_s();
	el = now - pg->start;
	if (el < pg->after || (pg->shown && now - pg->last < 0.2))
		return;
	pg->last = now;
	pg->shown = true;
	if (pg->total > 0 && done <= pg->total)
	{
		char eta[32];

		format_duration(done > 0 ? el * (double) (pg->total - done) / (double) done : 0, eta,
						sizeof(eta));
		snprintf(share, sizeof(share), "%3.0f%% of %.0f MB, ETA %s, ",
				 100.0 * (double) done / (double) pg->total, (double) pg->total / 1e6, eta);
	}
	else
		snprintf(share, sizeof(share), "%.0f MB, ", (double) done / 1e6);
	fprintf(stderr, "\r%s: %s%llu %s, %.0f %s/s   ", pg->what, share, (unsigned long long) rows,
			pg->unit, el > 0 ? (double) rows / el : 0.0, pg->unit);
}

void
progress_done(struct progress *pg)
{
	if (pg->shown)
		fprintf(stderr, " done\n");
	pg->shown = false;
}
