/*
 * csvfield.c: fields by name and of any length (see csvfield.h).
 */
#include <stdlib.h>
#include <string.h>

#include "payrun/csvfield.h"
#include "payrun/log.h"
#include "payrun/mem.h"
#include "payrun/banned.h"

const char *
csvfield_value(struct csvfield_buf *buf, const struct csv_record *rec, uint32_t i, size_t *len)
{
	const char *v;

	if (rec->spans[i].len > buf->cap)
	{
		buf->cap = rec->spans[i].len;
		buf->data = mem_realloc(buf->data, buf->cap);
	}
	csvscan_field(rec, i, buf->data, &v, len);
	return v;
}

void
csvfield_buf_release(struct csvfield_buf *buf)
{
	free(buf->data);
	buf->data = NULL;
	buf->cap = 0;
}

/* Which of names a header field is, or nnames for none. */
static size_t
which_name(const char *v, size_t vlen, const char *const *names, size_t nnames)
{
	for (size_t c = 0; c < nnames; c++)
	{
		if (strlen(names[c]) == vlen && memcmp(names[c], v, vlen) == 0)
			return c;
	}
	return nnames;
}

bool
csvfield_match_header(const struct csv_record *rec, const char *path, const char *const *names,
					  size_t nnames, size_t nrequired, uint32_t *cols, uint32_t *last_col)
{
	struct csvfield_buf buf = { 0 };
	bool                ok = true;
	uint32_t            last = 0;

	if (rec->bad_quote)
	{
		log_error("%s:%llu: malformed quote in the header", path, (unsigned long long) rec->line);
		return false;
	}
	if (rec->nfields != rec->nspans)
	{
		log_error("%s:%llu: header has %u columns, more than payrun accepts", path,
				  (unsigned long long) rec->line, rec->nfields);
		return false;
	}
	for (size_t c = 0; c < nnames; c++)
		cols[c] = CSVFIELD_ABSENT;
	for (uint32_t i = 0; ok && i < rec->nfields; i++)
	{
		size_t      vlen;
		const char *v = csvfield_value(&buf, rec, i, &vlen);
		size_t      c;

		if (i == 0 && vlen >= 3 && memcmp(v, "\xEF\xBB\xBF", 3) == 0)
		{
			v += 3; /* a UTF-8 byte order mark */
			vlen -= 3;
		}
		c = which_name(v, vlen, names, nnames);
		if (c == nnames)
			continue;
		if (cols[c] != CSVFIELD_ABSENT)
		{
			log_error("%s:%llu: column '%s' appears twice in the header", path,
					  (unsigned long long) rec->line, names[c]);
			ok = false;
		}
		cols[c] = i;
		if (i > last)
			last = i;
	}
	csvfield_buf_release(&buf);
	for (size_t c = 0; ok && c < nrequired; c++)
	{
		if (cols[c] == CSVFIELD_ABSENT)
		{
			log_error("%s:%llu: header lacks required column '%s'", path,
					  (unsigned long long) rec->line, names[c]);
			ok = false;
		}
	}
	if (ok && last_col)
		*last_col = last;
	return ok;
}
