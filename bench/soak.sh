#!/usr/bin/env bash
# Soak: a million invocations of the release `echo` under the release `coda run`, driven by
# bench-load (bench/load) with 8 callers on kept-alive connections, every answer checked
# byte for byte, a memory sample every 100,000 invocations. Prints the samples and checks
# "peak RSS flat within 256 KB after warm-up": the function's VmHWM grows by at most 256 KB
# from the first sample to the last (BENCHMARKS.md, "Soak and load (issue 12)").
#
#   bash bench/soak.sh                                  # about 8 min on 2 busy cores
#   INVOCATIONS=20000 CALLERS=4 bash bench/soak.sh      # smoke test
#
# The table goes to stdout, progress to stderr; the table, the machine, the figures (JSON)
# and bench-load's report are kept in bench-results/<UTC timestamp>-soak/ (git-ignored).
# Exit status: 0 on PASS (flat, nothing lost or mismatched), 1 on FAIL, 2 when it could not run.
#
# Environment (defaults in brackets):
#   INVOCATIONS    measured invocations [1000000]
#   CALLERS        caller threads [8]
#   SAMPLE_EVERY   invocations between memory samples [INVOCATIONS / 10]
#   WARM_UP        warm-up invocations, not counted [1000]
#   FLAT_KB        the allowed VmHWM growth from the first sample to the last [256]
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=bench/machine.sh
. "$ROOT/bench/machine.sh"
INVOCATIONS=${INVOCATIONS:-1000000}
CALLERS=${CALLERS:-8}
SAMPLE_EVERY=${SAMPLE_EVERY:-$((INVOCATIONS / 10))}
WARM_UP=${WARM_UP:-1000}
FLAT_KB=${FLAT_KB:-256}
say() { echo "soak: $*" >&2; }
command -v cargo > /dev/null || { say "cargo is required"; exit 2; }
command -v jq > /dev/null || { say "jq is required"; exit 2; }
[ "$SAMPLE_EVERY" -gt 0 ] || { say "SAMPLE_EVERY must be at least 1"; exit 2; }

STAMP=$(date -u +%Y%m%dT%H%M%SZ)
OUT=$ROOT/bench-results/$STAMP-soak
mkdir -p "$OUT"
unset RUST_BACKTRACE RUST_LOG AWS_LAMBDA_LOG_FORMAT AWS_LAMBDA_LOG_LEVEL AWS_LAMBDA_MAX_CONCURRENCY

say "building release coda, echo and bench-load"
(cd "$ROOT" && cargo build -q --release -p coda-bootstrap -p coda-bench-load && cargo build -q --release -p coda-examples --bin echo)
TARGET=$(cd "$ROOT" && cargo metadata --format-version 1 --no-deps | jq -r .target_directory)
BIN=$TARGET/release

{
  machine_lines "$ROOT"
  echo "settings: INVOCATIONS=$INVOCATIONS CALLERS=$CALLERS SAMPLE_EVERY=$SAMPLE_EVERY WARM_UP=$WARM_UP FLAT_KB=$FLAT_KB"
  echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
} > "$OUT/machine.txt"

say "$INVOCATIONS invocations of echo, $CALLERS callers, a sample every $SAMPLE_EVERY (report: $OUT/report.txt)"
set +e
"$BIN/bench-load" --coda "$BIN/coda" --callers "$CALLERS" --invocations "$INVOCATIONS" \
  --warm-up "$WARM_UP" --sample-every "$SAMPLE_EVERY" --check echo --label echo-soak \
  -- "$BIN/echo" > "$OUT/figures.json" 2> >(tee "$OUT/report.txt" >&2)
status=$?
set -e
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)" >> "$OUT/machine.txt"
if [ "$status" -eq 2 ] || ! jq -e . "$OUT/figures.json" > /dev/null 2>&1; then
  say "the run could not take place (status $status); see $OUT/report.txt"
  exit 2
fi

F=$OUT/figures.json
{
  echo "Soak, $(head -1 "$OUT/machine.txt")"
  sed -n '2,$p' "$OUT/machine.txt"
  echo
  echo "| invocations | elapsed s | function VmHWM kB | function VmRSS kB | coda VmRSS kB |"
  echo "|------------:|----------:|------------------:|------------------:|--------------:|"
  jq -r '.samples[] | "| \(.count) | \(.elapsed_s) | \(.function_vmhwm_kb) | \(.function_vmrss_kb) | \(.coda_vmrss_kb) |"' "$F"
  echo
  jq -r '"answered \(.answered), lost \(.lost), mismatched \(.mismatched), 429s \(.rejected_429), connection errors \(.connection_errors), other statuses \(.other_statuses)"' "$F"
  jq -r '"\(.invocations_per_s) inv/s; latency p50 \(.latency_p50_us) us, p99 \(.latency_p99_us) us, max \(.latency_max_us) us"' "$F"
  jq -r '"CPU per invocation: coda \(.coda_cpu_us_per_inv) us, function \(.function_cpu_us_per_inv) us; at the end: function VmHWM \(.function_vmhwm_kb) kB, coda VmHWM \(.coda_vmhwm_kb) kB VmRSS \(.coda_vmrss_kb) kB"' "$F"
  jq -r '"function pid \(.function_pid_start) at the start, \(.function_pid_end) at the end"' "$F"
} | tee "$OUT/table.md"

growth=$(jq '(.samples | last.function_vmhwm_kb) - (.samples | first.function_vmhwm_kb)' "$F")
coda_growth=$(jq '(.samples | last.coda_vmrss_kb) - (.samples | first.coda_vmrss_kb)' "$F")
clean=$(jq '.lost == 0 and .mismatched == 0 and .warm_up_lost == 0 and .warm_up_mismatched == 0' "$F")
verdict=PASS
[ "$growth" -le "$FLAT_KB" ] || verdict=FAIL
[ "$clean" = true ] || verdict=FAIL
[ "$status" -eq 0 ] || verdict=FAIL
{
  echo
  echo "function VmHWM growth from the first sample to the last: $growth kB (goal <= $FLAT_KB kB); coda VmRSS: $coda_growth kB"
  echo "0 lost and 0 mismatched: $clean; bench-load exit status $status"
  echo "$verdict"
  echo "raw data: $OUT"
} | tee -a "$OUT/table.md"
[ "$verdict" = PASS ]
