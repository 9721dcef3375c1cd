#!/usr/bin/env bash
# Load benchmark of the trust broker (docs/identity.md): `intent serve` with identity off against
# the same sidecar verifying a bearer JWT (EdDSA, from PyJWT) on every decision and minting a
# delegation token for its step, and against a sub-request that also presents a delegation token
# (verified on every request: not remembered). Same run, same tool (wrk), same settings, rounds
# alternating. Goal: with identity on, at least 0.8 of the throughput with it off.
#
#   benches/identity.sh                      # 2 rounds of 10 s per target, 64 connections
#   INTENT_BENCH_QUICK=1 benches/identity.sh # 1 round of 5 s per target
#
# Needs wrk, a Python with PyJWT and cryptography (INTENT_TEST_PYTHON, as .ci/run makes) and a
# release build (made here).
set -euo pipefail
cd "$(dirname "$0")/.."

command -v wrk >/dev/null || { echo "wrk is required: apt-get install -y wrk"; exit 1; }
python=${INTENT_TEST_PYTHON:-python3}
"$python" -c "import jwt, cryptography" || { echo "PyJWT and cryptography are required (INTENT_TEST_PYTHON)"; exit 1; }
duration=${INTENT_BENCH_DURATION:-10s}
rounds=${INTENT_BENCH_ROUNDS:-2}
[ -n "${INTENT_BENCH_QUICK:-}" ] && duration=5s && rounds=1
conns=${INTENT_BENCH_CONNECTIONS:-64}
threads=${INTENT_BENCH_THREADS:-2}
plain_addr=127.0.0.1:18281
trust_addr=127.0.0.1:18282

cargo build --release --locked --bin intent 2>&1 | tail -n 1
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

iss=https://idp.bench.invalid
aud=intent-mesh
target/release/intent build tests/serve/trust.intent -o "$work/plan.json" 2>/dev/null
"$python" tests/identity/tokens.py make "$work" "$iss" "$aud" >"$work/tokens.json"
target/release/intent keys generate --out "$work" --name sidecar >/dev/null
token() { "$python" -c "import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])" "$work/tokens.json" "$1"; }
frontend=$(token frontend)
order_desk=$(token eddsa)

target/release/intent serve --plan "$work/plan.json" --addr "$plain_addr" 2>"$work/plain.err" &
pids+=($!)
target/release/intent serve --plan "$work/plan.json" --addr "$trust_addr" \
  --jwks "$work/jwks.json" --jwt-issuer "$iss" --jwt-audience "$aud" \
  --external-caller frontend --signing-key "$work/sidecar.key.pem" 2>"$work/trust.err" &
pids+=($!)
for _ in $(seq 100); do
  curl -fs "http://$plain_addr/readyz" >/dev/null 2>&1 && curl -fs "http://$trust_addr/readyz" >/dev/null 2>&1 && break
  sleep 0.1
done
# The delegation token order_desk got for `order` (valid 5 minutes: longer than the bench).
t1=$(curl -fsS -X POST -H 'content-type: application/json' -H "authorization: Bearer $frontend" \
  -d '{"intent":"order","confidence":0.95,"channel":"web"}' \
  -D - -o /dev/null "http://$trust_addr/v1/decide" | awk -F': ' 'tolower($1)=="x-intent-token" {print $2}' | tr -d '\r')
[ -n "$t1" ] || { echo "no delegation token minted"; exit 1; }

body='{"intent":"order","confidence":0.95,"channel":"web"}'
cat >"$work/plain.lua" <<LUA
wrk.method = "POST"
wrk.headers["content-type"] = "application/json"
wrk.body = '$body'
LUA
cat >"$work/bearer.lua" <<LUA
wrk.method = "POST"
wrk.headers["content-type"] = "application/json"
wrk.headers["authorization"] = "Bearer $frontend"
wrk.body = '$body'
LUA
cat >"$work/delegated.lua" <<LUA
wrk.method = "POST"
wrk.headers["content-type"] = "application/json"
wrk.headers["authorization"] = "Bearer $order_desk"
wrk.headers["x-intent-token"] = "$t1"
wrk.body = '{"intent":"pay","confidence":0.95,"channel":"web"}'
LUA

summary() {
  awk '
    /Requests\/sec/ {rps=$2}
    /^ +99%/ {p99=$2}
    /Non-2xx/ {non2xx=$NF}
    /requests in/ {total=$1}
    END {printf "%12s req/s   p99 %8s   requests %9s   non-2xx %s\n", rps, p99, total, (non2xx==""?0:non2xx)}'
}
rps() { awk '/Requests\/sec/ {print $2}'; }

echo "wrk -t$threads -c$conns -d$duration --latency; $(nproc) cores; uptime:$(uptime | sed 's/.*load average/ load average/')"
wrk -t"$threads" -c"$conns" -d2s -s "$work/bearer.lua" "http://$trust_addr/v1/decide" >/dev/null
wrk -t"$threads" -c"$conns" -d2s -s "$work/plain.lua" "http://$plain_addr/v1/decide" >/dev/null
for round in $(seq "$rounds"); do
  plain=$(wrk -t"$threads" -c"$conns" -d"$duration" --latency -s "$work/plain.lua" "http://$plain_addr/v1/decide")
  bearer=$(wrk -t"$threads" -c"$conns" -d"$duration" --latency -s "$work/bearer.lua" "http://$trust_addr/v1/decide")
  delegated=$(wrk -t"$threads" -c"$conns" -d"$duration" --latency -s "$work/delegated.lua" "http://$trust_addr/v1/decide")
  echo "round $round"
  echo "  identity off:                         $(echo "$plain" | summary)"
  echo "  bearer JWT + minting:                 $(echo "$bearer" | summary)"
  echo "  bearer JWT + delegation token + mint: $(echo "$delegated" | summary)"
  p=$(echo "$plain" | rps); b=$(echo "$bearer" | rps); d=$(echo "$delegated" | rps)
  awk -v p="$p" -v b="$b" -v d="$d" 'BEGIN {printf "  with identity / without: %.2f (bearer), %.2f (bearer + delegation token); goal: at least 0.80\n", b / p, d / p}'
done
echo "uptime:$(uptime | sed 's/.*load average/ load average/')"
curl -fs "http://$trust_addr/metrics" | grep -E '^intent_(identity_refusals|delegation_tokens_minted)' || true
