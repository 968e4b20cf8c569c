#!/usr/bin/env bash
# Fails when code in src/ or include/ decides what an error is by reading its message text
# (comparing it, or searching it for a prefix or a phrase). Errors say which known condition
# they are through Status::detail() (dengine/error_detail.h); messages are for people and may
# be reworded without changing what a client gets.
set -euo pipefail
root=${1:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
pattern='message(\(\))?[[:space:]]*\.[[:space:]]*(starts_with|ends_with|find|rfind|compare|contains)\b|message\(\)[[:space:]]*[!=]=|[!=]=[[:space:]]*[a-z_.>-]*message\(\)'
if hits=$(grep -rnE "$pattern" "$root/src" "$root/include"); then
  echo "error messages are matched as text here; test Status::detail() instead:" >&2
  echo "$hits" >&2
  exit 1
fi
echo "no error message matching in src/ or include/"
