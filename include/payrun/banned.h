/*
 * banned.h: the C library functions STYLE.md bans, made compile errors.
 * Included last by every source file (after the system headers, whose
 * declarations it would otherwise break), as git's banned.h is.
 *
 *   strcpy, strcat, strncpy, strncat   unbounded or silently truncating:
 *                                      use snprintf or memcpy with a length
 *   sprintf, vsprintf                  unbounded: use snprintf
 *   strtok, strtok_r                   hidden state, mutates its input
 *   atoi, atol, atoll                  no error or range check: use
 *                                      strtoll/strtoull with end and range
 *                                      checks (see numparse.h)
 *   gets                               unbounded
 */
#ifndef PAYRUN_BANNED_H
#define PAYRUN_BANNED_H

#define BANNED(func) sorry_##func##_is_banned_see_STYLE_md

#undef strcpy
#define strcpy(x, y) BANNED(strcpy)
#undef strcat
#define strcat(x, y) BANNED(strcat)
#undef strncpy
#define strncpy(x, y, n) BANNED(strncpy)
#undef strncat
#define strncat(x, y, n) BANNED(strncat)
#undef sprintf
#define sprintf(...) BANNED(sprintf)
#undef vsprintf
#define vsprintf(...) BANNED(vsprintf)
#undef strtok
#define strtok(x, y) BANNED(strtok)
#undef strtok_r
#define strtok_r(x, y, z) BANNED(strtok_r)
#undef atoi
#define atoi(x) BANNED(atoi)
#undef atol
#define atol(x) BANNED(atol)
#undef atoll
#define atoll(x) BANNED(atoll)
#undef gets
#define gets(x) BANNED(gets)

#endif
