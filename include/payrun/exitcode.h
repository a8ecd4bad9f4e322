/*
 * exitcode.h: the process exit statuses of payrun.  Each means one thing;
 * cron wrappers and operators rely on them (README, "Exit status").
 */
#ifndef PAYRUN_EXITCODE_H
#define PAYRUN_EXITCODE_H

#include <stdbool.h>

enum payrun_exit
{
	PAYRUN_EXIT_OK = 0,       /* settled (or nothing to do) */
	PAYRUN_EXIT_INTERNAL = 1, /* internal error: bug, out of memory, output I/O */
	PAYRUN_EXIT_USAGE = 2,    /* bad command line, option value or config file */
	PAYRUN_EXIT_DATA = 3,     /* input data error: unreadable/corrupt file, reject ratio */
	PAYRUN_EXIT_DB = 4,       /* database error */
	PAYRUN_EXIT_CONFLICT = 5, /* period already settled, or another run holds the lock */
	PAYRUN_EXIT_SIGINT = 130, /* stopped by SIGINT at a safe point: nothing half-published */
	PAYRUN_EXIT_SIGTERM = 143 /* stopped by SIGTERM, likewise */
};

/* Was the run stopped by a signal? */
static inline bool
payrun_exit_interrupted(enum payrun_exit rc)
{
	return rc == PAYRUN_EXIT_SIGINT || rc == PAYRUN_EXIT_SIGTERM;
}

#endif
