/*
 * csvout.h: writing payrun's CSV dialect to any byte sink (a file, a COPY
 * stream): a field is quoted iff it holds a comma, quote, CR or LF, quotes
 * doubled; integers in plain decimal.  The ledger and stream rows are
 * formatted here once, for ledger.csv, streams.csv and COPY alike.
 */
#ifndef PAYRUN_CSVOUT_H
#define PAYRUN_CSVOUT_H

#include <stddef.h>
#include <stdint.h>

#include "payrun/adjust.h"
#include "payrun/amount.h"
#include "payrun/ledger.h"

struct csvout
{
	void (*write)(void *arg, const void *data, size_t len);
	void *arg;
};

void csvout_bytes(const struct csvout *w, const void *data, size_t len);
void csvout_char(const struct csvout *w, char c);
void csvout_field(const struct csvout *w, const char *p, size_t len);
void csvout_u64(const struct csvout *w, uint64_t v);
/* An amount in base units, and a signed delta ("-5"). */
void csvout_amount(const struct csvout *w, const struct amount *a);
void csvout_delta(const struct csvout *w, const struct amount_delta *d);

/* stream_id,node_id,total_polls,...,payout_amount (no line end) */
void csvout_ledger_row(const struct csvout *w, const struct ledger_row *r);
/* stream_id,pool,nodes,total_successful_polls,paid,forfeited,unallocated */
void csvout_stream_row(const struct csvout *w, const struct ledger_stream *s);

/* stream_id,node_id,previously_paid,now_due,delta */
void csvout_adjustment_row(const struct csvout *w, const struct adjustment *a);

#define CSVOUT_LEDGER_HEADER                                                                       \
	"period_start,period_end,stream_id,node_id,total_polls,successful_polls,"                      \
	"failed_spot_checks,uptime_ppm,contribution_ppm,base_amount,forfeited_amount,"                 \
	"payout_amount\n"
#define CSVOUT_STREAMS_HEADER                                                                      \
	"period_start,period_end,stream_id,pool,nodes,total_successful_polls,paid,forfeited,"          \
	"unallocated\n"
#define CSVOUT_ADJUSTMENTS_HEADER "stream_id,node_id,previously_paid,now_due,delta\n"

#endif
