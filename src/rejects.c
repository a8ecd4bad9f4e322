/*
 * rejects.c: the rejects file (see rejects.h).
 */
#include <string.h>

#include "payrun/rejects.h"
#include "payrun/banned.h"

static const char *const reason_names[REJECT_REASON_COUNT] = {
	[REJECT_FIELD_COUNT] = "field_count",
	[REJECT_BAD_QUOTE] = "bad_quote",
	[REJECT_EMPTY_STREAM_ID] = "empty_stream_id",
	[REJECT_EMPTY_NODE_ID] = "empty_node_id",
	[REJECT_STREAM_ID_TOO_LONG] = "stream_id_too_long",
	[REJECT_NODE_ID_TOO_LONG] = "node_id_too_long",
	[REJECT_BAD_PROBE_TYPE] = "bad_probe_type",
	[REJECT_BAD_SUCCESS] = "bad_success",
	[REJECT_BAD_TIMESTAMP] = "bad_timestamp",
	[REJECT_BAD_ID] = "bad_id",
};

const char *
rejects_reason_name(enum reject_reason reason)
{
	return reason_names[reason];
}

bool
rejects_open(struct rejects *rj, int dirfd, const char *name)
{
	memset(rj, 0, sizeof(*rj));
	if (!outfile_create(&rj->file, dirfd, name))
		return false;
	rj->open = true;
	outfile_puts(&rj->file, "file,line,reason,record\n");
	return true;
}

void
rejects_add(struct rejects *rj, const char *file, uint64_t line, enum reject_reason reason,
			const char *raw, size_t raw_len)
{
	rejects_add_rows(rj, file, line, reason, raw, raw_len, 1);
}

void
rejects_add_rows(struct rejects *rj, const char *file, uint64_t line, enum reject_reason reason,
				 const char *raw, size_t raw_len, uint64_t rows)
{
	struct csvout w;

	rj->total += rows;
	rj->by_reason[reason] += rows;
	if (!rj->open)
		return;
	w = outfile_csvout(&rj->file);
	csvout_field(&w, file, strlen(file));
	csvout_char(&w, ',');
	csvout_u64(&w, line);
	csvout_char(&w, ',');
	csvout_bytes(&w, reason_names[reason], strlen(reason_names[reason]));
	csvout_char(&w, ',');
	csvout_field(&w, raw, raw_len > REJECTS_RECORD_MAX ? REJECTS_RECORD_MAX : raw_len);
	csvout_char(&w, '\n');
}

void
rejects_count_merge(struct rejects *rj, const struct rejects *other)
{
	rj->total += other->total;
	for (int i = 0; i < REJECT_REASON_COUNT; i++)
		rj->by_reason[i] += other->by_reason[i];
}

bool
rejects_close(struct rejects *rj)
{
	if (!rj->open)
		return true;
	rj->open = false;
	return outfile_close(&rj->file);
}

void
rejects_discard(struct rejects *rj)
{
	if (rj->open)
		outfile_discard(&rj->file);
	rj->open = false;
}
