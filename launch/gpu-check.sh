#!/usr/bin/env bash
# The GPU check: one command on a GPU machine that has python3's torch with CUDA, nvcc,
# CMake and ninja but none of Debian's packages and no registry.
#   1. checks the tools, naming the first one missing;
#   2. unpacks the bundle of launch/gpu-bundle.sh (the .deb files, made on a machine with
#      apt, carried in .gpu-bundle/) into a prefix with dpkg -x (launch/gpu-prefix.sh);
#   3. configures against python3's CUDA LibTorch and the prefix (ninja, every core, no
#      Slurm tests) and builds dcomp, the GPU kernel tests, the pipeline's GPU tests (the
#      Hessian worker's stream, pinned hidden states), the NCCL communicator test and the
#      GPU benchmark;
#   4. runs the `gpu` tests (gpu.oneshot.cuda_vs_cpu on both real models, 1 against 2 ranks
#      on the one GPU, the GPU's solves against the host's, the kernel tests, the pipeline's GPU
#      tests, NCCL with its device and stream handling), test_gpu and test_gpu_pipeline again
#      for their printed output, the device solves (test_quant's tensor-ops tests,
#      bench_gptq_tensor_solve, tests/cli/tensor_solver.sh),
#      bench_gpu, bench/bench_gpu_oneshot.sh and mpi.oneshot.rank_invariance.
# Everything it prints goes to $OUT/gpu-check.log, and $OUT/summary.json lists each step
# with its status and time. Exit status: 0 when every step passed or skipped.
#
# DCOMP_CHECK_DEVICE=cpu rehearses every step on a machine without a GPU: the same bundle,
# prefix and build (CMake may not look in /usr for the bundled packages), the cuda_vs_cpu
# steps with the CPU in place of the GPU, and the GPU-only benchmarks recorded as skipped.
#
# Environment: OUT (default gpu-check-out/), DCOMP_PYTHON (default python3),
#   DCOMP_GPU_BUNDLE (default .gpu-bundle), DCOMP_GPU_PREFIX_DIR (default
#   /tmp/dcomp-gpu-prefix), DCOMP_BUILD_DIR (default build-gpu-check), DCOMP_SHARED_DATA
#   (default: the bundle's data/ when it has one, else ../shared/data),
#   DCOMP_TORCH_CUDA_ARCH_LIST (default 9.0: H100/H200), DCOMP_JOBS (default nproc).
# Usage: launch/gpu-check.sh [extra cmake arguments]
set -uo pipefail
repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
device="${DCOMP_CHECK_DEVICE:-cuda}"
out="${OUT:-$repo_root/gpu-check-out}"
python="${DCOMP_PYTHON:-python3}"
bundle="${DCOMP_GPU_BUNDLE:-$repo_root/.gpu-bundle}"
prefix="${DCOMP_GPU_PREFIX_DIR:-/tmp/dcomp-gpu-prefix}"
build_dir="${DCOMP_BUILD_DIR:-$repo_root/build-gpu-check}"
jobs="${DCOMP_JOBS:-$(nproc)}"
mkdir -p "$out"
log="$out/gpu-check.log"
: >"$log"
exec > >(tee -a "$log") 2>&1
started=$SECONDS
steps_file="$out/.steps"
: >"$steps_file"

# Each step: its name, status (passed, failed, skipped), seconds and a one-line detail.
record() { printf '%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "${4:-}" >>"$steps_file"; }
write_summary() {
  "$python" - "$steps_file" "$out/summary.json" "$device" "$((SECONDS - started))" <<'PY' || true
import json, sys
steps_path, summary_path, device, seconds = sys.argv[1:5]
steps = []
for line in open(steps_path):
    name, status, step_seconds, detail = (line.rstrip("\n").split("\t") + [""])[:4]
    steps.append({"step": name, "status": status, "seconds": int(step_seconds), "detail": detail})
failed = [s["step"] for s in steps if s["status"] == "failed"]
json.dump({"device": device, "seconds": int(seconds), "passed": not failed, "failed": failed,
           "steps": steps, "log": "gpu-check.log"}, open(summary_path, "w"), indent=2)
PY
  rm -f "$steps_file"
}
trap write_summary EXIT
# A missing piece ends the check at once, named.
missing() {
  echo "gpu-check: MISSING: $*"
  record prerequisites failed 0 "$*"
  exit 1
}
status=0
# run_step <name> <command...>: runs it, records passed / skipped (exit 77) / failed.
run_step() {
  local name="$1" begin=$SECONDS code
  shift
  echo "==== $name: $*"
  "$@"
  code=$?
  if [ "$code" -eq 0 ]; then
    record "$name" passed "$((SECONDS - begin))"
  elif [ "$code" -eq 77 ]; then
    record "$name" skipped "$((SECONDS - begin))" "exit 77"
  else
    record "$name" failed "$((SECONDS - begin))" "exit $code"
    status=1
  fi
  echo "==== $name: exit $code after $((SECONDS - begin)) s"
}

echo "gpu-check: device $device, output in $out"
case "$device" in cuda|cpu) ;; *) missing "DCOMP_CHECK_DEVICE must be cuda or cpu, not $device" ;; esac
for tool in cmake ninja g++ dpkg sha256sum; do command -v "$tool" >/dev/null || missing "$tool"; done
command -v "$python" >/dev/null || missing "python ($python)"
nvcc="${CUDACXX:-$(command -v nvcc || echo /usr/local/cuda/bin/nvcc)}"
[ -x "$nvcc" ] || missing "nvcc (not in PATH, nor /usr/local/cuda/bin)"
if [ "$device" = cuda ]; then
  command -v nvidia-smi >/dev/null || missing "nvidia-smi (no NVIDIA driver)"
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv || missing "a GPU nvidia-smi can see"
fi
torch_prefix="$("$python" -c 'import os, torch; assert torch.version.cuda, "torch without CUDA"; print(os.path.dirname(os.path.dirname(torch.utils.cmake_prefix_path)))')" ||
  missing "python's torch with CUDA ($python)"
[ -e "$torch_prefix/lib/libtorch_cuda.so" ] || missing "libtorch_cuda.so in $torch_prefix/lib"
"$python" -c 'import torch; print("torch", torch.__version__, "CUDA", torch.version.cuda, "GPUs", torch.cuda.device_count())'
record prerequisites passed "$((SECONDS - started))" "torch in $torch_prefix, nvcc $nvcc"

begin=$SECONDS
# shellcheck source=launch/gpu-prefix.sh
source "$repo_root/launch/gpu-prefix.sh"
dcomp_gpu_prefix "$bundle" "$prefix" || missing "the bundle's prefix (see above)"
record prefix passed "$((SECONDS - begin))" "$prefix"
data="${DCOMP_SHARED_DATA:-}"
if [ -z "$data" ]; then
  if [ -d "$bundle/data/tinystories-656k" ]; then data="$bundle/data"; else data="$repo_root/../shared/data"; fi
fi
[ -d "$data/tinystories-656k" ] && [ -d "$data/stories260k" ] || missing "the real models in $data"
export DCOMP_SHARED_DATA="$data"

begin=$SECONDS
if [ ! -f "$build_dir/CMakeCache.txt" ]; then
  mkdir -p "$build_dir"
  # CMAKE_IGNORE_PREFIX_PATH=/usr: the bundled packages come from the prefix, also on a
  # machine where /usr has them (the rehearsal), so that a missing one shows here.
  cmake -S "$repo_root" -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_PREFIX_PATH="$torch_prefix;$prefix/usr" -DCMAKE_IGNORE_PREFIX_PATH=/usr \
    -DCMAKE_CUDA_COMPILER="$nvcc" -DTORCH_CUDA_ARCH_LIST="${DCOMP_TORCH_CUDA_ARCH_LIST:-9.0}" \
    -DDCOMP_WITH_CUDA=ON -DDCOMP_BUILD_TESTS=ON -DDCOMP_SHARED_DATA_DEFAULT="$data" \
    -DMPIEXEC_EXECUTABLE="$prefix/usr/bin/mpirun" \
    -DCMAKE_EXE_LINKER_FLAGS="-Wl,--allow-shlib-undefined -Wl,-rpath,$torch_prefix/lib" "$@" \
    >"$build_dir/configure.log" 2>&1 || { tail -40 "$build_dir/configure.log"; missing "a configured build (cmake failed)"; }
fi
# Every dependency CMake resolved must lie in the prefix, LibTorch or the CUDA toolkit.
outside="$(grep -E '^(CAF_[A-Z_]+|yaml-cpp_DIR|spdlog_DIR|fmt_DIR|nlohmann_json_DIR|CLI11_DIR|GTest_DIR|MPI_CXX_[A-Z_]+):' \
           "$build_dir/CMakeCache.txt" | grep -E '=/usr/(include|lib)' || true)"
[ -z "$outside" ] || missing "dependencies found outside the prefix: $outside"
record configure passed "$((SECONDS - begin))"
begin=$SECONDS
targets=(dcomp test_gpu test_gpu_pipeline test_comm test_quant bench_gpu bench_gptq_tensor_solve)
if ! cmake --build "$build_dir" -j "$jobs" --target "${targets[@]}" >"$build_dir/build.log" 2>&1; then
  grep -E "error|Error" "$build_dir/build.log" | head -40
  record build failed "$((SECONDS - begin))" "see build.log"
  cp "$build_dir/build.log" "$out/" 2>/dev/null
  exit 1
fi
record build passed "$((SECONDS - begin))" "${targets[*]} with $jobs jobs"
echo "gpu-check: built ${targets[*]} in $((SECONDS - begin)) s"

cd "$build_dir"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_btl=self,vader
export DCOMP_CHECK_DEVICE="$device"
run_step version bin/dcomp version
run_step gpu-tests ctest --output-on-failure -L gpu
run_step kernel-tests tests/test_gpu
run_step pipeline-gpu-tests tests/test_gpu_pipeline
# The solves where the layer lives: the tensor-ops GPTQ and SparseGPT loops on the GPU against
# the CPU (and, on every device, against the host loops bit for bit), stacked against one at a
# time; then whole runs with --solver tensor against the host loops on the CPU.
run_step device-solve-tests tests/test_quant \
  --gtest_filter='GridTensorOps.*:InverseHessianTensor.*:GptqTensorSolve.*:SparseGptTensorSolve.*'
run_step bench-device-solve bin/bench_gptq_tensor_solve "$device" "$(nproc)" 8
run_step tensor-solver-on-cpu "$repo_root/tests/cli/tensor_solver.sh" bin/dcomp "$data"
if [ "$device" = cuda ]; then
  run_step bench-gpu bin/bench_gpu
else
  record bench-gpu skipped 0 "needs a GPU (rehearsal)"
fi
run_step bench-gpu-oneshot env DCOMP_BENCH_CPU="${DCOMP_BENCH_CPU:-0}" "$repo_root/bench/bench_gpu_oneshot.sh" bin/dcomp
run_step rank-invariance "$repo_root/tests/mpi/oneshot_rank_invariance.sh" bin/dcomp "$data"
echo "gpu-check: done in $((SECONDS - started)) s, status $status"
exit "$status"
