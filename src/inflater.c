/*
 * inflater.c: the two gzip inflaters behind inflater.h, zlib's and ISA-L's.
 *
 * zlib is the reference: inflate() with the gzip wrapper (16 + MAX_WBITS)
 * does everything inflater.h asks.  ISA-L's isal_inflate() with crc_flag
 * ISAL_GZIP reads the header, checks the trailer's CRC32 and ISIZE
 * (ISAL_INCORRECT_CHECKSUM) and, at a member's end, gives back the bytes
 * it read ahead, so the next member starts at next_in.  Two things are
 * added around it: it ignores the reserved header flags, which RFC 1952
 * says a decoder must refuse and zlib does, so the first four bytes of a
 * member are checked here as zlib checks them; and it has one code for
 * every failed check, so which one failed is worked out here (the
 * header's CRC16, or the trailer's CRC32 or ISIZE) to say it with zlib's
 * words.
 */
#include <isa-l/igzip_lib.h>
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

struct isal_member
{
	struct inflate_state st;
	uint64_t             in;      /* compressed bytes of the member consumed */
	unsigned char        head[4]; /* its first four bytes, as far as seen */
	unsigned char        tail[8]; /* the last 8 consumed: the trailer, when its check fails */
};

static void
isal_start(struct isal_member *m)
{
	m->st.crc_flag = ISAL_GZIP;
	m->in = 0;
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

/*
 * zlib's checks of a member's first four bytes, made once it has seen all
 * four, in its order and words; NULL when they pass.  The magic bytes
 * are the caller's (inflater.h) and are checked again only for safety.
 */
static const char *
isal_check_head(struct isal_member *m, const unsigned char *p, size_t n)
{
	if (m->in >= sizeof(m->head))
		return NULL;
	for (size_t i = 0; i < n && m->in + i < sizeof(m->head); i++)
		m->head[m->in + i] = p[i];
	if (m->in + n < sizeof(m->head))
		return NULL;
	if (m->head[0] != 0x1f || m->head[1] != 0x8b)
		return "incorrect header check";
	if (m->head[2] != Z_DEFLATED)
		return "unknown compression method";
	if (m->head[3] & 0xe0)
		return "unknown header flags set";
	return NULL;
}

/* Counts the n bytes consumed from p, keeping the last 8 of the member's. */
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
	m->in += n;
}

static uint32_t
le32(const unsigned char *p)
{
	return (uint32_t) p[0] | (uint32_t) p[1] << 8 | (uint32_t) p[2] << 16 | (uint32_t) p[3] << 24;
}

/*
 * Which check ISAL_INCORRECT_CHECKSUM is: the header's CRC16 while the
 * member is still in its header, else the trailer's, which ISA-L has just
 * consumed (so it is the member's last 8 bytes): its CRC32 against
 * st.crc (the CRC32 of the member's output), then its ISIZE against
 * st.total_out (kept mod 2^32, as ISIZE is), zlib's order.
 */
static const char *
isal_checksum_text(const struct isal_member *m)
{
	if (m->st.block_state != ISAL_BLOCK_FINISH && m->st.block_state != ISAL_CHECKSUM_CHECK)
		return "header crc mismatch";
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
		case ISAL_INVALID_WRAPPER:
			return "incorrect header check";
		case ISAL_UNSUPPORTED_METHOD:
			return "unknown compression method";
		case ISAL_INCORRECT_CHECKSUM:
			return isal_checksum_text(m);
		default:
			return "ISA-L failed";
	}
}

static enum inflater_result
isal_run(struct inflater *inf)
{
	struct isal_member  *m = inf->state;
	const unsigned char *in = inf->next_in;
	size_t               avail_in = inf->avail_in, avail_out = inf->avail_out;
	int                  rc;

	if ((inf->msg = isal_check_head(m, in, avail_in)) != NULL)
		return INFLATER_CORRUPT;
	m->st.next_in = (uint8_t *) in;
	m->st.avail_in = (uint32_t) avail_in;
	m->st.next_out = inf->next_out;
	m->st.avail_out = (uint32_t) avail_out;
	rc = isal_inflate(&m->st);
	inf->next_in = m->st.next_in;
	inf->avail_in = m->st.avail_in;
	inf->next_out = m->st.next_out;
	inf->avail_out = m->st.avail_out;
	isal_consumed(m, in, avail_in - inf->avail_in);
	if (rc != ISAL_DECOMP_OK)
	{
		inf->msg = isal_error_text(m, rc);
		return INFLATER_CORRUPT;
	}
	if (m->st.block_state == ISAL_BLOCK_FINISH)
		return INFLATER_MEMBER_END;
	if (inf->avail_in == avail_in && inf->avail_out == avail_out)
		return INFLATER_STALLED;
	return INFLATER_OK;
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
