/*
 * input.h: reading an export file, gzip or plain, behind an opaque handle.
 *
 * The kind is detected from the magic bytes; callers do not know which one
 * they got.  A reader thread inflates (or reads) ahead into a small ring of
 * chunks, so inflating and parsing use both cores.  A chunk's data has
 * INPUT_HEADROOM writable bytes before it, where the caller may copy the
 * unfinished tail of the previous chunk instead of moving bulk data, and
 * INPUT_PAD readable bytes after it for block-wise scanning.
 */
#ifndef PAYRUN_INPUT_H
#define PAYRUN_INPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define INPUT_CHUNK_SIZE (1024 * 1024)
#define INPUT_HEADROOM   (256 * 1024)
#define INPUT_PAD        64

struct input;

struct input_chunk
{
	char    *data;   /* INPUT_HEADROOM bytes writable before, INPUT_PAD after */
	size_t   len;    /* bytes of data */
	uint64_t offset; /* offset of data[0] in the decoded stream */
};

/*
 * The library that inflates gzip input (--inflater).  Both read every
 * member, check every CRC32 and ISIZE and refuse the same inputs; the
 * bytes out are the same.
 */
enum input_inflater
{
	INPUT_INFLATER_ISAL = 0, /* ISA-L's igzip: the default, faster */
	INPUT_INFLATER_ZLIB      /* zlib: the reference */
};

/* How an input is read: the inflater, and the bounds on what inflating may produce. */
struct input_options
{
	uint64_t            max_inflate_ratio; /* decoded/compressed bytes, 0 = no limit */
	uint64_t            max_decoded_bytes; /* 0 = no limit */
	enum input_inflater inflater;
};

struct input_stats
{
	const char *kind;          /* "gzip" or "plain" (static) */
	const char *inflater;      /* for gzip: "isal" or "zlib" (static); NULL for plain */
	uint64_t    file_bytes;    /* bytes read from the file */
	uint64_t    decoded_bytes; /* bytes handed to the caller */
	uint32_t    gzip_members;  /* gzip members seen (0 for plain) */
	char        sha256[65];    /* hex digest of the file's bytes, after EOF */
};

/*
 * Reads a small file whole (a pools file, a previous ledger): what names it
 * in messages ("pools file").  Refuses what is not a regular file (without
 * waiting on a FIFO) and files over max_bytes.  *buf (owned by the caller)
 * has INPUT_PAD zero bytes after *len, for the record scanner.  Logs and
 * returns false on error.
 */
bool input_read_whole(const char *path, const char *what, uint64_t max_bytes, char **buf,
					  size_t *len);

/* "isal" or "zlib", as --inflater takes it (static). */
const char *input_inflater_name(enum input_inflater inflater);

/* Parses an --inflater value; false if it names neither. */
bool input_inflater_parse(const char *text, enum input_inflater *out);

/*
 * Opens path and starts the reader thread; opts NULL: ISA-L, no limits.
 * Logs and returns false on error.
 */
bool input_open(const char *path, const struct input_options *opts, struct input **out);

/*
 * Hands out the next chunk in order, or sets *chunk to NULL at the end of
 * the data.  Returns false on a read, corrupt or truncated stream error,
 * which it logs naming the file and the byte position.  The caller may hold
 * at most two chunks and must release them in the order received.
 */
bool input_next(struct input *in, struct input_chunk **chunk);
void input_release(struct input *in, struct input_chunk *chunk);

/*
 * From now on input_next keeps its error (or the interrupt's note) instead
 * of logging it; input_log_deferred logs it.  For a reader that reads
 * ahead of what it has decided (source_csv_split.c): a data error it then
 * finds before that point is the first error, as read in turn.
 */
void input_defer_errors(struct input *in);
void input_log_deferred(struct input *in);

/* The file's size in bytes (for progress), 0 for a pipe. */
uint64_t input_size(const struct input *in);

/* The bytes read from the file so far (by the reader thread; for progress). */
uint64_t input_bytes_read(const struct input *in);

/*
 * Statistics; sha256 is complete once input_next() has reported the end.
 * Stops the reader thread first if it still runs (the caller stopped early).
 */
void input_get_stats(struct input *in, struct input_stats *stats);

/* Stops the reader thread (if running), closes the file, frees everything. */
void input_close(struct input *in);

#endif
