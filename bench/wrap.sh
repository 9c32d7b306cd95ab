#!/usr/bin/env bash
# What `coda wrap` costs: AWS's Python runtime client (awslambdaric) under the emulator,
# direct, behind `coda wrap` with no command, and behind `coda wrap --after-response true`
# (with bash, the default shell, and with --shell /bin/sh);
# p50/p99 of the caller's latency and of the whole invocation (bootstrap/benches/wrap.rs).
#
#   bash bench/wrap.sh [invocations]     # default 2000 of each, interleaved
#
# Uses the .venv that scripts/test keeps (created here if missing) and builds with the bench
# profile into /tmp/coda-bench/wrap (CARGO_TARGET_DIR), not into the repository's target/.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
N=${1:-2000}
AWSLAMBDARIC_VERSION=4.2.2
venv=$ROOT/.venv
if [ ! -x "$venv/bin/python" ] ||
  ! "$venv/bin/python" -c "import sys, awslambdaric; sys.exit(awslambdaric.__version__ != '$AWSLAMBDARIC_VERSION')" 2>/dev/null; then
  echo "bench/wrap.sh: installing awslambdaric $AWSLAMBDARIC_VERSION into $venv (once)" >&2
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "awslambdaric==$AWSLAMBDARIC_VERSION"
fi
export CODA_TEST_PYTHON=$venv/bin/python
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-/tmp/coda-bench/wrap}
echo "machine: $(uname -srm); $(nproc) cpus; load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "coda at $(git -C "$ROOT" rev-parse --short HEAD); awslambdaric $AWSLAMBDARIC_VERSION; $("$CODA_TEST_PYTHON" --version)"
cargo bench -q --manifest-path "$ROOT/Cargo.toml" -p coda-bootstrap --bench wrap -- --invocations "$N"
