/*
 * source_rollups.c: the settle read with rollups (see source_rollups.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "payrun/log.h"
#include "payrun/mem.h"
#include "payrun/numparse.h"
#include "payrun/source_pg.h"
#include "payrun/source_rollups.h"
#include "payrun/sql.h"
#include "payrun/timestamp.h"
#include "payrun/banned.h"

#define HOUR_S 3600
#define DAY_S  86400

/* Where one whole hour of the period is read from. */
enum slot_source
{
	SLOT_PROBES,
	SLOT_HOURLY,
	SLOT_DAILY
};

/* What sql/rollup_plan.sql returned. */
struct plan_rows
{
	int64_t  h0;      /* the period's first whole hour */
	uint32_t nslots;  /* whole hours */
	char   **seconds; /* per slot: the rolled-up hour's seconds (owned), or NULL */
	bool    *day;     /* per slot: its day has daily rollups */
	bool     untimed; /* the rows without a timestamp are rolled up */
	bool     bad;     /* a row did not parse */
};

bool
rollups_mode_parse(const char *text, enum rollups_mode *out)
{
	if (strcmp(text, "auto") == 0)
		*out = ROLLUPS_AUTO;
	else if (strcmp(text, "off") == 0)
		*out = ROLLUPS_OFF;
	else
		return false;
	return true;
}

const char *
source_rollups_zone(const struct probe_table *pt)
{
	return pt->local_time ? pt->zone : "";
}

void
source_rollups_range_where(const struct probe_table *pt, char *buf, size_t len)
{
	snprintf(buf, len,
			 "probe_timestamp >= $1::timestamptz%s AND probe_timestamp < $2::timestamptz%s", pt->tz,
			 pt->tz);
}

void
source_rollups_period_where(const struct probe_table *pt, char *buf, size_t len)
{
	char range[sizeof(pt->tz) * 2 + 128];

	source_rollups_range_where(pt, range, sizeof(range));
	snprintf(buf, len, "(%s)\n           OR probe_timestamp IS NULL", range);
}

static bool
on_plan_row(void *arg, int ncols, const char *const *values, const int *lengths)
{
	struct plan_rows *pr = arg;
	int64_t           t;
	bool              hour;

	if (ncols != 3 || values[0] == NULL)
		goto bad;
	hour = strcmp(values[0], "hour") == 0;
	if (values[1] == NULL)
	{
		/* the rows without a timestamp: an hour row with no time */
		pr->untimed = hour;
		return true;
	}
	if (!numparse_i64(values[1], strlen(values[1]), &t) || t < pr->h0 || (t - pr->h0) % HOUR_S != 0)
		goto bad;
	if ((uint64_t) (t - pr->h0) / HOUR_S >= pr->nslots)
		goto bad;
	if (hour)
	{
		if (values[2] == NULL || lengths[2] != HOUR_S)
			goto bad;
		pr->seconds[(t - pr->h0) / HOUR_S] = mem_strdup(values[2]);
		return true;
	}
	if (strcmp(values[0], "day") != 0 || (uint64_t) (t - pr->h0) / HOUR_S + 24 > pr->nslots)
		goto bad;
	for (int k = 0; k < 24; k++)
		pr->day[(t - pr->h0) / HOUR_S + (uint64_t) k] = true;
	return true;

bad:
	log_error("internal error: rollup_plan returned a row payrun cannot read");
	pr->bad = true;
	return false;
}

/* Where each whole hour comes from: a day only when all 24 of its hours are there. */
static void
choose_sources(const struct plan_rows *pr, enum slot_source *src)
{
	for (uint32_t i = 0; i < pr->nslots; i++)
		src[i] = pr->seconds[i] ? SLOT_HOURLY : SLOT_PROBES;
	for (uint32_t i = 0; i < pr->nslots; i++)
	{
		bool whole = pr->day[i] && i + 24 <= pr->nslots;

		for (uint32_t k = 0; whole && k < 24; k++)
			whole = pr->day[i + k] && pr->seconds[i + k] != NULL;
		if (!pr->day[i])
			continue;
		for (uint32_t k = 0; whole && k < 24; k++)
			src[i + k] = SLOT_DAILY;
		i += 23;
	}
}

/* A growable SQL text. */
struct text
{
	char  *s;
	size_t len, cap;
};

static void
text_add(struct text *t, const char *s)
{
	size_t n = strlen(s);

	if (t->len + n + 1 > t->cap)
	{
		t->cap = (t->len + n + 1) * 2;
		t->s = mem_realloc(t->s, t->cap);
	}
	memcpy(t->s + t->len, s, n + 1);
	t->len += n;
}

/* One range [from, to) of a column as SQL, ORed onto t. */
static void
add_range(struct text *t, const char *column, const char *tz, int64_t from, int64_t to)
{
	char a[TIMESTAMP_FORMAT_LEN], b[TIMESTAMP_FORMAT_LEN],
		piece[2 * sizeof(((struct probe_table *) 0)->tz) + 128];

	timestamp_format(from, a);
	timestamp_format(to, b);
	snprintf(piece, sizeof(piece), "%s(%s >= '%s'::timestamptz%s AND %s < '%s'::timestamptz%s)",
			 t->len ? "\n           OR " : "", column, a, tz, column, b, tz);
	text_add(t, piece);
}

/* The ranges of the slots read from one source, merged where they touch. */
static void
add_slots(struct text *t, const char *column, const char *tz, const struct plan_rows *pr,
		  const enum slot_source *src, enum slot_source which)
{
	for (uint32_t i = 0; i < pr->nslots;)
	{
		uint32_t j = i;

		if (src[i] != which)
		{
			i++;
			continue;
		}
		while (j < pr->nslots && src[j] == which)
			j++;
		add_range(t, column, tz, pr->h0 + (int64_t) i * HOUR_S, pr->h0 + (int64_t) j * HOUR_S);
		i = j;
	}
}

/* The three filters of sql/settle_read_rollups.sql, and the statement. */
static char *
build_sql(const struct probe_table *pt, const struct period *p, const struct plan_rows *pr,
		  const enum slot_source *src, const char *slice_starts)
{
	struct text daily = { 0 }, hourly = { 0 }, probes = { 0 };
	int64_t     h1 = pr->h0 + (int64_t) pr->nslots * HOUR_S;
	const char *names[2] = { "{probe_where}", "{slice_starts}" };
	const char *outer[4] = { "{daily_where}", "{hourly_where}", "{settle_read}" };
	const char *values[4];
	char       *inner, *sql;

	add_slots(&daily, "day", "", pr, src, SLOT_DAILY);
	add_slots(&hourly, "hour", "", pr, src, SLOT_HOURLY);
	if (pr->untimed)
		text_add(&hourly, hourly.len ? "\n           OR hour = '-infinity'" : "hour = '-infinity'");
	if (p->start < pr->h0 || pr->nslots == 0)
		add_range(&probes, "probe_timestamp", pt->tz, p->start, pr->nslots ? pr->h0 : p->end);
	add_slots(&probes, "probe_timestamp", pt->tz, pr, src, SLOT_PROBES);
	if (pr->nslots > 0 && h1 < p->end)
		add_range(&probes, "probe_timestamp", pt->tz, h1, p->end);
	if (!pr->untimed)
		text_add(&probes, probes.len ? "\n           OR probe_timestamp IS NULL"
									 : "probe_timestamp IS NULL");
	/* no hour left for the probes: none is read (the statement takes no parameter) */
	values[0] = probes.len ? probes.s : "false";
	values[1] = slice_starts;
	inner = probes_sql_with(pt, sql_settle_read, 2, names, values);
	values[0] = daily.len ? daily.s : "false";
	values[1] = hourly.len ? hourly.s : "false";
	values[2] = inner;
	sql = probes_sql_with(pt, sql_settle_read_rollups, 3, outer, values);
	free(inner);
	free(daily.s);
	free(hourly.s);
	free(probes.s);
	return sql;
}

/* The rolled-up hours' seconds into the coverage, as their probes would give them. */
static void
add_seconds(struct coverage *cover, const struct plan_rows *pr, const enum slot_source *src)
{
	for (uint32_t i = 0; i < pr->nslots; i++)
	{
		if (src[i] == SLOT_PROBES)
			continue;
		for (int s = 0; s < HOUR_S; s++)
			if (pr->seconds[i][s] == '1')
				coverage_add(cover, pr->h0 + (int64_t) i * HOUR_S + s);
	}
}

void
source_rollups_use_init(struct rollups_use *use, enum rollups_mode mode, const struct period *p)
{
	int64_t h0 = (p->start + HOUR_S - 1) / HOUR_S * HOUR_S;
	int64_t h1 = p->end / HOUR_S * HOUR_S;

	memset(use, 0, sizeof(*use));
	use->mode = mode;
	use->hours = h1 > h0 ? (uint32_t) ((h1 - h0) / HOUR_S) : 0;
	use->hours_probes = use->hours;
	use->edge_s = use->hours ? (h0 - p->start) + (p->end - h1) : p->end - p->start;
}

static void
count_use(struct rollups_use *use, const struct plan_rows *pr, const enum slot_source *src)
{
	use->hours_probes = 0;
	for (uint32_t i = 0; i < pr->nslots; i++)
	{
		use->hours_daily += src[i] == SLOT_DAILY;
		use->hours_hourly += src[i] == SLOT_HOURLY;
		use->hours_probes += src[i] == SLOT_PROBES;
	}
	use->untimed_from_rollups = pr->untimed;
}

static void
plan_rows_release(struct plan_rows *pr)
{
	for (uint32_t i = 0; pr->seconds && i < pr->nslots; i++)
		free(pr->seconds[i]);
	free(pr->seconds);
	free(pr->day);
}

/* Are the rollups there (schema version 7) and on for this table? */
static enum payrun_exit
rollups_state(struct db *db, const struct probe_table *pt, struct rollups_use *use)
{
	struct db_value installed = { .type = DB_VALUE_BOOL };
	struct db_value table = { .type = DB_VALUE_TEXT };

	if (!db_query_value(db, "read probes", "rollup_installed", sql_rollup_installed, 0, NULL,
						&installed))
		return PAYRUN_EXIT_DB;
	if (!installed.b)
	{
		use->why_none = "the rollup tables are not there (payrun db migrate)";
		return PAYRUN_EXIT_OK;
	}
	if (!db_query_value(db, "read probes", "rollup_state", sql_rollup_state, 0, NULL, &table))
		return PAYRUN_EXIT_DB;
	if (!table.found)
		use->why_none = "rollups are not enabled (payrun db rollup --enable)";
	else if (strcmp(table.text, pt->qualified) != 0)
		use->why_none = "the rollups are of another probe table";
	return PAYRUN_EXIT_OK;
}

enum payrun_exit
source_rollups_plan(struct db *db, const struct probe_table *pt, const struct period *p,
					struct coverage *cover, struct rollups_use *use, char **sql)
{
	char              start[TIMESTAMP_FORMAT_LEN], end[TIMESTAMP_FORMAT_LEN];
	const char       *params[4] = { start, end, pt->qualified, source_rollups_zone(pt) };
	struct plan_rows  pr = { 0 };
	enum slot_source *src;
	int64_t           h1;
	enum payrun_exit  rc;

	*sql = NULL;
	rc = rollups_state(db, pt, use);
	if (rc != PAYRUN_EXIT_OK || use->why_none)
		return rc;
	pr.h0 = (p->start + HOUR_S - 1) / HOUR_S * HOUR_S;
	h1 = p->end / HOUR_S * HOUR_S;
	pr.nslots = h1 > pr.h0 ? (uint32_t) ((h1 - pr.h0) / HOUR_S) : 0;
	pr.seconds = mem_calloc(pr.nslots + 1, sizeof(*pr.seconds));
	pr.day = mem_calloc(pr.nslots + 1, sizeof(*pr.day));
	timestamp_format(p->start, start);
	timestamp_format(p->end, end);
	if (!db_query(db, "read probes", "rollup_plan", sql_rollup_plan, 4, params, on_plan_row, &pr,
				  NULL))
	{
		plan_rows_release(&pr);
		return pr.bad ? PAYRUN_EXIT_INTERNAL : PAYRUN_EXIT_DB;
	}
	src = mem_calloc(pr.nslots + 1, sizeof(*src));
	choose_sources(&pr, src);
	count_use(use, &pr, src);
	if (use->hours_daily + use->hours_hourly == 0 && !use->untimed_from_rollups)
	{
		use->why_none = "no hour of the period is rolled up and unchanged";
		use->hours_probes = use->hours;
	}
	else
	{
		char *starts = source_pg_slice_starts(db, pt, p->start, p->end - p->start);

		if (starts == NULL)
			rc = PAYRUN_EXIT_DB;
		else
		{
			add_seconds(cover, &pr, src);
			*sql = build_sql(pt, p, &pr, src, starts);
		}
		free(starts);
	}
	free(src);
	plan_rows_release(&pr);
	return rc;
}
