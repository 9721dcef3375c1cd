#!/usr/bin/env bash
# Load benchmark of `intent serve` (POST /v1/decide and GET /v1/authz with the x-intent-*
# headers, decision log on) against the HTTP floor
# (examples/http_floor.rs: hyper on tokio answering a fixed body), in the same run with the same
# tool (wrk) and settings. Prints throughput, p99 latency and errors for both, and the
# sidecar's RSS at start, after warm-up and at the end. Figures go in docs/performance.md.
#
#   benches/serve.sh                      # 2 rounds of 10 s per target, 64 connections
#   INTENT_BENCH_QUICK=1 benches/serve.sh # 1 round of 5 s per target
#   INTENT_BENCH_DURATION=60s INTENT_BENCH_CONNECTIONS=128 benches/serve.sh
#
# Needs wrk (apt-get install -y wrk) and a release build (made here).
set -euo pipefail
cd "$(dirname "$0")/.."

command -v wrk >/dev/null || { echo "wrk is required: apt-get install -y wrk"; exit 1; }
duration=${INTENT_BENCH_DURATION:-10s}
rounds=${INTENT_BENCH_ROUNDS:-2}
[ -n "${INTENT_BENCH_QUICK:-}" ] && duration=5s && rounds=1
conns=${INTENT_BENCH_CONNECTIONS:-64}
threads=${INTENT_BENCH_THREADS:-2}
floor_addr=127.0.0.1:18090
serve_addr=127.0.0.1:18181

cargo build --release --locked --bin intent --example http_floor 2>&1 | tail -n 1
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

target/release/intent build tests/serve/mesh.intent -o "$work/plan.json" 2>/dev/null
target/release/examples/http_floor "$floor_addr" 2>/dev/null &
pids+=($!)
target/release/intent serve --plan "$work/plan.json" --addr "$serve_addr" --log "$work/decisions.jsonl" 2>"$work/serve.err" &
serve_pid=$!
pids+=($serve_pid)
for _ in $(seq 100); do
  curl -fs "http://$serve_addr/readyz" >/dev/null 2>&1 && curl -fs "http://$floor_addr/" >/dev/null 2>&1 && break
  sleep 0.1
done

cat >"$work/decide.lua" <<'LUA'
wrk.method = "POST"
wrk.headers["content-type"] = "application/json"
wrk.body = '{"intent":"take_order","confidence":0.95,"channel":"web"}'
LUA
cat >"$work/authz.lua" <<'LUA'
wrk.headers["x-intent-name"] = "take_order"
wrk.headers["x-intent-confidence"] = "0.95"
wrk.headers["x-intent-context-channel"] = "web"
LUA

rss() { awk '/VmRSS/ {print $2 " kB"}' "/proc/$1/status"; }
# Requests/sec, p99, and errors (socket errors + non-2xx) from wrk's output.
summary() {
  awk '
    /Requests\/sec/ {rps=$2}
    /^ +99%/ {p99=$2}
    /Non-2xx/ {non2xx=$NF}
    /Socket errors/ {sock=$0}
    /requests in/ {total=$1}
    END {printf "%12s req/s   p99 %8s   requests %9s   non-2xx %s   %s\n", rps, p99, total, (non2xx==""?0:non2xx), (sock==""?"socket errors: none":sock)}'
}

echo "wrk -t$threads -c$conns -d$duration --latency; $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "sidecar RSS at start:       $(rss $serve_pid)"
wrk -t"$threads" -c"$conns" -d2s -s "$work/decide.lua" "http://$serve_addr/v1/decide" >/dev/null
echo "sidecar RSS after warm-up:  $(rss $serve_pid)"
# Rounds alternate floor and sidecar, so a neighbour's load on this shared machine hits both.
for round in $(seq "$rounds"); do
  floor=$(wrk -t"$threads" -c"$conns" -d"$duration" --latency "http://$floor_addr/")
  serve=$(wrk -t"$threads" -c"$conns" -d"$duration" --latency -s "$work/decide.lua" "http://$serve_addr/v1/decide")
  authz=$(wrk -t"$threads" -c"$conns" -d"$duration" --latency -s "$work/authz.lua" "http://$serve_addr/v1/authz")
  echo "round $round"
  echo "  floor (hyper, fixed body):  $(echo "$floor" | summary)"
  echo "  intent serve /v1/decide:    $(echo "$serve" | summary)"
  echo "  intent serve /v1/authz:     $(echo "$authz" | summary)"
  floor_rps=$(echo "$floor" | awk '/Requests\/sec/ {print $2}')
  serve_rps=$(echo "$serve" | awk '/Requests\/sec/ {print $2}')
  authz_rps=$(echo "$authz" | awk '/Requests\/sec/ {print $2}')
  awk -v s="$serve_rps" -v a="$authz_rps" -v f="$floor_rps" 'BEGIN {printf "  sidecar / floor throughput: decide %.2f, authz %.2f (goal: at least 0.75)\n", s / f, a / f}'
  echo "  sidecar RSS:                $(rss $serve_pid)"
done
echo "sidecar RSS at end:         $(rss $serve_pid)"
echo "decision log lines written: $(wc -l <"$work/decisions.jsonl")"
curl -fs "http://$serve_addr/metrics" | grep -E '^intent_decisions_total' | head -n 3
