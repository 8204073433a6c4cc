#!/usr/bin/env bash
# Fault test: `kill -9` of the last rank in the middle of a 2-rank `dcomp oneshot`;
# the job must end within 30 s with a non-zero exit and leave no output folder.
# Usage: kill_rank_test.sh <dcomp binary>
# Optional environment: DCOMP_MPIRUN, the launcher command (default mpirun; the cluster tests
# name tests/cluster/mpirun_two_nodes.sh), DCOMP_KILL_RANKS, the number of ranks (default 2).
set -uo pipefail
dcomp="$1"
read -ra mpirun <<<"${DCOMP_MPIRUN:-mpirun}"
ranks="${DCOMP_KILL_RANKS:-2}"
work="$(mktemp -d "${TMPDIR:-/tmp}/dcomp-kill.XXXXXX")"
trap 'rm -rf "$work"' EXIT
export OMPI_MCA_btl=self,vader OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
"$dcomp" create-model --output "$work/model" --layers 24 --hidden-size 512 --intermediate-size 1536 \
  --heads 8 --kv-heads 4 --write-text "$work/text.txt" >/dev/null
"${mpirun[@]}" --allow-run-as-root -np "$ranks" "$dcomp" oneshot --model "$work/model" --scheme W4A16 \
  --dataset "$work/text.txt" --num-calibration-samples 16 --max-seq-length 256 --threads 1 \
  --output "$work/out" >"$work/log" 2>&1 &
launcher=$!
# Wait until the run is inside the layer loop, then kill one rank.
for _ in $(seq 300); do
  grep -q "layer 1/" "$work/log" && break
  sleep 0.1
done
# The last rank's process (on whichever node it runs): the dcomp writing $work/out whose
# OMPI_COMM_WORLD_RANK is ranks - 1.
victim=""
for pid in $(pgrep -x dcomp); do
  tr '\0' '\n' <"/proc/$pid/cmdline" 2>/dev/null | grep -qxF "$work/out" || continue
  rank=$(tr '\0' '\n' <"/proc/$pid/environ" 2>/dev/null | sed -n 's/^OMPI_COMM_WORLD_RANK=//p')
  [ "$rank" = $((ranks - 1)) ] && victim=$pid
done
[ -n "$victim" ] || { echo "no process of rank $((ranks - 1)) found"; cat "$work/log"; kill $launcher; exit 1; }
echo "killing rank $((ranks - 1)) of $ranks (pid $victim, host $(nsenter --uts -t "$victim" hostname 2>/dev/null || echo '?'))"
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
