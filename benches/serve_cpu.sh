#!/usr/bin/env bash
# CPU time per request of `intent serve` (POST /v1/decide, GET /v1/authz, decision log on) and
# of the HTTP floor (examples/http_floor.rs), each server pinned to core 0 and wrk (one thread,
# 32 connections) to core 1, so that neither steals the other's core. Throughput on a shared
# VM moves more between runs than most changes do; the server's own CPU time (user and
# system, from /proc/PID/stat) over the requests it answered moves much less.
#
#   benches/serve_cpu.sh                        # 3 rounds: floor, decide, authz
#   INTENT_BIN_B=/tmp/intent-old benches/serve_cpu.sh   # and another build, alternating
#   INTENT_BENCH_ROUNDS=5 INTENT_BENCH_DURATION=8s benches/serve_cpu.sh
#
# Needs wrk, taskset (util-linux) and 2 cores. Figures go in docs/performance.md.
set -euo pipefail
cd "$(dirname "$0")/.."

command -v wrk >/dev/null || { echo "wrk is required: apt-get install -y wrk"; exit 1; }
rounds=${INTENT_BENCH_ROUNDS:-3}
duration=${INTENT_BENCH_DURATION:-4s}
addr=127.0.0.1:18391
cargo build --release --locked --bin intent --example http_floor 2>&1 | tail -n 1
bins=(target/release/intent)
[ -n "${INTENT_BIN_B:-}" ] && bins+=("$INTENT_BIN_B")

work=$(mktemp -d)
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
target/release/intent build tests/serve/mesh.intent -o "$work/plan.json" 2>/dev/null
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

# measure LABEL URL WRK-ARGS.. : the running server's CPU per request over one wrk run.
measure() {
  local label=$1 url=$2
  shift 2
  for _ in $(seq 100); do curl -s -o /dev/null "$url" && break; sleep 0.1; done
  taskset -c 1 wrk -t1 -c32 -d1s "$@" "$url" >/dev/null
  read -r u1 s1 < <(awk '{print $14, $15}' "/proc/$pid/stat")
  local out
  out=$(taskset -c 1 wrk -t1 -c32 -d"$duration" "$@" "$url")
  read -r u2 s2 < <(awk '{print $14, $15}' "/proc/$pid/stat")
  local n rps
  n=$(echo "$out" | awk '/requests in/ {print $1}')
  rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
  awk -v u=$((u2 - u1)) -v s=$((s2 - s1)) -v n="$n" -v t="$(getconf CLK_TCK)" -v r="$rps" -v l="$label" \
    'BEGIN {printf "  %-40s %9.0f req/s   CPU per request %6.2f us (user %5.2f, system %5.2f)\n", l, r, (u + s) / t / n * 1e6, u / t / n * 1e6, s / t / n * 1e6}'
  kill "$pid"
  wait "$pid" 2>/dev/null || true
  pid=
}

echo "$(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg); wrk -t1 -c32 -d$duration"
for round in $(seq "$rounds"); do
  echo "round $round"
  taskset -c 0 target/release/examples/http_floor "$addr" >/dev/null 2>&1 &
  pid=$!
  measure "floor (hyper, fixed body)" "http://$addr/"
  for bin in "${bins[@]}"; do
    for what in decide authz; do
      taskset -c 0 "$bin" serve --plan "$work/plan.json" --addr "$addr" --log "$work/decisions.jsonl" 2>/dev/null &
      pid=$!
      measure "$bin /v1/$what" "http://$addr/v1/$what" -s "$work/$what.lua"
    done
  done
done
echo "load average $(cut -d' ' -f1-3 /proc/loadavg)"
