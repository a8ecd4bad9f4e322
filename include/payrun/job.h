/*
 * job.h: job files (the .conf files in jobs/, libconfuse) and running them.
 *
 * A job is one of:
 *   settle    the nightly settlement: every closed period after the last
 *             settled one (or from start_period), oldest first, up to
 *             now - grace, at most max_periods per run, each its own
 *             transaction and publication; it stops at the first period
 *             whose data is not complete yet (require_complete);
 *   backfill  'payrun backfill' with the job's inputs, from/to or into_db;
 *   rerun     'payrun rerun' of the job's period with its reason.
 * Every settle key (source, db, input, pools, out, ...) applies.
 */
#ifndef PAYRUN_JOB_H
#define PAYRUN_JOB_H

#include <stdbool.h>
#include <stdint.h>

#include "payrun/exitcode.h"

/* now_override: epoch seconds to use as the current time, or -1. */
enum payrun_exit job_run(const char *path, bool dry_run, int64_t now_override);

#endif
