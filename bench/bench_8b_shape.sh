#!/usr/bin/env bash
# GPTQ W4A16 (groups of 128) on a model of Llama-3-8B's shapes, on this machine: creates it once
# with `dcomp create-model` (32 layers, hidden 4096, intermediate 14336, 32 / 8 heads, vocab
# 128256, BF16: 16 GB on disk, written shard by shard), then runs `dcomp oneshot` on 1 rank and
# on 2 ranks (mpirun), and prints for each: the wall time, the peak RSS of every rank, the
# seconds per layer of each phase (mean over the layers), and the bytes all-reduced per layer.
# Usage: bench/bench_8b_shape.sh <build/bin> [RANKS...]   (default ranks: 1 2)
# Environment: DCOMP_8B_DIR (default /tmp/dcomp-8b-shape), DCOMP_8B_SAMPLES (16),
# DCOMP_8B_SEQ (512), DCOMP_8B_THREADS (cores per run, default: all, split over the ranks).
set -euo pipefail
bin="$1"; shift
ranks_list=(1 2)
[ $# -gt 0 ] && ranks_list=("$@")
dir="${DCOMP_8B_DIR:-/tmp/dcomp-8b-shape}"
samples="${DCOMP_8B_SAMPLES:-16}"; seq="${DCOMP_8B_SEQ:-512}"
cores="${DCOMP_8B_THREADS:-$(nproc)}"
model="$dir/model"
if [ ! -f "$model/config.json" ]; then
  mkdir -p "$dir"
  /usr/bin/time -f 'create-model: %e s, peak %M KiB' "$bin/dcomp" create-model --output "$model" --layers 32 \
    --hidden-size 4096 --intermediate-size 14336 --heads 32 --kv-heads 8 --vocab-size 128256 --dtype bfloat16
fi
text=/usr/share/common-licenses/GPL-3  # any text: the synthetic tokenizer is byte-level
for ranks in "${ranks_list[@]}"; do
  threads=$(( cores / ranks > 0 ? cores / ranks : 1 ))
  out="$dir/w4a16-np$ranks"
  launcher=()
  if [ "$ranks" -gt 1 ]; then
    launcher=(mpirun --allow-run-as-root --oversubscribe -np "$ranks" -x OMPI_MCA_btl=self,vader)
  fi
  started=$(date +%s)
  "${launcher[@]}" /usr/bin/time -f 'rank peak RSS %M KiB' -a -o "$dir/rss-np$ranks.txt" \
    "$bin/dcomp" --log-level warn oneshot --model "$model" --scheme W4A16 --dataset "$text" \
    --num-calibration-samples "$samples" --max-seq-length "$seq" --threads "$threads" \
    --output "$out" --overwrite --report "$dir/report-np$ranks.json"
  wall=$(( $(date +%s) - started ))
  python3 - "$dir/report-np$ranks.json" "$dir/rss-np$ranks.txt" "$ranks" "$threads" "$wall" <<'PY'
import json, sys
report = json.load(open(sys.argv[1]))
rss = [int(line.split()[3]) / 2**20 for line in open(sys.argv[2]) if line.startswith("rank peak RSS")]
ranks, threads, wall = sys.argv[3], sys.argv[4], int(sys.argv[5])
layers = [layer for layer in report["layers"] if "seconds" in layer]
phases = {}
for layer in layers:
    for phase, seconds in layer["seconds"].items():
        phases.setdefault(phase, []).append(seconds)
reduced = [layer.get("reduced_bytes", 0) for layer in layers]
print(f"\n{ranks} rank(s) x {threads} thread(s): {wall} s wall ({wall / 60:.1f} min), "
      f"peak RSS per rank {', '.join(f'{r:.2f} GiB' for r in rss)}")
print("seconds per layer: " + ", ".join(f"{p} {sum(v) / len(v):.1f}" for p, v in phases.items()))
print(f"all-reduced per layer: {max(reduced) / 2**30:.2f} GiB per rank" if max(reduced) else "all-reduced: nothing (1 rank)")
PY
  rm -f "$dir/rss-np$ranks.txt"
done
