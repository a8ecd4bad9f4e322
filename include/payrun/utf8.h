/*
 * utf8.h: names that are not UTF-8 (a path, an id, a reason) kept, escaped.
 *
 * JSON and PostgreSQL's text need UTF-8, and payrun never drops a name it
 * records: a string that is not valid UTF-8 is recorded with each byte
 * that is not part of a valid sequence written as \xNN (two upper-case hex
 * digits) and each backslash as \\, so the original bytes can be told and
 * restored.  A valid string is recorded as it is.
 */
#ifndef PAYRUN_UTF8_H
#define PAYRUN_UTF8_H

#include <stdbool.h>
#include <stddef.h>

/* Is s[0..len) valid UTF-8 (no overlong forms, surrogates or values past U+10FFFF)? */
bool utf8_valid(const char *s, size_t len);

/* s as it is when valid, else escaped as above; owned by the caller. */
char *utf8_escape(const char *s);

#endif
