/*
 * inflate_tool.h: what the two inflate baselines of `make bench` share
 * (inflate_only.c with zlib, inflate_isal.c with ISA-L): the buffer sizes
 * payrun's reader uses (src/input.c), the read loop's block read, opening a
 * file, the totals and main().  Each tool supplies only its inflate loop.
 * Exit status: 0 done, 1 a file could not be read or is not a complete
 * gzip stream, 2 usage.
 */
#ifndef PAYRUN_INFLATE_TOOL_H
#define PAYRUN_INFLATE_TOOL_H

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

/* Opens path for reading from start to end; -1 (said, as tool) if it cannot. */
static int
open_input(const char *tool, const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
	{
		fprintf(stderr, "%s: could not open '%s': %s\n", tool, path, strerror(errno));
		return -1;
	}
	(void) posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	return fd;
}

/* Inflates one file into out, reading into in; state is the tool's (state_size bytes). */
typedef bool (*inflate_file_fn)(const char *path, unsigned char *in, unsigned char *out,
								void *state, struct totals *t);

/* The whole tool: usage, buffers, every file in turn, the counts on stdout. */
static int
inflate_tool_main(int argc, char **argv, const char *tool, const char *library, size_t state_size,
				  inflate_file_fn inflate_file)
{
	struct totals  t = { 0 };
	unsigned char *in, *out;
	void          *state;
	bool           ok = true;

	if (argc < 2 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)
	{
		fprintf(argc < 2 ? stderr : stdout,
				"usage: %s FILE.gz...\n"
				"Inflates the files with %s alone, discards the output, prints the byte "
				"counts.\n",
				tool, library);
		return argc < 2 ? 2 : 0;
	}
	in = malloc(READ_SIZE);
	out = malloc(OUT_SIZE);
	state = state_size ? malloc(state_size) : NULL;
	if (in == NULL || out == NULL || (state_size && state == NULL))
	{
		fprintf(stderr, "%s: out of memory\n", tool);
		return 1;
	}
	for (int i = 1; i < argc && ok; i++)
		ok = inflate_file(argv[i], in, out, state, &t);
	free(in);
	free(out);
	free(state);
	if (!ok)
		return 1;
	printf("%s: %d file(s), %" PRIu64 " gzip member(s), %" PRIu64 " bytes in, %" PRIu64
		   " bytes out\n",
		   tool, argc - 1, t.members, t.in_bytes, t.out_bytes);
	return 0;
}

#endif
