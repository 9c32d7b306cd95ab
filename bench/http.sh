#!/usr/bin/env bash
# The HTTP adapter's figures (BENCHMARKS.md, "HTTP: coda-handlers against lambda_http"): an API
# Gateway v2 echo on coda-handlers (handlers/examples/apigw-echo.rs, only the `apigw_v2` source)
# against the same echo on lambda_http 1.3.2 (bench/anchor-http, with its default features and
# with only `apigw_http`): instructions per invocation, stripped binary size, and the crates each
# coda-handlers source feature adds to a function's build. Needs only this repository, cargo,
# valgrind, strip and crates.io for the anchor's first build.
#
#   bash bench/http.sh                  # about 15 minutes on 2 cores the first time, 5 after
#   BENCH_QUICK=1 bash bench/http.sh    # fewer invocations under callgrind
#
# Environment (defaults in brackets; the second value is the quick mode's):
#   CODA_BENCH_WORK   build directories outside the repo [/tmp/coda-bench]
#   CG_LO [1000|200]  CG_HI [10000|2000]   invocations of the two callgrind runs
#   HTTP_EVENT        the event [handlers/benches/data/apigw-v2-echo.json]
#
# How: the driver (handlers/benches/http.rs) starts coda_emulator's Runtime API, runs
# `valgrind --tool=callgrind <echo>` with the emulator's Lambda environment, invokes it N times
# one at a time (checking each answer: 200, the event's body), then shuts the emulator down so
# the function exits and callgrind writes its count. Instructions per invocation =
# (Ir at CG_HI - Ir at CG_LO) / (CG_HI - CG_LO): start-up and exit cancel out.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=bench/machine.sh
. "$ROOT/bench/machine.sh"
WORK=${CODA_BENCH_WORK:-/tmp/coda-bench}
QUICK=${BENCH_QUICK:-0}
if [ "$QUICK" = 1 ]; then CG_LO=${CG_LO:-200}; CG_HI=${CG_HI:-2000}; else CG_LO=${CG_LO:-1000}; CG_HI=${CG_HI:-10000}; fi
EVENT=${HTTP_EVENT:-$ROOT/handlers/benches/data/apigw-v2-echo.json}
for tool in cargo valgrind strip awk; do
  command -v "$tool" > /dev/null || { echo "bench: $tool is required" >&2; exit 2; }
done
say() { echo "bench/http: $*" >&2; }

STAMP=$(date -u +%Y%m%dT%H%M%SZ)
OUT=$ROOT/bench-results/$STAMP-http
mkdir -p "$OUT/callgrind" "$WORK"
unset RUST_LOG AWS_LAMBDA_LOG_FORMAT AWS_LAMBDA_LOG_LEVEL AWS_LAMBDA_HTTP_IGNORE_STAGE_IN_PATH

# ---------------------------------------------------------------------------------------------
# Build, each into a target dir of its own outside the repository.

say "building the coda-handlers echo, the driver and the lambda_http anchors (in $WORK)"
(cd "$ROOT" && CARGO_TARGET_DIR=$WORK/http-coda cargo build -q --release -p coda-handlers \
  --example apigw-echo --no-default-features --features apigw_v2)
(cd "$ROOT" && CARGO_TARGET_DIR=$WORK/http-coda cargo build -q --profile size -p coda-handlers \
  --example apigw-echo --no-default-features --features apigw_v2)
DRIVER=$(cd "$ROOT" && CARGO_TARGET_DIR=$WORK/http-driver cargo bench -q --no-run -p coda-handlers \
  --bench http --message-format=json | grep '"kind":\["bench"\]' \
  | grep -o '"executable":"[^"]*"' | cut -d'"' -f4)
[ -x "$DRIVER" ] || { echo "bench/http: could not build the driver" >&2; exit 1; }
ANCHOR_DIR=$ROOT/bench/anchor-http
(cd "$ANCHOR_DIR" && CARGO_TARGET_DIR=$WORK/http-anchor cargo build -q --release --locked)
(cd "$ANCHOR_DIR" && CARGO_TARGET_DIR=$WORK/http-anchor cargo build -q --profile small --locked)
(cd "$ANCHOR_DIR" && CARGO_TARGET_DIR=$WORK/http-anchor-v2 cargo build -q --release --locked --no-default-features)

declare -A BIN=(
  [coda]=$WORK/http-coda/release/examples/apigw-echo
  [anchor]=$WORK/http-anchor/release/anchor-http
  [anchor-v2]=$WORK/http-anchor-v2/release/anchor-http
)
declare -A SIZE_BIN=(
  [coda]=$WORK/http-coda/size/examples/apigw-echo
  [anchor]=$WORK/http-anchor/small/anchor-http
)

{
  machine_lines "$ROOT"
  echo "event: $EVENT ($(stat -c %s "$EVENT") bytes)  CG=$CG_LO/$CG_HI"
  echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
} > "$OUT/machine.txt"

# ---------------------------------------------------------------------------------------------
# Instructions per invocation.

CG=$OUT/callgrind
for s in coda anchor anchor-v2; do
  for n in "$CG_LO" "$CG_HI"; do
    say "callgrind: $s, $n invocations"
    "$DRIVER" --bench --invocations "$n" --event "$EVENT" -- \
      valgrind --tool=callgrind --callgrind-out-file="$CG/$s.$n.out" "${BIN[$s]}" \
      >> "$OUT/driver.txt" 2>> "$OUT/function-stderr.txt"
  done
done
instructions() { awk '/^(summary|totals):/ {print $2; exit}' "$1"; }
per_invocation() {
  awk -v h="$(instructions "$CG/$1.$CG_HI.out")" -v l="$(instructions "$CG/$1.$CG_LO.out")" \
    -v n=$((CG_HI - CG_LO)) 'BEGIN {printf "%.0f", (h - l) / n}'
}
startup() {
  awk -v l="$(instructions "$CG/$1.$CG_LO.out")" -v p="$(per_invocation "$1")" -v n="$CG_LO" \
    'BEGIN {v = l - n * p; if (v < 0) print "n/a"; else printf "%.0f", v}'
}
# Where coda's instructions go: the adapter (Adapter::call, inclusive) and the runtime's client.
inclusive() {
  local s=$1 fn=$2 lo hi
  lo=$(callgrind_annotate --inclusive=yes --threshold=100 "$CG/$s.$CG_LO.out" 2> /dev/null | grep -F "$fn" | head -1 | awk '{gsub(",", "", $1); print $1}')
  hi=$(callgrind_annotate --inclusive=yes --threshold=100 "$CG/$s.$CG_HI.out" 2> /dev/null | grep -F "$fn" | head -1 | awk '{gsub(",", "", $1); print $1}')
  if [ -n "$lo" ] && [ -n "$hi" ]; then awk -v h="$hi" -v l="$lo" -v n=$((CG_HI - CG_LO)) 'BEGIN {printf "%.0f", (h - l) / n}'; else echo n/a; fi
}

# ---------------------------------------------------------------------------------------------
# Sizes and crates.

stripped() { strip -o "$OUT/stripped.tmp" "$1" && stat -c %s "$OUT/stripped.tmp" && rm -f "$OUT/stripped.tmp"; }
crates() { sed 's/ (\*)//; s/ (proc-macro)//' | grep -v '^$' | sort -u; }
handlers_tree() {
  (cd "$ROOT" && cargo tree -q -p coda-handlers -e normal,build --prefix none "$@") | crates
}
handlers_tree --no-default-features > "$OUT/crates-none.txt"
for f in apigw_v1 apigw_v2 alb function_url; do
  handlers_tree --no-default-features --features "$f" > "$OUT/crates-$f.txt"
done
handlers_tree > "$OUT/crates-default.txt"
(cd "$ANCHOR_DIR" && cargo tree -q -e normal,build --prefix none --locked) | crates > "$OUT/crates-anchor.txt"
(cd "$ANCHOR_DIR" && cargo tree -q -e normal,build --prefix none --locked --no-default-features) | crates > "$OUT/crates-anchor-v2.txt"
# Crates of a function's build: the graph without the root package.
count() { grep -vc -e '^coda-handlers ' -e '^anchor-http ' "$1"; }
added() { comm -13 "$OUT/crates-none.txt" "$1" | awk '{printf "%s%s", sep, $1; sep=", "}'; }

# ---------------------------------------------------------------------------------------------
# The table.

ratio() { awk -v a="$1" -v b="$2" 'BEGIN {if (a ~ /^[0-9.]+$/ && b ~ /^[0-9.]+$/ && b > 0) printf "%.2f", a / b; else print "-"}'; }
met() { awk -v r="$1" -v g="$2" 'BEGIN {print (r <= g) ? "yes" : "NO"}'; }
CODA_IR=$(per_invocation coda); ANCHOR_IR=$(per_invocation anchor); ANCHOR_V2_IR=$(per_invocation anchor-v2)
CODA_REL=$(stripped "${BIN[coda]}"); ANCHOR_REL=$(stripped "${BIN[anchor]}"); ANCHOR_V2_REL=$(stripped "${BIN[anchor-v2]}")
CODA_SIZE=$(stripped "${SIZE_BIN[coda]}"); ANCHOR_SIZE=$(stripped "${SIZE_BIN[anchor]}")
ADAPTER_IR=$(inclusive coda 'coda_handlers::http::adapter::Adapter<H> as coda_lambda::handler::Handler>::call')
{
  cat "$OUT/machine.txt"
  echo
  printf '| %-52s | %10s | %10s | %6s | %-15s | %-4s |\n' figure coda lambda_http c/l goal met
  printf '|%s|%s|%s|%s|%s|%s|\n' "$(printf -- '-%.0s' {1..54})" "------------" "------------" "--------" "-----------------" "------"
  row() { printf '| %-52s | %10s | %10s | %6s | %-15s | %-4s |\n' "$@"; }
  R=$(ratio "$CODA_IR" "$ANCHOR_IR"); row "instructions/invocation (anchor: default features)" "$CODA_IR" "$ANCHOR_IR" "$R" "<= 0.35 x" "$(met "$R" 0.35)"
  R=$(ratio "$CODA_IR" "$ANCHOR_V2_IR"); row "instructions/invocation (anchor: apigw_http only)" "$CODA_IR" "$ANCHOR_V2_IR" "$R" "(info)" "-"
  row "  of which coda's adapter (Adapter::call)" "$ADAPTER_IR" "-" "-" "(info)" "-"
  row "  start-up + exit, instructions" "$(startup coda)" "$(startup anchor)" "$(ratio "$(startup coda)" "$(startup anchor)")" "(info)" "-"
  R=$(ratio "$CODA_REL" "$ANCHOR_REL"); row "binary, release, stripped, bytes" "$CODA_REL" "$ANCHOR_REL" "$R" "<= 0.60 x" "$(met "$R" 0.60)"
  R=$(ratio "$CODA_REL" "$ANCHOR_V2_REL"); row "binary, release, stripped (anchor: apigw_http only)" "$CODA_REL" "$ANCHOR_V2_REL" "$R" "(info)" "-"
  R=$(ratio "$CODA_SIZE" "$ANCHOR_SIZE"); row "binary, size profiles, stripped, bytes" "$CODA_SIZE" "$ANCHOR_SIZE" "$R" "<= 0.60 x" "$(met "$R" 0.60)"
  row "crates in the function's graph (no root)" "$(count "$OUT/crates-apigw_v2.txt")" "$(count "$OUT/crates-anchor.txt")" "$(ratio "$(count "$OUT/crates-apigw_v2.txt")" "$(count "$OUT/crates-anchor.txt")")" "(info)" "-"
  row "  anchor with apigw_http only" "-" "$(count "$OUT/crates-anchor-v2.txt")" "-" "(info)" "-"
  echo
  echo "crates each coda-handlers source feature adds (to coda-lambda and coda-handlers' own $(count "$OUT/crates-none.txt")):"
  for f in apigw_v1 apigw_v2 alb function_url; do
    echo "  $f: +$(comm -13 "$OUT/crates-none.txt" "$OUT/crates-$f.txt" | wc -l) ($(added "$OUT/crates-$f.txt"))"
  done
  echo "  all four (default): +$(comm -13 "$OUT/crates-none.txt" "$OUT/crates-default.txt" | wc -l)"
} | tee "$OUT/table.txt"
say "results in $OUT"
