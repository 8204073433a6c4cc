#!/usr/bin/env bash
# `dcomp oneshot` GPTQ W4A16 on the two real models, AWQ followed by GPTQ NVFP4A16 with an
# FP8 KV cache on TinyStories-656K, and GPTQ W4 on the mixture-of-experts fixtures (Mixtral,
# Qwen3-MoE, DeepSeek-V3 with latent attention and shared experts, GLM-4.5; each expert's Hessians reduced to the rank that solves it, and with every token
# through every expert or only the routed ones), and GPTQ NVFP4A16 on the DeepSeek-V3 and GLM-4.5 fixtures, with 1, 2 and 4 MPI ranks (one compute thread each) must
# write bit-identical tensors, and, since shards are numbered by layer whatever rank wrote them,
# byte-identical files (all but the run report, whose timings differ).
# Usage: oneshot_rank_invariance.sh <dcomp binary> <shared data folder>
# Optional environment: DCOMP_MPIRUN, the launcher command (default mpirun; the cluster tests
# name tests/cluster/mpirun_two_nodes.sh), DCOMP_RANK_COUNTS (default "1 2 4"; the first is the
# reference) and DCOMP_INVARIANCE_JOBS (default: all the jobs below; not DCOMP_JOBS, the build parallelism).
set -euo pipefail
dcomp="$1"; data="$2"
[ -d "$data/tinystories-656k" ] || { echo "SKIP: shared data folder not found: $data"; exit 77; }
work="$(mktemp -d "${TMPDIR:-/tmp}/dcomp-ranks.XXXXXX")"
trap 'rm -rf "$work"' EXIT
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
cat >"$work/awq_nvfp4_kv.yaml" <<'YAML'
quant_stage:
  quant_modifiers:
    AWQModifier: {duo_scaling: true, n_grid: 6}
    GPTQModifier:
      ignore: [lm_head]
      scheme: NVFP4A16
      kv_cache_scheme: {num_bits: 8, type: float, strategy: tensor, dynamic: false, symmetric: true}
YAML
fixtures="$(cd "$(dirname "$0")/../model/fixtures" && pwd)"
# The MoE fixtures have no tokenizer: 24 rows of 64 fixed pseudo-random token ids below their vocab of 128.
python3 "$(dirname "$0")/../support/token_ids.py" "$work/ids.jsonl" 24 64 12345
export OMPI_MCA_btl=self,vader OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
read -ra mpirun <<<"${DCOMP_MPIRUN:-mpirun}"
read -ra rank_counts <<<"${DCOMP_RANK_COUNTS:-1 2 4}"
status=0
for job in ${DCOMP_INVARIANCE_JOBS:-tinystories-656k stories260k tinystories-656k/awq_nvfp4_kv mixtral qwen3_moe qwen3_moe/routed deepseek_v3 glm4_moe deepseek_v3/nvfp4a16 glm4_moe/nvfp4a16}; do
  model="${job%%/*}"
  models="$data"
  dataset=(--dataset "$data/text/tinystories_valid_sample.txt" --max-seq-length 128)
  case "$job" in
    stories260k) recipe=(--recipe "$work/channel_w4.yaml") ;;
    */awq_nvfp4_kv) recipe=(--recipe "$work/awq_nvfp4_kv.yaml") ;;
    mixtral|qwen3_moe*|deepseek_v3*|glm4_moe*) recipe=(--recipe "$work/channel_w4.yaml"); models="$fixtures"
      dataset=(--dataset "$work/ids.jsonl" --max-seq-length 64) ;;
    *) recipe=(--scheme W4A16) ;;
  esac
  [ "$job" = qwen3_moe/routed ] && recipe+=(--moe-calibrate-all-experts false)
  case "$job" in */nvfp4a16) recipe=(--scheme NVFP4A16) ;; esac
  reference=""
  for ranks in "${rank_counts[@]}"; do
    out="$work/${job//\//-}-np$ranks"
    "${mpirun[@]}" --allow-run-as-root --oversubscribe -np "$ranks" "$dcomp" --log-level warn oneshot \
      --model "$models/$model" "${recipe[@]}" "${dataset[@]}" \
      --num-calibration-samples 24 --threads 1 --output "$out"
    sum=$(python3 "$(dirname "$0")/tensor_digest.py" "$out" | sha256sum | cut -d' ' -f1)
    [ "$(python3 "$(dirname "$0")/tensor_digest.py" "$out" | wc -l)" -gt 10 ] || { echo "no tensors in $out"; exit 1; }
    echo "$job with $ranks rank(s): $sum"
    if [ -z "$reference" ]; then reference="$sum"; elif [ "$sum" != "$reference" ]; then
      echo "MISMATCH: $job with $ranks ranks differs from ${rank_counts[0]} rank(s)"; status=1
    fi
    first="$work/${job//\//-}-np${rank_counts[0]}"
    for file in "$first"/*; do
      [ "$(basename "$file")" = dcomp_report.json ] || cmp "$file" "$out/$(basename "$file")" || status=1
    done
    [ "$(ls "$out" | wc -l)" = "$(ls "$first" | wc -l)" ] || { echo "other files with $ranks ranks"; status=1; }
  done
done
exit $status
