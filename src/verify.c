/*
 * verify.c: a published version checked against its manifest, its own
 * books and the database (see verify.h).  It only reads.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "payrun/aggregate.h"
#include "payrun/amount.h"
#include "payrun/csvout.h"
#include "payrun/csvscan.h"
#include "payrun/db.h"
#include "payrun/export.h"
#include "payrun/input.h"
#include "payrun/log.h"
#include "payrun/mem.h"
#include "payrun/numparse.h"
#include "payrun/outdir.h"
#include "payrun/payout.h"
#include "payrun/publish.h"
#include "payrun/sha256.h"
#include "payrun/verify.h"
#include "payrun/banned.h"

#define VERIFY_MAX_CSV_BYTES (4ULL * 1024 * 1024 * 1024)
#define LEDGER_FIELDS        12
#define STREAMS_FIELDS       9

/* A row of ledger.csv or streams.csv, and the line it is on. */
struct file_row
{
	struct ledger_row r; /* ids owned */
	uint64_t          line;
};

struct file_stream
{
	struct ledger_stream s; /* id owned */
	uint64_t             line;
};

/* A verification as it goes. */
struct verify
{
	const struct verify_request *req;
	FILE                        *out;
	int                          version;
	int                          dirfd;     /* DIR/LABEL/vN */
	char                         dir[4200]; /* its path, for messages */
	json_t                      *manifest;  /* owned, NULL if unreadable */
	json_t                      *digests;   /* owned: file name -> its SHA-256 as read */
	size_t                       nfiles;    /* files checked against the manifest */
	struct file_row             *rows;      /* owned: ledger.csv, sorted once read */
	size_t                       nrows;
	struct file_stream          *streams; /* owned: streams.csv, sorted once read */
	size_t                       nstreams;
	size_t                       ndiffs;
};

static void differ(struct verify *v, const char *file, uint64_t line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* One difference: "file:line: what", or "file: what" without a line. */
static void
differ(struct verify *v, const char *file, uint64_t line, const char *fmt, ...)
{
	char    what[1024];
	va_list ap;

	if (++v->ndiffs > VERIFY_MAX_LISTED)
		return;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	if (line > 0)
		fprintf(v->out, "%s:%llu: %s\n", file, (unsigned long long) line, what);
	else
		fprintf(v->out, "%s: %s\n", file, what);
}

/* ---- the version and its manifest --------------------------------------- */

/* Opens DIR/LABEL/vN (the latest when no version is asked for), never through a symlink. */
static enum payrun_exit
open_version(struct verify *v)
{
	const struct verify_request *req = v->req;
	const char                  *label = req->period.label;
	int                          out_fd = outdir_open(req->out_dir, false);
	char                         shown[4200];
	char                         name[16];
	int                          label_fd = -1;
	int                          latest;

	if (out_fd < 0)
	{
		int e = errno;

		if (e == ENOENT)
			log_error("could not open output directory '%s': %s", req->out_dir, strerror(e));
		return e == ENOENT || e == ENOTDIR ? PAYRUN_EXIT_USAGE : PAYRUN_EXIT_INTERNAL;
	}
	latest = publish_latest_version(out_fd, label);
	v->version = req->version > 0 ? req->version : latest;
	snprintf(v->dir, sizeof(v->dir), "%s/%s/v%d", req->out_dir, label, v->version);
	snprintf(shown, sizeof(shown), "%s/%s", req->out_dir, label);
	snprintf(name, sizeof(name), "v%d", v->version);
	if (latest < 0)
		log_error("could not list '%s': %s", shown, strerror(errno));
	else if (latest == 0)
		log_error("period %s has no published version in '%s'", label, req->out_dir);
	else if ((label_fd = outdir_subdir(out_fd, label, false, shown)) >= 0)
		v->dirfd = outdir_subdir(label_fd, name, false, v->dir);
	if (label_fd >= 0)
		close(label_fd);
	close(out_fd);
	if (latest < 0)
		return PAYRUN_EXIT_INTERNAL;
	return latest == 0 || v->dirfd < 0 ? PAYRUN_EXIT_USAGE : PAYRUN_EXIT_OK;
}

/* Reads manifest.json; one that cannot be read is a difference, and what can be checked still is. */
static void
read_manifest(struct verify *v)
{
	char         path[4300];
	char        *text;
	size_t       len;
	json_error_t err;
	json_t      *period;

	snprintf(path, sizeof(path), "%s/manifest.json", v->dir);
	if (faccessat(v->dirfd, "manifest.json", F_OK, AT_SYMLINK_NOFOLLOW) != 0)
	{
		differ(v, "manifest.json", 0, "missing");
		return;
	}
	if (!input_read_whole(path, "manifest", VERIFY_MAX_CSV_BYTES, &text, &len))
	{
		differ(v, "manifest.json", 0, "cannot be read");
		return;
	}
	v->manifest = json_loadb(text, len, 0, &err);
	free(text);
	if (v->manifest == NULL || !json_is_object(v->manifest))
	{
		differ(v, "manifest.json", (uint64_t) err.line, "not a JSON object: %s",
			   v->manifest ? "another JSON value" : err.text);
		json_decref(v->manifest);
		v->manifest = NULL;
		return;
	}
	period = json_object_get(v->manifest, "period");
	if (json_string_value(json_object_get(period, "label")) == NULL ||
		strcmp(json_string_value(json_object_get(period, "label")), v->req->period.label) != 0)
		differ(v, "manifest.json", 0, "period.label is not '%s', the directory's",
			   v->req->period.label);
	if (json_integer_value(json_object_get(v->manifest, "version")) != v->version)
		differ(v, "manifest.json", 0, "version is %lld, not %d (the directory's)",
			   (long long) json_integer_value(json_object_get(v->manifest, "version")), v->version);
}

/* ---- the files against the manifest's outputs ---------------------------- */

/* Size and SHA-256 of a file of the version; 0, or an errno (EINVAL: not a regular file). */
static int
digest_file(int dirfd, const char *name, uint64_t *bytes, char hex[SHA256_HEX_LEN])
{
	int           fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	struct stat   st;
	struct sha256 d;
	char          buf[65536];
	ssize_t       n;
	int           err = 0;

	if (fd < 0)
		return errno == ELOOP ? EINVAL : errno;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
	{
		close(fd);
		return EINVAL;
	}
	*bytes = 0;
	sha256_init(&d);
	while ((n = read(fd, buf, sizeof(buf))) > 0)
	{
		sha256_update(&d, buf, (size_t) n);
		*bytes += (uint64_t) n;
	}
	if (n < 0)
		err = errno;
	sha256_final_hex(&d, hex);
	sha256_release(&d);
	close(fd);
	return err;
}

/* Is name a plain file name (not a path, not the manifest itself)? */
static bool
plain_name(const char *name)
{
	return name && name[0] != '\0' && strchr(name, '/') == NULL && strcmp(name, ".") != 0 &&
		   strcmp(name, "..") != 0 && strcmp(name, "manifest.json") != 0;
}

/* One output the manifest lists: present, its size and digest as recorded. */
static void
check_output(struct verify *v, json_t *o, size_t i)
{
	const char *name = json_string_value(json_object_get(o, "name"));
	const char *want = json_string_value(json_object_get(o, "sha256"));
	json_t     *bytes_j = json_object_get(o, "bytes");
	char        got[SHA256_HEX_LEN];
	uint64_t    bytes = 0;
	int         err;

	if (!plain_name(name) || want == NULL || !json_is_integer(bytes_j))
	{
		differ(v, "manifest.json", 0, "outputs[%zu] is not a file name with bytes and sha256", i);
		return;
	}
	if (json_object_get(v->digests, name))
	{
		differ(v, "manifest.json", 0, "outputs lists '%s' twice", name);
		return;
	}
	err = digest_file(v->dirfd, name, &bytes, got);
	if (err != 0)
	{
		differ(v, name, 0, "%s",
			   err == ENOENT   ? "listed in the manifest but missing"
			   : err == EINVAL ? "not a regular file"
							   : strerror(err));
		json_object_set_new(v->digests, name, json_null());
		return;
	}
	v->nfiles++;
	json_object_set_new(v->digests, name, json_string(got));
	if ((json_int_t) bytes != json_integer_value(bytes_j))
		differ(v, name, 0, "%llu bytes, the manifest says %lld", (unsigned long long) bytes,
			   (long long) json_integer_value(bytes_j));
	if (strcmp(got, want) != 0)
		differ(v, name, 0, "sha256 %s, the manifest says %s", got, want);
}

/* Every listed output, then the files the manifest does not list. */
static enum payrun_exit
check_files(struct verify *v)
{
	json_t        *outputs = v->manifest ? json_object_get(v->manifest, "outputs") : NULL;
	json_t        *o;
	size_t         i;
	int            fd;
	DIR           *d;
	struct dirent *de;

	if (v->manifest && !json_is_array(outputs))
		differ(v, "manifest.json", 0, "has no outputs array");
	json_array_foreach(outputs, i, o) check_output(v, o, i);
	if ((fd = openat(v->dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 ||
		(d = fdopendir(fd)) == NULL)
	{
		log_error("could not list '%s': %s", v->dir, strerror(errno));
		if (fd >= 0)
			close(fd);
		return PAYRUN_EXIT_INTERNAL;
	}
	while ((de = readdir(d)) != NULL)
	{
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0 ||
			strcmp(de->d_name, "manifest.json") == 0)
			continue;
		if (v->manifest && json_object_get(v->digests, de->d_name) == NULL)
			differ(v, de->d_name, 0, "present but not listed in the manifest's outputs");
	}
	closedir(d);
	return PAYRUN_EXIT_OK;
}

/* ---- ledger.csv and streams.csv ----------------------------------------- */

/* What the record callbacks need. */
struct csv_read
{
	struct verify *v;
	const char    *file;
	const char    *header; /* the header line as settle writes it, with its LF */
	uint32_t       nfields;
	bool           header_seen;
	size_t         cap;
	char           start[TIMESTAMP_FORMAT_LEN]; /* the period's bounds, as rows hold them */
	char           end[TIMESTAMP_FORMAT_LEN];
	char          *scratch; /* owned: unescaped field values */
	size_t         scratch_cap;
};

/* Field i of a record, unescaped into the reader's scratch (valid until the next call). */
static const char *
field(struct csv_read *cr, const struct csv_record *rec, uint32_t i, size_t *len)
{
	const char *value;

	if (rec->spans[i].len + 1 > cr->scratch_cap)
	{
		cr->scratch_cap = rec->spans[i].len + 1;
		cr->scratch = mem_realloc(cr->scratch, cr->scratch_cap);
	}
	csvscan_field(rec, i, cr->scratch, &value, len);
	return value;
}

/* A whole number field, or a difference naming the column. */
static bool
u64_field(struct csv_read *cr, const struct csv_record *rec, uint32_t i, const char *column,
		  uint64_t *out)
{
	size_t      len;
	const char *s = field(cr, rec, i, &len);

	if (numparse_u64(s, len, 0, UINT64_MAX, out))
		return true;
	differ(cr->v, cr->file, rec->line, "%s '%.*s' is not a whole number", column, (int) len, s);
	return false;
}

/* An amount field in base units, or a difference naming the column. */
static bool
amount_field(struct csv_read *cr, const struct csv_record *rec, uint32_t i, const char *column,
			 struct amount *out)
{
	size_t             len;
	const char        *s = field(cr, rec, i, &len);
	enum amount_status st = amount_parse(s, len, 0, out);

	if (st == AMOUNT_OK)
		return true;
	differ(cr->v, cr->file, rec->line, "%s '%.*s': %s", column, (int) len, s,
		   amount_status_message(st));
	return false;
}

/* An id field, owned copy; a difference when empty or too long. */
static bool
id_field(struct csv_read *cr, const struct csv_record *rec, uint32_t i, const char *column,
		 const char **out, size_t *out_len)
{
	size_t      len;
	const char *s = field(cr, rec, i, &len);

	if (len == 0 || len > AGGREGATE_ID_MAX)
	{
		differ(cr->v, cr->file, rec->line, "%s is %s", column, len ? "too long" : "empty");
		return false;
	}
	*out = mem_memdup(s, len);
	*out_len = len;
	return true;
}

/* The header, the field count and the period bounds of a record; false: skip it. */
static bool
record_ok(struct csv_read *cr, const struct csv_record *rec)
{
	size_t      len;
	const char *s;

	if (!cr->header_seen)
	{
		cr->header_seen = true;
		if (rec->len + 1 != strlen(cr->header) || memcmp(rec->raw, cr->header, rec->len) != 0)
			differ(cr->v, cr->file, rec->line, "the header is not payrun's: %.*s",
				   (int) strlen(cr->header) - 1, cr->header);
		return false;
	}
	if (rec->bad_quote || rec->nfields != cr->nfields || rec->nspans != cr->nfields)
	{
		differ(cr->v, cr->file, rec->line, "malformed record: %u fields, want %u", rec->nfields,
			   cr->nfields);
		return false;
	}
	s = field(cr, rec, 0, &len);
	if (len != strlen(cr->start) || memcmp(s, cr->start, len) != 0)
		differ(cr->v, cr->file, rec->line, "period_start '%.*s' is not the period's, %s", (int) len,
			   s, cr->start);
	s = field(cr, rec, 1, &len);
	if (len != strlen(cr->end) || memcmp(s, cr->end, len) != 0)
		differ(cr->v, cr->file, rec->line, "period_end '%.*s' is not the period's, %s", (int) len,
			   s, cr->end);
	return true;
}

static bool
on_ledger_record(void *arg, const struct csv_record *rec)
{
	struct csv_read *cr = arg;
	struct verify   *v = cr->v;
	struct file_row  fr;
	uint64_t         up, contrib;
	bool             ok;

	if (!record_ok(cr, rec))
		return true;
	memset(&fr, 0, sizeof(fr));
	fr.line = rec->line;
	ok = u64_field(cr, rec, 4, "total_polls", &fr.r.counts.total_polls) &&
		 u64_field(cr, rec, 5, "successful_polls", &fr.r.counts.successful_polls) &&
		 u64_field(cr, rec, 6, "failed_spot_checks", &fr.r.counts.failed_spot_checks) &&
		 u64_field(cr, rec, 7, "uptime_ppm", &up) &&
		 u64_field(cr, rec, 8, "contribution_ppm", &contrib) &&
		 amount_field(cr, rec, 9, "base_amount", &fr.r.base) &&
		 amount_field(cr, rec, 10, "forfeited_amount", &fr.r.forfeited) &&
		 amount_field(cr, rec, 11, "payout_amount", &fr.r.payout) &&
		 id_field(cr, rec, 2, "stream_id", &fr.r.stream, &fr.r.stream_len);
	if (ok && !id_field(cr, rec, 3, "node_id", &fr.r.node, &fr.r.node_len))
	{
		free((char *) fr.r.stream);
		ok = false;
	}
	if (!ok)
		return true;
	fr.r.uptime_ppm = up > UINT32_MAX ? UINT32_MAX : (uint32_t) up;
	fr.r.contribution_ppm = contrib > UINT32_MAX ? UINT32_MAX : (uint32_t) contrib;
	if (v->nrows == cr->cap)
	{
		cr->cap = cr->cap ? cr->cap * 2 : 1024;
		v->rows = mem_realloc_array(v->rows, cr->cap, sizeof(fr));
	}
	v->rows[v->nrows++] = fr;
	return true;
}

static bool
on_stream_record(void *arg, const struct csv_record *rec)
{
	struct csv_read   *cr = arg;
	struct verify     *v = cr->v;
	struct file_stream fs;

	if (!record_ok(cr, rec))
		return true;
	memset(&fs, 0, sizeof(fs));
	fs.line = rec->line;
	if (!amount_field(cr, rec, 3, "pool", &fs.s.pool) ||
		!u64_field(cr, rec, 4, "nodes", &fs.s.nodes) ||
		!u64_field(cr, rec, 5, "total_successful_polls", &fs.s.total_successful_polls) ||
		!amount_field(cr, rec, 6, "paid", &fs.s.paid) ||
		!amount_field(cr, rec, 7, "forfeited", &fs.s.forfeited) ||
		!amount_field(cr, rec, 8, "unallocated", &fs.s.unallocated) ||
		!id_field(cr, rec, 2, "stream_id", &fs.s.stream, &fs.s.stream_len))
		return true;
	if (v->nstreams == cr->cap)
	{
		cr->cap = cr->cap ? cr->cap * 2 : 64;
		v->streams = mem_realloc_array(v->streams, cr->cap, sizeof(fs));
	}
	v->streams[v->nstreams++] = fs;
	return true;
}

/* Reads one CSV file of the version through a record callback; false if it could not be read. */
static bool
read_csv(struct verify *v, const char *file, const char *header, uint32_t nfields, csvscan_fn fn)
{
	char                path[4300];
	char               *buf;
	size_t              len, consumed;
	struct csvscan      scan;
	struct csv_read     cr = { .v = v, .file = file, .header = header, .nfields = nfields };
	enum csvscan_status status;
	json_t             *digest = json_object_get(v->digests, file);

	if (v->manifest && digest == NULL)
		return false; /* not listed: said already */
	if (json_is_null(digest))
		return false; /* missing or not a file: said already */
	snprintf(path, sizeof(path), "%s/%s", v->dir, file);
	if (!input_read_whole(path, file, VERIFY_MAX_CSV_BYTES, &buf, &len))
	{
		differ(v, file, 0, "cannot be read");
		return false;
	}
	timestamp_format(v->req->period.start, cr.start);
	timestamp_format(v->req->period.end, cr.end);
	csvscan_init(&scan, nfields + 1);
	status = csvscan_feed(&scan, buf, len, true, &consumed, fn, &cr);
	if (status == CSVSCAN_UNTERMINATED_QUOTE)
		differ(v, file, scan.error_line, "unterminated quote");
	if (!cr.header_seen)
		differ(v, file, 0, "empty: no header");
	csvscan_release(&scan);
	free(cr.scratch);
	free(buf);
	return true;
}

/* ---- the books ----------------------------------------------------------- */

static int
file_row_cmp(const void *x, const void *y)
{
	const struct ledger_row *a = &((const struct file_row *) x)->r;
	const struct ledger_row *b = &((const struct file_row *) y)->r;
	int c = aggregate_id_cmp(a->stream, a->stream_len, b->stream, b->stream_len);

	return c ? c : aggregate_id_cmp(a->node, a->node_len, b->node, b->node_len);
}

static int
file_stream_cmp(const void *x, const void *y)
{
	const struct ledger_stream *a = &((const struct file_stream *) x)->s;
	const struct ledger_stream *b = &((const struct file_stream *) y)->s;

	return aggregate_id_cmp(a->stream, a->stream_len, b->stream, b->stream_len);
}

/* Rows and streams as written are sorted and unique; then sorted for the sums. */
static void
check_order(struct verify *v)
{
	for (size_t i = 1; i < v->nrows; i++)
	{
		int c = file_row_cmp(&v->rows[i - 1], &v->rows[i]);

		if (c >= 0)
			differ(v, "ledger.csv", v->rows[i].line,
				   c == 0 ? "stream '%.*s' node '%.*s' appears twice (also on line %llu)"
						  : "stream '%.*s' node '%.*s' is out of order (after line %llu)",
				   (int) v->rows[i].r.stream_len, v->rows[i].r.stream, (int) v->rows[i].r.node_len,
				   v->rows[i].r.node, (unsigned long long) v->rows[i - 1].line);
	}
	for (size_t i = 1; i < v->nstreams; i++)
	{
		int c = file_stream_cmp(&v->streams[i - 1], &v->streams[i]);

		if (c >= 0)
			differ(v, "streams.csv", v->streams[i].line,
				   c == 0 ? "stream '%.*s' appears twice (also on line %llu)"
						  : "stream '%.*s' is out of order (after line %llu)",
				   (int) v->streams[i].s.stream_len, v->streams[i].s.stream,
				   (unsigned long long) v->streams[i - 1].line);
	}
	if (v->nrows > 1)
		qsort(v->rows, v->nrows, sizeof(*v->rows), file_row_cmp);
	if (v->nstreams > 1)
		qsort(v->streams, v->nstreams, sizeof(*v->streams), file_stream_cmp);
}

/* What a stream's rows add up to. */
struct stream_sums
{
	struct amount paid;
	struct amount forfeited;
	uint64_t      nodes;
	uint64_t      successful_polls;
	bool          overflow;
};

/* Each row of one stream: base = payout + forfeited, its ppm, and the stream's sums. */
static void
check_rows(struct verify *v, const struct file_stream *fs, size_t from, size_t to,
		   struct stream_sums *sum)
{
	memset(sum, 0, sizeof(*sum));
	for (size_t i = from; i < to; i++)
		sum->overflow |= __builtin_add_overflow(
			sum->successful_polls, v->rows[i].r.counts.successful_polls, &sum->successful_polls);
	for (size_t i = from; i < to; i++)
	{
		const struct ledger_row *r = &v->rows[i].r;
		struct amount            b = r->payout;
		char                     t1[AMOUNT_TEXT_LEN], t2[AMOUNT_TEXT_LEN], t3[AMOUNT_TEXT_LEN];
		uint32_t                 up = payout_ppm(r->counts.successful_polls, r->counts.total_polls);
		uint32_t contrib = payout_ppm(r->counts.successful_polls, sum->successful_polls);

		if (!amount_add(&b, &r->forfeited) || amount_cmp(&b, &r->base) != 0)
		{
			amount_format(&r->base, t1);
			amount_format(&r->payout, t2);
			amount_format(&r->forfeited, t3);
			differ(v, "ledger.csv", v->rows[i].line,
				   "stream '%.*s' node '%.*s': base_amount %s != payout_amount %s + "
				   "forfeited_amount %s",
				   (int) r->stream_len, r->stream, (int) r->node_len, r->node, t1, t2, t3);
		}
		if (r->counts.successful_polls > r->counts.total_polls || r->uptime_ppm != up)
			differ(v, "ledger.csv", v->rows[i].line,
				   "stream '%.*s' node '%.*s': uptime_ppm %u, want %u (successful_polls %llu of "
				   "total_polls %llu)",
				   (int) r->stream_len, r->stream, (int) r->node_len, r->node, r->uptime_ppm, up,
				   (unsigned long long) r->counts.successful_polls,
				   (unsigned long long) r->counts.total_polls);
		if (fs && !sum->overflow && r->contribution_ppm != contrib)
			differ(v, "ledger.csv", v->rows[i].line,
				   "stream '%.*s' node '%.*s': contribution_ppm %u, want %u", (int) r->stream_len,
				   r->stream, (int) r->node_len, r->node, r->contribution_ppm, contrib);
		if (fs == NULL)
			differ(v, "ledger.csv", v->rows[i].line, "stream '%.*s' is not in streams.csv",
				   (int) r->stream_len, r->stream);
		sum->overflow |= !amount_add(&sum->paid, &r->payout) ||
						 !amount_add(&sum->forfeited, &r->forfeited);
		sum->nodes++;
	}
}

/* A stream's totals against its rows' sums, and paid + forfeited + unallocated = pool. */
static void
check_stream(struct verify *v, const struct file_stream *fs, const struct stream_sums *sum)
{
	const struct ledger_stream *s = &fs->s;
	struct amount               whole = s->paid;
	char                        t1[AMOUNT_TEXT_LEN], t2[AMOUNT_TEXT_LEN];
	int                         n = (int) s->stream_len;

	if (sum->overflow)
		differ(v, "streams.csv", fs->line, "stream '%.*s': its rows add up past 2^256 - 1", n,
			   s->stream);
	else if (amount_cmp(&sum->paid, &s->paid) != 0)
		differ(v, "streams.csv", fs->line, "stream '%.*s': paid %s, its rows' payouts add up to %s",
			   n, s->stream, (amount_format(&s->paid, t1), t1),
			   (amount_format(&sum->paid, t2), t2));
	if (!sum->overflow && amount_cmp(&sum->forfeited, &s->forfeited) != 0)
		differ(v, "streams.csv", fs->line, "stream '%.*s': forfeited %s, its rows add up to %s", n,
			   s->stream, (amount_format(&s->forfeited, t1), t1),
			   (amount_format(&sum->forfeited, t2), t2));
	if (sum->nodes != s->nodes)
		differ(v, "streams.csv", fs->line, "stream '%.*s': nodes %llu, ledger.csv has %llu rows", n,
			   s->stream, (unsigned long long) s->nodes, (unsigned long long) sum->nodes);
	if (!sum->overflow && sum->successful_polls != s->total_successful_polls)
		differ(v, "streams.csv", fs->line,
			   "stream '%.*s': total_successful_polls %llu, its rows add up to %llu", n, s->stream,
			   (unsigned long long) s->total_successful_polls,
			   (unsigned long long) sum->successful_polls);
	if (!amount_add(&whole, &s->forfeited) || !amount_add(&whole, &s->unallocated) ||
		amount_cmp(&whole, &s->pool) != 0)
		differ(v, "streams.csv", fs->line,
			   "stream '%.*s': paid + forfeited + unallocated != pool %s", n, s->stream,
			   (amount_format(&s->pool, t1), t1));
}

/* The period's totals: the sums over streams.csv. */
struct book_totals
{
	struct amount pool;
	struct amount paid;
	struct amount forfeited;
	struct amount unallocated;
	bool          overflow;
};

/* Does the manifest's total key (a decimal string, or an old integer) equal want? */
static void
check_total(struct verify *v, json_t *totals, const char *key, const struct amount *want,
			const char *against)
{
	json_t       *j = json_object_get(totals, key);
	char          buf[AMOUNT_TEXT_LEN];
	char          wtext[AMOUNT_TEXT_LEN];
	const char   *text = json_string_value(j);
	struct amount a;

	if (text == NULL && json_is_integer(j))
	{
		snprintf(buf, sizeof(buf), "%lld", (long long) json_integer_value(j));
		text = buf;
	}
	amount_format(want, wtext);
	if (text == NULL || amount_parse(text, strlen(text), 0, &a) != AMOUNT_OK ||
		amount_cmp(&a, want) != 0)
		differ(v, "manifest.json", 0, "totals.%s is %s, %s %s", key, text ? text : "missing",
			   against, wtext);
}

/* Every invariant of the books, each stream with its rows. */
static void
check_books(struct verify *v)
{
	struct book_totals t;
	json_t            *totals = v->manifest ? json_object_get(v->manifest, "totals") : NULL;
	size_t             ri = 0;

	memset(&t, 0, sizeof(t));
	check_order(v);
	for (size_t si = 0; si <= v->nstreams; si++)
	{
		const struct file_stream *fs = si < v->nstreams ? &v->streams[si] : NULL;
		struct stream_sums        sum;
		size_t                    from;

		/* rows of streams that sort before this one belong to no stream */
		while (ri < v->nrows &&
			   (fs == NULL || aggregate_id_cmp(v->rows[ri].r.stream, v->rows[ri].r.stream_len,
											   fs->s.stream, fs->s.stream_len) < 0))
		{
			check_rows(v, NULL, ri, ri + 1, &sum);
			ri++;
		}
		if (fs == NULL)
			break;
		from = ri;
		while (ri < v->nrows && aggregate_id_cmp(v->rows[ri].r.stream, v->rows[ri].r.stream_len,
												 fs->s.stream, fs->s.stream_len) == 0)
			ri++;
		check_rows(v, fs, from, ri, &sum);
		check_stream(v, fs, &sum);
		t.overflow |= !amount_add(&t.pool, &fs->s.pool) || !amount_add(&t.paid, &fs->s.paid) ||
					  !amount_add(&t.forfeited, &fs->s.forfeited) ||
					  !amount_add(&t.unallocated, &fs->s.unallocated);
	}
	if (totals == NULL)
		return;
	if (json_integer_value(json_object_get(totals, "streams")) != (json_int_t) v->nstreams)
		differ(v, "manifest.json", 0, "totals.streams is %lld, streams.csv has %zu",
			   (long long) json_integer_value(json_object_get(totals, "streams")), v->nstreams);
	if (json_integer_value(json_object_get(totals, "nodes")) != (json_int_t) v->nrows)
		differ(v, "manifest.json", 0, "totals.nodes is %lld, ledger.csv has %zu rows",
			   (long long) json_integer_value(json_object_get(totals, "nodes")), v->nrows);
	if (t.overflow)
	{
		differ(v, "streams.csv", 0, "its totals add up past 2^256 - 1");
		return;
	}
	check_total(v, totals, "pool", &t.pool, "streams.csv adds up to");
	check_total(v, totals, "paid", &t.paid, "streams.csv adds up to");
	check_total(v, totals, "forfeited", &t.forfeited, "streams.csv adds up to");
	check_total(v, totals, "unallocated", &t.unallocated, "streams.csv adds up to");
}

/* ---- the database record ------------------------------------------------ */

/* One field of a file's row and the database's. */
struct field_pair
{
	const char          *name;
	uint64_t             file;
	uint64_t             db;
	const struct amount *file_amount; /* NULL: the counts above */
	const struct amount *db_amount;
};

/* Each field that differs, as "FILE:LINE: WHO: NAME X here, Y in TABLE". */
static void
compare_fields(struct verify *v, const char *file, uint64_t line, const char *who,
			   const char *table, const struct field_pair *f, size_t n)
{
	for (size_t i = 0; i < n; i++)
	{
		char a[AMOUNT_TEXT_LEN], b[AMOUNT_TEXT_LEN];

		if (f[i].file_amount ? amount_cmp(f[i].file_amount, f[i].db_amount) == 0
							 : f[i].file == f[i].db)
			continue;
		if (f[i].file_amount)
		{
			amount_format(f[i].file_amount, a);
			amount_format(f[i].db_amount, b);
		}
		else
		{
			snprintf(a, sizeof(a), "%llu", (unsigned long long) f[i].file);
			snprintf(b, sizeof(b), "%llu", (unsigned long long) f[i].db);
		}
		differ(v, file, line, "%s: %s %s, %s has %s", who, f[i].name, a, table, b);
	}
}

static void
compare_row(struct verify *v, const struct file_row *fr, const struct ledger_row *d)
{
	const struct ledger_row *r = &fr->r;
	char                     who[600];
	struct field_pair        f[] = {
			   { "total_polls", r->counts.total_polls, d->counts.total_polls, NULL, NULL },
			   { "successful_polls", r->counts.successful_polls, d->counts.successful_polls, NULL, NULL },
			   { "failed_spot_checks", r->counts.failed_spot_checks, d->counts.failed_spot_checks, NULL,
				 NULL },
			   { "uptime_ppm", r->uptime_ppm, d->uptime_ppm, NULL, NULL },
			   { "contribution_ppm", r->contribution_ppm, d->contribution_ppm, NULL, NULL },
			   { "base_amount", 0, 0, &r->base, &d->base },
			   { "forfeited_amount", 0, 0, &r->forfeited, &d->forfeited },
			   { "payout_amount", 0, 0, &r->payout, &d->payout },
	};

	snprintf(who, sizeof(who), "stream '%.*s' node '%.*s'", (int) r->stream_len, r->stream,
			 (int) r->node_len, r->node);
	compare_fields(v, "ledger.csv", fr->line, who, "payout_ledger", f, sizeof(f) / sizeof(f[0]));
}

static void
compare_stream(struct verify *v, const struct file_stream *fs, const struct ledger_stream *d)
{
	const struct ledger_stream *s = &fs->s;
	char                        who[300];
	struct field_pair           f[] = {
				  { "pool", 0, 0, &s->pool, &d->pool },
				  { "nodes", s->nodes, d->nodes, NULL, NULL },
				  { "total_successful_polls", s->total_successful_polls, d->total_successful_polls, NULL,
					NULL },
				  { "paid", 0, 0, &s->paid, &d->paid },
				  { "forfeited", 0, 0, &s->forfeited, &d->forfeited },
				  { "unallocated", 0, 0, &s->unallocated, &d->unallocated },
	};

	snprintf(who, sizeof(who), "stream '%.*s'", (int) s->stream_len, s->stream);
	compare_fields(v, "streams.csv", fs->line, who, "payout_stream_totals", f,
				   sizeof(f) / sizeof(f[0]));
}

/* ledger.csv and payout_ledger, both sorted, row by row. */
static void
compare_ledger(struct verify *v, const struct ledger *db)
{
	size_t i = 0, j = 0;

	while (i < v->nrows || j < db->nrows)
	{
		const struct ledger_row *a = i < v->nrows ? &v->rows[i].r : NULL;
		const struct ledger_row *b = j < db->nrows ? &db->rows[j] : NULL;
		int                      c = a == NULL ? 1 : b == NULL ? -1 : 0;

		if (c == 0)
			c = aggregate_id_cmp(a->stream, a->stream_len, b->stream, b->stream_len);
		if (c == 0)
			c = aggregate_id_cmp(a->node, a->node_len, b->node, b->node_len);
		if (c < 0)
			differ(v, "ledger.csv", v->rows[i++].line,
				   "stream '%.*s' node '%.*s' is not in payout_ledger", (int) a->stream_len,
				   a->stream, (int) a->node_len, a->node);
		else if (c > 0)
		{
			differ(v, "payout_ledger", 0, "stream '%.*s' node '%.*s' is not in ledger.csv",
				   (int) b->stream_len, b->stream, (int) b->node_len, b->node);
			j++;
		}
		else
			compare_row(v, &v->rows[i++], &db->rows[j++]);
	}
}

/* streams.csv and payout_stream_totals, both sorted. */
static void
compare_streams(struct verify *v, const struct ledger *db)
{
	size_t i = 0, j = 0;

	while (i < v->nstreams || j < db->nstreams)
	{
		const struct ledger_stream *a = i < v->nstreams ? &v->streams[i].s : NULL;
		const struct ledger_stream *b = j < db->nstreams ? &db->streams[j] : NULL;
		int                         c = a == NULL ? 1 : b == NULL ? -1 : 0;

		if (c == 0)
			c = aggregate_id_cmp(a->stream, a->stream_len, b->stream, b->stream_len);
		if (c < 0)
			differ(v, "streams.csv", v->streams[i++].line,
				   "stream '%.*s' is not in payout_stream_totals", (int) a->stream_len, a->stream);
		else if (c > 0)
		{
			differ(v, "payout_stream_totals", 0, "stream '%.*s' is not in streams.csv",
				   (int) b->stream_len, b->stream);
			j++;
		}
		else
			compare_stream(v, &v->streams[i++], &db->streams[j++]);
	}
}

/* An amount or count of a totals object as text ("" when missing). */
static void
total_text(json_t *totals, const char *key, char buf[AMOUNT_TEXT_LEN])
{
	json_t *j = json_object_get(totals, key);

	if (json_is_string(j))
		snprintf(buf, AMOUNT_TEXT_LEN, "%s", json_string_value(j));
	else if (json_is_integer(j))
		snprintf(buf, AMOUNT_TEXT_LEN, "%lld", (long long) json_integer_value(j));
	else
		buf[0] = '\0';
}

/* The manifest's totals, input digest and pools against payout_runs'. */
static void
compare_run(struct verify *v, const struct export_record *rec)
{
	static const char *const keys[] = { "streams", "nodes",     "pool",
										"paid",    "forfeited", "unallocated" };
	json_t                  *mt = v->manifest ? json_object_get(v->manifest, "totals") : NULL;
	const char              *digest = v->manifest
										  ? json_string_value(json_object_get(v->manifest, "input_digest"))
										  : NULL;
	const char *pools_sha = json_string_value(json_object_get(v->digests, "pools.csv"));

	for (size_t i = 0; mt && i < sizeof(keys) / sizeof(keys[0]); i++)
	{
		char a[AMOUNT_TEXT_LEN], b[AMOUNT_TEXT_LEN];

		total_text(mt, keys[i], a);
		total_text(rec->run.totals, keys[i], b);
		if (strcmp(a, b) != 0)
			differ(v, "manifest.json", 0, "totals.%s %s, payout_runs.totals has %s", keys[i],
				   a[0] ? a : "missing", b[0] ? b : "none");
	}
	if (digest && strcmp(digest, rec->run.input_digest) != 0)
		differ(v, "manifest.json", 0, "input_digest %s, payout_runs has %s", digest,
			   rec->run.input_digest);
	if (rec->pools.copy != NULL || rec->pools.copy_len > 0)
	{
		struct sha256 d;
		char          hex[SHA256_HEX_LEN];

		sha256_init(&d);
		sha256_update(&d, rec->pools.copy ? rec->pools.copy : "", rec->pools.copy_len);
		sha256_final_hex(&d, hex);
		sha256_release(&d);
		if (pools_sha == NULL)
			differ(v, "pools.csv", 0, "missing, but payout_runs keeps a copy of the pools");
		else if (strcmp(pools_sha, hex) != 0)
			differ(v, "pools.csv", 0, "sha256 %s, the copy payout_runs keeps has %s", pools_sha,
				   hex);
	}
}

/* The database's record of the version against the files. */
static enum payrun_exit
check_db(struct verify *v, char *run_id, size_t id_len)
{
	const struct verify_request *req = v->req;
	struct db                    db;
	struct export_record         rec;
	enum payrun_exit             rc;

	if (!db_connect(&db, req->conninfo, "payrun verify"))
		return PAYRUN_EXIT_DB;
	rc = export_read(&db, &req->period, v->version, &rec);
	db_close(&db);
	if (rc == PAYRUN_EXIT_OK && !rec.found)
		differ(v, "payout_runs", 0, "no settled run of period %s v%d", req->period.label,
			   v->version);
	else if (rc == PAYRUN_EXIT_OK)
	{
		compare_ledger(v, &rec.ledger);
		compare_streams(v, &rec.ledger);
		compare_run(v, &rec);
		snprintf(run_id, id_len, "%s", rec.id);
	}
	export_record_release(&rec);
	return rc;
}

/* ---- the whole ----------------------------------------------------------- */

static enum payrun_exit
verdict(const struct verify *v, const char *run_id)
{
	if (v->ndiffs > VERIFY_MAX_LISTED)
		fprintf(v->out, "... and %zu more difference(s), not listed\n",
				v->ndiffs - VERIFY_MAX_LISTED);
	if (fflush(v->out) != 0 || ferror(v->out))
	{
		log_error("could not write the differences: %s", strerror(errno));
		return PAYRUN_EXIT_INTERNAL;
	}
	if (v->ndiffs > 0)
	{
		log_error("'%s' does not verify: %zu difference(s)%s", v->dir, v->ndiffs,
				  v->req->use_db ? " (files, manifest, books and database record)"
								 : " (files, manifest and books)");
		return PAYRUN_EXIT_DATA;
	}
	if (!v->req->quiet)
		fprintf(v->out, "verified: %zu files, %zu streams, %zu rows ('%s'%s%s)\n", v->nfiles + 1,
				v->nstreams, v->nrows, v->dir, run_id[0] ? ", payout_runs id " : "", run_id);
	return PAYRUN_EXIT_OK;
}

static void
verify_release(struct verify *v)
{
	for (size_t i = 0; i < v->nrows; i++)
	{
		free((char *) v->rows[i].r.stream);
		free((char *) v->rows[i].r.node);
	}
	for (size_t i = 0; i < v->nstreams; i++)
		free((char *) v->streams[i].s.stream);
	free(v->rows);
	free(v->streams);
	json_decref(v->manifest);
	json_decref(v->digests);
	if (v->dirfd >= 0)
		close(v->dirfd);
}

enum payrun_exit
verify_run(const struct verify_request *req, FILE *out)
{
	struct verify    v;
	char             run_id[24] = "";
	enum payrun_exit rc;

	memset(&v, 0, sizeof(v));
	v.req = req;
	v.out = out;
	v.dirfd = -1;
	v.digests = json_object();
	rc = open_version(&v);
	if (rc == PAYRUN_EXIT_OK)
	{
		read_manifest(&v);
		rc = check_files(&v);
	}
	if (rc == PAYRUN_EXIT_OK)
	{
		bool ledger = read_csv(&v, "ledger.csv", CSVOUT_LEDGER_HEADER, LEDGER_FIELDS,
							   on_ledger_record);
		bool streams = read_csv(&v, "streams.csv", CSVOUT_STREAMS_HEADER, STREAMS_FIELDS,
								on_stream_record);

		/* the books need both files */
		if (ledger && streams)
			check_books(&v);
		else if (ledger || streams)
			check_order(&v);
	}
	if (rc == PAYRUN_EXIT_OK && req->use_db)
		rc = check_db(&v, run_id, sizeof(run_id));
	if (rc == PAYRUN_EXIT_OK)
		rc = verdict(&v, run_id);
	verify_release(&v);
	return rc;
}
