/*
 * csvout.c: payrun's CSV output dialect (see csvout.h).
 */
#include <string.h>

#include "payrun/csvout.h"
#include "payrun/banned.h"

void
csvout_bytes(const struct csvout *w, const void *data, size_t len)
{
	w->write(w->arg, data, len);
}

void
csvout_char(const struct csvout *w, char c)
{
	w->write(w->arg, &c, 1);
}

void
csvout_field(const struct csvout *w, const char *p, size_t len)
{
	bool quote = false;

	for (size_t i = 0; i < len && !quote; i++)
		quote = (p[i] == ',' || p[i] == '"' || p[i] == '\r' || p[i] == '\n');
	if (!quote)
	{
		w->write(w->arg, p, len);
		return;
	}
	csvout_char(w, '"');
	for (size_t start = 0, i = 0; i <= len; i++)
	{
		if (i == len || p[i] == '"')
		{
			w->write(w->arg, p + start, i - start);
			if (i < len)
				w->write(w->arg, "\"\"", 2);
			start = i + 1;
		}
	}
	csvout_char(w, '"');
}

void
csvout_u64(const struct csvout *w, uint64_t v)
{
	char   tmp[20];
	size_t n = 0;

	do
	{
		tmp[sizeof(tmp) - 1 - n++] = (char) ('0' + v % 10);
		v /= 10;
	} while (v > 0);
	w->write(w->arg, tmp + sizeof(tmp) - n, n);
}

void
csvout_amount(const struct csvout *w, const struct amount *a)
{
	char   buf[AMOUNT_TEXT_LEN];
	size_t n = amount_format(a, buf);

	w->write(w->arg, buf, n);
}

void
csvout_delta(const struct csvout *w, const struct amount_delta *d)
{
	char   buf[AMOUNT_TEXT_LEN];
	size_t n = amount_delta_format(d, false, buf);

	w->write(w->arg, buf, n);
}

void
csvout_ledger_row(const struct csvout *w, const struct ledger_row *r)
{
	csvout_field(w, r->stream, r->stream_len);
	csvout_char(w, ',');
	csvout_field(w, r->node, r->node_len);
	csvout_char(w, ',');
	csvout_u64(w, r->counts.total_polls);
	csvout_char(w, ',');
	csvout_u64(w, r->counts.successful_polls);
	csvout_char(w, ',');
	csvout_u64(w, r->counts.failed_spot_checks);
	csvout_char(w, ',');
	csvout_u64(w, r->uptime_ppm);
	csvout_char(w, ',');
	csvout_u64(w, r->contribution_ppm);
	csvout_char(w, ',');
	csvout_amount(w, &r->base);
	csvout_char(w, ',');
	csvout_amount(w, &r->forfeited);
	csvout_char(w, ',');
	csvout_amount(w, &r->payout);
}

void
csvout_stream_row(const struct csvout *w, const struct ledger_stream *s)
{
	csvout_field(w, s->stream, s->stream_len);
	csvout_char(w, ',');
	csvout_amount(w, &s->pool);
	csvout_char(w, ',');
	csvout_u64(w, s->nodes);
	csvout_char(w, ',');
	csvout_u64(w, s->total_successful_polls);
	csvout_char(w, ',');
	csvout_amount(w, &s->paid);
	csvout_char(w, ',');
	csvout_amount(w, &s->forfeited);
	csvout_char(w, ',');
	csvout_amount(w, &s->unallocated);
}

void
csvout_adjustment_row(const struct csvout *w, const struct adjustment *a)
{
	csvout_field(w, a->stream, a->stream_len);
	csvout_char(w, ',');
	csvout_field(w, a->node, a->node_len);
	csvout_char(w, ',');
	csvout_amount(w, &a->previously_paid);
	csvout_char(w, ',');
	csvout_amount(w, &a->now_due);
	csvout_char(w, ',');
	csvout_delta(w, &a->delta);
}
