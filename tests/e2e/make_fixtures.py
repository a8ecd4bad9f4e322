#!/usr/bin/env python3
"""make_fixtures.py: deterministic probe-export fixtures for the e2e tests.

    make_fixtures.py demo   --out fixtures/        # the committed fixture day
    make_fixtures.py random --seed N --out DIR     # a random settle case
    make_fixtures.py awkward|boundary|boundary-hour|rejects|ratio --out DIR
    make_fixtures.py pool-max [--pool N] --out DIR  # one stream's pool (2^256 - 1)
    make_fixtures.py parts --count N --out DIR      # N distinct exports of a day
    make_fixtures.py overlap|badid|tokens|huge --out DIR   # issue 9's cases
    make_fixtures.py big    --copies N --out FILE  # multi-member gzip for lock tests

Every case directory gets `args`: the settle options (one per line, --out
excluded) that both payrun and tests/oracle/settle_ref.py are run with, and
some get `expect_*` files the tests check directly.  Everything is a pure
function of the seed: same seed, same bytes (gzip mtime is 0).
"""

import argparse
import gzip
import os
import random
import sys

DAY0 = 1793491200            # 2026-11-01T00:00:00Z
PG_COLS = ["id", "stream_id", "node_id", "probe_type", "success", "probe_timestamp",
           "error_message", "response_data"]
REQUIRED = ["stream_id", "node_id", "probe_type", "success", "probe_timestamp"]


# ---------------------------------------------------------------- civil time

def civil_from_days(z):
    z += 719468
    era = (z if z >= 0 else z - 146096) // 146097
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    y = yoe + era * 400
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    d = doy - (153 * mp + 2) // 5 + 1
    m = mp + (3 if mp < 10 else -9)
    return y + (m <= 2), m, d


def civil(sec):
    days, rem = divmod(sec, 86400)
    y, m, d = civil_from_days(days)
    return y, m, d, rem // 3600, rem // 60 % 60, rem % 60


def ts_text(sec, ns=0, sep=" ", digits=0, zone=None):
    """The text of UTC instant sec+ns written in zone (offset minutes, or
    'Z', or None for no zone), fraction truncated to digits."""
    if zone is None or zone == "Z":
        off = 0
    else:
        off = zone[0]
    y, m, d, hh, mm, ss = civil(sec + off * 60)
    s = "%04d-%02d-%02d%s%02d:%02d:%02d" % (y, m, d, sep, hh, mm, ss)
    if digits:
        s += "." + ("%09d" % ns)[:digits]
    if zone == "Z":
        s += "Z"
    elif zone is not None:
        minutes, style = zone
        sign = "-" if minutes < 0 else "+"
        a = abs(minutes)
        if style == "HH":
            assert a % 60 == 0
            s += "%s%02d" % (sign, a // 60)
        elif style == "HHMM":
            s += "%s%02d%02d" % (sign, a // 60, a % 60)
        else:
            s += "%s%02d:%02d" % (sign, a // 60, a % 60)
    return s.encode()


def random_ts(rng, sec, ns):
    sep = rng.choice([" ", " ", "T"])
    digits = rng.choice([0, 0, 3, 6, 6, 9, rng.randint(1, 9)])
    r = rng.random()
    if r < 0.3:
        zone = None
    elif r < 0.45:
        zone = "Z"
    elif r < 0.7:
        zone = (0, "HH")
    else:
        h = rng.randint(-12, 14)
        mins = rng.choice([0, 0, 30, 45])
        minutes = h * 60 + (mins if h >= 0 else -mins)
        style = rng.choice(["HHMM", "HH:MM"]) if mins else rng.choice(["HH", "HHMM", "HH:MM"])
        zone = (minutes, style)
    return ts_text(sec, ns, sep, digits, zone)


# ---------------------------------------------------------------- CSV writing

def quote(v, force=False):
    if force or any(c in v for c in (b",", b'"', b"\r", b"\n")):
        return b'"' + v.replace(b'"', b'""') + b'"'
    return v


def render(rows, cols, eol=b"\n", rng=None, force_p=0.0):
    """Bytes of a CSV file: header then rows (dicts name -> bytes).

    A row may carry '__raw__' {name: bytes written verbatim}, '__extra__'
    (number of extra fields) or '__drop__' (a column left out): the ways the
    tests break records on purpose.
    """
    out = [b",".join(c.encode() for c in cols) + eol]
    for row in rows:
        raw = row.get("__raw__", {})
        fields = []
        for c in cols:
            if c == row.get("__drop__"):
                continue
            if c in raw:
                fields.append(raw[c])
            else:
                force = rng is not None and force_p and rng.random() < force_p
                fields.append(quote(row.get(c, b""), force))
        fields += [b"x"] * row.get("__extra__", 0)
        out.append(b",".join(fields) + eol)
    return b"".join(out)


def gz(data, rng=None, members=1):
    """gzip, optionally as several members split at arbitrary byte offsets
    (possibly mid-record, possibly an empty member)."""
    if members <= 1 or rng is None:
        return gzip.compress(data, 6, mtime=0)
    cuts = sorted(rng.randint(0, len(data)) for _ in range(members - 1))
    parts, prev = [], 0
    for c in cuts + [len(data)]:
        parts.append(gzip.compress(data[prev:c], rng.choice([1, 6, 9]), mtime=0))
        prev = c
    return b"".join(parts)


def write(path, data):
    with open(path, "wb") as fh:
        fh.write(data)


def write_args(d, args):
    with open(os.path.join(d, "args"), "w", encoding="utf-8", newline="\n") as fh:
        for a in args:
            assert "\n" not in a
            fh.write(a + "\n")


def pools_csv(pools, eol=b"\n"):
    """pools: (stream, amount) with amount an int (base units) or the text to write."""
    out = [b"stream_id,pool" + eol]
    for s, p in pools:
        out.append(quote(s) + b"," + (p if isinstance(p, bytes) else str(p).encode()) + eol)
    return b"".join(out)


def token_text(rng, base, decimals):
    """A text of `base` base units as tokens of `decimals` decimals, in one of
    the spellings payrun must read exactly: plain, with extra zeros, or with
    an exponent as PostgreSQL prints a float8 (4.2e+19)."""
    q, r = divmod(base, 10**decimals)
    frac = ("%0*d" % (decimals, r)).rstrip("0") if decimals else ""
    form = rng.choice(["plain", "plain", "zeros", "exp"])
    if form == "exp" and base:
        digits = str(base)
        mant = digits[0] + ("." + digits[1:].rstrip("0") if digits[1:].rstrip("0") else "")
        return "%s%s%+d" % (mant, rng.choice("eE"), len(digits) - 1 - decimals)
    text = str(q) + ("." + frac if frac else "")
    if form == "zeros":
        text += ("" if frac else ".") + "0" * rng.randint(1, 4)
    return text


# ---------------------------------------------------------------- rows

SPELL_T = [b"t", b"true", b"1", b"T", b"TRUE", b"True", b"tRuE"]
SPELL_F = [b"f", b"false", b"0", b"F", b"FALSE", b"False", b"fAlSe"]


def json_blob(rng, multiline=False):
    parts = [b'"bitrate_kbps": %d' % rng.randint(800, 9000),
             b'"latency_ms": %d' % rng.randint(2, 900),
             b'"peers": [%s]' % b", ".join(b"%d" % rng.randint(1, 99) for _ in range(rng.randint(0, 3)))]
    if rng.random() < 0.2:
        parts.append(b'"note": "segment \\"%d\\", retried"' % rng.randint(1, 50))
    sep = b",\n  " if multiline else b", "
    return b"{" + sep.join(parts) + b"}"


def probe_row(rng, rid, stream, node, ptype, ok, ts, multiline_p=0.02, spell=True):
    row = {
        "id": b"%d" % rid,
        "stream_id": stream,
        "node_id": node,
        "probe_type": ptype,
        "success": (rng.choice(SPELL_T) if ok else rng.choice(SPELL_F)) if spell
        else (b"t" if ok else b"f"),
        "probe_timestamp": ts,
        "error_message": b"" if ok else rng.choice(
            [b"timeout after 5000ms", b"connection refused", b"hash mismatch, chunk 17",
             b'peer said "busy"', b""]),
        "response_data": json_blob(rng, rng.random() < multiline_p) if ok else b"",
    }
    return row


BAD_TS = [b"2026-11-01", b"2026-11-01 12:00", b"2026-11-01 12:00:00.", b"2026-11-01 12:00:00.1234567890",
          b"2026-13-01 12:00:00", b"2026-11-00 12:00:00", b"2026-02-29 12:00:00", b"2026-11-31 12:00:00",
          b"2026-11-01 24:00:00", b"2026-11-01 12:60:00", b"2026-11-01 12:00:00+1",
          b"2026-11-01 12:00:00 +00", b"2026-11-01  12:00:00", b"26-11-01 12:00:00",
          b"2026/11/01 12:00:00", b"yesterday", b"", b"2026-11-01 12:00:00+00:0", b"1793491200"]
BAD_KINDS = ["field_count", "bad_quote", "empty_stream_id", "empty_node_id", "stream_id_too_long",
             "node_id_too_long", "bad_probe_type", "bad_success", "bad_timestamp"]


def bad_row(rng, kind, rid, stream, node, ts, cols):
    """A row with exactly one fault of the given kind (all fields single-line)."""
    row = probe_row(rng, rid, stream, node, b"stats_poll", True, ts, multiline_p=0)
    row["__bad__"] = kind
    if kind == "field_count":
        if rng.random() < 0.5:
            row["__extra__"] = rng.choice([1, 2])
        else:
            row["__drop__"] = rng.choice(REQUIRED)       # every file has these
    elif kind == "bad_quote":
        col = rng.choice(["node_id", "stream_id"])
        val = b"oops%d" % rng.randint(0, 99)
        if rng.random() < 0.5:
            row["__raw__"] = {col: val[:1] + b'"' + val[1:]}         # quote inside unquoted
        else:
            row["__raw__"] = {col: b'"' + val + b'"x'}              # junk after closing quote
    elif kind == "empty_stream_id":
        row["stream_id"] = b""
        if rng.random() < 0.5:
            row["__raw__"] = {"stream_id": b'""'}
    elif kind == "empty_node_id":
        row["node_id"] = b""
    elif kind == "stream_id_too_long":
        row["stream_id"] = (stream + b"-" + b"L" * 300)[:256]
    elif kind == "node_id_too_long":
        row["node_id"] = "ñ".encode() * 128                        # 256 bytes
    elif kind == "bad_probe_type":
        row["probe_type"] = rng.choice([b"ping", b"stats_poll ", b"", b"spot-check", b"statspoll"])
    elif kind == "bad_success":
        row["success"] = rng.choice([b"yes", b"2", b"", b"tru", b" t", b"no", b"-1"])
    elif kind == "bad_timestamp":
        row["probe_timestamp"] = rng.choice(BAD_TS)
    else:
        raise ValueError(kind)
    return row


# ---------------------------------------------------------------- cases

AWKWARD_STREAMS = [b"a,b", b'say "hi"', b"line1\nline2", b"cr\r\nlf", b" padded ",
                   "ümlaut-Ωmega-流".encode(), b"S" * 255, ("é" * 127 + "x").encode(),
                   b'"', b",", b'""', b'"quoted"', b"plain", "🎥-stream".encode()]
AWKWARD_NODES = [b"node,1", b'node "2"', b"node\n3", b"tab\there", b"trailing ", " lead".encode(),
                 "nœud-ß".encode(), b"N" * 255, ("ж" * 127 + "z").encode(), b"'single'",
                 b"Node-A", b"node-a", b"#hash", b"\\back\\slash", "😀".encode()]


def case_awkward(d, seed=7):
    rng = random.Random(seed)
    rows, pairs, rid = [], set(), 0
    for s in AWKWARD_STREAMS:
        for n in rng.sample(AWKWARD_NODES, 6):
            for _ in range(rng.randint(1, 4)):
                rid += 1
                ok = rng.random() < 0.8
                ptype = b"stats_poll" if rng.random() < 0.8 else b"spot_check"
                ts = random_ts(rng, DAY0 + rng.randint(0, 86399), rng.randint(0, 10**9 - 1))
                rows.append(probe_row(rng, rid, s, n, ptype, ok, ts))
                pairs.add((s, n))
    rng.shuffle(rows)
    write(os.path.join(d, "probes.csv.gz"), gz(render(rows, PG_COLS, b"\n", rng, 0.2)))
    write(os.path.join(d, "pools.csv"),
          pools_csv([(s, rng.randint(0, 10**6)) for s in AWKWARD_STREAMS[::2]]
                    + [(b"listed,unseen", 77)]))
    with open(os.path.join(d, "expect_pairs"), "wb") as fh:   # hex stream \t hex node
        for s, n in sorted(pairs):
            fh.write(s.hex().encode() + b"\t" + n.hex().encode() + b"\n")
    write_args(d, ["--period", "2026-11-01", "--input", os.path.join(d, "probes.csv.gz"),
                   "--pools", os.path.join(d, "pools.csv"), "--default-pool", "1000"])


def case_boundary(d):
    """Day 2026-11-01; node id says whether the row must count."""
    rows = [
        ("in-start-plain", b"2026-11-01 00:00:00"),
        ("in-start-Z", b"2026-11-01T00:00:00Z"),
        ("in-start-frac9", b"2026-11-01 00:00:00.000000000+00"),
        ("in-last-ns", b"2026-11-01 23:59:59.999999999"),
        ("in-last-ns-Z", b"2026-11-01T23:59:59.999999999Z"),
        ("in-plus01-late", b"2026-11-02 00:59:59+01"),
        ("in-plus0530-late", b"2026-11-02 05:29:59.5+05:30"),
        ("in-minus04-start", b"2026-10-31 20:00:00-04"),
        ("in-minus0100-start", b"2026-10-31 23:00:00-0100"),
        ("in-minus1000-start", b"2026-10-31 14:00:00-10:00"),
        ("in-plus14", b"2026-11-02 13:59:59+14"),
        ("out-end-plain", b"2026-11-02 00:00:00"),
        ("out-end-Z", b"2026-11-02T00:00:00Z"),
        ("out-end-frac", b"2026-11-02 00:00:00.000000000Z"),
        ("out-before-ns", b"2026-10-31 23:59:59.999999999"),
        ("out-plus01-early", b"2026-11-01 00:59:59+01"),
        ("out-plus0001", b"2026-11-01 00:00:00+00:01"),
        ("out-minus01-late", b"2026-11-01 23:00:00-01"),
        ("out-minus0030-late", b"2026-11-01 23:30:00-00:30"),
        ("out-plus0530-end", b"2026-11-02 05:30:00+0530"),
        ("out-plus14", b"2026-11-01 12:00:00+14"),
    ]
    write_boundary(d, rows, ["--period", "2026-11-01"])


def case_boundary_hour(d):
    """Hour 2026-11-01T05 = [05:00Z, 06:00Z)."""
    rows = [
        ("in-start", b"2026-11-01 05:00:00"),
        ("in-start-T", b"2026-11-01T05:00:00+00:00"),
        ("in-last", b"2026-11-01T05:59:59.999999Z"),
        ("in-plus01", b"2026-11-01 06:59:59+01"),
        ("in-minus0430", b"2026-11-01 00:30:00-04:30"),
        ("in-prevday", b"2026-10-31 19:00:00-10"),
        ("out-end", b"2026-11-01 06:00:00"),
        ("out-before", b"2026-11-01 04:59:59.999999999Z"),
        ("out-plus0600", b"2026-11-01 10:59:59+0600"),
        ("out-minus01", b"2026-11-01 05:00:00-01"),
        ("out-other-day", b"2026-11-02 05:30:00"),
    ]
    write_boundary(d, rows, ["--period", "2026-11-01T05", "--period-length", "1h"])


def write_boundary(d, named, period_args):
    rng = random.Random(11)
    rows = []
    for k, (name, ts) in enumerate(named):
        rows.append(probe_row(rng, k + 1, b"edge", name.encode(), b"stats_poll", True, ts,
                              multiline_p=0, spell=False))
    write(os.path.join(d, "probes.csv"), render(rows, PG_COLS))
    with open(os.path.join(d, "expect_in"), "w") as fh:
        for name, _ in sorted(named):
            if name.startswith("in-"):
                fh.write(name + "\n")
    write_args(d, period_args + ["--input", os.path.join(d, "probes.csv"), "--default-pool", "1000"])


def good_day(rng, n, nodes=40, streams=6, start=DAY0, length=86400, rid0=0, out_p=0.0):
    sids = [b"stream-%02d" % i for i in range(streams)]
    nids = [b"node-%04d" % i for i in range(nodes)]
    rows = []
    for k in range(n):
        if rng.random() < out_p:
            sec = start + rng.choice([-1, 1]) * rng.randint(1, 3600) + (length if rng.random() < 0.5 else 0)
        else:
            sec = start + rng.randint(0, length - 1)
        ok = rng.random() < 0.85
        ptype = b"stats_poll" if rng.random() < 0.8 else b"spot_check"
        rows.append(probe_row(rng, rid0 + k + 1, rng.choice(sids), rng.choice(nids), ptype, ok,
                              random_ts(rng, sec, rng.randint(0, 10**9 - 1))))
    return rows, sids, nids


def case_rejects(d, seed=5, good=20000, per_kind=2):
    """Every reject kind, per_kind times, in a big enough day that the
    default ratio 0.001 is not exceeded (18 / 20018).  A few bad rows lie
    outside the period: they are still rejected."""
    rng = random.Random(seed)
    rows, sids, nids = good_day(rng, good, out_p=0.02)
    rid = len(rows)
    bad = []
    for kind in BAD_KINDS:
        for j in range(per_kind):
            rid += 1
            sec = DAY0 + (rng.randint(0, 86399) if j == 0 else 86400 + 3600)
            bad.append(bad_row(rng, kind, rid, rng.choice(sids), rng.choice(nids),
                               ts_text(sec, 0, " ", 0, (0, "HH")), PG_COLS))
    for r in bad:
        rows.insert(rng.randint(1, len(rows)), r)
    write(os.path.join(d, "probes.csv.gz"), gz(render(rows, PG_COLS, b"\n", rng, 0.05)))
    write_args(d, ["--period", "2026-11-01", "--input", os.path.join(d, "probes.csv.gz"),
                   "--default-pool", "123456789"])


def case_ratio(d, good, bad):
    """good valid rows then bad ones (bad_success), one file."""
    rng = random.Random(good * 31 + bad)
    rows, sids, nids = good_day(rng, good)
    for k in range(bad):
        r = bad_row(rng, "bad_success", good + k + 1, sids[0], nids[0],
                    ts_text(DAY0 + 60, 0), PG_COLS)
        rows.insert(rng.randint(1, len(rows)), r)
    write(os.path.join(d, "probes.csv"), render(rows, PG_COLS))
    write_args(d, ["--period", "2026-11-01", "--input", os.path.join(d, "probes.csv"),
                   "--default-pool", "1000"])


def case_random(d, seed):
    """A random settle case: its shape (sizes, formats, penalty, pools,
    period, bad rows) is drawn from the seed too."""
    rng = random.Random(seed)
    nrows = rng.choice([300, 1000, 2500, 4000, 6000]) if seed % 4 else 12000
    nnodes = rng.choice([1, 3, 20, 150, 400])
    nstreams = rng.choice([1, 2, 7, 25])
    hour = seed % 5 == 3
    if hour:
        start, length = DAY0 + 3600 * rng.randint(0, 23), 3600
        label = "2026-11-01T%02d" % ((start - DAY0) // 3600)
        period = ["--period", label, "--period-length", "1h"]
    else:
        start, length = DAY0, 86400
        period = ["--period", "2026-11-01"] + (["--period-length", "1d"] if rng.random() < 0.5 else [])

    def sid(i):
        if rng.random() < 0.1:
            return rng.choice(AWKWARD_STREAMS)
        return b"st-%03d" % i

    def nid(i):
        r = rng.random()
        if r < 0.05:
            return rng.choice(AWKWARD_NODES)
        if r < 0.15:
            return b"Node-%05d" % i
        return b"node-%05d" % i

    sids = sorted({sid(i) for i in range(nstreams)})
    nids = sorted({nid(i) for i in range(nnodes)})
    # Each stream has its own node subset, reliability and spot-check rate.
    members = {s: rng.sample(nids, max(1, int(len(nids) * rng.uniform(0.1, 1.0)))) for s in sids}
    rel = {n: rng.choice([0.0, 0.5, 0.9, 0.99, 1.0]) for n in nids}
    only_spot = set(rng.sample(sids, 1)) if len(sids) > 2 else set()
    out_p = rng.choice([0.0, 0.05, 0.3])
    rows = []
    probed = set()                      # streams with a valid probe in the period
    for k in range(nrows):
        s = rng.choice(sids)
        n = rng.choice(members[s])
        r = rng.random()
        if r < out_p:
            sec = start - rng.randint(1, 7200) if rng.random() < 0.5 else start + length + rng.randint(0, 7200)
            ns = rng.randint(0, 10**9 - 1)
        elif r < out_p + 0.01:
            sec, ns = rng.choice([(start, 0), (start + length, 0), (start + length - 1, 10**9 - 1),
                                  (start - 1, 10**9 - 1)])
        else:
            sec, ns = start + rng.randint(0, length - 1), rng.randint(0, 10**9 - 1)
        ptype = b"spot_check" if s in only_spot or rng.random() < 0.25 else b"stats_poll"
        ok = rng.random() < rel[n]
        rows.append(probe_row(rng, k + 1, s, n, ptype, ok, random_ts(rng, sec, ns)))
        if start <= sec < start + length:
            probed.add(s)
    nbad = rng.choice([0, 0, 3, 12])
    extra_cols = rng.random() < 0.5
    cols = list(PG_COLS) + (["extra_note", "zz"] if extra_cols else [])
    # Bad rows stay on one physical line, so their line number is unambiguous.
    single = [x for x in sids + nids if b"\n" not in x and b"\r" not in x] or [b"plain"]
    for k in range(nbad):
        kind = rng.choice(BAD_KINDS)
        rows.insert(rng.randint(0, len(rows)),
                    bad_row(rng, kind, nrows + k + 1, rng.choice(single), rng.choice(single),
                            random_ts(rng, start + rng.randint(0, length - 1), 0), cols))
    for row in rows:
        if extra_cols:
            row.setdefault("extra_note", rng.choice([b"", b"n/a", b"a,b", b'"q"', b"multi\nline"])
                           if "__bad__" not in row else b"n/a")
            row.setdefault("zz", b"%d" % rng.randint(0, 9))
    # Split into 1-3 files with their own column order, line ends, compression.
    nfiles = rng.choice([1, 1, 2, 3])
    cut = sorted(rng.randint(0, len(rows)) for _ in range(nfiles - 1))
    bounds = [0] + cut + [len(rows)]
    args = list(period)
    for f in range(nfiles):
        fcols = list(cols)
        if rng.random() < 0.5:
            rng.shuffle(fcols)
        if rng.random() < 0.3:          # drop the optional columns entirely
            fcols = [c for c in fcols if c in REQUIRED]
        eol = rng.choice([b"\n", b"\r\n"])
        data = render(rows[bounds[f]:bounds[f + 1]], fcols, eol, rng, rng.choice([0.0, 0.1]))
        kind = rng.choice(["plain", "gz", "multi"])
        name = os.path.join(d, "probes-%d.csv%s" % (f, "" if kind == "plain" else ".gz"))
        write(name, data if kind == "plain" else gz(data, rng, rng.randint(2, 6) if kind == "multi" else 1))
        args += ["--input", name]
    # Pools: some seen streams, some unseen; amounts small, tie-heavy or huge.
    total_budget = 2**63 - 1
    pools = []
    huge_used = False
    for s in sids + [b"unseen-%d" % i for i in range(rng.randint(0, 3))]:
        if rng.random() < 0.6:
            kind = rng.random()
            if kind < 0.2:
                p = 0
            elif kind < 0.5:
                p = rng.randint(1, 50)
            elif kind < 0.9 or huge_used:
                p = rng.randint(1, 10**12)
            else:
                p = rng.randint(2**61, 2**62)       # 128-bit products; once per case
                huge_used = True
            pools.append((s, p))
    default_pool = rng.choice([0, 0, 1, 999, 10**9 + 7])
    assert sum(p for _, p in pools) + default_pool * len(sids) < total_budget
    # Issue 9, from a second generator so that the cases above stay as they
    # were: a pool past 2^64 (up to 2^250) in some cases, and pools given in
    # tokens of 6 or 18 decimals in others (the same base units).
    rng9 = random.Random(seed * 7919 + 9)
    if pools and rng9.random() < 0.4:
        k = rng9.randrange(len(pools))
        pools[k] = (pools[k][0], rng9.randint(2**64, 2**250))
    decimals = rng9.choice([None, None, 6, 18])
    listed = {s for s, _ in pools}
    total = sum(p for _, p in pools) + default_pool * len(probed - listed)
    if decimals is not None:
        texts = [(s, token_text(rng9, p, decimals).encode()) for s, p in pools]
        default_text = token_text(rng9, default_pool, decimals)
        args += ["--token-decimals", str(decimals)]
    else:
        texts, default_text = pools, str(default_pool)
    with_file = bool(pools) or rng.random() < 0.5
    if with_file:
        write(os.path.join(d, "pools.csv"), pools_csv(texts, rng.choice([b"\n", b"\r\n"])))
        args += ["--pools", os.path.join(d, "pools.csv")]
    args += ["--default-pool", default_text]
    # Random pools may be all 0, or name none of the probed streams: settle
    # them anyway (the pools check has its own tests), the oracle alike.
    if total == 0 or (with_file and not listed & probed):
        args += ["--allow-zero-pools"]
    pf = rng.choice([None, "0", "1", "0.5", "0.25", "0.333333", "0.1", "0.999999", "0.000001", "0.75"])
    if pf is not None:
        args += ["--penalty-factor", pf]
    args += ["--max-reject-ratio", "0.5"]
    write_args(d, args)


def case_variants(d, seed=42):
    """The same rows written in several ways that must settle identically:
    base (LF, PostgreSQL column order, plain), crlf, shuffled (column order
    shuffled, decoy extra columns), quoted (every field and the header
    quoted), gzip, multi (multi-member gzip cut mid-record, with an empty
    member), two (two inputs: gzip LF + plain CRLF shuffled), two_plain (two
    plain inputs, same columns)."""
    rng = random.Random(seed)
    sids = [b"st-a", b"st,b", "st-ü".encode(), b"st\nd", b"ST-e"]
    nids = [b"node-%02d" % i for i in range(30)] + [b"n,1", b'n"2', b"n\r\n3"]
    rows = []
    for k in range(3000):
        s = rng.choice(sids)
        n = rng.choice(nids)
        sec = DAY0 + rng.randint(-3000, 86400 + 3000)
        ptype = b"stats_poll" if rng.random() < 0.75 else b"spot_check"
        rows.append(probe_row(rng, k + 1, s, n, ptype, rng.random() < 0.8,
                              random_ts(rng, sec, rng.randint(0, 10**9 - 1)), multiline_p=0.05))
    decoy = list(PG_COLS) + ["success_rate", "stream", "node", "region"]
    for r in rows:
        r["success_rate"] = b"0.5"
        r["stream"] = b"decoy"
        r["node"] = b"decoy,node"
        r["region"] = rng.choice([b"eu", b"us-east", b'"quoted"', b"multi\nline"])
    common = ["--period", "2026-11-01", "--default-pool", "1000003", "--penalty-factor", "0.3"]
    shuffled = list(decoy)
    rng.shuffle(shuffled)
    plain_lf = render(rows, PG_COLS)

    def emit(name, files):
        sub = os.path.join(d, name)
        os.makedirs(sub, exist_ok=True)
        args = list(common)
        for fname, data in files:
            write(os.path.join(sub, fname), data)
            args += ["--input", os.path.join(sub, fname)]
        write_args(sub, args)

    emit("base", [("probes.csv", plain_lf)])
    emit("crlf", [("probes.csv", render(rows, PG_COLS, b"\r\n"))])
    emit("shuffled", [("probes.csv", render(rows, shuffled, b"\n", rng, 0.1))])
    quoted = render(rows, PG_COLS, b"\n", rng, 1.0)
    qhead = b",".join(b'"%s"' % c.encode() for c in PG_COLS) + b"\n"
    emit("quoted", [("probes.csv", qhead + quoted.split(b"\n", 1)[1])])
    emit("gzip", [("probes.csv.gz", gz(plain_lf))])
    # multi-member: cut inside the header, mid-record and mid-quoted-field, plus an empty member.
    cuts = [5, len(plain_lf) // 3, plain_lf.index(b'{"', len(plain_lf) // 2) + 3, len(plain_lf) // 2 + 1]
    cuts = sorted(set(cuts))
    parts, prev = [], 0
    for c in cuts + [len(plain_lf)]:
        parts.append(gzip.compress(plain_lf[prev:c], 6, mtime=0))
        prev = c
    parts.insert(2, gzip.compress(b"", 6, mtime=0))
    emit("multi", [("probes.csv.gz", b"".join(parts))])
    half = len(rows) // 2
    emit("two", [("part1.csv.gz", gz(render(rows[:half], PG_COLS))),
                 ("part2.csv", render(rows[half:], shuffled, b"\r\n", rng, 0.1))])
    emit("two_plain", [("part1.csv", render(rows[:half], PG_COLS)),
                       ("part2.csv", render(rows[half:], PG_COLS))])


def case_idlen(d):
    """Ids of 255 bytes are fine, 256 are rejected (bytes, not characters)."""
    rng = random.Random(255)
    s255, s256 = b"s" * 255, b"s" * 256
    u255 = ("é" * 127 + "x").encode()          # 255 bytes, 128 characters
    u256 = ("é" * 128).encode()                # 256 bytes, 128 characters
    n255, n256 = b"n" * 255, b"n" * 256
    good = [(s255, n255), (u255, b"node-1"), (b"short", u255), (s255, b"node-2")]
    bad = [(s256, b"node-1", "stream_id_too_long"), (u256, b"node-1", "stream_id_too_long"),
           (b"short", n256, "node_id_too_long"), (b"short", u256, "node_id_too_long")]
    # The good rows span the whole day (00:00:00 to 23:59:59), as an export
    # does: the edge_gap check has nothing to say about this case.
    rows, rid = [], 0
    nrows = len(good) * 3 + len(bad)
    for s, n in good * 3:
        rows.append(probe_row(rng, rid + 1, s, n, b"stats_poll", True,
                              ts_text(DAY0 + rid * 86399 // (len(good) * 3 - 1)), multiline_p=0))
        rid += 1
    for s, n, _ in bad:
        rid += 1
        rows.append(probe_row(rng, rid, s, n, b"stats_poll", True, ts_text(DAY0 + rid * 86399 // nrows),
                              multiline_p=0))
    write(os.path.join(d, "probes.csv"), render(rows, PG_COLS))
    with open(os.path.join(d, "expect_pairs"), "wb") as fh:
        for s, n in sorted(set(good)):
            fh.write(s.hex().encode() + b"\t" + n.hex().encode() + b"\n")
    with open(os.path.join(d, "expect_reasons"), "w") as fh:
        fh.write('{"stream_id_too_long": 2, "node_id_too_long": 2}\n')
    write_args(d, ["--period", "2026-11-01", "--input", os.path.join(d, "probes.csv"),
                   "--default-pool", "100", "--max-reject-ratio", "0.5"])


def case_pools(d):
    """Pools file semantics.  s-listed: pool from the file; s-zero: listed
    with 0; s-default: not listed, --default-pool; s-unseen: listed, no
    probes; s-outside: listed, probes only outside the period; s-spot:
    listed, only spot checks (W = 0)."""
    rng = random.Random(99)
    rows, rid = [], 0

    def add(stream, node, ptype, ok, sec):
        nonlocal rid
        rid += 1
        rows.append(probe_row(rng, rid, stream, node, ptype, ok, ts_text(sec), multiline_p=0))

    # Every 2215 s from 00:00:00 to 23:59:45: the probes cover the day.
    for k in range(40):
        n = b"node-%d" % (k % 7)
        add(b"s-listed", n, b"stats_poll", k % 3 != 0, DAY0 + 2215 * k)
        add(b"s-zero", n, b"stats_poll", True, DAY0 + 2215 * k)
        add(b"s-default", n, b"stats_poll", k % 5 != 0, DAY0 + 2215 * k)
        add(b"s-spot", n, b"spot_check", k % 2 == 0, DAY0 + 2215 * k)
        add(b"s-outside", n, b"stats_poll", True, DAY0 - 100 * k - 1)
        add(b"s-listed", n, b"spot_check", k % 4 != 0, DAY0 + 2215 * k + 7)
    write(os.path.join(d, "probes.csv"), render(rows, PG_COLS))
    write(os.path.join(d, "pools.csv"), pools_csv([
        (b"s-listed", 1000000007), (b"s-zero", 0), (b"s-unseen", 5555), (b"s-outside", 4242),
        (b"s-spot", 1000)], b"\r\n"))
    # prefixes of streams.csv rows (without the period columns) that must be there
    with open(os.path.join(d, "expect_streams"), "w") as fh:
        fh.write("s-default,777,7,\ns-outside,4242,0,0,0,0,4242\ns-spot,1000,7,0,0,0,1000\n"
                 "s-unseen,5555,0,0,0,0,5555\ns-zero,0,7,40,0,0,0\n")
    write_args(d, ["--period", "2026-11-01", "--input", os.path.join(d, "probes.csv"),
                   "--pools", os.path.join(d, "pools.csv"), "--default-pool", "777"])


def case_pool_max(d, pool=2**256 - 1):
    """One stream with a large pool, by default the largest, 2^256 - 1:
    pool * S needs 320 bits.  The probes cover the day (every 173 s)."""
    rng = random.Random(63)
    rows = []
    for k in range(500):
        n = b"node-%02d" % rng.randint(0, 40)
        rows.append(probe_row(rng, k + 1, b"big", n, rng.choice([b"stats_poll"] * 3 + [b"spot_check"]),
                              rng.random() < 0.9, ts_text(DAY0 + k * 173), multiline_p=0))
    write(os.path.join(d, "probes.csv"), render(rows, PG_COLS))
    write(os.path.join(d, "pools.csv"), pools_csv([(b"big", pool)]))
    write_args(d, ["--period", "2026-11-01", "--input", os.path.join(d, "probes.csv"),
                   "--pools", os.path.join(d, "pools.csv"), "--penalty-factor", "0.000001"])


def case_parts(d, count, seed=17):
    """count distinct exports of one day (part-K.csv.gz, 1000 rows each,
    covering the day), with disjoint ids: inputs that are not the same
    export, as the tests of several files need now that one given twice is
    refused."""
    rng = random.Random(seed)
    for k in range(count):
        rows, _, _ = good_day(rng, 1000, rid0=100000 * (k + 1))
        write(os.path.join(d, "part-%d.csv.gz" % k), gz(render(rows, PG_COLS)))


def case_overlap(d, seed=23):
    """Overlapping exports of one day.  full.csv.gz is the complete export
    (3000 rows, ids 1..3000 in file order, a few bad rows); part-a.csv holds
    its rows 1..1800, part-b.csv.gz rows 1201..3000 (other column order,
    CRLF), part-c.csv rows 601..900 (all inside part-a).  The union is the
    full export, so payrun must settle a+b (and a+b+c, c+a+b) exactly as
    full.  One row of the a/b overlap is changed in part-b (its node id):
    the first copy in input order counts, so b+a settles differently from
    a+b.  expect_dup_ab, expect_dup_abc: the duplicate counts (every valid
    row of an overlap, in the period or not)."""
    rng = random.Random(seed)
    rows, _, _ = good_day(rng, 3000, out_p=0.02)
    for k in rng.sample(range(3000), 12):      # bad rows, some in the overlaps
        r = rows[k]
        rows[k] = bad_row(rng, rng.choice(["bad_success", "bad_probe_type", "bad_timestamp"]),
                          k + 1, r["stream_id"], r["node_id"], r["probe_timestamp"], PG_COLS)
    good = [("__bad__" not in r) for r in rows]
    write(os.path.join(d, "full.csv.gz"), gz(render(rows, PG_COLS)))
    a, b, c = rows[:1800], [dict(r) for r in rows[1200:]], rows[600:900]
    changed = next(i for i in range(1200, 1800) if good[i])
    b[changed - 1200]["node_id"] = b"node-from-b"
    shuffled = list(PG_COLS)
    rng.shuffle(shuffled)
    write(os.path.join(d, "part-a.csv"), render(a, PG_COLS))
    write(os.path.join(d, "part-b.csv.gz"), gz(render(b, shuffled, b"\r\n", rng, 0.2)))
    write(os.path.join(d, "part-c.csv"), render(c, PG_COLS, b"\n", rng, 1.0))
    with open(os.path.join(d, "expect_dup_ab"), "w") as fh:
        fh.write("%d\n" % sum(good[1200:1800]))
    with open(os.path.join(d, "expect_dup_abc"), "w") as fh:
        fh.write("%d\n" % (sum(good[1200:1800]) + sum(good[600:900])))
    write(os.path.join(d, "pools.csv"), pools_csv([(b"stream-%02d" % i, 10**6 * (i + 1)) for i in range(6)]))


BAD_IDS = [b"+8", b"-1", b"-0", b" 9", b"9 ", b"10.0", b"1e1", b"0x10", b"", b"abc", b"1_000",
           b"9223372036854775808", b"18446744073709551616", b"99999999999999999999999"]


def case_badid(d, seed=31):
    """Ids in an export with an id column: whole numbers 0 .. 2^63 - 1 are
    fine (quoted, 0, 2^63 - 1; 000123 is id 123, a duplicate of the row with
    id 123, whichever comes first); anything else is bad_id, but
    only for a row that passed every other check (a bad success with a bad id
    is bad_success).  A repeated id after a bad row with that id still counts
    (a rejected row registers no id).  ids.csv has the id column last;
    noid.csv, without one, repeats ids.csv's rows, not deduplicated.  Every
    file covers the day."""
    rng = random.Random(seed)
    base, _, _ = good_day(rng, 400)
    rows = []
    for k, r in enumerate(base):
        r["id"] = b"%d" % (k + 1)
        rows.append(r)
    want = {}

    def add(rid, reason=None, **kw):
        r = probe_row(rng, 0, b"stream-01", b"node-%04d" % rng.randint(0, 39), b"stats_poll", True,
                      ts_text(DAY0 + rng.randint(0, 86399)), multiline_p=0)
        r["id"] = rid
        r.update(kw)
        rows.insert(rng.randint(0, len(rows)), r)
        if reason:
            want[reason] = want.get(reason, 0) + 1
        return r

    for bid in BAD_IDS:
        add(bid, "bad_id")
    add(b"000123")                              # 123: fine once
    add(b"9223372036854775807")                 # 2^63 - 1
    add(b"0")
    add(b"x", "bad_success", success=b"maybe")  # success before id
    add(b"-5", "bad_timestamp", probe_timestamp=b"yesterday")
    add(b"777777", "bad_success", success=b"maybe")   # rejected: registers no id
    add(b"777777")                                    # so this one counts
    cols = [c for c in PG_COLS if c != "id"] + ["id"]
    write(os.path.join(d, "ids.csv"), render(rows, cols, b"\n", rng, 0.3))
    noid = [dict(r) for r in base[:200]]
    write(os.path.join(d, "noid.csv.gz"), gz(render(noid, [c for c in PG_COLS if c != "id"])))
    with open(os.path.join(d, "expect_reasons"), "w") as fh:
        fh.write(json_text(want) + "\n")
    write_args(d, ["--period", "2026-11-01", "--input", os.path.join(d, "ids.csv"),
                   "--input", os.path.join(d, "noid.csv.gz"), "--default-pool", "100000",
                   "--max-reject-ratio", "0.2"])


def json_text(obj):
    return "{" + ", ".join('"%s": %d' % (k, v) for k, v in sorted(obj.items())) + "}"


def case_tokens(d, seed=18):
    """A day of 4 streams settled with pools of 18-decimal tokens: pools.csv
    has 42, 2500000.123456789012345678 and 4.2e+1 tokens, --default-pool
    0.5 for the unlisted one; pools-base.csv the same pools in base units
    for --token-decimals 0 (args-base)."""
    rng = random.Random(seed)
    rows, sids, _ = good_day(rng, 2000, streams=4)
    write(os.path.join(d, "probes.csv.gz"), gz(render(rows, PG_COLS)))
    write(os.path.join(d, "pools.csv"), pools_csv([
        (sids[0], b"42"), (sids[1], b"2500000.123456789012345678"), (sids[2], b"4.2e+1")]))
    write(os.path.join(d, "pools-base.csv"), pools_csv([
        (sids[0], 42 * 10**18), (sids[1], 2500000123456789012345678), (sids[2], 42 * 10**18)]))
    common = ["--period", "2026-11-01", "--input", os.path.join(d, "probes.csv.gz"),
              "--penalty-factor", "0.25"]
    write_args(d, common + ["--pools", os.path.join(d, "pools.csv"), "--token-decimals", "18",
                            "--default-pool", "0.5"])
    os.makedirs(os.path.join(d, "base"), exist_ok=True)
    write_args(os.path.join(d, "base"), common + ["--pools", os.path.join(d, "pools-base.csv"),
                                                  "--default-pool", "500000000000000000"])


def case_huge(d, seed=256):
    """A day of 3 streams, with pools files near 2^256: pools-ok.csv adds up
    to 2^256 - 2 (each pool past 2^64), pools-max.csv to exactly 2^256 - 1,
    pools-over.csv to 2^256 (refused); pools-one.csv lists 2 of them with
    2^256 - 1 and 0, so that a default pool of 1 for the third is too much."""
    rng = random.Random(seed)
    rows, sids, _ = good_day(rng, 3000, streams=3, nodes=60)
    write(os.path.join(d, "probes.csv.gz"), gz(render(rows, PG_COLS)))
    t = 2**256
    sets = {"ok": [2**254 + 12345, 2**254 - 1, 2**255 - 12345 - 1],
            "max": [2**255, 2**254, 2**254 - 1],
            "over": [2**255, 2**254, 2**254]}
    for name, amounts in sets.items():
        assert sum(amounts) == {"ok": t - 2, "max": t - 1, "over": t}[name]
        write(os.path.join(d, "pools-%s.csv" % name), pools_csv(list(zip(sids, amounts))))
    write(os.path.join(d, "pools-one.csv"), pools_csv([(sids[0], t - 1), (sids[1], 0)]))
    write_args(d, ["--period", "2026-11-01", "--input", os.path.join(d, "probes.csv.gz"),
                   "--pools", os.path.join(d, "pools-ok.csv"), "--penalty-factor", "0.333333"])


def case_big(path, copies, seed=3):
    """A multi-member gzip of `copies` identical members (10,000 rows each,
    header only in the first): a long-running input made cheaply."""
    rng = random.Random(seed)
    rows, _, _ = good_day(rng, 10000, nodes=20, streams=2)
    for r in rows:                      # low entropy: compresses well
        r["response_data"] = b""
        r["error_message"] = b""
    # No id column: the copies repeat the same rows, which with ids would be
    # duplicates (skipped); these tests want every row aggregated.
    body = render(rows, [c for c in PG_COLS if c != "id"])
    header, rest = body.split(b"\n", 1)
    first = gzip.compress(header + b"\n" + rest, 1, mtime=0)
    member = gzip.compress(rest, 1, mtime=0)
    with open(path, "wb") as fh:
        fh.write(first)
        for _ in range(copies - 1):
            fh.write(member)


def case_demo(d):
    """The fixture day for `make demo`: a realistic PostgreSQL COPY export
    of 2026-11-01 (t/f booleans, +00 timestamps with microseconds, JSON
    response_data), plus a few minutes either side and a handful of bad rows
    (well under the default reject ratio)."""
    rng = random.Random(20261101)
    streams = [b"live-%s" % rng.getrandbits(48).to_bytes(6, "big").hex().encode() for _ in range(5)]
    nodes = [b"relay-%s" % rng.getrandbits(32).to_bytes(4, "big").hex().encode() for _ in range(48)]
    nodes[7] = "relay-zürich-01".encode()
    nodes[8] = b"relay-7,eu"                         # a comma: quoted in every CSV
    rel = {n: rng.choice([0.6, 0.9, 0.97, 0.99, 0.999, 1.0]) for n in nodes}
    events = []
    for si, s in enumerate(streams):
        picked = rng.sample(nodes, rng.randint(12, 20)) + ([nodes[7], nodes[8]] if si == 0 else [])
        for n in dict.fromkeys(picked):
            t = DAY0 - rng.randint(0, 600)
            while t < DAY0 + 86400 + 300:           # stats_poll every ~5 minutes
                events.append((t * 10**6 + rng.randint(0, 999999), s, n, b"stats_poll"))
                t += 300 + rng.randint(-20, 20)
            for _ in range(rng.randint(8, 30)):     # random spot checks
                events.append(((DAY0 + rng.randint(0, 86399)) * 10**6 + rng.randint(0, 999999),
                               s, n, b"spot_check"))
    events.sort()
    rows = []
    for k, (us, s, n, ptype) in enumerate(events):
        ok = rng.random() < rel[n]
        ts = ts_text(us // 10**6, (us % 10**6) * 1000, " ", 6, (0, "HH"))
        row = probe_row(rng, 1000000 + k, s, n, ptype, ok, ts, multiline_p=0.005, spell=False)
        rows.append(row)
    for kind in ["bad_timestamp", "bad_success", "field_count", "empty_node_id", "bad_probe_type",
                 "bad_timestamp", "field_count"]:
        i = rng.randint(1, len(rows) - 1)
        r = rows[i]
        bad = bad_row(rng, kind, int(r["id"]), r["stream_id"], r["node_id"], r["probe_timestamp"], PG_COLS)
        if kind != "bad_success":
            bad["success"] = b"t"                   # PostgreSQL writes t/f
        rows.insert(i, bad)
    write(os.path.join(d, "probes-2026-11-01.csv.gz"), gzip.compress(render(rows, PG_COLS), 9, mtime=0))
    pools = [(s, p) for s, p in zip(streams, [1_000_000_000, 250_000_000, 77_777_777, 5_000_000, 1])]
    pools.append((b"live-offline-channel", 40_000_000))
    write(os.path.join(d, "pools.csv"), pools_csv(pools))
    sys.stderr.write("demo: %d rows, %d streams, %d nodes\n" % (len(rows), len(streams), len(nodes)))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("case")
    p.add_argument("--out", required=True)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--copies", type=int, default=100)
    p.add_argument("--good", type=int, default=1000)
    p.add_argument("--bad", type=int, default=1)
    p.add_argument("--count", type=int, default=3)
    p.add_argument("--pool", type=int, default=2**256 - 1)
    a = p.parse_args()
    if a.case == "big":
        case_big(a.out, a.copies)
        return
    os.makedirs(a.out, exist_ok=True)
    d = os.path.abspath(a.out)
    if a.case == "demo":
        case_demo(d)
    elif a.case == "random":
        case_random(d, a.seed)
    elif a.case == "awkward":
        case_awkward(d)
    elif a.case == "boundary":
        case_boundary(d)
    elif a.case == "boundary-hour":
        case_boundary_hour(d)
    elif a.case == "rejects":
        case_rejects(d)
    elif a.case == "variants":
        case_variants(d)
    elif a.case == "idlen":
        case_idlen(d)
    elif a.case == "pools":
        case_pools(d)
    elif a.case == "pool-max":
        case_pool_max(d, a.pool)
    elif a.case == "parts":
        case_parts(d, a.count)
    elif a.case == "overlap":
        case_overlap(d)
    elif a.case == "badid":
        case_badid(d)
    elif a.case == "tokens":
        case_tokens(d)
    elif a.case == "huge":
        case_huge(d)
    elif a.case == "ratio":
        case_ratio(d, a.good, a.bad)
    else:
        sys.exit("unknown case '%s'" % a.case)


if __name__ == "__main__":
    main()
