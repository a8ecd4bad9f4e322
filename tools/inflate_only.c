/*
 * inflate_only.c: baseline 1 for `make bench`, zlib alone.
 *
 * Inflates each gzip file given (concatenated members included), throws the
 * output away and prints the bytes read and produced.  It reads 256 KiB at a
 * time and inflates into a 1 MiB buffer, the sizes payrun's reader uses
 * (src/input.c), so the two do the same zlib work; nothing else is done to
 * the data.  Exit status: 0 done, 1 a file could not be read or is not a
 * complete gzip stream, 2 usage.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#define READ_SIZE (256 * 1024)
#define OUT_SIZE  (1024 * 1024)

struct totals
{
	uint64_t in_bytes;  /* compressed bytes read */
	uint64_t out_bytes; /* bytes inflated */
	uint64_t members;   /* gzip members */
};

/* Reads up to READ_SIZE bytes; returns the count, 0 at EOF, -1 on error. */
static ssize_t
read_block(int fd, unsigned char *buf)
{
	ssize_t n;

	do
		n = read(fd, buf, READ_SIZE);
	while (n < 0 && errno == EINTR);
	return n;
}

/* Inflates one file, member after member, into a scratch buffer. */
static bool
inflate_file(const char *path, unsigned char *in, unsigned char *out, struct totals *t)
{
	z_stream zs;
	int      fd;
	bool     ok = false;
	bool     member_open = true;
	bool     eof = false;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
	{
		fprintf(stderr, "inflate_only: could not open '%s': %s\n", path, strerror(errno));
		return false;
	}
	(void) posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	memset(&zs, 0, sizeof(zs));
	if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK)
	{
		fprintf(stderr, "inflate_only: could not initialise zlib\n");
		close(fd);
		return false;
	}
	t->members++;
	for (;;)
	{
		int rc;

		if (zs.avail_in == 0 && !eof)
		{
			ssize_t n = read_block(fd, in);

			if (n < 0)
			{
				fprintf(stderr, "inflate_only: could not read '%s': %s\n", path, strerror(errno));
				goto done;
			}
			eof = (n == 0);
			t->in_bytes += (uint64_t) n;
			zs.next_in = in;
			zs.avail_in = (uInt) n;
		}
		if (!member_open)
		{
			/* between members: the end of the file or the next member */
			if (zs.avail_in == 0 && eof)
				break;
			if (zs.avail_in == 0)
				continue;
			if (inflateReset(&zs) != Z_OK)
				goto done;
			member_open = true;
			t->members++;
		}
		zs.next_out = out;
		zs.avail_out = OUT_SIZE;
		rc = inflate(&zs, Z_NO_FLUSH);
		t->out_bytes += OUT_SIZE - zs.avail_out;
		if (rc == Z_STREAM_END)
			member_open = false;
		else if (rc == Z_BUF_ERROR && eof && zs.avail_in == 0)
		{
			fprintf(stderr, "inflate_only: '%s': truncated gzip stream\n", path);
			goto done;
		}
		else if (rc != Z_OK && rc != Z_BUF_ERROR)
		{
			fprintf(stderr, "inflate_only: '%s': corrupt gzip stream: %s\n", path,
					zs.msg ? zs.msg : zError(rc));
			goto done;
		}
	}
	ok = true;
done:
	inflateEnd(&zs);
	close(fd);
	return ok;
}

int
main(int argc, char **argv)
{
	struct totals  t = { 0 };
	unsigned char *in, *out;
	bool           ok = true;

	if (argc < 2 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)
	{
		fprintf(
			argc < 2 ? stderr : stdout,
			"usage: inflate_only FILE.gz...\n"
			"Inflates the files with zlib alone, discards the output, prints the byte counts.\n");
		return argc < 2 ? 2 : 0;
	}
	in = malloc(READ_SIZE);
	out = malloc(OUT_SIZE);
	if (in == NULL || out == NULL)
	{
		fprintf(stderr, "inflate_only: out of memory\n");
		return 1;
	}
	for (int i = 1; i < argc && ok; i++)
		ok = inflate_file(argv[i], in, out, &t);
	free(in);
	free(out);
	if (!ok)
		return 1;
	printf("inflate_only: %d file(s), %" PRIu64 " gzip member(s), %" PRIu64 " bytes in, %" PRIu64
		   " bytes out\n",
		   argc - 1, t.members, t.in_bytes, t.out_bytes);
	return 0;
}
