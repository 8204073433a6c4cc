#!/usr/bin/env bash
# Prepares, on a machine with Debian's package registry, the bundle a GPU machine
# without one needs to build and test dcomp: the .deb files of the Debian packages the
# build uses (CAF, Open MPI with its runtime libraries, spdlog, fmt, yaml-cpp,
# nlohmann-json, CLI11, GoogleTest), downloaded with `apt-get download` into
# .gpu-bundle/debs/ (ignored by git), with their SHA-256 list in .gpu-bundle/SHA256SUMS.
# launch/gpu-check.sh unpacks them there with `dpkg -x` into a prefix (never into /).
# It also copies the shared data folder (the real models and texts, 7 MB) into .gpu-bundle/data.
#
# The packages: the ones named below, plus every package that provides a shared library
# one of their programs or libraries links (found with ldd, closed over), less the base
# libraries any glibc system with a Python and a CUDA toolkit already has.
# Usage: launch/gpu-bundle.sh [bundle folder, default .gpu-bundle]
set -euo pipefail
repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bundle="${1:-$repo_root/.gpu-bundle}"
wanted=(libcaf-dev libcaf-core0.17 libcaf-io0.17 libcaf-openssl0.17
        libopenmpi-dev libopenmpi3 openmpi-bin openmpi-common
        libspdlog-dev libspdlog1.10 libfmt-dev libfmt9 libyaml-cpp-dev libyaml-cpp0.7
        nlohmann-json3-dev libcli11-dev libgtest-dev libgmock-dev libre2-dev libre2-9)
# Present on any system that can run the GPU machine's python3 and nvcc.
base='^(libc6|libstdc\+\+6|libgcc-s1|zlib1g|libssl3|libzstd1|liblzma5|libbz2-1.0|libcrypt1|libselinux1|libpcre2-8-0|libsystemd0|libudev1|libcap2|libgcrypt20|libgpg-error0|liblz4-1)$'

if ! dpkg -s "${wanted[@]}" >/dev/null 2>&1; then
  echo "gpu-bundle: installing the packages here first, to find the libraries they link"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${wanted[@]}" >/dev/null
fi

# The package that installed `library` (dpkg knows a merged-/usr file by either path).
owner_of() {
  local real candidate
  real="$(readlink -f "$1")"
  for candidate in "$real" "${real#/usr}" "/usr$real" "$1"; do
    if owner="$(dpkg -S "$candidate" 2>/dev/null | head -1 | cut -d: -f1)" && [ -n "$owner" ]; then
      echo "$owner"
      return 0
    fi
  done
  echo "gpu-bundle: no package owns $1" >&2
  return 0
}

# Closure: packages owning the shared libraries that the ELF files of the set link.
declare -A in_set=()
queue=("${wanted[@]}")
while [ "${#queue[@]}" -gt 0 ]; do
  package="${queue[0]}"; queue=("${queue[@]:1}")
  [ -z "${in_set[$package]:-}" ] || continue
  in_set[$package]=1
  while read -r file; do
    [ -f "$file" ] && [ ! -L "$file" ] || continue
    head -c 4 "$file" 2>/dev/null | grep -q $'\x7fELF' || continue
    ldd "$file" 2>/dev/null | awk '$2 == "=>" && $3 ~ /^\// {print $3}'
  done < <(dpkg -L "$package") | sort -u | while read -r library; do
    owner_of "$library"
  done | sort -u > "/tmp/gpu-bundle-owners.$$"
  while read -r owner; do
    [[ "$owner" =~ $base ]] && continue
    [ -n "${in_set[$owner]:-}" ] || queue+=("$owner")
  done < "/tmp/gpu-bundle-owners.$$"
done
rm -f "/tmp/gpu-bundle-owners.$$"
packages=("${!in_set[@]}")
IFS=$'\n' packages=($(sort <<<"${packages[*]}")); unset IFS

rm -rf "$bundle/debs"
mkdir -p "$bundle/debs"
(cd "$bundle/debs" && apt-get download -qq -o APT::Sandbox::User=root "${packages[@]}" >/dev/null)
(cd "$bundle/debs" && sha256sum ./*.deb | sed 's|\./||') > "$bundle/SHA256SUMS"
printf '%s\n' "${packages[@]}" > "$bundle/PACKAGES"
# The shared data folder (the real models and texts the tests read), for a machine without ../shared.
data="${DCOMP_SHARED_DATA:-$repo_root/../shared/data}"
if [ -d "$data/tinystories-656k" ]; then
  rm -rf "$bundle/data"
  mkdir -p "$bundle/data"
  cp -R "$data"/. "$bundle/data/"
  chmod -R u+w "$bundle/data"
else
  echo "gpu-bundle: no shared data folder at $data: the bundle holds no models"
fi
count="$(ls "$bundle"/debs/*.deb | wc -l)"
size="$(du -sm "$bundle/debs" | cut -f1)"
echo "gpu-bundle: $count packages, ${size} MiB in $bundle/debs (list: $bundle/PACKAGES, sums: $bundle/SHA256SUMS);" \
  "$(du -sm "$bundle" | cut -f1) MiB in all with the models in $bundle/data"
