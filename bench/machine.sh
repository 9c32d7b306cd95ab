# Sourced by the bench scripts: `machine_lines ROOT` prints the lines that say where and on
# what a run took place (UTC date, kernel, CPUs, memory, rustc, the commit and how many paths
# differ from it). Each script adds its own settings and the load average after them.
machine_lines() {
  local root=$1
  echo "date (UTC): $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "machine: $(uname -srmv)"
  echo "cpus: $(nproc) x $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
  echo "memory: $(awk '/MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo)"
  echo "rustc: $(rustc --version)"
  echo "coda: $(git -C "$root" rev-parse --short HEAD 2> /dev/null || echo '?')" \
    "($(git -C "$root" status --porcelain 2> /dev/null | wc -l) paths differ from it)"
}
