#!/usr/bin/env bash
# Builds the `dcomp` executable against a CUDA-enabled LibTorch, so that
# `--device cuda` runs on GPUs. The LibTorch comes from, in this order:
#   DCOMP_TORCH_PREFIX   a folder holding LibTorch's include/, lib/ and share/cmake/Torch;
#   python3's torch      when it is installed with CUDA (torch.utils.cmake_prefix_path);
#   the PyPI wheel       torch==${DCOMP_TORCH_VERSION:-2.15.0} (CUDA 13), downloaded with pip
#                        (no dependencies) and unpacked into ~/.cache/dcomp/torch-<version>.
# Without a GPU this still compiles and links everything; the wheel's own CUDA
# libraries (cuDNN, cuSPARSELt, NVSHMEM, ...) are needed only at run time, where pip's
# nvidia-* packages provide them, so the link allows them to be absent here.
# Usage: launch/cuda-libtorch-build.sh [extra cmake arguments]
# Environment: DCOMP_CUDA_BUILD_DIR (default: build-cuda-libtorch), DCOMP_JOBS,
#   DCOMP_CUDA_TARGETS (default: dcomp; "all" also builds the tests and benchmarks),
#   DCOMP_TORCH_CUDA_ARCH_LIST (default: 8.0;9.0, A100 and H100/H200).
set -euo pipefail
repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build_dir="${DCOMP_CUDA_BUILD_DIR:-$repo_root/build-cuda-libtorch}"
version="${DCOMP_TORCH_VERSION:-2.15.0}"
started=$SECONDS

DCOMP_PACKAGES_ONLY=1 "$repo_root/launch/setup.sh"
prefix="${DCOMP_TORCH_PREFIX:-}"
if [ -z "$prefix" ] && python3 -c 'import torch, sys; sys.exit(0 if torch.version.cuda else 1)' 2>/dev/null; then
  prefix="$(python3 -c 'import os, torch; print(os.path.dirname(os.path.dirname(torch.utils.cmake_prefix_path)))')"
  echo "dcomp cuda build: LibTorch from python3's torch in $prefix"
fi
if [ -z "$prefix" ]; then
  cache="${XDG_CACHE_HOME:-$HOME/.cache}/dcomp/torch-$version"
  if [ ! -f "$cache/torch/share/cmake/Torch/TorchConfig.cmake" ]; then
    echo "dcomp cuda build: downloading the torch $version wheel (CUDA LibTorch) from PyPI"
    mkdir -p "$cache/wheel"
    if ! python3 -m pip --version >/dev/null 2>&1; then
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends python3-pip >/dev/null
    fi
    python3 -m pip download --quiet --no-deps --only-binary=:all: --dest "$cache/wheel" "torch==$version"
    wheel="$(ls "$cache"/wheel/torch-"$version"-*.whl | head -1)"
    (cd "$cache" && python3 -m zipfile -e "$wheel" unpacked && rm -rf torch && mv unpacked/torch torch &&
      rm -rf unpacked "$cache/wheel")
  fi
  prefix="$cache/torch"
  echo "dcomp cuda build: LibTorch from the torch $version wheel in $prefix ($((SECONDS - started)) s)"
fi
if ! grep -q "TORCH_CUDA_LIBRARIES" "$prefix/share/cmake/Torch/TorchConfig.cmake" ||
   [ ! -e "$prefix/lib/libtorch_cuda.so" ]; then
  echo "dcomp cuda build: $prefix holds a LibTorch without CUDA (no lib/libtorch_cuda.so)" >&2
  exit 1
fi

if [ ! -f "$build_dir/CMakeCache.txt" ]; then
  # CMAKE_PREFIX_PATH: LibTorch's own Caffe2/Torch configs and libraries, ahead of
  # Debian's CPU LibTorch in /usr.
  cmake -S "$repo_root" -B "$build_dir" -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH="$prefix" \
    -DTORCH_CUDA_ARCH_LIST="${DCOMP_TORCH_CUDA_ARCH_LIST:-8.0;9.0}" -DDCOMP_BUILD_TESTS=ON \
    -DCMAKE_EXE_LINKER_FLAGS="-Wl,--allow-shlib-undefined -Wl,-rpath,$prefix/lib" "$@" >"$build_dir.configure.log" 2>&1 ||
    { tail -30 "$build_dir.configure.log"; exit 1; }
fi
echo "dcomp cuda build: building dcomp in $build_dir (log: $build_dir/build.log)"
if ! cmake --build "$build_dir" -j "${DCOMP_JOBS:-$(nproc)}" --target ${DCOMP_CUDA_TARGETS:-dcomp} \
    >"$build_dir/build.log" 2>&1; then
  grep -E "error|Error" "$build_dir/build.log" | head -40
  echo "dcomp cuda build: the build failed; see $build_dir/build.log" >&2
  exit 1
fi
"$build_dir/bin/dcomp" version 2>/dev/null | grep -E "^LibTorch" ||
  echo "dcomp cuda build: built; it does not start here (the wheel's CUDA libraries are not installed)"
echo "dcomp cuda build: done in $((SECONDS - started)) s"
