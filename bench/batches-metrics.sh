#!/usr/bin/env bash
# The figures of BENCHMARKS.md's "Batches and metrics" section:
#
#   1. the crates each batch and metrics feature of coda-handlers adds to a function's build
#      (cargo tree, normal and build dependencies, against coda-handlers with no feature);
#   2. the caller latency of the `metrics` example under `coda run` with its two flushes (the
#      deferred flush and the observer, METRICS_FLUSH=1) and without them (METRICS_FLUSH=0):
#      p50/p99 of curl's time_total against the Invoke API, release builds.
#
#   bash bench/batches-metrics.sh [invocations]     # default 300 of each
#
# Needs curl. Runs on loopback only; each run is bounded by its invocation count.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
N=${1:-300}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-/tmp/coda-bench/batches-metrics}
command -v curl > /dev/null || { echo "batches-metrics: curl is required" >&2; exit 2; }

# ---------------------------------------------------------------------------------------------
# 1. Crates per feature.
crates() { sed 's/ (\*)//; s/ (proc-macro)//' | grep -v '^$' | sort -u; }
tree() { (cd "$ROOT" && cargo tree -q -p coda-handlers -e normal,build --prefix none "$@") | crates; }
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
tree --no-default-features > "$OUT/none.txt"
echo "crates each feature adds to coda-handlers with no feature ($(grep -vc '^coda-handlers ' "$OUT/none.txt") crates besides itself):"
for f in sqs kinesis dynamodb metrics "sqs,kinesis,dynamodb" "apigw_v2,sqs"; do
  tree --no-default-features --features "$f" > "$OUT/f.txt"
  added=$(comm -13 "$OUT/none.txt" "$OUT/f.txt")
  n=$(printf '%s' "$added" | grep -c . || true)
  printf '  %-22s %3d  %s\n' "$f" "$n" "$(printf '%s\n' "$added" | awk '{printf "%s%s %s", sep, $1, $2; sep=", "}')"
done
tree > "$OUT/default.txt"
printf '  %-22s %3d\n' "default (all)" "$(comm -13 "$OUT/none.txt" "$OUT/default.txt" | grep -c .)"

# ---------------------------------------------------------------------------------------------
# 2. Caller latency of `metrics`, with and without the flush.
cargo build -q --release --manifest-path "$ROOT/Cargo.toml" -p coda-bootstrap -p coda-examples --bin coda --bin metrics
BIN=$CARGO_TARGET_DIR/release

measure() { # $1 = METRICS_FLUSH, $2 = label
  local log; log=$(mktemp)
  local emf; emf=$(mktemp)
  "$BIN/coda" run --port 0 --env "METRICS_FLUSH=$1" -- "$BIN/metrics" > "$emf" 2> "$log" &
  local pid=$!
  local url=""
  for _ in $(seq 200); do
    url=$(grep -o 'http://127.0.0.1:[0-9]*/2015-03-31/functions/function/invocations' "$log" | head -1 || true)
    [ -n "$url" ] && break
    sleep 0.05
  done
  [ -n "$url" ] || { echo "batches-metrics: coda run did not start" >&2; cat "$log" >&2; kill $pid; exit 1; }
  # A few warm-up invocations (the cold start is not what is measured).
  for _ in 1 2 3 4 5; do curl -s -o /dev/null -d '{"item":"book","cents":1250}' "$url"; done
  local times=()
  for _ in $(seq "$N"); do
    times+=("$(curl -s -o /dev/null -w '%{time_total}' -d '{"item":"book","cents":1250}' "$url")")
    # The next event is handed out only once the previous invocation's flush is done: each
    # invocation starts on an idle function.
    sleep 0.02
  done
  kill $pid 2> /dev/null || true
  wait $pid 2> /dev/null || true
  local lines; lines=$(grep -c '^{"_aws"' "$emf" || true)
  rm -f "$log" "$emf"
  printf '%s\n' "${times[@]}" | sort -g | awk -v label="$2" -v lines="$lines" '{a[NR]=$1*1000} END {
    p50=a[int((NR+1)/2)]; p99=a[int(NR*0.99+0.999)]; if (p99=="") p99=a[NR];
    printf "  %-36s p50 %7.3f ms   p99 %7.3f ms   (%d invocations, %d EMF lines)\n", label, p50, p99, NR, lines }'
}

echo "metrics under coda run, caller latency (curl time_total, release):"
measure 1 "with both flushes (METRICS_FLUSH=1)"
measure 0 "without flush (METRICS_FLUSH=0)"
