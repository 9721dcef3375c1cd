#!/usr/bin/env bash
# Load benchmark of `intent serve` with its limits counted in memory against counted in Redis
# (a redis-server started here on loopback, no persistence), in the same run, same tool (wrk)
# and settings, on the fleet mesh (tests/serve/fleet.intent) with a limit too high to be
# reached (`rate quoter 100000000 per 1s`), so every request is a dispatch that checks and takes
# the quoter's limit. Prints throughput, p99, the Redis/memory ratio and the latency added per
# decision (the difference of mean latencies at one connection). Figures: docs/performance.md.
#
#   benches/state.sh                      # 2 rounds of 10 s per store, 64 connections
#   INTENT_BENCH_QUICK=1 benches/state.sh # 1 round of 5 s
#   INTENT_BENCH_SOAK=6 benches/state.sh  # then 6 more rounds of 10 s on the memory store,
#                                         # printing each round's throughput and the decisions
#                                         # made so far (does a long run slow it down?)
#
# Needs wrk and redis-server (apt-get install -y wrk redis-server) and a release build (made here).
set -euo pipefail
cd "$(dirname "$0")/.."

command -v wrk >/dev/null || { echo "wrk is required: apt-get install -y wrk"; exit 1; }
command -v redis-server >/dev/null || { echo "redis-server is required: apt-get install -y redis-server"; exit 1; }
duration=${INTENT_BENCH_DURATION:-10s}
rounds=${INTENT_BENCH_ROUNDS:-2}
[ -n "${INTENT_BENCH_QUICK:-}" ] && duration=5s && rounds=1
conns=${INTENT_BENCH_CONNECTIONS:-64}
threads=${INTENT_BENCH_THREADS:-2}
memory_addr=127.0.0.1:18281
redis_addr=127.0.0.1:18282
redis_port=16379

cargo build --release --locked --bin intent 2>&1 | tail -n 1
intent="${CARGO_TARGET_DIR:-target}/release/intent"
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

sed 's/rate quoter 30 per 2s/rate quoter 100000000 per 1s/' tests/serve/fleet.intent >"$work/fleet.intent"
"$intent" build "$work/fleet.intent" -o "$work/plan.json" 2>/dev/null
redis-server --port "$redis_port" --bind 127.0.0.1 --save "" --appendonly no --dir "$work" >/dev/null 2>&1 &
pids+=($!)
"$intent" serve --plan "$work/plan.json" --addr "$memory_addr" 2>"$work/memory.err" &
pids+=($!)
"$intent" serve --plan "$work/plan.json" --addr "$redis_addr" --state "redis://127.0.0.1:$redis_port/0" 2>"$work/redis.err" &
pids+=($!)
for _ in $(seq 100); do
  curl -fs "http://$memory_addr/readyz" >/dev/null 2>&1 &&
    curl -fs "http://$redis_addr/readyz" 2>/dev/null | grep -q '"up":true' && break
  sleep 0.1
done

cat >"$work/decide.lua" <<'LUA'
wrk.method = "POST"
wrk.headers["content-type"] = "application/json"
wrk.body = '{"intent":"get_quote","confidence":0.95,"channel":"web"}'
LUA
# Fails the run on any answer that is not a dispatch (a throttle would mean the store refused).
check() { curl -fs -X POST -H 'content-type: application/json' -d '{"intent":"get_quote","confidence":0.95,"channel":"web"}' "http://$1/v1/decide" | grep -q '"outcome":"dispatch"' || { echo "$1 does not dispatch"; exit 1; }; }
check "$memory_addr"; check "$redis_addr"

summary() {
  awk '
    /Requests\/sec/ {rps=$2}
    /^ +99%/ {p99=$2}
    /Non-2xx/ {non2xx=$NF}
    /requests in/ {total=$1}
    END {printf "%12s req/s   p99 %8s   requests %9s   non-2xx %s\n", rps, p99, total, (non2xx==""?0:non2xx)}'
}
mean_us() { awk '/^ +Latency/ {v=$2; if (v ~ /us$/) {sub(/us/,"",v); print v} else if (v ~ /ms$/) {sub(/ms/,"",v); print v*1000} else {sub(/s/,"",v); print v*1000000}}'; }

echo "wrk -t$threads -c$conns -d$duration --latency; $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
wrk -t"$threads" -c"$conns" -d2s -s "$work/decide.lua" "http://$memory_addr/v1/decide" >/dev/null
wrk -t"$threads" -c"$conns" -d2s -s "$work/decide.lua" "http://$redis_addr/v1/decide" >/dev/null
for round in $(seq "$rounds"); do
  memory=$(wrk -t"$threads" -c"$conns" -d"$duration" --latency -s "$work/decide.lua" "http://$memory_addr/v1/decide")
  redis=$(wrk -t"$threads" -c"$conns" -d"$duration" --latency -s "$work/decide.lua" "http://$redis_addr/v1/decide")
  echo "round $round"
  echo "  --state memory:  $(echo "$memory" | summary)"
  echo "  --state redis:   $(echo "$redis" | summary)"
  m=$(echo "$memory" | awk '/Requests\/sec/ {print $2}')
  r=$(echo "$redis" | awk '/Requests\/sec/ {print $2}')
  awk -v r="$r" -v m="$m" 'BEGIN {printf "  redis / memory throughput: %.2f (goal: at least 0.50)\n", r / m}'
done
# One connection: the latency a decision pays for the round trip to Redis.
m1=$(wrk -t1 -c1 -d5s --latency -s "$work/decide.lua" "http://$memory_addr/v1/decide" | mean_us)
r1=$(wrk -t1 -c1 -d5s --latency -s "$work/decide.lua" "http://$redis_addr/v1/decide" | mean_us)
awk -v m="$m1" -v r="$r1" 'BEGIN {printf "one connection: mean latency memory %.0f us, redis %.0f us, added per decision %.0f us\n", m, r, r - m}'
check "$memory_addr"; check "$redis_addr"
decided() { curl -fs "http://$1/metrics" | awk '/^intent_decisions_total/ {s += $2} END {print s + 0}'; }
for round in $(seq "${INTENT_BENCH_SOAK:-0}"); do
  memory=$(wrk -t"$threads" -c"$conns" -d10s --latency -s "$work/decide.lua" "http://$memory_addr/v1/decide")
  echo "soak $round: --state memory: $(echo "$memory" | summary)   decisions so far $(decided "$memory_addr"), RSS $(awk '/VmRSS/ {print $2 " kB"}' /proc/$(pgrep -f "addr $memory_addr" | head -n 1)/status)"
done
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
