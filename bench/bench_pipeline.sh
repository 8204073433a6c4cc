#!/usr/bin/env bash
# Pipeline benchmarks on synthetic models, measured side by side in one run:
#  1. phases of `dcomp oneshot` GPTQ W4A16 (8 layers, hidden 1024, intermediate 2816) and their shares;
#  2. 1 rank vs 2 ranks (one compute thread each) on the same model: wall time, speed-up, and the
#     bytes each rank sends per layer next to the formula;
#  3. peak RSS of a 4-layer and a 16-layer model of the same width (layers are streamed);
#  4. the same 1-rank run without overlap (--no-overlap): no layer prefetch, Hessian GEMMs inline.
# Usage: bench/bench_pipeline.sh [build dir] [work dir]
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
build="${1:-$repo/build}"
work="${2:-/tmp/dcomp-bench-pipeline}"
dcomp="$build/bin/dcomp"
export OMPI_MCA_btl=self,vader OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
mkdir -p "$work"
samples="${DCOMP_BENCH_SAMPLES:-32}"
seq_len="${DCOMP_BENCH_SEQ:-256}"

model() {  # name layers
  if [ ! -f "$work/$1/config.json" ]; then
    rm -rf "$work/$1"
    "$dcomp" create-model --output "$work/$1" --layers "$2" --hidden-size 1024 --intermediate-size 2816 \
      --heads 16 --kv-heads 8 --write-text "$work/text-once.txt" >/dev/null
  fi
}
model m8 8; model m4 4; model m16 16
# Enough text for every sample: the built-in text, repeated.
[ -f "$work/calibration.txt" ] || for _ in $(seq 40); do cat "$work/text-once.txt"; done >"$work/calibration.txt"

run() {  # ranks model out [extra flags]
  local start end extra="${4:-}"
  start=$(date +%s%N)
  if [ "$1" -eq 1 ]; then
    "$dcomp" --quiet oneshot --model "$work/$2" --scheme W4A16 --dataset "$work/calibration.txt" \
      --num-calibration-samples "$samples" --max-seq-length "$seq_len" --threads 1 --output "$work/$3" --overwrite $extra
  else
    mpirun --allow-run-as-root -np "$1" "$dcomp" --quiet oneshot --model "$work/$2" --scheme W4A16 \
      --dataset "$work/calibration.txt" --num-calibration-samples "$samples" --max-seq-length "$seq_len" \
      --threads 1 --output "$work/$3" --overwrite
  fi
  end=$(date +%s%N)
  echo "$(( (end - start) / 1000000 ))e-3"
}

t1=$(run 1 m8 out-np1)
t2=$(run 2 m8 out-np2)
t1_plain=$(run 1 m8 out-plain --no-overlap)
run 1 m4 out-m4 >/dev/null
run 1 m16 out-m16 >/dev/null
cmp -s <(python3 "$repo/tests/mpi/tensor_digest.py" "$work/out-np1") <(python3 "$repo/tests/mpi/tensor_digest.py" "$work/out-np2") \
  && same=identical || same=DIFFERENT

cmp -s <(python3 "$repo/tests/mpi/tensor_digest.py" "$work/out-np1") <(python3 "$repo/tests/mpi/tensor_digest.py" "$work/out-plain") \
  && same_plain=identical || same_plain=DIFFERENT
python3 - "$work" "$t1" "$t2" "$same" "$samples" "$seq_len" "$t1_plain" "$same_plain" <<'PY'
import json, sys
work, t1, t2, same, samples, seq = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), sys.argv[4], sys.argv[5], sys.argv[6]
t1_plain, same_plain = float(sys.argv[7]), sys.argv[8]
r1 = json.load(open(f"{work}/out-np1/dcomp_report.json"))
r2 = json.load(open(f"{work}/out-np2/dcomp_report.json"))
print(f"synthetic Llama, 8 layers, hidden 1024, intermediate 2816; GPTQ W4A16; {samples} samples x {seq} tokens")
phases = r1["seconds_per_phase"]
total = r1["total_seconds"]
print("\n1. phases (1 rank, 1 thread):")
for name, seconds in phases.items():
    print(f"   {name:10s} {seconds:8.2f} s  {100 * seconds / total:5.1f} %")
other = total - sum(phases.values())
print(f"   {'other':10s} {other:8.2f} s  {100 * other / total:5.1f} %   (model/tokenizer/data loading, actor start-up)")
print(f"   {'total':10s} {total:8.2f} s")
print(f"\n2. scaling (one compute thread per rank): 1 rank {t1:.2f} s, 2 ranks {t2:.2f} s, "
      f"speed-up {t1 / t2:.2f}x; packed weights {same} across rank counts")
per_layer = r2["layers"][0]["reduced_bytes"]
inputs = [1024, 1024, 1024, 2816]   # q/k/v share one input, o_proj, gate/up share one, down_proj
formula4 = sum(n * n * 4 for n in inputs)
print(f"   bytes all-reduced per rank per layer: {per_layer:,} "
      f"(formula distinct inputs x in^2 x 4 B = {formula4:,}; dcomp sums Hessians in fp64, "
      f"x 8 B = {2 * formula4:,}, plus counts and nothing else)")
m4 = json.load(open(f"{work}/out-m4/dcomp_report.json"))["peak_rss_bytes_rank0"]
m16 = json.load(open(f"{work}/out-m16/dcomp_report.json"))["peak_rss_bytes_rank0"]
print(f"\n3. peak RSS: 4 layers {m4 / 2**20:.0f} MiB, 16 layers {m16 / 2**20:.0f} MiB, ratio {m16 / m4:.2f} (target < 1.3)")
print(f"\n4. overlap (1 rank, 1 compute thread): with {t1:.2f} s, without {t1_plain:.2f} s, "
      f"gain {t1_plain / t1:.2f}x; tensors {same_plain}")
PY
