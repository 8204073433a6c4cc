#!/usr/bin/env bash
# Sets up and builds dcomp (launch/setup.sh), then runs every test with ctest.
# Usage: launch/test.sh [ctest arguments, e.g. -L unit]
set -euo pipefail
repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# The include layering first (under a second, before any package or build): a lower layer
# never includes a higher one (launch/check-layering.sh).
"$repo_root/launch/check-layering.sh"
# The Slurm test runs real Slurm daemons; the MPI tests use Open MPI's mpirun; the cluster tests
# simulate two nodes with network namespaces (iproute2's ip, util-linux's nsenter and unshare).
DCOMP_EXTRA_PACKAGES="slurm-wlm iproute2 util-linux" "$repo_root/launch/setup.sh"
build_dir="${DCOMP_BUILD_DIR:-$repo_root/build}"
cd "$build_dir"
export OMPI_MCA_btl=self,vader
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
ctest --output-on-failure --timeout 600 -j "$(nproc)" "$@"
