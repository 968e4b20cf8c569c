#!/usr/bin/env bash
# Usage: extract_quick_start.sh README.md OUT_DIR
# Writes the first ```cpp block of README.md's "## Quick start (C++)" section to OUT_DIR/main.cc
# and its first ```cmake block to OUT_DIR/CMakeLists.txt, byte for byte. Fails if either is
# missing. Used by consume_test.sh and readme_matches_examples.sh.
set -euo pipefail

readme=$1
out=$2
mkdir -p "$out"
: >"$out/main.cc"
: >"$out/CMakeLists.txt"
awk -v cpp="$out/main.cc" -v cmake="$out/CMakeLists.txt" '
  fence == "" && /^## / { section = ($0 == "## Quick start (C++)"); next }
  fence == "" && /^```/ {
    fence = substr($0, 4)
    if (fence == "") fence = "(none)"
    take = ""
    if (section && fence == "cpp" && !have_cpp) take = cpp
    if (section && fence == "cmake" && !have_cmake) take = cmake
    next
  }
  fence != "" && /^```$/ {
    if (take == cpp) have_cpp = 1
    if (take == cmake) have_cmake = 1
    fence = ""; take = ""
    next
  }
  take != "" { print > take }
  END {
    if (!have_cpp) print "no ```cpp block in the README section \"## Quick start (C++)\"" > "/dev/stderr"
    if (!have_cmake) print "no ```cmake block in the README section \"## Quick start (C++)\"" > "/dev/stderr"
    exit !(have_cpp && have_cmake)
  }' "$readme"
