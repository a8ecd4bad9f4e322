/*
 * fuzz_inflate.c: libFuzzer target for the ISA-L path of the gzip reader,
 * held to zlib's: a file read through input.h with --inflater isal must
 * give what the same file gives with --inflater zlib (the same bytes, or
 * the same error, under the rules of tests/unit/input_diff.h).
 *
 * The first byte of the input picks what the file is:
 *   - even: the rest of the input, as it is (libFuzzer's own gzip-like
 *     bytes; the seeds in corpus/inflate are small gzip files);
 *   - odd: the rest of the input compressed here with zlib into one to
 *     four members (level, strategy and split points from the input's
 *     hash), then, for three hashes in four, damaged: a bit flipped, the
 *     end cut off, or bytes appended.  Valid deflate data is hard for a
 *     fuzzer to reach by mutation; this reaches the inside of members.
 * A hash in eight also sets a decoded size or inflate ratio limit, which
 * both inflaters must enforce at the same byte.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <zlib.h>

#include "payrun/input.h"
#include "fuzz_common.h"
#include "../unit/input_diff.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void) argc;
	(void) argv;
	fuzz_quiet_logs();
	fuzz_file_open("inflate");
	return 0;
}

/* Appends one gzip member of src[0..n) to *out (grown), with zlib. */
static void
add_member(unsigned char **out, size_t *len, const uint8_t *src, size_t n, int level, int strategy)
{
	z_stream zs;
	size_t   room;
	int      rc;

	memset(&zs, 0, sizeof(zs));
	if (deflateInit2(&zs, level, Z_DEFLATED, 15 + 16, 8, strategy) != Z_OK)
		fuzz_fail("deflateInit2 failed");
	room = deflateBound(&zs, n) + 64;
	*out = fuzz_realloc(*out, *len + room);
	zs.next_in = (Bytef *) src;
	zs.avail_in = (uInt) n;
	zs.next_out = *out + *len;
	zs.avail_out = (uInt) room;
	rc = deflate(&zs, Z_FINISH);
	if (rc != Z_STREAM_END)
		fuzz_fail("deflate did not finish (%d)", rc);
	*len += room - zs.avail_out;
	deflateEnd(&zs);
}

/* The odd mode: data compressed into members, then perhaps damaged. */
static unsigned char *
make_gzip(const uint8_t *data, size_t size, uint64_t *seed, size_t *len)
{
	static const int strategies[] = { Z_DEFAULT_STRATEGY, Z_FILTERED, Z_HUFFMAN_ONLY, Z_RLE,
									  Z_FIXED };
	unsigned char   *out = NULL;
	unsigned         members = 1 + (unsigned) (fuzz_next(seed) % 4);
	size_t           done = 0;

	*len = 0;
	for (unsigned m = 0; m < members; m++)
	{
		size_t n = m + 1 == members ? size - done : (size_t) (fuzz_next(seed) % (size - done + 1));
		int    level = (int) (fuzz_next(seed) % 10);
		int    strategy = strategies[fuzz_next(seed) % 5];

		add_member(&out, len, data + done, n, level, strategy);
		done += n;
	}
	switch (fuzz_next(seed) % 4)
	{
		case 0:
			break;
		case 1: /* a bit flipped */
			out[fuzz_next(seed) % *len] ^= (unsigned char) (1u << (fuzz_next(seed) % 8));
			break;
		case 2: /* cut short */
			*len = (size_t) (fuzz_next(seed) % *len);
			break;
		default: /* something after the last member */
		{
			size_t extra = 1 + (size_t) (fuzz_next(seed) % 24);

			out = fuzz_realloc(out, *len + extra);
			for (size_t k = 0; k < extra; k++)
				out[*len + k] = (unsigned char) fuzz_next(seed);
			if (fuzz_next(seed) % 2)
				out[*len] = 0x1f; /* a magic byte: a member that starts and breaks off */
			*len += extra;
		}
	}
	return out;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint64_t             seed = fuzz_hash(data, size);
	struct input_options opts = { 0 };
	struct diff_outcome  z, i;
	unsigned char       *made = NULL;
	const uint8_t       *file;
	size_t               len;
	char                 why[2200];
	const char          *path;

	if (size == 0)
		return 0;
	if (data[0] % 2 == 1)
		file = made = make_gzip(data + 1, size - 1, &seed, &len);
	else
	{
		file = data + 1;
		len = size - 1;
	}
	if (fuzz_next(&seed) % 8 == 0)
	{
		if (fuzz_next(&seed) % 2)
			opts.max_decoded_bytes = 1 + fuzz_next(&seed) % (4 * len + 64);
		else
			opts.max_inflate_ratio = 1 + fuzz_next(&seed) % 40;
	}
	path = fuzz_file_write(file, len);

	opts.inflater = INPUT_INFLATER_ZLIB;
	diff_read(path, &opts, &z);
	opts.inflater = INPUT_INFLATER_ISAL;
	diff_read(path, &opts, &i);
	fuzz_require(diff_agree(&z, &i, DIFF_ALLOW_KIND, why, sizeof(why)), "%zu bytes: %s", len, why);
	fuzz_require(
		!z.ok || strcmp(z.stats.kind, "gzip") != 0 ||
			(strcmp(z.stats.inflater, "zlib") == 0 && strcmp(i.stats.inflater, "isal") == 0),
		"the stats name the inflaters %s and %s", z.stats.inflater, i.stats.inflater);
	diff_release(&z);
	diff_release(&i);
	free(made);
	return 0;
}
