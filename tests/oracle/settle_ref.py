#!/usr/bin/env python3
"""settle_ref.py: an independent reference implementation of `payrun settle`.

Written from the text of the issues only (issue 2, and issue 9 for the
amounts, checks and duplicates; never from payrun's C sources), so that the
end-to-end tests can compare payrun's ledger.csv and streams.csv with a
second, deliberately simple implementation byte for byte.

    settle_ref.py --period LABEL [--period-length 1d|1h] --input F [--input F ...]
                  [--pools F] [--default-pool N] [--token-decimals N]
                  [--penalty-factor F] [--max-reject-ratio R]
                  [--max-edge-gap DURATION] [--allow-empty] [--allow-zero-pools]
                  [--rejects FILE] --out DIR

writes DIR/ledger.csv and DIR/streams.csv and prints one JSON object on
stdout: the counts (rows_read, in_period, out_of_period, rejected,
duplicate, rejected_by_reason), and once the ledger is computed streams,
ledger_rows, distinct_nodes, period_start, period_end, pool, paid,
forfeited, unallocated (integers of base units); also probes (first, last,
longest_gap_s, gap_resolution_s, as payrun's manifest), checks ({name:
{status, ...}} as payrun's manifest: has_probes, edge_gap, pools), overrides
(the overrides used, as a run log line lists them), refused (the check that
refused the period, or null), inputs ([{path, rows, bytes, sha256}]),
default_pool and token_decimals.  With --rejects FILE it also writes the
rejects it found (file,line,reason,record; line = physical line where the
record starts, record = raw bytes without the line terminator, cut at 1 KiB).

Exit status mirrors payrun: 0 ok, 2 usage (a bad option value: a default
pool with more decimals than --token-decimals, a bad --max-edge-gap), 3
input data error, then no ledger is written: a missing file, bad gzip, a
header without a required column, an unterminated quote at EOF, a bad or
repeated pool, the same input given twice (the same file under two names,
or two files of the same bytes), rejected / rows read above
--max-reject-ratio (default 0.001; the rejects and the counts are still
written), a refusal check, or pools adding up past 2^256 - 1.

The rules of issue 9:
  - Amounts are exact integers of base units up to 2^256 - 1.  With
    --token-decimals N (0..36) a pool or the default pool is a number of
    tokens, DIGITS[.DIGITS][e[+-]DIGITS], with at most N fractional digits
    once the exponent is applied (extra zero digits are fine).
  - In an export with an id column, a row that passed every other check is
    rejected as bad_id when its id is not a whole number 0..2^63-1; then a
    row whose id was seen before (in this file or an earlier one, in input
    order) is skipped and counted as duplicate; only then in or out of the
    period.  rows_read = in_period + out_of_period + rejected + duplicate.
  - Refusal checks, in this order: has_probes (no in-period probe;
    --allow-empty), edge_gap (the first probe more than max_edge_gap after
    the start, or the last more than that before the end: lead = first -
    start, trail = end - 1 - last, whole seconds; default 1h for a day, 5m
    for an hour; 0 turns it off), pools (the period's total pool is 0, or a
    pools file is given that names none of the streams with probes;
    --allow-zero-pools).

Everything is done on bytes: ids come out exactly as they went in.  The CSV
dialect is parsed by a small strict RFC 4180 scanner (quote in an unquoted
field, or anything but a comma or line end after a closing quote, is
`bad_quote`); every record it accepts is re-parsed with the standard csv
module as a cross-check.  All payout arithmetic is on Python integers.
"""

import argparse
import csv
import gzip
import hashlib
import io
import json
import os
import re
import sys
import zlib
from fractions import Fraction

REQUIRED = (b"stream_id", b"node_id", b"probe_type", b"success", b"probe_timestamp")
MAX_ID = 255
MAX_POOL = 2**256 - 1                 # uint256: amounts of token base units
MAX_PROBE_ID = 2**63 - 1              # ids are bigint
MAX_DECIMALS = 36
MAX_EDGE_GAP = 366 * 86400            # the oracle's own bound on --max-edge-gap
RAW_CUT = 1024


class DataError(Exception):
    """An input problem that aborts the run (payrun exit 3)."""


class UsageError(Exception):
    """A bad option value (payrun exit 2)."""


# ---------------------------------------------------------------- calendar

def is_leap(y):
    return y % 4 == 0 and (y % 100 != 0 or y % 400 == 0)


def days_in_month(y, m):
    if m == 2:
        return 29 if is_leap(y) else 28
    return 30 if m in (4, 6, 9, 11) else 31


def days_from_civil(y, m, d):
    """Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant)."""
    y -= m <= 2
    era = (y if y >= 0 else y - 399) // 400
    yoe = y - era * 400
    doy = (153 * (m + (-3 if m > 2 else 9)) + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


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


def fmt_utc(sec):
    days, rem = divmod(sec, 86400)
    y, m, d = civil_from_days(days)
    return "%04d-%02d-%02dT%02d:%02d:%02dZ" % (y, m, d, rem // 3600, rem // 60 % 60, rem % 60)


# ---------------------------------------------------------------- timestamps

TS_RE = re.compile(
    rb"(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})"
    rb"(?:\.(\d{1,9}))?"
    rb"(Z|[+-]\d{2}(?::?\d{2})?)?")


def parse_timestamp(b):
    """Nanoseconds since the epoch (UTC), or None when the value is bad."""
    m = TS_RE.fullmatch(b)
    if not m:
        return None
    y, mo, d, h, mi, s = (int(x) for x in m.group(1, 2, 3, 4, 5, 6))
    if not (1 <= mo <= 12 and 1 <= d <= days_in_month(y, mo)):
        return None
    if h > 23 or mi > 59 or s > 59:
        return None
    frac = m.group(7) or b""
    ns = int(frac.ljust(9, b"0")) if frac else 0
    off = 0
    zone = m.group(8)
    if zone and zone != b"Z":
        sign = -1 if zone[:1] == b"-" else 1
        digits = zone[1:].replace(b":", b"")
        oh = int(digits[:2])
        om = int(digits[2:4]) if len(digits) > 2 else 0
        if oh > 23 or om > 59:
            return None
        off = sign * (oh * 3600 + om * 60)
    sec = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s - off
    return sec * 10**9 + ns


def parse_period(label, length):
    """(start, end) in seconds since the epoch for a period label."""
    m = re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}))?", label)
    if not m:
        raise UsageError("malformed period label '%s'" % label)
    y, mo, d = int(m.group(1)), int(m.group(2)), int(m.group(3))
    if not (1 <= mo <= 12 and 1 <= d <= days_in_month(y, mo)):
        raise UsageError("malformed period label '%s'" % label)
    hour = m.group(4)
    if length is None:
        length = "1h" if hour is not None else "1d"
    if length == "1d":
        if hour is not None:
            raise UsageError("period label '%s' is not a day" % label)
        start = days_from_civil(y, mo, d) * 86400
        return start, start + 86400
    if length == "1h":
        if hour is None or int(hour) > 23:
            raise UsageError("period label '%s' is not an hour" % label)
        start = days_from_civil(y, mo, d) * 86400 + int(hour) * 3600
        return start, start + 3600
    raise UsageError("bad period length '%s'" % length)


def parse_penalty(text):
    """(a, b): 1 - f as a reduced fraction; f a decimal in [0, 1], <= 6 decimals."""
    m = re.fullmatch(r"(\d+)(?:\.(\d{1,6}))?", text)
    if not m:
        raise UsageError("bad penalty factor '%s'" % text)
    f = Fraction(int(m.group(1) + (m.group(2) or "").ljust(6, "0")), 10**6)
    if f > 1:
        raise UsageError("penalty factor '%s' is above 1" % text)
    keep = 1 - f
    return keep.numerator, keep.denominator


AMOUNT_RE = re.compile(r"([0-9]+)(?:\.([0-9]+))?(?:[eE]([+-]?[0-9]+))?")


def tokens_to_base(text, decimals):
    """(base units, None) of a number of tokens, or (None, why not).

    text is DIGITS[.DIGITS][e[+-]DIGITS]; its value times 10^decimals must
    be a whole number (so zeros past the token's decimals are fine) and at
    most 2^256 - 1.  Exact: the digits are an integer M and the value is
    M * 10^e10 for an integer e10, never a float."""
    m = AMOUNT_RE.fullmatch(text)
    if not m:
        return None, "not a non-negative decimal number"
    whole, frac, exp = m.group(1), m.group(2) or "", m.group(3) or "0"
    digits = (whole + frac).lstrip("0")
    if not digits:
        return 0, None                     # zero, whatever its exponent
    exp_digits = exp.lstrip("+-").lstrip("0") or "0"
    if len(exp_digits) > 12:               # far past any digit count: saturate
        e = (1 if exp[0] != "-" else -1) * 10**12
    else:
        e = int(exp)
    e10 = e - len(frac) + decimals
    if e10 >= 0:
        if len(digits) + e10 > 78:         # 2^256 - 1 has 78 digits
            return None, "more than 2^256 - 1 base units"
        v = int(digits) * 10**e10
    else:
        kept = digits.rstrip("0")
        if len(digits) - len(kept) < -e10:
            return None, "more fractional digits than the token's decimals"
        v = int(digits[:len(digits) + e10])
    if v > MAX_POOL:
        return None, "more than 2^256 - 1 base units"
    return v, None


def parse_default_pool(text, decimals):
    v, why = tokens_to_base(text, decimals)
    if why:
        raise UsageError("bad default pool '%s' with %d token decimals: %s" % (text, decimals, why))
    return v


def parse_decimals(text):
    if not re.fullmatch(r"[0-9]{1,3}", text) or int(text) > MAX_DECIMALS:
        raise UsageError("bad token decimals '%s' (0 to %d)" % (text, MAX_DECIMALS))
    return int(text)


def parse_duration(text):
    """Seconds of a DURATION: digits with an optional unit s, m, h or d."""
    m = re.fullmatch(r"([0-9]{1,12})([smhd]?)", text)
    if not m:
        raise UsageError("bad max edge gap '%s'" % text)
    v = int(m.group(1)) * {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}[m.group(2)]
    if v > MAX_EDGE_GAP:
        raise UsageError("max edge gap '%s' is more than 366 days" % text)
    return v


# ---------------------------------------------------------------- input

def read_input(path, with_raw=False):
    """The decompressed bytes of one input (gzip by magic, possibly
    multi-member); with_raw: (those, the file's own bytes)."""
    try:
        with open(path, "rb") as fh:
            data = fh.read()
    except OSError as e:
        raise DataError("could not open '%s': %s" % (path, e.strerror))
    if with_raw:
        return read_input_bytes(data, path), data
    return read_input_bytes(data, path)


def read_input_bytes(data, path):
    if data[:2] != b"\x1f\x8b":
        return data
    # Decompress member by member with zlib so that a truncated or corrupt
    # stream is always an error (gzip.decompress would be fine too, but this
    # is explicit about trailing data).
    out = []
    rest = data
    while rest:
        if rest[:2] != b"\x1f\x8b":
            raise DataError("'%s': trailing garbage after gzip member" % path)
        d = zlib.decompressobj(wbits=31)
        try:
            out.append(d.decompress(rest))
            out.append(d.flush())
        except zlib.error as e:
            raise DataError("'%s': corrupt gzip stream: %s" % (path, e))
        if not d.eof:
            raise DataError("'%s': truncated gzip stream" % path)
        rest = d.unused_data
    joined = b"".join(out)
    # Second opinion from the gzip module (multi-member aware).
    try:
        assert gzip.decompress(data) == joined
    except (EOFError, OSError, zlib.error) as e:
        raise DataError("'%s': bad gzip stream: %s" % (path, e))
    return joined


FIELD_END = re.compile(rb"[,\n]")


def scan_records(data, path):
    """Yield (start_line, raw, fields, reason) for each CSV record in data.

    fields is a list of bytes (None when the record is malformed); reason is
    None or 'bad_quote'.  raw excludes the line terminator.  An unterminated
    quoted field at end of input raises DataError.
    """
    n = len(data)
    i = 0
    line = 1
    while i < n:
        start, start_line = i, line
        fields = []
        reason = None
        while True:                       # one field per iteration
            if i < n and data[i] == 0x22:  # quoted field
                i += 1
                parts = []
                while True:
                    j = data.find(b'"', i)
                    if j < 0:
                        raise DataError("'%s': unterminated quoted field starting at line %d"
                                        % (path, start_line))
                    parts.append(data[i:j])
                    line += data.count(b"\n", i, j)
                    if j + 1 < n and data[j + 1] == 0x22:
                        parts.append(b'"')
                        i = j + 2
                        continue
                    i = j + 1
                    break
                fields.append(b"".join(parts))
                if i >= n:
                    end = i
                    break
                c = data[i]
                if c == 0x2C:
                    i += 1
                    continue
                if c == 0x0A:
                    end = i
                    i += 1
                    line += 1
                    break
                if c == 0x0D and i + 1 < n and data[i + 1] == 0x0A:
                    end = i
                    i += 2
                    line += 1
                    break
                reason = "bad_quote"
            else:                         # unquoted field: up to ',' or LF
                m = FIELD_END.search(data, i)
                j = m.start() if m else n
                field = data[i:j]
                last = j >= n or data[j] == 0x0A
                if last and field.endswith(b"\r"):
                    field = field[:-1]
                if b'"' in field:
                    reason = "bad_quote"
                    i = j
                else:
                    fields.append(field)
                    if not last:
                        i = j + 1
                        continue
                    end = j - (1 if data[j - 1:j] == b"\r" and j > i else 0)
                    if j < n:
                        line += 1
                    i = j + 1
                    break
            # bad_quote: the record ends at the next LF
            j = data.find(b"\n", i)
            if j < 0:
                end = i = n
            else:
                end = j - 1 if j > 0 and data[j - 1] == 0x0D else j
                i = j + 1
                line += 1
            end = max(end, start)
            break
        raw = data[start:end]
        if reason:
            yield start_line, raw, None, reason
        else:
            crosscheck(raw, fields)
            yield start_line, raw, fields, None


def crosscheck(raw, fields):
    """Re-parse an accepted record with the csv module; it must agree."""
    text = raw.decode("latin-1")
    # The csv module splits records at a bare CR too; the issue only knows LF
    # and CRLF, so such records are not comparable.
    if re.search("\r(?!\n)", text):
        return
    rows = list(csv.reader(io.StringIO(text, newline=""), strict=True))
    if not rows:
        rows = [[""]]
    got = [f.encode("latin-1") for f in rows[0]]
    if len(rows) != 1 or got != fields:
        raise AssertionError("csv module disagrees on record %r: %r vs %r" % (raw, rows, fields))


# ---------------------------------------------------------------- settle

BOOLS = {b"t": True, b"true": True, b"1": True, b"f": False, b"false": False, b"0": False}


def validate(fields, col, ncols):
    """(reason, parsed) for one record's fields, in issue 9's order: field
    count, stream id, node id, probe type, success, timestamp, then the id
    (when the export has an id column)."""
    if len(fields) != ncols:
        return "field_count", None
    stream = fields[col[b"stream_id"]]
    node = fields[col[b"node_id"]]
    if not stream:
        return "empty_stream_id", None
    if len(stream) > MAX_ID:
        return "stream_id_too_long", None
    if not node:
        return "empty_node_id", None
    if len(node) > MAX_ID:
        return "node_id_too_long", None
    ptype = fields[col[b"probe_type"]]
    if ptype not in (b"stats_poll", b"spot_check"):
        return "bad_probe_type", None
    ok = BOOLS.get(fields[col[b"success"]].lower())
    if ok is None:
        return "bad_success", None
    ts = parse_timestamp(fields[col[b"probe_timestamp"]])
    if ts is None:
        return "bad_timestamp", None
    pid = None
    if b"id" in col:
        text = fields[col[b"id"]]
        # a whole number: decimal digits only (no sign, blank or point)
        if not re.fullmatch(rb"[0-9]+", text) or int(text) > MAX_PROBE_ID:
            return "bad_id", None
        pid = int(text)
    return None, (stream, node, ptype, ok, ts, pid)


def distinct_inputs(paths):
    """The same file under two names (device and inode, symlinks followed)
    is refused before anything is read."""
    seen = {}
    for path in paths:
        try:
            st = os.stat(path)
        except OSError as e:
            raise DataError("could not open '%s': %s" % (path, e.strerror))
        key = (st.st_dev, st.st_ino)
        if key in seen:
            raise DataError("'%s' and '%s' are the same file (%s): give each export once"
                            % (seen[key], path, os.path.realpath(path)))
        seen[key] = path


class Coverage:
    """The whole seconds of the period that had a valid probe."""

    def __init__(self):
        self.seconds = set()

    def add(self, ts_ns):
        self.seconds.add(ts_ns // 10**9)

    def block(self):
        if not self.seconds:
            return {"first": None, "last": None, "longest_gap_s": 0, "gap_resolution_s": 1}
        secs = sorted(self.seconds)
        gap = max((b - a - 1 for a, b in zip(secs, secs[1:])), default=0)
        return {"first": fmt_utc(secs[0]), "last": fmt_utc(secs[-1]),
                "longest_gap_s": gap, "gap_resolution_s": 1}


def read_probes(paths, start_ns, end_ns, counts, rejects, inputs, cover):
    """Fill {(stream, node): [T, S, F]} from the probe files, in order."""
    agg = {}
    ids = set()                 # probe ids seen, across every file with an id column
    digests = {}
    for path in paths:
        data, raw_bytes = read_input(path, with_raw=True)
        digest = hashlib.sha256(raw_bytes).hexdigest()
        if digest in digests:
            raise DataError("'%s' and '%s' hold the same bytes (sha256 %s): the same export given twice"
                            % (digests[digest], path, digest))
        digests[digest] = path
        entry = {"path": path, "rows": 0, "bytes": len(raw_bytes), "sha256": digest}
        inputs.append(entry)
        records = scan_records(data, path)
        header = next(records, None)
        if header is None or header[2] is None:
            raise DataError("'%s': missing or malformed header line" % path)
        names = header[2]
        col = {}
        for k, name in enumerate(names):
            col.setdefault(name, k)
        for req in REQUIRED:
            if req not in col:
                raise DataError("'%s': header has no '%s' column" % (path, req.decode()))
        for line, raw, fields, reason in records:
            counts["rows_read"] += 1
            entry["rows"] += 1
            parsed = None
            if reason is None:
                reason, parsed = validate(fields, col, len(names))
            if reason:
                counts["rejected"] += 1
                by = counts["rejected_by_reason"]
                by[reason] = by.get(reason, 0) + 1
                rejects.append((path, line, reason, raw[:RAW_CUT]))
                continue
            stream, node, ptype, ok, ts, pid = parsed
            if pid is not None:
                if pid in ids:
                    counts["duplicate"] += 1
                    continue
                ids.add(pid)
            if not (start_ns <= ts < end_ns):
                counts["out_of_period"] += 1
                continue
            counts["in_period"] += 1
            cover.add(ts)
            tsf = agg.setdefault((stream, node), [0, 0, 0])
            if ptype == b"stats_poll":
                tsf[0] += 1
                if ok:
                    tsf[1] += 1
            elif not ok:
                tsf[2] += 1
    return agg


def read_pools(path, decimals):
    """({stream: base units}, the file's bytes)."""
    pools, lines = {}, {}
    data, raw_bytes = read_input(path, with_raw=True)
    records = scan_records(data, path)
    header = next(records, None)
    if header is None or header[2] is None:
        raise DataError("'%s': missing header" % path)
    names = header[2]
    if b"stream_id" not in names or b"pool" not in names:
        raise DataError("'%s': header needs stream_id,pool" % path)
    si, pi = names.index(b"stream_id"), names.index(b"pool")
    for line, raw, fields, reason in records:
        if reason or len(fields) != len(names):
            raise DataError("'%s' line %d: malformed pools record" % (path, line))
        stream, v = fields[si], fields[pi]
        if not stream or len(stream) > MAX_ID:
            raise DataError("'%s' line %d: bad stream_id" % (path, line))
        amount, why = tokens_to_base(v.decode("latin-1"), decimals)
        if why:
            raise DataError("'%s' line %d: stream '%s': pool '%s' is invalid with %d token decimals: %s"
                            % (path, line, stream.decode("latin-1"), v.decode("latin-1"), decimals, why))
        if stream in pools:
            raise DataError("'%s' line %d: stream '%s' is listed twice (also line %d)"
                            % (path, line, stream.decode("latin-1"), lines[stream]))
        pools[stream], lines[stream] = amount, line
    return pools, raw_bytes


def settle(agg, pools, default_pool, a, b):
    """(ledger rows, stream rows) as lists of tuples of ints/bytes."""
    by_stream = {}
    for (stream, node), tsf in agg.items():
        by_stream.setdefault(stream, {})[node] = tsf
    for stream in pools:
        by_stream.setdefault(stream, {})
    ledger, streams = [], []
    for stream in sorted(by_stream):
        nodes = by_stream[stream]
        pool = pools.get(stream, default_pool)
        W = sum(v[1] for v in nodes.values())
        base = {n: 0 for n in nodes}
        if W:
            for n, (T, S, F) in nodes.items():
                base[n] = pool * S // W
            left = pool - sum(base.values())
            order = sorted(nodes, key=lambda n: (-((pool * nodes[n][1]) % W), n))
            assert 0 <= left < len(order) or left == 0
            for n in order[:left]:
                base[n] += 1
        paid = forfeited = 0
        for n in sorted(nodes):
            T, S, F = nodes[n]
            x = base[n]
            if a != b:
                for _ in range(F):
                    if x == 0:
                        break
                    x = x * a // b
            paid += x
            forfeited += base[n] - x
            uptime = S * 10**6 // T if T else 0
            contrib = S * 10**6 // W if W else 0
            ledger.append((stream, n, T, S, F, uptime, contrib, base[n], base[n] - x, x))
        unallocated = pool - sum(base.values())
        if paid + forfeited + unallocated != pool or unallocated < 0:
            raise AssertionError("invariant broken for stream %r" % stream)
        streams.append((stream, pool, len(nodes), W, paid, forfeited, unallocated))
    return ledger, streams


# ---------------------------------------------------------------- output

def csv_field(v):
    if isinstance(v, int):
        return str(v).encode()
    if any(c in v for c in (b",", b'"', b"\r", b"\n")):
        return b'"' + v.replace(b'"', b'""') + b'"'
    return v


def csv_line(values):
    return b",".join(csv_field(v) for v in values) + b"\n"


LEDGER_HEADER = (b"period_start,period_end,stream_id,node_id,total_polls,successful_polls,"
                 b"failed_spot_checks,uptime_ppm,contribution_ppm,base_amount,"
                 b"forfeited_amount,payout_amount\n")
STREAMS_HEADER = (b"period_start,period_end,stream_id,pool,nodes,total_successful_polls,"
                  b"paid,forfeited,unallocated\n")


def write_outputs(outdir, start, end, ledger, streams):
    ps, pe = fmt_utc(start).encode(), fmt_utc(end).encode()
    os.makedirs(outdir, exist_ok=True)
    with open(os.path.join(outdir, "ledger.csv"), "wb") as fh:
        fh.write(LEDGER_HEADER)
        for row in ledger:
            fh.write(csv_line((ps, pe) + row))
    with open(os.path.join(outdir, "streams.csv"), "wb") as fh:
        fh.write(STREAMS_HEADER)
        for row in streams:
            fh.write(csv_line((ps, pe) + row))


def write_rejects(path, rejects):
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    with open(path, "wb") as fh:
        fh.write(b"file,line,reason,record\n")
        for f, line, reason, raw in rejects:
            fh.write(csv_line((os.fsencode(f), line, reason.encode(), raw)))


# ---------------------------------------------------------------- main

class Parser(argparse.ArgumentParser):
    def error(self, message):
        sys.stderr.write("settle_ref: error: %s\n" % message)
        sys.exit(2)


def edge_gap_default(start, end):
    return 3600 if end - start == 86400 else 300


def run_checks(res, args, start, end, max_gap):
    """has_probes and edge_gap, once the probes are read: res["refused"]
    names the first that refuses."""
    checks, overrides = res["checks"], res["overrides"]
    n = res["in_period"]
    if n == 0:
        if not args.allow_empty:
            checks["has_probes"] = {"status": "refused", "in_period": 0}
            res["refused"] = "has_probes"
            return
        checks["has_probes"] = {"status": "overridden", "in_period": 0, "override": "--allow-empty"}
        overrides.append("allow_empty")
    else:
        checks["has_probes"] = {"status": "passed", "in_period": n}
    if args.max_edge_gap is not None:
        overrides.append("max_edge_gap=%s" % ("0" if max_gap == 0 else "%ds" % max_gap))
    if max_gap == 0:
        checks["edge_gap"] = {"status": "off", "max_s": 0}
        return
    if n == 0:
        checks["edge_gap"] = {"status": "not applicable", "max_s": max_gap}
        return
    first, last = res["first_s"], res["last_s"]
    lead, trail = first - start, end - 1 - last
    ok = lead <= max_gap and trail <= max_gap
    checks["edge_gap"] = {"status": "passed" if ok else "refused", "max_s": max_gap,
                          "lead_s": lead, "trail_s": trail}
    if not ok:
        res["refused"] = "edge_gap"


def check_pools(res, args, pools, ledger, streams):
    """pools, once the ledger is built."""
    probed = {row[0] for row in ledger}
    if args.pools:
        names = bool(probed & set(pools)) if probed else True
    else:
        names = True
    total = sum(r[1] for r in streams)
    ok = total > 0 and names
    c = {"status": "passed", "origin": "file" if args.pools else "none",
         "names_a_probed_stream": names}
    if not ok:
        if args.allow_zero_pools:
            c["status"], c["override"] = "overridden", "--allow-zero-pools"
            res["overrides"].append("allow_zero_pools")
        else:
            c["status"] = "refused"
            res["refused"] = "pools"
    res["checks"]["pools"] = c


def refuse(res, why):
    sys.stderr.write("settle_ref: error: %s\n" % why)
    json.dump(res, sys.stdout, sort_keys=True)
    sys.stdout.write("\n")
    return 3


def main(argv):
    p = Parser(description="reference settle (oracle for the e2e tests)")
    p.add_argument("--period", required=True)
    p.add_argument("--period-length", choices=("1d", "1h"))
    p.add_argument("--input", action="append", required=True)
    p.add_argument("--pools")
    p.add_argument("--default-pool", default="0")
    p.add_argument("--token-decimals", default="0")
    p.add_argument("--penalty-factor", default="0.5")
    p.add_argument("--max-reject-ratio", default="0.001")
    p.add_argument("--max-edge-gap")
    p.add_argument("--allow-empty", action="store_true")
    p.add_argument("--allow-zero-pools", action="store_true")
    p.add_argument("--rejects")
    p.add_argument("--out", required=True)
    args = p.parse_args(argv)
    try:
        start, end = parse_period(args.period, args.period_length)
        a, b = parse_penalty(args.penalty_factor)
        decimals = parse_decimals(args.token_decimals)
        default_pool = parse_default_pool(args.default_pool, decimals)
        if not re.fullmatch(r"\d+(\.\d+)?|\.\d+", args.max_reject_ratio):
            raise UsageError("bad reject ratio '%s'" % args.max_reject_ratio)
        max_ratio = Fraction(args.max_reject_ratio)
        if args.max_edge_gap is None:
            max_gap = edge_gap_default(start, end)
        else:
            max_gap = parse_duration(args.max_edge_gap)
    except UsageError as e:
        sys.stderr.write("settle_ref: error: %s\n" % e)
        return 2
    res = {"rows_read": 0, "in_period": 0, "out_of_period": 0, "rejected": 0, "duplicate": 0,
           "rejected_by_reason": {}, "checks": {}, "overrides": [], "refused": None,
           "inputs": [], "default_pool": default_pool, "token_decimals": decimals,
           "pools_sha256": None}
    rejects = []
    cover = Coverage()
    try:
        distinct_inputs(args.input)
        pools = {}
        if args.pools:
            pools, raw = read_pools(args.pools, decimals)
            res["pools_sha256"] = hashlib.sha256(raw).hexdigest()
        agg = read_probes(args.input, start * 10**9, end * 10**9, res, rejects, res["inputs"], cover)
    except DataError as e:
        sys.stderr.write("settle_ref: error: %s\n" % e)
        return 3
    res["probes"] = cover.block()
    if cover.seconds:
        res["first_s"], res["last_s"] = min(cover.seconds), max(cover.seconds)
    if args.rejects:
        write_rejects(args.rejects, rejects)
    if res["rows_read"] and Fraction(res["rejected"], res["rows_read"]) > max_ratio:
        res["refused"] = "reject_ratio"
        return refuse(res, "%d of %d rows rejected, over the ratio %s"
                      % (res["rejected"], res["rows_read"], args.max_reject_ratio))
    run_checks(res, args, start, end, max_gap)
    if res["refused"]:
        return refuse(res, "refusing period %s: check %s" % (args.period, res["refused"]))
    ledger, streams = settle(agg, pools, default_pool, a, b)
    res["pool"] = sum(r[1] for r in streams)
    if res["pool"] > MAX_POOL:
        res["refused"] = "pools_total"
        return refuse(res, "the pools of period %s add up to %d, past 2^256 - 1" % (args.period, res["pool"]))
    check_pools(res, args, pools, ledger, streams)
    if res["refused"]:
        return refuse(res, "refusing period %s: check %s" % (args.period, res["refused"]))
    write_outputs(args.out, start, end, ledger, streams)
    res["streams"] = len(streams)
    res["ledger_rows"] = len(ledger)
    res["distinct_nodes"] = len({row[1] for row in ledger})
    res["period_start"] = fmt_utc(start)
    res["period_end"] = fmt_utc(end)
    res["paid"] = sum(r[4] for r in streams)
    res["forfeited"] = sum(r[5] for r in streams)
    res["unallocated"] = sum(r[6] for r in streams)
    json.dump(res, sys.stdout, sort_keys=True)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
