/*
 * source_rollups.h: the settle read with rollups (--rollups auto).  In the
 * read's snapshot it asks which of the period's hours are rolled up and
 * unchanged since (sql/rollup_plan.sql), and splits the period: the days
 * wholly inside it with daily rollups, the hours with hourly ones, and the
 * rest (the hours neither holds, the period's edges off the hour, and the
 * rows without a timestamp when their bucket is changed or not rolled up)
 * from the probes.  One statement then sums the three per (stream, node)
 * with the columns of sql/settle_read.sql (sql/settle_read_rollups.sql), so
 * the aggregate, the rejects and the ledger are those of the probes alone.
 * The rolled-up hours' probe times come from their seconds (coverage.h),
 * exactly as the probes give them.
 */
#ifndef PAYRUN_SOURCE_ROLLUPS_H
#define PAYRUN_SOURCE_ROLLUPS_H

#include <stdbool.h>
#include <stdint.h>

#include "payrun/coverage.h"
#include "payrun/db.h"
#include "payrun/exitcode.h"
#include "payrun/period.h"
#include "payrun/probes.h"

enum rollups_mode
{
	ROLLUPS_AUTO, /* the rolled-up hours from the rollups, the rest from the probes */
	ROLLUPS_OFF   /* every probe from the probe table */
};

/* Parses "auto" or "off". */
bool rollups_mode_parse(const char *text, enum rollups_mode *out);

/* How a read used the rollups, for the manifest. */
struct rollups_use
{
	enum rollups_mode mode;
	const char       *why_none;     /* static: auto, but no hour came from them; else NULL */
	uint32_t          hours;        /* whole hours of the period */
	uint32_t          hours_daily;  /* of them from daily rollups */
	uint32_t          hours_hourly; /* from hourly rollups */
	uint32_t          hours_probes; /* from the probe table */
	int64_t           edge_s;       /* seconds off the hour at the period's ends (probes) */
	bool              untimed_from_rollups; /* the rows without a timestamp */
};

/* A read of p that uses no rollups yet: every hour from the probes. */
void source_rollups_use_init(struct rollups_use *use, enum rollups_mode mode,
							 const struct period *p);

/*
 * In the caller's transaction (REPEATABLE READ, TimeZone UTC): splits the
 * period, adds the rolled-up hours' probe times to cover, and sets *sql to
 * the read's statement (caller frees; it takes no parameter: its ranges
 * are written in), or NULL when no hour is rolled up (use->why_none says why; read
 * the probes as without rollups).  use is source_rollups_use_init's.  PAYRUN_EXIT_OK, _DB or _INTERNAL (the
 * rollups' rows do not parse).
 */
enum payrun_exit source_rollups_plan(struct db *db, const struct probe_table *pt,
									 const struct period *p, struct coverage *cover,
									 struct rollups_use *use, char **sql);

/* The rows of [$1, $2), the bounds converted into the column's meaning. */
void source_rollups_range_where(const struct probe_table *pt, char *buf, size_t len);

/* The filter of sql/settle_read.sql for the whole period: its rows and those without a time. */
void source_rollups_period_where(const struct probe_table *pt, char *buf, size_t len);

/* The zone the rollups record for a table: its timestamp without time zone's, "" if timestamptz. */
const char *source_rollups_zone(const struct probe_table *pt);

#endif
