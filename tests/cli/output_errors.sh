#!/usr/bin/env bash
# What `dcomp oneshot` does when the output cannot be written, and with flags
# that conflict: each case must exit non-zero with a message naming the problem
# (and the path), and must never leave a final output folder behind.
#   - output on a read-only file system (a tmpfs mounted read-only)
#   - disk full during the write (a 1 MiB tmpfs; the checkpoint needs more), with and
#     without saved progress (without, the temporary folder must be removed too)
#   - output exists without --overwrite
#   - --recipe with --scheme, --resume with --no-save-progress, no --output
# The file-system cases need root and mount(8) (as in CI); elsewhere they are
# skipped with the reason.
# Usage: output_errors.sh <dcomp binary> <shared data folder>
set -uo pipefail
dcomp="$1"; data="$2"
model="$data/tinystories-656k"
[ -d "$model" ] || { echo "SKIP: shared data folder not found: $data"; exit 77; }
work="$(mktemp -d /tmp/dcomp-output-errors.XXXXXX)"
mounts=()
cleanup() { for m in "${mounts[@]}"; do umount "$m" 2>/dev/null; done; rm -rf "$work"; }
trap cleanup EXIT
failures=0
args=(--model "$model" --scheme W4A16 --dataset "$data/text/tinystories_valid_sample.txt"
      --num-calibration-samples 16 --max-seq-length 128 --threads 1)

expect_failure() {  # expect_failure <case> <expected message part> <folder that must not exist> -- <dcomp args...>
  local name="$1" expected="$2" absent="$3"; shift 4
  "$dcomp" --log-level warn "$@" >"$work/out.log" 2>&1
  local status=$?
  if [ "$status" -eq 0 ]; then echo "FAIL [$name]: exited 0"; failures=$((failures + 1)); return; fi
  if ! grep -qF -- "$expected" "$work/out.log"; then
    echo "FAIL [$name]: message lacks \"$expected\":"; cat "$work/out.log"; failures=$((failures + 1)); return
  fi
  if [ -n "$absent" ] && [ -e "$absent" ]; then
    echo "FAIL [$name]: $absent exists after the failure"; failures=$((failures + 1)); return
  fi
  echo "ok [$name]: exit $status: $(grep -F -- "$expected" "$work/out.log" | head -1)"
}

# Flags.
expect_failure "recipe and scheme" "excludes" "$work/a" -- oneshot "${args[@]}" --recipe x.yaml --output "$work/a"
expect_failure "resume without progress" "excludes" "$work/a" -- oneshot "${args[@]}" --resume --no-save-progress \
  --output "$work/a"
expect_failure "no output" "--output is required" "" -- oneshot "${args[@]}"
mkdir -p "$work/exists"
expect_failure "output exists" "already exists (use --overwrite" "" -- oneshot "${args[@]}" --output "$work/exists"

if ! mkdir -p "$work/ro" "$work/full" || ! mount -t tmpfs -o size=4k,ro tmpfs "$work/ro" 2>/dev/null; then
  echo "SKIP: cannot mount a tmpfs here (needs root and mount); the file-system cases did not run"
  [ "$failures" -eq 0 ] || exit 1
  exit 77
fi
mounts+=("$work/ro")
expect_failure "read-only file system" "Read-only file system" "$work/ro/out" -- oneshot "${args[@]}" \
  --output "$work/ro/out"

mount -t tmpfs -o size=1m tmpfs "$work/full" && mounts+=("$work/full")
expect_failure "disk full" "No space left on device" "$work/full/out" -- oneshot "${args[@]}" \
  --output "$work/full/out"
expect_failure "disk full, no progress saved" "No space left on device" "$work/full/out2" -- oneshot "${args[@]}" \
  --no-save-progress --output "$work/full/out2"
# Without saved progress there is nothing to resume: the temporary folder is gone too.
if ls -d "$work/full"/out2.tmp-* >/dev/null 2>&1; then
  echo "FAIL [disk full, no progress saved]: the temporary folder was left behind"; failures=$((failures + 1))
fi

[ "$failures" -eq 0 ] || { echo "$failures case(s) failed"; exit 1; }
echo "all cases passed"
