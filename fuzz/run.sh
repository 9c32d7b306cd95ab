#!/usr/bin/env bash
# Runs the cargo-fuzz targets (nightly and cargo-fuzz needed: `rustup toolchain install
# nightly`, `cargo install cargo-fuzz`).
#
#   bash fuzz/run.sh [target|all] [runs] [seconds]
#
# Defaults: every target, 10,000,000 runs, at most 3,600 seconds each, one after the other.
# New inputs go to fuzz/corpus-run/<target> (git-ignored); the seeds in fuzz/corpus/<target>
# are read, never written. A crash leaves its input in fuzz/artifacts/<target>/ and stops
# that target with a non-zero status. Extra libFuzzer flags: FUZZ_FLAGS="-jobs=2".
# Without the `segmentation` feature wire_requests checks only for panics:
# FUZZ_FEATURES=--no-default-features.
set -euo pipefail
cd "$(dirname "$0")"

targets=(next_headers http_event error_body wire_requests)
which=${1:-all}
runs=${2:-10000000}
seconds=${3:-3600}
if [ "$which" != all ]; then targets=("$which"); fi

status=0
for target in "${targets[@]}"; do
  mkdir -p "corpus-run/$target"
  max_len=4096
  [ "$target" = http_event ] && max_len=16384
  echo "fuzz/run.sh: $target, $runs runs, at most $seconds s" >&2
  # shellcheck disable=SC2086
  cargo +nightly fuzz run ${FUZZ_FEATURES:-} -O "$target" "corpus-run/$target" "corpus/$target" -- \
    -runs="$runs" -max_total_time="$seconds" -max_len="$max_len" \
    -dict="dict/$target.dict" -print_final_stats=1 ${FUZZ_FLAGS:-} || status=$?
done
exit "$status"
