#!/usr/bin/env bash
# What `intent serve --otlp` costs a decision (docs/serve.md, "OpenTelemetry"): the same load
# (wrk, POST /v1/decide with a traceparent) on three sidecars in the same run, one without
# --otlp, one exporting to the OTLP receiver of the tests (tests/otlp/receiver.py, Python with
# opentelemetry-proto), one exporting to a port that takes connections and never answers.
# Prints throughput, p50 and p99 for each, and what became of the spans.
#
#   benches/otlp.sh                       # 2 rounds of 10 s per sidecar, 16 connections
#   INTENT_BENCH_QUICK=1 benches/otlp.sh  # 1 round of 5 s
#
# Needs wrk (apt-get install -y wrk), a Python with opentelemetry-proto (INTENT_TEST_PYTHON, or
# python3) and a release build (made here).
set -euo pipefail
cd "$(dirname "$0")/.."

command -v wrk >/dev/null || { echo "wrk is required: apt-get install -y wrk"; exit 1; }
python=${INTENT_TEST_PYTHON:-python3}
duration=${INTENT_BENCH_DURATION:-10s}
rounds=${INTENT_BENCH_ROUNDS:-2}
[ -n "${INTENT_BENCH_QUICK:-}" ] && duration=5s && rounds=1
conns=${INTENT_BENCH_CONNECTIONS:-16}

cargo build --release --workspace --locked --bin intent 2>&1 | tail -n 1
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

target/release/intent build tests/serve/mesh.intent -o "$work/plan.json" 2>/dev/null
"$python" tests/otlp/receiver.py >"$work/receiver.out" &
pids+=($!)
# The silent collector: a socket that listens and never accepts.
"$python" -c 'import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(1024)
print(s.getsockname()[1], flush=True); time.sleep(3600)' >"$work/silent.out" &
pids+=($!)
for _ in $(seq 100); do
  [ -s "$work/receiver.out" ] && [ -s "$work/silent.out" ] && break
  sleep 0.1
done
receiver=$(head -1 "$work/receiver.out" | awk '{print $3}')
silent=$(head -1 "$work/silent.out")

serve() {
  target/release/intent serve --plan "$work/plan.json" --addr "127.0.0.1:$1" "${@:2}" 2>/dev/null &
  pids+=($!)
}
serve 18391
serve 18392 --otlp "http://127.0.0.1:$receiver"
serve 18393 --otlp "http://127.0.0.1:$silent"
for port in 18391 18392 18393; do
  for _ in $(seq 100); do curl -fs "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break; sleep 0.1; done
done

cat >"$work/decide.lua" <<'LUA'
wrk.method = "POST"
wrk.headers["content-type"] = "application/json"
wrk.headers["traceparent"] = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
wrk.body = '{"intent":"take_order","confidence":0.95,"channel":"web"}'
LUA

echo "wrk -t2 -c$conns -d$duration --latency; $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
for round in $(seq "$rounds"); do
  for target in "18391 without --otlp" "18392 --otlp, receiver" "18393 --otlp, silent collector"; do
    port=${target%% *}
    wrk -t2 -c"$conns" -d"$duration" --latency -s "$work/decide.lua" "http://127.0.0.1:$port/v1/decide" |
      awk -v name="${target#* }" '
        /Requests\/sec/ {rps=$2} /^ +50%/ {p50=$2} /^ +99%/ {p99=$2} /Non-2xx/ {non=$NF}
        END {printf "%-32s %10s req/s   p50 %8s   p99 %8s   non-2xx %s\n", name, rps, p50, p99, (non==""?0:non)}'
  done
done
for port in 18392 18393; do
  echo "spans of :$port: $(curl -fs "http://127.0.0.1:$port/metrics" | grep '^intent_otlp_spans_total' | sed 's/intent_otlp_spans_total//' | tr '\n' ' ')"
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
