/*
 * clock.c: the clocks (see clock.h).
 */
#include <time.h>

#include "payrun/clock.h"
#include "payrun/banned.h"

static double
seconds(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

double
clock_monotonic_s(void)
{
	return seconds(CLOCK_MONOTONIC);
}

double
clock_cpu_s(void)
{
	return seconds(CLOCK_PROCESS_CPUTIME_ID);
}

int64_t
clock_epoch_s(void)
{
	return (int64_t) time(NULL);
}

void
clock_utc_text(char out[TIMESTAMP_FORMAT_LEN])
{
	timestamp_format(clock_epoch_s(), out);
}
