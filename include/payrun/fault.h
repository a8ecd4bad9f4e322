/*
 * fault.h: named fault points for crash tests, compiled only into test
 * builds (make FAULTS=1, which make check uses), as PostgreSQL's injection
 * points are: in the plain build a fault point is nothing at all.
 *
 * In a test build, when the environment variable PAYRUN_FAULT names a
 * point ("before_rename"), the process kills itself with SIGKILL there, as
 * a power cut or OOM kill would, so tests can check that every moment of a
 * run leaves nothing or the whole result.  "NAME:N" fires at the Nth time
 * the point is reached.  Unset, a point costs one comparison.
 *
 * Points: read_chunk (each input chunk parsed), after_read (all input
 * read), after_files (files written, not yet published), before_rename
 * (just before the atomic rename), db_after_copy (inside the database
 * transaction, ledger copied, before COMMIT), after_commit (database
 * committed, files not yet published).
 */
#ifndef PAYRUN_FAULT_H
#define PAYRUN_FAULT_H

#include <stdbool.h>

#ifdef PAYRUN_FAULT_POINTS
void fault_point(const char *name);
#define FAULT_POINTS_BUILT true
#else
#define fault_point(name)  ((void) 0)
#define FAULT_POINTS_BUILT false
#endif

#endif
