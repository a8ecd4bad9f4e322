/*
 * outdir.h: the output directory, and the files and directories payrun
 * creates under it.
 *
 * OUT itself is the operator's: its missing parents are created, and it may
 * be a symlink.  Under OUT, everything is opened relative to OUT's
 * descriptor, never through a symlink (O_NOFOLLOW), and a file that is not
 * a regular file (a FIFO, a device) is refused at once rather than waited
 * on or written to.
 */
#ifndef PAYRUN_OUTDIR_H
#define PAYRUN_OUTDIR_H

#include <stdbool.h>

#define OUTDIR_MODE  0750 /* directories payrun creates */
#define OUTFILE_MODE 0640 /* files payrun creates */

/*
 * Opens the directory path (O_DIRECTORY), with create creating it and its
 * missing parents first.  Logs and returns -1 on error; with create false,
 * a missing directory is -1 with errno ENOENT and nothing logged.
 */
int outdir_open(const char *path, bool create);

/*
 * Opens (with create, creating) the directory dirfd/name, never through a
 * symlink; shown names it in messages.  Logs and returns -1 on error.
 */
int outdir_subdir(int dirfd, const char *name, bool create, const char *shown);

/*
 * Opens the regular file dirfd/name with flags (O_CREAT creates it with
 * OUTFILE_MODE), never through a symlink and never waiting on a FIFO.
 * Logs (naming shown) and returns -1 on error.
 */
int outdir_open_file(int dirfd, const char *name, int flags, const char *shown);

#endif
