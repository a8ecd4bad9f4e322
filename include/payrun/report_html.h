/*
 * report_html.h: report.html, the page of a published version for people
 * who would rather look than read: totals per stream, payouts per node (a
 * bar chart of the largest and a table), the uptime and penalty
 * distributions (histograms), rejects by reason, the refusal checks and
 * the timing phases measured before the files were written.
 *
 * One static, self-contained file: no script, no external font, style or
 * image; the charts are SVG drawn here, embedded as data: URIs (an HTML 4
 * parser such as xmllint's then reads the page without unknown elements).
 * Amounts are printed exactly, in base units (amount.h); floating point
 * only sizes bars.  Every text from data (ids, paths, reasons, details) is
 * escaped (report_html_text), and machine-readable figures are in data-
 * attributes of the table rows (data-stream, data-pool, data-paid, ...).
 * Tables and the chart are capped (the rest is counted in a note), so the
 * file stays bounded whatever the ledger's size.
 *
 * Pure: the page is written through a byte sink (struct csvout); the
 * caller owns the file.
 */
#ifndef PAYRUN_REPORT_HTML_H
#define PAYRUN_REPORT_HTML_H

#include <stddef.h>

#include "payrun/csvout.h"
#include "payrun/ledger.h"
#include "payrun/manifest.h"

#define REPORT_HTML_NAME        "report.html"
#define REPORT_HTML_CHART_NODES 25   /* bars in the chart of payouts per node */
#define REPORT_HTML_MAX_ROWS    1000 /* rows of the streams and nodes tables */

/*
 * Text from data, escaped for HTML and XML text and attribute values:
 * & < > " ' as entities; in a name that has a byte that is not part of
 * well-formed UTF-8, or of a character a document may not hold (C0 and C1
 * controls, DEL, noncharacters), each such byte as \xNN (upper-case hex)
 * and each backslash as \\, as utf8.h escapes names for the manifest (a
 * name without such a byte keeps its backslashes).  Never drops a byte;
 * the output is always valid UTF-8.
 */
void report_html_text(const struct csvout *w, const char *s, size_t len);

/* The whole page of a version: its record and its ledger. */
void report_html_write(const struct csvout *w, const struct run_record *run,
					   const struct ledger *ledger);

#endif
