#!/usr/bin/env bash
# Figures for deferred work that does not go well (issue 11), with the `resilient` example
# under `coda run` (release builds):
#
#   bash bench/resilient.sh [invocations]    # default 100 for latency, 2000 for the blocking run
#
# 1. The caller's latency (curl time_total, p50/p99) with `{"fail_times": 0}` and with
#    `{"fail_times": 2}` (two failed attempts and their backoff, 20 + 40 ms, after the answer):
#    retries cost the caller nothing.
# 2. A closure that blocks forever on every invocation, at a 1 s timeout: BLOCK_N invocations,
#    then the function process's threads, RSS and address space (/proc), and the time taken.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
N=${1:-100}
BLOCK_N=${BLOCK_N:-2000}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-/tmp/coda-bench/resilient}
cargo build -q --release --manifest-path "$ROOT/Cargo.toml" -p coda-bootstrap -p coda-examples --bin coda --bin resilient
BIN=$CARGO_TARGET_DIR/release
command -v curl > /dev/null || { echo "resilient.sh: curl is required" >&2; exit 2; }

LOG=$(mktemp)
start() { # $@ = coda run options
  "$BIN/coda" run --port 0 "$@" -- "$BIN/resilient" > /dev/null 2> "$LOG" &
  CODA=$!
  URL=""
  for _ in $(seq 200); do
    URL=$(grep -o 'http://127.0.0.1:[0-9]*/2015-03-31/functions/function/invocations' "$LOG" | head -1 || true)
    [ -n "$URL" ] && break
    sleep 0.05
  done
  [ -n "$URL" ] || { echo "resilient.sh: coda run did not start" >&2; cat "$LOG" >&2; exit 1; }
}
stop() { kill "$CODA" 2> /dev/null || true; wait "$CODA" 2> /dev/null || true; }
trap 'stop; rm -f "$LOG"' EXIT

latency() { # $1 = event, $2 = label
  local times=()
  for _ in $(seq "$N"); do
    times+=("$(curl -s -o /dev/null -w '%{time_total}' -H 'content-type: application/json' -d "$1" "$URL")")
    sleep 0.15 # let the deferred work of the last one end: the next event starts idle
  done
  printf '%s\n' "${times[@]}" | sort -g | awk -v label="$2" '{a[NR]=$1*1000} END {
    p50=a[int((NR+1)/2)]; p99=a[int(NR*0.99+0.999)]; if (p99=="") p99=a[NR];
    printf "%-44s p50 %7.3f ms   p99 %7.3f ms   (%d invocations)\n", label, p50, p99, NR }'
}

start
echo "resilient under coda run, caller latency (curl, time_total):"
latency '{"fail_times": 0}' "the write succeeds at once"
latency '{"fail_times": 2}' "the write fails twice, retried after the answer"
stop

start --timeout 1
pid=$(pgrep -P "$CODA" -f "$BIN/resilient" | head -1)
t0=$(date +%s.%N)
for _ in $(seq "$BLOCK_N"); do
  curl -s -o /dev/null -H 'content-type: application/json' -d '{"block_ms": 86400000}' "$URL"
done
t1=$(date +%s.%N)
threads=$(awk '/^Threads:/ {print $2}' "/proc/$pid/status")
rss=$(awk '/^VmRSS:/ {print $2}' "/proc/$pid/status")
vm=$(awk '/^VmSize:/ {print $2}' "/proc/$pid/status")
awk -v n="$BLOCK_N" -v t="$threads" -v r="$rss" -v v="$vm" -v s="$(echo "$t1 - $t0" | bc)" 'BEGIN {
  printf "a closure blocking forever, %d invocations at a 1 s timeout: %d threads, RSS %.1f MB, address space %.1f MB, %.1f s\n", n, t, r/1024, v/1024, s }'
stop
