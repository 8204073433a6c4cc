#!/usr/bin/env bash
# GPU check, for a machine with NVIDIA GPUs, CUDA and NCCL (e.g. /usr/local/cuda):
# builds dcomp with CUDA + NCCL and runs the tests labelled `gpu`. With a CUDA
# LibTorch (DCOMP_TORCH_PREFIX, or python3's torch with CUDA) the build uses it
# (launch/cuda-libtorch-build.sh, in build-cuda-libtorch) and the gpu tests include
# `dcomp oneshot --device cuda` on the real models against --device cpu and 1 against 2
# ranks (gpu.oneshot.cuda_vs_cpu); otherwise it builds with Debian's CPU LibTorch into
# build-gpu and that test skips, saying so. The other gpu tests: the NCCL
# communicator between two ranks, one GPU each (with one GPU the test reports that
# NCCL needs one GPU per rank), and the CUDA kernels against their CPU references.
# It also prints the output of the kernel tests (test_gpu), of the GPU benchmark
# (bench_gpu) and of the end-to-end one (bench/bench_gpu_oneshot.sh), then runs
# the rank-invariance test; fails if any of them failed.
# The CPU dependencies come from Debian (launch/setup.sh installs missing ones).
# Usage: launch/gpu-check.sh [extra cmake arguments]
set -euo pipefail
repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv || echo "nvidia-smi: no driver visible"
if [ -n "${DCOMP_TORCH_PREFIX:-}" ] ||
   python3 -c 'import torch, sys; sys.exit(0 if torch.version.cuda else 1)' 2>/dev/null; then
  export DCOMP_BUILD_DIR="${DCOMP_BUILD_DIR:-$repo_root/build-cuda-libtorch}"
  DCOMP_CUDA_BUILD_DIR="$DCOMP_BUILD_DIR" DCOMP_CUDA_TARGETS=all "$repo_root/launch/cuda-libtorch-build.sh" \
    -DCMAKE_CUDA_COMPILER=/usr/local/cuda/bin/nvcc "$@"
else
  echo "gpu-check: no CUDA LibTorch (set DCOMP_TORCH_PREFIX or install torch with CUDA): building with the CPU one"
  export DCOMP_BUILD_DIR="${DCOMP_BUILD_DIR:-$repo_root/build-gpu}"
  "$repo_root/launch/setup.sh" -DDCOMP_WITH_CUDA=ON -DCMAKE_CUDA_COMPILER=/usr/local/cuda/bin/nvcc "$@"
fi
"$DCOMP_BUILD_DIR/bin/dcomp" version
cd "$DCOMP_BUILD_DIR"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_btl=self,vader
status=0
ctest --output-on-failure -L gpu || status=1
tests/test_gpu || status=1  # again, for the error counts and tolerances each test prints
bin/bench_gpu || status=1
# End to end: a synthetic 8-layer, hidden-4096 model, --device cuda (skips without a CUDA LibTorch).
bench_status=0
DCOMP_BENCH_CPU="${DCOMP_BENCH_CPU:-0}" "$repo_root/bench/bench_gpu_oneshot.sh" bin/dcomp || bench_status=$?
[ "$bench_status" -eq 0 ] || [ "$bench_status" -eq 77 ] || status=1
ctest --output-on-failure -R 'mpi.oneshot.rank_invariance' || status=1
exit "$status"
