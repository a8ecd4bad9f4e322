/*
 * inflater.c: the two gzip inflaters behind inflater.h, zlib's and ISA-L's.
 *
 * zlib is the reference: inflate() with the gzip wrapper (16 + MAX_WBITS)
 * does everything inflater.h asks.
 *
 * ISA-L's isal_inflate() is given only a member's deflate data and
 * trailer (crc_flag ISAL_GZIP_NO_HDR_VER): it checks the trailer's CRC32
 * and ISIZE (ISAL_INCORRECT_CHECKSUM) and, at the member's end, gives back
 * the bytes it read ahead, so the next member starts at next_in.  The
 * header is read here, a byte at a time, with zlib's checks in zlib's
 * order, because ISA-L's own header reader (ISAL_GZIP, 2.30) ignores the
 * reserved flags, which RFC 1952 says a decoder must refuse, and finds a
 * right FHCRC wrong when the header arrives in more than one piece,
 * refusing valid files (and every first member's header does: input.c
 * hands out the two magic bytes it peeked at as a read of their own).
 * ISA-L has one code for both of the trailer's checks: which one failed
 * is worked out here, to say it with zlib's words.
 */
#include <isa-l/crc.h>
#include <isa-l/igzip_lib.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "payrun/inflater.h"
#include "payrun/mem.h"
#include "payrun/banned.h"

/* ---- zlib ---- */

static bool
zlib_init(struct inflater *inf)
{
	z_stream *zs = mem_calloc(1, sizeof(*zs));

	/* 16 + MAX_WBITS: gzip wrapper only, so a zlib or raw stream is corrupt */
	if (inflateInit2(zs, 16 + MAX_WBITS) != Z_OK)
	{
		free(zs);
		return false;
	}
	inf->state = zs;
	return true;
}

static enum inflater_result
zlib_run(struct inflater *inf)
{
	z_stream *zs = inf->state;
	int       rc;

	zs->next_in = (unsigned char *) inf->next_in;
	zs->avail_in = (uInt) inf->avail_in;
	zs->next_out = inf->next_out;
	zs->avail_out = (uInt) inf->avail_out;
	rc = inflate(zs, Z_NO_FLUSH);
	inf->next_in = zs->next_in;
	inf->avail_in = zs->avail_in;
	inf->next_out = zs->next_out;
	inf->avail_out = zs->avail_out;
	switch (rc)
	{
		case Z_OK:
			return INFLATER_OK;
		case Z_STREAM_END:
			return INFLATER_MEMBER_END;
		case Z_BUF_ERROR:
			return INFLATER_STALLED;
		default:
			inf->msg = zs->msg ? zs->msg : zError(rc);
			return INFLATER_CORRUPT;
	}
}

static bool
zlib_reset(struct inflater *inf)
{
	return inflateReset(inf->state) == Z_OK;
}

static void
zlib_end(struct inflater *inf)
{
	inflateEnd(inf->state);
	free(inf->state);
}

static const struct inflater_ops zlib_ops = { zlib_init, zlib_run, zlib_reset, zlib_end };

/* ---- ISA-L ---- */

/* The fields of a gzip header (RFC 1952), in order. */
enum head_field
{
	HEAD_FIXED,   /* ID1 ID2 CM FLG MTIME XFL OS: 10 bytes */
	HEAD_XLEN,    /* FEXTRA's length: 2 bytes */
	HEAD_EXTRA,   /* FEXTRA: XLEN bytes */
	HEAD_NAME,    /* FNAME: to a zero byte */
	HEAD_COMMENT, /* FCOMMENT: to a zero byte */
	HEAD_HCRC,    /* FHCRC: 2 bytes */
	HEAD_DONE
};

struct isal_member
{
	struct inflate_state st;
	enum head_field      field;
	uint32_t             pos;       /* bytes of the field read */
	unsigned char        fixed[10]; /* HEAD_FIXED's bytes */
	uint32_t             xlen;      /* FEXTRA's length */
	uint32_t             hcrc;      /* FHCRC as read */
	uint32_t             head_crc;  /* CRC32 of the header's bytes before FHCRC */
	unsigned char        tail[8]; /* the last 8 bytes ISA-L consumed: the trailer, when it fails */
};

static void
isal_start(struct isal_member *m)
{
	memset(&m->field, 0, sizeof(*m) - offsetof(struct isal_member, field));
	m->st.crc_flag = ISAL_GZIP_NO_HDR_VER;
}

static bool
isal_init(struct inflater *inf)
{
	struct isal_member *m = mem_calloc(1, sizeof(*m));

	isal_inflate_init(&m->st);
	isal_start(m);
	inf->state = m;
	return true;
}

/* Goes on to the first field from field on that the header's flags say is there. */
static void
head_next(struct isal_member *m, enum head_field field)
{
	unsigned flg = m->fixed[3];

	m->pos = 0;
	if (field == HEAD_XLEN && !(flg & 4))
		field = HEAD_NAME;
	if (field == HEAD_EXTRA && m->xlen == 0)
		field = HEAD_NAME;
	if (field == HEAD_NAME && !(flg & 8))
		field = HEAD_COMMENT;
	if (field == HEAD_COMMENT && !(flg & 16))
		field = HEAD_HCRC;
	if (field == HEAD_HCRC && !(flg & 2))
		field = HEAD_DONE;
	m->field = field;
}

/* Takes the fixed part's next byte: zlib's checks, at the byte where zlib makes them. */
static const char *
head_fixed(struct isal_member *m, unsigned char b)
{
	m->fixed[m->pos++] = b;
	if (m->pos == 2 && (m->fixed[0] != 0x1f || m->fixed[1] != 0x8b))
		return "incorrect header check";
	if (m->pos == 4 && m->fixed[2] != 8)
		return "unknown compression method";
	if (m->pos == 4 && (m->fixed[3] & 0xe0))
		return "unknown header flags set";
	if (m->pos == sizeof(m->fixed))
		head_next(m, HEAD_XLEN);
	return NULL;
}

/* Takes the header's next byte; why it is corrupt, or NULL. */
static const char *
head_byte(struct isal_member *m, unsigned char b)
{
	if (m->field != HEAD_HCRC)
		m->head_crc = crc32_gzip_refl(m->head_crc, &b, 1);
	switch (m->field)
	{
		case HEAD_FIXED:
			return head_fixed(m, b);
		case HEAD_XLEN:
			m->xlen |= (uint32_t) b << (8 * m->pos);
			if (++m->pos == 2)
				head_next(m, HEAD_EXTRA);
			break;
		case HEAD_EXTRA:
			if (++m->pos == m->xlen)
				head_next(m, HEAD_NAME);
			break;
		case HEAD_NAME:
		case HEAD_COMMENT:
			if (b == 0)
				head_next(m, m->field + 1);
			break;
		case HEAD_HCRC:
			m->hcrc |= (uint32_t) b << (8 * m->pos);
			if (++m->pos < 2)
				break;
			if (m->hcrc != (m->head_crc & 0xffff))
				return "header crc mismatch";
			head_next(m, HEAD_DONE);
			break;
		case HEAD_DONE:
			break;
	}
	return NULL;
}

/* Reads the header from the input, as far as it goes; why it is corrupt, or NULL. */
static const char *
isal_read_head(struct isal_member *m, struct inflater *inf)
{
	while (m->field != HEAD_DONE && inf->avail_in > 0)
	{
		const char *why = head_byte(m, inf->next_in[0]);

		inf->next_in++;
		inf->avail_in--;
		if (why)
			return why;
	}
	return NULL;
}

/* Counts the n bytes ISA-L consumed from p, keeping the last 8. */
static void
isal_consumed(struct isal_member *m, const unsigned char *p, size_t n)
{
	if (n >= sizeof(m->tail))
		memcpy(m->tail, p + n - sizeof(m->tail), sizeof(m->tail));
	else if (n > 0)
	{
		memmove(m->tail, m->tail + n, sizeof(m->tail) - n);
		memcpy(m->tail + sizeof(m->tail) - n, p, n);
	}
}

static uint32_t
le32(const unsigned char *p)
{
	return (uint32_t) p[0] | (uint32_t) p[1] << 8 | (uint32_t) p[2] << 16 | (uint32_t) p[3] << 24;
}

/*
 * Which of the trailer's checks failed: ISA-L has just consumed it, so it
 * is the last 8 bytes; its CRC32 against st.crc (the CRC32 of the
 * member's output), then its ISIZE against st.total_out (kept mod 2^32,
 * as ISIZE is): zlib's order.
 */
static const char *
isal_trailer_text(const struct isal_member *m)
{
	if (le32(m->tail) != m->st.crc)
		return "incorrect data check";
	if (le32(m->tail + 4) != m->st.total_out)
		return "incorrect length check";
	return "incorrect data check";
}

static const char *
isal_error_text(const struct isal_member *m, int rc)
{
	switch (rc)
	{
		case ISAL_INVALID_BLOCK:
			return "invalid deflate block";
		case ISAL_INVALID_SYMBOL:
			return "invalid deflate symbol";
		case ISAL_INVALID_LOOKBACK:
			return "invalid lookback distance";
		case ISAL_INCORRECT_CHECKSUM:
			return isal_trailer_text(m);
		default:
			return "ISA-L failed";
	}
}

/* ISA-L on the deflate data and the trailer, after the header. */
static enum inflater_result
isal_inflate_data(struct inflater *inf)
{
	struct isal_member  *m = inf->state;
	const unsigned char *in = inf->next_in;
	size_t               avail_in = inf->avail_in;
	int                  rc;

	m->st.next_in = (uint8_t *) in;
	m->st.avail_in = (uint32_t) avail_in;
	m->st.next_out = inf->next_out;
	m->st.avail_out = (uint32_t) inf->avail_out;
	rc = isal_inflate(&m->st);
	inf->next_out = m->st.next_out;
	inf->avail_out = m->st.avail_out;
	if (m->st.avail_in <= avail_in)
	{
		inf->next_in = m->st.next_in;
		inf->avail_in = m->st.avail_in;
		isal_consumed(m, in, avail_in - inf->avail_in);
	}
	else
	{
		/*
		 * More input left than it was given.  After some corrupt data
		 * ISA-L 2.30 steps avail_in past 0 (libFuzzer found 2^32 - 3): the
		 * data is corrupt, in what it was given.  At a member's end it
		 * gives back the bytes it read ahead, but only ones read in this
		 * call (tried for 13,608 data, input and output step sizes); if it
		 * ever gave back more, the bytes are no longer the caller's, so
		 * that is an error too, never a guess.
		 */
		inf->next_in = in + avail_in;
		inf->avail_in = 0;
		if (rc == ISAL_DECOMP_OK || rc == ISAL_INCORRECT_CHECKSUM)
		{
			inf->msg = "ISA-L gave back input from an earlier call";
			return INFLATER_CORRUPT;
		}
	}
	if (rc != ISAL_DECOMP_OK)
	{
		inf->msg = isal_error_text(m, rc);
		return INFLATER_CORRUPT;
	}
	return m->st.block_state == ISAL_BLOCK_FINISH ? INFLATER_MEMBER_END : INFLATER_OK;
}

static enum inflater_result
isal_run(struct inflater *inf)
{
	struct isal_member  *m = inf->state;
	size_t               avail_in = inf->avail_in, avail_out = inf->avail_out;
	enum inflater_result r;

	if (m->field != HEAD_DONE && (inf->msg = isal_read_head(m, inf)) != NULL)
		return INFLATER_CORRUPT;
	if (m->field != HEAD_DONE)
		return inf->avail_in < avail_in ? INFLATER_OK : INFLATER_STALLED;
	r = isal_inflate_data(inf);
	if (r == INFLATER_OK && inf->avail_in == avail_in && inf->avail_out == avail_out)
		return INFLATER_STALLED;
	return r;
}

static bool
isal_reset(struct inflater *inf)
{
	struct isal_member *m = inf->state;

	isal_inflate_reset(&m->st);
	isal_start(m);
	return true;
}

static void
isal_end(struct inflater *inf)
{
	free(inf->state);
}

static const struct inflater_ops isal_ops = { isal_init, isal_run, isal_reset, isal_end };

/* ---- the interface ---- */

bool
inflater_init(struct inflater *inf, enum input_inflater kind)
{
	const struct inflater_ops *ops = kind == INPUT_INFLATER_ZLIB ? &zlib_ops : &isal_ops;

	memset(inf, 0, sizeof(*inf));
	if (!ops->init(inf))
		return false;
	inf->ops = ops;
	return true;
}

void
inflater_end(struct inflater *inf)
{
	if (inf->ops)
		inf->ops->end(inf);
	inf->ops = NULL;
	inf->state = NULL;
}
