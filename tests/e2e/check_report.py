#!/usr/bin/env python3
"""check_report.py: assertions on a version's report.html, for tests/e2e/report.sh.

    python3 tests/e2e/check_report.py all VDIR       every check below on DIR/LABEL/vN
    python3 tests/e2e/check_report.py WHAT VDIR      one of them: static, manifest,
                                                     streams, nodes, histograms,
                                                     rejects, checks, timing
    python3 tests/e2e/check_report.py contains VDIR TEXT...   the page's text has each TEXT
    python3 tests/e2e/check_report.py pixels PNG [--no-bars]   a screenshot is not
                                                     blank, and (unless --no-bars: an
                                                     empty ledger) both kinds of chart
                                                     were drawn

The page is parsed with html.parser; its figures are read from the data-
attributes of its tables and compared with the version's CSV files and
manifest.json, which are read here independently of payrun.  Ids are
compared as the page must show them: display(raw bytes), written below from
the rule in include/payrun/report_html.h.  Prints what is wrong and exits 1.
"""

import html
import re
import csv
import hashlib
import html.parser
import io
import json
import os
import struct
import sys
import xml.etree.ElementTree as ET
import zlib

SVG_NS = "http://www.w3.org/2000/svg"
PAYOUT_BAR = (0x31, 0x82, 0xCE)  # the charts' colours (src/report_html.c)
HIST_BAR = (0x31, 0x97, 0x95)
CHART_NODES = 25
MAX_ROWS = 1000

ERRORS = []


def bad(msg):
    ERRORS.append(msg)


# ------------------------------------------------------------------ escaping

def allowed(ch):
    c = ord(ch)
    if c < 0x20 or c == 0x7F or 0x80 <= c < 0xA0:
        return False
    if 0xFDD0 <= c <= 0xFDEF or (c & 0xFFFE) == 0xFFFE:
        return False
    return True


def display(raw):
    """How the page shows the id bytes raw (Python's strict UTF-8 decoder
    decides what is valid): as it is, unless a byte is not part of an
    allowed character; then each such byte as \\xNN, each backslash as \\\\."""
    chars, i, clean = [], 0, True
    while i < len(raw):
        for n in (1, 2, 3, 4):
            try:
                ch = raw[i:i + n].decode("utf-8")
            except UnicodeDecodeError:
                continue
            break
        else:
            ch = None
        if ch is not None and len(ch) == 1 and allowed(ch):
            chars.append(ch)
            i += n
        else:
            chars.append(None)
            chars.append(raw[i])
            clean = False
            i += 1
    if clean:
        return "".join(chars)
    out, it = [], iter(chars)
    for ch in it:
        if ch is None:
            out.append("\\x%02X" % next(it))
        else:
            out.append("\\\\" if ch == "\\" else ch)
    return "".join(out)


# ------------------------------------------------------------------ reading

class Page(html.parser.HTMLParser):
    """Rows (attrs, cell texts) of each table by id, tags and attributes seen."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tables = {}
        self.table = None
        self.row = None
        self.cell = None
        self.tags = []            # (tag, attrs)
        self.styles = []
        self.in_style = False
        self.text = []
        self.paras = []           # attrs of every <p>

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags.append((tag, a))
        if tag == "table":
            self.table = self.tables.setdefault(a.get("id", ""), [])
        elif tag == "tr" and self.table is not None:
            self.row = (a, [])
            self.table.append(self.row)
        elif tag in ("td", "th") and self.row is not None:
            self.cell = []
            self.row[1].append(self.cell)
        elif tag == "style":
            self.in_style = True
        elif tag == "p":
            self.paras.append(a)

    def handle_endtag(self, tag):
        if tag == "table":
            self.table = None
            self.row = None
        elif tag in ("td", "th"):
            self.cell = None
        elif tag == "style":
            self.in_style = False

    def handle_data(self, data):
        if self.in_style:
            self.styles.append(data)
            return
        self.text.append(data)
        if self.cell is not None:
            self.cell.append(data)


def read_version(vdir):
    v = {"dir": vdir}
    with open(os.path.join(vdir, "report.html"), "rb") as fh:
        v["bytes"] = fh.read()
    try:
        v["html"] = v["bytes"].decode("utf-8")
    except UnicodeDecodeError as e:
        bad("report.html is not valid UTF-8: %s" % e)
        v["html"] = v["bytes"].decode("utf-8", "replace")
    with open(os.path.join(vdir, "manifest.json")) as fh:
        v["manifest"] = json.load(fh)
    p = Page()
    p.feed(v["html"])
    p.close()
    v["page"] = p
    return v


def read_csv(path):
    """Rows of a payrun CSV file as dicts of bytes (ids exactly as written)."""
    with open(path, encoding="utf-8", errors="surrogateescape", newline="") as fh:
        rows = list(csv.DictReader(fh))
    return [{k: v.encode("utf-8", "surrogateescape") for k, v in r.items()} for r in rows]


def data_rows(v, table, key):
    """(attrs, cells) of the rows of table that have attribute key."""
    rows = v["page"].tables.get(table)
    if rows is None:
        bad("no table with id %r" % table)
        return []
    return [(a, ["".join(c) for c in cells]) for a, cells in rows if key in a]


def para_attr(v, name):
    for a in v["page"].paras:
        if name in a:
            return a[name]
    return None


# ------------------------------------------------------------------ checks

CHART = re.compile(r'<div class="chart" title="([^"]*)">\n(<svg\b.*?</svg>)\s*</div>', re.S)


def svg_images(v, alt=None):
    """The inline SVG charts of the page (those whose title starts with
    alt), each as the bytes of an SVG document."""
    return [m.group(2).encode("utf-8") for m in CHART.finditer(v["html"])
            if alt is None or html.unescape(m.group(1)).startswith(alt)]


def check_svg(doc, i):
    try:
        root = ET.fromstring(doc)
    except ET.ParseError as e:
        bad("chart %d is not well-formed XML: %s" % (i, e))
        return None
    if root.tag != "{%s}svg" % SVG_NS:
        bad("chart %d: root element %r" % (i, root.tag))
    for el in root.iter():
        name = el.tag.split("}")[-1]
        if name in ("script", "foreignObject", "image", "use", "a", "style", "iframe"):
            bad("chart %d has a <%s> element" % (i, name))
        for k, val in el.attrib.items():
            if "href" in k or k.startswith("on") or "url(" in val or "http" in val:
                bad("chart %d: attribute %s=%r" % (i, k, val[:80]))
    if doc.replace(b'xmlns="http://www.w3.org/2000/svg"', b"").find(b"http") >= 0:
        rest = doc.replace(b'xmlns="http://www.w3.org/2000/svg"', b"")
        # an id shown in a label may say http: that is text, not a reference
        for el in root.iter():
            if el.text and "http" in el.text:
                rest = rest.replace(el.text.encode("utf-8").replace(b"&", b"&amp;"), b"")
        if rest.find(b"http") >= 0:
            bad("chart %d refers to something outside it" % i)
    return root


def check_static(v):
    """Self-contained: no script, no external reference, no event handler."""
    forbidden = {"script", "link", "iframe", "frame", "frameset", "object", "embed", "applet",
                 "base", "form", "audio", "video", "source", "noscript", "template", "img",
                 "foreignobject", "image", "use"}
    imgs = 0
    for tag, a in v["page"].tags:
        if tag in forbidden:
            bad("the page has a <%s> element" % tag)
        if tag == "meta" and "http-equiv" in a:
            bad("the page has <meta http-equiv>")
        for k, val in a.items():
            val = val or ""
            if k.startswith("on"):
                bad("<%s %s=...>: an event handler" % (tag, k))
            if k == "src":
                bad("<%s src=%r>: the page loads nothing" % (tag, val[:60]))
            if k == "href" and not val.startswith("#"):
                bad("<%s href=%r>: not a link inside the page" % (tag, val[:60]))
            if k in ("srcset", "action", "formaction", "background", "poster", "data", "xlink:href"):
                bad("<%s %s=...>" % (tag, k))
            if k == "style" and ("url(" in val or "expression" in val or "@import" in val):
                bad("<%s style=%r>" % (tag, val[:60]))
        imgs += tag == "svg"
    css = "".join(v["page"].styles)
    for word in ("url(", "@import", "@font-face", "http"):
        if word in css:
            bad("the style sheet has %r" % word)
    want = 3 if para_attr(v, "data-nodes") != "0" else 2
    if imgs != want:
        bad("the page has %d inline SVG charts, want %d (the payouts chart, two histograms)" % (imgs, want))
    docs = svg_images(v)
    if len(docs) != imgs:
        bad("%d <svg> elements, %d of them charts in their <div class=\"chart\">" % (imgs, len(docs)))
    for i, d in enumerate(docs):
        check_svg(d, i)
    if not v["html"].startswith("<!DOCTYPE html>"):
        bad("the page does not start with <!DOCTYPE html>")


def check_manifest(v):
    outs = {o["name"]: o for o in v["manifest"].get("outputs", [])}
    o = outs.get("report.html")
    if o is None:
        bad("manifest.json outputs does not list report.html (has %s)" % sorted(outs))
        return
    if o.get("sha256") != hashlib.sha256(v["bytes"]).hexdigest():
        bad("manifest.json's sha256 of report.html is not the file's")
    if o.get("bytes") != len(v["bytes"]):
        bad("manifest.json's bytes of report.html: %r, the file has %d" % (o.get("bytes"), len(v["bytes"])))


def check_streams(v):
    want = read_csv(os.path.join(v["dir"], "streams.csv"))
    order = sorted(want, key=lambda r: (-int(r["pool"]), r["stream_id"]))
    got = data_rows(v, "streams-table", "data-stream")
    n = min(len(order), MAX_ROWS)
    if len(got) != n:
        bad("streams table has %d rows, want %d" % (len(got), n))
    for k, (w, (a, cells)) in enumerate(zip(order, got)):
        sid = display(w["stream_id"])
        if a.get("data-stream") != sid or cells[0] != sid:
            bad("streams row %d is %r (cell %r), want %r" % (k, a.get("data-stream"), cells[0], sid))
            continue
        for f in ("pool", "paid", "forfeited", "unallocated", "nodes"):
            if a.get("data-" + f) != w[f].decode():
                bad("stream %r: %s %r in the page, %r in streams.csv" % (sid, f, a.get("data-" + f), w[f]))
    hidden = para_attr(v, "data-streams-not-shown")
    if len(order) > MAX_ROWS and hidden != str(len(order) - MAX_ROWS):
        bad("streams not shown: %r, want %d" % (hidden, len(order) - MAX_ROWS))
    if len(order) <= MAX_ROWS and hidden is not None:
        bad("a note of streams not shown, with all of them shown")
    totals = {a["data-total"]: a for a, _ in data_rows(v, "totals-table", "data-total")}
    mt = v["manifest"].get("totals", {})
    for f in ("pool", "paid", "forfeited", "unallocated"):
        if totals.get(f, {}).get("data-amount") != mt.get(f):
            bad("total %s: %r in the page, %r in manifest.json" % (f, totals.get(f), mt.get(f)))
        s = sum(int(r[f]) for r in want)
        if str(s) != mt.get(f):
            bad("total %s: streams.csv sums to %d" % (f, s))
    for f in ("streams", "nodes"):
        if totals.get(f, {}).get("data-count") != str(mt.get(f)):
            bad("total %s: %r in the page, %r in manifest.json" % (f, totals.get(f), mt.get(f)))


def node_sums(v):
    sums = {}
    for r in read_csv(os.path.join(v["dir"], "ledger.csv")):
        s = sums.setdefault(r["node_id"], [0, 0, 0, 0, 0, 0])
        s[0] += int(r["payout_amount"])
        s[1] += int(r["forfeited_amount"])
        s[2] += 1
        s[3] += int(r["total_polls"])
        s[4] += int(r["successful_polls"])
        s[5] += int(r["failed_spot_checks"])
    return sorted(sums.items(), key=lambda kv: (-kv[1][0], kv[0]))


def check_nodes(v):
    order = node_sums(v)
    got = data_rows(v, "nodes-table", "data-node")
    n = min(len(order), MAX_ROWS)
    if len(got) != n:
        bad("nodes table has %d rows, want %d" % (len(got), n))
    for k, ((node, s), (a, cells)) in enumerate(zip(order, got)):
        nid = display(node)
        if a.get("data-node") != nid or cells[0] != nid:
            bad("nodes row %d is %r, want %r" % (k, a.get("data-node"), nid))
            continue
        if a.get("data-payout") != str(s[0]) or a.get("data-forfeited") != str(s[1]):
            bad("node %r: payout %r forfeited %r, ledger.csv sums %d, %d"
                % (nid, a.get("data-payout"), a.get("data-forfeited"), s[0], s[1]))
        if cells[3:7] != [str(x) for x in s[2:6]]:
            bad("node %r: streams, polls, successful, failed %r, want %r" % (nid, cells[3:7], s[2:6]))
    hidden = para_attr(v, "data-nodes-not-shown")
    if len(order) > MAX_ROWS and hidden != str(len(order) - MAX_ROWS):
        bad("nodes not shown in the table: %r, want %d" % (hidden, len(order) - MAX_ROWS))
    bars = min(len(order), CHART_NODES)
    want = {"data-nodes": str(len(order)), "data-chart-bars": str(bars),
            "data-chart-not-shown": str(len(order) - bars)}
    for k, w in want.items():
        if para_attr(v, k) != w:
            bad("%s=%r, want %s" % (k, para_attr(v, k), w))
    docs = svg_images(v, "bar chart of the largest payouts")
    if len(docs) != (1 if bars else 0):
        bad("%d charts of payouts per node, want %d" % (len(docs), 1 if bars else 0))
    if not docs:
        return
    root = check_svg(docs[0], 0)
    if root is None:
        return
    texts = [el.text or "" for el in root.iter("{%s}text" % SVG_NS)]
    amounts = [t for t in texts if t.isdigit()]
    if amounts != [str(s[0]) for _, s in order[:bars]]:
        bad("the chart's amounts %r, want the %d largest payouts" % (amounts[:5], bars))
    rects = [el for el in root.iter("{%s}rect" % SVG_NS) if el.get("fill") == "#3182ce"]
    if len(rects) != bars:
        bad("the chart has %d bars, want %d" % (len(rects), bars))
    widths = [float(el.get("width")) for el in rects]
    if widths != sorted(widths, reverse=True):
        bad("the chart's bars are not in decreasing order")


class Cells(html.parser.HTMLParser):
    """The data-bin cells of each table."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.table = None
        self.bins = {}

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "table":
            self.table = a.get("id")
        elif tag == "td" and "data-bin" in a:
            self.bins.setdefault(self.table, {})[a["data-bin"]] = int(a["data-count"])


def check_histograms(v):
    rows = read_csv(os.path.join(v["dir"], "ledger.csv"))
    up = {"no polls": 0, "100%": 0}
    for i in range(10):
        up["%d-%d%%" % (i * 10, i * 10 + 10)] = 0
    pen = {str(i): 0 for i in range(10)}
    pen["10+"] = 0
    for r in rows:
        ppm, total, f = int(r["uptime_ppm"]), int(r["total_polls"]), int(r["failed_spot_checks"])
        if total == 0:
            up["no polls"] += 1
        elif ppm >= 1000000:
            up["100%"] += 1
        else:
            b = min(ppm // 100000, 9)
            up["%d-%d%%" % (b * 10, b * 10 + 10)] += 1
        pen[str(f) if f < 10 else "10+"] += 1
    c = Cells()
    c.feed(v["html"])
    for table, want in (("uptime-table", up), ("penalty-table", pen)):
        if c.bins.get(table) != want:
            bad("%s: %r, ledger.csv gives %r" % (table, c.bins.get(table), want))


def check_rejects(v):
    m = v["manifest"].get("counts", {})
    cp = CountCells()
    cp.feed(v["html"])
    for k in ("rows_read", "in_period", "out_of_period", "rejected", "duplicate"):
        if cp.counts.get(k) != str(m.get(k, 0)):
            bad("count %s: %r in the page, %r in manifest.json" % (k, cp.counts.get(k), m.get(k)))
    page = {a["data-reason"]: int(a["data-count"]) for a, _ in
            (data_rows(v, "rejects-table", "data-reason") if m.get("rejected") else [])}
    if page != m.get("rejected_by_reason", {}):
        bad("rejects by reason: %r in the page, %r in manifest.json" % (page, m.get("rejected_by_reason")))
    if "exported_at" not in v["manifest"]:
        by = {}
        for r in read_csv(os.path.join(v["dir"], "rejects.csv")):
            by[r["reason"].decode()] = by.get(r["reason"].decode(), 0) + 1
        if page != by:
            bad("rejects by reason: %r in the page, rejects.csv has %r" % (page, by))


class CountCells(html.parser.HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.counts = {}

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "td" and "data-value" in a:
            self.counts[a["data-count"]] = a["data-value"]


def check_checks(v):
    m = v["manifest"].get("checks")
    if m is None:
        if "checks-table" in v["page"].tables:
            bad("a table of checks the manifest does not have")
        return
    page = {a["data-check"]: a["data-status"] for a, _ in data_rows(v, "checks-table", "data-check")}
    want = {k: d.get("status") for k, d in m.items()}
    if page != want:
        bad("checks: %r in the page, %r in manifest.json" % (page, want))


def check_timing(v):
    t = v["manifest"].get("timing") or {}
    want = [p["name"] for p in t.get("phases", [])]
    got = [a["data-phase"] for a, _ in data_rows(v, "timing-table", "data-phase")]
    if got != want:
        bad("timing phases %r, manifest.json has %r" % (got, want))
    if "exported_at" not in v["manifest"] and ("publish" in got or "write" in got):
        bad("timing shows phases measured after the page was written: %r" % got)


def check_contains(v, texts):
    text = "".join(v["page"].text)
    for t in texts:
        if t not in text:
            bad("the page's text does not have %r" % t)


# ------------------------------------------------------------------ pixels

def png_pixels(path):
    """(width, height, rows, bytes a pixel) of an 8-bit RGB or RGBA PNG, with zlib only."""
    with open(path, "rb") as fh:
        d = fh.read()
    if d[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG")
    i, idat, w = 8, [], 0
    while i < len(d):
        n, t = struct.unpack(">I", d[i:i + 4])[0], d[i + 4:i + 8]
        c = d[i + 8:i + 8 + n]
        i += 12 + n
        if t == b"IHDR":
            w, h, depth, ctype, _, _, inter = struct.unpack(">IIBBBBB", c)
            if depth != 8 or ctype not in (2, 6) or inter:
                raise ValueError("PNG of depth %d, colour type %d, interlace %d" % (depth, ctype, inter))
        elif t == b"IDAT":
            idat.append(c)
    raw = zlib.decompress(b"".join(idat))
    bpp = 3 if ctype == 2 else 4
    stride = w * bpp
    prev = bytearray(stride)
    rows = []
    for y in range(h):
        f = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        if f == 1:
            for x in range(bpp, stride):
                line[x] = (line[x] + line[x - bpp]) & 255
        elif f == 2:
            line = bytearray((a + b) & 255 for a, b in zip(line, prev))
        elif f == 3:
            for x in range(stride):
                left = line[x - bpp] if x >= bpp else 0
                line[x] = (line[x] + ((left + prev[x]) >> 1)) & 255
        elif f == 4:
            for x in range(stride):
                a = line[x - bpp] if x >= bpp else 0
                b = prev[x]
                c = prev[x - bpp] if x >= bpp else 0
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(bytes(line))
        prev = line
    return w, h, rows, bpp


def check_pixels(path, bars=True):
    w, h, rows, bpp = png_pixels(path)
    colours = {}
    for r in rows[::2]:  # every other pixel of every other row
        for x in range(0, len(r), 2 * bpp):
            px = r[x:x + 3]
            colours[px] = colours.get(px, 0) + 1
    total = sum(colours.values())
    white = colours.get(b"\xff\xff\xff", 0)
    ink = total - white
    payout = colours.get(bytes(PAYOUT_BAR), 0)
    hist = colours.get(bytes(HIST_BAR), 0)
    print("%dx%d: %d colours, %.1f%% not white, chart bars %d, histogram bars %d (pixels sampled)"
          % (w, h, len(colours), 100.0 * ink / max(total, 1), payout, hist))
    if len(colours) < 16:
        bad("the screenshot has only %d colours" % len(colours))
    if ink < total // 50:
        bad("the screenshot is blank: %d of %d sampled pixels are not white" % (ink, total))
    if bars and payout < 500:
        bad("the payouts chart was not drawn: %d sampled pixels of its colour" % payout)
    if bars and hist < 500:
        bad("no histogram was drawn: %d sampled pixels of its colour" % hist)


CHECKS = {"static": check_static, "manifest": check_manifest, "streams": check_streams,
          "nodes": check_nodes, "histograms": check_histograms, "rejects": check_rejects,
          "checks": check_checks, "timing": check_timing}


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    what, arg = sys.argv[1], sys.argv[2]
    if what == "pixels":
        check_pixels(arg, "--no-bars" not in sys.argv[3:])
    else:
        v = read_version(arg)
        if what == "all":
            for f in CHECKS.values():
                f(v)
        elif what == "contains":
            check_contains(v, sys.argv[3:])
        elif what in CHECKS:
            CHECKS[what](v)
        else:
            sys.exit("unknown check %r" % what)
    if ERRORS:
        print("\n".join(ERRORS[:12]))
        if len(ERRORS) > 12:
            print("... and %d more" % (len(ERRORS) - 12))
        sys.exit(1)


if __name__ == "__main__":
    main()
