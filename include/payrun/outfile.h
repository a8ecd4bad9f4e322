/*
 * outfile.h: buffered output files that count their bytes, digest them
 * with SHA-256 and are fsync'ed on close.  CSV goes through csvout.h.
 */
#ifndef PAYRUN_OUTFILE_H
#define PAYRUN_OUTFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "payrun/csvout.h"
#include "payrun/sha256.h"

#define OUTFILE_BUFSIZE (256 * 1024)
#define OUTFILE_MODE    0640 /* umask still applies */

struct outfile
{
	int           fd;
	char         *name; /* owned, for messages */
	char         *buf;  /* owned, OUTFILE_BUFSIZE */
	size_t        used;
	uint64_t      bytes; /* written so far */
	struct sha256 digest;
	bool          failed;                 /* a write failed (logged once) */
	char          sha256[SHA256_HEX_LEN]; /* after outfile_close */
};

/*
 * Creates name inside the directory dirfd: it must not exist and is never
 * followed through a symlink (O_EXCL | O_NOFOLLOW).
 */
bool outfile_create(struct outfile *of, int dirfd, const char *name);
void outfile_write(struct outfile *of, const void *data, size_t len);
void outfile_puts(struct outfile *of, const char *s);
/* A CSV writer into this file. */
struct csvout outfile_csvout(struct outfile *of);
/* Flushes, fsyncs and closes; false if any write, the fsync or close failed. */
bool outfile_close(struct outfile *of);
/* Closes without flushing (error paths). */
void outfile_discard(struct outfile *of);

#endif
