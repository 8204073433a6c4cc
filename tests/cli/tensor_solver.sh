#!/usr/bin/env bash
# `--solver tensor` runs GPTQ's column loop in ATen tensor operations (the code a GPU runs with
# --device cuda), stacking same-shape experts into one solve; on the CPU it must write the
# checkpoint the AVX-512 host loop writes, tensor for tensor: INT4 group with each activation
# order, INT8 channel, FP8, NVFP4 and MXFP4, and SparseGPT 2:4 and 50 % unstructured (pruned
# weights and masks on the layer's device too) on TinyStories-656K, the Qwen3-MoE fixture's experts
# (one stack per projection), and the same on two ranks.
# Usage: tensor_solver.sh <dcomp binary> <shared data folder>
set -euo pipefail
dcomp="$1"; data="$2"
[ -d "$data/tinystories-656k" ] || { echo "SKIP: shared data folder not found: $data"; exit 77; }
work="$(mktemp -d /tmp/dcomp-tensor-solver.XXXXXX)"
trap 'rm -rf "$work"' EXIT
here="$(cd "$(dirname "$0")" && pwd)"
recipe() {  # name weights-args
  cat >"$work/$1.yaml" <<YAML
quant_stage:
  quant_modifiers:
    GPTQModifier:
      ignore: [lm_head]
      block_size: 32
      config_groups:
        group_0:
          targets: [Linear]
          weights: {$2}
YAML
}
cat >"$work/sparsegpt-24.yaml" <<'YAML'
sparsity_stage:
  sparsity_modifiers:
    SparseGPTModifier: {sparsity: 0.5, mask_structure: "2:4", targets: [Linear], ignore: [lm_head], block_size: 32}
YAML
cat >"$work/sparsegpt-50.yaml" <<'YAML'
sparsity_stage:
  sparsity_modifiers:
    SparseGPTModifier: {sparsity: 0.5, mask_structure: "0:0", targets: [Linear], ignore: [lm_head], block_size: 32}
YAML
recipe int4-static 'num_bits: 4, type: int, symmetric: true, strategy: group, group_size: 32, actorder: static'
recipe int4-group 'num_bits: 4, type: int, symmetric: false, strategy: group, group_size: 32, actorder: group'
recipe int8-channel 'num_bits: 8, type: int, symmetric: true, strategy: channel'
python3 "$here/../support/token_ids.py" "$work/ids.jsonl" 16 64 7
export OMPI_MCA_btl=self,vader OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
status=0
text=(--dataset "$data/text/tinystories_valid_sample.txt" --num-calibration-samples 16 --max-seq-length 128)
ids=(--dataset "$work/ids.jsonl" --num-calibration-samples 16 --max-seq-length 64)
variant_flags() { echo "--solver $1"; }
# shellcheck source=tests/support/run_variants.sh
source "$here/../support/run_variants.sh"
run_job() { local name="$1" ranks="$2"; shift 2; run_variants "$name" "$ranks" host tensor "$@"; }
tiny=(--model "$data/tinystories-656k")
run_job w4a16 1 "${tiny[@]}" --scheme W4A16 "${text[@]}"
run_job int4-static 1 "${tiny[@]}" --recipe "$work/int4-static.yaml" "${text[@]}"
run_job int4-group-asym 1 "${tiny[@]}" --recipe "$work/int4-group.yaml" "${text[@]}"
run_job int8-channel 1 "${tiny[@]}" --recipe "$work/int8-channel.yaml" "${text[@]}"
run_job fp8 1 "${tiny[@]}" --scheme FP8 "${text[@]}"
run_job nvfp4a16 1 "${tiny[@]}" --scheme NVFP4A16 "${text[@]}"
run_job mxfp4a16 1 "${tiny[@]}" --scheme MXFP4A16 "${text[@]}"
run_job sparsegpt-24 1 "${tiny[@]}" --recipe "$work/sparsegpt-24.yaml" "${text[@]}"
run_job sparsegpt-50 1 "${tiny[@]}" --recipe "$work/sparsegpt-50.yaml" "${text[@]}"
moe=(--model "$here/../model/fixtures/qwen3_moe" --recipe "$work/int8-channel.yaml" "${ids[@]}")
run_job qwen3-moe-sparsegpt 1 --model "$here/../model/fixtures/qwen3_moe" --recipe "$work/sparsegpt-24.yaml" "${ids[@]}"
run_job qwen3-moe 1 "${moe[@]}"
run_job qwen3-moe-routed 1 "${moe[@]}" --moe-calibrate-all-experts false
command -v mpirun >/dev/null && run_job qwen3-moe-2-ranks 2 "${moe[@]}"
exit $status
