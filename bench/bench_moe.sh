#!/usr/bin/env bash
# Mixture-of-experts benchmark on a synthetic Qwen3-30B-A3B-shaped layer stack (hidden 2048,
# 32 heads / 4 KV heads of 128, 128 experts of intermediate 768, top-8 renormalised), measured
# side by side in one run, GPTQ W4A16 (group 128):
#  1. seconds per layer by phase on 1, 2 and 4 ranks (one compute thread each), the speed-up,
#     and whether the checkpoints are identical;
#  2. bytes each rank hands to collectives per layer: every Hessian sum all-reduced
#     (--moe-all-reduce-experts) against each expert's sums reduced to the rank that solves it;
#  3. peak RSS per rank;
#  4. every token through every expert (the default) against the routed tokens only;
#  5. one rank with two compute threads: the layer's solves on two worker actors at once against
#     one after another (--no-parallel-solves), and whether the checkpoints are identical.
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
"$dcomp" --quiet oneshot --model "$model" --scheme W4A16 --dataset "$work/calibration.txt" \
  --num-calibration-samples "$samples" --max-seq-length "$seq_len" --threads 2 --output "$work/t2-parallel" --overwrite
"$dcomp" --quiet oneshot --model "$model" --scheme W4A16 --dataset "$work/calibration.txt" \
  --num-calibration-samples "$samples" --max-seq-length "$seq_len" --threads 2 --output "$work/t2-sequential" \
  --overwrite --no-parallel-solves
[ "$(digest t2-parallel)" = "$(digest t2-sequential)" ] && solves_same=identical || solves_same=DIFFERENT
sums=""
for ranks in $ranks_list; do sums="$sums $(digest "np$ranks")"; done
python3 - "$work" "$ranks_list" "$last" "$(digest "np$last-allreduce")" "$sums" "$layers" "$experts" "$samples" "$seq_len" \
  "$solves_same" <<'PY'
import json, sys
work, ranks_list, last, allreduce_sum, sums = sys.argv[1], sys.argv[2].split(), sys.argv[3], sys.argv[4], sys.argv[5].split()
layers, experts, samples, seq, solves_same = sys.argv[6:11]
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
P = int(last)
mine = reports[last]["layers"][0]
every = report(f"np{last}-allreduce")["layers"][0]
owned = mine.get("owner_reduced_bytes", 0)
shared = mine["reduced_bytes"] - owned
mib = lambda b: f"{b / 2**20:,.0f} MiB"
# Bytes each rank sends: an all-reduce of N bytes 2(P-1)/P * N (reduce-scatter + all-gather),
# a reduce to one rank (P-1)/P * N (reduce-scatter + gather at the root).
print(f"\n2. Hessian sums per layer ({last} ranks; fp64): {mib(every['reduced_bytes'])} in all, of which the experts' "
      f"down-projection inputs {mib(owned)}")
print(f"   all-reduce of every sum:            sends ~{mib(2 * (P - 1) / P * every['reduced_bytes'])} per rank, "
      f"every rank holds {mib(every['reduced_bytes'])}")
print(f"   expert sums reduced to their owner: sends ~{mib(2 * (P - 1) / P * shared + (P - 1) / P * owned)} per rank, "
      f"a rank holds {mib(shared + owned / P)}")
print(f"   (routed tokens only, every expert's gate/up input has its own sum too: "
      f"+{mib(int(experts) * 2048 * 2048 * 8)}, reduced to its owner likewise)")
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
parallel, sequential = report("t2-parallel"), report("t2-sequential")
cp, cs = parallel["seconds_per_phase"]["compress"], sequential["seconds_per_phase"]["compress"]
print(f"\n5. solves, 1 rank x 2 threads: two workers {cp:.1f} s, one after another {cs:.1f} s ({cs / cp:.2f}x); "
      f"checkpoints {solves_same}")
PY
