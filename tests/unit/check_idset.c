/*
 * check_idset.c: unit tests of idset.h, the probe ids seen.
 *
 * The set is held to a naive model (a sorted array) on sequences that stay
 * in runs (increasing, with gaps), that leave them (an id out of order, the
 * run past IDSET_MAX_RUNS), and on random ids; intersect and merge on sets
 * in either form; and the refusal past IDSET_MAX_RANGES, at the same id
 * whether the ids came as runs first or not.
 */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "payrun/idset.h"

#define require(cond, ...)                                                                         \
	do                                                                                             \
	{                                                                                              \
		if (!(cond))                                                                               \
			ck_abort_msg(__VA_ARGS__);                                                             \
	} while (0)

static uint64_t
rnd(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* The model: ids seen, unsorted, looked up by scanning (the tests are small). */
struct model
{
	uint64_t *ids;
	size_t    n;
	size_t    cap;
};

static bool
model_add(struct model *m, uint64_t id)
{
	for (size_t i = 0; i < m->n; i++)
		if (m->ids[i] == id)
			return false;
	if (m->n == m->cap)
	{
		m->cap = m->cap ? m->cap * 2 : 256;
		m->ids = realloc(m->ids, m->cap * sizeof(uint64_t));
		ck_assert_ptr_nonnull(m->ids);
	}
	m->ids[m->n++] = id;
	return true;
}

/* Adds ids[0..n) to both; every answer must agree. */
static void
feed(struct idset *s, struct model *m, const uint64_t *ids, size_t n, const char *what)
{
	for (size_t i = 0; i < n; i++)
	{
		enum idset_result r = idset_add(s, ids[i]);
		bool              fresh = model_add(m, ids[i]);

		require(r != IDSET_FULL, "%s: full at id %llu", what, (unsigned long long) ids[i]);
		require((r == IDSET_NEW) == fresh, "%s: id %llu (#%zu): %s, the model says %s", what,
				(unsigned long long) ids[i], i, r == IDSET_NEW ? "new" : "seen",
				fresh ? "new" : "seen");
	}
}

static void
sequence(uint64_t *ids, size_t n, unsigned kind, uint64_t seed)
{
	uint64_t s = seed, id = rnd(&s) % 1000000;

	for (size_t i = 0; i < n; i++)
	{
		switch (kind)
		{
			case 0: /* consecutive */
				id++;
				break;
			case 1: /* increasing with gaps */
				id += 1 + (rnd(&s) % 4 == 0 ? rnd(&s) % 100000 : 0);
				break;
			case 2: /* in order, then one step back now and then */
				id = rnd(&s) % 50 == 0 && id > 30 ? id - rnd(&s) % 30 : id + 1 + rnd(&s) % 3;
				break;
			default: /* anywhere in a small space: repeats */
				id = rnd(&s) % 3000;
		}
		ids[i] = id;
	}
}

START_TEST(test_against_the_model)
{
	uint64_t ids[4000];
	char     what[64];

	for (unsigned kind = 0; kind < 4; kind++)
		for (uint64_t seed = 1; seed <= 6; seed++)
		{
			struct idset s;
			struct model m = { 0 };
			size_t       n = 500 + (size_t) (seed * 577) % 3500;

			idset_init(&s);
			sequence(ids, n, kind, seed);
			snprintf(what, sizeof(what), "kind %u, seed %llu", kind, (unsigned long long) seed);
			feed(&s, &m, ids, n, what);
			/* every id again: all seen */
			for (size_t i = 0; i < n; i++)
				require(idset_add(&s, ids[i]) == IDSET_SEEN, "%s: id %llu not seen again", what,
						(unsigned long long) ids[i]);
			idset_release(&s);
			free(m.ids);
		}
}
END_TEST

/* In order, ids stay runs and take no bitmap, past what bitmaps would hold. */
START_TEST(test_runs_stay_small)
{
	struct idset s;

	idset_init(&s);
	for (uint64_t id = 5; id < 5 + 3000000; id++)
		require(idset_add(&s, id) == IDSET_NEW, "id %llu", (unsigned long long) id);
	ck_assert_uint_lt(idset_bytes(&s), 1024);
	ck_assert_uint_eq(s.nranges, 0);
	/* ids spread over 20,000 ranges of 32,768, in order: more than IDSET_MAX_RANGES bitmaps */
	for (uint64_t k = 1; k <= 20000 && s.nruns < IDSET_MAX_RUNS; k++)
		ck_assert_int_eq(idset_add(&s, 100000000ULL + k * 40000), IDSET_NEW);
	ck_assert_uint_eq(s.nranges, 0);
	/* out of order: the runs become bitmaps, and answer as they did */
	ck_assert_int_eq(idset_add(&s, 6), IDSET_SEEN);
	ck_assert_uint_gt(s.nranges, 0);
	ck_assert_int_eq(idset_add(&s, 4), IDSET_NEW);
	ck_assert_int_eq(idset_add(&s, 5 + 3000000 - 1), IDSET_SEEN);
	ck_assert_int_eq(idset_add(&s, 5 + 3000000), IDSET_NEW);
	idset_release(&s);
}
END_TEST

/* The refusal comes at the same id whether the ids came as runs first or as bitmaps. */
START_TEST(test_full_at_the_same_id)
{
	for (int warm = 0; warm < 2; warm++)
	{
		struct idset s;
		uint64_t     k;

		idset_init(&s);
		if (warm)
		{
			ck_assert_int_eq(idset_add(&s, 1ULL << 40), IDSET_NEW);
			ck_assert_int_eq(idset_add(&s, 0), IDSET_NEW); /* out of order: bitmaps now */
		}
		for (k = 1;; k++)
		{
			enum idset_result r = idset_add(&s, k << 15);

			if (r == IDSET_FULL)
				break;
			ck_assert_int_eq(r, IDSET_NEW);
		}
		/* 16,384 ranges: warm holds two of its own (ids 0 and 2^40) */
		ck_assert_uint_eq(k, warm ? IDSET_MAX_RANGES - 1 : IDSET_MAX_RANGES + 1);
		ck_assert_uint_eq(s.nranges, IDSET_MAX_RANGES);
		idset_release(&s);
	}
}
END_TEST

/* The parts of a file in id order merge as runs: no bitmap at all. */
START_TEST(test_parts_stay_runs)
{
	struct idset all, part;

	idset_init(&all);
	for (uint64_t k = 0; k < 50; k++)
	{
		idset_init(&part);
		for (uint64_t id = k * 100000 + 1; id <= k * 100000 + 70000; id++)
			idset_add(&part, id);
		ck_assert(!idset_intersects(&part, &all));
		ck_assert(idset_merge(&all, &part));
		idset_release(&part);
	}
	ck_assert_uint_eq(all.nranges, 0);
	ck_assert_uint_eq(all.nruns, 50);
	ck_assert_int_eq(idset_add(&all, 4900001), IDSET_SEEN); /* out of order now: bitmaps */
	ck_assert_int_eq(idset_add(&all, 70001), IDSET_NEW);
	ck_assert_int_eq(idset_add(&all, 70000), IDSET_SEEN);
	idset_release(&all);
	/* the last id there is: a run ending at it takes nothing after it */
	idset_init(&all);
	ck_assert_int_eq(idset_add(&all, UINT64_MAX - 1), IDSET_NEW);
	ck_assert_int_eq(idset_add(&all, UINT64_MAX), IDSET_NEW);
	ck_assert_int_eq(idset_add(&all, 0), IDSET_NEW);
	ck_assert_int_eq(idset_add(&all, UINT64_MAX), IDSET_SEEN);
	ck_assert_int_eq(idset_add(&all, 0), IDSET_SEEN);
	idset_release(&all);
}
END_TEST

START_TEST(test_intersect_and_merge)
{
	for (int form = 0; form < 4; form++)
	{
		struct idset a, b;

		idset_init(&a);
		idset_init(&b);
		for (uint64_t id = 100; id < 200; id++)
			idset_add(&a, id);
		for (uint64_t id = 200; id < 300; id++)
			idset_add(&b, id);
		if (form & 1)
			idset_add(&a, 150); /* a as bitmaps */
		if (form & 2)
			idset_add(&b, 250);
		ck_assert(!idset_intersects(&a, &b));
		ck_assert(idset_merge(&a, &b));
		ck_assert_int_eq(idset_add(&a, 299), IDSET_SEEN);
		ck_assert_int_eq(idset_add(&a, 99), IDSET_NEW);
		ck_assert(idset_intersects(&a, &b));
		idset_release(&a);
		idset_release(&b);
	}
}
END_TEST

int
main(void)
{
	Suite   *s = suite_create("idset");
	TCase   *tc = tcase_create("idset");
	SRunner *sr;
	int      failed;

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_against_the_model);
	tcase_add_test(tc, test_runs_stay_small);
	tcase_add_test(tc, test_full_at_the_same_id);
	tcase_add_test(tc, test_parts_stay_runs);
	tcase_add_test(tc, test_intersect_and_merge);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
