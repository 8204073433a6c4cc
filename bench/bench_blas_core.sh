#!/usr/bin/env bash
# The BLAS core dcomp computes with, side by side in one run: bench_hessian's GEMM rates with
# the library's own choice (no OPENBLAS_CORETYPE), with a staged fallback to Prescott that dcomp
# restarts from (DCOMP_TEST_BLAS_FALLBACK=1), with the Prescott kernels kept (what the fallback
# costs when nothing restarts), and with SkylakeX set by hand. Each configuration runs `rounds`
# times, interleaved, and the best at::mm rate of each shape is kept.
# Usage: bench/bench_blas_core.sh [build/bin] [threads] [rounds]
set -euo pipefail
bin="${1:-build/bin}"
threads="${2:-1}"
rounds="${3:-3}"
configs=("library's own choice|" "staged Prescott fallback, restarted by dcomp|OPENBLAS_CORETYPE=Prescott DCOMP_TEST_BLAS_FALLBACK=1"
  "Prescott kept|OPENBLAS_CORETYPE=Prescott" "SkylakeX set by hand|OPENBLAS_CORETYPE=SkylakeX")
out="$(mktemp -d /tmp/dcomp-bench-blas.XXXXXX)"
trap 'rm -rf "$out"' EXIT
for ((round = 1; round <= rounds; round++)); do
  for i in "${!configs[@]}"; do
    env ${configs[$i]#*|} "$bin/bench_hessian" "$threads" >>"$out/$i.txt" 2>/dev/null
  done
done
python3 - "$out" "${#configs[@]}" "${configs[@]}" <<'PY'
import re, sys
folder, count, configs = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
rows = []
for i in range(count):
    text = open(f"{folder}/{i}.txt").read()
    core = re.search(r"^BLAS: (.*)$", text, re.M).group(1)
    best = {}
    for tokens, width, mm, hessian in re.findall(r"^\s+(\d+)\s+(\d+)\s+([\d.]+)\s+([\d.]+)", text, re.M):
        key = f"{tokens}x{width}"
        previous_mm, previous_hessian = best.get(key, (0.0, 0.0))
        best[key] = max(previous_mm, float(mm)), max(previous_hessian, float(hessian))
    rows.append((configs[i].split("|")[0], core, best))
shapes = list(rows[0][2])
print(f"{'configuration':48s} " + " ".join(f"{s + ' mm/hess GF/s':>26s}" for s in shapes))
for name, core, best in rows:
    print(f"{name:48s} " + " ".join(f"{best[s][0]:>12.1f} /{best[s][1]:>11.1f}" for s in shapes))
    print(f"  {core}")
reference = rows[0][2]
for name, _, best in rows[1:]:
    ratios = [best[s][0] / reference[s][0] for s in shapes]
    print(f"at::mm rate, {name} / library's own choice: " + ", ".join(f"{r:.2f}" for r in ratios))
PY
