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
	free(ledger->keys);
	memset(ledger, 0, sizeof(*ledger));
}

/* Adds a stream's figures into the period's totals; false past 2^256 - 1. */
static bool
add_totals(struct ledger_totals *t, const struct ledger_stream *st, size_t n)
{
	t->streams++;
	t->nodes += n;
	return amount_add(&t->pool, &st->pool) && amount_add(&t->paid, &st->paid) &&
		   amount_add(&t->forfeited, &st->forfeited) &&
		   amount_add(&t->unallocated, &st->unallocated);
}

/* Settles one stream: rows[0..n) are its pairs (possibly none). */
static enum ledger_status
settle_stream(struct ledger *ledger, struct ledger_stream *st, struct ledger_row *rows, size_t n,
			  struct payout_node *scratch, const struct ledger_settings *settings, char *err,
			  size_t errlen)
{
	struct payout_stream res;
	enum payout_status   status;

	for (size_t i = 0; i < n; i++)
	{
		scratch[i].node = rows[i].node;
		scratch[i].node_len = rows[i].node_len;
		scratch[i].successful_polls = rows[i].counts.successful_polls;
		scratch[i].failed_spot_checks = rows[i].counts.failed_spot_checks;
	}
	status = payout_compute(&st->pool, &settings->keep, scratch, n, &res);
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
	if (!add_totals(&ledger->totals, st, n))
	{
		snprintf(err, errlen, "the sum of all pools exceeds 2^256 - 1 base units");
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
	uint32_t           *order = aggregate_sorted_index(agg, &npairs);
	struct ledger_row  *rows;
	struct payout_node *scratch;
	size_t              pi = 0; /* next pair */
	size_t              ki = 0; /* next pools entry */
	enum ledger_status  status = LEDGER_OK;
	size_t              nstreams = 0, longest = 0, keys_len = 0;

	memset(ledger, 0, sizeof(*ledger));
	ledger->period = *period;
	rows = ledger->rows = mem_calloc(npairs ? npairs : 1, sizeof(struct ledger_row));
	ledger->nrows = npairs;
	/*
	 * rows in order, straight from the aggregate (no array of pairs beside
	 * them), their ids copied into keys so that the aggregate can go
	 */
	for (size_t i = 0; i < npairs; i++)
	{
		struct agg_pair pair;

		aggregate_pair_at(agg, order[i], &pair);
		keys_len += pair.stream_len + pair.node_len;
	}
	ledger->keys = mem_alloc(keys_len ? keys_len : 1);
	keys_len = 0;
	for (size_t i = 0; i < npairs; i++)
	{
		struct agg_pair pair;
		char           *k = ledger->keys + keys_len;

		aggregate_pair_at(agg, order[i], &pair);
		memcpy(k, pair.stream, pair.stream_len);
		memcpy(k + pair.stream_len, pair.node, pair.node_len);
		keys_len += pair.stream_len + pair.node_len;
		rows[i].stream = k;
		rows[i].stream_len = pair.stream_len;
		rows[i].node = k + pair.stream_len;
		rows[i].node_len = pair.node_len;
		rows[i].counts = pair.counts;
	}
	free(order);
	/* sized by the streams and the longest stream, not the pairs */
	for (size_t i = 0, run = 0; i < npairs; i++)
	{
		run = i > 0 && aggregate_id_cmp(rows[i].stream, rows[i].stream_len, rows[i - 1].stream,
										rows[i - 1].stream_len) == 0
				  ? run + 1
				  : 1;
		nstreams += run == 1;
		longest = run > longest ? run : longest;
	}
	ledger->streams = mem_calloc(nstreams + pools->count + 1, sizeof(struct ledger_stream));
	scratch = mem_calloc(longest ? longest : 1, sizeof(struct payout_node));

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
			c = aggregate_id_cmp(rows[pi].stream, rows[pi].stream_len, pools->entries[ki].stream,
								 pools->entries[ki].stream_len);
		if (c <= 0)
		{
			st->stream = rows[pi].stream;
			st->stream_len = rows[pi].stream_len;
			while (pi + run < npairs &&
				   aggregate_id_cmp(rows[pi + run].stream, rows[pi + run].stream_len, st->stream,
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
	if (status != LEDGER_OK)
		return status;

	/* each stream balanced; so must the whole */
	if (!ledger_check(ledger, err, errlen))
		return LEDGER_INVARIANT;
	return LEDGER_OK;
}

/* Does a + b + c equal want (without overflow)? */
static bool
sum3_is(const struct amount *a, const struct amount *b, const struct amount *c,
		const struct amount *want)
{
	struct amount s = *a;

	return amount_add(&s, b) && amount_add(&s, c) && amount_cmp(&s, want) == 0;
}

/* Checks one stream against its rows rows[0..n); false with err set. */
static bool
check_stream(const struct ledger_stream *st, const struct ledger_row *rows, size_t n, char *err,
			 size_t errlen)
{
	struct amount paid = { { 0 } }, forfeited = { { 0 } }, zero = { { 0 } };

	for (size_t i = 0; i < n; i++)
	{
		if (!sum3_is(&rows[i].payout, &rows[i].forfeited, &zero, &rows[i].base) ||
			!amount_add(&paid, &rows[i].payout) || !amount_add(&forfeited, &rows[i].forfeited))
		{
			snprintf(err, errlen, "stream '%.*s' node '%.*s': base != payout + forfeited",
					 (int) st->stream_len, st->stream, (int) rows[i].node_len, rows[i].node);
			return false;
		}
	}
	if (amount_cmp(&paid, &st->paid) != 0 || amount_cmp(&forfeited, &st->forfeited) != 0 ||
		st->nodes != n || !sum3_is(&st->paid, &st->forfeited, &st->unallocated, &st->pool))
	{
		snprintf(err, errlen,
				 "stream '%.*s': its nodes' payouts do not add up to its totals, or paid + "
				 "forfeited + unallocated != pool",
				 (int) st->stream_len, st->stream);
		return false;
	}
	return true;
}

static int
row_order(const struct ledger_row *a, const struct ledger_row *b)
{
	int c = aggregate_id_cmp(a->stream, a->stream_len, b->stream, b->stream_len);

	return c ? c : aggregate_id_cmp(a->node, a->node_len, b->node, b->node_len);
}

bool
ledger_check(const struct ledger *ledger, char *err, size_t errlen)
{
	struct ledger_totals t;
	size_t               ri = 0;

	memset(&t, 0, sizeof(t));
	for (size_t si = 0; si < ledger->nstreams; si++)
	{
		const struct ledger_stream *st = &ledger->streams[si];
		size_t                      n = 0;

		if (si > 0 &&
			aggregate_id_cmp(ledger->streams[si - 1].stream, ledger->streams[si - 1].stream_len,
							 st->stream, st->stream_len) >= 0)
		{
			snprintf(err, errlen, "streams out of order or repeated at '%.*s'",
					 (int) st->stream_len, st->stream);
			return false;
		}
		if (ri < ledger->nrows &&
			aggregate_id_cmp(ledger->rows[ri].stream, ledger->rows[ri].stream_len, st->stream,
							 st->stream_len) < 0)
		{
			snprintf(err, errlen, "the rows of stream '%.*s' belong to no stream of the totals",
					 (int) ledger->rows[ri].stream_len, ledger->rows[ri].stream);
			return false;
		}
		while (ri + n < ledger->nrows &&
			   aggregate_id_cmp(ledger->rows[ri + n].stream, ledger->rows[ri + n].stream_len,
								st->stream, st->stream_len) == 0)
		{
			if (n > 0 && row_order(&ledger->rows[ri + n - 1], &ledger->rows[ri + n]) >= 0)
			{
				snprintf(err, errlen, "rows of stream '%.*s' out of order or repeated",
						 (int) st->stream_len, st->stream);
				return false;
			}
			n++;
		}
		if (!check_stream(st, ledger->rows + ri, n, err, errlen))
			return false;
		if (!add_totals(&t, st, n))
		{
			snprintf(err, errlen, "the sum of all pools exceeds 2^256 - 1 base units");
			return false;
		}
		ri += n;
	}
	if (ri != ledger->nrows)
	{
		snprintf(err, errlen, "the rows of stream '%.*s' belong to no stream of the totals",
				 (int) ledger->rows[ri].stream_len, ledger->rows[ri].stream);
		return false;
	}
	if (t.streams != ledger->totals.streams || t.nodes != ledger->totals.nodes ||
		amount_cmp(&t.pool, &ledger->totals.pool) != 0 ||
		amount_cmp(&t.paid, &ledger->totals.paid) != 0 ||
		amount_cmp(&t.forfeited, &ledger->totals.forfeited) != 0 ||
		amount_cmp(&t.unallocated, &ledger->totals.unallocated) != 0)
	{
		snprintf(err, errlen, "the period's totals are not the sums of its streams");
		return false;
	}
	return true;
}

bool
ledger_sum_totals(struct ledger *ledger)
{
	size_t ri = 0;

	memset(&ledger->totals, 0, sizeof(ledger->totals));
	for (size_t si = 0; si < ledger->nstreams; si++)
	{
		const struct ledger_stream *st = &ledger->streams[si];
		size_t                      n = 0;

		while (ri + n < ledger->nrows &&
			   aggregate_id_cmp(ledger->rows[ri + n].stream, ledger->rows[ri + n].stream_len,
								st->stream, st->stream_len) == 0)
			n++;
		if (!add_totals(&ledger->totals, st, n))
			return false;
		ri += n;
	}
	return true;
}
