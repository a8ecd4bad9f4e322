/*
 * clock.h: the clocks payrun reads.  Durations are measured on the
 * monotonic clock (never set back) and in process CPU time (summed over
 * all threads); wall-clock time is only ever written down, in UTC.
 */
#ifndef PAYRUN_CLOCK_H
#define PAYRUN_CLOCK_H

#include <stdint.h>

#include "payrun/timestamp.h"

/* Seconds on the monotonic clock since an arbitrary start. */
double clock_monotonic_s(void);

/* CPU seconds used by the process so far, summed over its threads. */
double clock_cpu_s(void);

/* The current time, epoch seconds (UTC). */
int64_t clock_epoch_s(void);

/* The current UTC time as "YYYY-MM-DDTHH:MM:SSZ". */
void clock_utc_text(char out[TIMESTAMP_FORMAT_LEN]);

#endif
