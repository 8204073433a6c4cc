#!/usr/bin/env bash
# Fault test: `kill -9` of one rank in the middle of a 2-rank `dcomp oneshot`;
# the job must end within 30 s with a non-zero exit and leave no output folder.
# Usage: kill_rank_test.sh <dcomp binary>
set -uo pipefail
dcomp="$1"
work="$(mktemp -d /tmp/dcomp-kill.XXXXXX)"
trap 'rm -rf "$work"' EXIT
export OMPI_MCA_btl=self,vader OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
"$dcomp" create-model --output "$work/model" --layers 24 --hidden-size 512 --intermediate-size 1536 \
  --heads 8 --kv-heads 4 --write-text "$work/text.txt" >/dev/null
mpirun --allow-run-as-root -np 2 "$dcomp" oneshot --model "$work/model" --scheme W4A16 \
  --dataset "$work/text.txt" --num-calibration-samples 16 --max-seq-length 256 --threads 1 \
  --output "$work/out" >"$work/log" 2>&1 &
launcher=$!
# Wait until the run is inside the layer loop, then kill one rank.
for _ in $(seq 300); do
  grep -q "layer 1/" "$work/log" && break
  sleep 0.1
done
victim=$(pgrep -P "$launcher" -x dcomp | tail -n 1)
[ -n "$victim" ] || { echo "no rank process found"; cat "$work/log"; kill $launcher; exit 1; }
killed_at=$(date +%s)
kill -9 "$victim"
for _ in $(seq 300); do
  kill -0 "$launcher" 2>/dev/null || break
  sleep 0.1
done
if kill -0 "$launcher" 2>/dev/null; then
  echo "the job still runs 30 s after a rank was killed"; kill -9 "$launcher"; exit 1
fi
wait "$launcher"; code=$?
elapsed=$(( $(date +%s) - killed_at ))
echo "job ended ${elapsed} s after kill -9 of rank pid $victim, exit code $code"
tail -n 5 "$work/log"
[ "$code" -ne 0 ] || { echo "the job exited 0 after losing a rank"; exit 1; }
[ ! -e "$work/out" ] || { echo "an output folder was left behind"; exit 1; }
echo "kill test passed"
