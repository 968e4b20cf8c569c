#!/usr/bin/env bash
# Usage: extract_quick_start.sh README.md OUT_DIR [SECTION]
# Writes the first ```cpp block of README.md's "## SECTION" section (default "Quick start (C++)")
# to OUT_DIR/main.cc and its first ```cmake block to OUT_DIR/CMakeLists.txt, byte for byte.
# Fails if either is missing. Used by consume_test.sh and readme_matches_examples.sh.
set -euo pipefail

readme=$1
out=$2
section_title="## ${3:-Quick start (C++)}"
mkdir -p "$out"
: >"$out/main.cc"
: >"$out/CMakeLists.txt"
awk -v cpp="$out/main.cc" -v cmake="$out/CMakeLists.txt" -v title="$section_title" '
  fence == "" && /^## / { section = ($0 == title); next }
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
    if (!have_cpp) print "no ```cpp block in the README section \"" title "\"" > "/dev/stderr"
    if (!have_cmake) print "no ```cmake block in the README section \"" title "\"" > "/dev/stderr"
    exit !(have_cpp && have_cmake)
  }' "$readme"
