#!/usr/bin/env bash
# Checks that transformers + compressed-tensors load dcomp's compressed checkpoints and
# compute the same logits as dcomp.
#
# Usage:
#   tests/interop/check_transformers.sh [--build-dir DIR] [--tolerance T]
#       exports TinyStories-656K in every format with DIR/tests/test_ct (default build
#       dir: build), then compares each checkpoint;
#   tests/interop/check_transformers.sh --model MODEL_DIR --logits LOGITS.safetensors
#       compares one checkpoint with a logits file (input_ids int64 [batch, seq],
#       logits float32 [batch, seq, vocab]; see compare_logits.py).
#
# The Python environment is a virtual environment in ${DCOMP_INTEROP_VENV:-~/.cache/dcomp-interop-venv},
# created on first use from PyPI. PyPI's Linux torch wheels are CUDA builds: `pip install torch`
# also pulls the nvidia-* / cuda-toolkit wheels (about 3 GB; the venv takes about 5.6 GB), and
# installing torch with --no-deps does not work (import fails on the missing CUDA libraries),
# so the full install is the lightest that works with PyPI alone. Set DCOMP_INTEROP_PACKAGES
# to change the pinned versions below.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "${here}/../.." && pwd)"
venv="${DCOMP_INTEROP_VENV:-${HOME}/.cache/dcomp-interop-venv}"
packages="${DCOMP_INTEROP_PACKAGES:-torch==2.15.0 transformers==5.24.0 compressed-tensors==0.20.1 safetensors==0.8.0 numpy}"
build_dir="${repo}/build"
tolerance="1e-3"
model=""
logits=""

while [[ $# -gt 0 ]]; do
  case "$1" in
    --build-dir) build_dir="$2"; shift 2 ;;
    --tolerance) tolerance="$2"; shift 2 ;;
    --model) model="$2"; shift 2 ;;
    --logits) logits="$2"; shift 2 ;;
    -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done

ensure_venv() {
  local marker="${venv}/.dcomp-interop-packages"
  if [[ -f "${marker}" && "$(cat "${marker}")" == "${packages}" ]]; then
    return
  fi
  echo "setting up ${venv} (${packages})" >&2
  python3 -m venv "${venv}"
  # shellcheck disable=SC2086  # the package list is split on purpose
  "${venv}/bin/pip" install --quiet ${packages}
  echo "${packages}" > "${marker}"
}

compare() {
  "${venv}/bin/python" "${here}/compare_logits.py" --model "$1" --logits "$2" --tolerance "${tolerance}"
}

ensure_venv

if [[ -n "${model}" || -n "${logits}" ]]; then
  if [[ -z "${model}" || -z "${logits}" ]]; then
    echo "--model and --logits go together" >&2
    exit 2
  fi
  compare "${model}" "${logits}"
  exit $?
fi

test_binary="${build_dir}/tests/test_ct"
if [[ ! -x "${test_binary}" ]]; then
  echo "${test_binary} not found: build the test_ct target first (or pass --build-dir)" >&2
  exit 2
fi
export_dir="$(mktemp -d "${TMPDIR:-/tmp}/dcomp-interop-XXXXXX")"
trap 'rm -rf "${export_dir}"' EXIT
DCOMP_INTEROP_EXPORT_DIR="${export_dir}" "${test_binary}" --gtest_filter='InteropExport.*' >&2

failed=0
checked=0
for logits_file in "${export_dir}"/*.logits.safetensors; do
  name="$(basename "${logits_file}" .logits.safetensors)"
  checked=$((checked + 1))
  if ! compare "${export_dir}/${name}" "${logits_file}"; then
    failed=$((failed + 1))
  fi
done
if [[ ${checked} -eq 0 ]]; then
  echo "no checkpoints were exported (is the shared data folder present?)" >&2
  exit 1
fi
echo "$((checked - failed)) passed, ${failed} failed"
[[ ${failed} -eq 0 ]]
