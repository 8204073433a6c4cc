#!/usr/bin/env bash
# End-to-end GPU benchmark: `dcomp oneshot` GPTQ W4A16 on a synthetic 8-layer model of
# hidden size 4096 (intermediate 11008, 32 heads, 8 key/value heads: a Llama-7B-wide
# layer), 64 samples of 512 tokens, with --device cuda, then the same run with
# --device cpu on all of the machine's cores, side by side; prints both times and
# their ratio, and each run's seconds per phase from its report. Needs dcomp built
# against a CUDA LibTorch (launch/cuda-libtorch-build.sh) and a visible GPU.
# DCOMP_BENCH_CPU=0 skips the CPU run (it takes tens of minutes on a few cores).
# Usage: bench/bench_gpu_oneshot.sh <dcomp binary> [work dir]
set -euo pipefail
dcomp="$1"
work="${2:-/tmp/dcomp-bench-gpu-oneshot}"
if ! "$dcomp" version | grep -q "^LibTorch .*, CUDA yes, GPUs visible [1-9]"; then
  echo "SKIP: $("$dcomp" version | grep '^LibTorch') (needs a CUDA LibTorch and a visible GPU)"
  exit 77
fi
mkdir -p "$work"
if [ ! -f "$work/model/config.json" ]; then
  rm -rf "$work/model"
  "$dcomp" create-model --output "$work/model" --layers 8 --hidden-size 4096 --intermediate-size 11008 \
    --heads 32 --kv-heads 8 --write-text "$work/text-once.txt" >/dev/null
fi
[ -f "$work/calibration.txt" ] || for _ in $(seq 200); do cat "$work/text-once.txt"; done >"$work/calibration.txt"

run() {  # run <device> → seconds; the report stays in $work/<device>.json
  local started ended
  started=$(date +%s%N)
  "$dcomp" --quiet oneshot --device "$1" --model "$work/model" --scheme W4A16 --dataset "$work/calibration.txt" \
    --num-calibration-samples 64 --max-seq-length 512 --output "$work/out-$1" --overwrite --no-save-progress \
    --report "$work/$1.json"
  ended=$(date +%s%N)
  echo $(((ended - started) / 1000000))
}
phases() {  # phases <report>
  python3 -c 'import json, sys; r = json.load(open(sys.argv[1])); print(", ".join("%s %.1f s" % kv for kv in sorted(r["seconds_per_phase"].items())))' "$1"
}
gpu_ms="$(run cuda)"
echo "GPU:  $((gpu_ms / 1000)).$(printf '%03d' $((gpu_ms % 1000))) s  ($(phases "$work/cuda.json"))"
if [ "${DCOMP_BENCH_CPU:-1}" = 1 ]; then
  cpu_ms="$(run cpu)"
  echo "CPU:  $((cpu_ms / 1000)).$(printf '%03d' $((cpu_ms % 1000))) s  ($(phases "$work/cpu.json")), $(nproc) cores"
  python3 -c "import sys; print('GPU speed-up over the CPU: %.1fx' % (int(sys.argv[1]) / int(sys.argv[2])))" \
    "$cpu_ms" "$gpu_ms"
fi
