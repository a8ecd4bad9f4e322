/*
 * input.c: gzip or plain export files read ahead by a thread (see input.h).
 *
 * The reader thread owns the file descriptor and the inflater; the
 * consumer owns the chunks it was handed until it releases them.  They meet
 * only at the ring counters, under one mutex.  Errors found by the thread
 * are stored as a message and logged by the consumer, so the message comes
 * out in order with the consumer's own.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "payrun/inflater.h"
#include "payrun/input.h"
#include "payrun/interrupt.h"
#include "payrun/log.h"
#include "payrun/mem.h"
#include "payrun/paths.h"
#include "payrun/sha256.h"
#include "payrun/banned.h"

#define RING_SLOTS 4
#define READ_SIZE  (256 * 1024)

struct input
{
	char                *path; /* owned */
	int                  fd;
	struct input_options opts;
	bool                 gzip;
	bool                 stream;   /* a pipe: polled, so that a cancel is seen */
	uint64_t             size;     /* st_size of a regular file, else 0 */
	unsigned char        peek[2];  /* the magic bytes, read at open */
	size_t               peek_len; /* of peek, not yet handed to the reader */

	/* reader thread's own state */
	pthread_t       thread;
	bool            thread_started;
	struct inflater inf;         /* gzip: zlib or ISA-L (inflater.h) */
	bool            member_open; /* gzip: inside a member */
	bool            file_eof;    /* gzip: read(2) said end of file */
	unsigned char  *rbuf;        /* owned, READ_SIZE + 1: compressed input, and room to keep one
							* byte of a member header split across reads in front of it */
	struct sha256   digest;

	/* ring, shared under lock */
	pthread_mutex_t    lock;
	pthread_cond_t     cond;
	char              *slab[RING_SLOTS]; /* owned, HEADROOM + CHUNK + PAD each */
	struct input_chunk chunks[RING_SLOTS];
	uint64_t           produced; /* chunks filled */
	uint64_t           consumed; /* chunks handed out */
	uint64_t           released; /* chunks given back */
	bool               done;     /* thread finished: no more chunks */
	bool               failed;   /* with errmsg */
	bool               cancel;   /* consumer wants the thread to stop */
	char               errmsg[512];
	bool               defer;    /* input_defer_errors: input_next logs nothing */
	int                deferred; /* 0 none, 1 an error, 2 an interrupt */

	/* statistics, written by the thread, read after done */
	uint64_t file_bytes;
	uint64_t decoded_bytes;
	uint32_t gzip_members;
	char     sha256_hex[65];
};

static void *reader_main(void *arg);

static const char *const inflater_names[] = {
	[INPUT_INFLATER_ISAL] = "isal",
	[INPUT_INFLATER_ZLIB] = "zlib",
};

const char *
input_inflater_name(enum input_inflater inflater)
{
	return inflater_names[inflater];
}

bool
input_inflater_parse(const char *text, enum input_inflater *out)
{
	for (size_t i = 0; i < sizeof(inflater_names) / sizeof(inflater_names[0]); i++)
	{
		if (strcmp(text, inflater_names[i]) == 0)
		{
			*out = (enum input_inflater) i;
			return true;
		}
	}
	return false;
}

bool
input_read_whole(const char *path, const char *what, uint64_t max_bytes, char **buf, size_t *len)
{
	int         fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	struct stat st;
	size_t      got = 0;

	if (fd < 0)
	{
		log_error("could not open %s '%s': %s", what, path, strerror(errno));
		return false;
	}
	if (fstat(fd, &st) != 0)
	{
		log_error("could not read %s '%s': %s", what, path, strerror(errno));
		close(fd);
		return false;
	}
	if (paths_not_regular(st.st_mode) || (uint64_t) st.st_size > max_bytes)
	{
		char size[64];

		snprintf(size, sizeof(size), "it is larger than %llu bytes",
				 (unsigned long long) max_bytes);
		log_error("could not read %s '%s': %s", what, path,
				  paths_not_regular(st.st_mode) ? paths_not_regular(st.st_mode) : size);
		close(fd);
		return false;
	}
	*buf = mem_alloc((size_t) st.st_size + INPUT_PAD);
	while (got < (size_t) st.st_size)
	{
		ssize_t n = read(fd, *buf + got, (size_t) st.st_size - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
		{
			if (n < 0)
				log_error("could not read %s '%s': %s", what, path, strerror(errno));
			else
				log_error("could not read %s '%s': it shrank while being read", what, path);
			close(fd);
			free(*buf);
			*buf = NULL;
			return false;
		}
		got += (size_t) n;
	}
	close(fd);
	memset(*buf + got, 0, INPUT_PAD);
	*len = got;
	return true;
}

/*
 * The descriptor of an input: "-" is standard input, and so is an inherited
 * descriptor (/dev/stdin, /dev/fd/N as process substitution gives), either
 * of which may be a pipe; any other path must name a regular file (through
 * symlinks).  Opened without waiting on a FIFO.  -1 on error, logged.
 */
static int
open_input(const char *path, bool *stream, uint64_t *size)
{
	bool        std_in = strcmp(path, "-") == 0;
	int         fd;
	struct stat st;
	const char *why;

	if (std_in)
		fd = fcntl(STDIN_FILENO, F_DUPFD_CLOEXEC, 0);
	else
		fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) != 0)
	{
		log_error("could not open '%s': %s", path,
				  std_in ? "standard input is closed" : strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	why = paths_not_regular(st.st_mode);
	if (why && (std_in || paths_inherited_fd(path)) &&
		(S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode)))
		why = NULL;
	else if (why && isatty(fd))
		why = "it is a terminal";
	if (why)
	{
		log_error("could not read '%s': %s%s", path, why,
				  S_ISFIFO(st.st_mode) ? "; payrun does not wait on a named pipe: give it as "
										 "--input - < FILE"
									   : "");
		close(fd);
		return -1;
	}
	*stream = !S_ISREG(st.st_mode);
	*size = S_ISREG(st.st_mode) ? (uint64_t) st.st_size : 0;
	if (!std_in)
		(void) fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	return fd;
}

/* Reads the magic bytes into peek, for the reader to hand out first. */
static bool
peek_magic(struct input *in)
{
	while (in->peek_len < sizeof(in->peek))
	{
		ssize_t n = read(in->fd, in->peek + in->peek_len, sizeof(in->peek) - in->peek_len);

		if (n < 0 && (errno == EINTR || errno == EAGAIN))
		{
			if (errno == EAGAIN)
				(void) poll(&(struct pollfd){ .fd = in->fd, .events = POLLIN }, 1, 200);
			continue;
		}
		if (n < 0)
		{
			log_error("could not read '%s': %s", in->path, strerror(errno));
			return false;
		}
		if (n == 0)
			break;
		in->peek_len += (size_t) n;
	}
	in->gzip = in->peek_len == 2 && in->peek[0] == 0x1f && in->peek[1] == 0x8b;
	return true;
}

bool
input_open(const char *path, const struct input_options *opts, struct input **out)
{
	struct input *in;
	bool          stream = false;
	uint64_t      size = 0;
	int           fd = open_input(path, &stream, &size);

	if (fd < 0)
		return false;
	(void) posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);

	in = mem_calloc(1, sizeof(*in));
	in->path = mem_strdup(path);
	in->fd = fd;
	in->stream = stream;
	in->size = size;
	if (opts)
		in->opts = *opts;
	in->rbuf = mem_alloc(READ_SIZE + 1);
	sha256_init(&in->digest);
	pthread_mutex_init(&in->lock, NULL);
	pthread_cond_init(&in->cond, NULL);
	for (int i = 0; i < RING_SLOTS; i++)
	{
		in->slab[i] = mem_alloc(INPUT_HEADROOM + INPUT_CHUNK_SIZE + INPUT_PAD);
		memset(in->slab[i] + INPUT_HEADROOM + INPUT_CHUNK_SIZE, 0, INPUT_PAD);
		in->chunks[i].data = in->slab[i] + INPUT_HEADROOM;
	}
	if (!peek_magic(in))
	{
		input_close(in);
		return false;
	}
	if (in->gzip && !inflater_init(&in->inf, in->opts.inflater))
	{
		log_error("could not initialise %s for '%s'", input_inflater_name(in->opts.inflater), path);
		input_close(in);
		return false;
	}
	if (pthread_create(&in->thread, NULL, reader_main, in) != 0)
	{
		log_error("could not start the reader thread for '%s'", path);
		input_close(in);
		return false;
	}
	in->thread_started = true;
	*out = in;
	return true;
}

/* Waits for a free slot; returns it, or NULL if the consumer cancelled. */
static struct input_chunk *
acquire_slot(struct input *in)
{
	struct input_chunk *c = NULL;

	pthread_mutex_lock(&in->lock);
	while (!in->cancel && in->produced - in->released >= RING_SLOTS)
		pthread_cond_wait(&in->cond, &in->lock);
	if (!in->cancel)
		c = &in->chunks[in->produced % RING_SLOTS];
	pthread_mutex_unlock(&in->lock);
	return c;
}

static void
publish_slot(struct input *in, struct input_chunk *c, size_t len)
{
	c->len = len;
	c->offset = in->decoded_bytes;
	in->decoded_bytes += len;
	pthread_mutex_lock(&in->lock);
	in->produced++;
	pthread_cond_broadcast(&in->cond);
	pthread_mutex_unlock(&in->lock);
}

static void finish(struct input *in, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Ends the thread's work: with fmt, as a failure carrying that message. */
static void
finish(struct input *in, const char *fmt, ...)
{
	pthread_mutex_lock(&in->lock);
	if (fmt)
	{
		va_list ap;

		va_start(ap, fmt);
		vsnprintf(in->errmsg, sizeof(in->errmsg), fmt, ap);
		va_end(ap);
		in->failed = true;
	}
	in->done = true;
	pthread_cond_broadcast(&in->cond);
	pthread_mutex_unlock(&in->lock);
}

static bool
cancelled(struct input *in)
{
	bool c;

	pthread_mutex_lock(&in->lock);
	c = in->cancel;
	pthread_mutex_unlock(&in->lock);
	return c;
}

/*
 * read(2) of the input, the peeked magic bytes first.  A pipe is polled,
 * so that a consumer that stops early is not kept waiting on a writer.
 */
static ssize_t
read_fd(struct input *in, void *buf, size_t len)
{
	ssize_t n;

	if (in->peek_len > 0)
	{
		size_t k = len < in->peek_len ? len : in->peek_len;

		memcpy(buf, in->peek, k);
		memmove(in->peek, in->peek + k, in->peek_len - k);
		in->peek_len -= k;
		return (ssize_t) k;
	}
	for (;;)
	{
		if (in->stream)
		{
			int r = poll(&(struct pollfd){ .fd = in->fd, .events = POLLIN }, 1, 200);

			if (r < 0 && errno != EINTR)
				return -1;
			if (r <= 0)
			{
				if (cancelled(in))
				{
					errno = ECANCELED;
					return -1;
				}
				continue;
			}
		}
		n = read(in->fd, buf, len);
		if (n >= 0 || (errno != EINTR && errno != EAGAIN))
			return n;
	}
}

/* Reads the next block of the file into buf; returns bytes read, 0 at EOF, -1 on error. */
static ssize_t
read_block(struct input *in, unsigned char *buf)
{
	ssize_t n = read_fd(in, buf, READ_SIZE);

	if (n > 0)
	{
		sha256_update(&in->digest, buf, (size_t) n);
		__atomic_fetch_add(&in->file_bytes, (uint64_t) n, __ATOMIC_RELAXED);
	}
	return n;
}

static bool
over_limits(struct input *in)
{
	/*
	 * The ratio is of the compressed bytes inflated so far, not of those
	 * read: the read buffer runs up to READ_SIZE ahead, which would let a
	 * bomb inflate ratio x READ_SIZE bytes before it is noticed.
	 */
	uint64_t consumed = in->file_bytes - (in->gzip ? in->inf.avail_in : 0);

	if (in->opts.max_decoded_bytes && in->decoded_bytes > in->opts.max_decoded_bytes)
	{
		finish(in, "could not read '%s': decompressed size exceeds the limit of %llu bytes",
			   in->path, (unsigned long long) in->opts.max_decoded_bytes);
		return true;
	}
	if (in->opts.max_inflate_ratio && consumed > 0 && in->decoded_bytes > 1024 * 1024 &&
		in->decoded_bytes / consumed > in->opts.max_inflate_ratio)
	{
		finish(in,
			   "could not read '%s': decompression ratio exceeds %llu:1 at byte %llu (gzip bomb?)",
			   in->path, (unsigned long long) in->opts.max_inflate_ratio,
			   (unsigned long long) consumed);
		return true;
	}
	return false;
}

static void
read_plain(struct input *in)
{
	for (;;)
	{
		struct input_chunk *c = acquire_slot(in);
		size_t              len = 0;

		if (c == NULL)
		{
			finish(in, NULL);
			return;
		}
		while (len < INPUT_CHUNK_SIZE)
		{
			ssize_t n;

			n = read_fd(in, c->data + len, INPUT_CHUNK_SIZE - len);
			if (n < 0)
			{
				finish(in, "could not read '%s' at byte %llu: %s", in->path,
					   (unsigned long long) in->file_bytes, strerror(errno));
				return;
			}
			if (n == 0)
				break;
			sha256_update(&in->digest, c->data + len, (size_t) n);
			__atomic_fetch_add(&in->file_bytes, (uint64_t) n, __ATOMIC_RELAXED);
			len += (size_t) n;
		}
		if (len == 0)
		{
			finish(in, NULL);
			return;
		}
		publish_slot(in, c, len);
	}
}

/*
 * Gives the inflater the next block when it has used up the last.  False
 * (finished) on a read error.
 */
static bool
refill(struct input *in)
{
	ssize_t n;

	if (in->inf.avail_in > 0 || in->file_eof)
		return true;
	n = read_block(in, in->rbuf);
	if (n < 0)
	{
		finish(in, "could not read '%s' at byte %llu: %s", in->path,
			   (unsigned long long) in->file_bytes, strerror(errno));
		return false;
	}
	in->file_eof = n == 0;
	in->inf.next_in = in->rbuf;
	in->inf.avail_in = (size_t) n;
	return true;
}

/*
 * A member header split across reads, one byte of it left: keeps the
 * byte in front of the next block.  False (finished) on a read error.
 */
static bool
refill_keeping_byte(struct input *in)
{
	unsigned char b = in->inf.next_in[0];
	ssize_t       n = read_block(in, in->rbuf + 1);

	if (n < 0)
	{
		finish(in, "could not read '%s' at byte %llu: %s", in->path,
			   (unsigned long long) in->file_bytes, strerror(errno));
		return false;
	}
	in->file_eof = n == 0;
	in->rbuf[0] = b;
	in->inf.next_in = in->rbuf;
	in->inf.avail_in = (size_t) n + 1;
	return true;
}

enum member_start
{
	MEMBER_NONE,  /* the end of the file */
	MEMBER_NEXT,  /* another member starts: the inflater is reset for it */
	MEMBER_FAILED /* finished with an error */
};

/* Between members: another member (its magic bytes), or the end of the file. */
static enum member_start
next_member(struct input *in)
{
	struct inflater *inf = &in->inf;

	if (inf->avail_in == 0 && in->file_eof)
		return MEMBER_NONE;
	if (inf->avail_in < 2 && !in->file_eof && !refill_keeping_byte(in))
		return MEMBER_FAILED;
	if (inf->avail_in < 2 || inf->next_in[0] != 0x1f || inf->next_in[1] != 0x8b)
	{
		finish(in, "could not read '%s': unexpected data after gzip member %u at byte %llu",
			   in->path, in->gzip_members, (unsigned long long) (in->file_bytes - inf->avail_in));
		return MEMBER_FAILED;
	}
	if (!inflater_reset(inf))
	{
		finish(in, "could not read '%s': %s reset failed", in->path,
			   input_inflater_name(in->opts.inflater));
		return MEMBER_FAILED;
	}
	in->gzip_members++;
	return MEMBER_NEXT;
}

/* One call of the inflater.  False (finished) if the stream is corrupt or truncated. */
static bool
inflate_step(struct input *in)
{
	struct inflater *inf = &in->inf;

	switch (inflater_run(inf))
	{
		case INFLATER_OK:
			return true;
		case INFLATER_MEMBER_END:
			in->member_open = false;
			return true;
		case INFLATER_STALLED:
			if (in->file_eof)
			{
				finish(in,
					   "could not read '%s': truncated gzip stream (unexpected end of file at "
					   "byte %llu)",
					   in->path, (unsigned long long) in->file_bytes);
				return false;
			}
			if (inf->avail_in == 0)
				return true; /* it needs the next block */
			/* input left and room for output, yet no progress: never loop on it */
			inf->msg = "the inflater made no progress";
			break;
		case INFLATER_CORRUPT:
			break;
	}
	finish(in, "could not read '%s': corrupt gzip stream near byte %llu: %s", in->path,
		   (unsigned long long) (in->file_bytes - inf->avail_in), inf->msg);
	return false;
}

/* Inflates into c, through members, until it is full or the file ends; *len bytes. */
static bool
fill_chunk(struct input *in, struct input_chunk *c, size_t *len)
{
	struct inflater *inf = &in->inf;

	inf->next_out = (unsigned char *) c->data;
	inf->avail_out = INPUT_CHUNK_SIZE;
	while (inf->avail_out > 0)
	{
		if (!refill(in))
			return false;
		if (!in->member_open)
		{
			enum member_start next = next_member(in);

			if (next == MEMBER_NONE)
				break;
			if (next == MEMBER_FAILED)
				return false;
			in->member_open = true;
		}
		if (!inflate_step(in))
			return false;
	}
	*len = INPUT_CHUNK_SIZE - inf->avail_out;
	return true;
}

static void
read_gzip(struct input *in)
{
	in->gzip_members = 1;
	in->member_open = true;
	for (;;)
	{
		struct input_chunk *c = acquire_slot(in);
		size_t              len;

		if (c == NULL)
		{
			finish(in, NULL);
			return;
		}
		if (!fill_chunk(in, c, &len))
			return;
		if (len == 0)
		{
			finish(in, NULL);
			return;
		}
		publish_slot(in, c, len);
		if (over_limits(in))
			return;
	}
}

static void *
reader_main(void *arg)
{
	struct input *in = arg;
	bool          whole;

	if (in->gzip)
		read_gzip(in);
	else
		read_plain(in);
	/* the digest is complete only if the whole file was read */
	pthread_mutex_lock(&in->lock);
	whole = !in->failed && !in->cancel;
	pthread_mutex_unlock(&in->lock);
	if (whole)
		sha256_final_hex(&in->digest, in->sha256_hex);
	return NULL;
}

bool
input_next(struct input *in, struct input_chunk **chunk)
{
	bool ok = true;

	*chunk = NULL;
	pthread_mutex_lock(&in->lock);
	while (in->consumed == in->produced && !in->done && !interrupt_pending())
	{
		/* woken at least every 200 ms: a signal stops a read stalled on a pipe */
		struct timespec t;

		clock_gettime(CLOCK_REALTIME, &t);
		t.tv_nsec += 200 * 1000 * 1000;
		if (t.tv_nsec >= 1000 * 1000 * 1000)
		{
			t.tv_sec++;
			t.tv_nsec -= 1000 * 1000 * 1000;
		}
		(void) pthread_cond_timedwait(&in->cond, &in->lock, &t);
	}
	if (interrupt_pending())
		ok = false;
	else if (in->consumed < in->produced)
		*chunk = &in->chunks[in->consumed++ % RING_SLOTS];
	else if (in->failed)
		ok = false;
	pthread_mutex_unlock(&in->lock);
	if (!ok && in->defer)
		in->deferred = interrupt_pending() ? 2 : 1;
	else if (!ok && interrupt_pending())
		log_info("reading '%s' stopped: %s", in->path, interrupt_name());
	else if (!ok)
		log_error("%s", in->errmsg);
	else if (*chunk == NULL && in->thread_started)
	{
		/* end of data: join so the digest and counters are final */
		pthread_join(in->thread, NULL);
		in->thread_started = false;
	}
	return ok;
}

void
input_defer_errors(struct input *in)
{
	in->defer = true;
}

void
input_log_deferred(struct input *in)
{
	if (in->deferred == 2)
		log_info("reading '%s' stopped: %s", in->path, interrupt_name());
	else if (in->deferred == 1)
		log_error("%s", in->errmsg);
	in->deferred = 0;
}

void
input_release(struct input *in, struct input_chunk *chunk)
{
	pthread_mutex_lock(&in->lock);
	/* chunks come back in the order they were handed out */
	if (chunk != &in->chunks[in->released % RING_SLOTS])
	{
		pthread_mutex_unlock(&in->lock);
		log_error("internal error: input chunks released out of order");
		abort();
	}
	in->released++;
	pthread_cond_broadcast(&in->cond);
	pthread_mutex_unlock(&in->lock);
}

/* Stops the reader thread, if it still runs, and waits for it. */
static void
stop_thread(struct input *in)
{
	if (!in->thread_started)
		return;
	pthread_mutex_lock(&in->lock);
	in->cancel = true;
	pthread_cond_broadcast(&in->cond);
	pthread_mutex_unlock(&in->lock);
	pthread_join(in->thread, NULL);
	in->thread_started = false;
}

uint64_t
input_size(const struct input *in)
{
	return in->size;
}

uint64_t
input_bytes_read(const struct input *in)
{
	return __atomic_load_n(&in->file_bytes, __ATOMIC_RELAXED);
}

void
input_get_stats(struct input *in, struct input_stats *stats)
{
	/* the thread writes the counters and the digest: read them once it is gone */
	stop_thread(in);
	stats->kind = in->gzip ? "gzip" : "plain";
	stats->inflater = in->gzip ? input_inflater_name(in->opts.inflater) : NULL;
	stats->file_bytes = in->file_bytes;
	stats->decoded_bytes = in->decoded_bytes;
	stats->gzip_members = in->gzip ? in->gzip_members : 0;
	memcpy(stats->sha256, in->sha256_hex, sizeof(stats->sha256));
}

void
input_close(struct input *in)
{
	if (in == NULL)
		return;
	stop_thread(in);
	inflater_end(&in->inf);
	sha256_release(&in->digest);
	for (int i = 0; i < RING_SLOTS; i++)
		free(in->slab[i]);
	pthread_cond_destroy(&in->cond);
	pthread_mutex_destroy(&in->lock);
	if (in->fd >= 0)
		close(in->fd);
	free(in->rbuf);
	free(in->path);
	free(in);
}
