# Sourced by scripts/test.sh and scripts/fuzz.sh: the repo root as the working directory, ccache
# keyed on paths relative to it, and phase timing so the CI budget stays visible.
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$repo"
jobs=${DENGINE_JOBS:-2}

# ccache keyed on paths relative to the repo, so a fresh clone at a new path hits the cache.
export CCACHE_BASEDIR="$repo"
export CCACHE_NOHASHDIR=1

phase_started=0
phase() {
  phase_name=$1
  phase_started=$(date +%s)
  echo "==> ${phase_name}"
}
phase_done() {
  echo "==> ${phase_name}: $(($(date +%s) - phase_started)) s"
}
