#!/usr/bin/env bash
# Managed Instances throughput: Coda's `concurrent` example and the same function on the
# official lambda_runtime's `run_concurrent` (bench/anchor-concurrent), each under Coda's
# emulator in concurrency mode N, driven by N callers in a closed loop with a 20 ms handler
# (examples/benches/concurrent.rs). Prints two tables: the figures, and where a caller's cycle
# goes (BENCHMARKS.md, "Managed Instances").
#
#   bash bench/concurrent.sh                  # about 70 s on 2 cores (+3 min the first time)
#   ROUNDS=1 PER_CALLER=50 bash bench/concurrent.sh   # smoke test: about 20 s
#
# The table goes to stdout, progress to stderr; the table, the machine and every raw line are
# kept in bench-results/<UTC timestamp>-concurrent/ (git-ignored).
#
# Environment (defaults in brackets):
#   CODA_BENCH_WORK   build directories outside the repo [/tmp/coda-bench]
#   NS                the concurrencies [1 2 4 8]
#   ROUNDS            rounds; each runs every (side, N) once, the sides' order alternating [3]
#   PER_CALLER        measured invocations per caller in a run (N x this per run) [100]
#   WARM_UP           invocations per caller before measuring [5]
#   SLEEP_MS          the handler's sleep [20]
#   RETRY_PER_CALLER  invocations per caller of the one extra run per (side, N) with
#                     `--on-busy retry` (callers that do not wait for an idle /next; the 429s
#                     it meets); 0 skips it [50]
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=bench/machine.sh
. "$ROOT/bench/machine.sh"
WORK=${CODA_BENCH_WORK:-/tmp/coda-bench}
NS=${NS:-1 2 4 8}
ROUNDS=${ROUNDS:-3}
PER_CALLER=${PER_CALLER:-100}
WARM_UP=${WARM_UP:-5}
SLEEP_MS=${SLEEP_MS:-20}
RETRY_PER_CALLER=${RETRY_PER_CALLER:-50}
say() { echo "concurrent: $*" >&2; }
command -v cargo > /dev/null || { say "cargo is required"; exit 2; }
case " $NS " in *" 1 "*) ;; *) say "NS must include 1 (the single-worker rate)"; exit 2 ;; esac

STAMP=$(date -u +%Y%m%dT%H%M%SZ)
OUT=$ROOT/bench-results/$STAMP-concurrent
RAW=$OUT/raw
mkdir -p "$RAW" "$WORK"

# Keep the functions' environment neutral (the bench passes the emulator's as the whole of it).
unset RUST_BACKTRACE RUST_LOG AWS_LAMBDA_LOG_FORMAT AWS_LAMBDA_LOG_LEVEL AWS_LAMBDA_MAX_CONCURRENCY

# ---------------------------------------------------------------------------------------------
# Build, each in a target dir of its own under $WORK (never the repo's target/): the release
# example, the anchor (its own lock file, crates.io for its first build) and the bench
# program. The bench has a dir of its own: a bench build unifies dev-dependency features and
# would rebuild (and replace) release/concurrent with them.

say "building Coda's concurrent, the anchor and the bench program (outputs in $WORK)"
(cd "$ROOT" && CARGO_TARGET_DIR=$WORK/coda cargo build -q --release -p coda-examples --bin concurrent)
(cd "$ROOT/bench/anchor-concurrent" && CARGO_TARGET_DIR=$WORK/anchor-concurrent cargo build -q --locked --release)
BENCH=$(cd "$ROOT" && CARGO_TARGET_DIR=$WORK/coda-bench cargo bench -q --no-run \
  -p coda-examples --bench concurrent --message-format=json \
  | grep '"kind":\["bench"\]' | grep -o '"executable":"[^"]*"' | cut -d'"' -f4)
[ -x "$BENCH" ] || { say "could not build the bench program"; exit 1; }
declare -A BIN=([coda]=$WORK/coda/release/concurrent [anchor]=$WORK/anchor-concurrent/release/anchor-concurrent)

{
  machine_lines "$ROOT"
  echo "settings: NS='$NS' ROUNDS=$ROUNDS PER_CALLER=$PER_CALLER WARM_UP=$WARM_UP SLEEP_MS=$SLEEP_MS RETRY_PER_CALLER=$RETRY_PER_CALLER"
  echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
} > "$OUT/machine.txt"

# ---------------------------------------------------------------------------------------------
# The runs: every round runs each N for both sides, the order of the sides alternating.

run() { # <side> <n> <on-busy> <per-caller> <raw file>
  "$BENCH" --bench --label "$1" --concurrency "$2" --on-busy "$3" --per-caller "$4" \
    --warm-up "$WARM_UP" --sleep-ms "$SLEEP_MS" --log "$RAW/function-$1-$2.log" "${BIN[$1]}" >> "$5"
}
for ((r = 0; r < ROUNDS; r++)); do
  if ((r % 2 == 0)); then sides="coda anchor"; else sides="anchor coda"; fi
  say "round $((r + 1)) of $ROUNDS: N = $NS, $PER_CALLER invocations per caller ($sides)"
  for n in $NS; do
    for s in $sides; do run "$s" "$n" wait "$PER_CALLER" "$RAW/wait-$s-$n.txt"; done
  done
done
if [ "$RETRY_PER_CALLER" -gt 0 ]; then
  say "callers that retry a 429 at once: one run per side and N, $RETRY_PER_CALLER invocations per caller"
  for n in $NS; do
    for s in coda anchor; do run "$s" "$n" retry "$RETRY_PER_CALLER" "$RAW/retry-$s-$n.txt"; done
  done
fi
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)" >> "$OUT/machine.txt"

# ---------------------------------------------------------------------------------------------
# The table: medians over the rounds.

# The values of key $1 in the key=value lines of file $2, one a line.
values() { tr ' ' '\n' < "$2" | awk -F= -v k="$1" '$1 == k {print $2}'; }
median() { sort -g | awk '{a[NR] = $1} END {if (NR == 0) print "n/a"; else if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }
sum() { awk '{s += $1} END {print s + 0}'; }
med() { values "$1" "$RAW/wait-$2-$3.txt" | median; }

{
  echo "Managed Instances throughput, $(head -1 "$OUT/machine.txt")"
  sed -n '2,$p' "$OUT/machine.txt"
  echo
  echo "| side   |  N | inv/s  | / (N x N=1) | p50 ms | p99 ms | gate us | peak RSS kB | RSS/worker kB | anon kB | anon/worker kB | threads | fn CPU us/inv | 429 wait | 429 retry (inv. hit) |"
  echo "|--------|---:|-------:|------------:|-------:|-------:|--------:|------------:|--------------:|--------:|---------------:|--------:|--------------:|---------:|---------------------:|"
  for s in coda anchor; do
    rate1=$(med invocations_per_s "$s" 1)
    rss1=$(med peak_rss_kb "$s" 1)
    anon1=$(med rss_anon_kb "$s" 1)
    for n in $NS; do
      rate=$(med invocations_per_s "$s" "$n")
      rss=$(med peak_rss_kb "$s" "$n")
      anon=$(med rss_anon_kb "$s" "$n")
      retry=n/a
      if [ -f "$RAW/retry-$s-$n.txt" ]; then
        retry="$(values rejected_429 "$RAW/retry-$s-$n.txt" | sum) ($(values turned_away "$RAW/retry-$s-$n.txt" | sum) of $(values invocations "$RAW/retry-$s-$n.txt" | sum))"
      fi
      awk -v s="$s" -v n="$n" -v rate="$rate" -v rate1="$rate1" -v rss="$rss" -v rss1="$rss1" \
        -v anon="$anon" -v anon1="$anon1" \
        -v p50="$(med latency_p50_us "$s" "$n")" -v p99="$(med latency_p99_us "$s" "$n")" \
        -v gate="$(med gate_wait_mean_us "$s" "$n")" -v threads="$(med threads "$s" "$n")" \
        -v cpu="$(med function_cpu_us_per_inv "$s" "$n")" \
        -v wait429="$(values rejected_429 "$RAW/wait-$s-$n.txt" | sum)" -v retry="$retry" 'BEGIN {
          ratio = sprintf("%.3f", rate / (n * rate1))
          perw = n > 1 ? sprintf("%.0f", (rss - rss1) / (n - 1)) : "-"
          anonw = n > 1 ? sprintf("%.0f", (anon - anon1) / (n - 1)) : "-"
          printf "| %-6s | %2d | %6.1f | %11s | %6.2f | %6.2f | %7.0f | %11d | %13s | %7d | %14s | %7d | %13.0f | %8d | %20s |\n",
            s, n, rate, ratio, p50 / 1000, p99 / 1000, gate, rss, perw, anon, anonw, threads, cpu, wait429, retry
        }'
    done
  done
  echo
  goal=yes
  for n in $NS; do
    ok=$(awk -v r="$(med invocations_per_s coda "$n")" -v r1="$(med invocations_per_s coda 1)" -v n="$n" \
      'BEGIN {print (r >= 0.9 * n * r1) ? "yes" : "no"}')
    [ "$ok" = yes ] || goal=no
  done
  echo "goal (Coda: inv/s at N >= 0.9 x N x the N=1 rate, for every N): $goal"
  echo "Medians of $ROUNDS runs of N x $PER_CALLER invocations (after N x $WARM_UP), handler sleep $SLEEP_MS ms."
  echo "p50/p99: caller latency, queue -> answer. gate: mean wait for an idle /next before queueing."
  echo "RSS/worker: (peak RSS(N) - peak RSS(1)) / (N - 1). anon: RssAnon after the run (heap and stacks,"
  echo "  not the binary's and libraries' pages); anon/worker the same difference. threads: of the function."
  echo "fn CPU: the function's CPU time per invocation (all its threads' schedstat)."
  echo "429 wait: 429s over all the waiting runs (callers queue only once a /next is idle: expect 0)."
  echo "429 retry: one run of N x $RETRY_PER_CALLER invocations whose callers queue at once and retry"
  echo "  a 429 after a yield: 429s, and how many invocations met at least one."
  echo
  echo "Where a caller's cycle goes (Coda, then the anchor; medians, us): cycle = N / rate; gate = waiting"
  echo "for an idle /next; latency = queue -> answer (mean); rest = the caller's wake-up after the answer"
  echo "and its bookkeeping. Over the N=1 cycle: what N costs each caller."
  echo
  echo "| side   |  N | cycle us | gate us | latency us | latency - sleep us | rest us | cycle - cycle(N=1) us |"
  echo "|--------|---:|---------:|--------:|-----------:|-------------------:|--------:|----------------------:|"
  for s in coda anchor; do
    cycle1=$(awk -v r="$(med invocations_per_s "$s" 1)" 'BEGIN {print 1e6 / r}')
    for n in $NS; do
      awk -v s="$s" -v n="$n" -v r="$(med invocations_per_s "$s" "$n")" -v c1="$cycle1" -v sl="$SLEEP_MS" \
        -v g="$(med gate_wait_mean_us "$s" "$n")" -v l="$(med latency_mean_us "$s" "$n")" 'BEGIN {
          c = 1e6 * n / r; d = c - c1; if (d > -0.5 && d < 0.5) d = 0
          printf "| %-6s | %2d | %8.0f | %7.0f | %10.0f | %18.0f | %7.0f | %21.0f |\n", s, n, c, g, l, l - 1000 * sl, c - g - l, d
        }'
    done
  done
  echo
  echo "raw data: $OUT"
} | tee "$OUT/table.md"

# The spread behind the medians.
for s in coda anchor; do
  for n in $NS; do
    values invocations_per_s "$RAW/wait-$s-$n.txt" | sort -g | awk -v t="$s N=$n" \
      '{a[NR] = $1} END {if (NR) printf "%-12s inv/s min %8s  max %8s  runs %d\n", t, a[1], a[NR], NR}'
  done
done > "$OUT/spread.txt"
