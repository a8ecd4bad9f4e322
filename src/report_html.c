/*
 * report_html.c: report.html (see report_html.h).
 *
 * The page is HTML 4 elements (div, table, dl, ...) and inline SVG charts
 * drawn by payrun, each built in memory and written into the page as it is
 * (xmllint's HTML 4 parser knows every element but the SVG ones).
 * Bar lengths are the only floating point: every figure printed is an
 * integer, amounts through amount_format().
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "payrun/mem.h"
#include "payrun/payout.h"
#include "payrun/report_html.h"
#include "payrun/timestamp.h"
#include "payrun/banned.h"

#define LABEL_CUT  36 /* bytes of an id shown in a chart label */
#define MAX_INPUTS 100
#define PAYOUT_BAR "#3182ce" /* the charts' own colours (tests look for them) */
#define HIST_BAR   "#319795"

/* ------------------------------------------------------------ the sink */

static void
put(const struct csvout *w, const char *s)
{
	csvout_bytes(w, s, strlen(s));
}

static void put_f(const struct csvout *w, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Markup with numbers in it (never text from data: see report_html_text). */
static void
put_f(const struct csvout *w, const char *fmt, ...)
{
	char    buf[512];
	va_list ap;
	int     n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n > 0)
		csvout_bytes(w, buf, (size_t) n < sizeof(buf) ? (size_t) n : sizeof(buf) - 1);
}

static void
put_u64(const struct csvout *w, uint64_t v)
{
	put_f(w, "%llu", (unsigned long long) v);
}

static void
put_amount(const struct csvout *w, const struct amount *a)
{
	char   buf[AMOUNT_TEXT_LEN];
	size_t n = amount_format(a, buf);

	csvout_bytes(w, buf, n);
}

/* A non-negative length with one decimal, without printf's locale. */
static void
put_tenths(const struct csvout *w, double v)
{
	long t = v > 0 ? (long) (v * 10.0 + 0.5) : 0;

	put_f(w, "%ld.%ld", t / 10, t % 10);
}

/* a / max in [0, 1], for a bar's length: the one use of floating point. */
static double
amount_ratio(const struct amount *a, const struct amount *max)
{
	char   ta[AMOUNT_TEXT_LEN], tm[AMOUNT_TEXT_LEN];
	double da, dm;

	amount_format(a, ta);
	amount_format(max, tm);
	da = strtod(ta, NULL);
	dm = strtod(tm, NULL);
	return dm > 0 ? (da >= dm ? 1.0 : da / dm) : 0.0;
}

static double
count_ratio(uint64_t n, uint64_t max)
{
	return max > 0 ? (double) n / (double) max : 0.0;
}

/* An amount in tokens of decimals digits ("4.2"), exact: the text moved. */
static void
put_tokens(const struct csvout *w, const struct amount *a, unsigned decimals)
{
	char   digits[AMOUNT_TEXT_LEN];
	size_t n = amount_format(a, digits), end;

	if (amount_is_zero(a))
	{
		csvout_char(w, '0');
		return;
	}
	if (n <= decimals)
	{
		put(w, "0.");
		for (size_t i = n; i < decimals; i++)
			csvout_char(w, '0');
		end = n;
		while (end > 0 && digits[end - 1] == '0')
			end--;
		csvout_bytes(w, digits, end);
		return;
	}
	csvout_bytes(w, digits, n - decimals);
	end = n;
	while (end > n - decimals && digits[end - 1] == '0')
		end--;
	if (end > n - decimals)
	{
		csvout_char(w, '.');
		csvout_bytes(w, digits + n - decimals, end - (n - decimals));
	}
}

/* A sink into memory: the SVG documents, before they are encoded. */
struct membuf
{
	char  *data; /* owned */
	size_t len;
	size_t cap;
};

static void
membuf_write(void *arg, const void *data, size_t len)
{
	struct membuf *b = arg;

	if (b->len + len > b->cap)
	{
		while (b->len + len > b->cap)
			b->cap = b->cap ? b->cap * 2 : 8192;
		b->data = mem_realloc(b->data, b->cap);
	}
	memcpy(b->data + b->len, data, len);
	b->len += len;
}

/*
 * An SVG chart, inline in a div (title: alt, markup-safe text); frees it.
 * Inline SVG is HTML5: xmllint's HTML 4 parser calls its elements unknown
 * tags (and nothing else), which tests/e2e/report.sh allows.
 */
static void
put_svg_inline(const struct csvout *w, struct membuf *svg, const char *alt)
{
	put(w, "<div class=\"chart\" title=\"");
	put(w, alt);
	put(w, "\">\n");
	csvout_bytes(w, svg->data, svg->len);
	put(w, "</div>\n");
	free(svg->data);
	memset(svg, 0, sizeof(*svg));
}

/* ------------------------------------------------------------ escaping */

/*
 * The length (1..4) of the well-formed UTF-8 character at s that a
 * document may hold as text, or 0: a byte to show as \xNN.
 */
static size_t
utf8_char(const unsigned char *s, size_t len)
{
	unsigned c = s[0], lo = 0x80, hi = 0xBF;
	uint32_t cp;
	size_t   n;

	if (c < 0x80)
		return c >= 0x20 && c != 0x7F ? 1 : 0;
	if (c >= 0xC2 && c <= 0xDF)
		n = 2, cp = c & 0x1F;
	else if (c >= 0xE0 && c <= 0xEF)
		n = 3, cp = c & 0x0F, lo = c == 0xE0 ? 0xA0 : 0x80, hi = c == 0xED ? 0x9F : 0xBF;
	else if (c >= 0xF0 && c <= 0xF4)
		n = 4, cp = c & 0x07, lo = c == 0xF0 ? 0x90 : 0x80, hi = c == 0xF4 ? 0x8F : 0xBF;
	else
		return 0;
	if (len < n || s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 1; i < n; i++)
	{
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3F);
	}
	/* C1 controls and noncharacters are errors in HTML and XML */
	if (cp < 0xA0 || (cp >= 0xFDD0 && cp <= 0xFDEF) || (cp & 0xFFFE) == 0xFFFE)
		return 0;
	return n;
}

static const char *
entity(unsigned char c)
{
	switch (c)
	{
		case '&':
			return "&amp;";
		case '<':
			return "&lt;";
		case '>':
			return "&gt;";
		case '"':
			return "&quot;";
		case '\'':
			return "&#39;";
		default:
			return NULL;
	}
}

/* Does s hold a byte to show as \xNN? */
static bool
needs_escapes(const unsigned char *s, size_t len)
{
	for (size_t i = 0; i < len;)
	{
		size_t n = utf8_char(s + i, len - i);

		if (n == 0)
			return true;
		i += n;
	}
	return false;
}

void
report_html_text(const struct csvout *w, const char *s, size_t len)
{
	const unsigned char *u = (const unsigned char *) s;
	bool                 escapes = needs_escapes(u, len);
	size_t               start = 0, i = 0;

	while (i < len)
	{
		size_t      n = utf8_char(u + i, len - i);
		const char *rep = n == 1 ? entity(u[i]) : NULL;
		char        hex[8];

		if (n == 0)
		{
			snprintf(hex, sizeof(hex), "\\x%02X", u[i]);
			rep = hex;
			n = 1;
		}
		else if (escapes && u[i] == '\\')
			rep = "\\\\";
		if (rep == NULL)
		{
			i += n;
			continue;
		}
		csvout_bytes(w, s + start, i - start);
		put(w, rep);
		i += n;
		start = i;
	}
	csvout_bytes(w, s + start, len - start);
}

static void
put_text(const struct csvout *w, const char *s)
{
	report_html_text(w, s, strlen(s));
}

/* Text cut to about max bytes at a character's end, "…" marking a cut. */
static void
put_text_cut(const struct csvout *w, const char *s, size_t len, size_t max)
{
	size_t end = 0;

	if (len <= max)
	{
		report_html_text(w, s, len);
		return;
	}
	while (end < len)
	{
		size_t n = utf8_char((const unsigned char *) s + end, len - end);

		n = n ? n : 1;
		if (end + n > max)
			break;
		end += n;
	}
	report_html_text(w, s, end);
	put(w, "\xe2\x80\xa6");
}

/* A JSON value as text: strings as they are, others as compact JSON. */
static void
put_json_text(const struct csvout *w, json_t *v)
{
	char *text;

	if (json_is_string(v))
	{
		report_html_text(w, json_string_value(v), json_string_length(v));
		return;
	}
	text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
	if (text)
		put_text(w, text);
	free(text);
}

/* ------------------------------------------------------------ page */

static const char css[] =
	"body{font:14px/1.4 sans-serif;color:#222;margin:0 auto;max-width:1100px;padding:0 16px 32px}"
	"h1{font-size:22px;margin:18px 0 4px}h2{font-size:18px;margin:28px 0 8px;"
	"border-bottom:1px solid #ccc}p.nav a{margin-right:12px}"
	"table{border-collapse:collapse;margin:6px 0}th,td{padding:3px 8px;border-bottom:1px solid "
	"#e4e4e4;text-align:left;vertical-align:top}th{background:#f3f3f3}"
	"td.n,th.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}"
	"td.id{word-break:break-all;white-space:pre-wrap;max-width:360px}dl{margin:4px "
	"0}dt{float:left;clear:left;"
	"width:190px;color:#555}dd{margin:0 0 2px 200px;word-break:break-all}"
	".split{display:inline-block;width:160px;height:12px;background:#eee;white-space:nowrap;"
	"vertical-align:middle}.split span,.bar span{display:inline-block;height:12px}"
	".bar{display:inline-block;width:200px;height:12px;background:#eee;vertical-align:middle}"
	".paid{background:#2b6cb0}.forfeited{background:#c53030}.unallocated{background:#a0aec0}"
	".key span{display:inline-block;width:10px;height:10px;margin:0 4px 0 12px}"
	"td.passed{color:#276749}td.overridden,td.failed{color:#c53030;font-weight:bold}"
	"td.off{color:#777}p.note{color:#555}p.chart img{max-width:100%;height:auto}"
	".big td.n{font-size:16px}.wide .split{width:600px;height:20px}.wide .split span{height:20px}";

static void
put_head(const struct csvout *w, const struct run_record *run, const struct ledger *ledger)
{
	put(w, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
	put(w, "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
	put(w, "<title>payrun: period ");
	put_text(w, ledger->period.label);
	put_f(w, " v%d</title>\n<style>", run->version);
	put(w, css);
	put(w, "</style>\n</head>\n<body>\n<h1>Period ");
	put_text(w, ledger->period.label);
	put_f(w, ", version %d</h1>\n", run->version);
	put(w, "<p class=\"nav\"><a href=\"#totals\">Totals</a><a href=\"#payouts\">Payouts per "
		   "node</a><a href=\"#uptime\">Uptime</a><a href=\"#penalties\">Penalties</a>"
		   "<a href=\"#rejects\">Rejects</a><a href=\"#checks\">Checks</a>"
		   "<a href=\"#timing\">Timing</a><a href=\"#streams\">Streams</a>"
		   "<a href=\"#nodes\">Nodes</a><a href=\"#settings\">Settings and inputs</a></p>\n");
}

static void
dl_item(const struct csvout *w, const char *term, const char *text)
{
	put(w, "<dt>");
	put(w, term);
	put(w, "</dt><dd>");
	put_text(w, text);
	put(w, "</dd>\n");
}

/*
 * Every member of a JSON object as a definition list item, "prefix key";
 * an object's members one level down as "prefix key member".
 */
static void
dl_json(const struct csvout *w, json_t *obj, const char *prefix, const char *parent)
{
	const char *key;
	json_t     *v;

	json_object_foreach(obj, key, v)
	{
		if (parent == NULL && json_is_object(v) && json_object_size(v) > 0)
		{
			dl_json(w, v, prefix, key);
			continue;
		}
		put(w, "<dt>");
		put(w, prefix);
		if (parent)
		{
			put_text(w, parent);
			put(w, " ");
		}
		put_text(w, key);
		put(w, "</dt><dd>");
		put_json_text(w, v);
		put(w, "</dd>\n");
	}
}

static void
put_inputs(const struct csvout *w, const struct run_record *run)
{
	size_t n = run->ninputs < MAX_INPUTS ? run->ninputs : MAX_INPUTS;

	if (!run->inputs_known || run->ninputs == 0)
		return;
	put(w, "<table id=\"inputs\"><tr><th>input</th><th>kind</th><th class=\"n\">bytes</th>"
		   "<th class=\"n\">rows</th><th>sha256</th></tr>\n");
	for (size_t i = 0; i < n; i++)
	{
		const struct source_file *f = &run->inputs[i];

		put(w, "<tr><td class=\"id\">");
		put_text(w, f->path);
		put(w, "</td><td>");
		put_text(w, f->kind);
		put(w, "</td><td class=\"n\">");
		put_u64(w, f->bytes);
		put(w, "</td><td class=\"n\">");
		put_u64(w, f->rows);
		put(w, "</td><td><code>");
		report_html_text(w, f->sha256, strnlen(f->sha256, SHA256_HEX_LEN));
		put(w, "</code></td></tr>\n");
	}
	put(w, "</table>\n");
	if (run->ninputs > n)
		put_f(w, "<p class=\"note\">%zu more inputs are listed in manifest.json.</p>\n",
			  run->ninputs - n);
}

static void
put_run(const struct csvout *w, const struct run_record *run, const struct ledger *ledger)
{
	char start[TIMESTAMP_FORMAT_LEN], end[TIMESTAMP_FORMAT_LEN];

	timestamp_format(ledger->period.start, start);
	timestamp_format(ledger->period.end, end);
	put(w, "<dl id=\"run\">\n");
	dl_item(w, "period", ledger->period.label);
	dl_item(w, "from (inclusive)", start);
	dl_item(w, "to (exclusive)", end);
	dl_item(w, "source", run->source_kind ? run->source_kind : "");
	if (run->table)
		dl_item(w, "probe table", run->table->shown);
	if (run->coverage && run->coverage->any)
	{
		timestamp_format(run->coverage->first, start);
		timestamp_format(run->coverage->last, end);
		dl_item(w, "first probe", start);
		dl_item(w, "last probe", end);
	}
	dl_item(w, "started at", run->started_at);
	dl_item(w, "payrun version", run->payrun_version);
	if (run->rerun && json_is_object(run->rerun))
		dl_json(w, run->rerun, "rerun ", NULL);
	if (run->note)
		dl_item(w, "note", run->note);
	put(w, "</dl>\n");
	put(w, "<p class=\"note\">Amounts are in base units, as in the CSV files. Text from the data "
		   "is shown as it is, except in a name with a byte that is not part of valid UTF-8 or "
		   "is a control character: each such byte is shown as \\xNN and each backslash as "
		   "\\\\, as the manifest does.</p>\n");
}

static void
put_settings(const struct csvout *w, const struct run_record *run)
{
	put(w, "<h2 id=\"settings\">Settings and inputs</h2>\n");
	if (run->settings && json_is_object(run->settings))
	{
		put(w, "<dl>\n");
		dl_json(w, run->settings, "", NULL);
		put(w, "</dl>\n");
	}
	put_inputs(w, run);
	if (!run->inputs_known)
		put(w, "<p>The inputs are not recorded in the database.</p>\n");
}

/* ------------------------------------------------------------ totals */

/* A bar split into paid, forfeited and unallocated shares of the pool. */
static void
put_split(const struct csvout *w, const struct amount *pool, const struct amount *paid,
		  const struct amount *forfeited, const struct amount *unallocated)
{
	const struct amount *parts[3] = { paid, forfeited, unallocated };
	static const char   *names[3] = { "paid", "forfeited", "unallocated" };

	put(w, "<span class=\"split\">");
	for (int i = 0; i < 3; i++)
	{
		put_f(w, "<span class=\"%s\" style=\"width:", names[i]);
		put_tenths(w, 100.0 * amount_ratio(parts[i], pool));
		put(w, "%\"></span>");
	}
	put(w, "</span>");
}

static void
put_key(const struct csvout *w)
{
	put(w, "<p class=\"key\"><span class=\"paid\"></span>paid<span class=\"forfeited\"></span>"
		   "forfeited (penalties)<span class=\"unallocated\"></span>unallocated (no successful "
		   "poll)</p>\n");
}

static void
amount_cell(const struct csvout *w, const struct amount *a)
{
	put(w, "<td class=\"n\">");
	put_amount(w, a);
	put(w, "</td>");
}

/* " data-NAME=\"amount\"" */
static void
amount_attr(const struct csvout *w, const char *name, const struct amount *a)
{
	put_f(w, " data-%s=\"", name);
	put_amount(w, a);
	csvout_char(w, '"');
}

static void
put_totals(const struct csvout *w, const struct run_record *run, const struct ledger *ledger)
{
	const struct ledger_totals *t = &ledger->totals;
	const struct amount        *a[4] = { &t->pool, &t->paid, &t->forfeited, &t->unallocated };
	static const char          *names[4] = { "pool", "paid", "forfeited", "unallocated" };
	json_t  *dec = run->settings ? json_object_get(run->settings, "token_decimals") : NULL;
	unsigned decimals = json_is_integer(dec) && json_integer_value(dec) > 0 &&
								json_integer_value(dec) <= AMOUNT_DECIMALS_MAX
							? (unsigned) json_integer_value(dec)
							: 0;

	put(w, "<h2 id=\"totals\">Totals</h2>\n");
	put(w, "<table id=\"totals-table\" class=\"big\"><tr><th>total</th><th class=\"n\">base "
		   "units</th>");
	if (decimals)
		put_f(w, "<th class=\"n\">tokens (%u decimals)</th>", decimals);
	put(w, "</tr>\n");
	for (int i = 0; i < 4; i++)
	{
		put_f(w, "<tr data-total=\"%s\"", names[i]);
		amount_attr(w, "amount", a[i]);
		put_f(w, "><td>%s</td>", names[i]);
		amount_cell(w, a[i]);
		if (decimals)
		{
			put(w, "<td class=\"n\">");
			put_tokens(w, a[i], decimals);
			put(w, "</td>");
		}
		put(w, "</tr>\n");
	}
	put_f(w,
		  "<tr data-total=\"streams\" data-count=\"%llu\"><td>streams</td><td class=\"n\">%llu"
		  "</td></tr>\n",
		  (unsigned long long) t->streams, (unsigned long long) t->streams);
	put_f(w,
		  "<tr data-total=\"nodes\" data-count=\"%llu\"><td>nodes (stream, node pairs)</td>"
		  "<td class=\"n\">%llu</td></tr>\n</table>\n",
		  (unsigned long long) t->nodes, (unsigned long long) t->nodes);
	put(w, "<p class=\"wide\">");
	put_split(w, &t->pool, &t->paid, &t->forfeited, &t->unallocated);
	put(w, "</p>\n");
	put_key(w);
}

/* ------------------------------------------------------------ streams */

static int
stream_by_pool(const void *pa, const void *pb)
{
	const struct ledger_stream *a = *(const struct ledger_stream *const *) pa;
	const struct ledger_stream *b = *(const struct ledger_stream *const *) pb;
	int                         c = amount_cmp(&b->pool, &a->pool);

	if (c != 0)
		return c;
	return a < b ? -1 : a > b; /* the ledger's order: by id */
}

static void
stream_row(const struct csvout *w, const struct ledger_stream *s)
{
	put(w, "<tr data-stream=\"");
	report_html_text(w, s->stream, s->stream_len);
	put_f(w, "\" data-nodes=\"%llu\"", (unsigned long long) s->nodes);
	amount_attr(w, "pool", &s->pool);
	amount_attr(w, "paid", &s->paid);
	amount_attr(w, "forfeited", &s->forfeited);
	amount_attr(w, "unallocated", &s->unallocated);
	put(w, "><td class=\"id\">");
	report_html_text(w, s->stream, s->stream_len);
	put(w, "</td>");
	amount_cell(w, &s->pool);
	put_f(w, "<td class=\"n\">%llu</td><td class=\"n\">%llu</td>", (unsigned long long) s->nodes,
		  (unsigned long long) s->total_successful_polls);
	amount_cell(w, &s->paid);
	amount_cell(w, &s->forfeited);
	amount_cell(w, &s->unallocated);
	put(w, "<td>");
	put_split(w, &s->pool, &s->paid, &s->forfeited, &s->unallocated);
	put(w, "</td></tr>\n");
}

static void
put_streams(const struct csvout *w, const struct ledger *ledger)
{
	size_t                       n = ledger->nstreams;
	size_t                       shown = n < REPORT_HTML_MAX_ROWS ? n : REPORT_HTML_MAX_ROWS;
	const struct ledger_stream **order = mem_calloc(n ? n : 1, sizeof(*order));

	for (size_t i = 0; i < n; i++)
		order[i] = &ledger->streams[i];
	if (n > 1)
		qsort(order, n, sizeof(*order), stream_by_pool);
	put(w, "<h2 id=\"streams\">Streams</h2>\n");
	put_f(w, "<p>%zu streams, the largest pools first.</p>\n", n);
	put(w, "<table id=\"streams-table\"><tr><th>stream</th><th class=\"n\">pool</th>"
		   "<th class=\"n\">nodes</th><th class=\"n\">successful polls</th>"
		   "<th class=\"n\">paid</th><th class=\"n\">forfeited</th><th class=\"n\">unallocated"
		   "</th><th>share of the pool</th></tr>\n");
	for (size_t i = 0; i < shown; i++)
		stream_row(w, order[i]);
	put(w, "</table>\n");
	if (n > shown)
		put_f(w,
			  "<p class=\"note\" data-streams-not-shown=\"%zu\">%zu more streams, with smaller "
			  "pools, are not shown: streams.csv has every stream.</p>\n",
			  n - shown, n - shown);
	free(order);
}

/* ------------------------------------------------------------ nodes */

/* A node over all its streams. */
struct node_sum
{
	const char   *node; /* borrowed from the ledger */
	size_t        node_len;
	uint64_t      streams;
	uint64_t      total_polls;
	uint64_t      successful_polls;
	uint64_t      failed_spot_checks;
	struct amount payout;
	struct amount forfeited;
};

static int
id_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
	int c = memcmp(a, b, alen < blen ? alen : blen);

	if (c != 0)
		return c;
	return alen < blen ? -1 : alen > blen;
}

static int
row_by_node(const void *pa, const void *pb)
{
	const struct ledger_row *a = *(const struct ledger_row *const *) pa;
	const struct ledger_row *b = *(const struct ledger_row *const *) pb;

	return id_cmp(a->node, a->node_len, b->node, b->node_len);
}

static int
node_by_payout(const void *pa, const void *pb)
{
	const struct node_sum *a = pa, *b = pb;
	int                    c = amount_cmp(&b->payout, &a->payout);

	return c != 0 ? c : id_cmp(a->node, a->node_len, b->node, b->node_len);
}

/*
 * The nodes of the ledger, the largest payout first (ties by id); *n set.
 * A node's sums never pass 2^256 - 1: they are parts of the checked totals.
 */
static struct node_sum *
node_sums(const struct ledger *ledger, size_t *n)
{
	const struct ledger_row **rows = mem_calloc(ledger->nrows ? ledger->nrows : 1, sizeof(*rows));
	struct node_sum          *sums = mem_calloc(ledger->nrows ? ledger->nrows : 1, sizeof(*sums));
	size_t                    k = 0;

	for (size_t i = 0; i < ledger->nrows; i++)
		rows[i] = &ledger->rows[i];
	if (ledger->nrows > 1)
		qsort(rows, ledger->nrows, sizeof(*rows), row_by_node);
	for (size_t i = 0; i < ledger->nrows; i++)
	{
		const struct ledger_row *r = rows[i];
		struct node_sum         *s = &sums[k > 0 ? k - 1 : 0];

		if (k == 0 || id_cmp(s->node, s->node_len, r->node, r->node_len) != 0)
		{
			s = &sums[k++];
			s->node = r->node;
			s->node_len = r->node_len;
		}
		s->streams++;
		s->total_polls += r->counts.total_polls;
		s->successful_polls += r->counts.successful_polls;
		s->failed_spot_checks += r->counts.failed_spot_checks;
		(void) amount_add(&s->payout, &r->payout);
		(void) amount_add(&s->forfeited, &r->forfeited);
	}
	free(rows);
	if (k > 1)
		qsort(sums, k, sizeof(*sums), node_by_payout);
	*n = k;
	return sums;
}

/* The SVG chart of the first n nodes' payouts (horizontal bars). */
static void
svg_payouts(const struct csvout *w, const struct node_sum *nodes, size_t n, int width, int height)
{
	const double left = 300, span = 440;

	put_f(w,
		  "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d "
		  "%d\" font-family=\"sans-serif\" font-size=\"12\">\n<rect width=\"100%%\" "
		  "height=\"100%%\" fill=\"#ffffff\"/>\n<text x=\"300\" y=\"16\" fill=\"#555\">payout "
		  "(base units), the largest first</text>\n",
		  width, height, width, height);
	for (size_t i = 0; i < n; i++)
	{
		double len = span * amount_ratio(&nodes[i].payout, &nodes[0].payout);
		int    y = 26 + (int) i * 22;

		put_f(w, "<text x=\"292\" y=\"%d\" text-anchor=\"end\">", y + 13);
		put_text_cut(w, nodes[i].node, nodes[i].node_len, LABEL_CUT);
		put_f(w, "</text><rect x=\"300\" y=\"%d\" height=\"16\" fill=\"" PAYOUT_BAR "\" width=\"",
			  y);
		put_tenths(w, len < 1 && !amount_is_zero(&nodes[i].payout) ? 1 : len);
		put(w, "\"/><text x=\"");
		put_tenths(w, left + len + 6);
		put_f(w, "\" y=\"%d\">", y + 13);
		put_amount(w, &nodes[i].payout);
		put(w, "</text>\n");
	}
	put_f(w, "<line x1=\"300\" y1=\"22\" x2=\"300\" y2=\"%d\" stroke=\"#888\"/>\n</svg>\n",
		  height - 4);
}

static void
node_row(const struct csvout *w, const struct node_sum *s)
{
	put(w, "<tr data-node=\"");
	report_html_text(w, s->node, s->node_len);
	csvout_char(w, '"');
	amount_attr(w, "payout", &s->payout);
	amount_attr(w, "forfeited", &s->forfeited);
	put(w, "><td class=\"id\">");
	report_html_text(w, s->node, s->node_len);
	put(w, "</td>");
	amount_cell(w, &s->payout);
	amount_cell(w, &s->forfeited);
	put_f(w,
		  "<td class=\"n\">%llu</td><td class=\"n\">%llu</td><td class=\"n\">%llu</td><td "
		  "class=\"n\">%llu</td></tr>\n",
		  (unsigned long long) s->streams, (unsigned long long) s->total_polls,
		  (unsigned long long) s->successful_polls, (unsigned long long) s->failed_spot_checks);
}

static void
put_payout_chart(const struct csvout *w, const struct node_sum *nodes, size_t n)
{
	size_t bars = n < REPORT_HTML_CHART_NODES ? n : REPORT_HTML_CHART_NODES;

	put(w, "<h2 id=\"payouts\">Payouts per node</h2>\n");
	put_f(w,
		  "<p data-nodes=\"%zu\" data-chart-bars=\"%zu\" data-chart-not-shown=\"%zu\">%zu "
		  "nodes (a node's payout is the sum over its streams). ",
		  n, bars, n - bars, n);
	if (n > bars)
		put_f(w, "The chart shows the %zu largest payouts; %zu nodes are not shown in it. ", bars,
			  n - bars);
	put(w, "Every node's figures: <a href=\"#nodes\">Nodes</a>.</p>\n");
	if (bars > 0)
	{
		struct membuf b = { 0 };
		struct csvout sw = { .write = membuf_write, .arg = &b };
		int           height = 36 + (int) bars * 22;

		svg_payouts(&sw, nodes, bars, 960, height);
		put_svg_inline(w, &b, "bar chart of the largest payouts per node");
	}
}

static void
put_node_table(const struct csvout *w, const struct node_sum *nodes, size_t n)
{
	size_t shown = n < REPORT_HTML_MAX_ROWS ? n : REPORT_HTML_MAX_ROWS;

	put(w, "<h2 id=\"nodes\">Nodes</h2>\n");
	put_f(w,
		  "<p>%zu nodes, the largest payouts first; a node's figures are its sums over its "
		  "streams.</p>\n",
		  n);
	put(w, "<table id=\"nodes-table\"><tr><th>node</th><th class=\"n\">payout</th>"
		   "<th class=\"n\">forfeited</th><th class=\"n\">streams</th><th class=\"n\">polls</th>"
		   "<th class=\"n\">successful polls</th><th class=\"n\">failed spot checks</th></tr>\n");
	for (size_t i = 0; i < shown; i++)
		node_row(w, &nodes[i]);
	put(w, "</table>\n");
	if (n > shown)
		put_f(w,
			  "<p class=\"note\" data-nodes-not-shown=\"%zu\">%zu more nodes, with smaller "
			  "payouts, are not shown: ledger.csv has every node.</p>\n",
			  n - shown, n - shown);
}

/* ------------------------------------------------------------ histograms */

#define HIST_BINS 12
#define MULT_LEN  48 /* a multiplier's text */

struct histogram
{
	const char *id;     /* of the table */
	const char *xlabel; /* under the axis */
	char        labels[HIST_BINS][24];
	uint64_t    counts[HIST_BINS];
	size_t      nbins;
};

/* The SVG histogram (vertical bars, counts above them). */
static void
svg_histogram(const struct csvout *w, const struct histogram *h, int width, int height)
{
	const double left = 50, plot_w = width - 70, top = 24, plot_h = height - 84;
	double       slot = plot_w / (double) h->nbins;
	uint64_t     max = 0;

	for (size_t i = 0; i < h->nbins; i++)
		max = h->counts[i] > max ? h->counts[i] : max;
	put_f(w,
		  "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d "
		  "%d\" font-family=\"sans-serif\" font-size=\"12\">\n<rect width=\"100%%\" "
		  "height=\"100%%\" fill=\"#ffffff\"/>\n",
		  width, height, width, height);
	for (size_t i = 0; i < h->nbins; i++)
	{
		double bh = plot_h * count_ratio(h->counts[i], max);
		double x = left + slot * (double) i;

		bh = bh < 1 && h->counts[i] > 0 ? 1 : bh;
		put(w, "<rect fill=\"" HIST_BAR "\" x=\"");
		put_tenths(w, x + 3);
		put(w, "\" y=\"");
		put_tenths(w, top + plot_h - bh);
		put(w, "\" width=\"");
		put_tenths(w, slot - 6);
		put(w, "\" height=\"");
		put_tenths(w, bh);
		put(w, "\"/><text text-anchor=\"middle\" x=\"");
		put_tenths(w, x + slot / 2);
		put(w, "\" y=\"");
		put_tenths(w, top + plot_h - bh - 4);
		put_f(w, "\">%llu</text><text text-anchor=\"middle\" x=\"",
			  (unsigned long long) h->counts[i]);
		put_tenths(w, x + slot / 2);
		put_f(w, "\" y=\"%d\">%s</text>\n", (int) (top + plot_h) + 18, h->labels[i]);
	}
	put_f(w, "<line x1=\"50\" x2=\"%d\" y1=\"%d\" y2=\"%d\" stroke=\"#888\"/>\n", width - 20,
		  (int) (top + plot_h), (int) (top + plot_h));
	put_f(w, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\" fill=\"#555\">%s</text>\n</svg>\n",
		  width / 2, height - 12, h->xlabel);
}

/* The chart and a table of the bins; extra: a row of text per bin, or NULL. */
static void
put_histogram(const struct csvout *w, const struct histogram *h, const char *alt,
			  const char *extra_head, char extra[][MULT_LEN])
{
	struct membuf b = { 0 };
	struct csvout sw = { .write = membuf_write, .arg = &b };

	svg_histogram(&sw, h, 960, 300);
	put_svg_inline(w, &b, alt);
	put_f(w, "<table id=\"%s\"><tr><th>%s</th>", h->id, h->xlabel);
	for (size_t i = 0; i < h->nbins; i++)
		put_f(w, "<th class=\"n\">%s</th>", h->labels[i]);
	put(w, "</tr>\n<tr><td>(stream, node) pairs</td>");
	for (size_t i = 0; i < h->nbins; i++)
		put_f(w, "<td class=\"n\" data-bin=\"%s\" data-count=\"%llu\">%llu</td>", h->labels[i],
			  (unsigned long long) h->counts[i], (unsigned long long) h->counts[i]);
	put(w, "</tr>\n");
	if (extra)
	{
		put_f(w, "<tr><td>%s</td>", extra_head);
		for (size_t i = 0; i < h->nbins; i++)
			put_f(w, "<td class=\"n\">%s</td>", extra[i]);
		put(w, "</tr>\n");
	}
	put(w, "</table>\n");
}

static void
put_uptime(const struct csvout *w, const struct ledger *ledger)
{
	struct histogram h = { .id = "uptime-table",
						   .xlabel = "share of successful polls",
						   .nbins = 12 };

	snprintf(h.labels[0], sizeof(h.labels[0]), "no polls");
	for (int i = 0; i < 10; i++)
		snprintf(h.labels[i + 1], sizeof(h.labels[0]), "%d-%d%%", i * 10, i * 10 + 10);
	snprintf(h.labels[11], sizeof(h.labels[0]), "100%%");
	for (size_t i = 0; i < ledger->nrows; i++)
	{
		const struct ledger_row *r = &ledger->rows[i];
		uint32_t                 bin = r->uptime_ppm / (PAYOUT_PPM / 10);

		if (r->counts.total_polls == 0)
			h.counts[0]++;
		else
			h.counts[r->uptime_ppm >= PAYOUT_PPM ? 11 : 1 + (bin > 9 ? 9 : bin)]++;
	}
	put(w, "<h2 id=\"uptime\">Uptime</h2>\n<p>The share of successful polls (uptime_ppm of "
		   "ledger.csv) of each node in each stream; a bin holds its lower bound, 100% only "
		   "every poll successful. Pairs without a poll (spot checks only) are counted apart."
		   "</p>\n");
	put_histogram(w, &h, "histogram of the share of successful polls", NULL, NULL);
}

/*
 * (1 - f)^k applied to 10^6 as the payout math applies it, as a decimal
 * ("0.81"); at_most: "<= " before it.
 */
static void
multiplier_text(const struct payout_keep *keep, int k, bool at_most, char *buf, size_t len)
{
	const char *prefix = at_most ? "&lt;= " : "";
	uint64_t    m = PAYOUT_PPM;
	int         digits = 6;

	for (int i = 0; i < k; i++)
		m = m * keep->num / keep->den; /* num <= den <= 10^6: no overflow */
	if (m == PAYOUT_PPM || m == 0)
	{
		snprintf(buf, len, "%s%s", prefix, m ? "1" : "0");
		return;
	}
	while (digits > 1 && m % 10 == 0)
		m /= 10, digits--;
	snprintf(buf, len, "%s0.%0*llu", prefix, digits, (unsigned long long) m);
}

static void
put_penalties(const struct csvout *w, const struct run_record *run, const struct ledger *ledger)
{
	struct histogram   h = { .id = "penalty-table", .xlabel = "failed spot checks", .nbins = 11 };
	char               mult[HIST_BINS][MULT_LEN];
	json_t            *pf = run->settings ? json_object_get(run->settings, "penalty_factor") : NULL;
	struct payout_keep keep;
	bool known = json_is_string(pf) && payout_keep_parse(json_string_value(pf), &keep);

	for (int i = 0; i < 10; i++)
		snprintf(h.labels[i], sizeof(h.labels[0]), "%d", i);
	snprintf(h.labels[10], sizeof(h.labels[0]), "10+");
	for (size_t i = 0; i < ledger->nrows; i++)
	{
		uint64_t f = ledger->rows[i].counts.failed_spot_checks;

		h.counts[f >= 10 ? 10 : f]++;
	}
	for (int i = 0; known && i < 11; i++)
		multiplier_text(&keep, i, i == 10, mult[i], sizeof(mult[i]));
	put(w, "<h2 id=\"penalties\">Penalties</h2>\n<p>Failed spot checks of each node in each "
		   "stream; a node's base amount is multiplied by (1 - f)^k for k failures (the "
		   "multipliers below are those of 1000000 base units, rounded down at each step as "
		   "the payout is)");
	if (known)
	{
		put(w, ", with the penalty factor f = ");
		put_json_text(w, pf);
	}
	put(w, ".</p>\n");
	put_histogram(w, &h, "histogram of failed spot checks", "payout multiplier",
				  known ? mult : NULL);
}

/* ------------------------------------------------------------ rejects, checks */

static uint64_t
json_u64(json_t *v)
{
	return json_is_integer(v) && json_integer_value(v) > 0 ? (uint64_t) json_integer_value(v) : 0;
}

static void
put_counts(const struct csvout *w, json_t *counts)
{
	static const char *keys[] = { "rows_read", "in_period", "out_of_period", "rejected",
								  "duplicate" };

	put(w, "<table id=\"counts-table\"><tr>");
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		put_f(w, "<th class=\"n\">%s</th>", keys[i]);
	put(w, "</tr>\n<tr>");
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
	{
		uint64_t v = json_u64(json_object_get(counts, keys[i]));

		put_f(w, "<td class=\"n\" data-count=\"%s\" data-value=\"%llu\">%llu</td>", keys[i],
			  (unsigned long long) v, (unsigned long long) v);
	}
	put(w, "</tr>\n</table>\n");
}

static void
put_rejects(const struct csvout *w, const struct run_record *run)
{
	json_t     *by = run->counts ? json_object_get(run->counts, "rejected_by_reason") : NULL;
	const char *reason;
	json_t     *v;
	uint64_t    max = 0;

	put(w, "<h2 id=\"rejects\">Rejects</h2>\n");
	if (run->counts == NULL || !json_is_object(run->counts))
	{
		put(w, "<p>The counts were not recorded.</p>\n");
		return;
	}
	put_counts(w, run->counts);
	json_object_foreach(by, reason, v) max = json_u64(v) > max ? json_u64(v) : max;
	if (max == 0)
	{
		put(w, "<p data-rejected=\"0\">No record was rejected.</p>\n");
		return;
	}
	put(w, "<table id=\"rejects-table\"><tr><th>reason</th><th class=\"n\">rejected records"
		   "</th><th></th></tr>\n");
	json_object_foreach(by, reason, v)
	{
		put(w, "<tr data-reason=\"");
		put_text(w, reason);
		put_f(w, "\" data-count=\"%llu\"><td>", (unsigned long long) json_u64(v));
		put_text(w, reason);
		put_f(w,
			  "</td><td class=\"n\">%llu</td><td><span class=\"bar\"><span class=\"forfeited\" "
			  "style=\"width:",
			  (unsigned long long) json_u64(v));
		put_tenths(w, 100.0 * count_ratio(json_u64(v), max));
		put(w, "%\"></span></span></td></tr>\n");
	}
	put(w, "</table>\n<p class=\"note\">rejects.csv has every rejected record.</p>\n");
}

/* A check's members but its status, as "key: value; ...". */
static void
put_check_detail(const struct csvout *w, json_t *detail)
{
	const char *key;
	json_t     *v;
	bool        first = true;

	json_object_foreach(detail, key, v)
	{
		if (strcmp(key, "status") == 0)
			continue;
		if (!first)
			put(w, "; ");
		first = false;
		put_text(w, key);
		put(w, ": ");
		put_json_text(w, v);
	}
}

static void
put_checks(const struct csvout *w, const struct run_record *run)
{
	const char *name;
	json_t     *detail;

	put(w, "<h2 id=\"checks\">Refusal checks</h2>\n");
	if (run->checks == NULL || !json_is_object(run->checks))
	{
		put(w, run->exported ? "<p>Not recorded: the database does not keep them (this version "
							   "was rebuilt by payrun export).</p>\n"
							 : "<p>None recorded.</p>\n");
		return;
	}
	put(w, "<p>The checks payrun makes before it publishes (manifest.json, \"checks\").</p>\n");
	put(w, "<table id=\"checks-table\"><tr><th>check</th><th>outcome</th><th>details</th></tr>\n");
	json_object_foreach(run->checks, name, detail)
	{
		json_t     *st = json_object_get(detail, "status");
		const char *status = json_is_string(st) ? json_string_value(st) : "";
		const char *cls = strcmp(status, "passed") == 0       ? "passed"
						  : strcmp(status, "overridden") == 0 ? "overridden"
						  : strcmp(status, "failed") == 0     ? "failed"
															  : "off";

		put(w, "<tr data-check=\"");
		put_text(w, name);
		put(w, "\" data-status=\"");
		put_text(w, status);
		put(w, "\"><td>");
		put_text(w, name);
		put_f(w, "</td><td class=\"%s\">", cls);
		put_text(w, status);
		put(w, "</td><td>");
		if (json_is_object(detail))
			put_check_detail(w, detail);
		put(w, "</td></tr>\n");
	}
	put(w, "</table>\n");
}

/* ------------------------------------------------------------ timing */

static double
json_seconds(json_t *v)
{
	double s = json_is_number(v) ? json_number_value(v) : 0;

	return s > 0 ? s : 0;
}

static void
timing_row(const struct csvout *w, json_t *phase, double total)
{
	json_t *name = json_object_get(phase, "name");
	double  wall = json_seconds(json_object_get(phase, "wall_s"));

	put(w, "<tr data-phase=\"");
	if (json_is_string(name))
		put_json_text(w, name);
	put(w, "\"><td>");
	if (json_is_string(name))
		put_json_text(w, name);
	put_f(w, "</td><td class=\"n\">%.3f</td><td class=\"n\">%.3f</td>", wall,
		  json_seconds(json_object_get(phase, "cpu_s")));
	put_f(w, "<td class=\"n\">%llu</td><td class=\"n\">%llu</td>",
		  (unsigned long long) json_u64(json_object_get(phase, "rows")),
		  (unsigned long long) json_u64(json_object_get(phase, "bytes")));
	put(w, "<td><span class=\"bar\"><span class=\"paid\" style=\"width:");
	put_tenths(w, total > 0 ? 100.0 * (wall < total ? wall / total : 1.0) : 0);
	put(w, "%\"></span></span></td></tr>\n");
}

static void
put_timing(const struct csvout *w, const struct run_record *run)
{
	json_t *timing = manifest_timing_json(run);
	json_t *phases = json_object_get(timing, "phases");
	double  total = json_seconds(json_object_get(timing, "total_wall_s"));
	size_t  i;
	json_t *phase;

	put(w, "<h2 id=\"timing\">Timing</h2>\n");
	put(w, run->exported ? "<p>The timing the database recorded for the run that settled this "
						   "version.</p>\n"
						 : "<p>The phases measured up to the writing of this version's files: "
						   "writing them, the database write and the publication come after "
						   "this page was written and are not in it (payrun's printed timing "
						   "report has them). Wall seconds are elapsed time; CPU seconds are "
						   "summed over threads.</p>\n");
	if (!json_is_array(phases))
	{
		put(w, "<p>No timing was recorded.</p>\n");
		json_decref(timing);
		return;
	}
	put(w, "<table id=\"timing-table\"><tr><th>phase</th><th class=\"n\">wall s</th>"
		   "<th class=\"n\">cpu s</th><th class=\"n\">rows</th><th class=\"n\">bytes</th>"
		   "<th>share of the wall time so far</th></tr>\n");
	json_array_foreach(phases, i, phase) timing_row(w, phase, total);
	put_f(w,
		  "<tr><td>total so far</td><td class=\"n\">%.3f</td><td class=\"n\">%.3f</td><td></td>"
		  "<td></td><td></td></tr>\n</table>\n",
		  total, json_seconds(json_object_get(timing, "total_cpu_s")));
	if (json_u64(json_object_get(timing, "peak_rss_kib")) > 0)
		put_f(w, "<p>Peak memory so far: %llu KiB (max RSS).</p>\n",
			  (unsigned long long) json_u64(json_object_get(timing, "peak_rss_kib")));
	json_decref(timing);
}

void
report_html_write(const struct csvout *w, const struct run_record *run, const struct ledger *ledger)
{
	size_t           nnodes;
	struct node_sum *nodes = node_sums(ledger, &nnodes);

	put_head(w, run, ledger);
	put_run(w, run, ledger);
	put_totals(w, run, ledger);
	put_payout_chart(w, nodes, nnodes);
	put_uptime(w, ledger);
	put_penalties(w, run, ledger);
	put_rejects(w, run);
	put_checks(w, run);
	put_timing(w, run);
	put_streams(w, ledger);
	put_node_table(w, nodes, nnodes);
	put_settings(w, run);
	put(w, "<p class=\"note\">Written by payrun ");
	put_text(w, run->payrun_version);
	put(w, " with the other files of this version; manifest.json lists it with its SHA-256."
		   "</p>\n</body>\n</html>\n");
	free(nodes);
}
