/*
 * check_source_split.c: one file parsed on several threads
 * (src/source_csv_split.c) against the sequential reader (read_file).
 *
 * Generated exports, with what makes cutting a file hard: quoted fields
 * holding line ends (so that cuts land inside them), CRLF and lone-CR
 * line ends, misplaced quotes, empty lines, rows of the wrong width,
 * every kind of bad field, rows outside the day, probe ids repeated near
 * and far, ids spread over many id ranges, an unterminated quote at the
 * end, a file that ends without a line end, plain and gzip.  Each is read
 * once in turn and then with 2 and 3 threads in parts of 1 byte to 4 KiB;
 * everything a caller sees must be the same: the status, the counts, the
 * in-period rows, the aggregate's pairs, the coverage, rejects.csv byte
 * for byte, the error and warning lines, and the file's statistics.
 */
#include <check.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "payrun/aggregate.h"
#include "payrun/coverage.h"
#include "payrun/idset.h"
#include "payrun/log.h"
#include "payrun/period.h"
#include "payrun/rejects.h"
#include "payrun/source_csv.h"
#include "../../src/source_csv_int.h"

#define require(cond, ...)                                                                         \
	do                                                                                             \
	{                                                                                              \
		if (!(cond))                                                                               \
			ck_abort_msg(__VA_ARGS__);                                                             \
	} while (0)

#define DAY_START 1793491200LL /* 2026-11-01T00:00:00Z */

static char dir[64];
static int  dirfd_ = -1;

struct text
{
	char  *p;
	size_t len;
	size_t cap;
};

static void
add(struct text *t, const char *s, size_t n)
{
	if (t->len + n + 1 > t->cap)
	{
		t->cap = (t->len + n + 1) * 2;
		t->p = realloc(t->p, t->cap);
		ck_assert_ptr_nonnull(t->p);
	}
	memcpy(t->p + t->len, s, n);
	t->len += n;
	t->p[t->len] = '\0';
}

static void
adds(struct text *t, const char *s)
{
	add(t, s, strlen(s));
}

static uint64_t
rnd(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* What a generated file leans on. */
struct shape
{
	const char *eol;       /* "\n", "\r\n" or "\r" */
	unsigned    quoted_lf; /* in 100: rows with a note holding line ends */
	unsigned    bad;       /* in 100: rows with something wrong */
	unsigned    dup_near;  /* in 100: an id repeated a few rows on */
	unsigned    dup_far;   /* in 100: an id of the file's first rows */
	bool        spread;    /* ids spread over many id ranges */
	bool        no_id;     /* no id column */
	bool        tail;      /* end: none, no final line end, an unterminated quote */
	unsigned    rows;
};

/* One row: id, stream, node, type, success, timestamp, note (quoted, perhaps with line ends). */
static void
gen_row(struct text *t, const struct shape *sh, uint64_t *s, uint64_t i, const char *eol)
{
	char      buf[512];
	uint64_t  r = rnd(s);
	uint64_t  id = sh->spread ? i * 40503 + (r % 7) : i + 1;
	int64_t   ts = DAY_START - 3600 + (int64_t) (rnd(s) % (26 * 3600));
	unsigned  stream = (unsigned) (r % 5), node = (unsigned) ((r >> 8) % 37);
	unsigned  bad = (unsigned) (rnd(s) % 100) < sh->bad ? (unsigned) (rnd(s) % 9) + 1 : 0;
	char      tsbuf[40], sid[24];
	time_t    tt = (time_t) ts;
	struct tm tm;

	if ((unsigned) (rnd(s) % 100) < sh->dup_near && i > 3)
		id = sh->spread ? (i - 2) * 40503 : i - 2;
	if ((unsigned) (rnd(s) % 100) < sh->dup_far)
		id = 1 + rnd(s) % 5;
	gmtime_r(&tt, &tm);
	strftime(tsbuf, sizeof(tsbuf), "%Y-%m-%d %H:%M:%S+00", &tm);
	if (!sh->no_id)
	{
		snprintf(buf, sizeof(buf), bad == 1 ? "x%llu," : "%llu,", (unsigned long long) id);
		adds(t, buf);
	}
	if (bad == 2)
		sid[0] = '\0'; /* an empty stream id */
	else
		snprintf(sid, sizeof(sid), "stream-%u", stream);
	snprintf(buf, sizeof(buf), "%s,node-%u,%s,%s,%s,", sid, node,
			 bad == 3        ? "stats_pol"
			 : (r >> 20) % 4 ? "stats_poll"
							 : "spot_check",
			 bad == 4        ? "maybe"
			 : (r >> 24) % 5 ? "true"
							 : "f",
			 bad == 5 ? "2026-13-01" : tsbuf);
	adds(t, buf);
	if (bad == 6)
		adds(t, "a\"b"); /* a misplaced quote */
	else if ((unsigned) (rnd(s) % 100) < sh->quoted_lf)
	{
		adds(t, "\"line one");
		adds(t, eol);
		adds(t, "say \"\"hi\"\",");
		adds(t, eol);
		adds(t, eol);
		adds(t, "end\"");
	}
	else
		adds(t, "ok");
	if (bad == 7)
		adds(t, ",extra");
	if (bad == 8)
		adds(t, eol); /* an empty line after it */
	if (bad == 9)
		adds(t, "\"tail\"x"); /* text after a closing quote */
	adds(t, eol);
}

static void
gen_file(struct text *t, const struct shape *sh, uint64_t seed)
{
	uint64_t s = seed;

	t->len = 0;
	adds(t, sh->no_id ? "" : "id,");
	adds(t, "stream_id,node_id,probe_type,success,probe_timestamp,note");
	adds(t, sh->eol);
	for (uint64_t i = 0; i < sh->rows; i++)
		gen_row(t, sh, &s, i, sh->eol);
	if (sh->tail)
	{
		switch (seed % 3)
		{
			case 0: /* no final line end */
				while (t->len > 0 && (t->p[t->len - 1] == '\n' || t->p[t->len - 1] == '\r'))
					t->len--;
				break;
			case 1:
				adds(t, "9,stream-1,node-1,stats_poll,t,2026-11-01 01:00:00+00,\"open");
				break;
			default:
				adds(t, sh->eol);
				adds(t, sh->eol);
		}
	}
}

static void
write_file(const char *path, const struct text *t, bool gzip)
{
	if (gzip)
	{
		gzFile gz = gzopen(path, "wb6");

		ck_assert_ptr_nonnull(gz);
		/* two members, to cross one */
		ck_assert_int_eq(gzwrite(gz, t->p, (unsigned) (t->len / 2)), (int) (t->len / 2));
		ck_assert_int_eq(gzclose(gz), Z_OK);
		gz = gzopen(path, "ab6");
		ck_assert_ptr_nonnull(gz);
		if (t->len - t->len / 2 > 0)
			ck_assert_int_eq(gzwrite(gz, t->p + t->len / 2, (unsigned) (t->len - t->len / 2)),
							 (int) (t->len - t->len / 2));
		ck_assert_int_eq(gzclose(gz), Z_OK);
		return;
	}
	FILE *f = fopen(path, "wb");

	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(t->p, 1, t->len, f), t->len);
	ck_assert_int_eq(fclose(f), 0);
}

/* Everything a caller sees of one read. */
struct outcome
{
	enum payrun_exit     rc;
	struct source_counts counts;
	uint64_t             in_period;
	struct aggregate     agg;   /* the pairs' keys point into it */
	struct agg_pair     *pairs; /* owned */
	size_t               npairs;
	struct coverage      cover;
	struct text          rejects;
	struct text          log; /* error and warning lines, the time cut off */
	struct source_file   file;
};

static void
slurp(const char *path, struct text *t)
{
	FILE  *f = fopen(path, "rb");
	char   buf[4096];
	size_t n;

	t->len = 0;
	ck_assert_ptr_nonnull(f);
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		add(t, buf, n);
	fclose(f);
}

static void
keep_log(struct text *out, const char *log, size_t len)
{
	const char *p = log, *end = log + len;

	out->len = 0;
	while (p < end)
	{
		const char *nl = memchr(p, '\n', (size_t) (end - p));
		const char *e = nl ? nl : end;
		const char *lvl = memmem(p, (size_t) (e - p), "payrun: ", 8);

		if (lvl && (memmem(p, (size_t) (e - p), "error: ", 7) ||
					memmem(p, (size_t) (e - p), "warning: ", 9)))
		{
			add(out, lvl, (size_t) (e - lvl));
			adds(out, "\n");
		}
		p = e + 1;
	}
}

static void
read_with(const char *path, unsigned workers, size_t part, struct outcome *o)
{
	struct period        day = { .start = DAY_START, .end = DAY_START + 86400 };
	struct source_window win;
	struct idset         seen;
	struct rejects       rj = { 0 };
	struct input_options opts = { .inflater = INPUT_INFLATER_ISAL };
	char                *log = NULL;
	size_t               log_len = 0;
	FILE                *saved = stderr;
	char                 rpath[128];

	memset(o, 0, sizeof(*o));
	aggregate_init(&o->agg);
	idset_init(&seen);
	coverage_init(&o->cover, day.start, 86400, 86400);
	source_window_single(&win, &day, &o->agg, &o->in_period, &o->cover, &seen);
	unlinkat(dirfd_, "rejects.csv", 0);
	ck_assert(rejects_open(&rj, dirfd_, "rejects.csv"));
	stderr = open_memstream(&log, &log_len);
	ck_assert_ptr_nonnull(stderr);
	o->rc = csv_read_one(path, &win, &opts, &rj, &o->counts, &o->file, workers, part);
	fclose(stderr);
	stderr = saved;
	keep_log(&o->log, log, log_len);
	free(log);
	ck_assert(rejects_close(&rj));
	snprintf(rpath, sizeof(rpath), "%s/rejects.csv", dir);
	slurp(rpath, &o->rejects);
	o->pairs = aggregate_sorted(&o->agg, &o->npairs);
	idset_release(&seen);
}

static void
outcome_free(struct outcome *o)
{
	free(o->pairs);
	aggregate_release(&o->agg);
	free(o->rejects.p);
	free(o->log.p);
	coverage_release(&o->cover);
}

static void
same(const struct outcome *a, const struct outcome *b, const char *what)
{
	require(a->rc == b->rc, "%s: status %d, in turn %d (log: %s | %s)", what, b->rc, a->rc,
			a->log.p ? a->log.p : "", b->log.p ? b->log.p : "");
	require(a->log.len == b->log.len &&
				(a->log.len == 0 || memcmp(a->log.p, b->log.p, a->log.len) == 0),
			"%s: log differs:\nin turn: %s\nsplit:   %s", what, a->log.p ? a->log.p : "",
			b->log.p ? b->log.p : "");
	require(memcmp(&a->counts, &b->counts, sizeof(a->counts)) == 0,
			"%s: counts differ: rows %llu/%llu in %llu/%llu out %llu/%llu rejected %llu/%llu "
			"duplicate %llu/%llu",
			what, (unsigned long long) a->counts.rows_read,
			(unsigned long long) b->counts.rows_read, (unsigned long long) a->counts.in_period,
			(unsigned long long) b->counts.in_period, (unsigned long long) a->counts.out_of_period,
			(unsigned long long) b->counts.out_of_period, (unsigned long long) a->counts.rejected,
			(unsigned long long) b->counts.rejected, (unsigned long long) a->counts.duplicate,
			(unsigned long long) b->counts.duplicate);
	require(a->in_period == b->in_period, "%s: in period %llu/%llu", what,
			(unsigned long long) a->in_period, (unsigned long long) b->in_period);
	require(a->rejects.len == b->rejects.len &&
				memcmp(a->rejects.p, b->rejects.p, a->rejects.len) == 0,
			"%s: rejects.csv differs:\nin turn:\n%s\nsplit:\n%s", what, a->rejects.p, b->rejects.p);
	require(a->npairs == b->npairs, "%s: %zu pairs, in turn %zu", what, b->npairs, a->npairs);
	for (size_t i = 0; i < a->npairs; i++)
		require(a->pairs[i].stream_len == b->pairs[i].stream_len &&
					a->pairs[i].node_len == b->pairs[i].node_len &&
					memcmp(a->pairs[i].stream, b->pairs[i].stream, a->pairs[i].stream_len) == 0 &&
					memcmp(a->pairs[i].node, b->pairs[i].node, a->pairs[i].node_len) == 0 &&
					memcmp(&a->pairs[i].counts, &b->pairs[i].counts, sizeof(struct agg_counts)) ==
						0,
				"%s: pair %zu differs: %.*s/%.*s T %llu/%llu S %llu/%llu F %llu/%llu", what, i,
				(int) b->pairs[i].stream_len, b->pairs[i].stream, (int) b->pairs[i].node_len,
				b->pairs[i].node, (unsigned long long) a->pairs[i].counts.total_polls,
				(unsigned long long) b->pairs[i].counts.total_polls,
				(unsigned long long) a->pairs[i].counts.successful_polls,
				(unsigned long long) b->pairs[i].counts.successful_polls,
				(unsigned long long) a->pairs[i].counts.failed_spot_checks,
				(unsigned long long) b->pairs[i].counts.failed_spot_checks);
	require(a->cover.any == b->cover.any && (!a->cover.any || (a->cover.first == b->cover.first &&
															   a->cover.last == b->cover.last)),
			"%s: coverage ends differ", what);
	require((a->cover.map == NULL) == (b->cover.map == NULL) &&
				(a->cover.map == NULL ||
				 memcmp(a->cover.map, b->cover.map, (86400 + 63) / 64 * sizeof(uint64_t)) == 0),
			"%s: coverage differs", what);
	/* after a failure the reader thread may or may not have reached the end */
	require(a->file.rows == b->file.rows &&
				(a->rc != PAYRUN_EXIT_OK ||
				 (a->file.bytes == b->file.bytes && strcmp(a->file.sha256, b->file.sha256) == 0)),
			"%s: file statistics differ (rows %llu/%llu, bytes %llu/%llu, sha %s/%s)", what,
			(unsigned long long) a->file.rows, (unsigned long long) b->file.rows,
			(unsigned long long) a->file.bytes, (unsigned long long) b->file.bytes, a->file.sha256,
			b->file.sha256);
}

static unsigned long cases;

/* Writes t, reads it in turn and split every way; they must agree. */
static void
check_text(const struct text *t, bool gzip, const char *what)
{
	static const size_t parts[] = { 1, 7, 64, 301, 4096 };
	char                path[128], name[256];
	struct outcome      seq, par;

	snprintf(path, sizeof(path), "%s/in%s", dir, gzip ? ".csv.gz" : ".csv");
	write_file(path, t, gzip);
	read_with(path, 1, 0, &seq);
	for (unsigned w = 2; w <= 3; w++)
		for (size_t k = 0; k < sizeof(parts) / sizeof(parts[0]); k++)
		{
			read_with(path, w, parts[k], &par);
			snprintf(name, sizeof(name), "%s%s, %u threads, parts of %zu", what,
					 gzip ? " (gzip)" : "", w, parts[k]);
			same(&seq, &par, name);
			outcome_free(&par);
			cases++;
		}
	outcome_free(&seq);
}

static void
check_shape(const struct shape *sh, uint64_t seeds, const char *what)
{
	struct text t = { 0 };
	char        name[200];

	for (uint64_t seed = 1; seed <= seeds; seed++)
	{
		gen_file(&t, sh, seed * 1000003 + sh->rows);
		snprintf(name, sizeof(name), "%s, seed %llu", what, (unsigned long long) seed);
		check_text(&t, seed % 2 == 0, name);
	}
	free(t.p);
}

START_TEST(test_clean_files)
{
	struct shape sh = { .eol = "\n", .rows = 400 };

	check_shape(&sh, 4, "clean LF");
	sh.eol = "\r\n";
	check_shape(&sh, 4, "clean CRLF");
	sh.eol = "\r";
	check_shape(&sh, 4, "clean CR");
	sh.no_id = true;
	sh.eol = "\n";
	check_shape(&sh, 2, "no id column");
}
END_TEST

START_TEST(test_quoted_line_ends)
{
	struct shape sh = { .eol = "\n", .quoted_lf = 30, .rows = 300 };

	check_shape(&sh, 4, "quoted LF");
	sh.eol = "\r\n";
	check_shape(&sh, 4, "quoted CRLF");
	sh.eol = "\r";
	check_shape(&sh, 4, "quoted CR");
}
END_TEST

START_TEST(test_bad_rows)
{
	struct shape sh = { .eol = "\n", .bad = 25, .quoted_lf = 10, .rows = 300 };

	check_shape(&sh, 6, "bad rows LF");
	sh.eol = "\r\n";
	check_shape(&sh, 4, "bad rows CRLF");
	sh.tail = true;
	check_shape(&sh, 6, "bad rows, odd ends");
}
END_TEST

START_TEST(test_duplicate_ids)
{
	struct shape sh = { .eol = "\n", .dup_near = 10, .dup_far = 3, .rows = 400 };

	check_shape(&sh, 6, "duplicates");
	sh.spread = true;
	check_shape(&sh, 4, "duplicates, spread ids");
	sh.dup_near = sh.dup_far = 0;
	sh.rows = 3000; /* more id ranges than a part may hold */
	check_shape(&sh, 2, "spread ids");
}
END_TEST

START_TEST(test_small_files)
{
	static const char *const texts[] = {
		"",
		"\n\n",
		"id,stream_id,node_id,probe_type,success,probe_timestamp",
		"id,stream_id,node_id,probe_type,success,probe_timestamp\r",
		"id,stream_id,node_id,probe_type,success,probe_timestamp\r\n",
		"id,stream_id,node_id,probe_type,success\n1,s,n,stats_poll,t\n",
		"id,stream_id,node_id,probe_type,success,probe_timestamp\n"
		"1,s,n,stats_poll,t,2026-11-01 00:00:01+00",
		"id,stream_id,node_id,probe_type,success,probe_timestamp\n"
		"1,s,n,stats_poll,t,2026-11-01 00:00:01+00\n\"unterminated",
		"id,stream_id,\"a\nnote\r\nwith\rline ends\",node_id,probe_type,success,probe_timestamp\n"
		"1,s,x,n,stats_poll,t,2026-11-01 00:00:01+00\n2,s,x,n,stats_poll,x,2026-11-01 "
		"00:00:01+00\n",
		"\"id\",stream_id,node_id,probe_type,success,probe_timestamp\r\n"
		"1,s,n,stats_poll,t,2026-11-01 00:00:01+00\r\n1,s,n,stats_poll,t,2026-11-01 "
		"00:00:01+00\r\n",
	};
	struct text t = { 0 };

	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++)
	{
		char name[64];

		t.len = 0;
		adds(&t, texts[i]);
		snprintf(name, sizeof(name), "small file %zu", i);
		check_text(&t, false, name);
		check_text(&t, true, name);
	}
	free(t.p);
}
END_TEST

/*
 * A read error after a data error: read in turn, the data error stops the
 * read and the cut-off gzip end is never reached, so only the first is
 * logged; read ahead in parts, the same.
 */
START_TEST(test_error_before_a_bad_end)
{
	struct text    t = { 0 };
	char           path[128], line[128];
	struct outcome seq, par;
	FILE          *f;
	long           size;

	adds(&t, "id,stream_id,node_id,probe_type,success,probe_timestamp\n");
	/* past a 1 MiB chunk, so that the read in turn gets to the spread ids before the end */
	for (unsigned i = 0; i < 60000; i++)
	{
		snprintf(line, sizeof(line), "%llu,s,n%u,stats_poll,t,2026-11-01 01:00:00+00\n",
				 (unsigned long long) i * 40000, i % 7);
		adds(&t, line);
	}
	snprintf(path, sizeof(path), "%s/cut.csv.gz", dir);
	write_file(path, &t, true);
	f = fopen(path, "r+b");
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
	size = ftell(f);
	ck_assert_int_eq(ftruncate(fileno(f), size - 20), 0);
	fclose(f);
	read_with(path, 1, 0, &seq);
	require(seq.rc != PAYRUN_EXIT_OK && strstr(seq.log.p, "spread over") != NULL &&
				strstr(seq.log.p, "truncated") == NULL,
			"in turn: %s", seq.log.p ? seq.log.p : "");
	/* default parts read a chunk ahead, small ones hardly at all */
	for (size_t part = 0; part <= 4096; part = part ? part * 4 : 64)
	{
		read_with(path, 2, part, &par);
		same(&seq, &par, "ids spread, then a cut-off gzip end");
		outcome_free(&par);
	}
	outcome_free(&seq);
	free(t.p);
}
END_TEST

/* A file of several chunks: parts of the real size, and chunk ends inside parts. */
START_TEST(test_large_file)
{
	struct shape   sh = { .eol = "\n", .quoted_lf = 2, .bad = 1, .dup_near = 1, .rows = 60000 };
	struct text    t = { 0 };
	char           path[128];
	struct outcome seq, par;

	gen_file(&t, &sh, 77);
	for (int g = 0; g < 2; g++)
	{
		snprintf(path, sizeof(path), "%s/big%s", dir, g ? ".csv.gz" : ".csv");
		write_file(path, &t, g);
		read_with(path, 1, 0, &seq);
		read_with(path, 2, 0, &par);
		same(&seq, &par, g ? "large file (gzip), default parts" : "large file, default parts");
		outcome_free(&par);
		read_with(path, 2, 200000, &par);
		same(&seq, &par, g ? "large file (gzip), parts of 200000" : "large file, parts of 200000");
		outcome_free(&par);
		outcome_free(&seq);
		unlink(path);
	}
	free(t.p);
}
END_TEST

static void
setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/check_source_split.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	dirfd_ = open(dir, O_RDONLY | O_DIRECTORY);
	ck_assert_int_ge(dirfd_, 0);
	log_set_level(LOG_LEVEL_WARNING);
	cases = 0;
}

static void
teardown(void)
{
	char cmd[128];

	printf("# check_source_split: %lu split reads agreed with the reader in turn\n", cases);
	close(dirfd_);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
}

int
main(void)
{
	Suite   *s = suite_create("source_split");
	TCase   *tc = tcase_create("split");
	SRunner *sr;
	int      failed;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 600);
	tcase_add_test(tc, test_clean_files);
	tcase_add_test(tc, test_quoted_line_ends);
	tcase_add_test(tc, test_bad_rows);
	tcase_add_test(tc, test_duplicate_ids);
	tcase_add_test(tc, test_small_files);
	tcase_add_test(tc, test_error_before_a_bad_end);
	tcase_add_test(tc, test_large_file);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
