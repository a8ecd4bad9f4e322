/*
 * gen_probes.c: writes a synthetic day of probe results, deterministically.
 *
 * The output looks like what the coordinator's PostgreSQL prints for
 *   COPY (SELECT id, stream_id, node_id, probe_type, success, probe_timestamp,
 *                error_message, response_data FROM probe_results)
 *   TO STDOUT WITH (FORMAT csv, HEADER)
 * with the session time zone at UTC: booleans as t/f, timestamptz as
 * "2026-11-01 00:00:07.1234+00" (trailing zeros of the fraction dropped, no
 * fraction when it is zero), NULL as an empty unquoted field, and
 * response_data as JSON in a quoted field (so with doubled quotes and
 * commas).
 *
 * Every random choice for row i is drawn from a counter-based splitmix64
 * stream at position i * DRAWS_PER_ROW, so a row does not depend on how the
 * day is split into files or gzip members: the rows of --files 4 are the
 * rows of --files 1, cut in four.  Which streams a node relays depends on the
 * node index only.  Stats polls walk all (stream, node) pairs in node order,
 * round after round, like a poller cycling through the node table (row i
 * polls pair i mod pairs); spot checks pick a random pair.  Timestamps are
 * spread evenly over the day: row i lies in the i-th of N equal slots of
 * [00:00, 24:00), so they never decrease and stay strictly inside the day.
 *
 * Rows are formatted by hand into 1 MiB blocks that compressor threads
 * deflate in parallel, each primed with the 32 KiB before it, into one
 * gzip member per --members part (the way pigz does it); the bytes written
 * do not depend on the number of threads.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#define GOLDEN        UINT64_C(0x9E3779B97F4A7C15)
#define DRAWS_PER_ROW 16
#define DAY_US        UINT64_C(86400000000)
#define TEXT_BLOCK    (1024 * 1024) /* bytes of CSV per compressed block */
#define ROW_MAX       1024          /* longest row we ever format, with margin */
#define DICT_SIZE     32768         /* deflate window carried from block to block */
#define NSLOTS        8             /* blocks in flight */
#define MAX_THREADS   16

struct options
{
	uint64_t    rows;
	uint32_t    nodes;
	uint32_t    streams;
	char        day[11]; /* YYYY-MM-DD, validated */
	uint64_t    seed;
	double      spot_ratio;      /* fraction of rows that are spot checks */
	double      fail_ratio;      /* mean failure rate of stats polls */
	double      spot_fail_ratio; /* mean failure rate of spot checks */
	const char *out;             /* path, or "-" for stdout */
	int         gzip_level;      /* 0 = plain CSV */
	uint32_t    files;
	uint32_t    members;
	uint32_t    threads; /* compressor threads */
	bool        crlf;
	bool        compressible; /* whole-second timestamps, fixed response values */
	uint64_t    first_id;
	bool        quiet;
};

/* One (stream, node) pair that exists in the relay topology. */
struct pair
{
	uint32_t node;
	uint32_t stream;
};

/* Everything the row formatter reads; built once, then read-only. */
struct world
{
	const struct options *opt;
	char (*node_id)[16];          /* owned: "node-000123", NUL-terminated */
	uint8_t *node_id_len;         /* owned */
	char (*stream_id)[16];        /* owned: "stream-042" */
	uint8_t     *stream_id_len;   /* owned */
	uint16_t    *node_latency;    /* owned: per node, typical latency in ms */
	uint16_t    *stream_kbps;     /* owned: per stream, encoding bitrate */
	uint8_t     *stream_codec;    /* owned: per stream, index into CODECS */
	uint64_t    *node_stats_fail; /* owned: per node, threshold on 53-bit draws */
	uint64_t    *node_spot_fail;  /* owned: same for spot checks */
	struct pair *pairs;           /* owned, grouped by node */
	uint32_t     npairs;
	uint64_t     spot_threshold;  /* 53-bit draw below this: spot check */
	uint64_t     seed_base;       /* splitmix64 counter origin */
	char         date_prefix[12]; /* "YYYY-MM-DD " */
};

struct file_plan;

/*
 * A block of CSV text and its deflated form.  Blocks go round a ring:
 * the generator (main thread) fills one, a compressor thread deflates it,
 * the writer thread writes it out in order and frees the slot.
 */
enum slot_state
{
	SLOT_FREE,
	SLOT_FILLED, /* text ready, waiting for a compressor */
	SLOT_COMPRESSING,
	SLOT_COMPRESSED, /* output ready, waiting for the writer */
};

struct slot
{
	enum slot_state state;
	uint64_t        seq;  /* block number, from 0 */
	char           *text; /* owned, TEXT_BLOCK + ROW_MAX */
	size_t          len;
	unsigned char  *dict;     /* owned, DICT_SIZE: text before this block */
	size_t          dict_len; /* 0 at the start of a member */
	unsigned char  *out;      /* owned, out_cap */
	size_t          out_len;
	uLong           crc;        /* crc32 of text */
	bool            end_member; /* last block of a gzip member */
	bool            end_file;   /* last block of a file */
	bool            end_all;    /* no data: tells the threads to stop */
};

struct pipeline
{
	pthread_mutex_t lock;
	pthread_cond_t  cond;
	struct slot     slots[NSLOTS];
	size_t          out_cap; /* deflateBound of a full block, with margin */
	uint64_t        filled;  /* blocks handed over by the generator */
	uint64_t        taken;   /* blocks taken by compressors */
	uint64_t        written; /* blocks written and freed */
	bool            failed;  /* a thread hit an error (already reported) */
	int             level;   /* 0: plain CSV, no compression */

	/* writer thread's own state */
	const struct file_plan *files;
	int                     fd;   /* current output file, -1 if none */
	const char             *path; /* current output path, for messages */
	bool                    member_open;
	uLong                   member_crc;
	uint64_t                member_len; /* bytes of text in the member (mod 2^32 in the trailer) */
	uint64_t                raw_bytes;  /* CSV bytes, all files */
	uint64_t                out_bytes;  /* bytes written, all files */
};

/* The file list is fixed before the writer starts. */
struct file_plan
{
	char    *path; /* owned */
	uint64_t first_row;
	uint64_t end_row; /* exclusive */
};

static const char HEADER[] =
	"id,stream_id,node_id,probe_type,success,probe_timestamp,error_message,response_data";

/*
 * Error messages of failed probes, already in CSV form (quoted when they hold
 * a comma or a quote, as PostgreSQL quotes them).
 */
static const char *const STATS_ERRORS[] = {
	"timeout after 5000 ms",
	"connection refused",
	"\"http 503: service unavailable, retry later\"",
	"peer closed connection",
	"\"tls handshake failed: certificate expired, node unreachable\"",
	"\"bad response: \"\"stalled\"\" buffer\"",
};
static const char *const SPOT_ERRORS[] = {
	"chunk hash mismatch",
	"\"chunk not found, expected from cache\"",
	"timeout after 2000 ms",
	"\"range request rejected: \"\"416\"\"\"",
};
static const char *const CODECS[] = { "h264", "h265", "vp9", "av1" };

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static void
usage(FILE *f)
{
	fprintf(
		f,
		"usage: gen_probes [OPTION]...\n"
		"Writes a deterministic day of probe results as a PostgreSQL CSV export.\n\n"
		"  --rows N            rows in the day (default 14400000)\n"
		"  --nodes N           relay nodes (default 10000)\n"
		"  --streams N         streams (default 100)\n"
		"  --day YYYY-MM-DD    the UTC day (default 2026-11-01)\n"
		"  --seed N            random seed (default 1)\n"
		"  --spot-ratio F      fraction of spot_check rows (default 0.1)\n"
		"  --fail-ratio F      mean failure rate of stats polls (default 0.03)\n"
		"  --spot-fail-ratio F mean failure rate of spot checks (default 0.05)\n"
		"  --first-id N        id of the first row (default 1)\n"
		"  --out FILE          output file, '-' for stdout (default '-')\n"
		"  --gzip LEVEL        gzip level 1-9, 0 for plain CSV (default 6)\n"
		"  --files K           split the day by time into K files (default 1)\n"
		"  --members M         write each file as M gzip members (default 1)\n"
		"  --threads N         compressor threads (default 2); the output is the same for any N\n"
		"  --crlf              end lines with CR LF\n"
		"  --compressible      whole-second timestamps and fixed numbers in response_data:\n"
		"                      the default day compresses 12:1 instead of 8:1\n"
		"  -q, --quiet         no summary on stderr\n"
		"  -h, --help          this help\n\n"
		"With --files K > 1, FILE's suffix .csv.gz, .csv or .gz (whichever it ends\n"
		"with) gets .partNN put before it, NN from 01: day.csv.gz -> day.part01.csv.gz.\n"
		"Each file has its own header line.\n");
}

static uint64_t
mix64(uint64_t z)
{
	z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
	return z ^ (z >> 31);
}

/* The k-th output of the splitmix64 stream that starts at base. */
static uint64_t
draw(uint64_t base, uint64_t k)
{
	return mix64(base + (k + 1) * GOLDEN);
}

/* A uniform integer in [0, n), n > 0; the bias is negligible for our n. */
static uint32_t
below(uint64_t r, uint32_t n)
{
	return (uint32_t) (((unsigned __int128) r * n) >> 64);
}

/* Threshold t such that (r >> 11) < t happens with probability p. */
static uint64_t
threshold(double p)
{
	if (p <= 0)
		return 0;
	if (p >= 1)
		return UINT64_C(1) << 53;
	return (uint64_t) (p * (double) (UINT64_C(1) << 53));
}

static bool
parse_u64(const char *name, const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	char              *end;
	unsigned long long v;

	errno = 0;
	if (*s == '-' || *s == '\0')
		goto bad;
	v = strtoull(s, &end, 10);
	if (errno || *end != '\0' || v < min || v > max)
		goto bad;
	*out = v;
	return true;
bad:
	fprintf(stderr,
			"gen_probes: invalid value for --%s: '%s' (expected an integer in %" PRIu64 "..%" PRIu64
			")\n",
			name, s, min, max);
	return false;
}

static bool
parse_ratio(const char *name, const char *s, double *out)
{
	char  *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end != '\0' || !(v >= 0.0 && v <= 1.0))
	{
		fprintf(stderr, "gen_probes: invalid value for --%s: '%s' (expected a number in [0, 1])\n",
				name, s);
		return false;
	}
	*out = v;
	return true;
}

static bool
is_leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static bool
parse_day(const char *s, char out[11])
{
	static const int mdays[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int              y, m, d;

	if (strlen(s) != 10 || s[4] != '-' || s[7] != '-')
		goto bad;
	for (int i = 0; i < 10; i++)
		if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
			goto bad;
	y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
	m = (s[5] - '0') * 10 + (s[6] - '0');
	d = (s[8] - '0') * 10 + (s[9] - '0');
	if (y < 1 || m < 1 || m > 12 || d < 1 || d > mdays[m - 1] + (m == 2 && is_leap(y)))
		goto bad;
	memcpy(out, s, 11);
	return true;
bad:
	fprintf(stderr, "gen_probes: invalid value for --day: '%s' (expected a date YYYY-MM-DD)\n", s);
	return false;
}

static bool
parse_options(int argc, char **argv, struct options *opt)
{
	static const struct option longopts[] = { { "rows", required_argument, NULL, 'r' },
											  { "nodes", required_argument, NULL, 'n' },
											  { "streams", required_argument, NULL, 's' },
											  { "day", required_argument, NULL, 'd' },
											  { "seed", required_argument, NULL, 'S' },
											  { "spot-ratio", required_argument, NULL, 'p' },
											  { "fail-ratio", required_argument, NULL, 'f' },
											  { "spot-fail-ratio", required_argument, NULL, 'F' },
											  { "first-id", required_argument, NULL, 'i' },
											  { "out", required_argument, NULL, 'o' },
											  { "gzip", required_argument, NULL, 'z' },
											  { "files", required_argument, NULL, 'k' },
											  { "members", required_argument, NULL, 'm' },
											  { "threads", required_argument, NULL, 't' },
											  { "crlf", no_argument, NULL, 'c' },
											  { "compressible", no_argument, NULL, 'C' },
											  { "quiet", no_argument, NULL, 'q' },
											  { "help", no_argument, NULL, 'h' },
											  { NULL, 0, NULL, 0 } };
	uint64_t                   v;
	int                        c;

	*opt = (struct options){
		.rows = 14400000,
		.nodes = 10000,
		.streams = 100,
		.day = "2026-11-01",
		.seed = 1,
		.spot_ratio = 0.1,
		.fail_ratio = 0.03,
		.spot_fail_ratio = 0.05,
		.out = "-",
		.gzip_level = 6,
		.files = 1,
		.members = 1,
		.threads = 2,
		.first_id = 1,
	};
	while ((c = getopt_long(argc, argv, "qh", longopts, NULL)) != -1)
	{
		switch (c)
		{
			case 'r':
				if (!parse_u64("rows", optarg, 0, UINT64_C(1) << 40, &opt->rows))
					return false;
				break;
			case 'n':
				if (!parse_u64("nodes", optarg, 1, 1000000, &v))
					return false;
				opt->nodes = (uint32_t) v;
				break;
			case 's':
				if (!parse_u64("streams", optarg, 1, 100000, &v))
					return false;
				opt->streams = (uint32_t) v;
				break;
			case 'd':
				if (!parse_day(optarg, opt->day))
					return false;
				break;
			case 'S':
				if (!parse_u64("seed", optarg, 0, UINT64_MAX, &opt->seed))
					return false;
				break;
			case 'p':
				if (!parse_ratio("spot-ratio", optarg, &opt->spot_ratio))
					return false;
				break;
			case 'f':
				if (!parse_ratio("fail-ratio", optarg, &opt->fail_ratio))
					return false;
				break;
			case 'F':
				if (!parse_ratio("spot-fail-ratio", optarg, &opt->spot_fail_ratio))
					return false;
				break;
			case 'i':
				if (!parse_u64("first-id", optarg, 0, INT64_MAX / 2, &opt->first_id))
					return false;
				break;
			case 'o':
				opt->out = optarg;
				break;
			case 'z':
				if (!parse_u64("gzip", optarg, 0, 9, &v))
					return false;
				opt->gzip_level = (int) v;
				break;
			case 'k':
				if (!parse_u64("files", optarg, 1, 99, &v))
					return false;
				opt->files = (uint32_t) v;
				break;
			case 'm':
				if (!parse_u64("members", optarg, 1, 100000, &v))
					return false;
				opt->members = (uint32_t) v;
				break;
			case 't':
				if (!parse_u64("threads", optarg, 1, MAX_THREADS, &v))
					return false;
				opt->threads = (uint32_t) v;
				break;
			case 'c':
				opt->crlf = true;
				break;
			case 'C':
				opt->compressible = true;
				break;
			case 'q':
				opt->quiet = true;
				break;
			case 'h':
				usage(stdout);
				exit(0);
			default:
				usage(stderr);
				return false;
		}
	}
	if (optind < argc)
	{
		fprintf(stderr, "gen_probes: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return false;
	}
	if (opt->files > 1 && strcmp(opt->out, "-") == 0)
	{
		fprintf(stderr, "gen_probes: --files needs --out FILE, not stdout\n");
		return false;
	}
	if (opt->members > 1 && opt->gzip_level == 0)
	{
		fprintf(stderr, "gen_probes: --members needs --gzip 1-9\n");
		return false;
	}
	return true;
}

static void *
xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (p == NULL)
	{
		fprintf(stderr, "gen_probes: out of memory (%zu bytes)\n", n);
		exit(1);
	}
	return p;
}

/* Writes v in decimal, zero-padded to at least width digits; returns the end. */
static char *
put_uint(char *p, uint64_t v, int width)
{
	char tmp[24];
	int  n = 0;

	do
	{
		tmp[n++] = (char) ('0' + v % 10);
		v /= 10;
	} while (v);
	while (n < width)
		tmp[n++] = '0';
	while (n)
		*p++ = tmp[--n];
	return p;
}

static char *
put_str(char *p, const char *s)
{
	size_t n = strlen(s);

	memcpy(p, s, n);
	return p + n;
}

static int
digits(uint64_t v)
{
	int n = 1;

	while (v >= 10)
	{
		v /= 10;
		n++;
	}
	return n;
}

/* Builds the ids and the relay topology. */
static void
world_build(struct world *w, const struct options *opt)
{
	uint32_t cap;
	int      nw = digits(opt->nodes - 1) > 6 ? digits(opt->nodes - 1) : 6;
	int      sw = digits(opt->streams - 1) > 3 ? digits(opt->streams - 1) : 3;
	uint64_t topo = UINT64_C(0x5EED70B0106E0001); /* topology hash origin */

	memset(w, 0, sizeof(*w));
	w->opt = opt;
	w->seed_base = mix64(opt->seed ^ UINT64_C(0x70726F6265730A));
	w->spot_threshold = threshold(opt->spot_ratio);
	memcpy(w->date_prefix, opt->day, 10);
	w->date_prefix[10] = ' ';
	w->date_prefix[11] = '\0';

	w->node_id = xmalloc(sizeof(*w->node_id) * opt->nodes);
	w->node_id_len = xmalloc(opt->nodes);
	w->node_stats_fail = xmalloc(sizeof(uint64_t) * opt->nodes);
	w->node_spot_fail = xmalloc(sizeof(uint64_t) * opt->nodes);
	w->stream_id = xmalloc(sizeof(*w->stream_id) * opt->streams);
	w->stream_id_len = xmalloc(opt->streams);
	w->stream_kbps = xmalloc(sizeof(uint16_t) * opt->streams);
	w->stream_codec = xmalloc(opt->streams);
	w->node_latency = xmalloc(sizeof(uint16_t) * opt->nodes);
	for (uint32_t s = 0; s < opt->streams; s++)
	{
		uint64_t h = mix64(topo ^ UINT64_C(0x57AE) ^ ((uint64_t) s << 32));

		w->stream_kbps[s] = (uint16_t) (800 + (h % 57) * 100);
		w->stream_codec[s] = (uint8_t) ((h >> 32) % NELEM(CODECS));
		char *e = put_uint(put_str(w->stream_id[s], "stream-"), s, sw);

		*e = '\0';
		w->stream_id_len[s] = (uint8_t) (e - w->stream_id[s]);
	}

	cap = opt->nodes * 3;
	w->pairs = xmalloc(sizeof(struct pair) * cap);
	for (uint32_t n = 0; n < opt->nodes; n++)
	{
		char    *e = put_uint(put_str(w->node_id[n], "node-"), n, nw);
		uint64_t h = mix64(topo + (uint64_t) n * GOLDEN);
		uint32_t want = 1 + (uint32_t) (h % 3);
		uint32_t got = 0;
		uint32_t chosen[3];
		double   q;

		*e = '\0';
		w->node_id_len[n] = (uint8_t) (e - w->node_id[n]);
		w->node_latency[n] = (uint16_t) (12 + (h >> 40) % 150);
		if (want > opt->streams)
			want = opt->streams;
		/* distinct streams, drawn from the node's own hash sequence */
		for (uint64_t k = 1; got < want; k++)
		{
			uint32_t s = below(mix64(h + k * GOLDEN), opt->streams);
			bool     dup = false;

			for (uint32_t j = 0; j < got; j++)
				dup |= chosen[j] == s;
			if (!dup)
				chosen[got++] = s;
		}
		for (uint32_t j = 0; j < got; j++)
			w->pairs[w->npairs++] = (struct pair){ .node = n, .stream = chosen[j] };

		/* node reliability: failure rates scaled by a factor in [0, 2) */
		q = (double) (mix64(h ^ UINT64_C(0xFA11)) >> 11) / (double) (UINT64_C(1) << 52);
		w->node_stats_fail[n] = threshold(opt->fail_ratio * q);
		w->node_spot_fail[n] = threshold(opt->spot_fail_ratio * q);
	}
}

static void
world_free(struct world *w)
{
	free(w->node_id);
	free(w->node_id_len);
	free(w->node_latency);
	free(w->stream_kbps);
	free(w->stream_codec);
	free(w->node_stats_fail);
	free(w->node_spot_fail);
	free(w->stream_id);
	free(w->stream_id_len);
	free(w->pairs);
}

/* "HH:MM:SS[.ffffff]+00" for us microseconds into the day. */
static char *
put_time(char *p, uint64_t us)
{
	uint64_t sec = us / 1000000;
	uint32_t frac = (uint32_t) (us % 1000000);

	p = put_uint(p, sec / 3600, 2);
	*p++ = ':';
	p = put_uint(p, sec / 60 % 60, 2);
	*p++ = ':';
	p = put_uint(p, sec % 60, 2);
	if (frac)
	{
		int n = 6;

		while (frac % 10 == 0)
		{
			frac /= 10;
			n--;
		}
		*p++ = '.';
		p = put_uint(p, frac, n);
	}
	return put_str(p, "+00");
}

/* Formats row i (0-based within the day); returns the end of the row. */
static char *
put_row(const struct world *w, uint64_t i, char *p)
{
	const struct options *opt = w->opt;
	uint64_t              base = w->seed_base + i * DRAWS_PER_ROW * GOLDEN;
	uint64_t              r0 = draw(base, 0);
	bool                  spot = (r0 >> 11) < w->spot_threshold;
	const struct pair    *pr;
	bool                  ok;
	uint64_t              t0, t1, us;
	uint64_t              r1 = draw(base, 1);
	uint64_t              r2 = draw(base, 2);
	uint64_t              r3 = draw(base, 3);
	/*
	 * The draw behind response_data's varying numbers and error texts.
	 * --compressible fixes it to a value giving the common shape (a healthy
	 * buffer, no extra fields, 8 peers); every failure then has the same
	 * error text.
	 */
	uint64_t r4 = opt->compressible ? 0x0000000100000001ULL : draw(base, 4);

	if (spot)
		pr = &w->pairs[below(r1, w->npairs)];
	else
		pr = &w->pairs[i % w->npairs];
	ok = (r2 >> 11) >= (spot ? w->node_spot_fail[pr->node] : w->node_stats_fail[pr->node]);

	/* the i-th of rows equal slots of the day, a random point inside it */
	t0 = (uint64_t) ((unsigned __int128) i * DAY_US / opt->rows);
	t1 = (uint64_t) ((unsigned __int128) (i + 1) * DAY_US / opt->rows);
	us = t0 + (t1 > t0 ? (uint64_t) (((unsigned __int128) r3 * (t1 - t0)) >> 64) : 0);

	p = put_uint(p, opt->first_id + i, 1);
	*p++ = ',';
	memcpy(p, w->stream_id[pr->stream], 16);
	p += w->stream_id_len[pr->stream];
	*p++ = ',';
	memcpy(p, w->node_id[pr->node], 16);
	p += w->node_id_len[pr->node];
	*p++ = ',';
	p = put_str(p, spot ? "spot_check," : "stats_poll,");
	*p++ = ok ? 't' : 'f';
	*p++ = ',';
	memcpy(p, w->date_prefix, 11);
	/* a coordinator that keeps whole seconds prints no fraction */
	p = put_time(p + 11, opt->compressible ? us - us % 1000000 : us);
	*p++ = ',';

	if (!spot && ok)
	{
		/* error_message NULL; a stats sample, sometimes with extra fields */
		/* a healthy buffer most of the time */
		uint32_t bh = (r4 >> 24) % 8 < 5 ? 100 : 90 + (uint32_t) ((r4 >> 28) % 10);

		p = put_str(p, ",\"{\"\"bitrate_kbps\"\": ");
		p = put_uint(p, w->stream_kbps[pr->stream], 1);
		p = put_str(p, ", \"\"latency_ms\"\": ");
		p = put_uint(p, w->node_latency[pr->node] + ((r4 & 3) == 0), 1);
		p = put_str(p, ", \"\"peers\"\": ");
		p = put_uint(p, 4 + (r4 >> 8) % 6, 1);
		p = put_str(p, ", \"\"buffer_health\"\": ");
		if (bh == 100)
			p = put_str(p, "1.0");
		else
		{
			p = put_str(p, "0.");
			p = put_uint(p, bh % 10 ? bh : bh / 10, bh % 10 ? 2 : 1);
		}
		if ((r4 >> 32) % 20 == 0)
		{
			p = put_str(p, ", \"\"dropped_frames\"\": ");
			p = put_uint(p, (r4 >> 36) % 3, 1);
			p = put_str(p, ", \"\"codec\"\": \"\"");
			p = put_str(p, CODECS[w->stream_codec[pr->stream]]);
			p = put_str(p, "\"\"");
		}
		p = put_str(p, "}\"");
	}
	else if (!spot)
	{
		uint32_t e = (uint32_t) (r4 % NELEM(STATS_ERRORS));

		p = put_str(p, STATS_ERRORS[e]);
		*p++ = ',';
		/* a timeout or refused connection has no response at all (NULL) */
		if (e >= 2)
		{
			p = put_str(p, "\"{\"\"status\"\": ");
			p = put_uint(p, e == 2 ? 503 : 0, 1);
			p = put_str(p, ", \"\"latency_ms\"\": ");
			p = put_uint(p, 100 + (r4 >> 8) % 4900, 1);
			p = put_str(p, "}\"");
		}
	}
	else
	{
		/* the stream's 4-second segment at that time */
		if (!ok)
			p = put_str(p, SPOT_ERRORS[r4 % NELEM(SPOT_ERRORS)]);
		p = put_str(p, ",\"{\"\"chunk_id\"\": ");
		p = put_uint(p, us / 4000000, 1);
		p = put_str(p, ok ? ", \"\"hash_ok\"\": true" : ", \"\"hash_ok\"\": false");
		p = put_str(p, ", \"\"rtt_ms\"\": ");
		p = put_uint(p, 2 * w->node_latency[pr->node] + (r4 >> 4) % 16, 1);
		p = put_str(p, ", \"\"bytes\"\": 262144}\"");
	}
	if (opt->crlf)
		*p++ = '\r';
	*p++ = '\n';
	return p;
}

static bool
write_all(int fd, const char *path, const void *buf, size_t len)
{
	const char *p = buf;

	while (len)
	{
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
		{
			fprintf(stderr, "gen_probes: could not write '%s': %s\n", path, strerror(errno));
			return false;
		}
		p += n;
		len -= (size_t) n;
	}
	return true;
}

static void
pipeline_fail(struct pipeline *pl)
{
	pthread_mutex_lock(&pl->lock);
	pl->failed = true;
	pthread_cond_broadcast(&pl->cond);
	pthread_mutex_unlock(&pl->lock);
}

/*
 * Deflates one block as raw deflate data primed with the text before it,
 * ending on a byte boundary (sync flush) or, at a member's end, with the
 * final block.  The pieces of a member concatenate into one valid deflate
 * stream, as pigz does, and the output does not depend on the thread count.
 */
static bool
compress_slot(z_stream *zs, struct slot *s)
{
	int rc;

	s->crc = crc32(crc32(0L, Z_NULL, 0), (const Bytef *) s->text, (uInt) s->len);
	if (deflateReset(zs) != Z_OK)
		return false;
	if (s->dict_len && deflateSetDictionary(zs, s->dict, (uInt) s->dict_len) != Z_OK)
		return false;
	zs->next_in = (Bytef *) s->text;
	zs->avail_in = (uInt) s->len;
	zs->next_out = s->out;
	zs->avail_out = (uInt) (s->len + s->len / 8 + 4096);
	rc = deflate(zs, s->end_member ? Z_FINISH : Z_SYNC_FLUSH);
	if (s->end_member ? rc != Z_STREAM_END : rc != Z_OK || zs->avail_in != 0)
		return false;
	s->out_len = (size_t) (zs->next_out - s->out);
	return true;
}

/* A compressor thread: takes filled blocks in order, deflates them. */
static void *
compressor_main(void *arg)
{
	struct pipeline *pl = arg;
	z_stream         zs;

	memset(&zs, 0, sizeof(zs));
	/* negative window bits: raw deflate, the writer adds the gzip wrapper */
	if (deflateInit2(&zs, pl->level, Z_DEFLATED, -MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK)
	{
		fprintf(stderr, "gen_probes: could not initialise zlib\n");
		pipeline_fail(pl);
		return NULL;
	}
	for (;;)
	{
		struct slot *s;

		pthread_mutex_lock(&pl->lock);
		while (!pl->failed && pl->taken == pl->filled)
			pthread_cond_wait(&pl->cond, &pl->lock);
		if (pl->failed || pl->slots[pl->taken % NSLOTS].end_all)
		{
			pthread_mutex_unlock(&pl->lock);
			break;
		}
		s = &pl->slots[pl->taken++ % NSLOTS];
		s->state = SLOT_COMPRESSING;
		pthread_mutex_unlock(&pl->lock);

		if (!compress_slot(&zs, s))
		{
			fprintf(stderr, "gen_probes: deflate failed on block %" PRIu64 "\n", s->seq);
			pipeline_fail(pl);
			break;
		}
		pthread_mutex_lock(&pl->lock);
		s->state = SLOT_COMPRESSED;
		pthread_cond_broadcast(&pl->cond);
		pthread_mutex_unlock(&pl->lock);
	}
	deflateEnd(&zs);
	return NULL;
}

static void
put_le32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char) v;
	p[1] = (unsigned char) (v >> 8);
	p[2] = (unsigned char) (v >> 16);
	p[3] = (unsigned char) (v >> 24);
}

/* Writes one block: the gzip header before a member, the trailer after it. */
static bool
write_slot(struct pipeline *pl, const struct slot *s)
{
	/* gzip header: deflate, no flags, mtime 0 (reproducible), OS unix */
	static const unsigned char gz_header[10] = { 0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3 };

	pl->raw_bytes += s->len;
	if (pl->level == 0)
	{
		pl->out_bytes += s->len;
		return write_all(pl->fd, pl->path, s->text, s->len);
	}
	if (!pl->member_open)
	{
		if (!write_all(pl->fd, pl->path, gz_header, sizeof(gz_header)))
			return false;
		pl->out_bytes += sizeof(gz_header);
		pl->member_open = true;
		pl->member_crc = crc32(0L, Z_NULL, 0);
		pl->member_len = 0;
	}
	pl->member_crc = crc32_combine(pl->member_crc, s->crc, (z_off_t) s->len);
	pl->member_len += s->len;
	if (!write_all(pl->fd, pl->path, s->out, s->out_len))
		return false;
	pl->out_bytes += s->out_len;
	if (s->end_member)
	{
		unsigned char trailer[8];

		put_le32(trailer, (uint32_t) pl->member_crc);
		put_le32(trailer + 4, (uint32_t) pl->member_len);
		if (!write_all(pl->fd, pl->path, trailer, sizeof(trailer)))
			return false;
		pl->out_bytes += sizeof(trailer);
		pl->member_open = false;
	}
	return true;
}

/* The writer thread: writes compressed blocks in order, file after file. */
static void *
writer_main(void *arg)
{
	struct pipeline *pl = arg;
	uint32_t         fileno = 0;

	for (;;)
	{
		struct slot *s;

		pthread_mutex_lock(&pl->lock);
		s = &pl->slots[pl->written % NSLOTS];
		while (!pl->failed && pl->written == pl->filled)
			pthread_cond_wait(&pl->cond, &pl->lock);
		while (!pl->failed && !s->end_all && pl->level > 0 && s->state != SLOT_COMPRESSED)
			pthread_cond_wait(&pl->cond, &pl->lock);
		pthread_mutex_unlock(&pl->lock);
		if (pl->failed || s->end_all)
			return NULL;

		if (pl->fd < 0)
		{
			pl->path = pl->files[fileno].path;
			if (strcmp(pl->path, "-") == 0)
				pl->fd = STDOUT_FILENO;
			else
				pl->fd = open(pl->path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
			if (pl->fd < 0)
			{
				fprintf(stderr, "gen_probes: could not create '%s': %s\n", pl->path,
						strerror(errno));
				pipeline_fail(pl);
				return NULL;
			}
		}
		if (!write_slot(pl, s))
		{
			pipeline_fail(pl);
			return NULL;
		}
		if (s->end_file)
		{
			if (pl->fd != STDOUT_FILENO && close(pl->fd) != 0)
			{
				fprintf(stderr, "gen_probes: could not close '%s': %s\n", pl->path,
						strerror(errno));
				pl->fd = -1;
				pipeline_fail(pl);
				return NULL;
			}
			pl->fd = -1;
			fileno++;
		}
		pthread_mutex_lock(&pl->lock);
		s->state = SLOT_FREE;
		pl->written++;
		pthread_cond_broadcast(&pl->cond);
		pthread_mutex_unlock(&pl->lock);
	}
}

/* Waits for the next slot to be free; NULL if a thread failed. */
static struct slot *
next_free_slot(struct pipeline *pl)
{
	struct slot *s = NULL;

	pthread_mutex_lock(&pl->lock);
	while (!pl->failed && pl->filled - pl->written >= NSLOTS)
		pthread_cond_wait(&pl->cond, &pl->lock);
	if (!pl->failed)
		s = &pl->slots[pl->filled % NSLOTS];
	pthread_mutex_unlock(&pl->lock);
	return s;
}

static void
hand_over(struct pipeline *pl, struct slot *s)
{
	pthread_mutex_lock(&pl->lock);
	s->seq = pl->filled;
	s->state = SLOT_FILLED;
	pl->filled++;
	pthread_cond_broadcast(&pl->cond);
	pthread_mutex_unlock(&pl->lock);
}

/* "dir/day.csv.gz", 3 -> "dir/day.part03.csv.gz" */
static char *
part_path(const char *out, uint32_t k, uint32_t nfiles)
{
	static const char *const suffixes[] = { ".csv.gz", ".csv", ".gz" };
	size_t                   len = strlen(out);
	size_t                   stem = len;
	size_t                   cap;
	char                    *p;

	if (nfiles == 1)
	{
		p = xmalloc(len + 1);
		memcpy(p, out, len + 1);
		return p;
	}
	for (size_t i = 0; i < NELEM(suffixes); i++)
	{
		size_t sl = strlen(suffixes[i]);

		if (len > sl && strcmp(out + len - sl, suffixes[i]) == 0)
		{
			stem = len - sl;
			break;
		}
	}
	cap = len + 16;
	p = xmalloc(cap);
	snprintf(p, cap, "%.*s.part%02" PRIu32 "%s", (int) stem, out, k + 1, out + stem);
	return p;
}

/*
 * The generator: fills blocks of at most TEXT_BLOCK bytes, cut at member
 * and file ends.  Each block carries the last DICT_SIZE bytes of text before
 * it in the same member, for the compressor's dictionary.
 */
static bool
generate(const struct world *w, const struct file_plan *files, struct pipeline *pl)
{
	const struct options *opt = w->opt;
	const char           *eol = opt->crlf ? "\r\n" : "\n";
	const struct slot    *prev = NULL;

	for (uint32_t k = 0; k < opt->files; k++)
	{
		uint64_t nrows = files[k].end_row - files[k].first_row;

		for (uint32_t m = 0; m < opt->members; m++)
		{
			uint64_t row = files[k].first_row + nrows * m / opt->members;
			uint64_t end = files[k].first_row + nrows * (m + 1) / opt->members;
			bool     first = true;

			do
			{
				struct slot *s = next_free_slot(pl);
				char        *p, *limit;

				if (s == NULL)
					return false;
				p = s->text;
				limit = s->text + TEXT_BLOCK;
				if (first && m == 0)
					p = put_str(put_str(p, HEADER), eol);
				while (row < end && p < limit)
					p = put_row(w, row++, p);
				s->len = (size_t) (p - s->text);
				s->end_member = (row == end);
				s->end_file = s->end_member && m + 1 == opt->members;
				s->end_all = false;
				s->dict_len = 0;
				if (!first && pl->level > 0)
				{
					/* only this thread writes text, and not to prev before NSLOTS more blocks */
					size_t n = prev->len < DICT_SIZE ? prev->len : DICT_SIZE;

					memcpy(s->dict, prev->text + prev->len - n, n);
					s->dict_len = n;
				}
				first = false;
				prev = s;
				hand_over(pl, s);
			} while (row < end);
		}
	}
	return true;
}

int
main(int argc, char **argv)
{
	struct options    opt;
	struct world      w;
	struct pipeline   pl;
	struct file_plan *files;
	pthread_t         writer;
	pthread_t         compressors[MAX_THREADS];
	uint32_t          nthreads;
	bool              ok;

	if (!parse_options(argc, argv, &opt))
		return 2;
	world_build(&w, &opt);

	files = xmalloc(sizeof(*files) * opt.files);
	for (uint32_t k = 0; k < opt.files; k++)
	{
		files[k].path = part_path(opt.out, k, opt.files);
		files[k].first_row = (uint64_t) ((unsigned __int128) opt.rows * k / opt.files);
		files[k].end_row = (uint64_t) ((unsigned __int128) opt.rows * (k + 1) / opt.files);
	}

	memset(&pl, 0, sizeof(pl));
	pthread_mutex_init(&pl.lock, NULL);
	pthread_cond_init(&pl.cond, NULL);
	pl.level = opt.gzip_level;
	pl.fd = -1;
	pl.files = files;
	pl.out_cap = TEXT_BLOCK + ROW_MAX + (TEXT_BLOCK + ROW_MAX) / 8 + 4096;
	for (int i = 0; i < NSLOTS; i++)
	{
		pl.slots[i].text = xmalloc(TEXT_BLOCK + ROW_MAX);
		if (pl.level > 0)
		{
			pl.slots[i].dict = xmalloc(DICT_SIZE);
			pl.slots[i].out = xmalloc(pl.out_cap);
		}
	}
	nthreads = pl.level > 0 ? opt.threads : 0;
	for (uint32_t t = 0; t < nthreads; t++)
		if (pthread_create(&compressors[t], NULL, compressor_main, &pl) != 0)
		{
			fprintf(stderr, "gen_probes: could not start a compressor thread\n");
			return 1;
		}
	if (pthread_create(&writer, NULL, writer_main, &pl) != 0)
	{
		fprintf(stderr, "gen_probes: could not start the writer thread\n");
		return 1;
	}

	ok = generate(&w, files, &pl);
	/* the end mark: a slot that stops every thread that reaches it */
	{
		struct slot *s = ok ? next_free_slot(&pl) : NULL;

		if (s)
		{
			s->end_all = true;
			hand_over(&pl, s);
		}
		else
			pipeline_fail(&pl);
	}
	for (uint32_t t = 0; t < nthreads; t++)
		pthread_join(compressors[t], NULL);
	pthread_join(writer, NULL);
	ok = ok && !pl.failed;

	if (ok && !opt.quiet)
		fprintf(stderr,
				"gen_probes: %" PRIu64 " rows, %" PRIu32 " file(s), %" PRIu64
				" bytes of CSV, %" PRIu64 " bytes written, %" PRIu32 " pairs\n",
				opt.rows, opt.files, pl.raw_bytes, pl.out_bytes, w.npairs);

	for (int i = 0; i < NSLOTS; i++)
	{
		free(pl.slots[i].text);
		free(pl.slots[i].dict);
		free(pl.slots[i].out);
	}
	for (uint32_t k = 0; k < opt.files; k++)
		free(files[k].path);
	free(files);
	world_free(&w);
	pthread_mutex_destroy(&pl.lock);
	pthread_cond_destroy(&pl.cond);
	return ok ? 0 : 1;
}
