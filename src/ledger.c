/*
 * ledger.c: settling a period from aggregates (see ledger.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "payrun/ledger.h"
#include "payrun/mem.h"
#include "payrun/banned.h"

void
ledger_release(struct ledger *ledger)
{
	free(ledger->rows);
	free(ledger->streams);
	memset(ledger, 0, sizeof(*ledger));
}

/* Settles one stream: rows[0..n) are its pairs (possibly none). */
static enum ledger_status
settle_stream(struct ledger *ledger, struct ledger_stream *st, struct ledger_row *rows, size_t n,
			  struct payout_node *scratch, const struct ledger_settings *settings, char *err,
			  size_t errlen)
{
	struct payout_stream  res;
	enum payout_status    status;
	struct ledger_totals *t = &ledger->totals;

	for (size_t i = 0; i < n; i++)
	{
		scratch[i].node = rows[i].node;
		scratch[i].node_len = rows[i].node_len;
		scratch[i].successful_polls = rows[i].counts.successful_polls;
		scratch[i].failed_spot_checks = rows[i].counts.failed_spot_checks;
	}
	status = payout_compute(st->pool, &settings->keep, scratch, n, &res);
	if (status != PAYOUT_OK)
	{
		snprintf(err, errlen, "stream '%.*s': %s", (int) st->stream_len, st->stream,
				 payout_status_message(status));
		return status == PAYOUT_INVARIANT ? LEDGER_INVARIANT : LEDGER_OVERFLOW;
	}
	for (size_t i = 0; i < n; i++)
	{
		rows[i].base = scratch[i].base;
		rows[i].forfeited = scratch[i].forfeited;
		rows[i].payout = scratch[i].payout;
		rows[i].uptime_ppm = payout_ppm(rows[i].counts.successful_polls,
										rows[i].counts.total_polls);
		rows[i].contribution_ppm = payout_ppm(rows[i].counts.successful_polls,
											  res.total_successful_polls);
	}
	st->nodes = n;
	st->total_successful_polls = res.total_successful_polls;
	st->paid = res.paid;
	st->forfeited = res.forfeited;
	st->unallocated = res.unallocated;

	t->streams++;
	t->nodes += n;
	if (__builtin_add_overflow(t->pool, st->pool, &t->pool) ||
		__builtin_add_overflow(t->paid, st->paid, &t->paid) ||
		__builtin_add_overflow(t->forfeited, st->forfeited, &t->forfeited) ||
		__builtin_add_overflow(t->unallocated, st->unallocated, &t->unallocated))
	{
		snprintf(err, errlen, "the sum of all pools exceeds 9223372036854775807 base units");
		return LEDGER_OVERFLOW;
	}
	return LEDGER_OK;
}

enum ledger_status
ledger_build(struct ledger *ledger, const struct period *period, const struct aggregate *agg,
			 const struct pools *pools, const struct ledger_settings *settings, char *err,
			 size_t errlen)
{
	size_t              npairs;
	struct agg_pair    *pairs = aggregate_sorted(agg, &npairs);
	struct payout_node *scratch;
	size_t              pi = 0; /* next pair */
	size_t              ki = 0; /* next pools entry */
	enum ledger_status  status = LEDGER_OK;

	memset(ledger, 0, sizeof(*ledger));
	ledger->period = *period;
	ledger->rows = mem_calloc(npairs ? npairs : 1, sizeof(struct ledger_row));
	ledger->nrows = npairs;
	ledger->streams = mem_calloc(npairs + pools->count + 1, sizeof(struct ledger_stream));
	scratch = mem_calloc(npairs ? npairs : 1, sizeof(struct payout_node));

	for (size_t i = 0; i < npairs; i++)
	{
		ledger->rows[i].stream = pairs[i].stream;
		ledger->rows[i].stream_len = pairs[i].stream_len;
		ledger->rows[i].node = pairs[i].node;
		ledger->rows[i].node_len = pairs[i].node_len;
		ledger->rows[i].counts = pairs[i].counts;
	}

	/* merge the sorted pair runs with the sorted pools: the union of streams */
	while (status == LEDGER_OK && (pi < npairs || ki < pools->count))
	{
		struct ledger_stream    *st = &ledger->streams[ledger->nstreams++];
		const struct pool_entry *pe = NULL;
		size_t                   run = 0;
		int                      c;

		if (pi >= npairs)
			c = 1;
		else if (ki >= pools->count)
			c = -1;
		else
			c = aggregate_id_cmp(pairs[pi].stream, pairs[pi].stream_len, pools->entries[ki].stream,
								 pools->entries[ki].stream_len);
		if (c <= 0)
		{
			st->stream = pairs[pi].stream;
			st->stream_len = pairs[pi].stream_len;
			while (pi + run < npairs &&
				   aggregate_id_cmp(pairs[pi + run].stream, pairs[pi + run].stream_len, st->stream,
									st->stream_len) == 0)
				run++;
		}
		else
		{
			st->stream = pools->entries[ki].stream;
			st->stream_len = pools->entries[ki].stream_len;
		}
		if (c >= 0)
			pe = &pools->entries[ki++];
		st->pool = pe ? pe->pool : settings->default_pool;
		status = settle_stream(ledger, st, ledger->rows + pi, run, scratch, settings, err, errlen);
		pi += run;
	}

	free(scratch);
	free(pairs);
	if (status != LEDGER_OK)
		return status;

	/* each stream balanced; so must the whole */
	if (ledger->totals.paid + ledger->totals.forfeited + ledger->totals.unallocated !=
		ledger->totals.pool)
	{
		snprintf(err, errlen, "invariant broken: totals paid + forfeited + unallocated != pool");
		return LEDGER_INVARIANT;
	}
	return LEDGER_OK;
}
