#!/usr/bin/env bash
# What `intent mcp` adds to a tool call (docs/mcp.md): the same tools/call (wrk, POST of a
# JSON-RPC request, session-less, protocol version 2025-06-18) sent straight to an MCP server
# written with the official Python SDK (tests/mcp/upstream.py) and through the gateway in front
# of it, in the same run. Prints throughput, p50 and p99 for each: at one connection (the added
# latency) and at several (the throughput ratio).
#
#   benches/mcp.sh                       # 2 rounds of 10 s each
#   INTENT_BENCH_QUICK=1 benches/mcp.sh  # 1 round of 5 s
#
# Needs wrk (apt-get install -y wrk), a Python with `mcp` (INTENT_TEST_PYTHON, or python3) and a
# release build (made here).
set -euo pipefail
cd "$(dirname "$0")/.."

command -v wrk >/dev/null || { echo "wrk is required: apt-get install -y wrk"; exit 1; }
python=${INTENT_TEST_PYTHON:-python3}
duration=${INTENT_BENCH_DURATION:-10s}
rounds=${INTENT_BENCH_ROUNDS:-2}
[ -n "${INTENT_BENCH_QUICK:-}" ] && duration=5s && rounds=1
conns=${INTENT_BENCH_CONNECTIONS:-8}

cargo build --release --workspace --locked --bin intent 2>&1 | tail -n 1
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

upstream=18491
gateway=18492
sed "s/127.0.0.1:9101/127.0.0.1:$upstream/" examples/support-mcp/support.intent >"$work/support.intent"
# A limit the bench does not reach: the mesh's own (50 per minute) would throttle it.
sed -i "s/rate billing 50 per 1m/rate billing 100000000 per 1s/" "$work/support.intent"
"$python" tests/mcp/upstream.py "$upstream" billing >/dev/null 2>&1 &
pids+=($!)
target/release/intent mcp "$work/support.intent" --addr "127.0.0.1:$gateway" --reload-ms 0 2>/dev/null &
pids+=($!)
for _ in $(seq 100); do
  curl -fs "http://127.0.0.1:$gateway/readyz" >/dev/null 2>&1 &&
    (exec 3<>"/dev/tcp/127.0.0.1/$upstream") 2>/dev/null && break
  sleep 0.2
done

cat >"$work/call.lua" <<'LUA'
wrk.method = "POST"
wrk.headers["content-type"] = "application/json"
wrk.headers["accept"] = "application/json, text/event-stream"
wrk.headers["mcp-protocol-version"] = "2025-06-18"
wrk.body = '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"refund_order","arguments":{"order_id":"A-1","amount":20}}}'
LUA
# One call through the gateway first: it must be the server's answer, not a refusal.
curl -fs -X POST "http://127.0.0.1:$gateway/mcp" -H 'content-type: application/json' \
  -H 'accept: application/json, text/event-stream' -H 'mcp-protocol-version: 2025-06-18' \
  -d '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"refund_order","arguments":{"order_id":"A-1","amount":20}}}' |
  grep -q '"server":"billing"' || { echo "the gateway did not forward the call"; exit 1; }

run() { # connections name port
  wrk -t1 -c"$1" -d"$duration" --latency -s "$work/call.lua" "http://127.0.0.1:$3/mcp" |
    awk -v name="$2" '
      /Requests\/sec/ {rps=$2} /^ +50%/ {p50=$2} /^ +99%/ {p99=$2} /Non-2xx/ {non=$NF}
      END {printf "%-34s %10s calls/s   p50 %8s   p99 %8s   non-2xx %s\n", name, rps, p50, p99, (non==""?0:non)}'
}
echo "wrk -t1 --latency, $duration; $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
for round in $(seq "$rounds"); do
  run 1 "direct, 1 connection" "$upstream"
  run 1 "through intent mcp, 1 connection" "$gateway"
  run "$conns" "direct, $conns connections" "$upstream"
  run "$conns" "through intent mcp, $conns connections" "$gateway"
done
echo "forwarded: $(curl -fs "http://127.0.0.1:$gateway/metrics" | grep '^intent_mcp_calls_total' | tr '\n' ' ')"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
