#!/usr/bin/env bash
# Soak test of `intent serve`: ten minutes of load (by default) with rate limits in the mesh,
# the decision log on and the in-memory store, one wrk run per minute. Prints each minute's
# throughput, p99 and the sidecar's RSS, then the last minute's throughput over the first
# (goal: at least 0.90) and the RSS growth from the end of minute 1 to the end (goal: flat).
#
# The mesh is tests/serve/fleet.intent with limits that are reached all the time, in windows of
# a second and of a minute, so the store keeps full sliding logs for the whole run:
#   rate quoter 20000 per 1m   (most get_quote requests are throttled after the first seconds)
#   rate cashier 1000 per 10s  (every unsure quote escalates to the cashier, counted)
# and traffic that mixes sure quotes, unsure quotes and payments (wrk's script cycles them).
#
#   benches/soak.sh                         # 10 minutes, 64 connections
#   INTENT_SOAK_MINUTES=2 benches/soak.sh   # a shorter run
#
# Needs wrk (apt-get install -y wrk) and a release build (made here).
set -euo pipefail
cd "$(dirname "$0")/.."

command -v wrk >/dev/null || { echo "wrk is required: apt-get install -y wrk"; exit 1; }
minutes=${INTENT_SOAK_MINUTES:-10}
conns=${INTENT_BENCH_CONNECTIONS:-64}
threads=${INTENT_BENCH_THREADS:-2}
addr=127.0.0.1:18381

cargo build --release --locked --bin intent 2>&1 | tail -n 1
intent="${CARGO_TARGET_DIR:-target}/release/intent"
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

sed -e 's/rate quoter 30 per 2s/rate quoter 20000 per 1m/' \
    -e 's/rate cashier 5 per 2s/rate cashier 1000 per 10s/' tests/serve/fleet.intent >"$work/soak.intent"
grep -q 'rate quoter 20000 per 1m' "$work/soak.intent" || { echo "tests/serve/fleet.intent changed: update the limits above"; exit 1; }
"$intent" build "$work/soak.intent" -o "$work/plan.json" 2>/dev/null
"$intent" serve --plan "$work/plan.json" --addr "$addr" --log "$work/decisions.jsonl" 2>"$work/serve.err" &
serve_pid=$!
pids+=($serve_pid)
for _ in $(seq 100); do curl -fs "http://$addr/readyz" >/dev/null 2>&1 && break; sleep 0.1; done

cat >"$work/soak.lua" <<'LUA'
local bodies = {
  '{"intent":"get_quote","confidence":0.95,"channel":"web"}',
  '{"intent":"get_quote","confidence":0.5,"channel":"api"}',
  '{"intent":"send_payment","confidence":0.9,"channel":"api"}',
}
local n = 0
wrk.method = "POST"
wrk.headers["content-type"] = "application/json"
request = function()
  n = n + 1
  return wrk.format(nil, nil, nil, bodies[n % #bodies + 1])
end
LUA

rss_kb() { awk '/VmRSS/ {print $2}' "/proc/$serve_pid/status"; }
summary() {
  awk '
    /Requests\/sec/ {rps=$2}
    /^ +99%/ {p99=$2}
    /Non-2xx/ {non2xx=$NF}
    /requests in/ {total=$1}
    END {printf "%10s req/s   p99 %8s   requests %9s   non-2xx %s", rps, p99, total, (non2xx==""?0:non2xx)}'
}

echo "soak: $minutes x 60 s, wrk -t$threads -c$conns; $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "sidecar RSS at start: $(rss_kb) kB"
first="" last="" rss_first=""
for minute in $(seq "$minutes"); do
  out=$(wrk -t"$threads" -c"$conns" -d60s --latency -s "$work/soak.lua" "http://$addr/v1/decide")
  rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
  rss=$(rss_kb)
  [ -z "$first" ] && first=$rps && rss_first=$rss
  last=$rps
  echo "minute $minute: $(echo "$out" | summary)   RSS ${rss} kB   load $(cut -d' ' -f1 /proc/loadavg)"
done
kill -0 "$serve_pid" || { echo "the sidecar died"; exit 1; }
outcomes=$(curl -fs "http://$addr/metrics" | awk '/^intent_decisions_total/ {print "  " $0}')
echo "decisions by outcome (from /metrics):"
echo "$outcomes"
echo "decision log lines: $(wc -l <"$work/decisions.jsonl")"
awk -v l="$last" -v f="$first" 'BEGIN {printf "last minute / first minute throughput: %.2f (goal: at least 0.90)\n", l / f}'
awk -v a="$rss_first" -v b="$(rss_kb)" 'BEGIN {printf "RSS after minute 1: %d kB, at end: %d kB (%+.1f%%)\n", a, b, (b - a) * 100 / a}'
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
