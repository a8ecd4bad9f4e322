/*
 * outdir.c: the output directory and what payrun creates under it (see
 * outdir.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "payrun/log.h"
#include "payrun/outdir.h"
#include "payrun/paths.h"
#include "payrun/banned.h"

/* mkdir -p: creates path and its missing parents. */
static bool
make_dirs(const char *path)
{
	char   buf[4096];
	size_t len = strlen(path);

	if (len == 0 || len >= sizeof(buf))
	{
		errno = len ? ENAMETOOLONG : ENOENT;
		return false;
	}
	memcpy(buf, path, len + 1);
	for (char *p = buf + 1; *p; p++)
	{
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, OUTDIR_MODE) != 0 && errno != EEXIST)
			return false;
		*p = '/';
	}
	return mkdir(buf, OUTDIR_MODE) == 0 || errno == EEXIST;
}

int
outdir_open(const char *path, bool create)
{
	int fd;

	if (create && !make_dirs(path))
	{
		log_error("could not create output directory '%s': %s", path, strerror(errno));
		return -1;
	}
	fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 && (create || errno != ENOENT))
	{
		int e = errno;

		log_error("could not open output directory '%s': %s", path,
				  e == ENOTDIR ? "it is not a directory" : strerror(e));
		errno = e;
	}
	return fd;
}

int
outdir_subdir(int dirfd, const char *name, bool create, const char *shown)
{
	int fd;

	if (create && mkdirat(dirfd, name, OUTDIR_MODE) != 0 && errno != EEXIST)
	{
		log_error("could not create directory '%s': %s", shown, strerror(errno));
		return -1;
	}
	fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		log_error("could not open directory '%s': %s", shown,
				  errno == ELOOP || errno == ENOTDIR
					  ? "it is not a directory (a symlink is not followed)"
					  : strerror(errno));
	return fd;
}

int
outdir_open_file(int dirfd, const char *name, int flags, const char *shown)
{
	int         fd = openat(dirfd, name, flags | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, OUTFILE_MODE);
	struct stat st;
	const char *why;

	if (fd < 0)
	{
		int e = errno;

		/* a FIFO without a reader is ENXIO: say what is there */
		if (e == ENXIO && fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
			paths_not_regular(st.st_mode))
			log_error("could not open '%s': %s", shown, paths_not_regular(st.st_mode));
		else
			log_error("could not open '%s': %s", shown,
					  e == ELOOP ? "it is a symlink, which payrun does not follow here"
								 : strerror(e));
		return -1;
	}
	if (fstat(fd, &st) != 0)
	{
		log_error("could not open '%s': %s", shown, strerror(errno));
		close(fd);
		return -1;
	}
	why = paths_not_regular(st.st_mode);
	if (why)
	{
		log_error("could not open '%s': %s", shown, why);
		close(fd);
		return -1;
	}
	(void) fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	return fd;
}
