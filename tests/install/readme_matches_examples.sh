#!/usr/bin/env bash
# Usage: readme_matches_examples.sh SOURCE_DIR
# Fails if the code blocks of README.md's "## Quick start (C++)" differ from
# examples/quick-start-embedded/{main.cc,CMakeLists.txt}.
set -euo pipefail

src=$1
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/dengine-readme.XXXXXX")
trap 'rm -rf "$work"' EXIT
trap 'exit 1' INT TERM # so that the EXIT trap runs when ctest stops the test

bash "$here/extract_quick_start.sh" "$src/README.md" "$work"
status=0
for f in main.cc CMakeLists.txt; do
  if ! diff -u --label "examples/quick-start-embedded/$f" --label "README.md ($f block)" \
      "$src/examples/quick-start-embedded/$f" "$work/$f"; then
    status=1
  fi
done
if ((status)); then
  echo "README.md's \"## Quick start (C++)\" blocks differ from examples/quick-start-embedded/" >&2
fi
exit "$status"
