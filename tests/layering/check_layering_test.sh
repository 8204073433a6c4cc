#!/usr/bin/env bash
# launch/check-layering.sh against copies of the source tree with one include (or CMake link)
# planted in each: the clean copy passes, every planted upward or unlinked include fails with
# its FILE:LINE and the rule it breaks, so does an upward link, and the includes the layering
# allows still pass.
# Usage: check_layering_test.sh <repository root>
set -euo pipefail
repo="$(cd "$1" && pwd)"
check="$repo/launch/check-layering.sh"
work="$(mktemp -d /tmp/dcomp-layering.XXXXXX)"
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

# A fresh copy of what the check reads: the five layers and the CMake files.
fresh_copy() {
  rm -rf "$work/tree" && mkdir -p "$work/tree"
  (cd "$repo" && cp -r kernels lifecycle pipeline actors launch CMakeLists.txt "$work/tree/")
}
# plant FILE LINE_TEXT: appends LINE_TEXT to FILE of the copy; prints its line number.
plant() {
  printf '%s\n' "$2" >>"$work/tree/$1"
  wc -l <"$work/tree/$1"
}

fresh_copy
"$check" "$work/tree" >"$work/out" 2>&1 || { cat "$work/out"; fail "the unmodified tree fails the check"; }
grep -q "no layering violations" "$work/out" || fail "no summary for the clean tree: $(cat "$work/out")"
echo "clean tree: $(cat "$work/out")"

# expect_violation FILE INCLUDE MESSAGE: planting INCLUDE in FILE fails the check, naming
# FILE:LINE, the include (as #include "PATH" or #include <PATH>) and MESSAGE.
expect_violation() {
  local file="$1" include="$2" message="$3" line shown status=0
  shown="#include $(grep -oE '["<][^">]+[">]' <<<"$include")"
  fresh_copy
  line=$(plant "$file" "$include")
  "$check" "$work/tree" >"$work/out" 2>&1 || status=$?
  [ "$status" = 1 ] || { cat "$work/out"; fail "$file with '$include': exit $status, expected 1"; }
  grep -qF "$file:$line: $shown: $message" "$work/out" ||
    { cat "$work/out"; fail "$file with '$include': no '$file:$line: $shown: $message'"; }
  grep -qF "check-layering: 1 layering violation(s)" "$work/out" ||
    { cat "$work/out"; fail "$file with '$include': not exactly one violation reported"; }
  echo "detected: $(head -1 "$work/out")"
}
# expect_allowed FILE INCLUDE: planting INCLUDE in FILE keeps the check passing.
expect_allowed() {
  local file="$1" include="$2"
  fresh_copy
  plant "$file" "$include" >/dev/null
  "$check" "$work/tree" >"$work/out" 2>&1 || { cat "$work/out"; fail "$file with '$include' is refused"; }
  echo "allowed: $file with $include"
}

expect_violation lifecycle/state.hpp '#include "actors/actor_runtime.hpp"' \
  "lifecycle/ must not include actors/ (layers, lowest first: kernels lifecycle pipeline actors launch)"
expect_violation kernels/quant/gptq.cpp '#include "lifecycle/state.hpp"' "kernels/ must not include lifecycle/"
expect_violation pipeline/hidden_states.cpp '  #  include "actors/messages.hpp"' "pipeline/ must not include actors/"
expect_violation pipeline/sequential_run.cpp '#include "actors/pipeline_workers.hpp"' "pipeline/ must not include actors/"
expect_violation actors/oneshot_actors.cpp '#include "launch/cli_errors.hpp"' "actors/ must not include launch/"
expect_violation lifecycle/recipe.cpp '#include "pipeline/hidden_states.hpp"' "lifecycle/ must not include pipeline/"
expect_violation kernels/platform/cpu_features.hpp '#include "kernels/model/causal_lm.hpp"' \
  "kernels/platform must not include kernels/model: dcomp_platform does not link dcomp_model (CMakeLists.txt)"
expect_violation kernels/model/causal_lm.hpp '#include "kernels/quant/gptq.hpp"' \
  "kernels/model must not include kernels/quant: dcomp_model does not link dcomp_quant (CMakeLists.txt)"
expect_violation kernels/tokenizer/tokenizer.cpp '#include <ATen/ATen.h>' \
  "kernels/tokenizer must not include ATen/: dcomp_tokenizer does not link it (CMakeLists.txt)"
expect_violation kernels/io/dtype.cpp '#include <re2/re2.h>' \
  "kernels/io must not include re2/: dcomp_io does not link it (CMakeLists.txt)"
expect_violation kernels/io/dtype.cpp '#include <spdlog/spdlog.h>' \
  "kernels/ must not include spdlog/ (spdlog/ is for lifecycle/ and the layers above it)"
expect_violation pipeline/hidden_states.cpp '#include <caf/all.hpp>' \
  "pipeline/ must not include caf/ (caf/ is for actors/ and the layers above it)"
expect_violation actors/oneshot_actors.cpp '#include <CLI/CLI.hpp>' \
  "actors/ must not include CLI/ (CLI/ is for launch/ and the layers above it)"
expect_violation lifecycle/state.cpp '#include "../actors/messages.hpp"' \
  "include paths are written from the repository root, not relative to the file"
expect_violation pipeline/hidden_states.cpp '#include "tests/support/shared_data.hpp"' \
  "product code must not include tests/"

expect_allowed launch/main.cpp '#include "actors/messages.hpp"'
expect_allowed actors/oneshot_actors.cpp '#include <caf/all.hpp>'
expect_allowed kernels/ct/linear_encoding.cpp '#include "kernels/model/causal_lm.hpp"'  # dcomp_ct links dcomp_model
expect_allowed kernels/ct/linear_encoding.cpp '#include <re2/re2.h>'  # dcomp_ct links dcomp_re2 (PRIVATE)
expect_allowed kernels/data/dataset.cpp '#include "kernels/json/bounded_json.hpp"'      # through dcomp_tokenizer
expect_allowed lifecycle/state.cpp '#include "dcomp/build_info.hpp"'

# expect_link_violation CMAKE_FILE LINE EXPECTED: appending LINE to CMAKE_FILE of a fresh copy
# fails the check with the line EXPECTED.
expect_link_violation() {
  local cmake_file="$1" line="$2" expected="$3" status=0
  fresh_copy
  plant "$cmake_file" "$line" >/dev/null
  "$check" "$work/tree" >"$work/out" 2>&1 || status=$?
  [ "$status" = 1 ] && grep -qxF "$expected" "$work/out" &&
    grep -qxF "check-layering: 1 layering violation(s)" "$work/out" ||
    { cat "$work/out"; fail "$cmake_file with '$line': exit $status, not only '$expected'"; }
  echo "detected: $(head -1 "$work/out")"
}
expect_link_violation CMakeLists.txt 'target_link_libraries(dcomp_lifecycle PUBLIC dcomp_actors)' \
  "CMakeLists.txt: dcomp_lifecycle links dcomp_actors: lifecycle/ must not depend on actors/ (layers, lowest first: kernels lifecycle pipeline actors launch)"
expect_link_violation kernels/comm/CMakeLists.txt 'target_link_libraries(dcomp_comm PRIVATE
  spdlog::spdlog)' \
  "kernels/comm/CMakeLists.txt: dcomp_comm links spdlog::spdlog: kernels/ must not depend on lifecycle/ (layers, lowest first: kernels lifecycle pipeline actors launch)"
expect_link_violation CMakeLists.txt 'target_link_libraries(dcomp_pipeline PUBLIC CAF::core)' \
  "CMakeLists.txt: dcomp_pipeline links CAF::core: pipeline/ must not depend on actors/ (layers, lowest first: kernels lifecycle pipeline actors launch)"

# A kernels/ folder without a library of its own cannot be checked: exit 2, naming it.
fresh_copy
mkdir "$work/tree/kernels/orphan" && echo '#include "kernels/io/dtype.hpp"' >"$work/tree/kernels/orphan/orphan.cpp"
status=0
"$check" "$work/tree" >"$work/out" 2>&1 || status=$?
[ "$status" = 2 ] && grep -qF "kernels/orphan has no library dcomp_orphan" "$work/out" ||
  { cat "$work/out"; fail "a kernels/ folder without a library: exit $status"; }
echo "refused: $(cat "$work/out")"
echo "PASS"
