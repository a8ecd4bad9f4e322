/*
 * outfile.c: digested, fsync'ed output files (see outfile.h).
 *
 * Write errors are sticky: the first is logged, later writes are dropped,
 * and outfile_close() reports failure, so callers check once at the end.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "payrun/log.h"
#include "payrun/mem.h"
#include "payrun/outfile.h"
#include "payrun/banned.h"

bool
outfile_create(struct outfile *of, int dirfd, const char *name)
{
	memset(of, 0, sizeof(*of));
	of->fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
					OUTFILE_MODE);
	if (of->fd < 0)
	{
		log_error("could not create '%s': %s", name, strerror(errno));
		return false;
	}
	of->name = mem_strdup(name);
	of->buf = mem_alloc(OUTFILE_BUFSIZE);
	sha256_init(&of->digest);
	return true;
}

static void
flush_buffer(struct outfile *of)
{
	size_t off = 0;

	if (of->failed)
	{
		of->used = 0;
		return;
	}
	while (off < of->used)
	{
		ssize_t n = write(of->fd, of->buf + off, of->used - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
		{
			log_error("could not write '%s': %s", of->name,
					  n < 0 ? strerror(errno) : "no space written");
			of->failed = true;
			break;
		}
		off += (size_t) n;
	}
	of->used = 0;
}

void
outfile_write(struct outfile *of, const void *data, size_t len)
{
	const char *p = data;

	sha256_update(&of->digest, data, len);
	of->bytes += len;
	while (len > 0)
	{
		size_t room = OUTFILE_BUFSIZE - of->used;
		size_t n = len < room ? len : room;

		memcpy(of->buf + of->used, p, n);
		of->used += n;
		p += n;
		len -= n;
		if (of->used == OUTFILE_BUFSIZE)
			flush_buffer(of);
	}
}

void
outfile_puts(struct outfile *of, const char *s)
{
	outfile_write(of, s, strlen(s));
}

static void
csvout_write(void *arg, const void *data, size_t len)
{
	outfile_write(arg, data, len);
}

struct csvout
outfile_csvout(struct outfile *of)
{
	return (struct csvout){ .write = csvout_write, .arg = of };
}

bool
outfile_close(struct outfile *of)
{
	bool ok;

	flush_buffer(of);
	ok = !of->failed;
	if (ok && fsync(of->fd) != 0)
	{
		log_error("could not fsync '%s': %s", of->name, strerror(errno));
		ok = false;
	}
	if (close(of->fd) != 0 && ok)
	{
		log_error("could not close '%s': %s", of->name, strerror(errno));
		ok = false;
	}
	of->fd = -1;
	sha256_final_hex(&of->digest, of->sha256);
	sha256_release(&of->digest);
	free(of->buf);
	of->buf = NULL;
	free(of->name);
	of->name = NULL;
	return ok;
}

void
outfile_discard(struct outfile *of)
{
	if (of->fd >= 0)
		close(of->fd);
	of->fd = -1;
	if (of->digest.ctx)
		sha256_release(&of->digest);
	free(of->buf);
	of->buf = NULL;
	free(of->name);
	of->name = NULL;
}
