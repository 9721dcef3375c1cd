#!/usr/bin/env bash
# Usage: fuzz/campaign.sh TARGET SECONDS
# Runs one cargo-fuzz target for SECONDS on stable Rust (`-s none`: no sanitizer; debug
# assertions and overflow checks stay on), then prints one line of figures: executions, time,
# executions per second, corpus size, new crashes. The corpus grows in fuzz/corpus/TARGET (not
# in git); `compile` also reads the repository's meshes as seeds. A crash's input is saved in
# fuzz/artifacts/TARGET/; the exit status is cargo-fuzz's (non-zero on a crash).
set -uo pipefail
cd "$(dirname "$0")"
target=${1:?usage: fuzz/campaign.sh TARGET SECONDS}
seconds=${2:?usage: fuzz/campaign.sh TARGET SECONDS}
mkdir -p "corpus/$target" "artifacts/$target"
seeds=()
if [ "$target" = compile ]; then
  seeds=(../examples/finance ../examples/healthcare ../examples/logistics ../tests/semantics ../tests/serve)
fi
log=$(mktemp "${TMPDIR:-/tmp}/fuzz-$target.XXXXXX")
crashes_before=$(find "artifacts/$target" -type f | wc -l)
start=$(date +%s)
cargo fuzz run "$target" -s none "corpus/$target" "${seeds[@]}" -- \
  -max_total_time="$seconds" -print_final_stats=1 -timeout=10 >"$log" 2>&1
status=$?
elapsed=$(( $(date +%s) - start ))
execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
corpus=$(find "corpus/$target" -type f | wc -l)
crashes=$(( $(find "artifacts/$target" -type f | wc -l) - crashes_before ))
echo "fuzz $target: ${execs:-?} executions in ${elapsed} s (${rate:-?}/s), corpus ${corpus} inputs, ${crashes} new crash(es), exit ${status}"
if [ "$status" -ne 0 ]; then
  grep -m5 -E "panicked at|^==[0-9]+== ERROR|^SUMMARY|Test unit written" "$log"
  echo "full log: $log"
fi
exit "$status"
