/*
 * inflater.h: gzip members inflated by zlib or by ISA-L behind one small
 * interface, for the reader thread (input.c), which chooses one by
 * enum input_inflater and never looks inside it.
 *
 * Each implementation reads a member's gzip header, inflates its deflate
 * data, checks its trailer (CRC32 and ISIZE) and stops at its end, the
 * bytes after it left in next_in, so that the caller can look for another
 * member and reset.  The caller guarantees that a member starts with the
 * magic bytes 1f 8b.  Corrupt data is named with zlib's words where the
 * condition is the same: the header's checks ("unknown compression
 * method", "unknown header flags set", "header crc mismatch") and the
 * trailer's ("incorrect data check", "incorrect length check").  Inside
 * the deflate data the two libraries stop at different points and name
 * what they found in their own words.
 */
#ifndef PAYRUN_INFLATER_H
#define PAYRUN_INFLATER_H

#include <stdbool.h>
#include <stddef.h>

#include "payrun/input.h"

enum inflater_result
{
	INFLATER_OK,         /* progress: input consumed or output produced */
	INFLATER_MEMBER_END, /* the member's trailer was read and is right */
	INFLATER_STALLED,    /* no progress: it needs input it was not given */
	INFLATER_CORRUPT     /* msg says why */
};

struct inflater;

/* One implementation (inflater.c); callers use the wrappers below. */
struct inflater_ops
{
	bool (*init)(struct inflater *inf);
	enum inflater_result (*run)(struct inflater *inf);
	bool (*reset)(struct inflater *inf);
	void (*end)(struct inflater *inf);
};

struct inflater
{
	const struct inflater_ops *ops;   /* NULL: not initialised */
	void                      *state; /* owned: the implementation's */
	const unsigned char       *next_in;
	size_t                     avail_in; /* bytes at next_in, at most UINT32_MAX */
	unsigned char             *next_out;
	size_t                     avail_out; /* bytes at next_out, at most UINT32_MAX */
	const char                *msg;       /* static: why, after INFLATER_CORRUPT */
};

/* Sets inf up, for a first member, with that library.  False if it could not be. */
bool inflater_init(struct inflater *inf, enum input_inflater kind);

/*
 * Inflates from next_in to next_out, advancing both, until the input or
 * the output runs out, the member ends or the data is found corrupt.
 */
static inline enum inflater_result
inflater_run(struct inflater *inf)
{
	return inf->ops->run(inf);
}

/* Ready for the next member, after INFLATER_MEMBER_END.  False if it could not be. */
static inline bool
inflater_reset(struct inflater *inf)
{
	return inf->ops->reset(inf);
}

/* Frees the state; a zeroed or already ended inflater is left alone. */
void inflater_end(struct inflater *inf);

#endif
