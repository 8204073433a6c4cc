#!/usr/bin/env bash
# `dcomp oneshot` GPTQ W4A16 on the two real models with 1, 2 and 4 MPI ranks
# (one compute thread each) must write bit-identical tensors, and, since shards
# are numbered by layer whatever rank wrote them, byte-identical files (all but
# the run report, whose timings differ).
# Usage: oneshot_rank_invariance.sh <dcomp binary> <shared data folder>
set -euo pipefail
dcomp="$1"; data="$2"
[ -d "$data/tinystories-656k" ] || { echo "SKIP: shared data folder not found: $data"; exit 77; }
work="$(mktemp -d /tmp/dcomp-ranks.XXXXXX)"
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
export OMPI_MCA_btl=self,vader OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
status=0
for model in tinystories-656k stories260k; do
  if [ "$model" = stories260k ]; then recipe=(--recipe "$work/channel_w4.yaml"); else recipe=(--scheme W4A16); fi
  reference=""
  for ranks in 1 2 4; do
    out="$work/$model-np$ranks"
    mpirun --allow-run-as-root --oversubscribe -np "$ranks" "$dcomp" --log-level warn oneshot \
      --model "$data/$model" "${recipe[@]}" --dataset "$data/text/tinystories_valid_sample.txt" \
      --num-calibration-samples 24 --max-seq-length 128 --threads 1 --output "$out"
    sum=$(python3 "$(dirname "$0")/tensor_digest.py" "$out" | sha256sum | cut -d' ' -f1)
    [ "$(python3 "$(dirname "$0")/tensor_digest.py" "$out" | wc -l)" -gt 10 ] || { echo "no tensors in $out"; exit 1; }
    echo "$model with $ranks rank(s): $sum"
    if [ -z "$reference" ]; then reference="$sum"; elif [ "$sum" != "$reference" ]; then
      echo "MISMATCH: $model with $ranks ranks differs from 1 rank"; status=1
    fi
    for file in "$work/$model-np1"/*; do
      [ "$(basename "$file")" = dcomp_report.json ] || cmp "$file" "$out/$(basename "$file")" || status=1
    done
    [ "$(ls "$out" | wc -l)" = "$(ls "$work/$model-np1" | wc -l)" ] || { echo "other files with $ranks ranks"; status=1; }
  done
done
exit $status
