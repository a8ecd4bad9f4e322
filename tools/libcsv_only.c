/*
 * libcsv_only.c: baseline 2 for `make bench`, zlib + libcsv doing nothing.
 *
 * Inflates each gzip file given (concatenated members included; a file that
 * is not gzip is read as plain CSV) and feeds the text to libcsv in strict
 * mode with no space trimming, the dialect payrun reads.  The field callback
 * is empty and the record callback only counts, so this is the cost of
 * tokenising the export with libcsv, without looking at a single value.
 * Buffer sizes are those of inflate_only and payrun's reader (256 KiB reads,
 * 1 MiB of output at a time).  Prints the records parsed (header lines
 * included).  Exit status: 0 done, 1 an unreadable file, a corrupt or
 * truncated gzip stream or a CSV error, 2 usage.
 */
#include <csv.h>
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
	uint64_t in_bytes;  /* bytes read from the files */
	uint64_t out_bytes; /* CSV bytes given to libcsv */
	uint64_t records;   /* records ended, header lines included */
};

static void
on_field(void *field, size_t len, void *data)
{
	(void) field;
	(void) len;
	(void) data;
}

static void
on_record(int term, void *data)
{
	(void) term;
	((struct totals *) data)->records++;
}

/* No character counts as space: fields are taken exactly as written. */
static int
no_space(unsigned char c)
{
	(void) c;
	return 0;
}

static ssize_t
read_block(int fd, unsigned char *buf)
{
	ssize_t n;

	do
		n = read(fd, buf, READ_SIZE);
	while (n < 0 && errno == EINTR);
	return n;
}

/* Hands len bytes of CSV to the parser; false (reported) on a CSV error. */
static bool
feed(struct csv_parser *p, const char *path, const unsigned char *buf, size_t len, struct totals *t)
{
	if (csv_parse(p, buf, len, on_field, on_record, t) != len)
	{
		fprintf(stderr, "libcsv_only: '%s': CSV error near byte %" PRIu64 ": %s\n", path,
				t->out_bytes, csv_strerror(csv_error(p)));
		return false;
	}
	t->out_bytes += len;
	return true;
}

/* Parses one file, inflating it first if it starts with the gzip magic. */
static bool
parse_file(const char *path, unsigned char *in, unsigned char *out, struct totals *t)
{
	struct csv_parser p;
	z_stream          zs;
	bool              zs_ready = false;
	bool              ok = false;
	bool              member_open = true;
	bool              eof = false;
	bool              gzip;
	ssize_t           n;
	int               fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
	{
		fprintf(stderr, "libcsv_only: could not open '%s': %s\n", path, strerror(errno));
		return false;
	}
	(void) posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	if (csv_init(&p, CSV_STRICT | CSV_STRICT_FINI) != 0)
	{
		fprintf(stderr, "libcsv_only: could not initialise libcsv\n");
		close(fd);
		return false;
	}
	csv_set_space_func(&p, no_space);

	n = read_block(fd, in);
	if (n < 0)
	{
		fprintf(stderr, "libcsv_only: could not read '%s': %s\n", path, strerror(errno));
		goto done;
	}
	t->in_bytes += (uint64_t) n;
	gzip = n >= 2 && in[0] == 0x1f && in[1] == 0x8b;
	if (!gzip)
	{
		/* plain CSV: straight to the parser */
		while (n > 0)
		{
			if (!feed(&p, path, in, (size_t) n, t))
				goto done;
			n = read_block(fd, in);
			if (n < 0)
			{
				fprintf(stderr, "libcsv_only: could not read '%s': %s\n", path, strerror(errno));
				goto done;
			}
			t->in_bytes += (uint64_t) n;
		}
	}
	else
	{
		memset(&zs, 0, sizeof(zs));
		if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK)
		{
			fprintf(stderr, "libcsv_only: could not initialise zlib\n");
			goto done;
		}
		zs_ready = true;
		zs.next_in = in;
		zs.avail_in = (uInt) n;
		for (;;)
		{
			int rc;

			if (zs.avail_in == 0 && !eof)
			{
				n = read_block(fd, in);
				if (n < 0)
				{
					fprintf(stderr, "libcsv_only: could not read '%s': %s\n", path,
							strerror(errno));
					goto done;
				}
				eof = (n == 0);
				t->in_bytes += (uint64_t) n;
				zs.next_in = in;
				zs.avail_in = (uInt) n;
			}
			if (!member_open)
			{
				if (zs.avail_in == 0 && eof)
					break;
				if (zs.avail_in == 0)
					continue;
				if (inflateReset(&zs) != Z_OK)
					goto done;
				member_open = true;
			}
			zs.next_out = out;
			zs.avail_out = OUT_SIZE;
			rc = inflate(&zs, Z_NO_FLUSH);
			if (rc == Z_STREAM_END)
				member_open = false;
			else if (rc == Z_BUF_ERROR && eof && zs.avail_in == 0)
			{
				fprintf(stderr, "libcsv_only: '%s': truncated gzip stream\n", path);
				goto done;
			}
			else if (rc != Z_OK && rc != Z_BUF_ERROR)
			{
				fprintf(stderr, "libcsv_only: '%s': corrupt gzip stream: %s\n", path,
						zs.msg ? zs.msg : zError(rc));
				goto done;
			}
			if (OUT_SIZE - zs.avail_out > 0 && !feed(&p, path, out, OUT_SIZE - zs.avail_out, t))
				goto done;
		}
	}
	if (csv_fini(&p, on_field, on_record, t) != 0)
	{
		fprintf(stderr, "libcsv_only: '%s': CSV error at end of file: %s\n", path,
				csv_strerror(csv_error(&p)));
		goto done;
	}
	ok = true;
done:
	if (zs_ready)
		inflateEnd(&zs);
	csv_free(&p);
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
		fprintf(argc < 2 ? stderr : stdout,
				"usage: libcsv_only FILE...\n"
				"Inflates the files (if gzip) and tokenises them with libcsv, empty callbacks.\n");
		return argc < 2 ? 2 : 0;
	}
	in = malloc(READ_SIZE);
	out = malloc(OUT_SIZE);
	if (in == NULL || out == NULL)
	{
		fprintf(stderr, "libcsv_only: out of memory\n");
		return 1;
	}
	for (int i = 1; i < argc && ok; i++)
		ok = parse_file(argv[i], in, out, &t);
	free(in);
	free(out);
	if (!ok)
		return 1;
	printf("libcsv_only: %d file(s), %" PRIu64 " records (header lines included), %" PRIu64
		   " bytes in, %" PRIu64 " bytes of CSV\n",
		   argc - 1, t.records, t.in_bytes, t.out_bytes);
	return 0;
}
