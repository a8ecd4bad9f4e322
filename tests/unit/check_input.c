/*
 * check_input.c: the two inflaters of input.h (--inflater zlib, the
 * reference, and isal) compared on generated gzip files, through input.h
 * as payrun reads them (input_diff.h says when two outcomes agree).
 *
 * The files are written here with zlib (levels 0 to 9, each strategy:
 * stored, fixed and dynamic blocks) and with ISA-L's own deflate (levels
 * 0 to 3), with and without the optional header fields, as one member or
 * many (empty ones among them); members are placed so that a header or a
 * trailer straddles input.c's 256 KiB reads at every byte (an FEXTRA field
 * pads a member to an exact size), or read through a pipe written a few
 * bytes at a time.  Then they are damaged: truncated at many offsets,
 * bits flipped in headers, data, CRC32 and ISIZE, garbage after a member,
 * and random mutations.  Valid files must give the original bytes with
 * both; every case must agree.  Each test prints how many cases it ran.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <isa-l/igzip_lib.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <zlib.h>

#include "payrun/input.h"
#include "input_diff.h"

#define READ_SIZE (256 * 1024) /* input.c's reads: the boundaries placed below */

#define require(cond, ...)                                                                         \
	do                                                                                             \
	{                                                                                              \
		if (!(cond))                                                                               \
			ck_abort_msg(__VA_ARGS__);                                                             \
	} while (0)

/* ---- buffers and data ---- */

struct buf
{
	unsigned char *p;
	size_t         len, cap;
};

static void
buf_add(struct buf *b, const void *p, size_t n)
{
	if (b->len + n > b->cap)
	{
		b->cap = (b->len + n) * 2 + 64;
		b->p = realloc(b->p, b->cap);
		ck_assert_ptr_nonnull(b->p);
	}
	if (n > 0)
		memcpy(b->p + b->len, p, n);
	b->len += n;
}

static void
buf_free(struct buf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

static uint64_t
next_rand(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

enum data_kind
{
	DATA_CSV,    /* export-like lines: dynamic blocks, short matches */
	DATA_RANDOM, /* incompressible: stored blocks at any level */
	DATA_ZEROS,  /* long matches */
	DATA_MIXED,  /* runs of each */
	DATA_KINDS
};

static void
make_data(struct buf *b, enum data_kind kind, size_t n, uint64_t seed)
{
	uint64_t s = seed * 7919 + kind;
	char     line[160];

	b->len = 0;
	while (b->len < n)
	{
		enum data_kind k = kind == DATA_MIXED ? (enum data_kind)(next_rand(&s) % 3) : kind;
		uint64_t       r = next_rand(&s);
		size_t         len;

		if (k == DATA_CSV)
			len = (size_t) snprintf(line, sizeof(line),
									"%llu,stream-%03u,node-%06u,stats_poll,%c,2026-11-01 "
									"00:%02u:%02u.%06u+00,,\"{\"\"peers\"\": %u}\"\n",
									(unsigned long long) b->len, (unsigned) (r % 100),
									(unsigned) (r >> 8) % 10000, r & 1 ? 't' : 'f',
									(unsigned) (r >> 20) % 60, (unsigned) (r >> 26) % 60,
									(unsigned) (r >> 32) % 1000000, (unsigned) (r >> 52) % 9);
		else
		{
			len = 1 + (size_t) (r % sizeof(line));
			for (size_t i = 0; i < len; i++)
				line[i] = k == DATA_ZEROS ? 0 : (char) next_rand(&s);
		}
		if (len > n - b->len)
			len = n - b->len;
		buf_add(b, line, len);
	}
}

/* ---- gzip members ---- */

struct member_opts
{
	int         level;    /* zlib 0..9; ISA-L 0..3 with isal */
	int         strategy; /* zlib's */
	bool        isal;     /* written by ISA-L's deflate (plain header) */
	const char *name;     /* FNAME, or NULL */
	const char *comment;  /* FCOMMENT, or NULL */
	long        extra;    /* FEXTRA of this many bytes (0 to 65535), -1 for none */
	bool        hcrc;     /* FHCRC */
};

static const struct member_opts plain_member = {
	6, Z_DEFAULT_STRATEGY, false, NULL, NULL, -1, false
};
static const struct member_opts full_header = {
	6, Z_DEFAULT_STRATEGY, false, "probes.csv", "a comment", 3, true
};

static void
zlib_member(struct buf *out, const unsigned char *data, size_t n, const struct member_opts *o)
{
	z_stream       zs;
	gz_header      h;
	unsigned char *extra = NULL;
	unsigned char  tmp[65536];
	int            rc;

	memset(&zs, 0, sizeof(zs));
	memset(&h, 0, sizeof(h));
	ck_assert_int_eq(deflateInit2(&zs, o->level, Z_DEFLATED, 16 + MAX_WBITS, 8, o->strategy), Z_OK);
	h.name = (Bytef *) o->name;
	h.comment = (Bytef *) o->comment;
	h.hcrc = o->hcrc;
	h.os = 3;
	h.time = 1793491200;
	if (o->extra >= 0)
	{
		extra = malloc((size_t) o->extra + 1);
		for (long i = 0; i < o->extra; i++)
			extra[i] = (unsigned char) (i * 31 + 7);
		h.extra = extra;
		h.extra_len = (uInt) o->extra;
	}
	ck_assert_int_eq(deflateSetHeader(&zs, &h), Z_OK);
	zs.next_in = (unsigned char *) data;
	zs.avail_in = (uInt) n;
	do
	{
		zs.next_out = tmp;
		zs.avail_out = sizeof(tmp);
		rc = deflate(&zs, Z_FINISH);
		ck_assert(rc == Z_OK || rc == Z_STREAM_END || rc == Z_BUF_ERROR);
		buf_add(out, tmp, sizeof(tmp) - zs.avail_out);
	} while (rc != Z_STREAM_END);
	deflateEnd(&zs);
	free(extra);
}

static void
isal_member(struct buf *out, const unsigned char *data, size_t n, int level)
{
	static const uint32_t level_buf_size[] = { 0, ISAL_DEF_LVL1_DEFAULT, ISAL_DEF_LVL2_DEFAULT,
											   ISAL_DEF_LVL3_DEFAULT };
	struct isal_zstream   zs;
	unsigned char         tmp[65536];
	unsigned char        *level_buf = malloc(level_buf_size[level] + 1);

	isal_deflate_init(&zs);
	zs.gzip_flag = IGZIP_GZIP;
	zs.level = (uint32_t) level;
	zs.level_buf = level_buf;
	zs.level_buf_size = level_buf_size[level];
	zs.end_of_stream = 1;
	zs.flush = NO_FLUSH;
	zs.next_in = (uint8_t *) data;
	zs.avail_in = (uint32_t) n;
	do
	{
		zs.next_out = tmp;
		zs.avail_out = sizeof(tmp);
		ck_assert_int_eq(isal_deflate(&zs), COMP_OK);
		buf_add(out, tmp, sizeof(tmp) - zs.avail_out);
	} while (zs.internal_state.state != ZSTATE_END);
	free(level_buf);
}

static void
add_member(struct buf *out, const unsigned char *data, size_t n, const struct member_opts *o)
{
	if (o->isal)
		isal_member(out, data, n, o->level);
	else
		zlib_member(out, data, n, o);
}

/*
 * A member of exactly size bytes: its FEXTRA field pads it (the deflate
 * data does not depend on the header).
 */
static void
member_of_size(struct buf *out, const unsigned char *data, size_t n, struct member_opts o,
			   size_t size)
{
	struct buf probe = { 0 };
	size_t     before = out->len;

	o.isal = false;
	o.extra = 0;
	zlib_member(&probe, data, n, &o);
	require(probe.len <= size && size - probe.len <= 65535, "cannot pad %zu bytes to %zu",
			probe.len, size);
	o.extra = (long) (size - probe.len);
	zlib_member(out, data, n, &o);
	require(out->len - before == size, "padded member of %zu bytes, want %zu", out->len - before,
			size);
	buf_free(&probe);
}

/* ---- running a case ---- */

static unsigned long cases;
static int           scratch = -1;
static char          scratch_path[64];

static const char *
scratch_write(const unsigned char *p, size_t n)
{
	size_t done = 0;

	if (scratch < 0)
	{
		scratch = memfd_create("check_input", MFD_CLOEXEC);
		ck_assert_int_ge(scratch, 0);
		snprintf(scratch_path, sizeof(scratch_path), "/proc/self/fd/%d", scratch);
	}
	ck_assert_int_eq(ftruncate(scratch, 0), 0);
	while (done < n)
	{
		ssize_t w = pwrite(scratch, p + done, n - done, (off_t) done);

		ck_assert_int_gt(w, 0);
		done += (size_t) w;
	}
	return scratch_path;
}

struct pipe_feed
{
	int                  fd;
	const unsigned char *p;
	size_t               n;
	uint64_t             seed;
};

/* Writes the bytes 1 to 3 at a time, so that input.c's reads are as small. */
static void *
pipe_writer(void *arg)
{
	struct pipe_feed *f = arg;
	size_t            done = 0;

	while (done < f->n)
	{
		size_t  k = 1 + (size_t) (next_rand(&f->seed) % 3);
		ssize_t w = write(f->fd, f->p + done, k < f->n - done ? k : f->n - done);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			break; /* the reader stopped early */
		done += (size_t) w;
	}
	close(f->fd);
	return NULL;
}

/* Reads p with one inflater, from the scratch file or through a pipe. */
static void
read_with(const unsigned char *p, size_t n, const struct input_options *base,
		  enum input_inflater inflater, bool through_pipe, struct diff_outcome *o)
{
	struct input_options opts = base ? *base : (struct input_options){ 0 };
	int                  fds[2];
	char                 path[64];
	pthread_t            writer;
	struct pipe_feed     feed;

	opts.inflater = inflater;
	if (!through_pipe)
	{
		diff_read(scratch_write(p, n), &opts, o);
		return;
	}
	ck_assert_int_eq(pipe(fds), 0);
	feed = (struct pipe_feed){ fds[1], p, n, n };
	ck_assert_int_eq(pthread_create(&writer, NULL, pipe_writer, &feed), 0);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fds[0]);
	diff_read(path, &opts, o);
	close(fds[0]);
	pthread_join(writer, NULL);
}

/*
 * One case: the two inflaters must agree; with want, both must read it
 * and give want's bytes.  what names the case in a failure.
 */
static void
check_case_with(const unsigned char *p, size_t n, const struct input_options *base, unsigned allow,
				const struct buf *want, bool through_pipe, const char *what)
{
	struct diff_outcome z, i;
	char                why[2200];

	read_with(p, n, base, INPUT_INFLATER_ZLIB, through_pipe, &z);
	read_with(p, n, base, INPUT_INFLATER_ISAL, through_pipe, &i);
	require(diff_agree(&z, &i, allow, why, sizeof(why)), "%s (%zu bytes): %s", what, n, why);
	if (z.ok && strcmp(z.stats.kind, "gzip") == 0)
		require(strcmp(z.stats.inflater, "zlib") == 0 && strcmp(i.stats.inflater, "isal") == 0,
				"%s: the stats name %s and %s", what, z.stats.inflater, i.stats.inflater);
	if (want)
		require(z.ok && z.out_len == want->len &&
					(want->len == 0 || memcmp(z.out, want->p, want->len) == 0),
				"%s: not the original bytes (ok %d, %zu of %zu bytes; '%s')", what, z.ok, z.out_len,
				want->len, z.msg);
	diff_release(&z);
	diff_release(&i);
	cases++;
}

static void
check_case(const struct buf *gz, unsigned allow, const struct buf *want, const char *what)
{
	check_case_with(gz->p, gz->len, NULL, allow, want, false, what);
}

/* Like check_case, and the failure both report must contain text. */
static void
check_fails_with(const unsigned char *p, size_t n, const char *text, const char *what)
{
	struct diff_outcome z, i;
	char                why[2200];

	read_with(p, n, NULL, INPUT_INFLATER_ZLIB, false, &z);
	read_with(p, n, NULL, INPUT_INFLATER_ISAL, false, &i);
	require(diff_agree(&z, &i, 0, why, sizeof(why)), "%s: %s", what, why);
	require(!z.ok && strstr(z.msg, text) && strstr(i.msg, text),
			"%s: want '%s' from both; zlib: '%s', isal: '%s'", what, text, z.msg, i.msg);
	diff_release(&z);
	diff_release(&i);
	cases++;
}

static void
report(const char *test, unsigned long n)
{
	printf("# check_input: %s: %lu cases (failures agreeing only as allowed: %lu corrupt at "
		   "other bytes or in other words, %lu corrupt against truncated, %lu ratio at other "
		   "bytes, %lu a Huffman code zlib refuses and ISA-L reads to a right trailer)\n",
		   test, n, diff_relaxed[0], diff_relaxed[1], diff_relaxed[2], diff_relaxed[3]);
	fflush(stdout);
}

/* ---- valid files ---- */

static const int strategies[] = { Z_DEFAULT_STRATEGY, Z_FILTERED, Z_HUFFMAN_ONLY, Z_RLE, Z_FIXED };
static const size_t sizes[] = { 0, 1, 1000, 70000, 300000 };

START_TEST(test_levels_and_strategies)
{
	struct buf data = { 0 }, gz = { 0 };
	char       what[128];

	for (int kind = 0; kind < DATA_KINDS; kind++)
		for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++)
		{
			make_data(&data, (enum data_kind) kind, sizes[s], s);
			for (int level = 0; level <= 9; level++)
				for (size_t st = 0; st < sizeof(strategies) / sizeof(strategies[0]); st++)
				{
					struct member_opts o = plain_member;

					o.level = level;
					o.strategy = strategies[st];
					if ((level + (int) st) % 3 == 0)
						o = (struct member_opts){ level, strategies[st], false, "n", "c", 7, true };
					gz.len = 0;
					zlib_member(&gz, data.p, data.len, &o);
					snprintf(what, sizeof(what), "zlib level %d strategy %d kind %d size %zu",
							 level, strategies[st], kind, sizes[s]);
					check_case(&gz, 0, &data, what);
				}
			for (int level = 0; level <= 3; level++)
			{
				gz.len = 0;
				isal_member(&gz, data.p, data.len, level);
				snprintf(what, sizeof(what), "isal level %d kind %d size %zu", level, kind,
						 sizes[s]);
				check_case(&gz, 0, &data, what);
			}
		}
	buf_free(&data);
	buf_free(&gz);
	report("levels and strategies", cases);
}
END_TEST

/* A random member's options (zlib or ISA-L, any level, header fields or not). */
static struct member_opts
random_opts(uint64_t *s)
{
	uint64_t           r = next_rand(s);
	struct member_opts o = plain_member;

	if (r % 4 == 0)
		return (struct member_opts){ (int) ((r >> 8) % 4), 0, true, NULL, NULL, -1, false };
	o.level = (int) ((r >> 8) % 10);
	o.strategy = strategies[(r >> 16) % 5];
	if ((r >> 24) & 1)
		o.name = "day.csv";
	if ((r >> 25) & 1)
		o.comment = "";
	if ((r >> 26) & 1)
		o.extra = (long) ((r >> 32) % 40);
	o.hcrc = (r >> 27) & 1;
	return o;
}

/* A file of nmembers members of random sizes (0 among them); its bytes in want. */
static void
many_members(struct buf *gz, struct buf *want, unsigned nmembers, uint64_t seed)
{
	static const size_t member_sizes[] = { 0, 0, 1, 17, 1000, 40000, 150000 };
	struct buf          data = { 0 };
	uint64_t            s = seed;

	gz->len = 0;
	want->len = 0;
	for (unsigned m = 0; m < nmembers; m++)
	{
		struct member_opts o = random_opts(&s);
		size_t             n = member_sizes[next_rand(&s) % 7];

		make_data(&data, (enum data_kind)(next_rand(&s) % DATA_KINDS), n, s);
		add_member(gz, data.p, data.len, &o);
		buf_add(want, data.p, data.len);
	}
	buf_free(&data);
}

START_TEST(test_many_members)
{
	struct buf gz = { 0 }, want = { 0 }, data = { 0 };
	char       what[128];

	for (unsigned seed = 1; seed <= 300; seed++)
	{
		unsigned nmembers = 2 + seed % 63;

		many_members(&gz, &want, nmembers, seed);
		snprintf(what, sizeof(what), "%u members, seed %u", nmembers, seed);
		check_case(&gz, 0, &want, what);
	}
	/* members whose output ends at, before and after a 1 MiB chunk's end */
	for (int d = -2; d <= 2; d++)
	{
		size_t first = (size_t) (INPUT_CHUNK_SIZE + d);

		gz.len = 0;
		want.len = 0;
		make_data(&data, DATA_CSV, first, 3);
		zlib_member(&gz, data.p, data.len, &plain_member);
		buf_add(&want, data.p, data.len);
		zlib_member(&gz, NULL, 0, &plain_member);
		make_data(&data, DATA_MIXED, INPUT_CHUNK_SIZE, 4);
		isal_member(&gz, data.p, data.len, 1);
		buf_add(&want, data.p, data.len);
		snprintf(what, sizeof(what), "first member of 1 MiB %+d bytes", d);
		check_case(&gz, 0, &want, what);
	}
	/*
	 * a member of zeros (long matches) whose last match crosses a chunk's
	 * end, so that ISA-L ends it from its own buffer in the next call
	 */
	for (int d = 1; d <= 520; d += 3)
	{
		gz.len = 0;
		want.len = 0;
		make_data(&data, DATA_ZEROS, (size_t) (INPUT_CHUNK_SIZE + d), 5);
		zlib_member(&gz, data.p, data.len, &plain_member);
		buf_add(&want, data.p, data.len);
		make_data(&data, DATA_CSV, 3000, 6);
		zlib_member(&gz, data.p, data.len, &full_header);
		buf_add(&want, data.p, data.len);
		snprintf(what, sizeof(what), "zeros to 1 MiB %+d bytes, then a member", d);
		check_case(&gz, 0, &want, what);
	}
	/* only empty members */
	gz.len = 0;
	for (int m = 0; m < 5; m++)
		zlib_member(&gz, NULL, 0, &full_header);
	want.len = 0;
	check_case(&gz, 0, &want, "five empty members");
	buf_free(&gz);
	buf_free(&want);
	buf_free(&data);
	report("many members", cases);
}
END_TEST

/*
 * Two or three members, the second starting at READ_SIZE - k: its header
 * (plain, or with every optional field) split after each of its bytes,
 * k = 1 the one byte input.c keeps in front of the next read; or the first
 * ending at READ_SIZE + j: its trailer split.  The same at 2 * READ_SIZE.
 */
static void
boundary_file(struct buf *gz, struct buf *want, size_t first_size, const struct member_opts *second,
			  size_t second_len, bool third)
{
	struct buf data = { 0 };

	gz->len = 0;
	want->len = 0;
	/* random bytes: a stored-like member a little larger than the data, padded to first_size */
	make_data(&data, DATA_RANDOM, first_size - 30000, first_size);
	member_of_size(gz, data.p, data.len, plain_member, first_size);
	buf_add(want, data.p, data.len);
	make_data(&data, DATA_CSV, second_len, 9);
	add_member(gz, data.p, data.len, second);
	buf_add(want, data.p, data.len);
	if (third)
	{
		make_data(&data, DATA_MIXED, 5000, 10);
		zlib_member(gz, data.p, data.len, &full_header);
		buf_add(want, data.p, data.len);
	}
	buf_free(&data);
}

START_TEST(test_read_boundaries)
{
	static const size_t       second_lens[] = { 0, 3000 };
	const struct member_opts *headers[] = { &plain_member, &full_header };
	struct buf                gz = { 0 }, want = { 0 };
	char                      what[160];

	for (size_t base = READ_SIZE; base <= 2 * READ_SIZE; base += READ_SIZE)
		for (size_t h = 0; h < 2; h++)
			for (size_t l = 0; l < 2; l++)
			{
				for (size_t k = 0; k <= 48; k++)
				{
					boundary_file(&gz, &want, base - k, headers[h], second_lens[l], k % 2 == 0);
					snprintf(what, sizeof(what), "second member at %zu - %zu, header %zu, len %zu",
							 base, k, h, second_lens[l]);
					check_case(&gz, 0, &want, what);
				}
				for (size_t j = 1; j <= 10; j++)
				{
					boundary_file(&gz, &want, base + j, headers[h], second_lens[l], false);
					snprintf(what, sizeof(what), "first member ends at %zu + %zu, header %zu", base,
							 j, h);
					check_case(&gz, 0, &want, what);
				}
			}
	buf_free(&gz);
	buf_free(&want);
	report("read boundaries", cases);
}
END_TEST

START_TEST(test_through_a_pipe)
{
	struct buf gz = { 0 }, want = { 0 };
	char       what[128];

	for (unsigned seed = 1; seed <= 40; seed++)
	{
		unsigned nmembers = 1 + seed % 9;
		size_t   cut;

		many_members(&gz, &want, nmembers, seed * 1000);
		if (gz.len > 60000)
			continue;
		snprintf(what, sizeof(what), "pipe: %u members, seed %u", nmembers, seed);
		check_case_with(gz.p, gz.len, NULL, 0, &want, true, what);
		cut = gz.len - 1 - seed % (gz.len < 30 ? gz.len : 30);
		snprintf(what, sizeof(what), "pipe: %u members, seed %u, cut at %zu", nmembers, seed, cut);
		check_case_with(gz.p, cut, NULL, 0, NULL, true, what);
		buf_add(&gz, "\x1f", 1);
		snprintf(what, sizeof(what), "pipe: %u members, seed %u, and 1f", nmembers, seed);
		check_case_with(gz.p, gz.len, NULL, 0, NULL, true, what);
	}
	buf_free(&gz);
	buf_free(&want);
	report("through a pipe", cases);
}
END_TEST

/* ---- damaged files ---- */

/* The files the damage is done to: one member with every header field, three members, and two
 * across a read boundary. */
static void
base_file(int which, struct buf *gz)
{
	struct buf data = { 0 }, want = { 0 };

	gz->len = 0;
	switch (which)
	{
		case 0:
			make_data(&data, DATA_CSV, 100000, 1);
			zlib_member(gz, data.p, data.len, &full_header);
			break;
		case 1:
			make_data(&data, DATA_MIXED, 30000, 2);
			zlib_member(gz, data.p, data.len, &plain_member);
			zlib_member(gz, NULL, 0, &full_header);
			isal_member(gz, data.p, data.len, 2);
			break;
		default:
			boundary_file(gz, &want, READ_SIZE - 5, &full_header, 2000, false);
			break;
	}
	buf_free(&data);
	buf_free(&want);
}

/* Where the members of gz start (up to max), by inflating them one by one with zlib. */
static size_t
member_starts(const struct buf *gz, size_t *starts, size_t max)
{
	size_t        n = 0, pos = 0;
	unsigned char out[65536];

	while (pos < gz->len && n < max)
	{
		z_stream zs;
		int      rc;

		memset(&zs, 0, sizeof(zs));
		ck_assert_int_eq(inflateInit2(&zs, 16 + MAX_WBITS), Z_OK);
		starts[n++] = pos;
		zs.next_in = gz->p + pos;
		zs.avail_in = (uInt) (gz->len - pos);
		do
		{
			zs.next_out = out;
			zs.avail_out = sizeof(out);
			rc = inflate(&zs, Z_NO_FLUSH);
		} while (rc == Z_OK);
		ck_assert_int_eq(rc, Z_STREAM_END);
		pos = gz->len - zs.avail_in;
		inflateEnd(&zs);
	}
	return n;
}

START_TEST(test_truncated)
{
	struct buf gz = { 0 };
	char       what[128];

	for (int which = 0; which < 3; which++)
	{
		size_t starts[8], nstarts;

		base_file(which, &gz);
		nstarts = member_starts(&gz, starts, 8);
		for (size_t cut = 0; cut < gz.len; cut++)
		{
			bool near = cut < 80 || gz.len - cut <= 80 || cut % 97 == 0 ||
						(cut > READ_SIZE - 40 && cut < READ_SIZE + 40);

			for (size_t m = 1; m < nstarts && !near; m++)
				near = cut + 40 > starts[m] && cut < starts[m] + 40;
			if (!near)
				continue;
			snprintf(what, sizeof(what), "file %d cut at %zu of %zu", which, cut, gz.len);
			check_case_with(gz.p, cut, NULL, 0, NULL, false, what);
		}
	}
	buf_free(&gz);
	report("truncated", cases);
}
END_TEST

/* Flips bit b of byte at in a copy of gz and checks the case. */
static void
flip_case(const struct buf *gz, size_t at, int b, unsigned allow, const char *part, int which)
{
	struct buf copy = { 0 };
	char       what[128];

	buf_add(&copy, gz->p, gz->len);
	copy.p[at] ^= (unsigned char) (1u << b);
	snprintf(what, sizeof(what), "file %d: %s bit %d of byte %zu flipped", which, part, b, at);
	check_case(&copy, allow, NULL, what);
	buf_free(&copy);
}

/* The header's length of the member at start (its optional fields walked). */
static size_t
header_length(const struct buf *gz, size_t start)
{
	const unsigned char *p = gz->p + start;
	unsigned             flg = p[3];
	size_t               n = 10;

	if (flg & 4)
		n += 2 + (size_t) (p[10] | p[11] << 8);
	if (flg & 8)
		n += strlen((const char *) p + n) + 1;
	if (flg & 16)
		n += strlen((const char *) p + n) + 1;
	if (flg & 2)
		n += 2;
	return n;
}

START_TEST(test_bit_flips)
{
	struct buf gz = { 0 };
	uint64_t   s = 42;

	for (int which = 0; which < 3; which++)
	{
		size_t starts[8], nstarts;

		base_file(which, &gz);
		nstarts = member_starts(&gz, starts, 8);
		for (size_t m = 0; m < nstarts; m++)
		{
			size_t end = m + 1 < nstarts ? starts[m + 1] : gz.len;
			size_t hlen = header_length(&gz, starts[m]);

			/* every bit of the header but the middle of a long FEXTRA padding */
			for (size_t at = starts[m]; at < starts[m] + hlen; at++)
				for (int b = 0; b < 8; b++)
					if (at - starts[m] < 40 || starts[m] + hlen - at <= 40)
						flip_case(&gz, at, b, DIFF_ALLOW_KIND, "header", which);
			/* the trailer: both must name the same check */
			for (size_t at = end - 8; at < end; at++)
				for (int b = 0; b < 8; b++)
				{
					struct buf copy = { 0 };
					char       what[96];

					buf_add(&copy, gz.p, gz.len);
					copy.p[at] ^= (unsigned char) (1u << b);
					snprintf(what, sizeof(what), "file %d: trailer bit %d of byte %zu", which, b,
							 at);
					check_fails_with(
						copy.p, copy.len,
						end - at > 4 ? "incorrect data check" : "incorrect length check", what);
					buf_free(&copy);
				}
			for (int k = 0; k < 150 && end - 8 > starts[m] + hlen; k++)
			{
				size_t at = starts[m] + hlen +
							(size_t) (next_rand(&s) % (end - 8 - starts[m] - hlen));

				flip_case(&gz, at, (int) (next_rand(&s) % 8), DIFF_ALLOW_KIND, "data", which);
			}
		}
	}
	buf_free(&gz);
	report("bit flips", cases);
}
END_TEST

START_TEST(test_garbage_after_a_member)
{
	static const struct
	{
		const char *bytes;
		size_t      len;
	} tails[] = {
		{ "\x00", 1 },
		{ "\x1f", 1 },
		{ "\x1f\x8b", 2 },
		{ "\x1f\x8c", 2 },
		{ "\x8b", 1 },
		{ "\n", 1 },
		{ "\0\0\0\0\0\0\0\0", 8 },
		{ "\x1f\x8b\x07\x00\0\0\0\0\0\x03", 10 },
		{ "\x1f\x8b\x08\xe0\0\0\0\0\0\x03", 10 },
		{ "\x1f\x8b\x08\x00\0\0\0\0\0\x03", 10 },
		{ "\x1f\x8b\x08", 3 },
		{ "probe,1,2\n", 10 },
	};
	struct buf gz = { 0 }, data = { 0 }, file = { 0 }, want = { 0 };
	char       what[128];

	make_data(&data, DATA_CSV, 20000, 5);
	for (int where = 0; where < 3; where++)
	{
		gz.len = 0;
		if (where == 0)
			zlib_member(&gz, data.p, data.len, &plain_member);
		else
			boundary_file(&gz, &want, READ_SIZE - (size_t) where, &plain_member, 0, false);
		for (size_t t = 0; t < sizeof(tails) / sizeof(tails[0]); t++)
		{
			file.len = 0;
			buf_add(&file, gz.p, gz.len);
			buf_add(&file, tails[t].bytes, tails[t].len);
			snprintf(what, sizeof(what), "garbage %zu after the member%s", t,
					 where ? "s across a read" : "");
			check_case(&file, 0, NULL, what);
			/* and a valid member after it */
			zlib_member(&file, data.p, 100, &plain_member);
			check_case(&file, 0, NULL, what);
		}
	}
	/* garbage straddling a read: the first member ends at READ_SIZE - 1 */
	boundary_file(&gz, &want, READ_SIZE - 1, &plain_member, 0, false);
	gz.len = READ_SIZE - 1;
	buf_add(&gz, "xy", 2);
	check_fails_with(gz.p, gz.len, "unexpected data after gzip member 1 at byte 262143",
					 "garbage straddling a read");
	buf_free(&gz);
	buf_free(&data);
	buf_free(&file);
	buf_free(&want);
	report("garbage after a member", cases);
}
END_TEST

/* One random damage to a copy of gz. */
static void
mutate(struct buf *out, const struct buf *gz, uint64_t *s)
{
	size_t n = gz->len, at = (size_t) (next_rand(s) % n), len = 1 + (size_t) (next_rand(s) % 64);
	size_t ops = 1 + next_rand(s) % 3;

	out->len = 0;
	buf_add(out, gz->p, n);
	for (size_t k = 0; k < ops && out->len > 0; k++)
	{
		at = (size_t) (next_rand(s) % out->len);
		if (len > out->len - at)
			len = out->len - at;
		switch (next_rand(s) % 6)
		{
			case 0: /* random bytes over */
				for (size_t i = 0; i < len; i++)
					out->p[at + i] = (unsigned char) next_rand(s);
				break;
			case 1: /* a range deleted */
				memmove(out->p + at, out->p + at + len, out->len - at - len);
				out->len -= len;
				break;
			case 2: /* bytes inserted */
				buf_add(out, out->p, len);
				memmove(out->p + at + len, out->p + at, out->len - at - len);
				for (size_t i = 0; i < len; i++)
					out->p[at + i] = (unsigned char) next_rand(s);
				break;
			case 3: /* a range repeated */
				buf_add(out, out->p + at, len);
				break;
			case 4: /* cut */
				out->len = at;
				break;
			default: /* one byte changed */
				out->p[at] ^= (unsigned char) (1 + next_rand(s) % 255);
				break;
		}
	}
}

START_TEST(test_fuzzed)
{
	struct buf gz = { 0 }, copy = { 0 }, data = { 0 };
	uint64_t   s = 7;
	char       what[96];

	for (int which = 0; which < 3; which++)
	{
		base_file(which, &gz);
		for (int k = 0; k < (which == 2 ? 200 : 1500); k++)
		{
			mutate(&copy, &gz, &s);
			snprintf(what, sizeof(what), "file %d, mutation %d", which, k);
			check_case(&copy, DIFF_ALLOW_KIND, NULL, what);
		}
	}
	/* a valid header, then random bytes as deflate data */
	for (int k = 0; k < 1000; k++)
	{
		gz.len = 0;
		buf_add(&gz, "\x1f\x8b\x08\x00\0\0\0\0\0\x03", 10);
		make_data(&data, DATA_RANDOM, 1 + (size_t) (next_rand(&s) % 2000), (uint64_t) k);
		buf_add(&gz, data.p, data.len);
		snprintf(what, sizeof(what), "random deflate data %d", k);
		check_case(&gz, DIFF_ALLOW_KIND, NULL, what);
	}
	buf_free(&gz);
	buf_free(&copy);
	buf_free(&data);
	report("fuzzed", cases);
}
END_TEST

/* ---- limits and names ---- */

START_TEST(test_limits)
{
	struct buf           data = { 0 }, gz = { 0 };
	struct input_options size_limit = { .max_decoded_bytes = 3 * 1024 * 1024 };
	struct input_options ratio_100 = { .max_inflate_ratio = 100 };
	struct input_options ratio_2000 = { .max_inflate_ratio = 2000 };
	struct diff_outcome  z;

	make_data(&data, DATA_ZEROS, 16 * 1024 * 1024, 1);
	zlib_member(&gz, data.p, data.len, &plain_member);
	check_case_with(gz.p, gz.len, &size_limit, 0, NULL, false, "decoded size limit");
	check_case_with(gz.p, gz.len, &ratio_100, 0, NULL, false, "ratio 100");
	check_case_with(gz.p, gz.len, &ratio_2000, 0, &data, false, "ratio 2000");
	read_with(gz.p, gz.len, &ratio_100, INPUT_INFLATER_ISAL, false, &z);
	require(!z.ok && strstr(z.msg, "decompression ratio exceeds 100:1 at byte"), "isal: '%s'",
			z.msg);
	diff_release(&z);
	read_with(gz.p, gz.len, &size_limit, INPUT_INFLATER_ISAL, false, &z);
	require(!z.ok && strstr(z.msg, "decompressed size exceeds the limit of 3145728 bytes"),
			"isal: '%s'", z.msg);
	diff_release(&z);
	buf_free(&data);
	buf_free(&gz);
	report("limits", cases);
}
END_TEST

START_TEST(test_inflater_names)
{
	enum input_inflater k = INPUT_INFLATER_ZLIB;
	struct buf          plain = { 0 };
	struct diff_outcome o;

	ck_assert(input_inflater_parse("isal", &k) && k == INPUT_INFLATER_ISAL);
	ck_assert(input_inflater_parse("zlib", &k) && k == INPUT_INFLATER_ZLIB);
	ck_assert(!input_inflater_parse("ISAL", &k));
	ck_assert(!input_inflater_parse("", &k));
	ck_assert(!input_inflater_parse("zlib ", &k));
	ck_assert_str_eq(input_inflater_name(INPUT_INFLATER_ISAL), "isal");
	ck_assert_str_eq(input_inflater_name(INPUT_INFLATER_ZLIB), "zlib");
	buf_add(&plain, "a,b\n1,2\n", 8);
	read_with(plain.p, plain.len, NULL, INPUT_INFLATER_ZLIB, false, &o);
	ck_assert(o.ok && strcmp(o.stats.kind, "plain") == 0 && o.stats.inflater == NULL);
	diff_release(&o);
	buf_free(&plain);
}
END_TEST

static Suite *
input_suite(void)
{
	Suite *s = suite_create("input");
	TCase *tc = tcase_create("inflaters");

	/* thousands of files each; slower under the sanitizers */
	tcase_set_timeout(tc, 900);
	tcase_add_test(tc, test_inflater_names);
	tcase_add_test(tc, test_levels_and_strategies);
	tcase_add_test(tc, test_many_members);
	tcase_add_test(tc, test_read_boundaries);
	tcase_add_test(tc, test_through_a_pipe);
	tcase_add_test(tc, test_truncated);
	tcase_add_test(tc, test_bit_flips);
	tcase_add_test(tc, test_garbage_after_a_member);
	tcase_add_test(tc, test_fuzzed);
	tcase_add_test(tc, test_limits);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(input_suite());
	int      failed;

	/* a pipe's reader that stops early must not kill its writer */
	signal(SIGPIPE, SIG_IGN);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
