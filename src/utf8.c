/*
 * utf8.c: UTF-8 validation and the escaping of names that are not (see
 * utf8.h).
 */
#include <stdio.h>
#include <string.h>

#include "payrun/mem.h"
#include "payrun/utf8.h"
#include "payrun/banned.h"

/* The length of the valid sequence at s (len bytes left), or 0. */
static size_t
sequence_len(const unsigned char *s, size_t len)
{
	unsigned char c = s[0];
	size_t        n;
	unsigned      cp;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		n = 2, cp = c & 0x1f;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3, cp = c & 0x0f;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4, cp = c & 0x07;
	else
		return 0;
	if (len < n)
		return 0;
	for (size_t i = 1; i < n; i++)
	{
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
		(cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

bool
utf8_valid(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *) s;

	for (size_t i = 0; i < len;)
	{
		size_t n = sequence_len(p + i, len - i);

		if (n == 0)
			return false;
		i += n;
	}
	return true;
}

char *
utf8_escape(const char *s)
{
	const unsigned char *p = (const unsigned char *) s;
	size_t               len = strlen(s);
	char                *out;
	size_t               o = 0;

	if (utf8_valid(s, len))
		return mem_strdup(s);
	out = mem_alloc(len * 4 + 1); /* at worst every byte as \xNN */
	for (size_t i = 0; i < len;)
	{
		size_t n = sequence_len(p + i, len - i);

		if (n == 0)
		{
			snprintf(out + o, 5, "\\x%02X", p[i]);
			o += 4;
			i++;
		}
		else if (p[i] == '\\')
		{
			memcpy(out + o, "\\\\", 2);
			o += 2;
			i++;
		}
		else
		{
			memcpy(out + o, p + i, n);
			o += n;
			i += n;
		}
	}
	out[o] = '\0';
	return out;
}
