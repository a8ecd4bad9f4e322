/*
 * check_pools.c: unit tests of pools.h, the pools of a period.
 *
 * pools_load reads real files written to a temporary directory, with 0
 * and 18 token decimals; every amount is checked exactly in base units
 * (the expected texts worked out by hand), the pools' copy against the
 * file's bytes as read back here, and its SHA-256 against OpenSSL's
 * EVP_Digest of those bytes (checked on the FIPS 180-2 "abc" vector), not
 * against payrun's own sha256 module.  Refusals must say why on stderr,
 * captured by pointing file descriptor 2 at a temporary file.  Rows from
 * the database (pools_begin_rows, pools_add_text, pools_finish) must
 * render as a CSV file, written out here by hand, that loads back to the
 * same pools.
 */
#include <check.h>
#include <openssl/evp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "payrun/amount.h"
#include "payrun/pools.h"

#define NROWS(a) ((int) (sizeof(a) / sizeof((a)[0])))

/* Ids given as string literals, which may hold NUL bytes. */
#define ID(lit) (lit), (sizeof(lit) - 1)

/* 2^256 - 1 (exact, from Python) */
#define MAX_TEXT "115792089237316195423570985008687907853269984665640564039457584007913129639935"

/* The decimal text of an amount (a ring of 8 buffers). */
static const char *
amt_text(const struct amount *a)
{
	static char ring[8][AMOUNT_TEXT_LEN];
	static int  k;
	char       *buf = ring[k++ % 8];

	amount_format(a, buf);
	return buf;
}

/* The SHA-256 of data as lowercase hex, by OpenSSL directly. */
static void
sha256_hex(const void *data, size_t len, char hex[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int  mdlen = 0;

	ck_assert(EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL) == 1);
	ck_assert_uint_eq(mdlen, 32);
	for (unsigned i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
}

START_TEST(test_sha256_helper)
{
	char hex[65];

	/* FIPS 180-2, appendix B.1 */
	sha256_hex("abc", 3, hex);
	ck_assert_str_eq(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	sha256_hex("", 0, hex);
	ck_assert_str_eq(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}
END_TEST

/* ---- files and stderr ---- */

struct tmpfile
{
	char dir[256];
	char path[300];
};

/* Writes data[0..len) to a new pools.csv in a new directory. */
static void
file_make(struct tmpfile *t, const char *data, size_t len)
{
	const char *base = getenv("TMPDIR");
	FILE       *f;

	snprintf(t->dir, sizeof(t->dir), "%s/check_pools.XXXXXX", base && *base ? base : "/tmp");
	ck_assert_ptr_nonnull(mkdtemp(t->dir));
	snprintf(t->path, sizeof(t->path), "%s/pools.csv", t->dir);
	f = fopen(t->path, "wb");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(data, 1, len, f), len);
	ck_assert_int_eq(fclose(f), 0);
}

/* The file's bytes as they are on disk (caller frees). */
static char *
file_read(const struct tmpfile *t, size_t *len)
{
	FILE *f = fopen(t->path, "rb");
	long  n;
	char *buf;

	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	ck_assert_int_ge(n, 0);
	rewind(f);
	buf = malloc((size_t) n + 1);
	ck_assert_ptr_nonnull(buf);
	ck_assert_uint_eq(fread(buf, 1, (size_t) n, f), (size_t) n);
	fclose(f);
	*len = (size_t) n;
	return buf;
}

static void
file_remove(const struct tmpfile *t)
{
	unlink(t->path);
	ck_assert_int_eq(rmdir(t->dir), 0);
}

/* stderr, captured: what a refusal said. */
struct capture
{
	int   saved;
	FILE *file;
};

static void
capture_begin(struct capture *c)
{
	fflush(stderr);
	c->file = tmpfile();
	ck_assert_ptr_nonnull(c->file);
	c->saved = dup(STDERR_FILENO);
	ck_assert_int_ge(c->saved, 0);
	ck_assert_int_ge(dup2(fileno(c->file), STDERR_FILENO), 0);
}

static char *
capture_end(struct capture *c)
{
	long  n;
	char *text;

	fflush(stderr);
	ck_assert_int_ge(dup2(c->saved, STDERR_FILENO), 0);
	close(c->saved);
	n = ftell(c->file);
	ck_assert_int_ge(n, 0);
	text = calloc(1, (size_t) n + 1);
	ck_assert_ptr_nonnull(text);
	rewind(c->file);
	ck_assert_uint_eq(fread(text, 1, (size_t) n, c->file), (size_t) n);
	fclose(c->file);
	return text;
}

/* pools_load of data with these decimals; *err gets what was logged (free it). */
static bool
load(struct pools *pools, struct tmpfile *t, const char *data, size_t len, unsigned decimals,
	 char **err)
{
	struct capture cap;
	bool           ok;

	file_make(t, data, len);
	pools_init(pools);
	capture_begin(&cap);
	ok = pools_load(pools, t->path, decimals, POOLS_FILE);
	*err = capture_end(&cap);
	return ok;
}

/* Entry i is stream s with this pool (base units, as text) from this line. */
static void
assert_entry(const struct pools *pools, size_t i, const char *s, size_t slen, const char *pool,
			 uint64_t line)
{
	const struct pool_entry *e;

	ck_assert_msg(i < pools->count, "entry %zu of %zu", i, pools->count);
	e = &pools->entries[i];
	ck_assert_msg(e->stream_len == slen && memcmp(e->stream, s, slen) == 0,
				  "entry %zu is '%.*s', want '%.*s'", i, (int) e->stream_len, e->stream, (int) slen,
				  s);
	ck_assert_msg(strcmp(amt_text(&e->pool), pool) == 0, "entry %zu '%.*s': pool %s, want %s", i,
				  (int) slen, s, amt_text(&e->pool), pool);
	ck_assert_msg(e->line == line, "entry %zu: line %llu, want %llu", i,
				  (unsigned long long) e->line, (unsigned long long) line);
	ck_assert_ptr_eq(pools_find(pools, s, slen), e);
}

/* The pools' copy is the file's bytes, and its digest OpenSSL's of them. */
static void
assert_copy_is_file(const struct pools *pools, const struct tmpfile *t)
{
	size_t len;
	char  *bytes = file_read(t, &len);
	char   hex[65];

	ck_assert_uint_eq(pools->copy_len, len);
	ck_assert_msg(len == 0 || memcmp(pools->copy, bytes, len) == 0, "the copy differs from '%s'",
				  t->path);
	sha256_hex(bytes, len, hex);
	ck_assert_str_eq(pools->sha256, hex);
	free(bytes);
}

/* ---- pools_load ---- */

/*
 * Base units (0 decimals), rows out of order, an id quoted for its comma,
 * amounts past 2^64 and up to 2^256 - 1, a column the reader ignores.
 * Sorted: a (line 3) < b (line 2) < "c,1" (line 4) < z (line 5).
 */
static const char base_units_file[] = "stream_id,note,pool\r\n"
									  "b,x,5\r\n"
									  "a,,18446744073709551616\r\n"
									  "\"c,1\",y," MAX_TEXT "\r\n"
									  "z,,0000\r\n";

START_TEST(test_load_base_units)
{
	struct pools   pools;
	struct tmpfile t;
	char          *err;

	ck_assert_msg(load(&pools, &t, base_units_file, sizeof(base_units_file) - 1, 0, &err),
				  "refused: %s", err);
	ck_assert_uint_eq(pools.count, 4);
	assert_entry(&pools, 0, ID("a"), "18446744073709551616", 3);
	assert_entry(&pools, 1, ID("b"), "5", 2);
	assert_entry(&pools, 2, ID("c,1"), MAX_TEXT, 4);
	assert_entry(&pools, 3, ID("z"), "0", 5);
	ck_assert_ptr_null(pools_find(&pools, ID("c")));
	ck_assert_ptr_null(pools_find(&pools, ID("a\0")));
	ck_assert_int_eq(pools.origin, POOLS_FILE);
	ck_assert_uint_eq(pools.decimals, 0);
	ck_assert_str_eq(pools.path, t.path);
	ck_assert(!pools_all_zero(&pools));
	assert_copy_is_file(&pools, &t);
	free(err);
	pools_release(&pools);
	file_remove(&t);
}
END_TEST

/*
 * Tokens of 18 decimals: 42 is 42 * 10^18; the smallest unit; a fraction
 * of 6 digits; exponents as PostgreSQL prints a large float (1e+21 tokens
 * = 10^39 base units, 4.2E19 tokens = 4.2 * 10^37); extra zeros at the
 * end; the largest amount, 2^256 - 1 base units, as tokens.
 */
static const char tokens_file[] =
	"pool,stream_id\n"
	"42,s1\n"
	"0.000000000000000001,s2\n"
	"2500000.123456,s3\n"
	"1e+21,s4\n"
	"4.2E19,s5\n"
	"1.50000000000000000000000,s6\n"
	"115792089237316195423570985008687907853269984665640564039457.584007913129639935,s7\n"
	"0,s8\n";

START_TEST(test_load_tokens)
{
	struct pools   pools;
	struct tmpfile t;
	char          *err;

	ck_assert_msg(load(&pools, &t, tokens_file, sizeof(tokens_file) - 1, 18, &err), "refused: %s",
				  err);
	ck_assert_uint_eq(pools.count, 8);
	assert_entry(&pools, 0, ID("s1"), "42000000000000000000", 2);
	assert_entry(&pools, 1, ID("s2"), "1", 3);
	assert_entry(&pools, 2, ID("s3"), "2500000123456000000000000", 4);
	assert_entry(&pools, 3, ID("s4"), "1000000000000000000000000000000000000000", 5);
	assert_entry(&pools, 4, ID("s5"), "42000000000000000000000000000000000000", 6);
	assert_entry(&pools, 5, ID("s6"), "1500000000000000000", 7);
	assert_entry(&pools, 6, ID("s7"), MAX_TEXT, 8);
	assert_entry(&pools, 7, ID("s8"), "0", 9);
	ck_assert_uint_eq(pools.decimals, 18);
	assert_copy_is_file(&pools, &t);
	free(err);
	pools_release(&pools);
	file_remove(&t);
}
END_TEST

/* A header and nothing else: no pools, all zero; the copy is still the file. */
START_TEST(test_load_header_only)
{
	struct pools   pools;
	struct tmpfile t;
	char          *err;

	ck_assert_msg(load(&pools, &t, ID("stream_id,pool\n"), 6, &err), "refused: %s", err);
	ck_assert_uint_eq(pools.count, 0);
	ck_assert(pools_all_zero(&pools));
	ck_assert_ptr_null(pools_find(&pools, ID("s")));
	assert_copy_is_file(&pools, &t);
	free(err);
	pools_release(&pools);
	file_remove(&t);
}
END_TEST

/*
 * Refused amounts: the message names the file and line, the stream and
 * the value as written, and why.
 */
struct refusal
{
	const char *text;
	size_t      len;
	unsigned    decimals;
	const char *want[4]; /* each in the message */
};

static const struct refusal refusals[] = {
	/* more fractional digits than the token has */
	{ ID("stream_id,pool\nok,1\nsix,1.1234567\n"),
	  6,
	  { ":3:", "'six'", "'1.1234567'", "fractional digits" } },
	{ ID("stream_id,pool\nbase,1.5\n"), 0, { ":2:", "'base'", "'1.5'", "fractional digits" } },
	{ ID("stream_id,pool\neth,0.0000000000000000001\n"),
	  18,
	  { ":2:", "'eth'", "'0.0000000000000000001'", "18" } },
	{ ID("stream_id,pool\ne,1e-19\n"), 18, { ":2:", "'e'", "'1e-19'", NULL } },
	/* too large */
	{ ID("stream_id,pool\nbig,"
		 "115792089237316195423570985008687907853269984665640564039457584007913129639936\n"),
	  0,
	  { ":2:", "'big'", "2^256 - 1", NULL } },
	{ ID("stream_id,pool\nbig,115792089237316195423570985008687907853269984665640564039458\n"),
	  18,
	  { ":2:", "'big'", "2^256 - 1", NULL } },
	/* not a number */
	{ ID("stream_id,pool\nneg,-1\n"), 0, { ":2:", "'neg'", "'-1'", NULL } },
	{ ID("stream_id,pool\nsp, 5\n"), 0, { ":2:", "'sp'", "' 5'", NULL } },
	{ ID("stream_id,pool\nnone,\n"), 0, { ":2:", "'none'", NULL, NULL } },
	/* stream ids: empty, too long */
	{ ID("stream_id,pool\n,5\n"), 0, { ":2:", "stream_id", NULL, NULL } },
	/* a duplicate stream: both lines named */
	{ ID("stream_id,pool\na,1\nb,2\na,3\n"), 0, { ":4:", "'a'", "twice", "line 2" } },
	{ ID("stream_id,pool\nt,1\nt,1.0\n"), 1, { ":3:", "'t'", "twice", "line 2" } },
};

START_TEST(test_load_refused)
{
	const struct refusal *r = &refusals[_i];
	struct pools          pools;
	struct tmpfile        t;
	char                 *err;

	ck_assert_msg(!load(&pools, &t, r->text, r->len, r->decimals, &err), "row %d accepted", _i);
	for (int k = 0; k < 4; k++)
		ck_assert_msg(r->want[k] == NULL || strstr(err, r->want[k]) != NULL,
					  "row %d: message '%s' lacks %s", _i, err, r->want[k]);
	ck_assert_msg(strstr(err, t.path) != NULL, "row %d: message '%s' lacks the path", _i, err);
	free(err);
	pools_release(&pools);
	file_remove(&t);
}
END_TEST

/*
 * A pool of 7 base units written with a long mantissa and an exponent
 * past 1000 ("7", 1010 zeros, "e-1010") is 7, not 7 * 10^10.
 */
START_TEST(test_load_long_mantissa)
{
	static char    text[2048];
	size_t         n;
	struct pools   pools;
	struct tmpfile t;
	char          *err;

	n = (size_t) snprintf(text, sizeof(text), "stream_id,pool\ns,7");
	memset(text + n, '0', 1010);
	n += 1010;
	n += (size_t) snprintf(text + n, sizeof(text) - n, "e-1010\n");
	ck_assert_msg(load(&pools, &t, text, n, 0, &err), "refused: %s", err);
	assert_entry(&pools, 0, ID("s"), "7", 2);
	free(err);
	pools_release(&pools);
	file_remove(&t);
}
END_TEST

/* A stream id of 256 bytes is one too many; 255 is fine. */
START_TEST(test_load_long_id)
{
	char           text[600];
	struct pools   pools;
	struct tmpfile t;
	char          *err;
	int            n;

	n = snprintf(text, sizeof(text), "stream_id,pool\n%.*s,7\n", 255,
				 "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
				 "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
				 "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
				 "xxxxxxxxxxxxxxxx");
	ck_assert_msg(load(&pools, &t, text, (size_t) n, 0, &err), "refused: %s", err);
	ck_assert_uint_eq(pools.entries[0].stream_len, 255);
	free(err);
	pools_release(&pools);
	file_remove(&t);

	n = snprintf(text, sizeof(text), "stream_id,pool\n%.*sy,7\n", 255,
				 "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
				 "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
				 "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
				 "xxxxxxxxxxxxxxxx");
	ck_assert_msg(!load(&pools, &t, text, (size_t) n, 0, &err), "256 bytes accepted");
	ck_assert_msg(strstr(err, "256") != NULL, "message '%s'", err);
	free(err);
	pools_release(&pools);
	file_remove(&t);
}
END_TEST

/* ---- rows from the database ---- */

/*
 * Rows as a query returns them, in its order, amounts as its text: the
 * copy is a CSV file of them in that order, ids quoted where they hold a
 * comma, a quote or a line end; the entries are sorted.  18 decimals.
 */
static const char rows_csv[] = "stream_id,pool\n"
							   "b,1.5\n"
							   "\"a,x\",2\n"
							   "\"q\"\"t\",0\n"
							   "\"l\nf\",4.2E19\n"
							   "z,0.000000000000000001\n";

START_TEST(test_rows_rendering)
{
	struct pools pools;
	char         hex[65];

	pools_init(&pools);
	pools_begin_rows(&pools, POOLS_QUERY, 18);
	ck_assert(pools_add_text(&pools, "query", 1, ID("b"), ID("1.5")));
	ck_assert(pools_add_text(&pools, "query", 2, ID("a,x"), ID("2")));
	ck_assert(pools_add_text(&pools, "query", 3, ID("q\"t"), ID("0")));
	ck_assert(pools_add_text(&pools, "query", 4, ID("l\nf"), ID("4.2E19")));
	ck_assert(pools_add_text(&pools, "query", 5, ID("z"), ID("0.000000000000000001")));
	ck_assert(pools_finish(&pools, "query"));

	ck_assert_uint_eq(pools.copy_len, sizeof(rows_csv) - 1);
	ck_assert_msg(memcmp(pools.copy, rows_csv, sizeof(rows_csv) - 1) == 0, "copy '%.*s'",
				  (int) pools.copy_len, pools.copy);
	sha256_hex(rows_csv, sizeof(rows_csv) - 1, hex);
	ck_assert_str_eq(pools.sha256, hex);
	ck_assert_int_eq(pools.origin, POOLS_QUERY);
	ck_assert_uint_eq(pools.decimals, 18);

	/* sorted: "a,x" < b < "l\nf" < "q\"t" < z; each from its row */
	ck_assert_uint_eq(pools.count, 5);
	assert_entry(&pools, 0, ID("a,x"), "2000000000000000000", 2);
	assert_entry(&pools, 1, ID("b"), "1500000000000000000", 1);
	assert_entry(&pools, 2, ID("l\nf"), "42000000000000000000000000000000000000", 4);
	assert_entry(&pools, 3, ID("q\"t"), "0", 3);
	assert_entry(&pools, 4, ID("z"), "1", 5);
	ck_assert(!pools_all_zero(&pools));
	pools_release(&pools);
}
END_TEST

/* The rendered copy, written to a file, loads back to the same pools and digest. */
START_TEST(test_rows_copy_loads_back)
{
	struct pools   rows, back;
	struct tmpfile t;
	char          *err;

	pools_init(&rows);
	pools_begin_rows(&rows, POOLS_TABLE, 6);
	ck_assert(pools_add_text(&rows, "payout_pools", 1, ID("s,1"), ID("2500000.123456")));
	ck_assert(pools_add_text(&rows, "payout_pools", 2, ID("\"s2\""), ID("1e+3")));
	ck_assert(pools_add_text(&rows, "payout_pools", 3, ID("s\r3"), ID(MAX_TEXT "e-6")));
	ck_assert(pools_finish(&rows, "payout_pools"));

	ck_assert_msg(load(&back, &t, rows.copy, rows.copy_len, 6, &err), "refused: %s", err);
	ck_assert_uint_eq(back.count, rows.count);
	for (size_t i = 0; i < rows.count; i++)
	{
		ck_assert(back.entries[i].stream_len == rows.entries[i].stream_len &&
				  memcmp(back.entries[i].stream, rows.entries[i].stream,
						 rows.entries[i].stream_len) == 0);
		ck_assert_msg(amount_cmp(&back.entries[i].pool, &rows.entries[i].pool) == 0,
					  "entry %zu: %s, was %s", i, amt_text(&back.entries[i].pool),
					  amt_text(&rows.entries[i].pool));
	}
	assert_entry(&rows, 2, ID("s,1"), "2500000123456", 1);
	assert_entry(&rows, 0, ID("\"s2\""), "1000000000", 2);
	assert_entry(&rows, 1, ID("s\r3"), MAX_TEXT, 3);
	ck_assert_str_eq(back.sha256, rows.sha256);
	assert_copy_is_file(&back, &t);
	free(err);
	pools_release(&back);
	pools_release(&rows);
	file_remove(&t);
}
END_TEST

/* A bad row is refused, logged with the origin, row, stream and value, and left out of the copy. */
START_TEST(test_rows_refused)
{
	struct pools   pools;
	struct capture cap;
	char          *err;
	char           hex[65];

	pools_init(&pools);
	pools_begin_rows(&pools, POOLS_TABLE, 2);
	ck_assert(pools_add_text(&pools, "payout_pools", 1, ID("a"), ID("1.25")));
	capture_begin(&cap);
	ck_assert(!pools_add_text(&pools, "payout_pools", 2, ID("b"), ID("1.255")));
	err = capture_end(&cap);
	ck_assert_msg(strstr(err, "payout_pools:2:") != NULL && strstr(err, "'b'") != NULL &&
					  strstr(err, "'1.255'") != NULL,
				  "message '%s'", err);
	free(err);
	capture_begin(&cap);
	ck_assert(!pools_add_text(&pools, "payout_pools", 3, "", 0, ID("1")));
	err = capture_end(&cap);
	ck_assert_msg(strstr(err, "payout_pools:3:") != NULL, "message '%s'", err);
	free(err);
	ck_assert(pools_finish(&pools, "payout_pools"));
	ck_assert_uint_eq(pools.count, 1);
	assert_entry(&pools, 0, ID("a"), "125", 1);
	ck_assert_uint_eq(pools.copy_len, 22);
	ck_assert(memcmp(pools.copy, "stream_id,pool\na,1.25\n", 22) == 0);
	sha256_hex("stream_id,pool\na,1.25\n", 22, hex);
	ck_assert_str_eq(pools.sha256, hex);
	pools_release(&pools);
}
END_TEST

/* Rows naming a stream twice: pools_finish refuses, naming it and both rows. */
START_TEST(test_rows_duplicate)
{
	struct pools   pools;
	struct capture cap;
	char          *err;
	bool           ok;

	pools_init(&pools);
	pools_begin_rows(&pools, POOLS_QUERY, 0);
	ck_assert(pools_add_text(&pools, "query", 1, ID("s"), ID("1")));
	ck_assert(pools_add_text(&pools, "query", 2, ID("t"), ID("2")));
	ck_assert(pools_add_text(&pools, "query", 3, ID("s"), ID("3")));
	capture_begin(&cap);
	ok = pools_finish(&pools, "query");
	err = capture_end(&cap);
	ck_assert(!ok);
	ck_assert_msg(strstr(err, "query:3:") != NULL && strstr(err, "'s'") != NULL &&
					  strstr(err, "twice") != NULL && strstr(err, "1") != NULL,
				  "message '%s'", err);
	free(err);
	pools_release(&pools);
}
END_TEST

/* No rows: an empty pools file (the header) and its digest. */
START_TEST(test_rows_none)
{
	struct pools pools;
	char         hex[65];

	pools_init(&pools);
	pools_begin_rows(&pools, POOLS_TABLE, 0);
	ck_assert(pools_finish(&pools, "payout_pools"));
	ck_assert_uint_eq(pools.count, 0);
	ck_assert_uint_eq(pools.copy_len, 15);
	ck_assert(memcmp(pools.copy, "stream_id,pool\n", 15) == 0);
	sha256_hex("stream_id,pool\n", 15, hex);
	ck_assert_str_eq(pools.sha256, hex);
	ck_assert(pools_all_zero(&pools));
	pools_release(&pools);
}
END_TEST

/* ---- pools_all_zero, pools_origin_name ---- */

START_TEST(test_all_zero)
{
	struct pools pools;

	/* nothing at all (no origin) */
	pools_init(&pools);
	ck_assert(pools_all_zero(&pools));
	pools_release(&pools);

	/* zeros written every way */
	pools_init(&pools);
	pools_begin_rows(&pools, POOLS_TABLE, 18);
	ck_assert(pools_add_text(&pools, "t", 1, ID("a"), ID("0")));
	ck_assert(pools_add_text(&pools, "t", 2, ID("b"), ID("0.000")));
	ck_assert(pools_add_text(&pools, "t", 3, ID("c"), ID("0e+50")));
	ck_assert(pools_add_text(&pools, "t", 4, ID("d"), ID("000")));
	ck_assert(pools_finish(&pools, "t"));
	ck_assert(pools_all_zero(&pools));
	pools_release(&pools);

	/* one base unit anywhere is not zero: first, last, past 2^64 */
	for (int where = 0; where < 3; where++)
	{
		pools_init(&pools);
		pools_begin_rows(&pools, POOLS_TABLE, 18);
		ck_assert(pools_add_text(&pools, "t", 1, ID("a"), where == 0 ? "0.000000000000000001" : "0",
								 where == 0 ? 20 : 1));
		ck_assert(pools_add_text(&pools, "t", 2, ID("m"), ID("0")));
		ck_assert(pools_add_text(&pools, "t", 3, ID("z"), where == 1 ? "1" : "0", 1));
		if (where == 2)
			ck_assert(pools_add_text(&pools, "t", 4, ID("big"), ID("18446744073709551616e-18")));
		ck_assert(pools_finish(&pools, "t"));
		ck_assert_msg(!pools_all_zero(&pools), "case %d: all zero", where);
		pools_release(&pools);
	}
}
END_TEST

START_TEST(test_origin_names)
{
	ck_assert_str_eq(pools_origin_name(POOLS_NONE), "none");
	ck_assert_str_eq(pools_origin_name(POOLS_FILE), "file");
	ck_assert_str_eq(pools_origin_name(POOLS_TABLE), "payout_pools");
	ck_assert_str_eq(pools_origin_name(POOLS_QUERY), "query");
	ck_assert_str_eq(pools_origin_name(POOLS_VERSION), "previous version");
}
END_TEST

static Suite *
pools_suite(void)
{
	Suite *s = suite_create("pools");
	TCase *tc;

	tc = tcase_create("load");
	tcase_add_test(tc, test_sha256_helper);
	tcase_add_test(tc, test_load_base_units);
	tcase_add_test(tc, test_load_tokens);
	tcase_add_test(tc, test_load_header_only);
	tcase_add_loop_test(tc, test_load_refused, 0, NROWS(refusals));
	tcase_add_test(tc, test_load_long_id);
	tcase_add_test(tc, test_load_long_mantissa);
	suite_add_tcase(s, tc);

	tc = tcase_create("rows");
	tcase_add_test(tc, test_rows_rendering);
	tcase_add_test(tc, test_rows_copy_loads_back);
	tcase_add_test(tc, test_rows_refused);
	tcase_add_test(tc, test_rows_duplicate);
	tcase_add_test(tc, test_rows_none);
	suite_add_tcase(s, tc);

	tc = tcase_create("misc");
	tcase_add_test(tc, test_all_zero);
	tcase_add_test(tc, test_origin_names);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(pools_suite());
	int      failed;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
