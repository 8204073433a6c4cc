#!/usr/bin/env bash
# Installs what dcomp needs from Debian 12 (only what is missing), then
# configures (Ninja) and builds. Idempotent: quick when everything is already there.
# Usage: launch/setup.sh [extra cmake arguments]
# Environment: DCOMP_BUILD_DIR (default: build), DCOMP_JOBS (default: nproc),
#   DCOMP_BUILD_TARGETS (default: all; e.g. "dcomp" or "dcomp dcomp_tests"),
#   DCOMP_PACKAGES_ONLY=1 (install the packages, then stop).
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build_dir="${DCOMP_BUILD_DIR:-$repo_root/build}"
jobs="${DCOMP_JOBS:-$(nproc)}"

packages=(build-essential cmake ninja-build ccache pkg-config libcaf-dev libopenmpi-dev openmpi-bin libtorch-dev
  libspdlog-dev libfmt-dev libgtest-dev libgmock-dev libyaml-cpp-dev nlohmann-json3-dev libcli11-dev libre2-dev
  libopenblas0-openmp python3 ${DCOMP_EXTRA_PACKAGES:-})
missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if ((${#missing[@]})); then
  echo "dcomp setup: installing ${missing[*]}"
  sudo_cmd=()
  if [ "$(id -u)" -ne 0 ]; then sudo_cmd=(sudo); fi
  export DEBIAN_FRONTEND=noninteractive
  "${sudo_cmd[@]}" apt-get update -qq
  "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [ "${DCOMP_PACKAGES_ONLY:-0}" = 1 ]; then exit 0; fi

if [ ! -f "$build_dir/CMakeCache.txt" ]; then
  mkdir -p "$build_dir"
  cmake -S "$repo_root" -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Release "$@" >"$build_dir/configure.log" 2>&1 ||
    { tail -30 "$build_dir/configure.log"; echo "dcomp setup: cmake failed; see $build_dir/configure.log" >&2; exit 1; }
fi
targets=(${DCOMP_BUILD_TARGETS:-all})
started=$SECONDS
echo "dcomp setup: building ${targets[*]} in $build_dir (log: $build_dir/build.log)"
if ! cmake --build "$build_dir" -j "$jobs" --target "${targets[@]}" >"$build_dir/build.log" 2>&1; then
  grep -E "error|Error" "$build_dir/build.log" | head -40
  echo "dcomp setup: the build failed; see $build_dir/build.log" >&2
  exit 1
fi
echo "dcomp setup: built in $((SECONDS - started)) s"
