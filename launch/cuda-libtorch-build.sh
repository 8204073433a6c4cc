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
#   DCOMP_TORCH_CUDA_ARCH_LIST (default: 8.0;9.0, A100 and H100/H200),
#   DCOMP_CUDA_SMOKE=1 (then run it on the CPU: see the end of this script).
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
  mkdir -p "$build_dir"
  configure_log="$build_dir/configure.log"
  # CMAKE_PREFIX_PATH: LibTorch's own Caffe2/Torch configs and libraries, ahead of
  # Debian's CPU LibTorch in /usr.
  cmake -S "$repo_root" -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH="$prefix" \
    -DTORCH_CUDA_ARCH_LIST="${DCOMP_TORCH_CUDA_ARCH_LIST:-8.0;9.0}" -DDCOMP_BUILD_TESTS=ON \
    -DCMAKE_EXE_LINKER_FLAGS="-Wl,--allow-shlib-undefined -Wl,-rpath,$prefix/lib" "$@" >"$configure_log" 2>&1 ||
    { tail -30 "$configure_log"; exit 1; }
fi
echo "dcomp cuda build: building ${DCOMP_CUDA_TARGETS:-dcomp} in $build_dir (log: $build_dir/build.log)"
if ! cmake --build "$build_dir" -j "${DCOMP_JOBS:-$(nproc)}" --target ${DCOMP_CUDA_TARGETS:-dcomp} \
    >"$build_dir/build.log" 2>&1; then
  grep -E "error|Error" "$build_dir/build.log" | head -40
  echo "dcomp cuda build: the build failed; see $build_dir/build.log" >&2
  exit 1
fi
echo "dcomp cuda build: built $build_dir/bin/dcomp ($((SECONDS - started)) s)"

# Smoke test (DCOMP_CUDA_SMOKE=1): fetch the CUDA libraries the executable still lacks
# here from their PyPI packages (no GPU is needed to load them), then check that it
# starts and reports a CUDA LibTorch; with DCOMP_CUDA_TARGETS=all, run every test but
# the GPU ones with this LibTorch, computing on the CPU; otherwise check that the CPU
# path writes byte-identical checkpoints on 1, 2 and 4 ranks
# (tests/mpi/oneshot_rank_invariance.sh).
if [ "${DCOMP_CUDA_SMOKE:-0}" = 1 ]; then
  runtime="$(dirname "$prefix")/runtime-libraries"
  export LD_LIBRARY_PATH="$runtime:/usr/local/cuda/lib64${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  missing="$(ldd "$build_dir/bin/dcomp" | awk '/not found/ {print $1}')"
  if [ -n "$missing" ]; then
    declare -A package_of=([libcufile.so.0]=nvidia-cufile [libcusparseLt.so.0]=nvidia-cusparselt-cu13
                           [libnvshmem_host.so.3]=nvidia-nvshmem-cu13 [libcudnn.so.9]=nvidia-cudnn-cu13
                           [libnccl.so.2]=nvidia-nccl-cu13)
    packages=()
    for library in $missing; do
      [ -n "${package_of[$library]:-}" ] || { echo "dcomp cuda build: no package known for $library" >&2; exit 1; }
      packages+=("${package_of[$library]}")
    done
    echo "dcomp cuda build: fetching ${packages[*]} for the smoke test"
    mkdir -p "$runtime/wheels"
    python3 -m pip download --quiet --no-deps --only-binary=:all: --dest "$runtime/wheels" "${packages[@]}"
    for wheel in "$runtime"/wheels/*.whl; do python3 -m zipfile -e "$wheel" "$runtime/unpacked"; done
    find "$runtime/unpacked" -name '*.so*' -exec cp -f {} "$runtime/" \;
    rm -rf "$runtime/wheels" "$runtime/unpacked"
  fi
  "$build_dir/bin/dcomp" version | tee "$build_dir/version.txt"
  grep -q "^LibTorch .*, CUDA yes" "$build_dir/version.txt" ||
    { echo "dcomp cuda build: the executable does not report a CUDA LibTorch" >&2; exit 1; }
  if [ "${DCOMP_CUDA_TARGETS:-dcomp}" = all ]; then
    # The whole suite but the GPU tests, with this LibTorch, computing on the CPU.
    (cd "$build_dir" && OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_btl=self,vader \
      ctest --output-on-failure --timeout 600 -j "$(nproc)" -LE gpu)
  else
    data="${DCOMP_SHARED_DATA:-$repo_root/../shared/data}"
    if [ -d "$data/tinystories-656k" ]; then
      OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_btl=self,vader \
        "$repo_root/tests/mpi/oneshot_rank_invariance.sh" "$build_dir/bin/dcomp" "$data"
    else
      echo "dcomp cuda build: SKIP the rank-invariance run: shared data folder not found: $data"
    fi
  fi
fi
echo "dcomp cuda build: done in $((SECONDS - started)) s"
