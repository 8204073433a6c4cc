#!/usr/bin/env bash
# Mixture-of-experts benchmark on a synthetic Qwen3-30B-A3B-shaped layer stack (hidden 2048,
# 32 heads / 4 KV heads of 128, 128 experts of intermediate 768, top-8 renormalised), measured
# side by side in one run, GPTQ W4A16 (group 128):
#  1. seconds per layer by phase on 1, 2 and 4 ranks (one compute thread each), the speed-up,
#     and whether the checkpoints are identical;
#  2. bytes each rank hands to collectives per layer: every Hessian sum all-reduced
#     (--moe-all-reduce-experts) against each expert's sums reduced to the rank that solves it;
#  3. peak RSS per rank;
#  4. every token through every expert (the default) against the routed tokens only.
# Usage: bench/bench_moe.sh [build dir] [work dir]
# Environment: DCOMP_BENCH_LAYERS (2), DCOMP_BENCH_EXPERTS (128), DCOMP_BENCH_SAMPLES (16),
# DCOMP_BENCH_SEQ (256), DCOMP_BENCH_RANKS ("1 2 4").
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
build="${1:-$repo/build}"
work="${2:-/tmp/dcomp-bench-moe}"
dcomp="$build/bin/dcomp"
export OMPI_MCA_btl=self,vader OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
layers="${DCOMP_BENCH_LAYERS:-2}"
experts="${DCOMP_BENCH_EXPERTS:-128}"
samples="${DCOMP_BENCH_SAMPLES:-16}"
seq_len="${DCOMP_BENCH_SEQ:-256}"
ranks_list="${DCOMP_BENCH_RANKS:-1 2 4}"
mkdir -p "$work"
model="$work/qwen3moe-$layers-$experts"
if [ ! -f "$model/config.json" ]; then
  rm -rf "$model"
  "$dcomp" create-model --output "$model" --layers "$layers" --hidden-size 2048 --heads 32 --kv-heads 4 \
    --head-dim 128 --experts "$experts" --experts-per-token 8 --expert-intermediate-size 768 --dtype bfloat16 \
    --write-text "$work/text-once.txt" >/dev/null
fi
[ -f "$work/calibration.txt" ] || for _ in $(seq 40); do cat "$work/text-once.txt"; done >"$work/calibration.txt"

run() {  # ranks out [extra flags...]
  local ranks="$1" out="$2"; shift 2
  mpirun --allow-run-as-root --oversubscribe -np "$ranks" "$dcomp" --quiet oneshot --model "$model" --scheme W4A16 \
    --dataset "$work/calibration.txt" --num-calibration-samples "$samples" --max-seq-length "$seq_len" \
    --threads 1 --output "$work/$out" --overwrite "$@"
}
digest() { python3 "$repo/tests/mpi/tensor_digest.py" "$work/$1" | sha256sum | cut -d' ' -f1; }

for ranks in $ranks_list; do run "$ranks" "np$ranks"; done
last="${ranks_list##* }"
run "$last" "np$last-allreduce" --moe-all-reduce-experts
run 1 routed --moe-calibrate-all-experts false
sums=""
for ranks in $ranks_list; do sums="$sums $(digest "np$ranks")"; done
python3 - "$work" "$ranks_list" "$last" "$(digest "np$last-allreduce")" "$sums" "$layers" "$experts" "$samples" "$seq_len" <<'PY'
import json, sys
work, ranks_list, last, allreduce_sum, sums = sys.argv[1], sys.argv[2].split(), sys.argv[3], sys.argv[4], sys.argv[5].split()
layers, experts, samples, seq = sys.argv[6:10]
report = lambda name: json.load(open(f"{work}/{name}/dcomp_report.json"))
reports = {r: report(f"np{r}") for r in ranks_list}
print(f"synthetic Qwen3-MoE, {layers} layers, hidden 2048, {experts} experts x 768, top-8; GPTQ W4A16; "
      f"{samples} samples x {seq} tokens; one compute thread per rank")
print("\n1. seconds per layer by phase")
phases = ["load", "calibrate", "reduce", "compress", "propagate", "write"]
print("   ranks " + " ".join(f"{p:>10s}" for p in phases) + "      total  speed-up")
base = reports[ranks_list[0]]["total_seconds"]
for r in ranks_list:
    per = reports[r]["seconds_per_phase"]
    n = len(reports[r]["layers"])
    total = reports[r]["total_seconds"]
    print(f"   {r:>5s} " + " ".join(f"{per[p] / n:10.2f}" for p in phases) + f" {total:10.1f} {base / total:8.2f}x")
print("   checkpoints: " + ("identical" if len(set(sums)) == 1 and allreduce_sum == sums[0] else "DIFFERENT")
      + f" across {', '.join(ranks_list)} rank(s) and with every sum all-reduced")
print(f"\n2. bytes handed to collectives per rank per layer ({last} ranks)")
mine = reports[last]["layers"][0]
every = report(f"np{last}-allreduce")["layers"][0]
print(f"   all-reduce of every sum:           {every['reduced_bytes'] / 2**20:10.1f} MiB")
print(f"   expert sums reduced to their owner: {mine['reduced_bytes'] / 2**20:10.1f} MiB, of which "
      f"{mine.get('owner_reduced_bytes', 0) / 2**20:.1f} MiB go to one owner rank each")
print("\n3. peak RSS per rank (MiB): " + "; ".join(
    f"{r} rank(s): " + ", ".join(f"{b / 2**20:.0f}" for b in reports[r]["peak_rss_bytes_per_rank"]) for r in ranks_list))
routed = report("routed")
tokens = routed["layers"][0].get("expert_tokens", [])
if tokens:
    print(f"\n4. routed tokens per expert in layer 0: min {min(tokens)}, max {max(tokens)}, "
          f"mean {sum(tokens) / len(tokens):.0f}")
per_all = reports[ranks_list[0]]["seconds_per_phase"]["calibrate"]
per_routed = routed["seconds_per_phase"]["calibrate"]
print(f"   calibrate: every token through every expert {per_all:.1f} s, routed tokens only {per_routed:.1f} s")
PY
