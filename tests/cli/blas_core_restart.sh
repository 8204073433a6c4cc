#!/usr/bin/env bash
# The BLAS kernels dcomp computes with: where OpenBLAS fell back to kernels weaker than the
# CPU offers, dcomp restarts itself with the best core the library has, says so once (rank 0)
# and names the core in `dcomp version` and in the run report; a core the user chose with
# OPENBLAS_CORETYPE is kept. The fallback is staged with DCOMP_TEST_BLAS_FALLBACK=1, which makes
# dcomp take the OPENBLAS_CORETYPE given here for the library's own choice.
# Usage: blas_core_restart.sh <dcomp binary>
set -euo pipefail
dcomp="$1"
work="$(mktemp -d /tmp/dcomp-blas-core.XXXXXX)"
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

"$dcomp" version >"$work/version.txt"
grep -q "^BLAS: OpenBLAS" "$work/version.txt" || { cat "$work/version.txt"; echo "SKIP: the BLAS is not OpenBLAS"; exit 77; }
level_of_cpu=$(python3 - <<'PY'
flags = set()
for line in open("/proc/cpuinfo"):
    if line.startswith("flags"):
        flags = set(line.split(":", 1)[1].split()); break
avx512 = {"avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl"} <= flags
print(7 if avx512 and "avx512_bf16" in flags else 6 if avx512 else 5 if {"avx2", "fma"} <= flags else 4 if "avx" in flags else 1)
PY
)
[ "$level_of_cpu" -gt 1 ] || { echo "SKIP: this CPU has nothing better than SSE3 kernels"; exit 77; }
case "$level_of_cpu" in 7) expected=Cooperlake ;; 6) expected=SkylakeX ;; 5) expected="Haswell|Zen" ;; *) expected=Sandybridge ;; esac

# 1. A staged fallback to Prescott: restarted with the best core, said once, named by version.
OPENBLAS_CORETYPE=Prescott DCOMP_TEST_BLAS_FALLBACK=1 "$dcomp" version >"$work/out.txt" 2>"$work/err.txt" ||
  fail "dcomp version failed after the restart: $(cat "$work/err.txt")"
grep -Eq "^BLAS: OpenBLAS [0-9.]+, core ($expected) \(chosen by dcomp; the library's own choice on this CPU was Prescott\)" \
  "$work/out.txt" || fail "version does not name the restarted core: $(cat "$work/out.txt")"
[ "$(grep -c "restarted with OPENBLAS_CORETYPE=" "$work/err.txt")" = 1 ] ||
  fail "the restart is not said exactly once: $(cat "$work/err.txt")"
echo "staged Prescott fallback: $(grep '^BLAS' "$work/out.txt")"

# 2. The user's own choice is kept, and nothing is said.
OPENBLAS_CORETYPE=Prescott "$dcomp" version >"$work/out.txt" 2>"$work/err.txt"
grep -q "core Prescott (OPENBLAS_CORETYPE=Prescott set by the user)" "$work/out.txt" ||
  fail "the user's OPENBLAS_CORETYPE was not kept: $(cat "$work/out.txt")"
[ ! -s "$work/err.txt" ] || fail "something was said for the user's own core: $(cat "$work/err.txt")"

# 3. Under mpirun every rank restarts before MPI_Init; rank 0 alone says so; the run report
#    names the core.
if command -v mpirun >/dev/null; then
  "$dcomp" --log-level warn create-model --output "$work/model" --layers 2 --hidden-size 128 --intermediate-size 256 \
    --heads 4 --kv-heads 2 --write-text "$work/calibration.txt" >/dev/null
  OMPI_MCA_btl=self,vader mpirun --allow-run-as-root --oversubscribe -np 2 \
    -x OPENBLAS_CORETYPE=Prescott -x DCOMP_TEST_BLAS_FALLBACK=1 \
    "$dcomp" --log-level warn oneshot --model "$work/model" --scheme W4A16 --dataset "$work/calibration.txt" \
    --num-calibration-samples 8 --max-seq-length 64 --output "$work/out" >"$work/mpi.txt" 2>&1 ||
    fail "the 2-rank run failed after the restart: $(tail -20 "$work/mpi.txt")"
  [ "$(grep -c "restarted with OPENBLAS_CORETYPE=" "$work/mpi.txt")" = 1 ] ||
    fail "2 ranks did not say the restart exactly once: $(cat "$work/mpi.txt")"
  python3 - "$work/out/dcomp_report.json" "$expected" <<'PY' || fail "the run report does not name the restarted core"
import json, re, sys
determinism = json.load(open(sys.argv[1]))["determinism"]
assert re.fullmatch(sys.argv[2], determinism["blas_core"]), determinism
assert determinism["blas_core_chosen"].startswith("chosen by dcomp"), determinism
assert determinism["blas_library"].startswith("OpenBLAS"), determinism
print("2 ranks, report:", determinism["blas_core"], "-", determinism["blas_core_chosen"])
PY
fi
echo "PASS"
