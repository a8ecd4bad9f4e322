/*
 * source.c: what every source reports (see source.h).
 */
#include <string.h>
#include <sys/stat.h>

#include "payrun/log.h"
#include "payrun/source.h"
#include "payrun/banned.h"

bool
source_reject_ratio_ok(const struct settings_ratio *max, const struct source_counts *c,
					   const char *what, const char *kept)
{
	if (!settings_ratio_exceeded(max, c->rejected, c->rows_read))
		return true;
	log_error("%s%s%llu of %llu rows rejected, more than the maximum reject ratio %s; %s%s%s",
			  what ? what : "", what ? ": " : "", (unsigned long long) c->rejected,
			  (unsigned long long) c->rows_read, max->text,
			  kept ? "rejects kept in '" : "the rejects could not be kept", kept ? kept : "",
			  kept ? "'" : "");
	return false;
}

bool
source_distinct_paths(const char *const *paths, size_t npaths)
{
	for (size_t i = 0; i < npaths; i++)
	{
		struct stat a;

		for (size_t j = i + 1; j < npaths && strcmp(paths[i], "-") == 0; j++)
		{
			if (strcmp(paths[j], "-") == 0)
			{
				log_error("'-' (standard input) is given twice: it can be read once");
				return false;
			}
		}
		if (stat(paths[i], &a) != 0 || !S_ISREG(a.st_mode))
			continue; /* reading it says what is wrong */
		for (size_t j = i + 1; j < npaths; j++)
		{
			struct stat b;

			if (stat(paths[j], &b) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino)
			{
				log_error("'%s' and '%s' are the same file: give each export once", paths[i],
						  paths[j]);
				return false;
			}
		}
	}
	return true;
}

bool
source_distinct_files(const struct source_file *files, size_t nfiles)
{
	for (size_t i = 0; i < nfiles; i++)
	{
		for (size_t j = i + 1; j < nfiles; j++)
		{
			if (files[i].sha256[0] && strcmp(files[i].sha256, files[j].sha256) == 0)
			{
				log_error("'%s' and '%s' hold the same bytes (sha256 %s): the same export given "
						  "twice; give it once",
						  files[i].path, files[j].path, files[i].sha256);
				return false;
			}
		}
	}
	return true;
}
