/*
 * report.h: the timing report.  A table of phases indexed by an enum, each
 * timed with monotonic wall clock and process CPU time (summed over all
 * threads, so cpu s can exceed wall s when inflating and parsing overlap),
 * printed at the end and saved as JSON in the manifest.
 */
#ifndef PAYRUN_REPORT_H
#define PAYRUN_REPORT_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

enum report_phase
{
	REPORT_PHASE_CONNECT = 0, /* connect to PostgreSQL */
	REPORT_PHASE_POOLS,       /* read the pools file or table */
	REPORT_PHASE_READ,        /* CSV: inflate + parse + validate + reduce (pipelined) */
	REPORT_PHASE_QUERY,       /* PostgreSQL: the grouped query, until its first row */
	REPORT_PHASE_FETCH,       /* PostgreSQL: the remaining rows into the aggregate */
	REPORT_PHASE_COMPUTE,     /* payout math, ledger */
	REPORT_PHASE_WRITE,       /* ledger.csv, streams.csv, rejects.csv, manifest.json */
	REPORT_PHASE_DB_WRITE,    /* PostgreSQL: run row, COPY ledger and totals */
	REPORT_PHASE_PUBLISH,     /* COMMIT, then fsync + atomic rename */
	REPORT_PHASE_COUNT
};

struct report_phase_stats
{
	bool     used;
	double   wall_s; /* seconds, monotonic clock */
	double   cpu_s;  /* seconds, process CPU summed over threads */
	uint64_t rows;
	uint64_t bytes;
	double   wall_start; /* clock_monotonic_s() at begin */
	double   cpu_start;  /* clock_cpu_s() at begin */
};

struct report
{
	struct report_phase_stats phases[REPORT_PHASE_COUNT];
	double                    wall_start; /* clock_monotonic_s() at init */
	double                    cpu_start;  /* clock_cpu_s() at init */
};

void report_init(struct report *rep);
void report_begin(struct report *rep, enum report_phase phase);
void report_end(struct report *rep, enum report_phase phase, uint64_t rows, uint64_t bytes);
/* Records a phase measured by the caller (wall and CPU seconds). */
void        report_record(struct report *rep, enum report_phase phase, double wall_s, double cpu_s,
						  uint64_t rows, uint64_t bytes);
const char *report_phase_name(enum report_phase phase);
double      report_total_wall(const struct report *rep);
double      report_total_cpu(const struct report *rep);
/* Peak resident set size of the process so far, KiB. */
long report_peak_rss_kib(void);

void report_print(const struct report *rep, FILE *out);
/* {phases: [...], total_wall_s, total_cpu_s, peak_rss_kib, cpu_note} */
json_t *report_to_json(const struct report *rep);

#endif
