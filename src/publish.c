/*
 * publish.c: lock, temporary directory and atomic rename (see publish.h).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "payrun/clock.h"
#include "payrun/fault.h"
#include "payrun/log.h"
#include "payrun/mem.h"
#include "payrun/numparse.h"
#include "payrun/outdir.h"
#include "payrun/publish.h"
#include "payrun/banned.h"

#define TMP_PREFIX ".tmp-"

static bool
fsync_fd(int fd, const char *what)
{
	if (fsync(fd) != 0)
	{
		log_error("could not fsync '%s': %s", what, strerror(errno));
		return false;
	}
	return true;
}

/* Removes every entry of a temporary directory (flat: we only write files). */
static void
remove_dir_contents(int dirfd)
{
	int            fd = dup(dirfd);
	DIR           *d;
	struct dirent *de;

	if (fd < 0 || (d = fdopendir(fd)) == NULL)
	{
		if (fd >= 0)
			close(fd);
		return;
	}
	while ((de = readdir(d)) != NULL)
	{
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		(void) unlinkat(dirfd, de->d_name, 0);
	}
	closedir(d);
}

static void
remove_tmp_dir(int parent_fd, const char *name)
{
	int fd = openat(parent_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0 && (errno == ENOTDIR || errno == ELOOP))
	{
		/* not a directory (a planted symlink or file): remove the name only */
		if (unlinkat(parent_fd, name, 0) != 0 && errno != ENOENT)
			log_warning("could not remove '%s': %s", name, strerror(errno));
		return;
	}
	if (fd >= 0)
	{
		remove_dir_contents(fd);
		close(fd);
	}
	if (unlinkat(parent_fd, name, AT_REMOVEDIR) != 0 && errno != ENOENT)
		log_warning("could not remove temporary directory '%s': %s", name, strerror(errno));
}

/* Under the lock, any temporary directory is a crashed run's leftover. */
static void
remove_stale_tmp_dirs(struct publish *pub)
{
	int            fd = dup(pub->out_fd);
	DIR           *d;
	struct dirent *de;

	if (fd < 0 || (d = fdopendir(fd)) == NULL)
	{
		if (fd >= 0)
			close(fd);
		return;
	}
	while ((de = readdir(d)) != NULL)
	{
		if (strncmp(de->d_name, TMP_PREFIX, strlen(TMP_PREFIX)) == 0)
		{
			log_info("removing leftover temporary directory '%s/%s' of an interrupted run",
					 pub->out_dir, de->d_name);
			remove_tmp_dir(pub->out_fd, de->d_name);
		}
	}
	closedir(d);
}

int
publish_latest_version(int out_fd, const char *label)
{
	int            fd = openat(out_fd, label, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	DIR           *d;
	struct dirent *de;
	int            latest = 0;

	if (fd < 0)
		return errno == ENOENT ? 0 : -1;
	if ((d = fdopendir(fd)) == NULL)
	{
		close(fd);
		return -1;
	}
	while ((de = readdir(d)) != NULL)
	{
		uint64_t v;

		if (de->d_name[0] == 'v' && de->d_name[1] >= '1' && de->d_name[1] <= '9' &&
			numparse_u64(de->d_name + 1, strlen(de->d_name + 1), 1, PUBLISH_MAX_VERSION, &v) &&
			(int) v > latest)
			latest = (int) v;
	}
	closedir(d);
	return latest;
}

bool
publish_overlap(int out_fd, const struct period *p, char *found, size_t len)
{
	struct period other[24];
	size_t        n = period_overlapping(p, other);

	for (size_t i = 0; i < n; i++)
	{
		if (publish_latest_version(out_fd, other[i].label) != 0)
		{
			snprintf(found, len, "%s", other[i].label);
			return true;
		}
	}
	return false;
}

int
publish_latest_version_at(const char *out_dir, const char *label)
{
	int fd = open(out_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int latest;

	if (fd < 0)
		return errno == ENOENT ? 0 : -1;
	latest = publish_latest_version(fd, label);
	close(fd);
	return latest;
}

void
publish_earliest_settled(const char *out_dir, enum period_length length,
						 char label[PERIOD_LABEL_MAX])
{
	DIR           *d = opendir(out_dir);
	struct dirent *de;
	size_t         want = length == PERIOD_LENGTH_HOUR ? 13 : 10;

	label[0] = '\0';
	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL)
	{
		struct period p;
		char          err[128];

		if (strlen(de->d_name) != want || (label[0] != '\0' && strcmp(de->d_name, label) >= 0) ||
			!period_parse(de->d_name, length, &p, err, sizeof(err)))
			continue;
		if (publish_latest_version(dirfd(d), de->d_name) > 0)
			memcpy(label, p.label, want + 1); /* want < PERIOD_LABEL_MAX */
	}
	closedir(d);
}

enum payrun_exit
publish_begin(struct publish *pub, const char *out_dir, const char *label, enum publish_mode mode,
			  int exact)
{
	char shown[4200];

	memset(pub, 0, sizeof(*pub));
	pub->out_fd = pub->lock_fd = pub->tmp_fd = -1;
	pub->out_dir = mem_strdup(out_dir);
	snprintf(pub->label, sizeof(pub->label), "%s", label);

	pub->out_fd = outdir_open(out_dir, true);
	if (pub->out_fd < 0)
		return PAYRUN_EXIT_INTERNAL;
	snprintf(shown, sizeof(shown), "%s/%s", out_dir, PUBLISH_LOCK_NAME);
	pub->lock_fd = outdir_open_file(pub->out_fd, PUBLISH_LOCK_NAME, O_RDWR | O_CREAT, shown);
	if (pub->lock_fd < 0)
		return PAYRUN_EXIT_INTERNAL;
	if (flock(pub->lock_fd, LOCK_EX | LOCK_NB) != 0)
	{
		if (errno == EWOULDBLOCK)
		{
			log_error("another payrun run holds the lock on '%s'", out_dir);
			return PAYRUN_EXIT_CONFLICT;
		}
		log_error("could not lock '%s/%s': %s", out_dir, PUBLISH_LOCK_NAME, strerror(errno));
		return PAYRUN_EXIT_INTERNAL;
	}

	/* under the lock, the versions present cannot change */
	pub->previous = publish_latest_version(pub->out_fd, label);
	if (pub->previous < 0)
	{
		log_error("could not list '%s/%s': %s", out_dir, label, strerror(errno));
		return PAYRUN_EXIT_INTERNAL;
	}
	if (mode == PUBLISH_FIRST && pub->previous > 0)
	{
		log_error("period %s is already settled: '%s/%s/v%d' exists (use 'payrun rerun' for a new "
				  "version)",
				  label, out_dir, label, pub->previous);
		return PAYRUN_EXIT_CONFLICT;
	}
	if (mode == PUBLISH_NEXT && pub->previous == 0)
	{
		log_error("period %s has no settled version in '%s' to rerun (settle it first)", label,
				  out_dir);
		return PAYRUN_EXIT_CONFLICT;
	}
	if (mode == PUBLISH_EXACT && pub->previous >= exact)
	{
		log_error("period %s v%d is already published in '%s'", label, exact, out_dir);
		return PAYRUN_EXIT_CONFLICT;
	}
	if (mode == PUBLISH_EXACT && pub->previous != exact - 1)
	{
		log_error("cannot export period %s v%d into '%s': its latest version there is %s%d; "
				  "export v%d first",
				  label, exact, out_dir, pub->previous ? "v" : "none, ", pub->previous,
				  pub->previous + 1);
		return PAYRUN_EXIT_CONFLICT;
	}
	pub->version = pub->previous + 1;
	snprintf(pub->final_path, sizeof(pub->final_path), "%s/%s/v%d", out_dir, label, pub->version);

	remove_stale_tmp_dirs(pub);
	snprintf(pub->tmp_name, sizeof(pub->tmp_name), TMP_PREFIX "%s-v%d-%ld", label, pub->version,
			 (long) getpid());
	if (mkdirat(pub->out_fd, pub->tmp_name, OUTDIR_MODE) != 0)
	{
		log_error("could not create temporary directory '%s/%s': %s", out_dir, pub->tmp_name,
				  strerror(errno));
		pub->tmp_name[0] = '\0';
		return PAYRUN_EXIT_INTERNAL;
	}
	pub->tmp_fd = outdir_subdir(pub->out_fd, pub->tmp_name, false, pub->tmp_name);
	if (pub->tmp_fd < 0)
		return PAYRUN_EXIT_INTERNAL;
	return PAYRUN_EXIT_OK;
}

int
publish_dirfd(const struct publish *pub)
{
	return pub->tmp_fd;
}

enum payrun_exit
publish_commit(struct publish *pub)
{
	char shown[4096];
	char vname[32];
	int  label_fd;

	if (!fsync_fd(pub->tmp_fd, pub->tmp_name))
		return PAYRUN_EXIT_INTERNAL;
	snprintf(shown, sizeof(shown), "%s/%s", pub->out_dir, pub->label);
	label_fd = outdir_subdir(pub->out_fd, pub->label, true, shown);
	if (label_fd < 0)
		return PAYRUN_EXIT_INTERNAL;
	/* the label directory's own entry must be durable before the rename */
	if (!fsync_fd(pub->out_fd, pub->out_dir))
	{
		close(label_fd);
		return PAYRUN_EXIT_INTERNAL;
	}
	snprintf(vname, sizeof(vname), "v%d", pub->version);
	fault_point("before_rename");
	if (renameat2(pub->out_fd, pub->tmp_name, label_fd, vname, RENAME_NOREPLACE) != 0)
	{
		int e = errno;

		log_error("could not publish '%s': %s", pub->final_path, strerror(e));
		close(label_fd);
		return e == EEXIST ? PAYRUN_EXIT_CONFLICT : PAYRUN_EXIT_INTERNAL;
	}
	pub->tmp_name[0] = '\0';
	close(pub->tmp_fd);
	pub->tmp_fd = -1;
	if (!fsync_fd(label_fd, shown) || !fsync_fd(pub->out_fd, pub->out_dir))
	{
		/* renamed, but durability not confirmed: report, the version stands */
		close(label_fd);
		return PAYRUN_EXIT_INTERNAL;
	}
	close(label_fd);
	return PAYRUN_EXIT_OK;
}

bool
publish_keep_failed(struct publish *pub, const char *name, char *path_out, size_t path_len)
{
	char      stamp[64];
	char      shown[4096];
	time_t    now = (time_t) clock_epoch_s();
	struct tm tm;
	int       label_fd, failed_fd, run_fd;
	bool      ok = false;

	if (pub->tmp_fd < 0)
		return false;
	gmtime_r(&now, &tm);
	snprintf(stamp, sizeof(stamp), "%04d%02d%02dT%02d%02d%02dZ-%ld", tm.tm_year + 1900,
			 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (long) getpid());
	snprintf(shown, sizeof(shown), "%s/%s", pub->out_dir, pub->label);
	label_fd = outdir_subdir(pub->out_fd, pub->label, true, shown);
	if (label_fd < 0)
		return false;
	snprintf(shown, sizeof(shown), "%s/%s/failed", pub->out_dir, pub->label);
	failed_fd = outdir_subdir(label_fd, "failed", true, shown);
	if (failed_fd >= 0)
	{
		snprintf(shown, sizeof(shown), "%s/%s/failed/%s", pub->out_dir, pub->label, stamp);
		run_fd = outdir_subdir(failed_fd, stamp, true, shown);
		if (run_fd >= 0)
		{
			if (renameat(pub->tmp_fd, name, run_fd, name) == 0)
			{
				ok = fsync_fd(run_fd, shown) && fsync_fd(failed_fd, "failed");
				snprintf(path_out, path_len, "%s/%s", shown, name);
			}
			else
				log_error("could not keep '%s' in '%s': %s", name, shown, strerror(errno));
			close(run_fd);
		}
		close(failed_fd);
	}
	close(label_fd);
	return ok;
}

void
publish_end(struct publish *pub)
{
	if (pub->tmp_fd >= 0)
		close(pub->tmp_fd);
	if (pub->tmp_name[0] != '\0' && pub->out_fd >= 0)
		remove_tmp_dir(pub->out_fd, pub->tmp_name);
	if (pub->lock_fd >= 0)
		close(pub->lock_fd); /* releases the flock */
	if (pub->out_fd >= 0)
		close(pub->out_fd);
	free(pub->out_dir);
	memset(pub, 0, sizeof(*pub));
	pub->out_fd = pub->lock_fd = pub->tmp_fd = -1;
}
