#!/usr/bin/env bash
# Sourced by launch/gpu-check.sh: unpacks the bundle of launch/gpu-bundle.sh into a prefix
# with `dpkg -x` (never into /) and points the build and the run at it.
#   dcomp_gpu_prefix <bundle folder> <prefix>
# checks every .deb against SHA256SUMS, unpacks it, and exports PATH, LD_LIBRARY_PATH,
# OPAL_PREFIX (Open MPI finds its components and help files under the prefix),
# CMAKE_PREFIX_PATH and DCOMP_GPU_PREFIX. Returns non-zero, naming what is missing.
dcomp_gpu_prefix() {
  local bundle="$1" prefix="$2" deb name
  [ -f "$bundle/SHA256SUMS" ] && [ -d "$bundle/debs" ] ||
    { echo "gpu prefix: no bundle in $bundle (make it with launch/gpu-bundle.sh on a machine with apt)"; return 1; }
  (cd "$bundle/debs" && sha256sum --quiet -c ../SHA256SUMS) ||
    { echo "gpu prefix: $bundle/debs does not match $bundle/SHA256SUMS"; return 1; }
  # Without dpkg (a system not based on Debian), the .deb (an ar archive holding
  # data.tar.*) is unpacked by python3's tarfile instead, the same files.
  local unpack=(dpkg -x)
  if ! command -v dpkg >/dev/null; then
    local python="${DCOMP_PYTHON:-python3}"
    command -v "$python" >/dev/null || { echo "gpu prefix: neither dpkg nor $python to unpack .deb files"; return 1; }
    unpack=("$python" "$(dirname "${BASH_SOURCE[0]}")/unpack_deb.py")
    echo "gpu prefix: no dpkg here: unpacking with ${unpack[*]}"
  fi
  case "$prefix" in /|/usr|/usr/local) echo "gpu prefix: refusing to unpack into $prefix"; return 1 ;; esac
  mkdir -p "$prefix"
  while read -r _ name; do
    "${unpack[@]}" "$bundle/debs/$name" "$prefix" || { echo "gpu prefix: unpacking $name failed"; return 1; }
  done < "$bundle/SHA256SUMS"
  # Debian names the MPI commands through update-alternatives (mpirun → mpirun.openmpi):
  # the prefix gets the plain names as links.
  local command
  for command in "$prefix"/usr/bin/*.openmpi; do
    ln -sfn "$(basename "$command")" "${command%.openmpi}"
  done
  local arch_lib="$prefix/usr/lib/x86_64-linux-gnu"
  [ -e "$arch_lib/libcaf_core.so" ] || { echo "gpu prefix: libcaf_core.so missing from $arch_lib"; return 1; }
  [ -x "$prefix/usr/bin/mpirun" ] || { echo "gpu prefix: mpirun missing from $prefix/usr/bin"; return 1; }
  export DCOMP_GPU_PREFIX="$prefix"
  export PATH="$prefix/usr/bin:$PATH"
  export LD_LIBRARY_PATH="$arch_lib:$arch_lib/openmpi/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  export OPAL_PREFIX="$prefix/usr"
  export PMIX_INSTALL_PREFIX="$arch_lib/pmix2"
  export CMAKE_PREFIX_PATH="$prefix/usr${CMAKE_PREFIX_PATH:+:$CMAKE_PREFIX_PATH}"
  local missing
  missing="$(ldd "$prefix/usr/bin/orterun" "$arch_lib/libcaf_io.so" "$arch_lib/libyaml-cpp.so" 2>&1 |
             awk '/not found/ {print $1}' | sort -u | tr '\n' ' ')"
  [ -z "$missing" ] || { echo "gpu prefix: libraries not found: $missing"; return 1; }
  echo "gpu prefix: $(wc -l < "$bundle/SHA256SUMS") packages unpacked into $prefix"
}
