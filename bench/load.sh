#!/usr/bin/env bash
# Load: `coda run` under 1, 8, 64 and 256 callers (bench-load, bench/load: one kept-alive
# connection per caller, closed loop, every answer checked), 10,000 measured invocations
# each, on (a) the release `echo` on one instance (invocations queue) and (b) the release
# `concurrent` under `--concurrency 4` with {"sleep_ms":0,…} (a caller that meets no idle
# /next gets a 429 and retries with exponential back-off and full jitter, as AWS SDKs retry a
# throttle: from 50 ms up to 1 s; RETRY_PAUSE_US=1000 RETRY_CAP_US=1000 makes it a fixed 1 ms
# pause, a retry storm). Prints a table and, per function, the ratio "coda CPU per
# invocation at the most callers / at 1 caller" (goal <= 1.5 x; BENCHMARKS.md, "Soak and
# load (issue 12)").
#
#   bash bench/load.sh                                   # about 3 min on 2 busy cores
#   CALLERS="1 8" INVOCATIONS=2000 bash bench/load.sh    # smoke test
#
# The table goes to stdout, progress to stderr; the table, the machine, every run's JSON
# line and report are kept in bench-results/<UTC timestamp>-load/ (git-ignored). Exit
# status: 0 when nothing was lost or mismatched in any run, 1 otherwise, 2 when a run could
# not take place.
#
# Environment (defaults in brackets):
#   CALLERS        the caller counts, the first and the last give the ratio [1 8 64 256]
#   INVOCATIONS    measured invocations per run [10000]
#   WARM_UP        warm-up invocations per run, not counted [200]
#   CONCURRENCY    `--concurrency` of the concurrent function [4]
#   RETRY_PAUSE_US the first bound of the pause before a 429 is retried [50000]
#   RETRY_CAP_US   the bound it doubles up to [1000000]; = RETRY_PAUSE_US: a fixed pause
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=bench/machine.sh
. "$ROOT/bench/machine.sh"
CALLERS=${CALLERS:-1 8 64 256}
INVOCATIONS=${INVOCATIONS:-10000}
WARM_UP=${WARM_UP:-200}
CONCURRENCY=${CONCURRENCY:-4}
RETRY_PAUSE_US=${RETRY_PAUSE_US:-50000}
RETRY_CAP_US=${RETRY_CAP_US:-1000000}
say() { echo "load: $*" >&2; }
command -v cargo > /dev/null || { say "cargo is required"; exit 2; }
command -v jq > /dev/null || { say "jq is required"; exit 2; }

STAMP=$(date -u +%Y%m%dT%H%M%SZ)
OUT=$ROOT/bench-results/$STAMP-load
RAW=$OUT/raw
mkdir -p "$RAW"
unset RUST_BACKTRACE RUST_LOG AWS_LAMBDA_LOG_FORMAT AWS_LAMBDA_LOG_LEVEL AWS_LAMBDA_MAX_CONCURRENCY

say "building release coda, echo, concurrent and bench-load"
(cd "$ROOT" && cargo build -q --release -p coda-bootstrap -p coda-bench-load &&
  cargo build -q --release -p coda-examples --bin echo --bin concurrent)
TARGET=$(cd "$ROOT" && cargo metadata --format-version 1 --no-deps | jq -r .target_directory)
BIN=$TARGET/release

{
  machine_lines "$ROOT"
  echo "settings: CALLERS='$CALLERS' INVOCATIONS=$INVOCATIONS WARM_UP=$WARM_UP CONCURRENCY=$CONCURRENCY RETRY_PAUSE_US=$RETRY_PAUSE_US RETRY_CAP_US=$RETRY_CAP_US"
  echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
} > "$OUT/machine.txt"

worst=0
run() { # <label> <callers> <bench-load flags and the function...>
  local label=$1 c=$2 status
  shift 2
  say "$label, $c callers, $INVOCATIONS invocations"
  set +e
  "$BIN/bench-load" --coda "$BIN/coda" --callers "$c" --invocations "$INVOCATIONS" \
    --warm-up "$WARM_UP" --label "$label" "$@" > "$RAW/$label-$c.json" 2> "$RAW/$label-$c.txt"
  status=$?
  set -e
  tail -5 "$RAW/$label-$c.txt" >&2
  [ "$status" -le "$worst" ] || worst=$status
}
for c in $CALLERS; do
  run echo "$c" --check echo -- "$BIN/echo"
  run concurrent "$c" --check trace --concurrency "$CONCURRENCY" --sleep-ms 0 \
    --retry-pause-us "$RETRY_PAUSE_US" --retry-cap-us "$RETRY_CAP_US" -- "$BIN/concurrent"
done
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)" >> "$OUT/machine.txt"

first=${CALLERS%% *}
last=${CALLERS##* }
{
  echo "Load, $(head -1 "$OUT/machine.txt")"
  sed -n '2,$p' "$OUT/machine.txt"
  echo
  echo "| function | callers | answered | lost | mismatched | 429s | p50 ms | p99 ms | inv/s | coda CPU us/inv | function CPU us/inv |"
  echo "|----------|--------:|---------:|-----:|-----------:|-----:|-------:|-------:|------:|----------------:|--------------------:|"
  for label in echo concurrent; do
    for c in $CALLERS; do
      f=$RAW/$label-$c.json
      if ! jq -e . "$f" > /dev/null 2>&1; then
        echo "| $label | $c | the run could not take place: $RAW/$label-$c.txt |"
        continue
      fi
      jq -r --arg l "$label" '"| \($l) | \(.callers) | \(.answered) | \(.lost) | \(.mismatched) | \(.rejected_429) | \(.latency_p50_us / 1000 * 100 | round / 100) | \(.latency_p99_us / 1000 * 100 | round / 100) | \(.invocations_per_s) | \(.coda_cpu_us_per_inv) | \(.function_cpu_us_per_inv) |"' "$f"
    done
  done
  echo
  for label in echo concurrent; do
    a=$RAW/$label-$first.json b=$RAW/$label-$last.json
    if jq -e . "$a" > /dev/null 2>&1 && jq -e . "$b" > /dev/null 2>&1; then
      jq -rn --slurpfile a "$a" --slurpfile b "$b" --arg l "$label" --arg f "$first" --arg t "$last" '
        ($b[0].coda_cpu_us_per_inv / $a[0].coda_cpu_us_per_inv) as $r
        | "\($l): coda CPU/inv at \($t) callers / at \($f): \($b[0].coda_cpu_us_per_inv) / \($a[0].coda_cpu_us_per_inv) = \($r * 100 | round / 100) x (goal <= 1.5 x: \(if $r <= 1.5 then "PASS" else "FAIL" end))"'
    fi
  done
  clean=$(cat "$RAW"/*.json | jq -s 'all(.lost == 0 and .mismatched == 0 and .duplicate_request_ids == 0)' 2> /dev/null || echo false)
  echo "0 lost and 0 mismatched in every run: $clean"
  echo "p50/p99: caller latency, first send -> body read (429 retries included). CPU: utime + stime"
  echo "  of /proc/<pid>/stat over the measured phase / invocations; coda's (emulator, front, output)"
  echo "  and the function's (coda's child)."
  echo "raw data: $OUT"
} | tee "$OUT/table.md"
exit "$worst"
