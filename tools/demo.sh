#!/bin/sh
# make demo: settle the fixture day from fixtures/ and print the timing report.
set -eu
cd "$(dirname "$0")/.."
out=demo-out
rm -rf "$out"
echo "demo: settling 2026-11-01 from fixtures/probes-2026-11-01.csv.gz into $out/"
./payrun settle --period 2026-11-01 \
	--input fixtures/probes-2026-11-01.csv.gz \
	--pools fixtures/pools.csv --default-pool 100000 \
	--penalty-factor 0.5 --out "$out"
echo
echo "demo: published files:"
ls -l "$out/2026-11-01/v1"
echo
echo "demo: streams.csv:"
cat "$out/2026-11-01/v1/streams.csv"
echo
echo "demo: first rows of ledger.csv:"
head -n 6 "$out/2026-11-01/v1/ledger.csv"
