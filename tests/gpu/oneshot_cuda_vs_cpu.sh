#!/usr/bin/env bash
# On a machine with a GPU and a dcomp built against a CUDA LibTorch: GPTQ W4 on the
# two real models in the shared data folder, once with --device cpu, once with
# --device cuda on 1 rank and once on 2 ranks (sharing the GPU when there is only
# one, so reducing over MPI through host memory; NCCL when each rank has its own).
# Compares the integers: CUDA against CPU may differ where the GPU's fp32 GEMMs
# (forward passes, Hessians) round differently from the CPU's and move a weight
# across a rounding boundary, so up to --max-differing (0.1%) of codes may flip;
# 1 against 2 ranks on the GPU must agree as closely (the Hessian sums are fp64).
# Usage: oneshot_cuda_vs_cpu.sh <dcomp binary> <shared data folder>
set -uo pipefail
dcomp="$1"; data="$2"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
if ! "$dcomp" version | grep -q "^LibTorch .*, CUDA yes, GPUs visible [1-9]"; then
  echo "SKIP: $("$dcomp" version | grep '^LibTorch') (needs a CUDA LibTorch and a visible GPU)"
  exit 77
fi
work="$(mktemp -d /tmp/dcomp-cuda-vs-cpu.XXXXXX)"
trap 'rm -rf "$work"' EXIT
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_btl=self,vader
dataset="$data/text/tinystories_valid_sample.txt"
printf 'q_stage:\n  q_modifiers:\n    GPTQModifier:\n      ignore: [lm_head]\n      config_groups:\n        g:\n          targets: [Linear]\n          weights: {num_bits: 4, type: int, symmetric: true, strategy: group, group_size: 32}\n' \
  >"$work/w4g32.yaml"
status=0
for model in tinystories-656k stories260k; do
  common=(--log-level warn oneshot --model "$data/$model" --recipe "$work/w4g32.yaml" --dataset "$dataset"
          --num-calibration-samples 32 --max-seq-length 256)
  for run in cpu:1 cuda:1 cuda:2; do
    device="${run%%:*}"; ranks="${run##*:}"
    started=$SECONDS
    if ! mpirun --allow-run-as-root --oversubscribe -np "$ranks" "$dcomp" "${common[@]}" --device "$device" \
        --output "$work/$model-$device-$ranks" >"$work/log" 2>&1; then
      echo "FAIL [$model $device x$ranks]:"; tail -20 "$work/log"; status=1; continue
    fi
    echo "$model: --device $device on $ranks rank(s) in $((SECONDS - started)) s"
  done
  echo "$model: CUDA (1 rank) against CPU"
  python3 "$here/compare_checkpoints.py" "$work/$model-cpu-1" "$work/$model-cuda-1" --max-differing 0.001 || status=1
  echo "$model: CUDA, 1 rank against 2 ranks"
  python3 "$here/compare_checkpoints.py" "$work/$model-cuda-1" "$work/$model-cuda-2" --max-differing 0.001 || status=1
done
exit "$status"
