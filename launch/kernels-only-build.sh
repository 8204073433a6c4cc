#!/usr/bin/env bash
# Configures and builds kernels/ alone (-DDCOMP_KERNELS_ONLY=ON) in build-kernels/: its
# libraries need LibTorch, nlohmann-json, RE2 and, when found, MPI, CUDA and NCCL. CAF,
# spdlog, yaml-cpp and CLI11 are disabled in CMake (CMAKE_DISABLE_FIND_PACKAGE_*), so the
# configure fails if kernels/ ever looks for one, and the build fails if a kernels/ file is
# compiled with spdlog's definitions: a machine without them (a GPU node) builds the kernels.
# Installs nothing: on Debian 12 the packages are cmake ninja-build g++ libtorch-dev
# nlohmann-json3-dev libre2-dev pkg-config (libopenmpi-dev, libgtest-dev libgmock-dev for the tests).
# Usage: launch/kernels-only-build.sh [extra cmake arguments]
# Environment: DCOMP_KERNELS_BUILD_DIR (default: build-kernels), DCOMP_JOBS (default: nproc),
#   DCOMP_KERNELS_TESTS=1 (also build the kernels' test programs and run them with ctest).
set -euo pipefail
repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build_dir="${DCOMP_KERNELS_BUILD_DIR:-$repo_root/build-kernels}"
jobs="${DCOMP_JOBS:-$(nproc)}"
tests=OFF
if [ "${DCOMP_KERNELS_TESTS:-0}" = 1 ]; then tests=ON; fi
started=$SECONDS

mkdir -p "$build_dir"
configure_log="$build_dir/configure.log"
if ! cmake -S "$repo_root" -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Release -DDCOMP_KERNELS_ONLY=ON \
    -DDCOMP_BUILD_TESTS="$tests" -DCMAKE_DISABLE_FIND_PACKAGE_CAF=ON -DCMAKE_DISABLE_FIND_PACKAGE_spdlog=ON \
    -DCMAKE_DISABLE_FIND_PACKAGE_yaml-cpp=ON -DCMAKE_DISABLE_FIND_PACKAGE_CLI11=ON --no-warn-unused-cli "$@" >"$configure_log" 2>&1; then
  tail -30 "$configure_log"
  echo "dcomp kernels build: cmake failed; see $configure_log" >&2
  exit 1
fi
# Nothing of spdlog's reaches a kernels/ compile (its definitions come only with its target).
if grep -q 'SPDLOG_' "$build_dir/compile_commands.json"; then
  echo "dcomp kernels build: a kernels/ file is compiled with spdlog's definitions ($build_dir/compile_commands.json)" >&2
  exit 1
fi
echo "dcomp kernels build: configured in $((SECONDS - started)) s; building in $build_dir (log: $build_dir/build.log)"
if ! cmake --build "$build_dir" -j "$jobs" >"$build_dir/build.log" 2>&1; then
  grep -E "error|Error" "$build_dir/build.log" | head -40
  echo "dcomp kernels build: the build failed; see $build_dir/build.log" >&2
  exit 1
fi
libraries=$(cd "$build_dir" && find . -name 'libdcomp_*.a' -printf '%f\n' | LC_ALL=C sort | tr '\n' ' ')
echo "dcomp kernels build: built in $((SECONDS - started)) s: $libraries"
if [ "$tests" = ON ]; then
  cd "$build_dir"
  export OMPI_MCA_btl=self,vader OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
  ctest --output-on-failure --timeout 600 -j "$jobs"
fi
