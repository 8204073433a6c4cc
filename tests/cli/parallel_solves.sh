#!/usr/bin/env bash
# With two compute threads per rank, a layer's modules are solved concurrently on two worker
# actors, one thread each; `--no-parallel-solves` solves them one after another on one worker.
# Both must write bit-identical tensors: GPTQ W4A16 and SparseGPT 2:4 on TinyStories-656K, GPTQ
# W4 on the Qwen3-MoE fixture (384 expert solves per sparse layer), and the same on two ranks.
# Usage: parallel_solves.sh <dcomp binary> <shared data folder>
set -euo pipefail
dcomp="$1"; data="$2"
[ -d "$data/tinystories-656k" ] || { echo "SKIP: shared data folder not found: $data"; exit 77; }
work="$(mktemp -d /tmp/dcomp-parallel-solves.XXXXXX)"
trap 'rm -rf "$work"' EXIT
here="$(cd "$(dirname "$0")" && pwd)"
cat >"$work/sparsegpt.yaml" <<'YAML'
sparsity_stage:
  sparsity_modifiers:
    SparseGPTModifier: {sparsity: 0.5, mask_structure: "2:4", targets: [Linear], ignore: [lm_head]}
YAML
cat >"$work/channel_w4.yaml" <<'YAML'
quant_stage:
  quant_modifiers:
    GPTQModifier:
      ignore: [lm_head]
      config_groups:
        group_0:
          targets: [Linear]
          weights: {num_bits: 4, type: int, symmetric: true, strategy: channel}
YAML
python3 "$(dirname "$0")/../support/token_ids.py" "$work/ids.jsonl" 16 64 7
export OMPI_MCA_btl=self,vader OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
status=0
text=(--dataset "$data/text/tinystories_valid_sample.txt" --num-calibration-samples 16 --max-seq-length 128)
ids=(--dataset "$work/ids.jsonl" --num-calibration-samples 16 --max-seq-length 64)
variant_flags() { [ "$1" = sequential ] && echo "--threads 2 --no-parallel-solves" || echo "--threads 2"; }
# shellcheck source=tests/support/run_variants.sh
source "$here/../support/run_variants.sh"
run_job() { local name="$1" ranks="$2"; shift 2; run_variants "$name" "$ranks" parallel sequential "$@"; }
run_job gptq-w4a16 1 --model "$data/tinystories-656k" --scheme W4A16 "${text[@]}"
run_job sparsegpt-24 1 --model "$data/tinystories-656k" --recipe "$work/sparsegpt.yaml" "${text[@]}"
run_job qwen3-moe 1 --model "$here/../model/fixtures/qwen3_moe" --recipe "$work/channel_w4.yaml" "${ids[@]}"
command -v mpirun >/dev/null && run_job qwen3-moe-2-ranks 2 --model "$here/../model/fixtures/qwen3_moe" --recipe "$work/channel_w4.yaml" "${ids[@]}"
exit $status
