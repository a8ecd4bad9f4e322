/*
 * interrupt.h: SIGINT and SIGTERM stop a run at its next safe point.
 *
 * The handler only records the signal (and cancels a running query with
 * the registered callback, which must be async-signal-safe: libpq's
 * PQcancel is).  The work checks interrupt_pending() between chunks, rows,
 * steps and periods, undoes what it has not published, writes its run-log
 * line and exits 128 + the signal number: 130 for SIGINT, 143 for SIGTERM.
 * A second signal, before the run has stopped, ends the process at once
 * (the handler is reset): what was not published is a temporary directory
 * that the next run removes.
 *
 * The flag is the process's one piece of mutable global state besides the
 * configuration: a signal handler has nowhere else to put it.
 */
#ifndef PAYRUN_INTERRUPT_H
#define PAYRUN_INTERRUPT_H

#include <stdbool.h>

#include "payrun/exitcode.h"

/* Installs the handlers for SIGINT and SIGTERM (main, once). */
void interrupt_install(void);

/* Has SIGINT or SIGTERM arrived? */
bool interrupt_pending(void);

/* The exit status for the signal that arrived: 130 or 143. */
enum payrun_exit interrupt_exit(void);

/* "SIGINT" or "SIGTERM", for messages and the run log. */
const char *interrupt_name(void);

/*
 * Called from the handler while registered (NULL fn: none), e.g. to cancel
 * the query in progress.  fn must be async-signal-safe.
 */
void interrupt_on_signal(void (*fn)(void *arg), void *arg);

/*
 * The exit status of a step that returned rc: a failure while a signal is
 * pending was the stop (the interrupted status), and so is success when
 * stop is true (a safe point between steps).
 */
enum payrun_exit interrupt_status(enum payrun_exit rc, bool stop);

#endif
