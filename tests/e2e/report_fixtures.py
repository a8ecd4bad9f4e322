#!/usr/bin/env python3
"""report_fixtures.py: deterministic inputs for tests/e2e/report.sh.

    python3 tests/e2e/report_fixtures.py CASE --out DIR

Each case writes its probes (CSV with an id column, as PostgreSQL's COPY
writes it), DIR/pools.csv and DIR/args (settle's arguments, one a line,
without --out).  Cases:

  hostile  stream and node ids that are not valid UTF-8 (a lone 0xff, a
           truncated sequence, a surrogate), markup, quotes, a backslash,
           control characters; a few rejected rows of two kinds; every
           kind of failed spot check count from 0 to 12
  utf8     the same shapes with valid UTF-8 only (PostgreSQL's text type
           holds nothing else), for the export test
  many     1,200 nodes over 1,100 streams: past the page's caps
  days     2026-11-01 and 2026-11-02 in one file, for backfill --settle
"""

import argparse
import os
import random

DAY0 = 1793491200  # 2026-11-01T00:00:00Z
COLS = [b"id", b"stream_id", b"node_id", b"probe_type", b"success", b"probe_timestamp"]


def ts(sec):
    days, rem = divmod(sec, 86400)
    # 2026-11-01 + days; the cases stay within November 2026
    d = 1 + (days - DAY0 // 86400)
    return b"2026-11-%02d %02d:%02d:%02d+00" % (d, rem // 3600, rem % 3600 // 60, rem % 60)


def field(v):
    if any(c in v for c in b',"\r\n'):
        return b'"' + v.replace(b'"', b'""') + b'"'
    return v


def csv(rows, cols=COLS):
    out = [b",".join(cols) + b"\n"]
    for r in rows:
        out.append(b",".join(field(v) for v in r) + b"\n")
    return b"".join(out)


class Rows:
    """Probe rows with ids in order, each day's first and last second covered."""

    def __init__(self):
        self.rows = []

    def add(self, stream, node, ptype, ok, sec):
        self.rows.append([b"%d" % (len(self.rows) + 1), stream, node, ptype,
                          b"t" if ok else b"f", ts(sec)])

    def polls(self, rng, stream, node, n, good, day=0):
        for k in range(n):
            sec = DAY0 + day * 86400 + (k * 86399 // max(n - 1, 1))
            self.add(stream, node, b"stats_poll", k < good, sec)

    def spot_checks(self, stream, node, failed, day=0):
        for k in range(failed):
            self.add(stream, node, b"spot_check", False, DAY0 + day * 86400 + 3600 + k)


def write(path, data):
    with open(path, "wb") as fh:
        fh.write(data)


def write_args(d, args):
    with open(os.path.join(d, "args"), "wb") as fh:
        for a in args:
            fh.write((a if isinstance(a, bytes) else a.encode()) + b"\n")


def pools(entries):
    return csv([[s, b"%d" % p] for s, p in entries], [b"stream_id", b"pool"])


HOSTILE_STREAMS = [b"s-\xff\xfe", b"a&b<script>alert(1)</script>", "ümlaut-流".encode(),
                   b"plain"]
HOSTILE_NODES = [b"relay-\xc3\x28", b"relay-\x80", b"\xed\xa0\x80surrogate", b'node "q" \'s\'',
                 b"back\\slash", b"nl\nnode", b"tab\tnode", b"<b>bold</b>", b"del\x7f",
                 "nœud-ß".encode(), b"\xe2\x82", b"b\\s-\xff"]
UTF8_STREAMS = [b"a&b<script>alert(1)</script>", "ümlaut-流".encode(), b"plain", b"q\"uote"]
UTF8_NODES = [b'node "q" \'s\'', b"back\\slash", b"nl\nnode", b"<b>bold</b>", "nœud-ß".encode(),
              b"http://example.invalid/x", b"amp&amp;"]


def case_ids(d, streams, nodes, bad_rows):
    """Every stream with every node: polls of varied success, 0..12 failed spot checks."""
    rng = random.Random(11)
    r = Rows()
    k = 0
    for s in streams:
        for n in nodes:
            total = rng.randint(4, 12)
            r.polls(rng, s, n, total, rng.randint(0, total))
            r.spot_checks(s, n, k % 13)
            k += 1
    rows = r.rows
    if bad_rows:
        rows = rows + [[b"900001", b"plain", b"x", b"stats_poll", b"maybe", ts(DAY0 + 5)],
                       [b"900002", b"plain", b"x", b"stats_poll", b"t", b"yesterday"],
                       [b"900003", b"plain", b"x", b"stats_poll", b"t", b"noon"]]
    write(os.path.join(d, "probes.csv"), csv(rows))
    write(os.path.join(d, "pools.csv"), pools([(s, 1000003 * (i + 1)) for i, s in enumerate(streams)]))
    write_args(d, ["--period", "2026-11-01", "--input", os.path.join(d, "probes.csv"),
                   "--pools", os.path.join(d, "pools.csv"), "--default-pool", "1000",
                   "--penalty-factor", "0.25", "--max-reject-ratio", "0.1"])


def case_many(d):
    rng = random.Random(5)
    r = Rows()
    for i in range(1200):
        r.polls(rng, b"st-%04d" % (i % 1100), b"n-%04d" % i, 3, 1 + i % 3)
    write(os.path.join(d, "probes.csv"), csv(r.rows))
    write(os.path.join(d, "pools.csv"), pools([(b"st-%04d" % i, 5000 + 7 * i) for i in range(0, 1100, 3)]))
    write_args(d, ["--period", "2026-11-01", "--input", os.path.join(d, "probes.csv"),
                   "--pools", os.path.join(d, "pools.csv"), "--default-pool", "4000"])


def case_days(d):
    rng = random.Random(3)
    r = Rows()
    for day in (0, 1):
        for i in range(30):
            r.polls(rng, b"live-%d" % (i % 3), b"relay-%02d" % i, 6, 2 + i % 5, day)
            r.spot_checks(b"live-%d" % (i % 3), b"relay-%02d" % i, i % 4, day)
    write(os.path.join(d, "probes.csv"), csv(r.rows))
    write(os.path.join(d, "pools.csv"), pools([(b"live-0", 9000), (b"live-1", 12000)]))
    write_args(d, ["--input", os.path.join(d, "probes.csv"), "--pools",
                   os.path.join(d, "pools.csv"), "--default-pool", "500"])


def main():
    p = argparse.ArgumentParser()
    p.add_argument("case", choices=["hostile", "utf8", "many", "days"])
    p.add_argument("--out", required=True)
    a = p.parse_args()
    os.makedirs(a.out, exist_ok=True)
    d = os.path.abspath(a.out)
    if a.case == "hostile":
        case_ids(d, HOSTILE_STREAMS, HOSTILE_NODES, True)
    elif a.case == "utf8":
        case_ids(d, UTF8_STREAMS, UTF8_NODES, False)
    elif a.case == "many":
        case_many(d)
    else:
        case_days(d)


if __name__ == "__main__":
    main()
