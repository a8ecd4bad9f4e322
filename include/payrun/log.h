/*
 * log.h: leveled log lines on stderr ("2026-12-01T00:45:02Z payrun: error:
 * ..."; with the job's name under 'payrun run', and journald's priority
 * prefix when stderr is the journal).  Normal output (reports, listings)
 * goes to stdout and never through here.
 */
#ifndef PAYRUN_LOG_H
#define PAYRUN_LOG_H

#include <stdbool.h>

enum log_level
{
	LOG_LEVEL_ERROR = 0,
	LOG_LEVEL_WARNING,
	LOG_LEVEL_NOTICE, /* default */
	LOG_LEVEL_INFO,   /* -v */
	LOG_LEVEL_DEBUG   /* -vv */
};

void           log_set_level(enum log_level level);
enum log_level log_get_level(void);
bool           log_enabled(enum log_level level);
/* The message of the first error line written, or NULL: for the run log. */
const char *log_first_error(void);

/* The job whose lines these are ("payrun[NAME]: ..."); NULL: none. */
void log_set_job(const char *name);

/*
 * At exit with status: if no error line was written (-q keeps warnings
 * back), writes the last warning kept back, or the status, as an error, so
 * that a non-zero exit always says why.
 */
void log_exit_reason(int status);

void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_error(...)   log_msg(LOG_LEVEL_ERROR, __VA_ARGS__)
#define log_warning(...) log_msg(LOG_LEVEL_WARNING, __VA_ARGS__)
#define log_notice(...)  log_msg(LOG_LEVEL_NOTICE, __VA_ARGS__)
#define log_info(...)    log_msg(LOG_LEVEL_INFO, __VA_ARGS__)
#define log_debug(...)   log_msg(LOG_LEVEL_DEBUG, __VA_ARGS__)

#endif
