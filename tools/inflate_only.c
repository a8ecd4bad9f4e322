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
#include <zlib.h>

#include "inflate_tool.h"

/* Inflates one file, member after member, into a scratch buffer. */
static bool
inflate_file(const char *path, unsigned char *in, unsigned char *out, void *state, struct totals *t)
{
	z_stream zs;
	int      fd;
	bool     ok = false;
	bool     member_open = true;
	bool     eof = false;

	(void) state; /* zlib's stream is on the stack */
	fd = open_input("inflate_only", path);
	if (fd < 0)
		return false;
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
	return inflate_tool_main(argc, argv, "inflate_only", "zlib", 0, inflate_file);
}
