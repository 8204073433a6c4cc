#!/usr/bin/env bash
# An allocation that fails mid-run is said in one line naming the model, the layer and phase,
# the bytes asked for and the rank's peak, with exit code 1 and no output written (before: a
# 30-line LibTorch stack trace naming none of these). The failure is real: the address space
# is capped with ulimit -v below what layer 1's Hessian sums need (2 GiB for an input of 16384).
# Usage: out_of_memory.sh <dcomp binary>
set -euo pipefail
dcomp="$1"
work="$(mktemp -d /tmp/dcomp-oom.XXXXXX)"
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
"$dcomp" --log-level warn create-model --output "$work/model" --layers 2 --hidden-size 1024 --intermediate-size 16384 \
  --heads 8 --kv-heads 4 --write-text "$work/calibration.txt" >/dev/null
# The address space a process needs before its first layer depends on the LibTorch it loaded
# (a CUDA LibTorch maps several GB): raise the cap 1 GB at a time until the run starts and
# fails in a layer.
found=""
for cap_gb in 3 4 5 6 7 8 9 10 11 12; do
  status=0
  (ulimit -v $((cap_gb * 1000000)); exec "$dcomp" --log-level warn oneshot --model "$work/model" --scheme W4A16 \
    --dataset "$work/calibration.txt" --num-calibration-samples 8 --max-seq-length 128 --output "$work/out") \
    >"$work/log.txt" 2>&1 || status=$?
  if grep -q "out of memory while compressing" "$work/log.txt"; then found=$cap_gb; break; fi
  if [ "$status" = 0 ]; then echo "SKIP: the run fit in ${cap_gb} GB of address space before any layer failed"; exit 77; fi
done
[ -n "$found" ] || fail "no cap up to 12 GB gave an allocation failure in a layer: $(head -3 "$work/log.txt")"
[ "$status" = 1 ] || fail "exit code $status, not 1: $(tail -5 "$work/log.txt")"
grep -Eq "^dcomp: error: out of memory while compressing .*model \(layer [12]/2, phase [a-z]+\)(, needing [0-9]+ bytes \([0-9.]+ GiB\) more)?; this rank held up to [0-9]+ bytes" \
  "$work/log.txt" || fail "no out-of-memory message naming the layer and phase: $(head -3 "$work/log.txt")"
[ "$(wc -l <"$work/log.txt")" -le 3 ] || fail "more than the message was printed: $(head -10 "$work/log.txt")"
[ ! -e "$work/out" ] || fail "an output folder was written"
echo "PASS (address space capped at ${found} GB): $(grep -o 'out of memory while.*more' "$work/log.txt" | head -1)"
