/*
 * fuzz_common.h: helpers shared by the libFuzzer targets in tests/fuzz/.
 *
 * A failed property prints its message on file descriptor 2 and aborts, so
 * libFuzzer saves the input as a crasher.  The modules' own log lines go to
 * the stdio stream stderr, which quiet_logs() points at /dev/null: libFuzzer
 * prints through the stream it captured at start-up and the sanitizers
 * write to descriptor 2, so neither is silenced.  FUZZ_VERBOSE=1 in the
 * environment keeps the log lines (to see why a crasher was rejected).
 */
#ifndef PAYRUN_FUZZ_COMMON_H
#define PAYRUN_FUZZ_COMMON_H

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define FUZZ_UNUSED __attribute__((unused))

__attribute__((format(printf, 1, 2), noreturn, unused)) static void
fuzz_fail(const char *fmt, ...)
{
	va_list ap;

	dprintf(STDERR_FILENO, "fuzz property failed: ");
	va_start(ap, fmt);
	vdprintf(STDERR_FILENO, fmt, ap);
	va_end(ap);
	dprintf(STDERR_FILENO, "\n");
	abort();
}

#define fuzz_require(cond, ...)                                                                    \
	do                                                                                             \
	{                                                                                              \
		if (!(cond))                                                                               \
			fuzz_fail(__VA_ARGS__);                                                                \
	} while (0)

/* Allocation that aborts rather than returning NULL (the harness's own). */
FUZZ_UNUSED static void *
fuzz_realloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (p == NULL)
		fuzz_fail("out of memory (%zu bytes)", n);
	return p;
}

/* A copy of data[0..size) in a buffer of exactly size + extra bytes. */
FUZZ_UNUSED static char *
fuzz_copy(const uint8_t *data, size_t size, size_t extra)
{
	char *p = fuzz_realloc(NULL, size + extra);

	if (size)
		memcpy(p, data, size);
	return p;
}

/* FNV-1a of the input: picks split points and options reproducibly. */
FUZZ_UNUSED static uint64_t
fuzz_hash(const uint8_t *data, size_t size)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (size_t i = 0; i < size; i++)
		h = (h ^ data[i]) * 0x100000001b3ULL;
	return h;
}

/* splitmix64 step: more numbers from one seed. */
FUZZ_UNUSED static uint64_t
fuzz_next(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Sends the modules' log lines to /dev/null unless FUZZ_VERBOSE is set. */
FUZZ_UNUSED static void
fuzz_quiet_logs(void)
{
	const char *v = getenv("FUZZ_VERBOSE");
	FILE       *devnull;

	if (v != NULL && v[0] != '\0' && strcmp(v, "0") != 0)
		return;
	devnull = fopen("/dev/null", "w");
	if (devnull != NULL)
		stderr = devnull;
}

/*
 * A file the loaders can open by path, rewritten for every input: a memfd
 * named through /proc/self/fd when that works, else a file in /dev/shm or
 * $TMPDIR, removed at exit.
 */
struct fuzz_file
{
	int  fd;
	char path[256];
	char unlink_path[256]; /* "" for the memfd */
};

static struct fuzz_file fuzz_file_state = { -1, "", "" };

static void
fuzz_file_cleanup(void)
{
	if (fuzz_file_state.unlink_path[0] != '\0')
		unlink(fuzz_file_state.unlink_path);
}

FUZZ_UNUSED static void
fuzz_file_open(const char *name)
{
	struct fuzz_file *f = &fuzz_file_state;
	int               fd = memfd_create(name, MFD_CLOEXEC);

	if (fd >= 0)
	{
		snprintf(f->path, sizeof(f->path), "/proc/self/fd/%d", fd);
		if (access(f->path, R_OK) == 0)
		{
			f->fd = fd;
			return;
		}
		close(fd);
	}
	{
		const char *dirs[] = { "/dev/shm", getenv("TMPDIR"), "/tmp" };

		for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++)
		{
			if (dirs[i] == NULL || dirs[i][0] == '\0')
				continue;
			snprintf(f->path, sizeof(f->path), "%s/payrun-%s-XXXXXX", dirs[i], name);
			fd = mkstemp(f->path);
			if (fd >= 0)
			{
				f->fd = fd;
				snprintf(f->unlink_path, sizeof(f->unlink_path), "%s", f->path);
				atexit(fuzz_file_cleanup);
				return;
			}
		}
	}
	fuzz_fail("could not create a scratch file: %s", strerror(errno));
}

/* Replaces the scratch file's contents with data[0..size); returns its path. */
FUZZ_UNUSED static const char *
fuzz_file_write(const uint8_t *data, size_t size)
{
	struct fuzz_file *f = &fuzz_file_state;
	size_t            done = 0;

	if (f->fd < 0)
		fuzz_fail("fuzz_file_open was not called");
	if (ftruncate(f->fd, 0) != 0)
		fuzz_fail("ftruncate: %s", strerror(errno));
	while (done < size)
	{
		ssize_t n = pwrite(f->fd, data + done, size - done, (off_t) done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			fuzz_fail("pwrite: %s", strerror(errno));
		done += (size_t) n;
	}
	return f->path;
}

#endif
