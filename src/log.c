/*
 * log.c: leveled log lines on stderr.
 *
 * The level and the job name are configuration set once from the command
 * line or the job file before any thread starts.  Lines come from the
 * reader and worker threads too: one mutex covers what a line updates (the
 * first error, the last warning held back) and its single fprintf, so
 * lines never interleave.  A line is
 *
 *	2026-12-01T00:45:02Z payrun[nightly-settlement]: error: ...
 *
 * with the UTC time, and "<3>" (the syslog priority) in front when stderr
 * is the journal's stream (JOURNAL_STREAM names its device and inode), so
 * that journald keeps the level.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "payrun/clock.h"
#include "payrun/log.h"
#include "payrun/banned.h"

static enum log_level  current_level = LOG_LEVEL_NOTICE;
static char            context[128];      /* "[job]" under 'payrun run', else "" */
static int             journal = -1;      /* stderr is the journal: -1 not yet known */
static unsigned        errors_logged;     /* error lines written */
static char            last_hidden[2048]; /* the last warning a quiet level kept back */
static char            first_error[2048]; /* the first error line's message */
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

static const char *const level_names[] = {
	[LOG_LEVEL_ERROR] = "error", [LOG_LEVEL_WARNING] = "warning", [LOG_LEVEL_NOTICE] = "notice",
	[LOG_LEVEL_INFO] = "info",   [LOG_LEVEL_DEBUG] = "debug",
};

/* syslog priorities: err, warning, notice, info, debug */
static const int level_priority[] = { 3, 4, 5, 6, 7 };

void
log_set_level(enum log_level level)
{
	current_level = level;
}

enum log_level
log_get_level(void)
{
	return current_level;
}

bool
log_enabled(enum log_level level)
{
	return level <= current_level;
}

void
log_set_job(const char *name)
{
	if (name && name[0])
		snprintf(context, sizeof(context), "[%s]", name);
	else
		context[0] = '\0';
}

/* Is stderr the stream systemd connected to the journal? */
static bool
stderr_is_journal(void)
{
	const char        *js = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat        st;
	char               end;

	return js && sscanf(js, "%llu:%llu%c", &dev, &ino, &end) == 2 && fstat(2, &st) == 0 &&
		   (unsigned long long) st.st_dev == dev && (unsigned long long) st.st_ino == ino;
}

void
log_msg(enum log_level level, const char *fmt, ...)
{
	char    line[2048];
	char    now[TIMESTAMP_FORMAT_LEN];
	char    prio[8] = "";
	va_list ap;

	if (!log_enabled(level) && level != LOG_LEVEL_WARNING)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	clock_utc_text(now);
	pthread_mutex_lock(&log_lock);
	if (!log_enabled(level))
		memcpy(last_hidden, line, sizeof(line));
	else
	{
		if (level == LOG_LEVEL_ERROR && errors_logged++ == 0)
			memcpy(first_error, line, sizeof(line));
		if (journal < 0)
			journal = stderr_is_journal();
		if (journal)
			snprintf(prio, sizeof(prio), "<%d>", level_priority[level]);
		fprintf(stderr, "%s%s payrun%s: %s: %s\n", prio, now, context, level_names[level], line);
	}
	pthread_mutex_unlock(&log_lock);
}

const char *
log_first_error(void)
{
	const char *e;

	/* read once the threads that log are gone (the run log is written at the end) */
	pthread_mutex_lock(&log_lock);
	e = errors_logged > 0 ? first_error : NULL;
	pthread_mutex_unlock(&log_lock);
	return e;
}

void
log_exit_reason(int status)
{
	char     hidden[sizeof(last_hidden)];
	unsigned errors;

	pthread_mutex_lock(&log_lock);
	errors = errors_logged;
	memcpy(hidden, last_hidden, sizeof(hidden));
	pthread_mutex_unlock(&log_lock);
	if (status == 0 || errors > 0)
		return;
	/* -q showed nothing: the reason still goes out */
	if (hidden[0])
		log_error("%s", hidden);
	else
		log_error("failed with exit status %d", status);
}
