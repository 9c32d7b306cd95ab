#!/usr/bin/env bash
# Builds every cargo-fuzz target and runs each for a few seconds from its seed corpus, for CI
# (nightly and cargo-fuzz needed), with a fixed seed so a run is the same each time. New
# inputs go to a temporary directory, not the repository.
#
#   bash fuzz/smoke.sh [seconds]     # default 5 per target
set -euo pipefail
cd "$(dirname "$0")"
seconds=${1:-5}
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
cargo +nightly fuzz build -O
for target in next_headers http_event error_body wire_requests; do
  mkdir -p "$scratch/$target"
  echo "fuzz/smoke.sh: $target, $seconds s" >&2
  status=0
  cargo +nightly fuzz run -O "$target" "$scratch/$target" "corpus/$target" -- \
    -max_total_time="$seconds" -seed=1 -dict="dict/$target.dict" -print_final_stats=1 \
    > "$scratch/$target.log" 2>&1 || status=$?
  grep -E 'stat::number_of_executed_units|ERROR|SUMMARY|panicked' "$scratch/$target.log" >&2 || true
  if [ "$status" -ne 0 ]; then
    tail -40 "$scratch/$target.log" >&2
    echo "fuzz/smoke.sh: $target failed (its input is in fuzz/artifacts/$target/)" >&2
    exit 1
  fi
done
