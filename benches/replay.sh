#!/usr/bin/env bash
# `intent replay` over generated decision logs of 100,000 and 1,000,000 records (the sizes of
# issue 12), printing records per second for each: a linear replay prints about the same rate
# for both. The log is made here (one `get_quote` decision every 100 ms on the fleet mesh,
# tests/serve/fleet.intent, so the quoter's rate limit counts every record) and removed after.
#
#   benches/replay.sh                  # 100k and 1M records
#   INTENT_BENCH_SIZES="10000" benches/replay.sh
#
# Needs python3 and a release build (made here).
set -euo pipefail
cd "$(dirname "$0")/.."
sizes=${INTENT_BENCH_SIZES:-"100000 1000000"}
cargo build --release --locked --bin intent 2>&1 | tail -n 1
intent="${CARGO_TARGET_DIR:-target}/release/intent"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$intent" build tests/serve/fleet.intent -o "$work/plan.json" 2>/dev/null
echo "$(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
for n in $sizes; do
  python3 - "$n" >"$work/log.jsonl" <<'PY'
import sys
n = int(sys.argv[1])
out = sys.stdout
for i in range(n):
    t = 1_700_000_000_000 + i * 100
    out.write('{"at_ms":%d,"decision_id":"%d-%d","plan_hash":"sha256:bench","request":{"intent":"get_quote","confidence":0.95,"context":{"channel":"web"}},"outcome":"dispatch","intent":"get_quote","steps":["dispatch=quoter"]}\n' % (t, t, i))
PY
  start=$(date +%s.%N)
  "$intent" replay "$work/log.jsonl" --plan "$work/plan.json" --format json >"$work/report.json"
  end=$(date +%s.%N)
  python3 - "$n" "$start" "$end" "$work/report.json" <<'PY'
import json, sys
n, start, end, report = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
r = json.load(open(report))
secs = end - start
print(f"{n:>9} records: {secs:7.2f} s, {n / secs:>9.0f} records/s, {r['changed_records']} changed")
PY
done
