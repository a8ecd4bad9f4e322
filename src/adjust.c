/*
 * adjust.c: rerun adjustments (see adjust.h).
 */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "payrun/adjust.h"
#include "payrun/aggregate.h"
#include "payrun/csvfield.h"
#include "payrun/csvscan.h"
#include "payrun/input.h"
#include "payrun/log.h"
#include "payrun/mem.h"
#include "payrun/numparse.h"
#include "payrun/sha256.h"
#include "payrun/manifest.h"
#include "payrun/banned.h"

#define LEDGER_MAX_BYTES (4ULL * 1024 * 1024 * 1024)

enum
{
	PREV_COL_STREAM,
	PREV_COL_NODE,
	PREV_COL_PAYOUT,
	PREV_NCOLS
};

static const char *const prev_columns[PREV_NCOLS] = { "stream_id", "node_id", "payout_amount" };

struct prev_parse
{
	struct adjustments *adj;
	const char         *path;
	bool                have_header;
	uint32_t            ncols;
	uint32_t            col[PREV_NCOLS];
	size_t              cap;
	struct csvfield_buf field;
};

static bool
on_prev_record(void *arg, const struct csv_record *rec)
{
	struct prev_parse      *pp = arg;
	struct adjust_prev_row *r;
	const char             *v;
	size_t                  len;

	if (pp->have_header &&
		(rec->bad_quote || rec->nfields != pp->ncols || rec->nfields != rec->nspans))
	{
		log_error("%s:%llu: malformed ledger record", pp->path, (unsigned long long) rec->line);
		return false;
	}
	if (!pp->have_header)
	{
		pp->ncols = rec->nfields;
		pp->have_header = true;
		return csvfield_match_header(rec, pp->path, prev_columns, PREV_NCOLS, PREV_NCOLS, pp->col,
									 NULL);
	}
	if (pp->adj->nprev == pp->cap)
	{
		pp->cap = pp->cap ? pp->cap * 2 : 1024;
		pp->adj->prev = mem_realloc_array(pp->adj->prev, pp->cap, sizeof(*r));
	}
	r = &pp->adj->prev[pp->adj->nprev];
	v = csvfield_value(&pp->field, rec, pp->col[PREV_COL_PAYOUT], &len);
	if (amount_parse(v, len, 0, &r->payout) != AMOUNT_OK)
		goto bad;
	v = csvfield_value(&pp->field, rec, pp->col[PREV_COL_STREAM], &len);
	r->stream = mem_memdup(v, len);
	r->stream_len = len;
	v = csvfield_value(&pp->field, rec, pp->col[PREV_COL_NODE], &len);
	r->node = mem_memdup(v, len);
	r->node_len = len;
	pp->adj->nprev++;
	return true;

bad:
	log_error("%s:%llu: invalid payout_amount", pp->path, (unsigned long long) rec->line);
	return false;
}

/* The ledger.csv digest recorded in manifest.json, into hex. */
static bool
manifest_ledger_digest(const char *dir, char hex[SHA256_HEX_LEN])
{
	json_t *m = manifest_load(dir);
	json_t *out;
	size_t  i;
	bool    found = false;

	if (m == NULL)
		return false;
	json_array_foreach(json_object_get(m, "outputs"), i, out)
	{
		const char *name = json_string_value(json_object_get(out, "name"));
		const char *sha = json_string_value(json_object_get(out, "sha256"));

		if (name && sha && strcmp(name, "ledger.csv") == 0 && strlen(sha) == 64)
		{
			memcpy(hex, sha, SHA256_HEX_LEN);
			found = true;
		}
	}
	json_decref(m);
	if (!found)
		log_error("'%s/manifest.json' records no digest of ledger.csv", dir);
	return found;
}

static int
prev_cmp(const void *x, const void *y)
{
	const struct adjust_prev_row *a = x;
	const struct adjust_prev_row *b = y;
	int c = aggregate_id_cmp(a->stream, a->stream_len, b->stream, b->stream_len);

	return c ? c : aggregate_id_cmp(a->node, a->node_len, b->node, b->node_len);
}

bool
adjust_load_previous(struct adjustments *adj, const char *version_dir, int previous_version)
{
	char                path[4200];
	char                want[SHA256_HEX_LEN];
	char                got[SHA256_HEX_LEN];
	struct sha256       d;
	char               *buf;
	size_t              len;
	struct csvscan      scan;
	struct prev_parse   pp;
	size_t              consumed;
	enum csvscan_status status;

	memset(adj, 0, sizeof(*adj));
	adj->previous_version = previous_version;
	if (!manifest_ledger_digest(version_dir, want))
		return false;
	snprintf(path, sizeof(path), "%s/ledger.csv", version_dir);
	if (!input_read_whole(path, "previous ledger", LEDGER_MAX_BYTES, &buf, &len))
		return false;
	sha256_init(&d);
	sha256_update(&d, buf, len);
	sha256_final_hex(&d, got);
	sha256_release(&d);
	if (strcmp(got, want) != 0)
	{
		log_error("previous ledger '%s' does not match the digest in its manifest "
				  "(sha256 %s, manifest says %s): refusing to compute adjustments from it",
				  path, got, want);
		free(buf);
		return false;
	}
	memset(&pp, 0, sizeof(pp));
	pp.adj = adj;
	pp.path = path;
	csvscan_init(&scan, 64);
	status = csvscan_feed(&scan, buf, len, true, &consumed, on_prev_record, &pp);
	csvscan_release(&scan);
	csvfield_buf_release(&pp.field);
	free(buf);
	if (status != CSVSCAN_OK || !pp.have_header)
	{
		if (status == CSVSCAN_UNTERMINATED_QUOTE || !pp.have_header)
			log_error("%s: malformed ledger", path);
		return false;
	}
	if (adj->nprev > 1)
		qsort(adj->prev, adj->nprev, sizeof(struct adjust_prev_row), prev_cmp);
	return true;
}

static void
push(struct adjustments *adj, size_t *cap, const struct adjustment *a)
{
	if (adj->nrows == *cap)
	{
		*cap = *cap ? *cap * 2 : 256;
		adj->rows = mem_realloc_array(adj->rows, *cap, sizeof(*a));
	}
	adj->rows[adj->nrows++] = *a;
}

/* The stream's totals row, if any of its nodes was adjusted. */
static void
close_stream(struct adjustments *adj, size_t *cap, struct adjustment *st, size_t adjusted)
{
	if (st->stream != NULL && adjusted > 0)
	{
		amount_delta(&st->now_due, &st->previously_paid, &st->delta);
		push(adj, cap, st);
	}
}

bool
adjust_compute(struct adjustments *adj, const struct ledger *ledger)
{
	size_t            i = 0, j = 0;
	size_t            cap = 0;
	struct adjustment st = { 0 }; /* totals of the current stream */
	size_t            st_adjusted = 0;

	while (i < adj->nprev || j < ledger->nrows)
	{
		const struct adjust_prev_row *p = i < adj->nprev ? &adj->prev[i] : NULL;
		const struct ledger_row      *r = j < ledger->nrows ? &ledger->rows[j] : NULL;
		struct adjustment             a = { 0 };
		int                           c;

		if (p == NULL)
			c = 1;
		else if (r == NULL)
			c = -1;
		else
		{
			c = aggregate_id_cmp(p->stream, p->stream_len, r->stream, r->stream_len);
			if (c == 0)
				c = aggregate_id_cmp(p->node, p->node_len, r->node, r->node_len);
		}
		if (c <= 0)
		{
			a.stream = p->stream;
			a.stream_len = p->stream_len;
			a.node = p->node;
			a.node_len = p->node_len;
			a.previously_paid = p->payout;
			i++;
		}
		if (c >= 0)
		{
			a.stream = r->stream;
			a.stream_len = r->stream_len;
			a.node = r->node;
			a.node_len = r->node_len;
			a.now_due = r->payout;
			j++;
		}
		/* streams come in order: a new one closes the previous one's totals */
		if (st.stream == NULL ||
			aggregate_id_cmp(st.stream, st.stream_len, a.stream, a.stream_len) != 0)
		{
			close_stream(adj, &cap, &st, st_adjusted);
			memset(&st, 0, sizeof(st));
			st.stream = a.stream;
			st.stream_len = a.stream_len;
			st.node = "";
			st_adjusted = 0;
		}
		if (!amount_add(&adj->previously_paid, &a.previously_paid) ||
			!amount_add(&adj->now_due, &a.now_due) ||
			!amount_add(&st.previously_paid, &a.previously_paid) ||
			!amount_add(&st.now_due, &a.now_due))
		{
			log_error("adjustment totals exceed 2^256 - 1 base units");
			return false;
		}
		/* a node present in both with the same payout is no adjustment */
		if (c == 0 && amount_cmp(&a.previously_paid, &a.now_due) == 0)
			continue;
		amount_delta(&a.now_due, &a.previously_paid, &a.delta);
		push(adj, &cap, &a);
		adj->nnodes++;
		st_adjusted++;
	}
	close_stream(adj, &cap, &st, st_adjusted);
	amount_delta(&adj->now_due, &adj->previously_paid, &adj->delta);
	if (adj->nnodes > 0)
	{
		struct adjustment total = { .stream = "",
									.node = "",
									.previously_paid = adj->previously_paid,
									.now_due = adj->now_due,
									.delta = adj->delta };

		push(adj, &cap, &total);
	}
	return true;
}

void
adjust_release(struct adjustments *adj)
{
	for (size_t i = 0; i < adj->nprev; i++)
	{
		free(adj->prev[i].stream);
		free(adj->prev[i].node);
	}
	free(adj->prev);
	free(adj->rows);
	memset(adj, 0, sizeof(*adj));
}
