#!/usr/bin/env bash
# A second `dcomp oneshot` into an output that a live run is writing stops at once, before
# loading or calibrating anything, naming the live run's process id and host: a plain run,
# a --resume (which must not take over the live run's folder) and an --overwrite. The live
# run is not disturbed: it publishes its checkpoint, without the lock's holder record.
# Usage: output_locked_by_live_run.sh <dcomp binary>
set -uo pipefail
dcomp="$1"
work="$(mktemp -d /tmp/dcomp-locked.XXXXXX)"
first=""
cleanup() { [ -n "$first" ] && kill -9 "$first" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
"$dcomp" create-model --output "$work/model" --layers 8 --hidden-size 512 --intermediate-size 1536 \
  --heads 8 --kv-heads 4 --write-text "$work/text.txt" >/dev/null
args=(oneshot --model "$work/model" --scheme W4A16 --dataset "$work/text.txt" --num-calibration-samples 16
      --max-seq-length 256 --threads 1 --output "$work/out")
"$dcomp" "${args[@]}" >"$work/first.log" 2>&1 &
first=$!
# Once the first run has saved a layer, its temporary folder is locked and resumable.
for _ in $(seq 600); do
  grep -q "layer 1/" "$work/first.log" && break
  sleep 0.1
done
kill -0 "$first" 2>/dev/null || { echo "the first run ended early"; cat "$work/first.log"; exit 1; }
failures=0
host="$(hostname)"
for extra in "" --resume --overwrite; do
  started=$(date +%s.%N)
  "$dcomp" "${args[@]}" $extra >"$work/second.log" 2>&1
  code=$?
  seconds=$(echo "$(date +%s.%N) - $started" | bc)
  echo "second run ${extra:-(plain)}: exit $code after ${seconds} s: $(grep -m1 error "$work/second.log")"
  [ "$code" -ne 0 ] || { echo "FAIL: the second run ${extra} succeeded beside a live run"; failures=1; }
  grep -q "another dcomp run (process $first on host $host) is writing this output" "$work/second.log" ||
    { echo "FAIL: the second run ${extra} does not name the live run (pid $first on $host)"; cat "$work/second.log"; failures=1; }
  grep -q "layer 1/" "$work/second.log" && { echo "FAIL: the second run ${extra} computed layers"; failures=1; }
  (( $(echo "$seconds < 10" | bc) )) || { echo "FAIL: the second run ${extra} took ${seconds} s to stop"; failures=1; }
done
kill -0 "$first" 2>/dev/null || { echo "FAIL: the first run did not survive the second ones"; failures=1; }
wait "$first"; code=$?; first=""
[ "$code" -eq 0 ] || { echo "FAIL: the first run exited $code"; tail -n 5 "$work/first.log"; failures=1; }
[ -f "$work/out/config.json" ] || { echo "FAIL: the first run published no checkpoint"; failures=1; }
[ ! -e "$work/out/.dcomp-lock-owner" ] || { echo "FAIL: the lock's holder record is in the checkpoint"; failures=1; }
leftovers=$(ls -d "$work"/out.tmp-* 2>/dev/null)
[ -z "$leftovers" ] || { echo "FAIL: temporary folders left: $leftovers"; failures=1; }
[ "$failures" -eq 0 ] && echo "output locked by a live run: passed"
exit "$failures"
