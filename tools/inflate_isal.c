/*
 * inflate_isal.c: the ISA-L inflate floor for `make bench`.
 *
 * The counterpart of inflate_only.c with ISA-L's isal_inflate() in place of
 * zlib: inflates each gzip file given, every member, throws the output away
 * and prints the bytes read and produced, in inflate_only's words (bench.sh
 * reads the sizes from either).  Same buffers: 256 KiB reads, a 1 MiB
 * output buffer, the sizes payrun's reader uses (src/input.c).
 *
 * crc_flag is ISAL_GZIP: ISA-L reads each member's header and checks its
 * trailer, the CRC-32 and ISIZE of the output (ISAL_INCORRECT_CHECKSUM).
 * At a member's end it gives back the bytes it had read ahead, so the next
 * member starts at next_in, after isal_inflate_reset().  Exit status: 0
 * done, 1 a file could not be read or is not a complete gzip stream, 2
 * usage.
 */
#include <isa-l/igzip_lib.h>

#include "inflate_tool.h"

/* What an isal_inflate() error code means. */
static const char *
isal_error_text(int rc)
{
	switch (rc)
	{
		case ISAL_INVALID_BLOCK:
			return "invalid deflate block";
		case ISAL_INVALID_SYMBOL:
			return "invalid deflate symbol";
		case ISAL_INVALID_LOOKBACK:
			return "invalid lookback distance";
		case ISAL_INVALID_WRAPPER:
			return "not a gzip header";
		case ISAL_UNSUPPORTED_METHOD:
			return "unsupported compression method";
		case ISAL_INCORRECT_CHECKSUM:
			return "incorrect data check (CRC-32 or length)";
		case ISAL_NEED_DICT:
			return "needs a dictionary";
		default:
			return "unknown error";
	}
}

/* Starts the next member where the last one ended, with its checks on. */
static void
member_start(struct inflate_state *st)
{
	uint8_t *next_in = st->next_in;
	uint32_t avail_in = st->avail_in;

	isal_inflate_reset(st);
	st->next_in = next_in;
	st->avail_in = avail_in;
	st->crc_flag = ISAL_GZIP;
}

/* Inflates one file, member after member, into a scratch buffer. */
static bool
inflate_file(const char *path, unsigned char *in, unsigned char *out, void *state, struct totals *t)
{
	struct inflate_state *st = state;
	int                   fd;
	bool                  ok = false;
	bool                  member_open = true;
	bool                  eof = false;

	fd = open_input("inflate_isal", path);
	if (fd < 0)
		return false;
	isal_inflate_init(st);
	member_start(st);
	t->members++;
	for (;;)
	{
		uint64_t produced;
		int      rc;

		if (st->avail_in == 0 && !eof)
		{
			ssize_t n = read_block(fd, in);

			if (n < 0)
			{
				fprintf(stderr, "inflate_isal: could not read '%s': %s\n", path, strerror(errno));
				goto done;
			}
			eof = (n == 0);
			t->in_bytes += (uint64_t) n;
			st->next_in = in;
			st->avail_in = (uint32_t) n;
		}
		if (!member_open)
		{
			/* between members: the end of the file or the next member */
			if (st->avail_in == 0 && eof)
				break;
			if (st->avail_in == 0)
				continue;
			member_start(st);
			member_open = true;
			t->members++;
		}
		st->next_out = out;
		st->avail_out = OUT_SIZE;
		rc = isal_inflate(st);
		produced = OUT_SIZE - st->avail_out;
		t->out_bytes += produced;
		if (rc != ISAL_DECOMP_OK)
		{
			fprintf(stderr, "inflate_isal: '%s': corrupt gzip stream: %s\n", path,
					isal_error_text(rc));
			goto done;
		}
		if (st->block_state == ISAL_BLOCK_FINISH)
			member_open = false;
		else if (eof && st->avail_in == 0 && produced == 0)
		{
			/* all input given, the member not finished, nothing more came out */
			fprintf(stderr, "inflate_isal: '%s': truncated gzip stream\n", path);
			goto done;
		}
	}
	ok = true;
done:
	close(fd);
	return ok;
}

int
main(int argc, char **argv)
{
	return inflate_tool_main(argc, argv, "inflate_isal", "ISA-L",
							 sizeof(struct inflate_state) /* about 85 KiB of tables and history */,
							 inflate_file);
}
