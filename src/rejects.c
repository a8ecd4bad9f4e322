/*
 * rejects.c: the rejects file (see rejects.h).
 */
#include <string.h>

#include "payrun/rejects.h"

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
rejects_add(struct rejects *rj, const char *file, uint64_t line,
			enum reject_reason reason, const char *raw, size_t raw_len)
{
	rj->total++;
	rj->by_reason[reason]++;
	if (!rj->open)
		return;
	outfile_csv_field(&rj->file, file, strlen(file));
	outfile_putc(&rj->file, ',');
	outfile_u64(&rj->file, line);
	outfile_putc(&rj->file, ',');
	outfile_puts(&rj->file, reason_names[reason]);
	outfile_putc(&rj->file, ',');
	outfile_csv_field(&rj->file, raw, raw_len > REJECTS_RECORD_MAX ? REJECTS_RECORD_MAX : raw_len);
	outfile_putc(&rj->file, '\n');
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
