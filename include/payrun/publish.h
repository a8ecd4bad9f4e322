/*
 * publish.h: atomic publication of a settled version under an output
 * directory, DIR/LABEL/vN/, and the lock that keeps runs apart.
 *
 * Files are written into DIR/.tmp-LABEL-vN-PID/, fsync'ed, then the
 * directory is fsync'ed and renamed into place with RENAME_NOREPLACE, and
 * the parent fsync'ed: a crash at any moment leaves nothing or the whole
 * version.  Leftover temporary directories of crashed runs are removed by
 * the next run, under the lock.
 */
#ifndef PAYRUN_PUBLISH_H
#define PAYRUN_PUBLISH_H

#include <stdbool.h>
#include <stddef.h>

#include "payrun/exitcode.h"
#include "payrun/period.h"

#define PUBLISH_LOCK_NAME   ".payrun.lock"
#define PUBLISH_MAX_VERSION 999999 /* versions are v1 .. v999999 */

enum publish_mode
{
	PUBLISH_FIRST, /* version 1; refused if the period has any version (settle) */
	PUBLISH_NEXT,  /* latest + 1; refused if the period has none (rerun) */
	PUBLISH_EXACT  /* the version asked for, which must be latest + 1 (export) */
};

struct publish
{
	char *out_dir; /* owned */
	int   out_fd;  /* DIR */
	int   lock_fd; /* DIR/.payrun.lock, flock'ed */
	char  label[PERIOD_LABEL_MAX];
	int   version;          /* the version being published */
	int   previous;         /* the latest existing version, 0 if none */
	char  tmp_name[96];     /* ".tmp-LABEL-vN-PID" inside DIR */
	int   tmp_fd;           /* the temporary directory, -1 if none */
	char  final_path[4096]; /* DIR/LABEL/vN, for messages */
};

/*
 * Takes the lock on out_dir (creating out_dir if missing), finds the
 * period's latest version, picks the version to publish by mode (refusing
 * with _CONFLICT: a settled period for FIRST, an unsettled one for NEXT,
 * one whose latest version is not exact - 1 for EXACT), removes stale temporary directories and creates a fresh one.  Returns
 * PAYRUN_EXIT_OK, _CONFLICT (lock held, or the mode's condition) or
 * _INTERNAL (I/O), having logged why.
 */
enum payrun_exit publish_begin(struct publish *pub, const char *out_dir, const char *label,
							   enum publish_mode mode, int exact);

/* Highest N with DIR/LABEL/vN present (0 if none); -1 on an I/O error. */
int publish_latest_version(int out_fd, const char *label);

/*
 * The same under a directory's path: the one test of "is this period
 * settled" (a version is present; DIR/LABEL is never followed through a
 * symlink).  0 also when out_dir does not exist.
 */
/*
 * Has a period of the other length that overlaps p (the day of an hour, the
 * hours of a day) a version under out_fd?  found gets its label.
 */
bool publish_overlap(int out_fd, const struct period *p, char *found, size_t len);

int publish_latest_version_at(const char *out_dir, const char *label);

/*
 * The earliest period of a length with a published version under out_dir
 * (labels sort as their periods do), or "" when there is none.
 */
void publish_earliest_settled(const char *out_dir, enum period_length length,
							  char label[PERIOD_LABEL_MAX]);

/* The temporary directory, where the version's files are created. */
int publish_dirfd(const struct publish *pub);

/* Moves the temporary directory into place as DIR/LABEL/vN. */
enum payrun_exit publish_commit(struct publish *pub);

/*
 * On a failed run: moves the file name out of the temporary directory to
 * DIR/LABEL/failed/<stamp>-<pid>/name, so what was kept can be inspected;
 * writes that path into path_out.
 */
bool publish_keep_failed(struct publish *pub, const char *name, char *path_out, size_t path_len);

/* Removes the temporary directory (if any), releases the lock, frees. */
void publish_end(struct publish *pub);

#endif
