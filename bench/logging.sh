#!/usr/bin/env bash
# The cost of one log line inside an invocation, with today's logger and (optionally) with the
# logger of an earlier commit, built from the same bench source (examples/benches/logging.rs).
#
#   bash bench/logging.sh            # this checkout
#   bash bench/logging.sh 0b62f86    # … and the wave-1 logger (a hand-written `log::Log`)
#
# For each format (Text, JSON), it runs the bench with 0 and with LINES log lines per invocation
# over INVOCATIONS invocations, under callgrind (instructions: repeatable) and with a clock
# (stderr to /dev/null), and prints instructions and nanoseconds per line: the difference of
# the two runs divided by the lines. It also prints the crates the runtime's graph holds.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OLD=${1:-}
LINES=${LINES:-200}
INVOCATIONS=${INVOCATIONS:-50}
WALL_LINES=${WALL_LINES:-2000}
command -v valgrind > /dev/null || { echo "logging.sh: valgrind is required" >&2; exit 2; }

build() { # <checkout> → path of the built bench binary
  (cd "$1" && cargo bench -q -p coda-examples --bench logging --no-run --message-format=json 2>/dev/null) |
    sed -n 's/.*"executable":"\([^"]*logging[^"]*\)".*/\1/p' | tail -1
}

instructions() { # <binary> <lines> <format>
  local out
  out=$(mktemp)
  AWS_LAMBDA_LOG_FORMAT=$3 valgrind --tool=callgrind --callgrind-out-file="$out" \
    "$1" --bench "$2" "$INVOCATIONS" > /dev/null 2>&1
  sed -n 's/^summary: //p' "$out"
  rm -f "$out"
}

nanos() { # <binary> <lines> <format>
  AWS_LAMBDA_LOG_FORMAT=$3 "$1" --bench "$2" "$INVOCATIONS" 2> /dev/null | sed -n 's/.*elapsed_ns=//p'
}

measure() { # <label> <binary>
  for format in Text JSON; do
    local i0 i1 t0 t1
    i0=$(instructions "$2" 0 "$format")
    i1=$(instructions "$2" "$LINES" "$format")
    t0=$(nanos "$2" 0 "$format")
    t1=$(nanos "$2" "$WALL_LINES" "$format")
    awk -v l="$1" -v f="$format" -v i0="$i0" -v i1="$i1" -v t0="$t0" -v t1="$t1" \
      -v n="$LINES" -v w="$WALL_LINES" -v m="$INVOCATIONS" \
      'BEGIN { printf "%-10s %-5s %8.0f instructions/line %8.0f ns/line\n", l, f, (i1 - i0) / (n * m), (t1 - t0) / (w * m) }'
  done
}

NEW=$(build "$ROOT")
[ -x "$NEW" ] || { echo "logging.sh: the bench did not build" >&2; exit 1; }
measure "this" "$NEW"
echo "crates in coda-lambda's normal graph: $(cd "$ROOT" && cargo tree -q -p coda-lambda -e normal --prefix none | sed 's/ (\*)//' | sort -u | wc -l)"

if [ -n "$OLD" ]; then
  WT=$(mktemp -d /tmp/coda-logging-old-XXXXXX)
  trap 'git -C "$ROOT" worktree remove --force "$WT" > /dev/null 2>&1 || true' EXIT
  git -C "$ROOT" worktree add -q --detach "$WT" "$OLD"
  # The same bench source, in the old crate's names.
  sed 's/coda_lambda::logging::init();/coda::LambdaLogger::from_env().install();/; s/use coda_emulator::{/use coda::emulator::{/; s/coda_lambda::/coda::/g' \
    "$ROOT/examples/benches/logging.rs" > "$WT/examples/benches/logging.rs"
  printf '\n[[bench]]\nname = "logging"\npath = "benches/logging.rs"\nharness = false\n' >> "$WT/examples/Cargo.toml"
  OLD_BIN=$(CARGO_TARGET_DIR="$ROOT/target/logging-old" build "$WT")
  [ -x "$OLD_BIN" ] || { echo "logging.sh: the bench did not build at $OLD" >&2; exit 1; }
  measure "$OLD" "$OLD_BIN"
  echo "crates in coda's normal graph at $OLD: $(cd "$WT" && cargo tree -q -p coda -e normal --prefix none | sed 's/ (\*)//' | sort -u | wc -l)"
fi
