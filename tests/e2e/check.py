#!/usr/bin/env python3
"""check.py: assertions on payrun's published outputs, for tests/e2e/run.sh.

    check.py manifest V1DIR ORACLE_JSON ARGSFILE   manifest.json vs oracle counts, files, inputs,
                                                   settings, checks, probes, pools.csv
    check.py runlog   OUTDIR ORACLE_JSON           the last runs.log line vs the oracle
    check.py rejects  GOT.csv ORACLE.csv           rejects.csv rows vs the oracle's
    check.py reasons  V1DIR '{"reason": n, ...}'   manifest rejected_by_reason is exactly this
    check.py pairs    LEDGER EXPECT_PAIRS          (stream, node) set, ids as hex
    check.py nodes    LEDGER EXPECT_NODES          node ids, one per line
    check.py penalty  LEDGER F                     F = 0: nothing forfeited; F = 1: F>0 pays 0
    check.py adjustments OLD_LEDGER NEW_LEDGER ADJ  adjustments.csv is what the two ledgers differ by

Prints what is wrong on stdout (one short line each) and exits 1; silent
and 0 when everything holds.
"""

import csv
import hashlib
import io
import json
import os
import sys

problems = []


def bad(msg):
    problems.append(msg)


def read_csv(path):
    with open(path, "rb") as fh:
        text = fh.read().decode("latin-1")
    return list(csv.reader(io.StringIO(text, newline=""), strict=True))


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def get(obj, dotted):
    cur = obj
    for k in dotted.split("."):
        if not isinstance(cur, dict) or k not in cur:
            bad("manifest has no '%s'" % dotted)
            return None
        cur = cur[k]
    return cur


def is_num(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def parse_args_file(path):
    with open(path, encoding="utf-8") as fh:
        argv = [line.rstrip("\n") for line in fh]
    opts = {"--input": []}
    i = 0
    while i < len(argv):
        if argv[i] in FLAGS:
            opts[argv[i]] = True
            i += 1
            continue
        if argv[i] == "--input":
            opts["--input"].append(argv[i + 1])
        else:
            opts[argv[i]] = argv[i + 1]
        i += 2
    return opts


FLAGS = ("--allow-empty", "--allow-zero-pools")


def check_manifest(v1, oracle_json, args_file):
    opts = parse_args_file(args_file)
    with open(oracle_json) as fh:
        ref = json.load(fh)
    try:
        with open(os.path.join(v1, "manifest.json"), "rb") as fh:
            m = json.load(fh)
    except (OSError, ValueError) as e:
        bad("manifest.json unreadable: %s" % e)
        return
    listing = sorted(os.listdir(v1))
    want_files = ["ledger.csv", "streams.csv", "manifest.json", "rejects.csv"]
    if "--pools" in opts:
        want_files.append("pools.csv")
    for name in want_files:
        if name not in listing:
            bad("v1 has no %s (has %s)" % (name, listing))
    if "--pools" not in opts and "pools.csv" in listing:
        bad("v1 has a pools.csv without --pools")
    rj = os.path.join(v1, "rejects.csv")
    if os.path.exists(rj):
        with open(rj, "rb") as fh:
            first = fh.readline()
        if first != b"file,line,reason,record\n":
            bad("rejects.csv header is %r" % first)

    label = opts["--period"]
    if get(m, "period.label") != label:
        bad("period.label %r != %r" % (m.get("period", {}).get("label"), label))
    ledger = read_csv(os.path.join(v1, "ledger.csv"))
    streams = read_csv(os.path.join(v1, "streams.csv"))
    for key, val in (("period.start", ref["period_start"]), ("period.end", ref["period_end"])):
        got = get(m, key)
        if got is not None and got != val:
            bad("%s %r, want %r" % (key, got, val))
    get(m, "version")
    if get(m, "source.kind") not in (None, "csv"):
        bad("source.kind is %r" % m["source"]["kind"])

    inputs = get(m, "inputs")
    if isinstance(inputs, list):
        want = opts["--input"]
        if len(inputs) != len(want):
            bad("inputs has %d entries, want %d" % (len(inputs), len(want)))
        for ent, path, rent in zip(inputs, want, ref["inputs"]):
            if isinstance(ent, dict) and ent.get("rows") != rent["rows"]:
                bad("inputs rows %r, oracle %r, for %s" % (ent.get("rows"), rent["rows"],
                                                           os.path.basename(path)))
            if not isinstance(ent, dict):
                bad("inputs entry is not an object")
                continue
            if os.path.basename(str(ent.get("path"))) != os.path.basename(path):
                bad("inputs path %r != %r" % (ent.get("path"), path))
            if ent.get("bytes") != os.path.getsize(path):
                bad("inputs bytes %r != %d for %s" % (ent.get("bytes"), os.path.getsize(path),
                                                      os.path.basename(path)))
            if ent.get("sha256") != sha256(path):
                bad("inputs sha256 mismatch for %s" % os.path.basename(path))
    elif inputs is not None:
        bad("inputs is not a list")

    settings = get(m, "settings")
    if isinstance(settings, dict):
        flat = json.dumps(settings).lower()
        for word in ("penalty", "pool", "default", "reject"):
            if word not in flat:
                bad("settings mention no '%s': %s" % (word, json.dumps(settings)[:200]))
        # amounts are decimal strings of base units; the token's decimals a number
        if settings.get("default_pool") != str(ref["default_pool"]):
            bad("settings.default_pool %r, oracle %r (base units, a string)"
                % (settings.get("default_pool"), str(ref["default_pool"])))
        if settings.get("token_decimals") != ref["token_decimals"]:
            bad("settings.token_decimals %r, oracle %r" % (settings.get("token_decimals"),
                                                           ref["token_decimals"]))
        check_pools_copy(v1, settings.get("pools"), opts, ref)

    counts = get(m, "counts")
    count_keys = ("rows_read", "in_period", "out_of_period", "rejected", "duplicate")
    if isinstance(counts, dict):
        for k in count_keys:
            if counts.get(k) != ref[k]:
                bad("counts.%s = %r, oracle %r" % (k, counts.get(k), ref[k]))
        if all(is_num(counts.get(k)) for k in count_keys):
            if counts["rows_read"] != (counts["in_period"] + counts["out_of_period"] + counts["rejected"]
                                       + counts["duplicate"]):
                bad("rows_read != in_period + out_of_period + rejected + duplicate")
        by = counts.get("rejected_by_reason")
        if not isinstance(by, dict):
            bad("counts.rejected_by_reason missing or not an object")
        else:
            nz = {k: v for k, v in by.items() if v}
            if nz != ref["rejected_by_reason"]:
                bad("rejected_by_reason %r, oracle %r" % (nz, ref["rejected_by_reason"]))
            if sum(v for v in by.values() if is_num(v)) != counts.get("rejected"):
                bad("rejected_by_reason does not sum to rejected")

    totals = get(m, "totals")
    if isinstance(totals, dict):
        if totals.get("streams") != ref["streams"] or totals.get("streams") != len(streams) - 1:
            bad("totals.streams %r, oracle %r, streams.csv rows %d"
                % (totals.get("streams"), ref["streams"], len(streams) - 1))
        # "nodes" is read either as ledger rows or as distinct node ids.
        if totals.get("nodes") not in (ref["ledger_rows"], ref["distinct_nodes"]):
            bad("totals.nodes %r is neither ledger rows %d nor distinct nodes %d"
                % (totals.get("nodes"), ref["ledger_rows"], ref["distinct_nodes"]))
        # amounts are decimal strings (integers past 2^53 lose precision in JSON readers)
        for k, col in (("pool", 3), ("paid", 6), ("forfeited", 7), ("unallocated", 8)):
            from_csv = sum(int(r[col]) for r in streams[1:])
            if totals.get(k) != str(ref[k]) or totals.get(k) != str(from_csv):
                bad("totals.%s %r, oracle %r, streams.csv %d" % (k, totals.get(k), ref[k], from_csv))

    check_probes_checks(m, ref)

    outputs = get(m, "outputs")
    if isinstance(outputs, list):
        names = [o.get("name") for o in outputs if isinstance(o, dict)]
        for need in want_files:
            if need != "manifest.json" and need not in names:
                bad("outputs lists no %s (has %r)" % (need, names))
        if len(set(names)) != len(names):
            bad("outputs lists a file twice: %r" % names)
        for name in listing:
            if name != "manifest.json" and name not in names:
                bad("v1 has %s, not in outputs" % name)
        for o in outputs:
            if not isinstance(o, dict):
                bad("outputs entry is not an object")
                continue
            p = os.path.join(v1, os.path.basename(str(o.get("name"))))
            if not os.path.exists(p):
                bad("outputs names %r, not in v1" % o.get("name"))
                continue
            if o.get("bytes") != os.path.getsize(p):
                bad("outputs bytes %r != %d for %s" % (o.get("bytes"), os.path.getsize(p), o.get("name")))
            if o.get("sha256") != sha256(p):
                bad("outputs sha256 mismatch for %s" % o.get("name"))
    elif outputs is not None:
        bad("outputs is not a list")

    phases = get(m, "timing.phases")
    if isinstance(phases, list):
        if not phases:
            bad("timing.phases is empty")
        for ph in phases:
            if not isinstance(ph, dict):
                bad("timing phase is not an object")
                continue
            for k in ("name", "wall_s", "cpu_s", "rows", "bytes"):
                if k not in ph:
                    bad("timing phase %r has no %s" % (ph.get("name"), k))
                elif k != "name" and (not is_num(ph[k]) or ph[k] < 0):
                    bad("timing phase %r: %s = %r" % (ph.get("name"), k, ph[k]))
    for k in ("timing.total_wall_s", "timing.peak_rss_kib"):
        v = get(m, k)
        if v is not None and (not is_num(v) or v < 0):
            bad("%s = %r" % (k, v))
    rss = m.get("timing", {}).get("peak_rss_kib")
    if is_num(rss) and rss <= 0:
        bad("timing.peak_rss_kib is %r" % rss)
    for k in ("started_at", "finished_at", "payrun_version"):
        v = get(m, k)
        if v is not None and (not isinstance(v, str) or not v):
            bad("%s = %r" % (k, v))
    sa, fa = m.get("started_at"), m.get("finished_at")
    if isinstance(sa, str) and isinstance(fa, str) and len(sa) == len(fa) and sa > fa:
        bad("started_at %s after finished_at %s" % (sa, fa))


def check_pools_copy(v1, pools, opts, ref):
    """settings.pools and v1/pools.csv: the pools file's own bytes."""
    if "--pools" not in opts:
        if pools is not None:
            bad("settings.pools is %r without --pools" % (pools,))
        return
    if not isinstance(pools, dict):
        bad("settings.pools is %r, want an object" % (pools,))
        return
    want = {"origin": "file", "path": opts["--pools"], "copy": "pools.csv", "sha256": ref["pools_sha256"]}
    for k, v in want.items():
        if pools.get(k) != v:
            bad("settings.pools.%s %r, want %r" % (k, pools.get(k), v))
    copy = os.path.join(v1, "pools.csv")
    if os.path.exists(copy):
        with open(copy, "rb") as a, open(opts["--pools"], "rb") as b:
            if a.read() != b.read():
                bad("pools.csv is not the bytes of %s" % os.path.basename(opts["--pools"]))
        if sha256(copy) != ref["pools_sha256"]:
            bad("pools.csv sha256 is not the pools file's")


def check_probes_checks(m, ref):
    """The probes block equals the oracle's; each check has the oracle's status
    and figures (the manifest may say more)."""
    probes = get(m, "probes")
    if isinstance(probes, dict):
        for k, v in ref["probes"].items():
            if probes.get(k) != v:
                bad("probes.%s %r, oracle %r" % (k, probes.get(k), v))
    checks = get(m, "checks")
    if isinstance(checks, dict):
        for name, want in sorted(ref["checks"].items()):
            got = checks.get(name)
            if not isinstance(got, dict):
                bad("checks.%s is %r, oracle %r" % (name, got, want))
                continue
            for k, v in sorted(want.items()):
                if got.get(k) != v:
                    bad("checks.%s.%s %r, oracle %r" % (name, k, got.get(k), v))
        for name in sorted(set(checks) - set(ref["checks"])):
            bad("checks.%s, which the oracle does not know: %r" % (name, checks[name]))


def check_runlog(outdir, oracle_json):
    """The last line of OUTDIR/runs.log is the oracle's settlement: amounts as
    decimal strings, counts, and the overrides used."""
    with open(oracle_json) as fh:
        ref = json.load(fh)
    try:
        with open(os.path.join(outdir, "runs.log")) as fh:
            lines = [line for line in fh if line.strip()]
        last = json.loads(lines[-1])
    except (OSError, ValueError, IndexError) as e:
        bad("runs.log unreadable: %s" % e)
        return
    if last.get("status") != "settled":
        bad("runs.log status %r" % last.get("status"))
    for k in ("pool", "paid", "forfeited", "unallocated"):
        if last.get(k) != str(ref[k]):
            bad("runs.log %s %r, oracle %r (a decimal string)" % (k, last.get(k), str(ref[k])))
    for k in ("rows_read", "rejected"):
        # (a run that read no row leaves both out)
        if last.get(k, 0 if ref["rows_read"] == 0 else None) != ref[k]:
            bad("runs.log %s %r, oracle %r" % (k, last.get(k), ref[k]))
    got = last.get("overrides", [])
    if not isinstance(got, list):
        bad("runs.log overrides is %r" % (got,))
        return
    if got != ref["overrides"]:            # allow_empty, max_edge_gap=..., allow_zero_pools
        bad("runs.log overrides %r, oracle %r" % (got, ref["overrides"]))


def check_adjustments(old_path, new_path, adj_path):
    """adjustments.csv: a row per node whose payout changed, appeared or
    disappeared (sorted as the ledger), each stream's total row after its
    nodes (empty node_id), the period's total last (both ids empty)."""
    def payouts(path):
        return {(r[2], r[3]): int(r[11]) for r in read_csv(path)[1:]}
    old, new = payouts(old_path), payouts(new_path)
    rows = [["stream_id", "node_id", "previously_paid", "now_due", "delta"]]
    streams = sorted({k[0] for k in old} | {k[0] for k in new}, key=lambda s: s.encode("latin-1"))
    for s in streams:
        nodes = sorted({k[1] for k in old if k[0] == s} | {k[1] for k in new if k[0] == s},
                       key=lambda n: n.encode("latin-1"))
        changed = [n for n in nodes if old.get((s, n), 0) != new.get((s, n), 0)]
        if not changed:
            continue
        for n in changed:
            a, b = old.get((s, n), 0), new.get((s, n), 0)
            rows.append([s, n, str(a), str(b), str(b - a)])
        a = sum(v for k, v in old.items() if k[0] == s)
        b = sum(v for k, v in new.items() if k[0] == s)
        rows.append([s, "", str(a), str(b), str(b - a)])
    if len(rows) > 1:
        a, b = sum(old.values()), sum(new.values())
        rows.append(["", "", str(a), str(b), str(b - a)])
    got = read_csv(adj_path)
    if got != rows:
        for k, (g, w) in enumerate(zip(got, rows)):
            if g != w:
                bad("adjustments.csv row %d is %r, want %r" % (k, g, w))
                break
        if len(got) != len(rows):
            bad("adjustments.csv has %d rows, want %d" % (len(got), len(rows)))


def reject_rows(path):
    rows = read_csv(path)
    if not rows or rows[0] != ["file", "line", "reason", "record"]:
        bad("%s: header is %r" % (os.path.basename(path), rows[0] if rows else None))
        return []
    out = []
    for r in rows[1:]:
        if len(r) != 4:
            bad("%s: row with %d fields: %r" % (os.path.basename(path), len(r), r))
            continue
        out.append((os.path.basename(r[0]), r[1], r[2], r[3].rstrip("\r\n")))
    return sorted(out)


def check_rejects(got_path, ref_path):
    got, ref = reject_rows(got_path), reject_rows(ref_path)
    if got == ref:
        return
    gs, rs = set(got), set(ref)
    if len(got) != len(ref):
        bad("%d rejects, oracle %d" % (len(got), len(ref)))
    for r in sorted(rs - gs)[:3]:
        bad("missing reject: %s line %s %s %r" % (r[0], r[1], r[2], r[3][:80]))
    for r in sorted(gs - rs)[:3]:
        bad("unexpected reject: %s line %s %s %r" % (r[0], r[1], r[2], r[3][:80]))


def check_reasons(v1, want_json):
    want = json.loads(want_json)
    with open(os.path.join(v1, "manifest.json")) as fh:
        m = json.load(fh)
    by = m.get("counts", {}).get("rejected_by_reason")
    if not isinstance(by, dict):
        bad("no counts.rejected_by_reason")
        return
    nz = {k: v for k, v in by.items() if v}
    if nz != want:
        bad("rejected_by_reason %r, want %r" % (nz, want))
    if m.get("counts", {}).get("rejected") != sum(want.values()):
        bad("counts.rejected %r, want %d" % (m.get("counts", {}).get("rejected"), sum(want.values())))


def check_pairs(ledger_path, expect_path):
    rows = read_csv(ledger_path)
    got = {(r[2].encode("latin-1"), r[3].encode("latin-1")) for r in rows[1:]}
    want = set()
    with open(expect_path, "rb") as fh:
        for line in fh:
            s, n = line.rstrip(b"\n").split(b"\t")
            want.add((bytes.fromhex(s.decode()), bytes.fromhex(n.decode())))
    for p in sorted(want - got)[:3]:
        bad("ledger lacks (%r, %r)" % p)
    for p in sorted(got - want)[:3]:
        bad("ledger has unexpected (%r, %r)" % p)
    if len(rows) - 1 != len(want):
        bad("ledger has %d rows, want %d" % (len(rows) - 1, len(want)))


def check_nodes(ledger_path, expect_path):
    rows = read_csv(ledger_path)
    got = sorted(r[3] for r in rows[1:])
    with open(expect_path) as fh:
        want = sorted(line.strip() for line in fh if line.strip())
    if got != want:
        bad("nodes in ledger %s, want %s" % (sorted(set(got) ^ set(want)), "(symmetric difference)"))


def check_penalty(ledger_path, f):
    rows = read_csv(ledger_path)
    hit = 0
    for r in rows[1:]:
        F, base, forf, pay = int(r[6]), int(r[9]), int(r[10]), int(r[11])
        if f == "0" and (forf != 0 or pay != base):
            bad("f=0 but %s/%s forfeits %d" % (r[2], r[3], forf))
        if f == "1" and F > 0 and (pay != 0 or forf != base):
            bad("f=1, F=%d but %s/%s is paid %d" % (F, r[2], r[3], pay))
        hit += F > 0 and base > 0
    if not hit:
        bad("no ledger row with a penalty and a base: test checks nothing")


def main(argv):
    cmd = argv[0]
    if cmd == "manifest":
        check_manifest(*argv[1:4])
    elif cmd == "runlog":
        check_runlog(*argv[1:3])
    elif cmd == "adjustments":
        check_adjustments(*argv[1:4])
    elif cmd == "rejects":
        check_rejects(*argv[1:3])
    elif cmd == "reasons":
        check_reasons(*argv[1:3])
    elif cmd == "pairs":
        check_pairs(*argv[1:3])
    elif cmd == "nodes":
        check_nodes(*argv[1:3])
    elif cmd == "penalty":
        check_penalty(*argv[1:3])
    else:
        sys.exit("unknown check '%s'" % cmd)
    for p in problems[:6]:
        print(p)
    if len(problems) > 6:
        print("... and %d more" % (len(problems) - 6))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
