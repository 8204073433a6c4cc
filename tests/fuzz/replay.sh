#!/usr/bin/env bash
# Runs a fuzzer once on every file under the given folders (a missing folder is
# skipped): regression inputs and seeds must all pass. Exits with the fuzzer's status;
# libFuzzer names the input that failed.
# Usage: tests/fuzz/replay.sh <fuzzer binary> <folder>...
# reference: https://llvm.org/docs/LibFuzzer.html (running individual inputs)
set -euo pipefail

fuzzer="$1"
shift
files=()
for dir in "$@"; do
  [ -d "$dir" ] || continue
  while IFS= read -r -d '' file; do files+=("$file"); done < <(find "$dir" -type f -print0 | sort -z)
done
if ((${#files[@]} == 0)); then
  echo "replay: no inputs under $*"
  exit 0
fi
echo "replay: ${#files[@]} inputs through $(basename "$fuzzer")"
exec "$fuzzer" -timeout=10 -rss_limit_mb=2048 "${files[@]}"
