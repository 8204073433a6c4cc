#!/usr/bin/env bash
# Fault test: SIGSTOP of rank 1 in the middle of a 2-rank `dcomp oneshot --collective-timeout 5`
# (a hung rank: alive, silent). Rank 0's collective watchdog must end the job within 60 s of
# the stop with exit code 75, naming rank 1 and the layer and phase it waited in; the
# temporary folder with the saved progress must stay for --resume; and while it waits,
# rank 0 must not spin (under 20 % of a CPU). Leftover processes are continued and killed.
# Usage: stopped_rank_timeout_test.sh <dcomp binary>
set -uo pipefail
dcomp="$1"
work="$(mktemp -d /tmp/dcomp-stop.XXXXXX)"
launcher=""; ranks=""
cleanup() {
  for pid in $ranks; do kill -CONT "$pid" 2>/dev/null; kill -9 "$pid" 2>/dev/null; done
  [ -n "$launcher" ] && kill -9 "$launcher" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
export OMPI_MCA_btl=self,vader OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
"$dcomp" create-model --output "$work/model" --layers 24 --hidden-size 512 --intermediate-size 1536 \
  --heads 8 --kv-heads 4 --write-text "$work/text.txt" >/dev/null
mpirun --allow-run-as-root -np 2 "$dcomp" oneshot --model "$work/model" --scheme W4A16 \
  --dataset "$work/text.txt" --num-calibration-samples 16 --max-seq-length 256 --threads 1 \
  --collective-timeout 5 --output "$work/out" >"$work/log" 2>&1 &
launcher=$!
# Once two layers are saved (resumable progress), stop rank 1.
for _ in $(seq 600); do
  grep -q "layer 2/" "$work/log" && break
  sleep 0.1
done
ranks=$(pgrep -P "$launcher" -x dcomp | tr '\n' ' ')
victim=""; survivor=""
for pid in $ranks; do
  rank=$(tr '\0' '\n' <"/proc/$pid/environ" 2>/dev/null | sed -n 's/^OMPI_COMM_WORLD_RANK=//p')
  if [ "$rank" = 1 ]; then victim=$pid; elif [ "$rank" = 0 ]; then survivor=$pid; fi
done
[ -n "$victim" ] && [ -n "$survivor" ] || { echo "rank processes not found (pids: $ranks)"; cat "$work/log"; exit 1; }
kill -STOP "$victim"
stopped_at=$(date +%s)
# CPU time of rank 0 from 3 to 5 s after the stop: it has finished its part of the layer
# (about 1 s) and waits in a collective for rank 1 (it ends the job 5 s after entering it).
sleep 3
ticks() { awk '{print $14 + $15}' "/proc/$survivor/stat" 2>/dev/null; }
before=$(ticks); sleep 2; after=$(ticks)
[ -n "$before" ] && [ -n "$after" ] || { echo "rank 0 ended within 5 s of the stop"; tail -n 5 "$work/log"; exit 1; }
cpu_percent=$(( (after - before) * 100 / (2 * $(getconf CLK_TCK)) ))
for _ in $(seq 600); do
  kill -0 "$launcher" 2>/dev/null || break
  sleep 0.1
done
if kill -0 "$launcher" 2>/dev/null; then
  echo "the job still runs 60 s after rank 1 was stopped"; tail -n 5 "$work/log"; exit 1
fi
wait "$launcher"; code=$?; launcher=""
elapsed=$(( $(date +%s) - stopped_at ))
echo "job ended ${elapsed} s after SIGSTOP of rank 1 (pid $victim), exit code $code; rank 0 used ${cpu_percent} % CPU waiting"
grep "collective timeout" "$work/log"
status=0
[ "$code" -eq 75 ] || { echo "expected exit code 75 (collective timeout), got $code"; status=1; }
grep -Eq "collective timeout after 5 s in [a-z_]+ \(layer [0-9]+/24, phase [a-z]+\): rank 1 did not arrive" "$work/log" ||
  { echo "no timeout message naming rank 1 and the layer and phase"; tail -n 20 "$work/log"; status=1; }
[ "$cpu_percent" -lt 20 ] || { echo "rank 0 spun at ${cpu_percent} % CPU while waiting"; status=1; }
temporary=$(ls -d "$work"/out.tmp-* 2>/dev/null | head -n 1)
[ -n "$temporary" ] && [ -f "$temporary/progress/state.json" ] ||
  { echo "the temporary folder with the saved progress was not kept"; ls -la "$work"; status=1; }
grep -q "the temporary folder $temporary is kept for --resume" "$work/log" ||
  { echo "the message does not name the kept temporary folder $temporary"; status=1; }
[ ! -e "$work/out" ] || { echo "an output folder was published"; status=1; }
# Nothing is left behind: the stopped rank is continued and ended.
for pid in $ranks; do kill -CONT "$pid" 2>/dev/null; kill -9 "$pid" 2>/dev/null; done
sleep 0.2
for pid in $ranks; do
  if kill -0 "$pid" 2>/dev/null && ! grep -q '^State:.*Z' "/proc/$pid/status" 2>/dev/null; then
    echo "rank process $pid survived"; status=1
  fi
done
ranks=""
[ "$status" -eq 0 ] && echo "stopped-rank timeout test passed"
exit "$status"
