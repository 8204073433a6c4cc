#!/usr/bin/env bash
# Deterministic by default: repeated `dcomp oneshot` runs with every default option
# (layer prefetch and Hessian overlap on, the machine's default thread count) and the
# same inputs write byte-identical checkpoints, and so do runs with --threads 1 (whose
# worker actors must compute with one thread too). The run report records what
# determinism depends on: threads per rank, chunk size and the BLAS library.
# Usage: default_determinism.sh <dcomp binary>
set -euo pipefail
dcomp="$1"
work="$(mktemp -d /tmp/dcomp-determinism.XXXXXX)"
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
"$dcomp" --log-level warn create-model --output "$work/model" --layers 4 --hidden-size 256 --intermediate-size 512 \
  --heads 8 --kv-heads 4 --write-text "$work/calibration.txt" >/dev/null
source "$(dirname "$0")/../support/same_checkpoint.sh"
for threads in default 1; do
  thread_args=()
  [ "$threads" = default ] || thread_args=(--threads "$threads")
  for run in 1 2 3; do
    "$dcomp" --log-level warn oneshot --model "$work/model" --scheme W4A16 --dataset "$work/calibration.txt" \
      --num-calibration-samples 32 --max-seq-length 128 "${thread_args[@]}" --output "$work/out-$threads-$run" ||
      fail "run $run with threads $threads failed"
    [ "$run" = 1 ] || same_checkpoint "$work/out-$threads-1" "$work/out-$threads-$run"
  done
  echo "threads $threads: 3 runs wrote identical checkpoints"
done
python3 - "$work/out-1-1/dcomp_report.json" <<'PY' || fail "the run report lacks what determinism depends on"
import json, sys
determinism = json.load(open(sys.argv[1]))["determinism"]
assert determinism["threads_per_rank"] == 1, determinism
for key in ("chunk_size", "blas"):
    assert key in determinism, (key, determinism)
print("report:", determinism)
PY
