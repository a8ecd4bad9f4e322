/*
 * settle.h: settling one period from CSV exports, end to end:
 * sinks prepared -> pools -> read and reduce -> reject ratio -> ledger ->
 * sinks written -> sinks published -> report.
 */
#ifndef PAYRUN_SETTLE_H
#define PAYRUN_SETTLE_H

#include <stdbool.h>

#include "payrun/exitcode.h"
#include "payrun/settings.h"

/* Settles; returns the process exit status, having logged any failure. */
enum payrun_exit settle_run(const struct settings *s, bool print_report);

#endif
