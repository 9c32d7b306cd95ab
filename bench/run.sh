#!/usr/bin/env bash
# Coda's figures side by side with the floor of this machine and the official lambda_runtime:
# builds what it needs, runs the instruments interleaved, prints one table (BENCHMARKS.md).
# Everything it runs is in this repository: the driver (bench/driver, on coda-emulator), the
# floor (bench/floor-client) and the anchor (bench/anchor-echo, crates.io for its first build).
#
#   bash bench/run.sh                   # the full run: about 10 minutes on 2 cores (+1 the first time)
#   BENCH_QUICK=1 bash bench/run.sh     # smoke test: about a minute; fewer runs, no clean builds
#
# The table goes to stdout, progress to stderr; the table, the machine and every raw run are
# kept in bench-results/<UTC timestamp>/ (git-ignored).
#
# Environment (defaults in brackets; the second value is the quick mode's):
#   CODA_BENCH_KIT    cross-check: the directory of the external measurement kit, whose
#                     fake-runtime-api, floor-client and anchor-echo then replace the
#                     driver, floor and anchor above [unset: the repository's own]
#   CODA_BENCH_WORK   build directories outside the repo [/tmp/coda-bench]
#   BENCH_QUICK       1 = quick mode [0]
#   BENCH_JOBS        -j of the clean builds [nproc]
#   TP_RUNS [9|3]  TP_N [20000|5000]         throughput: runs of N invocations
#   COLD_RUNS [31|7]                         start: runs of one invocation
#   CG_LO [1000|200]  CG_HI [10000|2000]     CPU: invocations of the two callgrind runs
#   MEM_RUNS [3|1]  MEM_LO [1000|1000]  MEM_HI [100000|10000]   memory: runs at each count
#   BUILD_RUNS [3|0]                         clean release builds of each side
#   DEFER_N [1000|50]  CODA_DEFER_MS [100]   deferred: invocations of each echo, sleep of the closure
#   EMU_STREAM_N [5000|1000]                 streaming under the emulator: invocations of each echo
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=bench/machine.sh
. "$ROOT/bench/machine.sh"
KIT=${CODA_BENCH_KIT:-}
WORK=${CODA_BENCH_WORK:-/tmp/coda-bench}
QUICK=${BENCH_QUICK:-0}
JOBS=${BENCH_JOBS:-$(nproc)}
if [ "$QUICK" = 1 ]; then q=1; else q=0; fi
pick() { if [ "$q" = 1 ]; then echo "$2"; else echo "$1"; fi; }
TP_RUNS=${TP_RUNS:-$(pick 9 3)}
TP_N=${TP_N:-$(pick 20000 5000)}
COLD_RUNS=${COLD_RUNS:-$(pick 31 7)}
CG_LO=${CG_LO:-$(pick 1000 200)}
CG_HI=${CG_HI:-$(pick 10000 2000)}
MEM_RUNS=${MEM_RUNS:-$(pick 3 1)}
MEM_LO=${MEM_LO:-1000}
MEM_HI=${MEM_HI:-$(pick 100000 10000)}
BUILD_RUNS=${BUILD_RUNS:-$(pick 3 0)}
DEFER_N=${DEFER_N:-$(pick 1000 50)}
EMU_STREAM_N=${EMU_STREAM_N:-$(pick 5000 1000)}
export CODA_DEFER_MS=${CODA_DEFER_MS:-100}

if [ -n "$KIT" ]; then
  [ -f "$KIT/src/main.rs" ] && [ -f "$KIT/anchor-echo/Cargo.toml" ] || {
    echo "bench: no measurement kit at CODA_BENCH_KIT=$KIT (unset it to use the repository's instruments)" >&2
    exit 2
  }
  KIT=$(cd "$KIT" && pwd)
fi
for tool in cargo valgrind callgrind_annotate strip awk; do
  command -v "$tool" > /dev/null || { echo "bench: $tool is required" >&2; exit 2; }
done

STAMP=$(date -u +%Y%m%dT%H%M%SZ)
OUT=$ROOT/bench-results/$STAMP
RAW=$OUT/raw
mkdir -p "$RAW" "$WORK"
say() { echo "bench: $*" >&2; }

# Keep every function's environment neutral (the driver passes its own through).
unset RUST_BACKTRACE RUST_LOG AWS_LAMBDA_LOG_FORMAT AWS_LAMBDA_LOG_LEVEL AWS_LAMBDA_MAX_CONCURRENCY

# ---------------------------------------------------------------------------------------------
# Build: the instruments and the anchor, and Coda, each in a target dir of its own (so the
# engineers' own builds in target/ neither wait for nor disturb these, and the instruments'
# dependencies do not change the features the echoes are built with).

if [ -n "$KIT" ]; then
  say "building the kit at $KIT (cross-check), its anchor and Coda's examples (outputs in $WORK)"
  (cd "$KIT" && CARGO_TARGET_DIR=$WORK/kit cargo build -q --release)
  (cd "$KIT" && CARGO_TARGET_DIR=$WORK/kit-size CARGO_PROFILE_RELEASE_OPT_LEVEL=z \
    CARGO_PROFILE_RELEASE_LTO=true CARGO_PROFILE_RELEASE_CODEGEN_UNITS=1 \
    CARGO_PROFILE_RELEASE_PANIC=abort cargo build -q --release --bin floor-client)
  DRIVER=$WORK/kit/release/fake-runtime-api
  FLOOR=$WORK/kit/release/floor-client
  FLOOR_SIZE=$WORK/kit-size/release/floor-client
  ANCHOR_DIR=$KIT/anchor-echo ANCHOR_TARGET=$WORK/anchor-kit LOCKED=
  INSTRUMENTS="the kit at $KIT: fake-runtime-api, floor-client, anchor-echo"
else
  say "building the driver, the floor, the anchor and Coda's examples (outputs in $WORK)"
  (cd "$ROOT" && CARGO_TARGET_DIR=$WORK/instruments cargo build -q --release \
    -p coda-bench-driver -p coda-bench-floor)
  (cd "$ROOT" && CARGO_TARGET_DIR=$WORK/instruments cargo build -q --profile size -p coda-bench-floor)
  DRIVER=$WORK/instruments/release/bench-driver
  FLOOR=$WORK/instruments/release/floor-client
  FLOOR_SIZE=$WORK/instruments/size/floor-client
  ANCHOR_DIR=$ROOT/bench/anchor-echo ANCHOR_TARGET=$WORK/anchor LOCKED=--locked
  INSTRUMENTS="the repository's: bench-driver (coda-emulator), bench/floor-client, bench/anchor-echo"
fi
(cd "$ANCHOR_DIR" && CARGO_TARGET_DIR=$ANCHOR_TARGET cargo build -q $LOCKED --release)
(cd "$ANCHOR_DIR" && CARGO_TARGET_DIR=$ANCHOR_TARGET cargo build -q $LOCKED --profile small)
export CARGO_TARGET_DIR=$WORK/coda
(cd "$ROOT" && cargo build -q --release -p coda-examples --no-default-features --bin echo --bin echo-deferred --bin echo-stream)
(cd "$ROOT" && cargo build -q --profile size -p coda-examples --no-default-features --bin echo)
# The emulator measurement program, built now with the same sources as the echoes and run
# directly later (others may be editing the runtime meanwhile). `--bench` is what cargo passes.
# Its own target dir: a bench build unifies dev-dependency features and would rebuild (and
# replace) release/echo with them.
EMULATOR_BENCH=$(cd "$ROOT" && CARGO_TARGET_DIR=$WORK/coda-bench cargo bench -q --no-run \
  -p coda-examples --bench emulator --message-format=json \
  | grep '"kind":\["bench"\]' | grep -o '"executable":"[^"]*"' | cut -d'"' -f4)
unset CARGO_TARGET_DIR
[ -x "$EMULATOR_BENCH" ] || { echo "bench: could not build the emulator bench" >&2; exit 1; }

OURS=$WORK/coda/release/echo
DEFERRED=$WORK/coda/release/echo-deferred
STREAM=$WORK/coda/release/echo-stream
ANCHOR=$ANCHOR_TARGET/release/anchor-echo
declare -A BIN=([ours]=$OURS [floor]=$FLOOR [anchor]=$ANCHOR [stream]=$STREAM)

{
  machine_lines "$ROOT"
  echo "instruments: $INSTRUMENTS"
  echo "mode: $([ "$q" = 1 ] && echo quick || echo full)  TP_RUNS=$TP_RUNS TP_N=$TP_N" \
    "COLD_RUNS=$COLD_RUNS CG=$CG_LO/$CG_HI MEM_RUNS=$MEM_RUNS MEM=$MEM_LO/$MEM_HI" \
    "BUILD_RUNS=$BUILD_RUNS JOBS=$JOBS DEFER_N=$DEFER_N CODA_DEFER_MS=$CODA_DEFER_MS EMU_STREAM_N=$EMU_STREAM_N"
  echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
} > "$OUT/machine.txt"

# ---------------------------------------------------------------------------------------------
# Helpers.

# The value of one field of the driver's JSON line (bench-driver and fake-runtime-api print
# the same fields).
field() { grep -o "\"$1\":[^,}]*" | head -1 | cut -d: -f2 | tr -d '"'; }
# The median of the numbers on stdin ("n/a" when there are none).
median() {
  sort -g | awk '{a[NR] = $1} END {
    if (NR == 0) print "n/a"; else if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}
# The subjects in round-robin order, starting one further each round ($1 = round).
rotate() {
  local round=$1; shift
  local items=("$@") n=$#
  for ((i = 0; i < n; i++)); do echo "${items[(round + i) % n]}"; done
}
# One driver run: drive <jsonl file> <driver args...> -- <command...>. A failed run (not
# every invocation answered, or an answer that is not the event) is kept in the file but
# flagged so that `values` skips it.
drive() {
  local file=$1; shift
  local line
  line=$("$DRIVER" --quiet "$@" 2>> "$RAW/function-stderr.txt") || true
  if [ -z "$line" ] || [ "$(echo "$line" | field echo_mismatches)" != 0 ] \
    || [ "$(echo "$line" | field responses)" != "$(echo "$line" | field invocations)" ]; then
    say "run failed: $* -> ${line:-no output}"
    if [ -z "$line" ]; then line='{"failed":true}'; else line=${line%\}},\"failed\":true}; fi
  fi
  echo "$line" >> "$file"
}
# The values of one field in a JSONL file, failed runs left out.
values() { grep -v '"failed":true' "$2" 2> /dev/null | while read -r l; do echo "$l" | field "$1"; done | grep -v null || true; }

# ---------------------------------------------------------------------------------------------
# Start: spawn -> first GET /next, one invocation per run, interleaved.

say "start: $COLD_RUNS rounds of ours, floor, anchor"
for s in ours floor anchor stream; do "$DRIVER" -n 3 --quiet -- "${BIN[$s]}" > /dev/null 2>&1 || true; done
for ((r = 0; r < COLD_RUNS; r++)); do
  for s in $(rotate "$r" ours floor anchor); do
    drive "$RAW/start-$s.jsonl" -n 1 --label "start-$s" -- "${BIN[$s]}"
  done
done

# ---------------------------------------------------------------------------------------------
# Throughput: TP_N invocations per run, interleaved; the streamed echo rides along.

say "throughput: $TP_RUNS rounds of $TP_N invocations of ours, floor, anchor, ours streamed"
for ((r = 0; r < TP_RUNS; r++)); do
  for s in $(rotate "$r" ours floor anchor stream); do
    drive "$RAW/throughput-$s.jsonl" -n "$TP_N" --label "throughput-$s" -- "${BIN[$s]}"
  done
done

# ---------------------------------------------------------------------------------------------
# CPU: instructions of the function process only (valgrind runs the function, not the server),
# at CG_LO and CG_HI invocations; the difference cancels start-up and exit.

say "CPU: callgrind at $CG_LO and $CG_HI invocations of ours, floor, anchor"
CG=$OUT/callgrind
mkdir -p "$CG"
for s in ours floor anchor; do
  for n in "$CG_LO" "$CG_HI"; do
    drive "$RAW/callgrind-$s.jsonl" -n "$n" --exit-timeout-ms 300000 --label "callgrind-$s-$n" -- \
      valgrind --tool=callgrind --callgrind-out-file="$CG/$s.$n.out" "${BIN[$s]}"
  done
done
instructions() { awk '/^(summary|totals):/ {print $2; exit}' "$1" 2> /dev/null || true; }
per_invocation() {
  local hi lo
  hi=$(instructions "$CG/$1.$CG_HI.out"); lo=$(instructions "$CG/$1.$CG_LO.out")
  if [ -n "$hi" ] && [ -n "$lo" ]; then awk -v h="$hi" -v l="$lo" -v n=$((CG_HI - CG_LO)) 'BEGIN {printf "%.0f", (h - l) / n}'; else echo n/a; fi
}

# Per-function cost per invocation (difference of the two runs), inclusive and self, for ours.
profile() {
  local s=$1 kind=$2
  for n in "$CG_LO" "$CG_HI"; do
    callgrind_annotate --inclusive="$kind" --threshold=100 --show-percs=no --auto=no \
      "$CG/$s.$n.out" > "$CG/$s.$n.$kind.txt" 2> /dev/null || true
  done
  awk -v n=$((CG_HI - CG_LO)) -v lo="$CG/$s.$CG_LO.$kind.txt" '
    function key(line) { sub(/^ *[0-9,]+ +/, "", line); sub(/ \[[^]]*\]$/, "", line); sub(/^[^:]*:/, "", line); return line }
    function cost(line) { match(line, /^ *[0-9,]+/); c = substr(line, RSTART, RLENGTH); gsub(/[ ,]/, "", c); return c + 0 }
    BEGIN { while ((getline l < lo) > 0) if (l ~ /^ *[0-9,]+ +[^ ]/ && l !~ /PROGRAM TOTALS/) base[key(l)] += cost(l) }
    /^ *[0-9,]+ +[^ ]/ && !/PROGRAM TOTALS/ { hi[key($0)] += cost($0) }
    END { for (k in hi) { if (k ~ /^(\(below main\)|main|0x[0-9a-f]+)$/) continue
      d = (hi[k] - base[k]) / n; s = base[k] - d * lo_n
      if (d >= 1) printf "%10.0f  %s\n", d, k > per; if (s >= 100) printf "%10.0f  %s\n", s, k > startup } }
  ' per="$CG/$s-per-invocation-$kind.unsorted" startup="$CG/$s-startup-$kind.unsorted" lo_n="$CG_LO" "$CG/$s.$CG_HI.$kind.txt"
  sort -rn "$CG/$s-per-invocation-$kind.unsorted" > "$CG/$s-per-invocation-$kind.txt"
  sort -rn "$CG/$s-startup-$kind.unsorted" > "$CG/$s-startup-$kind.txt"
  rm -f "$CG/$s-per-invocation-$kind.unsorted" "$CG/$s-startup-$kind.unsorted"
}
for s in ours anchor; do profile "$s" yes; profile "$s" no; done
# Start-up and exit: what the CG_LO run cost beyond CG_LO invocations (deterministic, unlike time);
# n/a when negative, i.e. when the per-invocation cost is not steady (the anchor's varies with
# how many connections hyper opens in each run).
startup_instructions() {
  local lo per
  lo=$(instructions "$CG/$1.$CG_LO.out"); per=$(per_invocation "$1")
  if [ -n "$lo" ] && [ "$per" != n/a ]; then awk -v l="$lo" -v p="$per" -v n="$CG_LO" 'BEGIN {v = l - n * p; if (v < 0) print "n/a"; else printf "%.0f", v}'; else echo n/a; fi
}

# ---------------------------------------------------------------------------------------------
# Memory: peak RSS (VmHWM, read by the driver while the function is alive) after MEM_LO
# and MEM_HI invocations with a new trace id each (as on AWS), interleaved.

say "memory: $MEM_RUNS rounds at $MEM_LO and $MEM_HI invocations of ours, floor, anchor"
for ((r = 0; r < MEM_RUNS; r++)); do
  for s in $(rotate "$r" ours floor anchor); do
    for n in "$MEM_LO" "$MEM_HI"; do
      drive "$RAW/memory-$s-$n.jsonl" -n "$n" --trace-id unique --label "memory-$s-$n" -- "${BIN[$s]}"
    done
  done
done

# ---------------------------------------------------------------------------------------------
# Binary size: stripped here (the size profiles already strip; strip again changes nothing).

stripped() {
  if [ -f "$1" ]; then strip -o "$OUT/stripped.tmp" "$1" && stat -c %s "$OUT/stripped.tmp" && rm -f "$OUT/stripped.tmp"; else echo n/a; fi
}
declare -A SIZE=(
  [ours]=$(stripped "$OURS") [floor]=$(stripped "$FLOOR") [anchor]=$(stripped "$ANCHOR")
  [ours-size]=$(stripped "$WORK/coda/size/echo") [floor-size]=$(stripped "$FLOOR_SIZE")
  [anchor-size]=$(stripped "$ANCHOR_TARGET/small/anchor-echo")
)

# ---------------------------------------------------------------------------------------------
# Build: crates in the dependency graph, and clean release builds (fresh target dirs, same -j).

say "build: crate counts; $BUILD_RUNS clean release builds of each side with -j $JOBS"
# Unique `name version` of `cargo tree -e normal,build --prefix none` (normal and build
# dependencies, host target, no dev-dependencies), minus the root package.
crates() { sed 's/ (\*)$//; s/ (proc-macro)$//' | awk 'NF {print $1, $2}' | sort -u | grep -v -x "$1" | tee "$RAW/crates-$2.txt" | wc -l; }
OURS_CRATES=$(cd "$ROOT" && cargo tree -q -p coda-examples --no-default-features -e normal,build --prefix none | crates "coda-examples v[^ ]*" ours)
ANCHOR_CRATES=$(cd "$ANCHOR_DIR" && cargo tree -q $LOCKED -e normal,build --prefix none | crates "anchor-echo v[^ ]*" anchor)
# A clean build compiles the working tree as it is then; a failed one (someone mid-edit) is
# reported and left out of the median.
clean_build() {
  local s=$1 r=$2 dir=$WORK/clean-$1 start end ok=1
  rm -rf "$dir"
  start=$(date +%s.%N)
  if [ "$s" = ours ]; then
    (cd "$ROOT" && CARGO_TARGET_DIR=$dir cargo build --release -j "$JOBS" -p coda-examples --no-default-features --bin echo) 2> "$RAW/build-$s-$r.txt" || ok=0
  else
    (cd "$ANCHOR_DIR" && CARGO_TARGET_DIR=$dir cargo build $LOCKED --release -j "$JOBS") 2> "$RAW/build-$s-$r.txt" || ok=0
  fi
  end=$(date +%s.%N)
  rm -rf "$dir"
  if [ "$ok" = 1 ]; then
    awk -v a="$start" -v b="$end" 'BEGIN {printf "%.2f\n", b - a}' >> "$RAW/build-$s.txt"
  else
    say "clean build of $s failed: $RAW/build-$s-$r.txt"
  fi
}
for ((r = 0; r < BUILD_RUNS; r++)); do
  for s in $(rotate "$r" ours anchor); do clean_build "$s" "$r"; done
done

# ---------------------------------------------------------------------------------------------
# Deferred work and streaming under Coda's embedded emulator (examples/benches/emulator.rs).

emulator_bench() { "$EMULATOR_BENCH" --bench "$@" 2>> "$RAW/emulator-stderr.txt"; }
say "deferred: $DEFER_N alternating invocations of echo and echo-deferred (sleeps $CODA_DEFER_MS ms) under the emulator"
emulator_bench --invocations "$DEFER_N" --raw "$RAW/deferred.csv" "$OURS" "$DEFERRED" > "$RAW/deferred.txt"
say "streaming: $EMU_STREAM_N alternating invocations of echo and echo-stream under the emulator"
emulator_bench --invocations "$EMU_STREAM_N" --raw "$RAW/stream.csv" "$OURS" "$STREAM" > "$RAW/stream.txt"
# key=value of the line for function $1 in file $2.
kv() { grep "label=$1 " "$2" | tr ' ' '\n' | awk -F= -v k="$3" '$1 == k {print $2}'; }

echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)" >> "$OUT/machine.txt"

# ---------------------------------------------------------------------------------------------
# Where the release echo's bytes go: symbol sizes summed by the crate that names them (generic
# code counts for the crate of its outermost path, as cargo-bloat does).

nm -S --size-sort -C -t d "$OURS" 2> /dev/null | awk '
  NF >= 4 { name = $4; for (i = 5; i <= NF; i++) name = name " " $i
    sub(/^[<&*(]+/, "", name); sub(/^(dyn |impl |mut )+/, "", name); sub(/^[<&*(]+/, "", name)
    crate = name; sub(/::.*/, "", crate); sub(/[ <>,;].*/, "", crate)
    if (name !~ /::/) crate = "(C / no path)"
    size[crate] += $2; total += $2 }
  END { for (c in size) printf "%9d  %5.1f%%  %s\n", size[c], 100 * size[c] / total, c }' \
  | sort -rn > "$OUT/size-ours-by-crate.txt" || true

# ---------------------------------------------------------------------------------------------
# The spread behind the medians, and the ratios round by round.

{
  for figure in throughput:invocations_per_s start:spawn_to_first_next_ms; do
    for s in ours floor anchor stream; do
      f=$RAW/${figure%%:*}-$s.jsonl
      [ -f "$f" ] || continue
      values "${figure#*:}" "$f" | sort -g | awk -v t="${figure%%:*} $s" \
        '{a[NR] = $1} END {if (NR) printf "%-18s min %10s  max %10s  runs %d\n", t, a[1], a[NR], NR}'
    done
  done
  echo "throughput ratios by round (ours/floor, ours/anchor, stream/ours):"
  paste -d' ' <(values invocations_per_s "$RAW/throughput-ours.jsonl") <(values invocations_per_s "$RAW/throughput-floor.jsonl") \
    <(values invocations_per_s "$RAW/throughput-anchor.jsonl") <(values invocations_per_s "$RAW/throughput-stream.jsonl") \
    | awk 'NF == 4 {printf "  round %d: %.2f %.2f %.2f\n", NR, $1 / $2, $1 / $3, $4 / $1}'
} > "$OUT/spread.txt"

# ---------------------------------------------------------------------------------------------
# The table.

med() { values "$1" "$2" | median; }
for s in ours floor anchor stream; do
  declare "TP_$s=$(med invocations_per_s "$RAW/throughput-$s.jsonl")"
  declare "START_$s=$(med spawn_to_first_next_ms "$RAW/start-$s.jsonl")"
done
for s in ours floor anchor; do
  declare "CPU_$s=$(per_invocation "$s")"
  declare "INIT_$s=$(startup_instructions "$s")"
  declare "RSS_$s=$(med child_vmhwm_kb "$RAW/memory-$s-$MEM_HI.jsonl")"
  declare "GROW_$s=$(awk -v h="$(med child_vmhwm_kb "$RAW/memory-$s-$MEM_HI.jsonl")" \
    -v l="$(med child_vmhwm_kb "$RAW/memory-$s-$MEM_LO.jsonl")" 'BEGIN {if (h == "n/a" || l == "n/a") print "n/a"; else print h - l}')"
done
BUILD_ours=skipped BUILD_anchor=skipped
if [ "$BUILD_RUNS" -gt 0 ]; then
  BUILD_ours=$(cat "$RAW/build-ours.txt" 2> /dev/null | median)
  BUILD_anchor=$(cat "$RAW/build-anchor.txt" 2> /dev/null | median)
fi
D=$RAW/deferred.txt
ECHO_P50=$(kv echo "$D" answer_p50_us) ECHO_P99=$(kv echo "$D" answer_p99_us)
DEF_P50=$(kv echo-deferred "$D" answer_p50_us) DEF_P99=$(kv echo-deferred "$D" answer_p99_us)
ECHO_END=$(kv echo "$D" finished_p50_us) DEF_END=$(kv echo-deferred "$D" finished_p50_us)
EMU_BUF=$(kv echo "$RAW/stream.txt" invocations_per_s) EMU_STREAM=$(kv echo-stream "$RAW/stream.txt" invocations_per_s)

# row <figure> <ours> <floor> <anchor> <goal text> [checks...]: a check is
# floor|anchor|abs <= or >= threshold, e.g. "anchor <= 0.5"; the result is "yes" when all pass.
row() {
  local figure=$1 ours=$2 floor=$3 anchor=$4 goal=$5; shift 5
  awk -v f="$figure" -v o="$ours" -v fl="$floor" -v an="$anchor" -v g="$goal" -v checks="$*" '
    function num(x) { return x ~ /^-?[0-9.]+(e[-+]?[0-9]+)?$/ }
    function show(x) { if (!num(x)) return x; if (x + 0 >= 1000 || x == int(x)) return sprintf("%d", x + 0.5); if (x + 0 >= 10) return sprintf("%.1f", x); return sprintf("%.3f", x) }
    function ratio(a, b) { return (num(a) && num(b) && b > 0 && a >= 0) ? a / b : "" }
    BEGIN {
      rf = ratio(o, fl); ra = ratio(o, an)
      result = "yes"; n = split(checks, c, " ")
      if (n == 0) result = "-"
      for (i = 1; i + 2 <= n; i += 3) {
        v = c[i] == "floor" ? rf : c[i] == "anchor" ? ra : (num(o) ? o : "")
        if (v == "") { result = "n/a"; break }
        if ((c[i + 1] == "<=" && v > c[i + 2] + 0) || (c[i + 1] == ">=" && v < c[i + 2] + 0)) result = "NO"
      }
      printf "| %-44s | %10s | %10s | %10s | %6s | %6s | %-33s | %-4s |\n", f, show(o), show(fl), show(an),
        rf == "" ? "-" : sprintf("%.2f", rf), ra == "" ? "-" : sprintf("%.2f", ra), g, result
    }'
}

{
  echo "Coda benchmarks, $(head -1 "$OUT/machine.txt")"
  sed -n '2,$p' "$OUT/machine.txt"
  echo
  printf "| %-44s | %10s | %10s | %10s | %6s | %6s | %-33s | %-4s |\n" figure ours floor anchor o/f o/a goal met
  printf "|%s|%s|%s|%s|%s|%s|%s|%s|\n" "$(printf -- '-%.0s' {1..46})" "$(printf -- '-%.0s' {1..12})" \
    "$(printf -- '-%.0s' {1..12})" "$(printf -- '-%.0s' {1..12})" "$(printf -- '-%.0s' {1..8})" \
    "$(printf -- '-%.0s' {1..8})" "$(printf -- '-%.0s' {1..35})" "$(printf -- '-%.0s' {1..6})"
  row "throughput, inv/s (median of $TP_RUNS x $TP_N)" "$TP_ours" "$TP_floor" "$TP_anchor" \
    ">= 0.90 x floor, >= 1.8 x anchor" floor ">=" 0.90 anchor ">=" 1.8
  row "start: spawn -> first /next, ms ($COLD_RUNS runs)" "$START_ours" "$START_floor" "$START_anchor" \
    "<= 1.10 x floor, <= 0.70 x anchor" floor "<=" 1.10 anchor "<=" 0.70
  row "  start-up + exit, instructions (callgrind)" "$INIT_ours" "$INIT_floor" "$INIT_anchor" "(info)"
  row "CPU: instructions/invocation" "$CPU_ours" "$CPU_floor" "$CPU_anchor" "<= 0.50 x anchor" anchor "<=" 0.50
  row "  (stretch)" "$CPU_ours" "$CPU_floor" "$CPU_anchor" "<= 0.35 x anchor" anchor "<=" 0.35
  row "peak RSS after $MEM_HI inv., kB" "$RSS_ours" "$RSS_floor" "$RSS_anchor" "<= 1.30 x floor" floor "<=" 1.30
  row "RSS growth $MEM_LO -> $MEM_HI inv., kB" "$GROW_ours" "$GROW_floor" "$GROW_anchor" "<= 256 kB" abs "<=" 256
  row "binary, release, stripped, bytes" "${SIZE[ours]}" "${SIZE[floor]}" "${SIZE[anchor]}" "<= 0.50 x anchor" anchor "<=" 0.50
  row "binary, size profile, stripped, bytes" "${SIZE[ours-size]}" "${SIZE[floor-size]}" "${SIZE[anchor-size]}" "<= 0.50 x anchor" anchor "<=" 0.50
  row "build: crates in the graph (no root)" "$OURS_CRATES" - "$ANCHOR_CRATES" "<= 25 crates" abs "<=" 25
  row "build: clean release, s (-j $JOBS, $BUILD_RUNS runs)" "$BUILD_ours" - "$BUILD_anchor" "<= 0.40 x anchor" anchor "<=" 0.40
  row "deferred: caller p50, us (floor = echo) *" "$DEF_P50" "$ECHO_P50" - "<= 1.05 x echo" floor "<=" 1.05
  row "deferred: caller p99, us (floor = echo) *" "$DEF_P99" "$ECHO_P99" - "<= 1.05 x echo" floor "<=" 1.05
  row "deferred: invocation end p50, us *" "$DEF_END" "$ECHO_END" - "(info: waits for the closure)"
  row "streamed echo, inv/s (floor = buffered) **" "$TP_stream" "$TP_ours" - ">= 0.80 x buffered" floor ">=" 0.80
  row "  same under the emulator, one at a time **" "$EMU_STREAM" "$EMU_BUF" - ">= 0.80 x buffered" floor ">=" 0.80
  echo
  echo "ours = Coda's echo; floor = the smallest std echo loop; anchor = the echo on lambda_runtime 1.5.0;"
  echo "o/f, o/a = ratios. Instruments: $INSTRUMENTS."
  echo "*  under coda_emulator, $DEFER_N invocations each of echo-deferred (closure sleeps ${CODA_DEFER_MS} ms)"
  echo "   and echo, alternating; the floor column is the plain echo. Caller = queue -> answer."
  echo "** streamed echo (Reply::stream, chunked /response) vs the buffered echo: the driver's"
  echo "   throughput rounds above; and $EMU_STREAM_N alternating invocations each under coda_emulator,"
  echo "   one at a time (rate = invocations / sum of queue -> next /next)."
  echo "crates: unique packages of \`cargo tree -e normal,build --prefix none\`, root excluded."
  echo "spread of the runs: spread.txt; profile of ours: profile-ours.txt; raw data: $OUT"
} | tee "$OUT/table.md"

# The main callers of the costliest leaf functions (allocator, memcpy, memset, formatting), from
# the CG_HI run's caller tree, divided by CG_HI.
callers() {
  callgrind_annotate --tree=caller --inclusive=yes --threshold=100 --show-percs=no --auto=no "$1" 2> /dev/null | awk -v n="$2" -v top=8 -v fns="$3" '
    function cost(s) { gsub(/[ ,]/, "", s); return s + 0 }
    function name(s) { sub(/ \[[^]]*\]$/, "", s); sub(/ \([0-9]+x\)$/, "", s); sub(/^[^:]*:/, "", s); return s }
    /^ *$/ { nc = 0; next }
    /^ *[0-9,]+ +< / { c = $0; sub(/ <.*/, "", c); f = $0; sub(/^ *[0-9,]+ +< /, "", f); nc++; cc[nc] = cost(c); cf[nc] = name(f); next }
    /^ *[0-9,]+ +\* / {
      f = $0; sub(/^ *[0-9,]+ +\* +/, "", f); f = name(f)
      if (f ~ fns) {
        t = $0; sub(/\*.*/, "", t); printf "%10.0f  %s, from:\n", cost(t) / n, f
        for (i = 1; i <= nc; i++) for (j = i + 1; j <= nc; j++) if (cc[j] > cc[i]) { x = cc[i]; cc[i] = cc[j]; cc[j] = x; y = cf[i]; cf[i] = cf[j]; cf[j] = y }
        for (i = 1; i <= nc && i <= top; i++) if (cc[i] / n >= 1) printf "%10.0f      %s\n", cc[i] / n, cf[i]
      }
      nc = 0
    }'
}
{
  echo "Coda echo: instructions per invocation by function, ($CG_HI - $CG_LO invocations) / $((CG_HI - CG_LO))"
  echo "inclusive (top 60):"; head -60 "$CG/ours-per-invocation-yes.txt"
  echo; echo "self (top 50):"; head -50 "$CG/ours-per-invocation-no.txt"
  echo; echo "start-up + exit, inclusive (top 40): the $CG_LO run minus $CG_LO x the per-invocation cost"
  head -40 "$CG/ours-startup-yes.txt"
  echo; echo "callers of the costliest leaves (the $CG_HI run / $CG_HI; calls in that run):"
  callers "$CG/ours.$CG_HI.out" "$CG_HI" '^(__memcpy[a-z_]*|__memset[a-z_0-9]*|malloc|_int_free|__rustc::__rust_alloc|__rustc::__rust_dealloc|core::fmt::write|alloc::fmt::format::format_inner|std::io::default_read_to_end|__strncmp[a-z_0-9]*)$'
} > "$OUT/profile-ours.txt"
say "profile of Coda's echo per invocation: $OUT/profile-ours.txt"
