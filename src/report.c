/*
 * report.c: phase timing and the summary table (see report.h).
 */
#include <string.h>
#include <sys/resource.h>

#include "payrun/clock.h"
#include "payrun/report.h"
#include "payrun/banned.h"

static const char *const phase_names[REPORT_PHASE_COUNT] = {
	[REPORT_PHASE_CONNECT] = "connect", [REPORT_PHASE_POOLS] = "pools",
	[REPORT_PHASE_READ] = "read",       [REPORT_PHASE_QUERY] = "query",
	[REPORT_PHASE_FETCH] = "fetch",     [REPORT_PHASE_COMPUTE] = "compute",
	[REPORT_PHASE_WRITE] = "write",     [REPORT_PHASE_DB_WRITE] = "db write",
	[REPORT_PHASE_PUBLISH] = "publish",
};

void
report_init(struct report *rep)
{
	memset(rep, 0, sizeof(*rep));
	rep->wall_start = clock_monotonic_s();
	rep->cpu_start = clock_cpu_s();
}

const char *
report_phase_name(enum report_phase phase)
{
	return phase_names[phase];
}

void
report_begin(struct report *rep, enum report_phase phase)
{
	struct report_phase_stats *p = &rep->phases[phase];

	p->wall_start = clock_monotonic_s();
	p->cpu_start = clock_cpu_s();
}

void
report_end(struct report *rep, enum report_phase phase, uint64_t rows, uint64_t bytes)
{
	struct report_phase_stats *p = &rep->phases[phase];

	p->used = true;
	p->wall_s += clock_monotonic_s() - p->wall_start;
	p->cpu_s += clock_cpu_s() - p->cpu_start;
	p->rows += rows;
	p->bytes += bytes;
}

void
report_record(struct report *rep, enum report_phase phase, double wall_s, double cpu_s,
			  uint64_t rows, uint64_t bytes)
{
	struct report_phase_stats *p = &rep->phases[phase];

	p->used = true;
	p->wall_s += wall_s;
	p->cpu_s += cpu_s;
	p->rows += rows;
	p->bytes += bytes;
}

double
report_total_wall(const struct report *rep)
{
	return clock_monotonic_s() - rep->wall_start;
}

double
report_total_cpu(const struct report *rep)
{
	return clock_cpu_s() - rep->cpu_start;
}

long
report_peak_rss_kib(void)
{
	struct rusage ru;

	if (getrusage(RUSAGE_SELF, &ru) != 0)
		return 0;
	return ru.ru_maxrss; /* KiB on Linux */
}

void
report_print(const struct report *rep, FILE *out)
{
	fprintf(out, "%-10s %9s %9s %13s %10s %12s\n", "phase", "wall s", "cpu s", "rows", "MB",
			"rows/s");
	for (int i = 0; i < REPORT_PHASE_COUNT; i++)
	{
		const struct report_phase_stats *p = &rep->phases[i];
		char                             rate[32] = "-";

		if (!p->used)
			continue;
		if (p->rows > 0 && p->wall_s > 0)
			snprintf(rate, sizeof(rate), "%.0f", (double) p->rows / p->wall_s);
		fprintf(out, "%-10s %9.3f %9.3f %13llu %10.1f %12s\n", phase_names[i], p->wall_s, p->cpu_s,
				(unsigned long long) p->rows, (double) p->bytes / 1e6, rate);
	}
	fprintf(out, "%-10s %9.3f %9.3f\n", "total", report_total_wall(rep), report_total_cpu(rep));
	fprintf(
		out,
		"peak memory %.1f MiB (max RSS); wall s is elapsed time, cpu s is summed over threads\n",
		(double) report_peak_rss_kib() / 1024.0);
}

json_t *
report_to_json(const struct report *rep)
{
	json_t *phases = json_array();

	for (int i = 0; i < REPORT_PHASE_COUNT; i++)
	{
		const struct report_phase_stats *p = &rep->phases[i];

		if (!p->used)
			continue;
		json_array_append_new(phases,
							  json_pack("{s:s, s:f, s:f, s:I, s:I}", "name", phase_names[i],
										"wall_s", p->wall_s, "cpu_s", p->cpu_s, "rows",
										(json_int_t) p->rows, "bytes", (json_int_t) p->bytes));
	}
	return json_pack("{s:o, s:f, s:f, s:I, s:s}", "phases", phases, "total_wall_s",
					 report_total_wall(rep), "total_cpu_s", report_total_cpu(rep), "peak_rss_kib",
					 (json_int_t) report_peak_rss_kib(), "note",
					 "wall_s is elapsed monotonic time; cpu_s is process CPU summed over threads");
}
