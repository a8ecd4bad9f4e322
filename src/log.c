/*
 * log.c: leveled log lines on stderr.
 *
 * The level is configuration set once from the command line before any
 * thread starts; each line is written with a single fprintf so lines from
 * the reader thread do not interleave mid-line.
 */
#include <stdarg.h>
#include <stdio.h>

#include "payrun/log.h"
#include "payrun/banned.h"

static enum log_level current_level = LOG_LEVEL_NOTICE;

static const char *const level_names[] = {
	[LOG_LEVEL_ERROR] = "error", [LOG_LEVEL_WARNING] = "warning", [LOG_LEVEL_NOTICE] = "notice",
	[LOG_LEVEL_INFO] = "info",   [LOG_LEVEL_DEBUG] = "debug",
};

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
log_msg(enum log_level level, const char *fmt, ...)
{
	char    line[2048];
	va_list ap;

	if (!log_enabled(level))
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	fprintf(stderr, "payrun: %s: %s\n", level_names[level], line);
}
