/*
 * runlog.c: the append-only run log (see runlog.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "payrun/clock.h"
#include "payrun/amount.h"
#include "payrun/log.h"
#include "payrun/manifest.h"
#include "payrun/outdir.h"
#include "payrun/runlog.h"
#include "payrun/banned.h"

bool
runlog_append(const char *out_dir, json_t *entry)
{
	char    path[4200];
	char    now[TIMESTAMP_FORMAT_LEN];
	char   *line;
	size_t  len;
	int     fd;
	int     dir_fd;
	ssize_t n;

	clock_utc_text(now);
	json_object_set_new(entry, "at", json_string(now));
	line = json_dumps(entry, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(6));
	if (line == NULL)
		return false;
	len = strlen(line);
	line = realloc(line, len + 2);
	if (line == NULL)
		return false;
	line[len++] = '\n';
	line[len] = '\0';
	snprintf(path, sizeof(path), "%s/%s", out_dir, RUNLOG_NAME);
	dir_fd = outdir_open(out_dir, false);
	if (dir_fd < 0)
	{
		/* a run that failed before OUT was made: nowhere to log, and nothing in it */
		if (errno == ENOENT)
			log_debug("no run log: '%s' does not exist", out_dir);
		free(line);
		return false;
	}
	fd = outdir_open_file(dir_fd, RUNLOG_NAME, O_WRONLY | O_CREAT | O_APPEND, path);
	close(dir_fd);
	if (fd < 0)
	{
		log_warning("the run was not recorded in the run log '%s'", path);
		free(line);
		return false;
	}
	/* one write: concurrent appenders never interleave within a line */
	n = write(fd, line, len);
	if (n != (ssize_t) len || fsync(fd) != 0)
		log_warning("could not append to run log '%s': %s", path,
					n < 0 ? strerror(errno) : "short write");
	close(fd);
	free(line);
	return n == (ssize_t) len;
}

/*
 * An amount of the log: a decimal string (or an integer, as logs written
 * before amounts were strings have); with plus, a sign on positive ones.
 */
static void
amount_text(json_t *j, bool plus, char *buf, size_t len)
{
	const char *s = json_string_value(j);

	if (s)
		snprintf(buf, len, "%s%s", plus && s[0] != '-' && strcmp(s, "0") != 0 ? "+" : "", s);
	else if (json_is_integer(j))
		snprintf(buf, len, plus ? "%+lld" : "%lld", (long long) json_integer_value(j));
}

static const char *
str(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s ? s : "";
}

enum payrun_exit
runlog_read(const char *out_dir, runlog_fn fn, void *arg, bool *found)
{
	char          path[4200];
	struct stat   st;
	FILE         *f;
	char         *line = NULL;
	size_t        cap = 0;
	unsigned long lineno = 0;
	bool          go_on = true;
	bool          failed;
	int           dir_fd = outdir_open(out_dir, false);
	int           fd = -1;
	int           open_errno = 0;

	*found = false;
	if (dir_fd < 0)
	{
		open_errno = errno;
		if (open_errno == ENOENT)
			log_error("could not open output directory '%s': %s", out_dir, strerror(open_errno));
		return open_errno == ENOENT || open_errno == ENOTDIR ? PAYRUN_EXIT_USAGE
															 : PAYRUN_EXIT_INTERNAL;
	}
	snprintf(path, sizeof(path), "%s/%s", out_dir, RUNLOG_NAME);
	/* read as appended: never through a symlink, never waiting on a FIFO */
	if (fstatat(dir_fd, RUNLOG_NAME, &st, AT_SYMLINK_NOFOLLOW) != 0)
	{
		open_errno = errno;
		if (open_errno != ENOENT)
			log_error("could not open run log '%s': %s", path, strerror(open_errno));
	}
	else if ((fd = outdir_open_file(dir_fd, RUNLOG_NAME, O_RDONLY, path)) < 0)
		open_errno = EIO; /* logged */
	close(dir_fd);
	if (fd < 0)
		return open_errno == ENOENT ? PAYRUN_EXIT_OK : PAYRUN_EXIT_INTERNAL;
	f = fdopen(fd, "r");
	if (f == NULL)
	{
		log_error("could not read run log '%s': %s", path, strerror(errno));
		close(fd);
		return PAYRUN_EXIT_INTERNAL;
	}
	*found = true;
	while (go_on && getline(&line, &cap, f) > 0)
	{
		json_error_t err;
		json_t      *e;

		lineno++;
		e = json_loads(line, 0, &err);
		if (e == NULL || !json_is_object(e))
			log_warning("%s:%lu: unreadable line skipped (%s)", path, lineno,
						e ? "not a JSON object" : err.text);
		else
			go_on = fn(arg, e);
		json_decref(e);
	}
	failed = ferror(f) != 0;
	if (failed)
		log_error("could not read run log '%s': %s", path, strerror(errno));
	free(line);
	fclose(f);
	return failed ? PAYRUN_EXIT_INTERNAL : PAYRUN_EXIT_OK;
}

/* What runlog_print prints, entry by entry. */
struct printer
{
	const char *period; /* NULL: every entry */
	bool        json;
	FILE       *out;
	int         shown;
};

static void
print_row(FILE *out, json_t *e)
{
	char    v[16] = "-";
	char    paid[AMOUNT_TEXT_LEN] = "-";
	char    forf[AMOUNT_TEXT_LEN] = "-";
	char    delta[AMOUNT_TEXT_LEN] = "-";
	char    rej[24] = "-";
	json_t *j;

	if ((j = json_object_get(e, "version")) && json_integer_value(j) > 0)
		snprintf(v, sizeof(v), "%lld", (long long) json_integer_value(j));
	amount_text(json_object_get(e, "paid"), false, paid, sizeof(paid));
	amount_text(json_object_get(e, "forfeited"), false, forf, sizeof(forf));
	amount_text(json_object_get(e, "delta"), true, delta, sizeof(delta));
	if ((j = json_object_get(e, "rejected")))
		snprintf(rej, sizeof(rej), "%lld", (long long) json_integer_value(j));
	fprintf(out, "%-20s %-8s %-13s %3s %-10s %4lld %16s %14s %14s %9s %8.2f  %s\n", str(e, "at"),
			str(e, "command"), str(e, "period"), v, str(e, "status"),
			(long long) json_integer_value(json_object_get(e, "exit")), paid, forf, delta, rej,
			json_number_value(json_object_get(e, "wall_s")), str(e, "note"));
}

static bool
print_entry(void *arg, json_t *e)
{
	struct printer *p = arg;

	if (p->period && strcmp(str(e, "period"), p->period) != 0)
		return true;
	if (p->json)
	{
		/* as runs.log holds it: one compact object per line */
		if (json_dumpf(e, p->out, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(6)) == 0)
			fputc('\n', p->out);
	}
	else
	{
		if (p->shown == 0)
			fprintf(p->out, "%-20s %-8s %-13s %3s %-10s %4s %16s %14s %14s %9s %8s  %s\n", "at",
					"command", "period", "v", "status", "exit", "paid", "forfeited", "delta",
					"rejected", "wall s", "note");
		print_row(p->out, e);
	}
	p->shown++;
	return true;
}

enum payrun_exit
runlog_print(const char *out_dir, const char *period, bool json, FILE *out)
{
	struct printer   p = { .period = period, .json = json, .out = out };
	bool             found;
	enum payrun_exit rc = runlog_read(out_dir, print_entry, &p, &found);

	if (rc != PAYRUN_EXIT_OK)
		return rc;
	/* JSON lines: no runs is no lines */
	if (p.shown == 0 && !json)
		fprintf(out, "no runs%s%s recorded in '%s'\n", period ? " of " : "", period ? period : "",
				out_dir);
	if (fflush(out) != 0 || ferror(out))
	{
		log_error("could not write the history: %s", strerror(errno));
		return PAYRUN_EXIT_INTERNAL;
	}
	return PAYRUN_EXIT_OK;
}
