#!/usr/bin/env bash
# The caller's latency for the `hello` example under `coda run`, with its 200 ms deferred
# work and without it (HELLO_DEFER_MS=0): the answer arrives at /response time either way.
#
#   bash bench/hello-latency.sh [invocations]     # default 100 of each
#
# Uses curl against the Invoke API of `coda run`; waits 300 ms between invocations so that
# each starts on an idle function (the next event is only handed out after the deferred work).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
N=${1:-100}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-/tmp/coda-bench/latency}
cargo build -q --release --manifest-path "$ROOT/Cargo.toml" -p coda-bootstrap -p coda-examples --bin coda --bin hello
BIN=$CARGO_TARGET_DIR/release
command -v curl > /dev/null || { echo "hello-latency: curl is required" >&2; exit 2; }

measure() { # $1 = HELLO_DEFER_MS
  local log; log=$(mktemp)
  "$BIN/coda" run --port 0 --env "HELLO_DEFER_MS=$1" -- "$BIN/hello" > /dev/null 2> "$log" &
  local pid=$!
  local url=""
  for _ in $(seq 200); do
    url=$(grep -o 'http://127.0.0.1:[0-9]*/2015-03-31/functions/function/invocations' "$log" | head -1 || true)
    [ -n "$url" ] && break
    sleep 0.05
  done
  [ -n "$url" ] || { echo "hello-latency: coda run did not start" >&2; cat "$log" >&2; kill $pid; exit 1; }
  local times=()
  for _ in $(seq "$N"); do
    times+=("$(curl -s -o /dev/null -w '%{time_total}' -d '{"name":"World"}' "$url")")
    sleep 0.3
  done
  kill $pid 2> /dev/null || true
  wait $pid 2> /dev/null || true
  rm -f "$log"
  printf '%s\n' "${times[@]}" | sort -g | awk -v label="$2" '{a[NR]=$1*1000} END {
    p50=a[int((NR+1)/2)]; p99=a[int(NR*0.99+0.999)]; if (p99=="") p99=a[NR];
    printf "%-34s p50 %7.3f ms   p99 %7.3f ms   (%d invocations)\n", label, p50, p99, NR }'
}

echo "hello under coda run, caller latency (curl, time_total):"
measure 200 "with 200 ms of deferred work"
measure 0 "without deferred work"
