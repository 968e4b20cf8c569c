#!/usr/bin/env bash
# Usage: readme_matches_examples.sh SOURCE_DIR
# Fails if the code blocks of README.md's "## Quick start (C++)" differ from
# examples/quick-start-embedded/{main.cc,CMakeLists.txt}, or those of "## Quick start: three
# processes (C++)" from examples/quick-start-cluster/.
set -euo pipefail

src=$1
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/dengine-readme.XXXXXX")
trap 'rm -rf "$work"' EXIT
trap 'exit 1' INT TERM # so that the EXIT trap runs when ctest stops the test

status=0
check() {
  local example=$1 section=$2
  mkdir -p "$work/$example"
  bash "$here/extract_quick_start.sh" "$src/README.md" "$work/$example" "$section"
  local f
  for f in main.cc CMakeLists.txt; do
    if ! diff -u --label "examples/$example/$f" --label "README.md ($f block)" \
        "$src/examples/$example/$f" "$work/$example/$f"; then
      echo "README.md's \"## $section\" blocks differ from examples/$example/" >&2
      status=1
    fi
  done
}
check quick-start-embedded "Quick start (C++)"
check quick-start-cluster "Quick start: three processes (C++)"
exit "$status"
