#!/usr/bin/env bash
# GPTQ W4A16 (group 128) on two layers of a synthetic DeepSeek-V3-shaped model released in FP8
# blocks (`dcomp create-model --architecture deepseek_v3 --fp8-block 128`: hidden 7168, MLA with
# q_lora_rank 1536 / kv_lora_rank 512 / 128 heads, layer 0 dense (intermediate 18432), layer 1 of
# E routed experts of 2048 plus one shared expert), on 1, 2 and 4 ranks (one compute thread each):
#  - seconds per layer by phase (the run report's), and per run the total;
#  - peak RSS per rank, Hessian-sum bytes each rank sends per layer (ring model, from the
#    report's reduced_bytes / owner_reduced_bytes), the BLAS core;
#  - whether the checkpoints' safetensors files are byte-identical across rank counts (a rank
#    count whose ranks would not fit in MemAvailable, at the first run's peak per rank, is skipped);
#  - a projection to DeepSeek-V3's 61 layers (3 dense + 58 MoE) and 256 experts.
# Projection (bench/deepseek_projection.py): each phase p of the MoE layer measured with E experts
# is split by the share f_p of its work that grows with the routed experts, from the layer's
# shapes (compress: 2·out·in² per Linear + 4/3·in³ per distinct input; calibrate: Σ out·in, every
# token through every expert; load and write: parameters; reduce: Hessian-sum elements;
# propagate: 0, it follows the router's top-k), then
#   t_p(256) = t_p(E) · ((1 − f_p) + f_p · 256 / E)
#   T(61 layers) = 3 · T_dense + 58 · Σ_p t_p(256).
# Usage: bench/bench_deepseek_fp8.sh [build dir] [work dir]
# Environment: DCOMP_BENCH_EXPERTS (8), DCOMP_BENCH_EXPERT_GROUPS (4; the release's 8 needs
# 16 experts or more), DCOMP_BENCH_TOPK_GROUPS (4), DCOMP_BENCH_SAMPLES (4), DCOMP_BENCH_SEQ (64),
# DCOMP_BENCH_RANKS ("1 2 4").
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
build="${1:-$repo/build}"
work="${2:-/tmp/dcomp-bench-deepseek}"
dcomp="$build/bin/dcomp"
export OMPI_MCA_btl=self,vader OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
experts="${DCOMP_BENCH_EXPERTS:-8}"
groups="${DCOMP_BENCH_EXPERT_GROUPS:-4}"
topk_groups="${DCOMP_BENCH_TOPK_GROUPS:-4}"
samples="${DCOMP_BENCH_SAMPLES:-4}"
seq_len="${DCOMP_BENCH_SEQ:-64}"
ranks_list="${DCOMP_BENCH_RANKS:-1 2 4}"
mkdir -p "$work"
model="$work/deepseek-v3-fp8-$experts"
if [ ! -f "$model/config.json" ]; then
  rm -rf "$model"
  start=$(date +%s.%N)
  "$dcomp" --quiet create-model --architecture deepseek_v3 --fp8-block 128 --output "$model" --layers 2 \
    --first-k-dense-replace 1 --experts "$experts" --expert-groups "$groups" --topk-groups "$topk_groups" \
    --write-text "$work/text-once.txt" >/dev/null
  echo "create-model: $(python3 -c "import sys; print('%.1f' % (float(sys.argv[2]) - float(sys.argv[1])))" \
    "$start" "$(date +%s.%N)") s, $(du -sh "$model" | cut -f1)"
fi
[ -f "$work/calibration.txt" ] || for _ in $(seq 40); do cat "$work/text-once.txt"; done >"$work/calibration.txt"

# A rank count is skipped when its ranks would not fit: each holds about the whole layer, so the
# first run's peak RSS per rank times the ranks must be below MemAvailable.
measured=""
for ranks in $ranks_list; do
  if [ -n "$measured" ]; then
    peak=$(python3 -c "import json, sys; print(max(json.load(open(sys.argv[1]))['peak_rss_bytes_per_rank']))" \
      "$work/np${measured%% *}.json")
    available=$(($(awk '/^MemAvailable:/ {print $2}' /proc/meminfo) * 1024))
    if [ $((peak * ranks)) -gt "$available" ]; then
      echo "skipped $ranks ranks: ~$((peak * ranks >> 30)) GiB needed ($ranks x the $((peak >> 20)) MiB peak of" \
        "${measured%% *} rank(s)), $((available >> 30)) GiB available"
      continue
    fi
  fi
  measured="$measured $ranks"; measured="${measured# }"
  mpirun --allow-run-as-root --oversubscribe -np "$ranks" "$dcomp" --quiet oneshot --model "$model" --scheme W4A16 \
    --dataset "$work/calibration.txt" --num-calibration-samples "$samples" --max-seq-length "$seq_len" \
    --threads 1 --output "$work/np$ranks" --overwrite --report "$work/np$ranks.json"
done
sums=""
for ranks in $measured; do
  sums="$sums $(cd "$work/np$ranks" && ls *.safetensors | sort | xargs cat | sha256sum | cut -c1-16)"
done
python3 "$repo/bench/deepseek_projection.py" "$work" "$model/config.json" "$measured" "$sums" "$samples" "$seq_len" \
  "${OPENBLAS_CORETYPE:-}"
