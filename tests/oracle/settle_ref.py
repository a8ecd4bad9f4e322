#!/usr/bin/env python3
"""settle_ref.py: an independent reference implementation of `payrun settle`.

Written from the text of issue 2 only (never from payrun's C sources), so that
the end-to-end tests can compare payrun's ledger.csv and streams.csv with a
second, deliberately simple implementation byte for byte.

    settle_ref.py --period LABEL [--period-length 1d|1h] --input F [--input F ...]
                  [--pools F] [--default-pool N] [--penalty-factor F]
                  [--max-reject-ratio R] [--rejects FILE] --out DIR

writes DIR/ledger.csv and DIR/streams.csv and prints the counts as one JSON
object on stdout: rows_read, in_period, out_of_period, rejected,
rejected_by_reason.  With --rejects FILE it also writes the rejects it found
(file,line,reason,record; line = physical line where the record starts,
record = raw bytes without the line terminator, cut at 1 KiB).

Exit status mirrors payrun: 0 ok, 2 usage, 3 input data error (missing file,
bad gzip, header without a required column, unterminated quote at EOF, or
rejected / rows read above --max-reject-ratio, default 0.001; then no
ledger is written, but --rejects and the counts still are).

Everything is done on bytes: ids come out exactly as they went in.  The CSV
dialect is parsed by a small strict RFC 4180 scanner (quote in an unquoted
field, or anything but a comma or line end after a closing quote, is
`bad_quote`); every record it accepts is re-parsed with the standard csv
module as a cross-check.  All payout arithmetic is on Python integers.
"""

import argparse
import csv
import gzip
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


def parse_amount(text, what):
    if not re.fullmatch(r"\d+", text) or int(text) > MAX_POOL:
        raise UsageError("bad %s '%s'" % (what, text))
    return int(text)


# ---------------------------------------------------------------- input

def read_input(path):
    """The decompressed bytes of one input (gzip by magic, possibly multi-member)."""
    try:
        with open(path, "rb") as fh:
            data = fh.read()
    except OSError as e:
        raise DataError("could not open '%s': %s" % (path, e.strerror))
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
    """(reason, parsed) for one record's fields."""
    if len(fields) != ncols:
        return "field_count", None
    stream = fields[col[b"stream_id"]]
    node = fields[col[b"node_id"]]
    if not stream:
        return "empty_stream_id", None
    if not node:
        return "empty_node_id", None
    if len(stream) > MAX_ID:
        return "stream_id_too_long", None
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
    return None, (stream, node, ptype, ok, ts)


def read_probes(paths, start_ns, end_ns, counts, rejects):
    """Fill {(stream, node): [T, S, F]} from the probe files."""
    agg = {}
    for path in paths:
        data = read_input(path)
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
            parsed = None
            if reason is None:
                reason, parsed = validate(fields, col, len(names))
            if reason:
                counts["rejected"] += 1
                by = counts["rejected_by_reason"]
                by[reason] = by.get(reason, 0) + 1
                rejects.append((path, line, reason, raw[:RAW_CUT]))
                continue
            stream, node, ptype, ok, ts = parsed
            if not (start_ns <= ts < end_ns):
                counts["out_of_period"] += 1
                continue
            counts["in_period"] += 1
            tsf = agg.setdefault((stream, node), [0, 0, 0])
            if ptype == b"stats_poll":
                tsf[0] += 1
                if ok:
                    tsf[1] += 1
            elif not ok:
                tsf[2] += 1
    return agg


def read_pools(path):
    pools = {}
    data = read_input(path)
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
        v = fields[pi]
        if not re.fullmatch(rb"\d+", v) or int(v) > MAX_POOL or not fields[si]:
            raise DataError("'%s' line %d: bad pool '%s'" % (path, line, v.decode("latin-1")))
        pools[fields[si]] = int(v)
    return pools


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


def main(argv):
    p = Parser(description="reference settle (oracle for the e2e tests)")
    p.add_argument("--period", required=True)
    p.add_argument("--period-length", choices=("1d", "1h"))
    p.add_argument("--input", action="append", required=True)
    p.add_argument("--pools")
    p.add_argument("--default-pool", default="0")
    p.add_argument("--penalty-factor", default="0.5")
    p.add_argument("--max-reject-ratio", default="0.001")
    p.add_argument("--rejects")
    p.add_argument("--out", required=True)
    args = p.parse_args(argv)
    try:
        start, end = parse_period(args.period, args.period_length)
        a, b = parse_penalty(args.penalty_factor)
        default_pool = parse_amount(args.default_pool, "default pool")
        if not re.fullmatch(r"\d+(\.\d+)?|\.\d+", args.max_reject_ratio):
            raise UsageError("bad reject ratio '%s'" % args.max_reject_ratio)
        max_ratio = Fraction(args.max_reject_ratio)
    except UsageError as e:
        sys.stderr.write("settle_ref: error: %s\n" % e)
        return 2
    counts = {"rows_read": 0, "in_period": 0, "out_of_period": 0, "rejected": 0,
              "rejected_by_reason": {}}
    rejects = []
    try:
        pools = read_pools(args.pools) if args.pools else {}
        agg = read_probes(args.input, start * 10**9, end * 10**9, counts, rejects)
    except DataError as e:
        sys.stderr.write("settle_ref: error: %s\n" % e)
        return 3
    if args.rejects:
        write_rejects(args.rejects, rejects)
    if counts["rows_read"] and Fraction(counts["rejected"], counts["rows_read"]) > max_ratio:
        sys.stderr.write("settle_ref: error: %d of %d rows rejected, over the ratio %s\n"
                         % (counts["rejected"], counts["rows_read"], args.max_reject_ratio))
        json.dump(counts, sys.stdout, sort_keys=True)
        sys.stdout.write("\n")
        return 3
    ledger, streams = settle(agg, pools, default_pool, a, b)
    write_outputs(args.out, start, end, ledger, streams)
    counts["streams"] = len(streams)
    counts["ledger_rows"] = len(ledger)
    counts["distinct_nodes"] = len({row[1] for row in ledger})
    counts["period_start"] = fmt_utc(start)
    counts["period_end"] = fmt_utc(end)
    counts["pool"] = sum(r[1] for r in streams)
    counts["paid"] = sum(r[4] for r in streams)
    counts["forfeited"] = sum(r[5] for r in streams)
    counts["unallocated"] = sum(r[6] for r in streams)
    json.dump(counts, sys.stdout, sort_keys=True)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
